-- 010: the training-loss curve of each run's best experiment, so early
-- stopping (--early-stop) compares a training against it at the same
-- fraction of the budget, also after a restart. One row per run, replaced
-- when the best changes; points is a JSON array of [percent, loss] pairs.
CREATE TABLE IF NOT EXISTS best_loss_curves (
	run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
	experiment  INTEGER NOT NULL,
	val_bpb     REAL NOT NULL,
	points      TEXT NOT NULL,
	recorded_at DATETIME NOT NULL
);
