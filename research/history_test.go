package research

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research/patch"
)

// The reference verdicts: what the loop computed from every stored row
// before the session kept a runHistory.

func refCounts(exps []Experiment) Counts {
	var c Counts
	for _, e := range exps {
		switch e.Status {
		case StatusKeep:
			c.Keep++
		case StatusDiscard:
			if RoleOf(e) == RoleBaselineRepeat {
				c.Repeats++
			} else {
				c.Discard++
			}
		case StatusCrash:
			c.Crash++
		case StatusRunning:
			c.Running++
		}
	}
	return c
}

func refBaselineValues(exps []Experiment) []float64 {
	var vals []float64
	for _, x := range exps {
		if x.Kind.IsBaseline() && x.Status != StatusCrash && x.Status != StatusRunning {
			vals = append(vals, x.Summary.ValBPB)
		}
	}
	return vals
}

func refRepeat(base, fp string, exps []Experiment) *Experiment {
	for _, e := range exps {
		if e.ParentCommit != base || e.Diff == "" || e.Attempt > 0 {
			continue
		}
		patches, err := patch.Parse(e.Diff)
		if err != nil {
			continue
		}
		if patch.Fingerprint(patches) == fp {
			return &e
		}
	}
	return nil
}

const trainSrc = "import os\nLR = 0.04\nDEPTH = 8\nWIDTH = 512\nSTEPS = 100\nprint('train')\n"

// change is the diff of setting one line of trainSrc, with its
// fingerprint; spaced writes the same change with other whitespace.
func change(old, new string, spaced bool) (diff, fp string) {
	after := strings.Replace(trainSrc, old, new, 1)
	if spaced {
		after = strings.Replace(trainSrc, old, strings.ReplaceAll(new, " = ", "   =  "), 1)
	}
	p := patch.Diff("train.py", trainSrc, after, 3)
	return p.String(), patch.Fingerprint([]patch.FilePatch{p})
}

type histStep struct {
	kind                                   Kind
	desc, status, parent, diffOld, diffNew string
	val                                    float64
	attempt                                int
	spaced                                 bool
}

// TestRunHistoryMatchesRecomputing checks, after every start and finish,
// that the incremental history gives the verdicts the loop used to
// recompute from all rows: best, counts, baseline values, status facts and
// the repeat check, for bases indexed before and after their rows arrive.
func TestRunHistoryMatchesRecomputing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestStore(t, filepath.Join(t.TempDir(), "state", "autoresearch.db"))
	run, err := db.CreateRun(ctx, Run{Tag: "hist", Branch: "autoresearch/hist", State: RunActive})
	if err != nil {
		t.Fatal(err)
	}
	const a, b, c = "aaaaaaa", "bbbbbbb", "ccccccc"
	steps := []histStep{
		{kind: KindBaseline, desc: "baseline", status: StatusKeep, parent: a, val: 1.000},
		{kind: KindBaselineRepeat, desc: "baseline (repeat 1/2)", status: StatusCrash, parent: a},
		{kind: KindBaselineRepeat, desc: "baseline (repeat 2/2)", status: StatusDiscard, parent: a, val: 1.002},
		{kind: KindProposal, desc: "lr up", status: StatusDiscard, parent: a, val: 1.010, diffOld: "LR = 0.04", diffNew: "LR = 0.08"},
		{kind: KindFix, desc: "lr up, fixed", status: StatusCrash, parent: a, attempt: 1, diffOld: "LR = 0.04", diffNew: "LR = 0.02"},
		{kind: KindProposal, desc: "depth", status: StatusKeep, parent: a, val: 0.990, diffOld: "DEPTH = 8", diffNew: "DEPTH = 12"},
		// From here on the history is already loaded: rows arrive incrementally.
		{kind: KindProposal, desc: "width on b", status: StatusDiscard, parent: b, val: 0.995, diffOld: "WIDTH = 512", diffNew: "WIDTH = 768"},
		{kind: KindProposal, desc: "same width, respaced", status: StatusDiscard, parent: b, val: 0.996, diffOld: "WIDTH = 512", diffNew: "WIDTH = 768", spaced: true},
		{kind: KindFix, desc: "lr down (a fix attempt)", status: StatusDiscard, parent: b, attempt: 1, val: 0.997, diffOld: "LR = 0.04", diffNew: "LR = 0.02"},
		{kind: KindProposal, desc: "steps", status: StatusKeep, parent: b, val: 0.980, diffOld: "STEPS = 100", diffNew: "STEPS = 200"},
		{kind: KindConfirmation, desc: "confirm #10: steps", status: StatusDiscard, parent: b, val: 0.985, diffOld: "STEPS = 100", diffNew: "STEPS = 200"},
		{kind: KindProposal, desc: "lr on c", status: StatusRunning, parent: c, diffOld: "LR = 0.04", diffNew: "LR = 0.05"},
	}
	const loadedAfter = 6
	var queries []struct{ base, fp string }
	for _, s := range steps {
		if s.diffOld != "" {
			for _, base := range []string{a, b, c} {
				_, fp := change(s.diffOld, s.diffNew, false)
				queries = append(queries, struct{ base, fp string }{base, fp})
			}
		}
	}
	queries = append(queries, struct{ base, fp string }{a, "no-such-fingerprint"})

	var h *runHistory
	check := func(when string) {
		t.Helper()
		all, err := db.Experiments(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := h.Counts(), refCounts(all); got != want {
			t.Errorf("%s: counts %+v, recomputed %+v", when, got, want)
		}
		if got, want := h.BaselineValues(), refBaselineValues(all); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: baseline values %v, recomputed %v", when, got, want)
		}
		gotBest, wantBest := h.Best(), NewHistory(all).Best
		if (gotBest == nil) != (wantBest == nil) || gotBest != nil && gotBest.Number != wantBest.Number {
			t.Errorf("%s: best %v, recomputed %v", when, gotBest, wantBest)
		}
		if h.Len() != len(all) {
			t.Errorf("%s: %d rows, store has %d", when, h.Len(), len(all))
		}
		for _, q := range queries {
			got, err := h.Repeat(ctx, q.base, q.fp)
			if err != nil {
				t.Fatal(err)
			}
			want := refRepeat(q.base, q.fp, all)
			if (got == nil) != (want == nil) || got != nil && (got.Number != want.Number || got.Status != want.Status) {
				t.Errorf("%s: repeat of %.8s on %s: %v, recomputed %v", when, q.fp, q.base, brief(got), brief(want))
			}
		}
	}
	for i, s := range steps {
		e := Experiment{RunID: run.ID, Kind: s.kind, ParentCommit: s.parent, Commit: fmt.Sprintf("%07d", i+1), Description: s.desc, Attempt: s.attempt}
		if s.diffOld != "" {
			e.Diff, _ = change(s.diffOld, s.diffNew, s.spaced)
		}
		e, err := db.StartExperiment(ctx, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h != nil {
			h.Record(e, 0)
			check(fmt.Sprintf("after starting #%d", e.Number))
		}
		if s.status != StatusRunning {
			e.Status, e.Summary.ValBPB = s.status, s.val
			if err := db.FinishExperiment(ctx, e, run); err != nil {
				t.Fatal(err)
			}
			if h != nil {
				h.Record(e, 0)
				check(fmt.Sprintf("after finishing #%d", e.Number))
			}
		}
		if i+1 == loadedAfter {
			if h, err = loadHistory(ctx, db, run.ID, 0); err != nil {
				t.Fatal(err)
			}
			// Index base a now, so that its later rows must be added
			// incrementally; b and c are indexed on first use later.
			if _, err := h.Repeat(ctx, a, "x"); err != nil {
				t.Fatal(err)
			}
			check("after loading")
		}
	}
	// A fresh load at the end agrees as well.
	if h, err = loadHistory(ctx, db, run.ID, 0); err != nil {
		t.Fatal(err)
	}
	check("after a reload")
	f := h.Facts()
	if best, baseline, counts, last := f.Best, f.Baseline, f.Counts, f.LastFinished; best == nil || best.Number != 10 || baseline == nil || baseline.Number != 1 ||
		counts.Running != 1 || last == nil || last.Number != 11 {
		t.Errorf("status facts: best %v, baseline %v, counts %+v, last finished %v; want #10, #1, 1 running, #11", brief(best), brief(baseline), counts, brief(last))
	}
	// The rows it holds carry no diffs or log tails.
	for _, e := range h.Snapshot() {
		if e.Diff != "" || e.LogTail != "" {
			t.Fatalf("#%d kept its diff or log tail in memory", e.Number)
		}
	}
}

