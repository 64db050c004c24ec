package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

const experimentColumns = `id, run_id, number, attempt, parent_commit, commit_hash, description, status, reason,
	val_bpb, training_seconds, summary_total_seconds, peak_vram_mb, mfu_percent, total_tokens_m,
	num_steps, num_params_m, depth,
	diff, diff_stat, log_path, log_tail, gpu,
	propose_seconds, train_seconds, total_seconds, prompt_tokens, completion_tokens,
	tsv_written, started_at, finished_at, notes, kind`

func scanExperiment(s scanner) (research.Experiment, error) {
	var e research.Experiment
	m := &e.Summary
	err := s.Scan(&e.ID, &e.RunID, &e.Number, &e.Attempt, &e.ParentCommit, &e.Commit, &e.Description, &e.Status, &e.Reason,
		&m.ValBPB, &m.TrainingSeconds, &m.TotalSeconds, &m.PeakVRAMMB, &m.MFUPercent, &m.TotalTokensM,
		&m.NumSteps, &m.NumParamsM, &m.Depth,
		&e.Diff, &e.DiffStat, &e.LogPath, &e.LogTail, &e.GPU,
		&e.ProposeSeconds, &e.TrainSeconds, &e.TotalSeconds, &e.PromptTokens, &e.CompletionTokens,
		&e.TSVWritten, timeCol{&e.StartedAt}, timeCol{&e.FinishedAt}, &e.Notes, &e.Kind)
	return e, err
}

func (db *DB) queryExperiments(ctx context.Context, query string, args ...any) ([]research.Experiment, error) {
	return db.queryExperimentsCap(ctx, 0, query, args...)
}

// queryExperimentsCap is queryExperiments with room for capacity rows made
// up front: an Experiment is large, and growing a slice of 10,000 of them
// by doubling copied each row several times.
func (db *DB) queryExperimentsCap(ctx context.Context, capacity int, query string, args ...any) ([]research.Experiment, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := make([]research.Experiment, 0, capacity)
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
	}
	return list, rows.Err()
}

