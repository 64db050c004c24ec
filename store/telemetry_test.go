package store

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestTelemetryRoundTripAndUpsert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	db := openAt(t, path, newClock())
	ctx := context.Background()
	run := mustRun(t, db, "gpu")
	e := mustStart(t, db, run.ID)
	other := mustStart(t, db, run.ID)

	if _, err := db.Telemetry(ctx, e.ID); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("Telemetry before save: %v, want research.ErrNotFound", err)
	}
	first := research.Telemetry{Samples: 150, MeanUtilPct: 97.5, PeakMemoryMB: 45060.25, MaxTempC: 71, MeanPowerW: 612.4,
		MaxSMClockMHz: 1980, Throttled: true, ThrottleReason: []string{"sw_power_cap", "hw_slowdown"},
		Shared: true, SharedBy: []string{"pid 4242 (python3)", "pid 7 (jupyter, lab)"}}
	if err := db.SaveTelemetry(ctx, e.ID, first); err != nil {
		t.Fatal(err)
	}
	// Reopen: the row lives in the file, not in a cache.
	db.Close()
	db = openAt(t, path, newClock())
	got, err := db.Telemetry(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("Telemetry = %+v\nwant %+v", got, first)
	}
	if _, err := db.Telemetry(ctx, other.ID); !errors.Is(err, research.ErrNotFound) {
		t.Errorf("Telemetry of an unwatched experiment: %v, want research.ErrNotFound", err)
	}

	// Saving again replaces the row; NaN becomes 0 and empty lists stay nil.
	second := research.Telemetry{Samples: 3, MeanUtilPct: math.NaN(), PeakMemoryMB: 10, MaxTempC: 40, MeanPowerW: 80}
	if err := db.SaveTelemetry(ctx, e.ID, second); err != nil {
		t.Fatal(err)
	}
	got, err = db.Telemetry(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := second
	want.MeanUtilPct = 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after upsert research.Telemetry = %+v\nwant %+v", got, want)
	}
	if !got.Comparable() {
		t.Errorf("upserted telemetry kept the old throttled/shared flags: %+v", got)
	}
}

func TestTelemetryRefusesUnknownExperimentAndCascades(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	if err := db.SaveTelemetry(ctx, 999, research.Telemetry{Samples: 1}); err == nil {
		t.Error("SaveTelemetry for a missing experiment succeeded; want a foreign key error")
	}
	run := mustRun(t, db, "gone")
	e := mustStart(t, db, run.ID)
	if err := db.SaveTelemetry(ctx, e.ID, research.Telemetry{Samples: 1, MaxTempC: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, run.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM experiment_telemetry`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d telemetry rows left after their run and experiment were deleted", n)
	}
	names, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "migrations/002_telemetry.sql") {
		t.Errorf("migrations = %v, want 002_telemetry.sql applied", names)
	}
}
