package store

import (
	"context"
	"fmt"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

const messageColumns = `id, key, kind, channel, thread_key, payload, ts, attempts, last_error, next_try, created_at, sent_at`

func scanMessage(s scanner) (research.OutboxMessage, error) {
	var m research.OutboxMessage
	err := s.Scan(&m.ID, &m.Key, &m.Kind, &m.Channel, &m.ThreadKey, &m.Payload, &m.TS, &m.Attempts, &m.LastError,
		timeCol{&m.NextTry}, timeCol{&m.CreatedAt}, timeCol{&m.SentAt})
	return m, err
}

// Enqueue adds a message to the outbox and returns it with ID, CreatedAt
// (= Now()) and NextTry (Now() when zero) set.
func (db *DB) Enqueue(ctx context.Context, m research.OutboxMessage) (research.OutboxMessage, error) {
	m.CreatedAt = db.now()
	if m.NextTry.IsZero() {
		m.NextTry = m.CreatedAt
	}
	m.NextTry = m.NextTry.UTC()
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO outbox (key, kind, channel, thread_key, payload, ts, attempts,
		last_error, next_try, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Key, m.Kind, m.Channel, m.ThreadKey, payload, m.TS, m.Attempts, m.LastError, m.NextTry, m.CreatedAt,
		dbTime(m.SentAt))
	if err != nil {
		return research.OutboxMessage{}, fmt.Errorf("store: enqueue: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return research.OutboxMessage{}, err
	}
	return m, nil
}

// PendingMessages returns up to limit unsent messages whose NextTry is not
// after Now(), by ID (the order they were enqueued). limit <= 0 means all.
func (db *DB) PendingMessages(ctx context.Context, limit int) ([]research.OutboxMessage, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM outbox
		WHERE sent_at IS NULL AND next_try <= ? ORDER BY id LIMIT ?`, db.now(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []research.OutboxMessage
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// MessageByID returns the outbox message with that ID, or ErrNotFound.
func (db *DB) MessageByID(ctx context.Context, id int64) (research.OutboxMessage, error) {
	m, err := scanMessage(db.db.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM outbox WHERE id = ?`, id))
	return m, notFound(err, "message %d", id)
}

// MarkSent records that message id was delivered, with its Slack ts.
func (db *DB) MarkSent(ctx context.Context, id int64, ts string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE outbox SET ts = ?, sent_at = ?, last_error = '' WHERE id = ?`,
		ts, db.now(), id)
	if err != nil {
		return fmt.Errorf("store: mark sent %d: %w", id, err)
	}
	return affected(res, "message", id)
}

// MarkFailed records a failed delivery of message id: Attempts++, the error
// text, and when to try again.
func (db *DB) MarkFailed(ctx context.Context, id int64, errText string, nextTry time.Time) error {
	if nextTry.IsZero() {
		nextTry = db.now()
	}
	res, err := db.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try = ?
		WHERE id = ?`, errText, nextTry.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: mark failed %d: %w", id, err)
	}
	return affected(res, "message", id)
}

// SentTS returns the ts of the first sent message (lowest ID) with that Key
// and a non-empty ts, or ErrNotFound.
func (db *DB) SentTS(ctx context.Context, key string) (string, error) {
	var ts string
	err := db.db.QueryRowContext(ctx, `SELECT ts FROM outbox
		WHERE key = ? AND key <> '' AND sent_at IS NOT NULL AND ts <> '' ORDER BY id LIMIT 1`, key).Scan(&ts)
	return ts, notFound(err, "sent message %q", key)
}

// OutboxBacklog returns how many messages are not sent yet (due or not).
func (db *DB) OutboxBacklog(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

// KeyForTS is SentTS's reverse: the Key of the first sent message (lowest
// ID) with a non-empty Key whose Slack ts is ts, or ErrNotFound. It maps a
// thread reply to the message it answers. Updates and reactions record the
// ts of their target but have no Key, so they never answer for it.
func (db *DB) KeyForTS(ctx context.Context, ts string) (string, error) {
	var key string
	err := db.db.QueryRowContext(ctx, `SELECT key FROM outbox
		WHERE ts = ? AND ts <> '' AND key <> '' AND sent_at IS NOT NULL ORDER BY id LIMIT 1`, ts).Scan(&key)
	return key, notFound(err, "sent message with ts %q", ts)
}
