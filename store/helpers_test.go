package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// clock is a deterministic Now: every call returns a time one second after
// the previous one, in a non-UTC zone so that the UTC conversion is exercised.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CET", 3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// Peek returns the last time handed out, without advancing.
func (c *clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openAt opens the store at path with the given clock and closes it at cleanup.
func openAt(t testing.TB, path string, c *clock) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	if c != nil {
		db.Now = c.Now
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newTestDB(t testing.TB) (*DB, *clock) {
	t.Helper()
	c := newClock()
	return openAt(t, filepath.Join(t.TempDir(), "state", "autoresearch.db"), c), c
}

func mustRun(t testing.TB, db *DB, tag string) research.Run {
	t.Helper()
	r, err := db.CreateRun(context.Background(), research.Run{Tag: tag, Branch: "autoresearch/" + tag, RepoDir: "/repo"})
	if err != nil {
		t.Fatalf("CreateRun(%s): %v", tag, err)
	}
	return r
}

func mustStart(t testing.TB, db *DB, runID int64, ideas ...int64) research.Experiment {
	t.Helper()
	e, err := db.StartExperiment(context.Background(), research.Experiment{RunID: runID, Kind: research.KindProposal, ParentCommit: "abc"}, ideas)
	if err != nil {
		t.Fatalf("StartExperiment: %v", err)
	}
	return e
}

func mustIdea(t testing.TB, db *DB, text string) research.Idea {
	t.Helper()
	i, err := db.AddIdea(context.Background(), research.Idea{Text: text, Author: "U1", Source: "terminal"})
	if err != nil {
		t.Fatalf("AddIdea: %v", err)
	}
	return i
}

func sameTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
}
