package research

import (
	"math"
	"strings"
	"testing"
)

// bestLoss is the best run's curve in these tests: a loss falling from
// ~4.8 towards 3.3, as a language model's does.
func bestLoss(p float64) float64 { return 3.3 + 1.5*math.Exp(-p/20) }

// sampled samples loss over [from, to] percent every step percent.
func sampled(from, to, step float64, loss func(p float64) float64) []CurvePoint {
	var out []CurvePoint
	for p := from; p <= to+1e-9; p += step {
		out = append(out, CurvePoint{Percent: p, Loss: loss(p)})
	}
	return out
}

func TestEarlyStopDecide(t *testing.T) {
	best := BestCurve{Number: 4, ValBPB: 1.0, Points: sampled(1, 100, 1, bestLoss)}
	worseBy := func(gap float64) func(float64) float64 {
		return func(p float64) float64 { return bestLoss(p) + gap }
	}
	on := EarlyStop{Enabled: true}
	tests := []struct {
		name   string
		policy EarlyStop
		best   BestCurve
		now    []CurvePoint
		noise  float64
		stop   bool
		why    string // part of Why when it goes on
	}{
		{name: "clearly worse mid-run", policy: on, best: best, now: sampled(0.5, 50, 0.5, worseBy(0.2)), noise: 0.002, stop: true},
		{name: "clearly worse, noise unknown (relative margin)", policy: on, best: best, now: sampled(0.5, 50, 0.5, worseBy(0.2)), stop: true},
		{name: "during the warmup", policy: on, best: best, now: sampled(0.5, 19.5, 0.5, worseBy(0.5)), noise: 0.002, why: "warmup"},
		{name: "during the warmdown", policy: on, best: best, now: sampled(0.5, 85, 0.5, worseBy(0.5)), noise: 0.002, why: "warmdown"},
		{name: "longer warmup", policy: EarlyStop{Enabled: true, Warmup: 0.5}, best: best, now: sampled(0.5, 45, 0.5, worseBy(0.5)), why: "warmup"},
		{name: "longer warmdown", policy: EarlyStop{Enabled: true, Warmdown: 0.6}, best: best, now: sampled(0.5, 45, 0.5, worseBy(0.5)), why: "warmdown"},
		{name: "worse within the relative margin", policy: on, best: best, now: sampled(0.5, 50, 0.5, worseBy(0.02)), noise: 0.002, why: "within the margin"},
		{name: "worse within the noise margin", policy: on, best: best, now: sampled(0.5, 50, 0.5, worseBy(0.2)), noise: 0.05, why: "within the margin"},
		{name: "just past the noise margin", policy: on, best: best, now: sampled(0.5, 50, 0.5, worseBy(0.6)), noise: 0.05, stop: true},
		{name: "better than the best", policy: on, best: best, now: sampled(0.5, 60, 0.5, worseBy(-0.1)), noise: 0.002, why: "within the margin"},
		{name: "one spike is not enough", policy: on, best: best, noise: 0.002,
			now: append(sampled(0.5, 49.5, 0.5, bestLoss), CurvePoint{Percent: 50, Loss: bestLoss(50) + 0.4}), why: "not worse for long enough"},
		{name: "a late bloomer closing the gap", policy: on, best: best, noise: 0.002,
			now: sampled(0.5, 50, 0.5, func(p float64) float64 { return bestLoss(p) + 0.6*(1-p/70) }), why: "closing in"},
		{name: "a gap closing too slowly", policy: on, best: best, noise: 0.002,
			now: sampled(0.5, 50, 0.5, func(p float64) float64 { return bestLoss(p) + 0.4 - 0.002*p }), stop: true},
		{name: "no trend check", policy: EarlyStop{Enabled: true, Trend: -1}, best: best, noise: 0.002,
			now: sampled(0.5, 50, 0.5, func(p float64) float64 { return bestLoss(p) + 0.6*(1-p/70) }), stop: true},
		{name: "the best curve stops short", policy: on, best: BestCurve{Number: 4, ValBPB: 1, Points: sampled(1, 40, 1, bestLoss)},
			now: sampled(0.5, 50, 0.5, worseBy(0.5)), noise: 0.002, why: "does not reach"},
		{name: "no best curve", policy: on, now: sampled(0.5, 50, 0.5, worseBy(0.5)), why: "does not reach"},
		{name: "curve seen only since just now", policy: on, best: best, now: sampled(49.5, 50, 0.5, worseBy(0.5)), why: "not enough of the curve"},
		{name: "no progress", policy: on, best: best, why: "no progress"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.policy.Decide(tc.best, tc.now, tc.noise)
			if d.Stop != tc.stop {
				t.Fatalf("Decide: stop = %v (why %q, loss %.4f vs best %.4f, margin %.4f), want %v", d.Stop, d.Why, d.Loss, d.BestLoss, d.Margin, tc.stop)
			}
			if !tc.stop && !strings.Contains(d.Why, tc.why) {
				t.Errorf("Why = %q, want it to mention %q", d.Why, tc.why)
			}
			if tc.stop && (d.Loss-d.BestLoss <= d.Margin || d.Margin <= 0) {
				t.Errorf("stopped with loss %.4f vs best %.4f and margin %.4f", d.Loss, d.BestLoss, d.Margin)
			}
		})
	}
}

