package store

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestBestCurveSurvivesReopenAndIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	db := openAt(t, path, newClock())
	ctx := context.Background()
	run := mustRun(t, db, "curves")
	other := mustRun(t, db, "other")

	if _, err := db.BestCurve(ctx, run.ID); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("BestCurve before save: %v, want ErrNotFound", err)
	}
	first := research.BestCurve{RunID: run.ID, Number: 1, ValBPB: 0.998,
		Points: []research.CurvePoint{{Percent: 10, Loss: 4.5}, {Percent: 50.5, Loss: 3.61}, {Percent: 100, Loss: 3.3}}}
	if err := db.SaveBestCurve(ctx, first); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openAt(t, path, newClock())
	got, err := db.BestCurve(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("BestCurve = %+v\nwant %+v", got, first)
	}
	if _, err := db.BestCurve(ctx, other.ID); !errors.Is(err, research.ErrNotFound) {
		t.Errorf("another run's curve: %v, want ErrNotFound", err)
	}

	// A new best replaces the row; non-finite points never reach the file.
	second := research.BestCurve{RunID: run.ID, Number: 7, ValBPB: 0.99,
		Points: []research.CurvePoint{{Percent: 20, Loss: 4.1}, {Percent: 30, Loss: math.NaN()}, {Percent: 90, Loss: math.Inf(1)}}}
	if err := db.SaveBestCurve(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err = db.BestCurve(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := research.BestCurve{RunID: run.ID, Number: 7, ValBPB: 0.99, Points: []research.CurvePoint{{Percent: 20, Loss: 4.1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after replacing: %+v\nwant %+v", got, want)
	}

	if err := db.SaveBestCurve(ctx, research.BestCurve{RunID: 9999, Number: 1, ValBPB: 1}); err == nil {
		t.Error("a curve for an unknown run was accepted")
	}
}
