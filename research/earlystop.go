package research

import (
	"errors"
	"fmt"
	"math"
)

// Early stopping (--early-stop) ends a training whose loss curve, at the
// same fraction of the time budget, is worse than the best experiment's by
// more than a margin derived from the noise floor. It trades upstream's
// fixed budget (every run comparable, none judged before its end) for more
// experiments per GPU-hour, at the risk of ending a late bloomer; the
// warmup, the warmdown, the margin, the patience and the trend check are
// what keep that risk small.

// CurvePoint is one point of a training-loss curve: the loss printed at
// Percent (0..100) of the time budget.
type CurvePoint struct {
	Percent float64
	Loss    float64
}

// BestCurve is the training-loss curve of a run's best experiment, kept in
// the store (CurveStore) so that a restart compares against it.
type BestCurve struct {
	RunID  int64
	Number int     // the experiment whose curve it is
	ValBPB float64 // that experiment's val_bpb (relates loss to val_bpb units)
	Points []CurvePoint
}

// Defaults of EarlyStop's fields (zero values take them).
const (
	DefaultEarlyStopWarmup    = 0.2
	DefaultEarlyStopWarmdown  = 0.2
	DefaultEarlyStopSigmas    = 3
	DefaultEarlyStopMinMargin = 0.01
	DefaultEarlyStopPatience  = 0.02
	DefaultEarlyStopTrend     = 0.1
)

// EarlyStop configures early stopping; the zero value is off.
type EarlyStop struct {
	Enabled bool
	// Warmup is the fraction of the budget before which nothing is
	// stopped (early losses say little); Warmdown the final fraction
	// during which nothing is stopped (the run is nearly paid for).
	Warmup, Warmdown float64
	// The margin is Sigmas × the run's val_bpb noise floor, in loss units
	// (scaled by the best run's final loss / val_bpb), and at least
	// MinMargin × the best's loss at that point: identical baseline runs
	// can show no noise at all, and training loss wobbles more than val_bpb.
	Sigmas, MinMargin float64
	// Patience: the training must be worse than the margin at every point
	// of the last Patience fraction of the budget, so one spike stops
	// nothing.
	Patience float64
	// Trend: when the gap to the best shrank over the last Trend fraction
	// fast enough that, continued, it falls within the margin by the end,
	// the training is a late bloomer in the making and goes on (negative:
	// no trend check).
	Trend float64
}

// withDefaults fills the zero fields.
func (es EarlyStop) withDefaults() EarlyStop {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&es.Warmup, DefaultEarlyStopWarmup)
	def(&es.Warmdown, DefaultEarlyStopWarmdown)
	def(&es.Sigmas, DefaultEarlyStopSigmas)
	def(&es.MinMargin, DefaultEarlyStopMinMargin)
	def(&es.Patience, DefaultEarlyStopPatience)
	def(&es.Trend, DefaultEarlyStopTrend)
	return es
}

// Validate refuses settings that leave no window to stop in or make no
// sense, saying which.
func (es EarlyStop) Validate() error {
	es = es.withDefaults()
	switch {
	case !(es.Warmup > 0 && es.Warmup < 1):
		return fmt.Errorf("early-stop warmup %g must be a fraction of the budget between 0 and 1 (e.g. 0.2)", es.Warmup)
	case !(es.Warmdown > 0 && es.Warmdown < 1):
		return fmt.Errorf("early-stop warmdown %g must be a fraction of the budget between 0 and 1 (e.g. 0.2)", es.Warmdown)
	case es.Warmup+es.Warmdown >= 1:
		return fmt.Errorf("early-stop warmup %g and warmdown %g leave no part of the budget in which to stop (their sum must be below 1)", es.Warmup, es.Warmdown)
	case !(es.Sigmas >= 0) || !(es.MinMargin >= 0) || !(es.Patience >= 0):
		return errors.New("early-stop sigmas, margin and patience must not be negative")
	}
	return nil
}

// StopDecision is the outcome of EarlyStop.Decide.
type StopDecision struct {
	Stop     bool
	Percent  float64 // where the training was
	Loss     float64 // its loss there
	BestLoss float64 // the best curve's loss at the same percent
	Margin   float64 // how much worse it had to be
	Why      string  // why it goes on (for tests and logs); "" when stopped
}

// Reason is the experiment's reason when it was stopped, e.g.
// "stopped early at 62%: loss 3.41 vs best 3.30 (#4, margin 0.033)".
func (d StopDecision) Reason(bestNumber int) string {
	loss, best := lossPair(d.Loss, d.BestLoss)
	s := fmt.Sprintf("%s at %.0f%%: loss %s vs best %s (", ReasonStoppedEarly, math.Floor(d.Percent), loss, best)
	if bestNumber > 0 {
		s += fmt.Sprintf("#%d, ", bestNumber)
	}
	return s + fmt.Sprintf("margin %.3g)", d.Margin)
}

// ReasonStoppedEarly starts the reason of an experiment early stopping ended.
const ReasonStoppedEarly = "stopped early"

// WasStoppedEarly reports whether early stopping ended e (a discard whose
// change was never trained to the end: `retry N` trains it fully).
func WasStoppedEarly(e Experiment) bool {
	return e.Status == StatusDiscard && len(e.Reason) >= len(ReasonStoppedEarly) && e.Reason[:len(ReasonStoppedEarly)] == ReasonStoppedEarly
}

