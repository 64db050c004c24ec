package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestOpenCreatesDirectoryAndMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	db := openAt(t, path, nil)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	want, _ := fs.Glob(migrationFS, "migrations/*.sql")
	if len(want) == 0 {
		t.Fatal("no embedded migrations")
	}
	got, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("applied migrations = %v, want %v", got, want)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q", db.Path())
	}
}

func TestOpenSetsPragmasOnEveryConnection(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	// Hold several connections at once so the pool has to open new ones.
	conns := make([]interface{ Close() error }, 0, 3)
	for i := 0; i < 3; i++ {
		conn, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		var mode string
		var fk, busy int
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy <= 0 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d busy_timeout=%d", i, mode, fk, busy)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestReopenKeepsDataAndDoesNotReapplyMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	c := newClock()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = c.Now
	run, err := db.CreateRun(ctx, research.Run{Tag: "mar14"})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindProposal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, "digest.last", "x"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 2; i++ {
		db2, err := Open(path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		got, err := db2.RunByTag(ctx, "mar14")
		if err != nil {
			t.Fatalf("reopen %d: RunByTag: %v", i, err)
		}
		if !reflect.DeepEqual(got, run) {
			t.Errorf("reopen %d: run = %+v, want %+v", i, got, run)
		}
		e, err := db2.ExperimentByID(ctx, exp.ID)
		if err != nil || e.Number != 1 || e.Status != research.StatusRunning {
			t.Errorf("reopen %d: experiment = %+v, %v", i, e, err)
		}
		if v, err := db2.Setting(ctx, "digest.last"); err != nil || v != "x" {
			t.Errorf("reopen %d: setting = %q, %v", i, v, err)
		}
		var n int
		if err := db2.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want, _ := fs.Glob(migrationFS, "migrations/*.sql")
		if n != len(want) {
			t.Errorf("reopen %d: %d migration rows, want %d", i, n, len(want))
		}
		// A new experiment continues the numbering.
		e2, err := db2.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindProposal}, nil)
		if err != nil || e2.Number != 2+i {
			t.Errorf("reopen %d: next experiment = %d, %v", i, e2.Number, err)
		}
		if err := db2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", filepath.Join(t.TempDir(), "x?mode=ro")} {
		if db, err := Open(p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if db.ctx.Err() == nil {
		t.Error("Close did not cancel the background context")
	}
	if _, err := db.ListRuns(context.Background()); err == nil {
		t.Error("query after Close succeeded")
	}
}

func TestTimesAreWrittenInUTC(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	if _, err := db.CreateRun(ctx, research.Run{Tag: "t"}); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := db.db.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM runs`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	// The clock runs in CET (UTC+1) at 09:26: stored must be 08:26 UTC.
	if !strings.HasPrefix(raw, "2026-03-14 08:26:") || !strings.HasSuffix(raw, "+00:00") {
		t.Errorf("created_at stored as %q, want UTC sqlite format", raw)
	}
}

func TestNotFoundErrors(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["RunByTag"] = db.RunByTag(ctx, "nope")
	_, checks["RunByID"] = db.RunByID(ctx, 99)
	_, checks["LatestRun"] = db.LatestRun(ctx)
	checks["UpdateRun"] = db.UpdateRun(ctx, research.Run{ID: 99, Tag: "x"})
	_, checks["StartExperiment"] = db.StartExperiment(ctx, research.Experiment{RunID: 99, Kind: research.KindProposal}, nil)
	checks["UpdateExperiment"] = db.UpdateExperiment(ctx, research.Experiment{ID: 99})
	checks["MarkTSVWritten"] = db.MarkTSVWritten(ctx, 99)
	_, checks["ExperimentByID"] = db.ExperimentByID(ctx, 99)
	_, checks["ExperimentByNumber"] = db.ExperimentByNumber(ctx, 1, 1)
	_, checks["IdeaByID"] = db.IdeaByID(ctx, 99)
	_, checks["IdeaByMessageTS"] = db.IdeaByMessageTS(ctx, "1.2")
	_, checks["IdeaByMessageTS empty"] = db.IdeaByMessageTS(ctx, "")
	checks["UpdateIdeaText"] = db.UpdateIdeaText(ctx, 99, "x")
	checks["UnpinIdea"] = db.UnpinIdea(ctx, 99)
	checks["FinishProgramEdit"] = db.FinishProgramEdit(ctx, research.ProgramEdit{ID: 99})
	_, checks["ProgramEditByID"] = db.ProgramEditByID(ctx, 99)
	checks["MarkSent"] = db.MarkSent(ctx, 99, "1.2")
	checks["MarkFailed"] = db.MarkFailed(ctx, 99, "boom", db.now())
	_, checks["MessageByID"] = db.MessageByID(ctx, 99)
	_, checks["SentTS"] = db.SentTS(ctx, "exp:1")
	_, checks["Setting"] = db.Setting(ctx, "nope")
	for name, err := range checks {
		if !errors.Is(err, research.ErrNotFound) {
			t.Errorf("%s: err = %v, want research.ErrNotFound", name, err)
		}
	}
}
