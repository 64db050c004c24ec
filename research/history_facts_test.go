package research

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestHistoryFacts covers the one definition of a run's baseline, best,
// noise floor and counts, row by row.
func TestHistoryFacts(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	exp := func(n int, desc, status string, val float64) Experiment {
		return Experiment{Number: n, Kind: testKind(desc), Description: desc, Status: status, Summary: Summary{ValBPB: val},
			FinishedAt: t0.Add(time.Duration(n) * time.Hour), Diff: "diff", LogTail: "tail"}
	}
	running := func(n int, desc string) Experiment {
		return Experiment{Number: n, Kind: testKind(desc), Description: desc, Status: StatusRunning}
	}
	type want struct {
		baseline      int // Number, 0 = none
		baselineValue float64
		best          int
		bestValue     float64
		bestNumbers   []int
		noise         float64
		counts        Counts
		lastFinished  int
		kept          []Keep // FinishedAt not compared
	}
	cases := []struct {
		name string
		exps []Experiment
		want want
	}{
		{name: "empty", want: want{}},
		{name: "only running", exps: []Experiment{running(1, "baseline")},
			want: want{counts: Counts{Running: 1}}},
		{name: "baseline alone", exps: []Experiment{exp(1, "baseline", StatusKeep, 1.0)},
			want: want{baseline: 1, baselineValue: 1.0, best: 1, bestValue: 1.0, bestNumbers: []int{1},
				counts: Counts{Keep: 1}, lastFinished: 1, kept: []Keep{{Number: 1, Value: 1.0}}}},
		{name: "repeats make the best their mean and give the noise",
			exps: []Experiment{
				exp(1, "baseline", StatusKeep, 1.00),
				exp(2, "baseline (repeat 1/2)", StatusDiscard, 1.02),
				exp(3, "baseline (repeat 2/2)", StatusCrash, 0),
			},
			want: want{baseline: 1, baselineValue: 1.01, best: 1, bestValue: 1.01, bestNumbers: []int{1, 2},
				noise: math.Sqrt(0.0002), counts: Counts{Keep: 1, Repeats: 1, Crash: 1}, lastFinished: 3,
				kept: []Keep{{Number: 1, Value: 1.01}}}},
		{name: "a crashed baseline: the first result is the best but no baseline",
			exps: []Experiment{
				exp(1, "baseline", StatusCrash, 0),
				exp(2, "lr up", StatusKeep, 0.99),
			},
			want: want{best: 2, bestValue: 0.99, bestNumbers: []int{2}, counts: Counts{Keep: 1, Crash: 1}, lastFinished: 2,
				kept: []Keep{{Number: 2, Value: 0.99}}}},
		{name: "a confirmed keep is the mean of its two runs",
			exps: []Experiment{
				exp(1, "baseline", StatusKeep, 1.00),
				exp(2, "depth 12", StatusDiscard, 0.990), // within noise: rerun
				exp(3, "confirm #2: depth 12", StatusKeep, 0.994),
				exp(4, "width", StatusDiscard, 0.995),
				running(5, "lr"),
			},
			want: want{baseline: 1, baselineValue: 1.0, best: 3, bestValue: 0.992, bestNumbers: []int{2, 3},
				counts: Counts{Keep: 2, Discard: 2, Running: 1}, lastFinished: 4,
				kept: []Keep{{Number: 1, Value: 1.0}, {Number: 3, Value: 0.992, Before: 1.0}}}},
		{name: "a keep that does not beat the best stays kept but is not the best",
			exps: []Experiment{
				exp(1, "baseline", StatusKeep, 1.00),
				exp(2, "steps", StatusKeep, 0.98),
				exp(3, "adopted stale winner", StatusKeep, 0.985),
			},
			want: want{baseline: 1, baselineValue: 1.0, best: 2, bestValue: 0.98, bestNumbers: []int{2},
				counts: Counts{Keep: 3}, lastFinished: 3,
				kept: []Keep{{Number: 1, Value: 1.0}, {Number: 2, Value: 0.98, Before: 1.0}, {Number: 3, Value: 0.985, Before: 0.98}}}},
		{name: "the kind decides, not the description",
			exps: []Experiment{
				{Number: 1, Kind: KindBaseline, Description: "measure the branch", Status: StatusKeep, Summary: Summary{ValBPB: 1.0}},
				{Number: 2, Kind: KindProposal, Description: "baseline", Status: StatusKeep, Summary: Summary{ValBPB: 0.99}},
			},
			want: want{baseline: 1, baselineValue: 1.0, best: 2, bestValue: 0.99, bestNumbers: []int{2},
				counts: Counts{Keep: 2}, lastFinished: 2,
				kept: []Keep{{Number: 1, Value: 1.0}, {Number: 2, Value: 0.99, Before: 1.0}}}},
		{name: "NaN and zero values are no result",
			exps: []Experiment{
				exp(1, "baseline", StatusKeep, math.NaN()),
				exp(2, "x", StatusDiscard, 0),
			},
			want: want{counts: Counts{Keep: 1, Discard: 1}, lastFinished: 2}},
	}
	num := func(e *Experiment) int {
		if e == nil {
			return 0
		}
		return e.Number
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := NewHistory(c.exps)
			w := c.want
			if num(h.Baseline) != w.baseline || !near(h.BaselineValue, w.baselineValue) {
				t.Errorf("baseline #%d %v, want #%d %v", num(h.Baseline), h.BaselineValue, w.baseline, w.baselineValue)
			}
			if num(h.Best) != w.best || !near(h.BestValue, w.bestValue) || !reflect.DeepEqual(h.BestNumbers, w.bestNumbers) {
				t.Errorf("best #%d %v of %v, want #%d %v of %v", num(h.Best), h.BestValue, h.BestNumbers, w.best, w.bestValue, w.bestNumbers)
			}
			if !near(h.Noise, w.noise) {
				t.Errorf("noise %v, want %v", h.Noise, w.noise)
			}
			if h.Counts != w.counts {
				t.Errorf("counts %+v, want %+v", h.Counts, w.counts)
			}
			if num(h.LastFinished) != w.lastFinished {
				t.Errorf("last finished #%d, want #%d", num(h.LastFinished), w.lastFinished)
			}
			var kept []Keep
			for _, k := range h.Kept {
				k.FinishedAt = time.Time{}
				k.Value, k.Before = math.Round(k.Value*1e9)/1e9, math.Round(k.Before*1e9)/1e9
				kept = append(kept, k)
			}
			if !reflect.DeepEqual(kept, w.kept) {
				t.Errorf("kept %+v, want %+v", kept, w.kept)
			}
			for _, e := range []*Experiment{h.Baseline, h.Best, h.LastFinished} {
				if e != nil && (e.Diff != "" || e.LogTail != "") {
					t.Errorf("#%d keeps its diff or log tail", e.Number)
				}
			}
		})
	}
}

