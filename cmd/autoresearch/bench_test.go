package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research/bench"
)

// TestBenchTiny runs the whole bench with tiny parameters and checks the
// report's structure and that its figures are sane; speed targets are the
// bench's business, not the test's.
//
// In parallel with the other tests: they distort the memory and timings it
// reads, which the test only checks for sanity. (Trainers it saw end by a
// signal were killed by another test's loop ending: trainer.EndUnder.)
func TestBenchTiny(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs three small research loops")
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"bench", "--train", "300ms", "--latency", "100ms", "--experiments", "4", "--venv-files", "200", "--json",
		"--history-sizes", "5,40", "--history-experiments", "3", "--landscape", "0", "--no-conflict",
		"--bigtree-tracked", "40", "--bigtree-untracked", "90", "--bigtree-experiments", "3", "--bigtree-train", "100ms"},
		strings.NewReader(""), &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the --json output does not parse: %v\n%s", err, out.String())
	}
	if rep.Params.Train != 300*time.Millisecond || rep.Params.SlotsLatency != 10*time.Millisecond || rep.Params.Slots != 4 {
		t.Errorf("params = %+v", rep.Params)
	}
	// The history scenario: a run resumed at 5 and at 40 experiments.
	if h := rep.History; len(h.Stages) != 2 || h.Stages[0].N != 5 || h.Stages[1].N != 40 {
		t.Errorf("history stages: %+v", h.Stages)
	} else {
		for _, st := range h.Stages {
			if st.Ran != 3 || st.Cycle.N != 2 || st.Cycle.P50 <= 0 || st.Resume <= 0 || st.Results <= 0 || st.Digest <= 0 ||
				(st.Memory.ProcAvailable && st.Memory.RSSBytes == 0) {
				t.Errorf("history at %d: %+v", st.N, st)
			}
		}
	}
	// The big-tree scenario: the harness and the git-CLI loop (twice) on
	// one repository, each gap measured.
	if bt := rep.BigTree; bt.Harness.Experiments != 3 || bt.Shell.Experiments != 6 || bt.Harness.Gap.N != 1 || bt.Shell.Gap.N != 2 ||
		bt.Harness.Own.P50 <= 0 || bt.Shell.Own.P50 <= 0 || bt.Shell.Keep == 0 || bt.Shell.Keep == 6 {
		t.Errorf("big tree: %+v", bt)
	}
	wantRuns := []struct {
		name     string
		slots    int
		pipeline bool
		exps     int
	}{{"sequential", 1, false, 4}, {"pipelined", 1, true, 4}, {"4-slots", 4, true, 13}}
	if len(rep.Runs) != len(wantRuns) {
		t.Fatalf("%d runs, want %d", len(rep.Runs), len(wantRuns))
	}
	for i, w := range wantRuns {
		r := rep.Runs[i]
		f := r.Figures
		if r.Name != w.name || r.Slots != w.slots || r.Pipeline != w.pipeline {
			t.Errorf("run %d = %s/%d/%v, want %+v", i, r.Name, r.Slots, r.Pipeline, w)
		}
		if f.Experiments != w.exps || r.Keep+r.Discard+r.Crash != w.exps || r.Crash != 0 || r.Keep == 0 {
			t.Errorf("%s: %d training runs, keep/discard/crash %d/%d/%d, want %d without crashes", r.Name, f.Experiments, r.Keep, r.Discard, r.Crash, w.exps)
		}
		if f.Stamped != f.Experiments {
			t.Errorf("%s: %d of %d trainers left their timestamps", r.Name, f.Stamped, f.Experiments)
		}
		for name, v := range map[string]float64{"occupancy": f.Occupancy, "run occupancy": f.RunOccupancy} {
			if !(v > 0 && v <= 1) {
				t.Errorf("%s: %s = %v, want in (0, 1]", r.Name, name, v)
			}
		}
		if f.ExpPerHour <= 0 || f.WindowExpPerHour <= 0 {
			t.Errorf("%s: exp/hour %v (window %v)", r.Name, f.ExpPerHour, f.WindowExpPerHour)
		}
		// Every transition after the baseline is measured: per slot, one
		// fewer than its runs; the transition out of the baseline is left out.
		slotsUsed := map[string]bool{}
		for _, s := range r.Spans {
			slotsUsed[s.Slot] = true
			if !s.Stamped() || s.Busy() < 300*time.Millisecond || s.ExitCode != 0 {
				t.Errorf("%s: span %+v", r.Name, s)
			}
		}
		if len(slotsUsed) != w.slots && w.slots == 1 {
			t.Errorf("%s: trained on %v", r.Name, slotsUsed)
		}
		transitions := f.Experiments - len(slotsUsed) - 1
		if f.Transitions != transitions || f.ProcessGap.N != transitions || f.HarnessGap.N != transitions {
			t.Errorf("%s: %d transitions, %d process gaps, %d harness gaps; want %d", r.Name, f.Transitions, f.ProcessGap.N, f.HarnessGap.N, transitions)
		}
		if f.ProcessGap.P50 <= 0 || f.ProcessGap.P95 < f.ProcessGap.P50 || f.HarnessGap.P50 < 0 || f.HarnessGap.P50 > f.ProcessGap.P50 {
			t.Errorf("%s: gaps %+v (harness %+v)", r.Name, f.ProcessGap, f.HarnessGap)
		}
		// Every experiment but the baseline is the model's proposal, except
		// that a stale winner adopted with several slots queues a retry of
		// the change it lacks, which asks the model nothing.
		if w.slots == 1 && r.Retries != 0 {
			t.Errorf("%s: %d retries on one slot", r.Name, r.Retries)
		}
		if r.Proposed+r.Retries != w.exps-1 || r.LLM.Conversations < r.Proposed || r.LLM.Unanswerable != 0 {
			t.Errorf("%s: fake LLM served %+v for %d proposals and %d retries of %d experiments", r.Name, r.LLM, r.Proposed, r.Retries, w.exps)
		}
	}
	// Sequential: the proposal happens between two trainings, so each gap
	// holds at least the model's latency.
	if g := rep.Runs[0].Figures.ProcessGap.P50; g < 100*time.Millisecond {
		t.Errorf("sequential gap p50 %s is shorter than the LLM latency", g)
	}
	if rep.Memory.RSSBytes <= 0 || rep.Memory.HWMBytes < rep.Memory.RSSBytes || rep.Memory.HeapInuse == 0 {
		t.Errorf("memory = %+v", rep.Memory)
	}
	targets := 0
	for _, f := range rep.Figures {
		switch f.Result {
		case "PASS", "MISS":
			targets++
			if f.Target == "" {
				t.Errorf("figure %q has a result but no target", f.Name)
			}
		case "info":
		default:
			t.Errorf("figure %q: result %q", f.Name, f.Result)
		}
	}
	// Occupancy is judged only at L <= T/3, which holds here: four targets,
	// three of the history scenario (scaling, memory, commands) and the
	// big tree's gap.
	if targets != 4+3+1 {
		t.Errorf("%d figures with a target, want 8: %+v", targets, rep.Figures)
	}

	// The table shows every figure and says MISS plainly.
	var table bytes.Buffer
	rep.Print(&table)
	text := table.String()
	for _, f := range rep.Figures {
		if !strings.Contains(text, f.Name) {
			t.Errorf("table lacks %q:\n%s", f.Name, text)
		}
	}
	for _, want := range []string{"sequential", "pipelined", "4-slots", "figure", "target", "result"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if rep.Misses > 0 != strings.Contains(text, "MISS:") {
		t.Errorf("%d misses but the summary line disagrees:\n%s", rep.Misses, text)
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--experiments", "1"},
		{"--train", "0s"},
		{"--slots", "1"},
		{"--latency", "-1s"},
		{"--history-sizes", "1000,10"},
		{"--history-sizes", "1"},
		{"--history-only", "--history-sizes", "0"},
		{"--history-experiments", "2"},
		{"stray"},
	} {
		var out, errOut bytes.Buffer
		code := Main(append([]string{"bench"}, args...), strings.NewReader(""), &out, &errOut)
		if code != exitUsage || errOut.Len() == 0 {
			t.Errorf("bench %v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

func TestBenchConflictFlagsExcludeEachOther(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--conflict-only", "--history-only"},
		{"--conflict-only", "--no-conflict"},
	} {
		var out, errOut bytes.Buffer
		code := Main(append([]string{"bench"}, args...), strings.NewReader(""), &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), "exclude each other") {
			t.Errorf("bench %v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

// TestBenchOnlyFlagsLeaveOneScenario: each --X-only switches the other
// scenarios off in the parameters handed to research/bench (the scenarios
// themselves are tested there); parsing starts nothing.
func TestBenchOnlyFlagsLeaveOneScenario(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want func(p bench.Params) bool
	}{
		{[]string{"--landscape-only", "--landscape", "5"}, func(p bench.Params) bool {
			return p.HistoryOnly && len(p.HistorySizes) == 0 && p.BigTree.Experiments == 0 && p.Landscape == 5
		}},
		{[]string{"--history-only"}, func(p bench.Params) bool {
			return p.Landscape == 0 && p.BigTree.Experiments == 0 && len(p.HistorySizes) == 3
		}},
		{[]string{"--conflict-only"}, func(p bench.Params) bool {
			return len(p.HistorySizes) == 0 && p.Landscape == 0 && p.BigTree.Experiments == 0
		}},
		{[]string{"--bigtree-only"}, func(p bench.Params) bool {
			return p.Landscape == 0 && p.BigTree.Experiments == 12 && len(p.HistorySizes) == 3
		}},
		{[]string{"--train", "3s"}, func(p bench.Params) bool {
			return p.SlotsLatency == 100*time.Millisecond && p.Landscape == 24 && p.BigTree.Experiments == 12 && len(p.HistorySizes) == 3
		}},
	} {
		var errOut bytes.Buffer
		o, err := parseBenchFlags(tc.args, IO{Out: io.Discard, Err: &errOut})
		if err != nil || !tc.want(o.params) {
			t.Errorf("bench %v: %v %s; params %+v", tc.args, err, errOut.String(), o.params)
		}
	}
}
