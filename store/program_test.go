package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestProgramEdits(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	p1, err := db.AddProgramEdit(ctx, research.ProgramEdit{Author: "U1", Kind: "append", Text: "prefer small models"})
	if err != nil {
		t.Fatal(err)
	}
	if p1.ID == 0 {
		t.Fatal("ID not set")
	}
	sameTime(t, "CreatedAt", p1.CreatedAt, c.Peek())
	p2, err := db.AddProgramEdit(ctx, research.ProgramEdit{RunID: run.ID, Author: "U2", Kind: "replace", Text: "# program"})
	if err != nil {
		t.Fatal(err)
	}
	p3, _ := db.AddProgramEdit(ctx, research.ProgramEdit{Kind: "append", Text: "third"})
	if _, err := db.AddProgramEdit(ctx, research.ProgramEdit{Kind: "delete"}); err == nil {
		t.Error("unknown kind accepted")
	}

	pending, err := db.PendingProgramEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 || !reflect.DeepEqual(pending[0], p1) || !reflect.DeepEqual(pending[1], p2) || pending[2].ID != p3.ID {
		t.Fatalf("pending = %+v", pending)
	}

	// Applied: commit and diff recorded, AppliedAt = Now(), the run it went into.
	p1.RunID, p1.Commit, p1.Diff = run.ID, "c0ffee", "+prefer small models"
	if err := db.FinishProgramEdit(ctx, p1); err != nil {
		t.Fatal(err)
	}
	got, _ := db.ProgramEditByID(ctx, p1.ID)
	sameTime(t, "AppliedAt", got.AppliedAt, c.Peek())
	if got.Commit != "c0ffee" || got.Diff != "+prefer small models" || got.RunID != run.ID || got.Error != "" {
		t.Errorf("applied edit = %+v", got)
	}

	// Failed: error recorded, AppliedAt stays zero, no longer pending.
	p2.Error = "old_string not found"
	if err := db.FinishProgramEdit(ctx, p2); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ProgramEditByID(ctx, p2.ID)
	if got.Error != p2.Error || !got.AppliedAt.IsZero() || got.RunID != run.ID {
		t.Errorf("failed edit = %+v", got)
	}

	// Explicit AppliedAt is kept.
	when := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	p3.AppliedAt = when
	if err := db.FinishProgramEdit(ctx, p3); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ProgramEditByID(ctx, p3.ID)
	sameTime(t, "explicit AppliedAt", got.AppliedAt, when)
	if got.RunID != 0 {
		t.Errorf("RunID = %d, want 0", got.RunID)
	}

	if pending, _ := db.PendingProgramEdits(ctx); len(pending) != 0 {
		t.Errorf("still pending: %+v", pending)
	}
	if err := db.FinishProgramEdit(ctx, research.ProgramEdit{ID: 42}); !errors.Is(err, research.ErrNotFound) {
		t.Errorf("unknown edit: %v", err)
	}
}

func TestProgramEditKeepsItsBaseVersionAndRecentEditsNewestFirst(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	a, _ := db.AddProgramEdit(ctx, research.ProgramEdit{Author: "U1", Kind: "append", Text: "one"})
	r, err := db.AddProgramEdit(ctx, research.ProgramEdit{Author: "U2", Kind: "replace", Text: "# new", BaseVersion: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ProgramEditByID(ctx, r.ID)
	if err != nil || got.BaseVersion != "abc123" {
		t.Fatalf("BaseVersion = %q, %v", got.BaseVersion, err)
	}
	if recent, _ := db.RecentProgramEdits(ctx, 5); len(recent) != 0 {
		t.Fatalf("pending edits listed as applied: %+v", recent)
	}
	for _, p := range []research.ProgramEdit{a, r} {
		p.Commit = "c" + p.Author
		if err := db.FinishProgramEdit(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	recent, err := db.RecentProgramEdits(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || recent[0].ID != r.ID || recent[1].ID != a.ID {
		t.Fatalf("recent = %+v, want the replace, then the append", recent)
	}
}
