package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestCreateRunAndLookups(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	in := research.Run{Tag: "mar14", Branch: "autoresearch/mar14", RepoDir: "/r", BaseCommit: "base", BestCommit: "base",
		StartedBy: "U1", Proposer: "llm", Model: "gpt", GPU: "H100", Noise: 0.002}
	r, err := db.CreateRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 {
		t.Fatal("ID not set")
	}
	if r.State != research.RunActive {
		t.Errorf("State = %q, want %q", r.State, research.RunActive)
	}
	sameTime(t, "CreatedAt", r.CreatedAt, c.Peek())
	sameTime(t, "UpdatedAt", r.UpdatedAt, c.Peek())

	byTag, err := db.RunByTag(ctx, "mar14")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byTag, r) {
		t.Errorf("RunByTag = %+v\nwant %+v", byTag, r)
	}
	byID, err := db.RunByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byID, r) {
		t.Errorf("RunByID = %+v\nwant %+v", byID, r)
	}

	_, err = db.CreateRun(ctx, research.Run{Tag: "mar14"})
	if !errors.Is(err, research.ErrExists) {
		t.Errorf("duplicate tag: err = %v, want research.ErrExists", err)
	}
	if _, err := db.CreateRun(ctx, research.Run{Tag: "  "}); err == nil {
		t.Error("empty tag accepted")
	}
	runs, _ := db.ListRuns(ctx)
	if len(runs) != 1 {
		t.Errorf("%d runs after rejected creates, want 1", len(runs))
	}
}

func TestLatestRunAndListRuns(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	if _, err := db.LatestRun(ctx); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("LatestRun on empty store: %v", err)
	}
	if runs, err := db.ListRuns(ctx); err != nil || len(runs) != 0 {
		t.Fatalf("ListRuns on empty store = %v, %v", runs, err)
	}
	var want []string
	for i := 0; i < 3; i++ {
		tag := fmt.Sprintf("run%d", i)
		mustRun(t, db, tag)
		want = append(want, tag)
	}
	latest, err := db.LatestRun(ctx)
	if err != nil || latest.Tag != "run2" {
		t.Fatalf("LatestRun = %q, %v; want run2", latest.Tag, err)
	}
	runs, err := db.ListRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Tag)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListRuns = %v, want %v", got, want)
	}
}

func TestUpdateRun(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	r := mustRun(t, db, "mar14")
	created := r.CreatedAt

	r.Tag = "ignored"
	r.BestCommit, r.BestValBPB, r.State = "beef", 0.9876, research.RunPaused
	r.Proposer, r.Model, r.GPU, r.Noise, r.StartedBy = "sweep", "m2", "A100", 0.001, "U2"
	r.Branch, r.RepoDir, r.BaseCommit = "b2", "/r2", "base2"
	if err := db.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.RunByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tag != "mar14" {
		t.Errorf("Tag changed to %q", got.Tag)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, created)
	sameTime(t, "UpdatedAt", got.UpdatedAt, c.Peek())
	if !got.UpdatedAt.After(created) {
		t.Error("UpdatedAt not bumped")
	}
	r.Tag, r.CreatedAt, r.UpdatedAt = got.Tag, got.CreatedAt, got.UpdatedAt
	if !reflect.DeepEqual(got, r) {
		t.Errorf("after update = %+v\nwant %+v", got, r)
	}
}

func TestCreateRunConcurrentSameTag(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.CreateRun(ctx, research.Run{Tag: "same"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, research.ErrExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creates succeeded, want 1", ok)
	}
}
