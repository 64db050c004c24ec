package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

const lessonColumns = `id, run_id, from_num, to_num, text, created_at`

func scanLesson(s scanner) (research.Lesson, error) {
	var l research.Lesson
	err := s.Scan(&l.ID, &l.RunID, &l.FromNum, &l.ToNum, &l.Text, timeCol{&l.CreatedAt})
	return l, err
}

// AddLesson stores a lesson and returns it with ID and CreatedAt (= Now())
// set. RunID must name an existing run, 1 <= FromNum <= ToNum, and Text must
// not be blank.
func (db *DB) AddLesson(ctx context.Context, l research.Lesson) (research.Lesson, error) {
	switch {
	case l.RunID == 0:
		return research.Lesson{}, fmt.Errorf("store: add lesson: no run")
	case l.FromNum < 1 || l.ToNum < l.FromNum:
		return research.Lesson{}, fmt.Errorf("store: add lesson: bad range #%d-#%d", l.FromNum, l.ToNum)
	case strings.TrimSpace(l.Text) == "":
		return research.Lesson{}, fmt.Errorf("store: add lesson: empty text")
	}
	l.CreatedAt = db.now()
	res, err := db.db.ExecContext(ctx, `INSERT INTO lessons (run_id, from_num, to_num, text, created_at)
		VALUES (?, ?, ?, ?, ?)`, l.RunID, l.FromNum, l.ToNum, l.Text, l.CreatedAt)
	if err != nil {
		return research.Lesson{}, fmt.Errorf("store: add lesson for run %d: %w", l.RunID, err)
	}
	if l.ID, err = res.LastInsertId(); err != nil {
		return research.Lesson{}, err
	}
	return l, nil
}

// Lessons returns the run's lessons, oldest first (in the order they were
// added), superseded ones included.
func (db *DB) Lessons(ctx context.Context, runID int64) ([]research.Lesson, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+lessonColumns+` FROM lessons WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []research.Lesson
	for rows.Next() {
		l, err := scanLesson(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, l)
	}
	return list, rows.Err()
}