// StartExperiment records the start of an experiment of run e.RunID, in one
// transaction: it takes the next Number of the run (max+1, so numbers never
// repeat), sets Status to running and StartedAt to Now(), writes the other
// fields of e as given and marks those of ideaIDs that are still open (not
// consumed, not unpinned) as consumed by the new experiment; the others are
// left alone (see IdeasConsumedBy). ErrNotFound when the run does not exist.
// e.Kind must be set (research.Kind.Check): it is kept as given, for good.
func (db *DB) StartExperiment(ctx context.Context, e research.Experiment, ideaIDs []int64) (research.Experiment, error) {
	if err := e.Kind.Check(); err != nil {
		return research.Experiment{}, fmt.Errorf("store: start experiment: %w", err)
	}
	e.Status = research.StatusRunning
	e.StartedAt = db.now()
	e.FinishedAt = time.Time{}
	e.TSVWritten = false
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?`, e.RunID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("store: start experiment: run %d: %w", e.RunID, research.ErrNotFound)
		}
		if err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(MAX(number), 0) + 1 FROM experiments WHERE run_id = ?`, e.RunID).Scan(&e.Number); err != nil {
			return err
		}
		m := e.Summary
		res, err := tx.ExecContext(ctx, `INSERT INTO experiments (run_id, number, attempt, parent_commit, commit_hash,
			description, status, reason,
			val_bpb, training_seconds, summary_total_seconds, peak_vram_mb, mfu_percent, total_tokens_m,
			num_steps, num_params_m, depth,
			diff, diff_stat, log_path, log_tail, gpu,
			propose_seconds, train_seconds, total_seconds, prompt_tokens, completion_tokens,
			tsv_written, started_at, finished_at, notes, kind)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?)`,
			e.RunID, e.Number, e.Attempt, e.ParentCommit, e.Commit, e.Description, e.Status, e.Reason,
			num(m.ValBPB), num(m.TrainingSeconds), num(m.TotalSeconds), num(m.PeakVRAMMB), num(m.MFUPercent),
			num(m.TotalTokensM), m.NumSteps, num(m.NumParamsM), m.Depth,
			e.Diff, e.DiffStat, e.LogPath, e.LogTail, e.GPU,
			num(e.ProposeSeconds), num(e.TrainSeconds), num(e.TotalSeconds), e.PromptTokens, e.CompletionTokens,
			e.StartedAt, e.Notes, string(e.Kind))
		if err != nil {
			return fmt.Errorf("store: start experiment: %w", err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, id := range ideaIDs {
			if _, err := tx.ExecContext(ctx,
				`UPDATE ideas SET consumed_by = ? WHERE id = ? AND consumed_by IS NULL AND unpinned = 0`,
				e.ID, id); err != nil {
				return fmt.Errorf("store: consume idea %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return research.Experiment{}, err
	}
	e.Summary = cleanSummary(e.Summary)
	e.ProposeSeconds, e.TrainSeconds, e.TotalSeconds = num(e.ProposeSeconds), num(e.TrainSeconds), num(e.TotalSeconds)
	return e, nil
}

func cleanSummary(m research.Summary) research.Summary {
	m.ValBPB, m.TrainingSeconds, m.TotalSeconds = num(m.ValBPB), num(m.TrainingSeconds), num(m.TotalSeconds)
	m.PeakVRAMMB, m.MFUPercent, m.TotalTokensM, m.NumParamsM = num(m.PeakVRAMMB), num(m.MFUPercent), num(m.TotalTokensM), num(m.NumParamsM)
	return m
}

// FinishExperiment writes e (see UpdateExperiment; FinishedAt becomes Now()
// when zero) and UpdateRun(r), in one transaction: both or neither.
func (db *DB) FinishExperiment(ctx context.Context, e research.Experiment, r research.Run) error {
	if e.FinishedAt.IsZero() {
		e.FinishedAt = db.now()
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if err := db.updateExperiment(ctx, tx, e); err != nil {
			return err
		}
		return db.updateRun(ctx, tx, r)
	})
}

// UpdateExperiment writes the fields of e by e.ID: everything except ID, RunID,
// Number and Kind. FinishedAt is written as given (zero = still running);
// StartedAt only when non-zero. TSVWritten is never cleared once set (only
// MarkTSVWritten or a true value sets it). ErrNotFound for an unknown ID.
func (db *DB) UpdateExperiment(ctx context.Context, e research.Experiment) error {
	return db.updateExperiment(ctx, db.db, e)
}

func (db *DB) updateExperiment(ctx context.Context, q queryer, e research.Experiment) error {
	m := e.Summary
	res, err := q.ExecContext(ctx, `UPDATE experiments SET attempt = ?, parent_commit = ?, commit_hash = ?,
		description = ?, status = ?, reason = ?,
		val_bpb = ?, training_seconds = ?, summary_total_seconds = ?, peak_vram_mb = ?, mfu_percent = ?,
		total_tokens_m = ?, num_steps = ?, num_params_m = ?, depth = ?,
		diff = ?, diff_stat = ?, log_path = ?, log_tail = ?, gpu = ?,
		propose_seconds = ?, train_seconds = ?, total_seconds = ?, prompt_tokens = ?, completion_tokens = ?,
		tsv_written = (tsv_written OR ?), started_at = COALESCE(?, started_at), finished_at = ?, notes = ?
		WHERE id = ?`,
		e.Attempt, e.ParentCommit, e.Commit, e.Description, e.Status, e.Reason,
		num(m.ValBPB), num(m.TrainingSeconds), num(m.TotalSeconds), num(m.PeakVRAMMB), num(m.MFUPercent),
		num(m.TotalTokensM), m.NumSteps, num(m.NumParamsM), m.Depth,
		e.Diff, e.DiffStat, e.LogPath, e.LogTail, e.GPU,
		num(e.ProposeSeconds), num(e.TrainSeconds), num(e.TotalSeconds), e.PromptTokens, e.CompletionTokens,
		e.TSVWritten, dbTime(e.StartedAt), dbTime(e.FinishedAt), e.Notes, e.ID)
	if err != nil {
		return fmt.Errorf("store: update experiment %d: %w", e.ID, err)
	}
	return affected(res, "experiment", e.ID)
}

// MarkTSVWritten records that experiment id was appended to results.tsv.
func (db *DB) MarkTSVWritten(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, `UPDATE experiments SET tsv_written = 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: mark tsv written %d: %w", id, err)
	}
	return affected(res, "experiment", id)
}

// Experiments returns the experiments of a run ordered by Number.
func (db *DB) Experiments(ctx context.Context, runID int64) ([]research.Experiment, error) {
	return db.queryExperiments(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE run_id = ? ORDER BY number`, runID)
}

// ExperimentByNumber returns experiment n of a run, or ErrNotFound.
func (db *DB) ExperimentByNumber(ctx context.Context, runID int64, n int) (research.Experiment, error) {
	e, err := scanExperiment(db.db.QueryRowContext(ctx,
		`SELECT `+experimentColumns+` FROM experiments WHERE run_id = ? AND number = ?`, runID, n))
	return e, notFound(err, "experiment #%d of run %d", n, runID)
}

// ExperimentByID returns the experiment with that ID, or ErrNotFound.
func (db *DB) ExperimentByID(ctx context.Context, id int64) (research.Experiment, error) {
	e, err := scanExperiment(db.db.QueryRowContext(ctx,
		`SELECT `+experimentColumns+` FROM experiments WHERE id = ?`, id))
	return e, notFound(err, "experiment %d", id)
}

// RunningExperiments returns the experiments of a run whose status is still
// running, ordered by Number. runID <= 0 means every run (for recovery at
// startup), then ordered by ID.
func (db *DB) RunningExperiments(ctx context.Context, runID int64) ([]research.Experiment, error) {
	if runID <= 0 {
		return db.queryExperiments(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE status = ? ORDER BY id`,
			research.StatusRunning)
	}
	return db.queryExperiments(ctx, `SELECT `+experimentColumns+` FROM experiments
		WHERE run_id = ? AND status = ? ORDER BY number`, runID, research.StatusRunning)
}

// ExperimentsFinishedBetween returns the experiments of any run with
// from <= FinishedAt < to, ordered by FinishedAt (then ID), without their
// diffs and log tails (the digest, its reader, needs neither; a busy night
// of a long run would otherwise read megabytes).
func (db *DB) ExperimentsFinishedBetween(ctx context.Context, from, to time.Time) ([]research.Experiment, error) {
	if !to.After(from) {
		return nil, nil
	}
	return db.queryExperiments(ctx, `SELECT `+briefColumns+` FROM experiments
		WHERE finished_at IS NOT NULL AND finished_at >= ? AND finished_at < ?
		ORDER BY finished_at, id`, from.UTC(), to.UTC())
}