// TestHistoryBestBefore: the best as it stood at a moment, for the digest.
func TestHistoryBestBefore(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	h := NewHistory([]Experiment{
		{Number: 1, Kind: KindBaseline, Description: "baseline", Status: StatusKeep, Summary: Summary{ValBPB: 1.0}, FinishedAt: at(1)},
		{Number: 2, Description: "a", Status: StatusKeep, Summary: Summary{ValBPB: 0.99}, FinishedAt: at(3)},
		{Number: 3, Description: "b", Status: StatusKeep, Summary: Summary{ValBPB: 0.98}, FinishedAt: at(5)},
	})
	for _, c := range []struct {
		at   time.Time
		want float64
	}{{at(0), 0}, {at(1), 0}, {at(2), 1.0}, {at(4), 0.99}, {at(9), 0.98}} {
		if got := h.BestBefore(c.at); got != c.want {
			t.Errorf("best before %s: %v, want %v", c.at.Format("15:04"), got, c.want)
		}
	}
}

// TestHistoryFinish: a row added while running and then finished counts
// once, under its final status.
func TestHistoryFinish(t *testing.T) {
	var h History
	r := Experiment{Number: 1, Kind: KindBaseline, Description: "baseline", Status: StatusRunning}
	h.Add(r)
	f := r
	f.Status, f.Summary.ValBPB = StatusKeep, 1.0
	h.Finish(r, f)
	if h.Counts != (Counts{Keep: 1}) || h.Best == nil || h.Kinds[KindBaseline] != 1 || len(h.Kinds) != 1 {
		t.Errorf("counts %+v, best %v, kinds %v: want one kept baseline", h.Counts, h.Best, h.Kinds)
	}
}

// testKind is the kind the loop gives an experiment it describes so.
func testKind(desc string) Kind {
	switch {
	case desc == "baseline":
		return KindBaseline
	case strings.HasPrefix(desc, "baseline (repeat "):
		return KindBaselineRepeat
	case strings.HasPrefix(desc, "confirm #"):
		return KindConfirmation
	}
	return KindProposal
}
