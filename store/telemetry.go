package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// SaveTelemetry records (or replaces) the GPU aggregates of an experiment.
// An unknown experiment ID is refused by the foreign key.
func (db *DB) SaveTelemetry(ctx context.Context, experimentID int64, t research.Telemetry) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO experiment_telemetry (experiment_id, samples, mean_util_pct,
		peak_memory_mb, max_temp_c, mean_power_w, max_sm_clock_mhz, throttled, throttle_reasons, shared, shared_by, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (experiment_id) DO UPDATE SET samples = excluded.samples, mean_util_pct = excluded.mean_util_pct,
		peak_memory_mb = excluded.peak_memory_mb, max_temp_c = excluded.max_temp_c, mean_power_w = excluded.mean_power_w,
		max_sm_clock_mhz = excluded.max_sm_clock_mhz, throttled = excluded.throttled,
		throttle_reasons = excluded.throttle_reasons, shared = excluded.shared, shared_by = excluded.shared_by,
		recorded_at = excluded.recorded_at`,
		experimentID, t.Samples, num(t.MeanUtilPct), num(t.PeakMemoryMB), num(t.MaxTempC), num(t.MeanPowerW),
		num(t.MaxSMClockMHz), t.Throttled, joinList(t.ThrottleReason, ","), t.Shared, joinList(t.SharedBy, "\n"), db.now())
	if err != nil {
		return fmt.Errorf("store: save telemetry of experiment %d: %w", experimentID, err)
	}
	return nil
}

// Telemetry returns the GPU aggregates of an experiment, or ErrNotFound when
// it was not watched.
func (db *DB) Telemetry(ctx context.Context, experimentID int64) (research.Telemetry, error) {
	var t research.Telemetry
	var reasons, sharedBy string
	err := db.db.QueryRowContext(ctx, `SELECT samples, mean_util_pct, peak_memory_mb, max_temp_c, mean_power_w,
		max_sm_clock_mhz, throttled, throttle_reasons, shared, shared_by
		FROM experiment_telemetry WHERE experiment_id = ?`, experimentID).Scan(
		&t.Samples, &t.MeanUtilPct, &t.PeakMemoryMB, &t.MaxTempC, &t.MeanPowerW,
		&t.MaxSMClockMHz, &t.Throttled, &reasons, &t.Shared, &sharedBy)
	if err != nil {
		return research.Telemetry{}, notFound(err, "telemetry of experiment %d", experimentID)
	}
	t.ThrottleReason = splitList(reasons, ",")
	t.SharedBy = splitList(sharedBy, "\n")
	return t, nil
}

// joinList joins the non-empty items, with the separator removed from each.
func joinList(items []string, sep string) string {
	var out []string
	for _, s := range items {
		s = strings.TrimSpace(strings.ReplaceAll(s, sep, " "))
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}