func TestEarlyStopMarginFromNoise(t *testing.T) {
	es := EarlyStop{Enabled: true}.withDefaults()
	best := BestCurve{ValBPB: 1.1, Points: []CurvePoint{{Percent: 10, Loss: 4}, {Percent: 100, Loss: 3.3}}}
	// 3σ of val_bpb noise, in loss units: 3 × 0.02 × 3.3/1.1.
	if got, want := es.margin(best, 0.02, 3.5), 3*0.02*3.3/1.1; math.Abs(got-want) > 1e-12 {
		t.Errorf("margin = %v, want %v", got, want)
	}
	// Below the floor: 1% of the best's loss there.
	if got, want := es.margin(best, 0.0001, 3.5), 0.035; math.Abs(got-want) > 1e-12 {
		t.Errorf("margin with tiny noise = %v, want %v", got, want)
	}
}

func TestStopDecisionReason(t *testing.T) {
	d := StopDecision{Stop: true, Percent: 62.7, Loss: 3.4123, BestLoss: 3.3012, Margin: 0.0331}
	if got, want := d.Reason(4), "stopped early at 62%: loss 3.41 vs best 3.30 (#4, margin 0.0331)"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	close := StopDecision{Percent: 40, Loss: 3.3031, BestLoss: 3.3012, Margin: 0.001}
	if got := close.Reason(0); !strings.Contains(got, "loss 3.303 vs best 3.301") {
		t.Errorf("Reason = %q: the losses must be told apart", got)
	}
	if !WasStoppedEarly(Experiment{Status: StatusDiscard, Reason: d.Reason(4)}) {
		t.Error("WasStoppedEarly is false for its own reason")
	}
	if WasStoppedEarly(Experiment{Status: StatusCrash, Reason: ReasonStopped}) {
		t.Error("a stop is not an early stop")
	}
}

func TestEarlyStopValidate(t *testing.T) {
	for _, tc := range []struct {
		es   EarlyStop
		want string
	}{
		{EarlyStop{Warmup: 0.2, Warmdown: 0.2}, ""},
		{EarlyStop{}, ""}, // the defaults
		{EarlyStop{Warmup: 1.5}, "warmup 1.5"},
		{EarlyStop{Warmup: -0.1}, "warmup -0.1"},
		{EarlyStop{Warmdown: 1}, "warmdown 1"},
		{EarlyStop{Warmup: 0.6, Warmdown: 0.4}, "no part of the budget"},
	} {
		err := tc.es.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.es, err, tc.want)
		}
	}
}

func TestAddPointKeepsTheCurveBounded(t *testing.T) {
	var curve []CurvePoint
	for step := 0; step <= 100000; step++ {
		curve, _ = addPoint(curve, Progress{Percent: float64(step) / 1000, Loss: 5 - float64(step)/50000})
	}
	if len(curve) > 100/curveSpacing+2 {
		t.Fatalf("%d points kept for 100001 progress lines", len(curve))
	}
	if last := curve[len(curve)-1]; last.Percent != 100 || last.Loss != 3 {
		t.Errorf("last point %+v, want the latest (100%%, 3)", last)
	}
	for i := 1; i < len(curve)-1; i++ {
		if curve[i].Percent-curve[i-1].Percent < curveSpacing {
			t.Fatalf("points %d and %d are %.3f apart", i-1, i, curve[i].Percent-curve[i-1].Percent)
		}
	}
	n := len(curve)
	for _, p := range []Progress{{Percent: 0, Loss: 3}, {Percent: 50, Loss: 3}, {Percent: 100, Loss: math.NaN()}, {Percent: 100, Loss: math.Inf(1)}, {Percent: 100}} {
		var ok bool
		if curve, ok = addPoint(curve, p); ok {
			t.Errorf("addPoint took %+v", p)
		}
	}
	if len(curve) != n {
		t.Errorf("skipped lines changed the curve")
	}
}

func TestCurveAt(t *testing.T) {
	c := []CurvePoint{{Percent: 10, Loss: 4}, {Percent: 20, Loss: 3}, {Percent: 40, Loss: 2}}
	for _, tc := range []struct {
		p    float64
		want float64
		ok   bool
	}{{10, 4, true}, {15, 3.5, true}, {30, 2.5, true}, {40, 2, true}, {9, 0, false}, {41, 0, false}} {
		got, ok := curveAt(c, tc.p)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("curveAt(%v) = %v, %v; want %v, %v", tc.p, got, ok, tc.want, tc.ok)
		}
	}
}
