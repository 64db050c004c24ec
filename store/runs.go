package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

const runColumns = `id, tag, branch, repo_dir, base_commit, best_commit, best_val_bpb, state,
	started_by, proposer, model, gpu, noise, created_at, updated_at`

func scanRun(s scanner) (research.Run, error) {
	var r research.Run
	err := s.Scan(&r.ID, &r.Tag, &r.Branch, &r.RepoDir, &r.BaseCommit, &r.BestCommit, &r.BestValBPB, &r.State,
		&r.StartedBy, &r.Proposer, &r.Model, &r.GPU, &r.Noise, timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt})
	return r, err
}

// CreateRun inserts r and returns it with ID, CreatedAt and UpdatedAt set.
// An empty State becomes RunActive. A tag that is taken gives an error
// wrapping ErrExists.
func (db *DB) CreateRun(ctx context.Context, r research.Run) (research.Run, error) {
	if strings.TrimSpace(r.Tag) == "" {
		return research.Run{}, errors.New("store: create run: empty tag")
	}
	if r.State == "" {
		r.State = research.RunActive
	}
	now := db.now()
	r.CreatedAt, r.UpdatedAt = now, now
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE tag = ?`, r.Tag).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: run %q: %w", r.Tag, research.ErrExists)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (tag, branch, repo_dir, base_commit, best_commit,
			best_val_bpb, state, started_by, proposer, model, gpu, noise, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Tag, r.Branch, r.RepoDir, r.BaseCommit, r.BestCommit, num(r.BestValBPB), r.State,
			r.StartedBy, r.Proposer, r.Model, r.GPU, num(r.Noise), now, now)
		if isUnique(err) {
			return fmt.Errorf("store: run %q: %w", r.Tag, research.ErrExists)
		}
		if err != nil {
			return err
		}
		r.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return research.Run{}, err
	}
	r.BestValBPB, r.Noise = num(r.BestValBPB), num(r.Noise)
	return r, nil
}

// RunByTag returns the run with that tag, or ErrNotFound.
func (db *DB) RunByTag(ctx context.Context, tag string) (research.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE tag = ?`, tag))
	return r, notFound(err, "run %q", tag)
}

// RunByID returns the run with that ID, or ErrNotFound.
func (db *DB) RunByID(ctx context.Context, id int64) (research.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	return r, notFound(err, "run %d", id)
}

// LatestRun returns the most recently created run, or ErrNotFound when there
// is none.
func (db *DB) LatestRun(ctx context.Context) (research.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT 1`))
	return r, notFound(err, "latest run")
}

// ListRuns returns every run, oldest first.
func (db *DB) ListRuns(ctx context.Context) ([]research.Run, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []research.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// UpdateRun writes every mutable field of r (all but ID, Tag and CreatedAt)
// by r.ID and sets updated_at to Now(). ErrNotFound when there is no such run.
func (db *DB) UpdateRun(ctx context.Context, r research.Run) error {
	return db.updateRun(ctx, db.db, r)
}

func (db *DB) updateRun(ctx context.Context, q queryer, r research.Run) error {
	res, err := q.ExecContext(ctx, `UPDATE runs SET branch = ?, repo_dir = ?, base_commit = ?, best_commit = ?,
		best_val_bpb = ?, state = ?, started_by = ?, proposer = ?, model = ?, gpu = ?, noise = ?, updated_at = ?
		WHERE id = ?`,
		r.Branch, r.RepoDir, r.BaseCommit, r.BestCommit, num(r.BestValBPB), r.State, r.StartedBy,
		r.Proposer, r.Model, r.GPU, num(r.Noise), db.now(), r.ID)
	if err != nil {
		return fmt.Errorf("store: update run %d: %w", r.ID, err)
	}
	return affected(res, "run", r.ID)
}
