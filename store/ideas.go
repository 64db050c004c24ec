package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

const ideaColumns = `id, text, author, source, thread_ts, message_ts, from_exp, consumed_by, unpinned, created_at`

func scanIdea(s scanner) (research.Idea, error) {
	var i research.Idea
	err := s.Scan(&i.ID, &i.Text, &i.Author, &i.Source, &i.ThreadTS, &i.MessageTS, &i.FromExp,
		idCol{&i.ConsumedBy}, &i.Unpinned, timeCol{&i.CreatedAt})
	return i, err
}

func (db *DB) queryIdeas(ctx context.Context, query string, args ...any) ([]research.Idea, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []research.Idea
	for rows.Next() {
		i, err := scanIdea(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, i)
	}
	return list, rows.Err()
}

// AddIdea stores a new idea and returns it with ID (and CreatedAt = Now()
// when zero) set. Ideas belong to no run: an open idea waits for whichever
// experiment comes next. Empty text is refused.
func (db *DB) AddIdea(ctx context.Context, i research.Idea) (research.Idea, error) {
	if strings.TrimSpace(i.Text) == "" {
		return research.Idea{}, errors.New("store: add idea: empty text")
	}
	if i.CreatedAt.IsZero() {
		i.CreatedAt = db.now()
	}
	i.CreatedAt = i.CreatedAt.UTC()
	res, err := db.db.ExecContext(ctx, `INSERT INTO ideas (text, author, source, thread_ts, message_ts, from_exp,
		consumed_by, unpinned, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.Text, i.Author, i.Source, i.ThreadTS, i.MessageTS, i.FromExp, nullID(i.ConsumedBy), i.Unpinned, i.CreatedAt)
	if err != nil {
		return research.Idea{}, fmt.Errorf("store: add idea: %w", err)
	}
	if i.ID, err = res.LastInsertId(); err != nil {
		return research.Idea{}, err
	}
	return i, nil
}

// OpenIdeas returns the ideas not consumed and not unpinned, oldest first.
func (db *DB) OpenIdeas(ctx context.Context) ([]research.Idea, error) {
	return db.queryIdeas(ctx, `SELECT `+ideaColumns+` FROM ideas
		WHERE consumed_by IS NULL AND unpinned = 0 ORDER BY id`)
}

// IdeaByID returns the idea with that ID, or ErrNotFound.
func (db *DB) IdeaByID(ctx context.Context, id int64) (research.Idea, error) {
	i, err := scanIdea(db.db.QueryRowContext(ctx, `SELECT `+ideaColumns+` FROM ideas WHERE id = ?`, id))
	return i, notFound(err, "idea %d", id)
}

// IdeaByMessageTS returns the (first) idea posted as the Slack message ts,
// or ErrNotFound. An empty ts finds nothing.
func (db *DB) IdeaByMessageTS(ctx context.Context, ts string) (research.Idea, error) {
	if ts == "" {
		return research.Idea{}, fmt.Errorf("store: idea with empty message ts: %w", research.ErrNotFound)
	}
	i, err := scanIdea(db.db.QueryRowContext(ctx,
		`SELECT `+ideaColumns+` FROM ideas WHERE message_ts = ? ORDER BY id LIMIT 1`, ts))
	return i, notFound(err, "idea of message %s", ts)
}

// UpdateIdeaText replaces the text of an open idea. ErrNotFound for an
// unknown ID; an error wrapping ErrIdeaUsed once the idea was consumed or
// unpinned.
func (db *DB) UpdateIdeaText(ctx context.Context, id int64, text string) error {
	return db.changeIdeaText(ctx, id, nil, text)
}

// ReplaceIdeaText replaces the text of an open idea only when it still reads
// before (both compared without surrounding space): an edit made against a
// text someone else changed since is refused with an error wrapping
// ErrIdeaChanged that quotes the current text. Otherwise as UpdateIdeaText.
func (db *DB) ReplaceIdeaText(ctx context.Context, id int64, before, after string) error {
	return db.changeIdeaText(ctx, id, &before, after)
}

func (db *DB) changeIdeaText(ctx context.Context, id int64, before *string, text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("store: update idea: empty text")
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var consumed sql.NullInt64
		var unpinned bool
		var current string
		err := tx.QueryRowContext(ctx, `SELECT consumed_by, unpinned, text FROM ideas WHERE id = ?`, id).Scan(&consumed, &unpinned, &current)
		if err != nil {
			return notFound(err, "idea %d", id)
		}
		if consumed.Valid {
			return fmt.Errorf("store: idea %d was used by experiment %d: %w", id, consumed.Int64, research.ErrIdeaUsed)
		}
		if unpinned {
			return fmt.Errorf("store: idea %d was unpinned: %w", id, research.ErrIdeaUsed)
		}
		if before != nil && strings.TrimSpace(*before) != strings.TrimSpace(current) {
			return fmt.Errorf("store: idea %d now reads %q: %w", id, current, research.ErrIdeaChanged)
		}
		_, err = tx.ExecContext(ctx, `UPDATE ideas SET text = ? WHERE id = ?`, text, id)
		return err
	})
}

// UnpinIdea withdraws an open idea. ErrNotFound for an unknown ID, an error
// wrapping ErrIdeaUsed when an experiment already consumed it. Unpinning an
// unpinned idea is a no-op.
func (db *DB) UnpinIdea(ctx context.Context, id int64) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var consumed sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT consumed_by FROM ideas WHERE id = ?`, id).Scan(&consumed)
		if err != nil {
			return notFound(err, "idea %d", id)
		}
		if consumed.Valid {
			return fmt.Errorf("store: idea %d was used by experiment %d: %w", id, consumed.Int64, research.ErrIdeaUsed)
		}
		_, err = tx.ExecContext(ctx, `UPDATE ideas SET unpinned = 1 WHERE id = ?`, id)
		return err
	})
}

// IdeasConsumedBy returns the ideas an experiment consumed, oldest first.
func (db *DB) IdeasConsumedBy(ctx context.Context, experimentID int64) ([]research.Idea, error) {
	return db.queryIdeas(ctx, `SELECT `+ideaColumns+` FROM ideas WHERE consumed_by = ? ORDER BY id`, experimentID)
}
