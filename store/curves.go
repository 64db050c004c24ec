package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/autoresearch/autoresearch/research"
)

// SaveBestCurve records (or replaces) the best curve of run c.RunID. Points
// that are not finite are dropped; an unknown run is refused by the foreign
// key.
func (db *DB) SaveBestCurve(ctx context.Context, c research.BestCurve) error {
	pairs := make([][2]float64, 0, len(c.Points))
	for _, p := range c.Points {
		if isFinite(p.Percent) && isFinite(p.Loss) {
			pairs = append(pairs, [2]float64{p.Percent, p.Loss})
		}
	}
	buf, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("store: encode the best curve of run %d: %w", c.RunID, err)
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO best_loss_curves (run_id, experiment, val_bpb, points, recorded_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (run_id) DO UPDATE SET experiment = excluded.experiment, val_bpb = excluded.val_bpb,
		points = excluded.points, recorded_at = excluded.recorded_at`,
		c.RunID, c.Number, num(c.ValBPB), string(buf), db.now())
	if err != nil {
		return fmt.Errorf("store: save the best curve of run %d: %w", c.RunID, err)
	}
	return nil
}

// BestCurve returns the best curve of a run, or ErrNotFound when none was
// recorded.
func (db *DB) BestCurve(ctx context.Context, runID int64) (research.BestCurve, error) {
	c := research.BestCurve{RunID: runID}
	var points string
	err := db.db.QueryRowContext(ctx, `SELECT experiment, val_bpb, points FROM best_loss_curves WHERE run_id = ?`, runID).
		Scan(&c.Number, &c.ValBPB, &points)
	if err != nil {
		return research.BestCurve{}, notFound(err, "best curve of run %d", runID)
	}
	var pairs [][2]float64
	if err := json.Unmarshal([]byte(points), &pairs); err != nil {
		return research.BestCurve{}, fmt.Errorf("store: decode the best curve of run %d: %w", runID, err)
	}
	for _, p := range pairs {
		c.Points = append(c.Points, research.CurvePoint{Percent: p[0], Loss: p[1]})
	}
	return c, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
