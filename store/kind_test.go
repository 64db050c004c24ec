package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// kindMigration is the migration that added experiments.kind.
const kindMigration = "migrations/009_experiment_kind.sql"

// createAtSchemaBefore writes a real SQLite file at path with every
// embedded migration before last applied and recorded, as an older bot
// left it, and runs seed on it.
func createAtSchemaBefore(t *testing.T, path, last string, seed func(*sql.DB)) {
	t.Helper()
	sdb, err := sql.Open("sqlite", path+"?"+dsnParams)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	if _, err := sdb.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if !slices.Contains(names, last) {
		t.Fatalf("%s is not embedded (have %v)", last, names)
	}
	for _, name := range names {
		if name >= last {
			break
		}
		buf, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdb.Exec(string(buf)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := sdb.Exec(`INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	seed(sdb)
}

// A store written before experiments had a kind gets the kind that the
// descriptions and attempt numbers of that time implied, once, when it is
// opened; rows written afterwards keep the kind they are given.
func TestKindMigrationBackfillsExistingExperiments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	rows := []struct {
		desc    string
		attempt int
		want    research.Kind
	}{
		{"baseline", 0, research.KindBaseline},
		{"baseline (repeat 1/2)", 0, research.KindBaselineRepeat},
		{"baseline (repeat 2/2)", 0, research.KindBaselineRepeat},
		{"depth 8 to 10", 0, research.KindProposal},
		{"depth 8 to 10, fixed the shape", 1, research.KindFix},
		{"confirm #4: depth 8 to 10", 0, research.KindConfirmation},
		{"retry #4: depth 8 to 10", 0, research.KindRetry},
		{"retry of the improvement abc1234 on the adopted best", 0, research.KindRetry},
		// Only the loop's own wording counts: a proposal that merely talks
		// about a baseline is a proposal.
		{"Baseline lr schedule", 0, research.KindProposal},
		{"baseline lr x2", 0, research.KindProposal},
		{"confirm that warmup helps", 0, research.KindProposal},
		{"", 0, research.KindProposal},
	}
	createAtSchemaBefore(t, path, kindMigration, func(sdb *sql.DB) {
		now := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
		if _, err := sdb.Exec(`INSERT INTO runs (id, tag, created_at, updated_at) VALUES (1, 'old', ?, ?)`, now, now); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if _, err := sdb.Exec(`INSERT INTO experiments (run_id, number, attempt, description, status, started_at)
				VALUES (1, ?, ?, ?, 'discard', ?)`, i+1, r.attempt, r.desc, now); err != nil {
				t.Fatal(err)
			}
		}
	})

	db := openAt(t, path, nil)
	ctx := context.Background()
	names, err := db.Migrations(ctx)
	if err != nil || !slices.Contains(names, kindMigration) {
		t.Fatalf("migrations = %v, %v; want %s applied", names, err, kindMigration)
	}
	exps, err := db.Experiments(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != len(rows) {
		t.Fatalf("%d experiments after the migration, want %d", len(exps), len(rows))
	}
	for i, e := range exps {
		if e.Kind != rows[i].want {
			t.Errorf("#%d %q (attempt %d): kind %q, want %q", e.Number, e.Description, e.Attempt, e.Kind, rows[i].want)
		}
	}
	brief, err := db.ExperimentsBrief(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range brief {
		if e.Kind != rows[i].want {
			t.Errorf("brief #%d: kind %q, want %q", e.Number, e.Kind, rows[i].want)
		}
	}

	// After the migration the kind is what the loop says, whatever the
	// description: a proposal described as "baseline" stays a proposal.
	e, err := db.StartExperiment(ctx, research.Experiment{RunID: 1, Kind: research.KindProposal, Description: "baseline"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Status = research.StatusDiscard
	if err := db.UpdateExperiment(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := db.ExperimentByID(ctx, e.ID)
	if err != nil || got.Kind != research.KindProposal {
		t.Errorf("new experiment: kind %q, %v; want proposal", got.Kind, err)
	}

	// Reopening does not backfill again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openAt(t, path, nil)
	if got, err := db2.ExperimentByID(ctx, e.ID); err != nil || got.Kind != research.KindProposal {
		t.Errorf("after reopening: kind %q, %v; want proposal", got.Kind, err)
	}
}

// Every experiment must say what it is for: a missing or unknown kind is
// refused with the reason, and nothing is written.
func TestExperimentsWithoutAValidKindAreRefused(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "kinds")
	for _, k := range []research.Kind{"", "Baseline", "sweep"} {
		_, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: k, Description: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), "is not one of baseline, baseline_repeat, proposal, confirmation, retry, fix") {
			t.Errorf("StartExperiment with kind %q: %v", k, err)
		}
		err = db.ImportExperiments(ctx, run.ID, []research.Experiment{{Number: 1, Kind: k, Status: research.StatusDiscard}})
		if err == nil || errors.Is(err, research.ErrExists) {
			t.Errorf("ImportExperiments with kind %q: %v", k, err)
		}
	}
	if exps, err := db.Experiments(ctx, run.ID); err != nil || len(exps) != 0 {
		t.Errorf("refused experiments were written: %d, %v", len(exps), err)
	}
	for _, k := range research.Kinds {
		e, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: k}, nil)
		if err != nil {
			t.Fatalf("kind %q: %v", k, err)
		}
		if got, err := db.ExperimentByID(ctx, e.ID); err != nil || got.Kind != k {
			t.Errorf("kind %q read back as %q, %v", k, got.Kind, err)
		}
	}
}
