package store

import (
	"context"
	"fmt"

	"github.com/autoresearch/autoresearch/research"
)

const programEditColumns = `id, run_id, author, kind, text, base_version, commit_hash, diff, error, created_at, applied_at`

func scanProgramEdit(s scanner) (research.ProgramEdit, error) {
	var p research.ProgramEdit
	err := s.Scan(&p.ID, idCol{&p.RunID}, &p.Author, &p.Kind, &p.Text, &p.BaseVersion, &p.Commit, &p.Diff, &p.Error,
		timeCol{&p.CreatedAt}, timeCol{&p.AppliedAt})
	return p, err
}

// AddProgramEdit queues an edit of program.md and returns it with ID and
// CreatedAt (= Now()) set. Kind must be "append" or "replace". RunID 0 means
// no run (stored as NULL); a non-zero RunID must exist.
func (db *DB) AddProgramEdit(ctx context.Context, p research.ProgramEdit) (research.ProgramEdit, error) {
	if p.Kind != "append" && p.Kind != "replace" {
		return research.ProgramEdit{}, fmt.Errorf("store: add program edit: kind %q is not append or replace", p.Kind)
	}
	p.CreatedAt = db.now()
	res, err := db.db.ExecContext(ctx, `INSERT INTO program_edits (run_id, author, kind, text, base_version,
		commit_hash, diff, error, created_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullID(p.RunID), p.Author, p.Kind, p.Text, p.BaseVersion, p.Commit, p.Diff, p.Error, p.CreatedAt, dbTime(p.AppliedAt))
	if err != nil {
		return research.ProgramEdit{}, fmt.Errorf("store: add program edit: %w", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return research.ProgramEdit{}, err
	}
	p.AppliedAt = p.AppliedAt.UTC()
	return p, nil
}

// PendingProgramEdits returns the edits neither applied nor failed, oldest first.
func (db *DB) PendingProgramEdits(ctx context.Context) ([]research.ProgramEdit, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+programEditColumns+` FROM program_edits
		WHERE applied_at IS NULL AND error = '' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []research.ProgramEdit
	for rows.Next() {
		p, err := scanProgramEdit(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

// RecentProgramEdits returns the last limit edits that were applied,
// newest first: who changed program.md lately, for a refused stale edit.
func (db *DB) RecentProgramEdits(ctx context.Context, limit int) ([]research.ProgramEdit, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+programEditColumns+` FROM program_edits
		WHERE applied_at IS NOT NULL AND error = '' ORDER BY applied_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []research.ProgramEdit
	for rows.Next() {
		p, err := scanProgramEdit(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

// ProgramEditByID returns the edit with that ID, or ErrNotFound.
func (db *DB) ProgramEditByID(ctx context.Context, id int64) (research.ProgramEdit, error) {
	p, err := scanProgramEdit(db.db.QueryRowContext(ctx,
		`SELECT `+programEditColumns+` FROM program_edits WHERE id = ?`, id))
	return p, notFound(err, "program edit %d", id)
}

// FinishProgramEdit records the outcome of edit p.ID: Commit, Diff, Error and
// AppliedAt (Now() when zero and Error is empty; a failed edit keeps AppliedAt
// as given, normally zero). A non-zero RunID is written too (the run it was
// applied in). ErrNotFound for an unknown ID.
func (db *DB) FinishProgramEdit(ctx context.Context, p research.ProgramEdit) error {
	if p.AppliedAt.IsZero() && p.Error == "" {
		p.AppliedAt = db.now()
	}
	res, err := db.db.ExecContext(ctx, `UPDATE program_edits SET commit_hash = ?, diff = ?, error = ?, applied_at = ?,
		run_id = COALESCE(?, run_id) WHERE id = ?`,
		p.Commit, p.Diff, p.Error, dbTime(p.AppliedAt), nullID(p.RunID), p.ID)
	if err != nil {
		return fmt.Errorf("store: finish program edit %d: %w", p.ID, err)
	}
	return affected(res, "program edit", p.ID)
}