func brief(e *Experiment) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("#%d %s", e.Number, e.Status)
}

// TestForProposalWindow: a short run's proposals see the whole history; a
// long one's see the recent window plus every keep, near miss and
// experiment on the base, and the rest is counted.
func TestForProposalWindow(t *testing.T) {
	t.Parallel()
	h := &runHistory{pos: map[int]int{}, onBase: map[string][]int{}, repeats: map[string]map[string]int{}}
	add := func(n int, parent, status string, val float64) {
		h.Record(Experiment{Number: n, ParentCommit: parent, Status: status, Summary: Summary{ValBPB: val}}, 0.001)
	}
	add(1, "base0", StatusKeep, 1.0)
	for n := 2; n <= promptWindow; n++ {
		add(n, "base0", StatusDiscard, 1.1)
	}
	all, omitted := h.ForProposal("base0")
	if len(all) != promptWindow || omitted != 0 {
		t.Fatalf("a run of %d: %d rows, %d omitted; want all of them", promptWindow, len(all), omitted)
	}
	// A long run: keeps and near misses early on, a base used early and again now.
	add(promptWindow+1, "base0", StatusDiscard, 1.0005) // near miss (within 2x noise)
	add(promptWindow+2, "base0", StatusKeep, 0.99)      // new best
	add(promptWindow+3, "early", StatusDiscard, 1.2)
	for n := promptWindow + 4; n <= 3*promptWindow; n++ {
		add(n, "mid", StatusDiscard, 1.3)
	}
	add(3*promptWindow+1, "early", StatusDiscard, 1.3)
	hist, omitted := h.ForProposal("early")
	want := map[int]bool{1: true, promptWindow + 1: true, promptWindow + 2: true, promptWindow + 3: true}
	n := 3*promptWindow + 1
	for i := n - promptWindow + 1; i <= n; i++ {
		want[i] = true
	}
	got := map[int]bool{}
	prev := 0
	for _, e := range hist {
		if e.Number <= prev {
			t.Fatalf("history out of order or repeated: #%d after #%d", e.Number, prev)
		}
		prev = e.Number
		got[e.Number] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("window holds %d rows, want %d (keeps, the near miss, the base's row, the last %d)", len(got), len(want), promptWindow)
	}
	if omitted != n-len(want) {
		t.Errorf("omitted %d, want %d", omitted, n-len(want))
	}
}
