-- SLURM jobs: one row per submitted batch job (research/slurm). log_path is
-- the experiment's log (logs/TAG/NNNN.log), unique per experiment, so a job
-- is found again after a restart before its experiment row knows it;
-- experiment_id is set once the loop ties the job to its experiment.
CREATE TABLE slurm_jobs (
	job_id          TEXT PRIMARY KEY,
	experiment_id   INTEGER REFERENCES experiments (id) ON DELETE CASCADE,
	slot            TEXT NOT NULL DEFAULT '',
	log_path        TEXT NOT NULL DEFAULT '',
	out_path        TEXT NOT NULL DEFAULT '', -- the job's --output file on the shared filesystem
	dir             TEXT NOT NULL DEFAULT '', -- working copy the job trains in
	state           TEXT NOT NULL DEFAULT '', -- PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, ...
	reason          TEXT NOT NULL DEFAULT '', -- squeue's reason while pending, or why it ended
	exit_code       TEXT NOT NULL DEFAULT '', -- "exit:signal" as scontrol prints it
	node            TEXT NOT NULL DEFAULT '',
	gpu_type        TEXT NOT NULL DEFAULT '', -- from the allocated GRES/TRES, e.g. h100; "gpu" when untyped
	pending_seconds REAL NOT NULL DEFAULT 0,
	elapsed_seconds REAL NOT NULL DEFAULT 0,
	max_rss_mb      REAL NOT NULL DEFAULT 0,  -- from sacct, where accounting exists
	submitted_at    DATETIME,
	started_at      DATETIME,
	finished_at     DATETIME,
	updated_at      DATETIME NOT NULL
);
CREATE INDEX slurm_jobs_log_path ON slurm_jobs (log_path);
CREATE INDEX slurm_jobs_experiment ON slurm_jobs (experiment_id);