// lossPair formats two losses with the fewest decimals (2 to 6) that tell
// them apart.
func lossPair(a, b float64) (string, string) {
	for d := 2; d < 6; d++ {
		x, y := fmt.Sprintf("%.*f", d, a), fmt.Sprintf("%.*f", d, b)
		if x != y {
			return x, y
		}
	}
	return fmt.Sprintf("%.6f", a), fmt.Sprintf("%.6f", b)
}

// Decide tells whether a training whose curve so far is now (ascending
// percent; the last point is the latest) should be stopped, against the
// best run's curve and the run's val_bpb noise floor (1σ; 0 if unknown).
// It is pure: the same curves always give the same answer.
func (es EarlyStop) Decide(best BestCurve, now []CurvePoint, noise float64) StopDecision {
	es = es.withDefaults()
	if len(now) == 0 {
		return StopDecision{Why: "no progress yet"}
	}
	cur := now[len(now)-1]
	d := StopDecision{Percent: cur.Percent, Loss: cur.Loss}
	switch {
	case cur.Percent < es.Warmup*100:
		d.Why = "warmup"
		return d
	case cur.Percent > (1-es.Warmdown)*100:
		d.Why = "warmdown"
		return d
	}
	bl, ok := curveAt(best.Points, cur.Percent)
	if !ok {
		d.Why = "the best curve does not reach this point"
		return d
	}
	d.BestLoss = bl
	d.Margin = es.margin(best, noise, bl)
	if cur.Loss-bl <= d.Margin {
		d.Why = "within the margin"
		return d
	}
	// Patience: worse than the margin all through the last stretch.
	from := cur.Percent - es.Patience*100
	if now[0].Percent > from {
		d.Why = "not enough of the curve yet"
		return d
	}
	for i := len(now) - 2; i >= 0 && now[i].Percent >= from; i-- {
		b, ok := curveAt(best.Points, now[i].Percent)
		if !ok || now[i].Loss-b <= es.margin(best, noise, b) {
			d.Why = "not worse for long enough"
			return d
		}
	}
	// Trend: a gap closing fast enough to be within the margin by the end
	// is a late bloomer's.
	if es.Trend > 0 {
		then := cur.Percent - es.Trend*100
		lThen, okNow := curveAt(now, then)
		bThen, okBest := curveAt(best.Points, then)
		if !okNow || !okBest {
			d.Why = "not enough of the curve for its trend yet"
			return d
		}
		gap, gapThen := cur.Loss-bl, lThen-bThen
		slope := (gap - gapThen) / (es.Trend * 100)
		if slope < 0 {
			if projected := gap + slope*(100-cur.Percent); projected <= d.Margin {
				d.Why = fmt.Sprintf("closing in on the best (gap %.3g now, %.3g projected at the end)", gap, projected)
				return d
			}
		}
	}
	d.Stop = true
	return d
}

// margin is how much worse than the best's loss bl a training may be:
// the noise floor in loss units, at least MinMargin of bl.
func (es EarlyStop) margin(best BestCurve, noise, bl float64) float64 {
	m := es.MinMargin * bl
	if noise > 0 && best.ValBPB > 0 && len(best.Points) > 0 {
		lossPerBPB := best.Points[len(best.Points)-1].Loss / best.ValBPB
		m = max(m, es.Sigmas*noise*lossPerBPB)
	}
	return m
}

// curveAt is the loss of curve at percent, linearly interpolated between
// its points; false outside the curve.
func curveAt(curve []CurvePoint, percent float64) (float64, bool) {
	n := len(curve)
	if n == 0 || percent < curve[0].Percent || percent > curve[n-1].Percent {
		return 0, false
	}
	lo, hi := 0, n-1
	for hi-lo > 1 { // the last point at or below percent
		mid := (lo + hi) / 2
		if curve[mid].Percent <= percent {
			lo = mid
		} else {
			hi = mid
		}
	}
	a, b := curve[lo], curve[hi]
	if percent <= a.Percent || b.Percent <= a.Percent {
		return a.Loss, true
	}
	if percent >= b.Percent {
		return b.Loss, true
	}
	return a.Loss + (b.Loss-a.Loss)*(percent-a.Percent)/(b.Percent-a.Percent), true
}

// curveSpacing is the least distance (percent of the budget) between kept
// points of a recorded curve: at most ~400 points whatever the budget.
const curveSpacing = 0.25

// addPoint appends the progress p to curve, which stays ascending and
// bounded: the last point is always the latest; the others are at least
// curveSpacing apart (a last point too close to the one before is replaced
// by the next). Lines without a percent or a finite positive loss,
// and percents that went backwards, are skipped; ok tells whether p was
// taken.
func addPoint(curve []CurvePoint, p Progress) (_ []CurvePoint, ok bool) {
	if !(p.Percent > 0) || !(p.Loss > 0) || math.IsInf(p.Loss, 0) {
		return curve, false
	}
	pt := CurvePoint{Percent: p.Percent, Loss: p.Loss}
	n := len(curve)
	switch {
	case n > 0 && p.Percent < curve[n-1].Percent:
		return curve, false
	case n > 0 && p.Percent == curve[n-1].Percent:
		curve[n-1] = pt
	case n >= 2 && curve[n-1].Percent-curve[n-2].Percent < curveSpacing:
		curve[n-1] = pt // the last point was not settled yet: the latest replaces it
	default:
		curve = append(curve, pt)
	}
	return curve, true
}
