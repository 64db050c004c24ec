package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// The queries here serve the research loop's per-experiment work and the
// status commands on long runs: they leave out the diff and the log tail
// (kilobytes per row) wherever those are not needed, and they use the
// indexes of 008_history_indexes.sql, 011_history_speed.sql and UNIQUE
// (run_id, number).

// briefColumns are experimentColumns with the diff and the log tail read as
// empty strings: same scan, a fraction of the bytes.
var briefColumns = strings.NewReplacer("diff, diff_stat,", "'', diff_stat,", "log_tail,", "'',").Replace(experimentColumns)

// ExperimentsBrief returns the experiments of a run ordered by Number, like
// Experiments, but with Diff and LogTail left empty.
// The rows come from the covering index of 011_history_speed.sql.
func (db *DB) ExperimentsBrief(ctx context.Context, runID int64) ([]research.Experiment, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM experiments WHERE run_id = ?`, runID).Scan(&n); err != nil {
		return nil, err
	}
	return db.queryExperimentsCap(ctx, n, briefQuery, runID)
}

// LastExperiments returns the last n experiments of a run (by Number),
// oldest first, with their diffs and log tails.
func (db *DB) LastExperiments(ctx context.Context, runID int64, n int) ([]research.Experiment, error) {
	if n <= 0 {
		return db.Experiments(ctx, runID)
	}
	return db.queryExperiments(ctx, `SELECT * FROM (SELECT `+experimentColumns+` FROM experiments
		WHERE run_id = ? ORDER BY number DESC LIMIT ?) ORDER BY number`, runID, n)
}

// RunsFinishedBetween returns the IDs of the runs with an experiment
// finished in [from, to), ascending (by the finished_at index).
func (db *DB) RunsFinishedBetween(ctx context.Context, from, to time.Time) ([]int64, error) {
	if !to.After(from) {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT DISTINCT run_id FROM experiments
		WHERE finished_at IS NOT NULL AND finished_at >= ? AND finished_at < ? ORDER BY run_id`, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// diffsOnQuery reads the rows made on one parent by its index: left to
// itself the planner walks the whole run in (run_id, number) order to save
// sorting a handful of rows.
const diffsOnQuery = `SELECT number, attempt, status, description, diff FROM experiments
	INDEXED BY experiments_run_parent WHERE run_id = ? AND parent_commit = ? ORDER BY number`

// briefQuery reads a run's lean rows from the covering index of
// 011_history_speed.sql.
var briefQuery = `SELECT ` + briefColumns + ` FROM experiments WHERE run_id = ? ORDER BY number`

// ExperimentDiffsOn returns the experiments of a run made on parent (their
// ParentCommit), ordered by Number, with only the fields the repeat check
// reads.
func (db *DB) ExperimentDiffsOn(ctx context.Context, runID int64, parent string) ([]research.ExperimentDiff, error) {
	rows, err := db.db.QueryContext(ctx, diffsOnQuery, runID, parent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []research.ExperimentDiff
	for rows.Next() {
		var d research.ExperimentDiff
		if err := rows.Scan(&d.Number, &d.Attempt, &d.Status, &d.Description, &d.Diff); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ImportExperiments inserts finished experiments of run runID as given
// (Number included, which must be new to the run), in one transaction:
// for benchmarks that need a long history quickly and for imports.
func (db *DB) ImportExperiments(ctx context.Context, runID int64, exps []research.Experiment) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO experiments (run_id, number, attempt, parent_commit, commit_hash,
			description, status, reason,
			val_bpb, training_seconds, summary_total_seconds, peak_vram_mb, mfu_percent, total_tokens_m,
			num_steps, num_params_m, depth,
			diff, diff_stat, log_path, log_tail, gpu,
			propose_seconds, train_seconds, total_seconds, prompt_tokens, completion_tokens,
			tsv_written, started_at, finished_at, kind)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range exps {
			if err := e.Kind.Check(); err != nil {
				return fmt.Errorf("store: import experiment #%d: %w", e.Number, err)
			}
			m := e.Summary
			if e.StartedAt.IsZero() {
				e.StartedAt = db.now()
			}
			if _, err := stmt.ExecContext(ctx, runID, e.Number, e.Attempt, e.ParentCommit, e.Commit, e.Description, e.Status, e.Reason,
				num(m.ValBPB), num(m.TrainingSeconds), num(m.TotalSeconds), num(m.PeakVRAMMB), num(m.MFUPercent),
				num(m.TotalTokensM), m.NumSteps, num(m.NumParamsM), m.Depth,
				e.Diff, e.DiffStat, e.LogPath, e.LogTail, e.GPU,
				num(e.ProposeSeconds), num(e.TrainSeconds), num(e.TotalSeconds), e.PromptTokens, e.CompletionTokens,
				e.TSVWritten, e.StartedAt.UTC(), dbTime(e.FinishedAt), string(e.Kind)); err != nil {
				return fmt.Errorf("store: import experiment #%d: %w", e.Number, err)
			}
		}
		return nil
	})
}
