package bench

import (
	"math"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// curveOf samples a shape's loss curve as the simulated trainer prints it.
func curveOf(c CurveShape, steps int) []research.CurvePoint {
	var out []research.CurvePoint
	for s := 1; s <= steps; s++ {
		p := 100 * float64(s) / float64(steps)
		out = append(out, research.CurvePoint{Percent: p, Loss: 3.3 + 1.5*math.Exp(-p/20) + c.Gap(p)})
	}
	return out
}

// TestLandscapeDecisions drives the real decision over the landscape's
// curves against the baseline's, point by point as a training prints
// them: no shape that finishes better than the baseline is stopped, and
// most of the just-worse ones are.
func TestLandscapeDecisions(t *testing.T) {
	shapes := NewLandscape(400, 1)
	base := research.BestCurve{Number: 1, ValBPB: 1, Points: curveOf(CurveShape{Tau: 30}, 50)}
	es := research.EarlyStop{Enabled: true}
	counts := map[string][2]int{} // kind -> stopped, total
	for _, c := range shapes {
		now := curveOf(c, 50)
		stopped := false
		for i := range now {
			if es.Decide(base, now[:i+1], 0).Stop {
				stopped = true
				break
			}
		}
		n := counts[c.Kind]
		n[1]++
		if stopped {
			n[0]++
			if c.ValBPB() < 1 {
				t.Errorf("%+v finishes better than the baseline (%.4f) but was stopped", c, c.ValBPB())
			}
		}
		counts[c.Kind] = n
	}
	for kind, n := range counts {
		t.Logf("%-12s stopped %3d of %3d", kind, n[0], n[1])
	}
	if w := counts[ShapeWorse]; w[0] < w[1]*3/4 {
		t.Errorf("only %d of %d just-worse shapes stopped", w[0], w[1])
	}
	if counts[ShapeLateBloomer][1] == 0 {
		t.Error("the landscape has no late bloomers")
	}
}

func TestLandscapeShapesEndWhereTheySay(t *testing.T) {
	for _, c := range NewLandscape(50, 3) {
		if math.Abs(c.Gap(0)-c.GapStart) > 1e-9 || math.Abs(c.Gap(100)-c.GapEnd) > 1e-9 {
			t.Fatalf("%+v: gap(0)=%v gap(100)=%v", c, c.Gap(0), c.Gap(100))
		}
		if c.Kind == ShapeLateBloomer && (c.GapStart <= 0 || c.GapEnd >= 0) {
			t.Fatalf("late bloomer %+v does not start worse and end better", c)
		}
	}
}
