package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// SaveSlurmJob records (or updates) a job by its id. experimentID ties it
// to its experiment; 0 keeps the tie already recorded (if any). Fields left
// empty or zero keep their recorded values, so a caller may save what it
// has just learned (the node once the job runs, the state once it ends).
func (db *DB) SaveSlurmJob(ctx context.Context, experimentID int64, j research.SlurmJob) error {
	if j.JobID == "" {
		return errors.New("store: save slurm job: empty job id")
	}
	var exp any
	if experimentID != 0 {
		exp = experimentID
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO slurm_jobs (job_id, experiment_id, slot, log_path, out_path, dir,
		state, reason, exit_code, node, gpu_type, pending_seconds, elapsed_seconds, max_rss_mb,
		submitted_at, started_at, finished_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id) DO UPDATE SET
		experiment_id = COALESCE(excluded.experiment_id, slurm_jobs.experiment_id),
		slot = COALESCE(NULLIF(excluded.slot, ''), slurm_jobs.slot),
		log_path = COALESCE(NULLIF(excluded.log_path, ''), slurm_jobs.log_path),
		out_path = COALESCE(NULLIF(excluded.out_path, ''), slurm_jobs.out_path),
		dir = COALESCE(NULLIF(excluded.dir, ''), slurm_jobs.dir),
		state = COALESCE(NULLIF(excluded.state, ''), slurm_jobs.state),
		reason = COALESCE(NULLIF(excluded.reason, ''), slurm_jobs.reason),
		exit_code = COALESCE(NULLIF(excluded.exit_code, ''), slurm_jobs.exit_code),
		node = COALESCE(NULLIF(excluded.node, ''), slurm_jobs.node),
		gpu_type = COALESCE(NULLIF(excluded.gpu_type, ''), slurm_jobs.gpu_type),
		pending_seconds = COALESCE(NULLIF(excluded.pending_seconds, 0), slurm_jobs.pending_seconds),
		elapsed_seconds = COALESCE(NULLIF(excluded.elapsed_seconds, 0), slurm_jobs.elapsed_seconds),
		max_rss_mb = COALESCE(NULLIF(excluded.max_rss_mb, 0), slurm_jobs.max_rss_mb),
		submitted_at = COALESCE(excluded.submitted_at, slurm_jobs.submitted_at),
		started_at = COALESCE(excluded.started_at, slurm_jobs.started_at),
		finished_at = COALESCE(excluded.finished_at, slurm_jobs.finished_at),
		updated_at = excluded.updated_at`,
		j.JobID, exp, j.Slot, j.LogPath, j.OutPath, j.Dir, j.State, j.Reason, j.ExitCode, j.Node, j.GPUType,
		num(j.Pending.Seconds()), num(j.Elapsed.Seconds()), num(j.MaxRSSMB),
		dbTime(j.SubmittedAt), dbTime(j.StartedAt), dbTime(j.FinishedAt), db.now())
	if err != nil {
		return fmt.Errorf("store: save slurm job %s: %w", j.JobID, err)
	}
	return nil
}

const slurmColumns = `job_id, COALESCE(experiment_id, 0), slot, log_path, out_path, dir, state, reason, exit_code,
	node, gpu_type, pending_seconds, elapsed_seconds, max_rss_mb, submitted_at, started_at, finished_at, updated_at`

func scanSlurmJob(s scanner) (research.SlurmJob, error) {
	var j research.SlurmJob
	var pending, elapsed float64
	err := s.Scan(&j.JobID, &j.ExperimentID, &j.Slot, &j.LogPath, &j.OutPath, &j.Dir, &j.State, &j.Reason, &j.ExitCode,
		&j.Node, &j.GPUType, &pending, &elapsed, &j.MaxRSSMB,
		timeCol{&j.SubmittedAt}, timeCol{&j.StartedAt}, timeCol{&j.FinishedAt}, timeCol{&j.UpdatedAt})
	j.Pending = time.Duration(pending * float64(time.Second))
	j.Elapsed = time.Duration(elapsed * float64(time.Second))
	return j, err
}

// SlurmJob returns the job with this id, or ErrNotFound.
func (db *DB) SlurmJob(ctx context.Context, jobID string) (research.SlurmJob, error) {
	j, err := scanSlurmJob(db.db.QueryRowContext(ctx, `SELECT `+slurmColumns+` FROM slurm_jobs WHERE job_id = ?`, jobID))
	if err != nil {
		return research.SlurmJob{}, slurmNotFound(err, "slurm job "+jobID)
	}
	return j, nil
}

// SlurmJobOf returns the latest job of an experiment: the one tied to it by
// id, else the one that wrote the experiment's log (experiments record their
// log path when they finish), or ErrNotFound.
func (db *DB) SlurmJobOf(ctx context.Context, experimentID int64) (research.SlurmJob, error) {
	j, err := scanSlurmJob(db.db.QueryRowContext(ctx, `SELECT `+slurmColumns+` FROM slurm_jobs
		WHERE experiment_id = ?
		   OR (log_path <> '' AND log_path = (SELECT log_path FROM experiments WHERE id = ?))
		ORDER BY submitted_at DESC, updated_at DESC LIMIT 1`, experimentID, experimentID))
	if err != nil {
		return research.SlurmJob{}, slurmNotFound(err, fmt.Sprintf("slurm job of experiment %d", experimentID))
	}
	return j, nil
}

// SlurmJobByLogPath returns the latest job that wrote logPath, or ErrNotFound.
func (db *DB) SlurmJobByLogPath(ctx context.Context, logPath string) (research.SlurmJob, error) {
	if logPath == "" {
		return research.SlurmJob{}, fmt.Errorf("store: slurm job by log path: empty path: %w", research.ErrNotFound)
	}
	j, err := scanSlurmJob(db.db.QueryRowContext(ctx, `SELECT `+slurmColumns+` FROM slurm_jobs
		WHERE log_path = ? ORDER BY submitted_at DESC, updated_at DESC LIMIT 1`, logPath))
	if err != nil {
		return research.SlurmJob{}, slurmNotFound(err, "slurm job writing "+logPath)
	}
	return j, nil
}

// UnfinishedSlurmJobs lists the jobs not known to have ended, oldest first:
// what a restarted bot may still have pending or running on the cluster.
func (db *DB) UnfinishedSlurmJobs(ctx context.Context) ([]research.SlurmJob, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+slurmColumns+` FROM slurm_jobs
		WHERE finished_at IS NULL ORDER BY submitted_at, job_id`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished slurm jobs: %w", err)
	}
	defer rows.Close()
	var list []research.SlurmJob
	for rows.Next() {
		j, err := scanSlurmJob(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, j)
	}
	return list, rows.Err()
}

func slurmNotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, research.ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
