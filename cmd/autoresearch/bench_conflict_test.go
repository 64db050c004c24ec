package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchConflictTiny runs the conflict scenario with tiny parameters:
// both variants keep every experiment, the old one pays for the dropped
// proposals with extra model calls, and the report has the side-by-side
// lines. Occupancy targets are the bench's business, not the test's.
func TestBenchConflictTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two small research loops")
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"bench", "--conflict-only", "--train", "300ms", "--latency", "100ms", "--experiments", "4", "--venv-files", "200", "--json"},
		strings.NewReader(""), &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the --json output does not parse: %v\n%s", err, out.String())
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Name != conflictRun || rep.Runs[1].Name != droppedRun || len(rep.History.Stages) != 0 {
		t.Fatalf("runs: %+v; history %+v", rep.Runs, rep.History)
	}
	for _, r := range rep.Runs {
		if r.Keep != 4 || r.Figures.Experiments != 4 || r.Figures.Stamped != 4 {
			t.Errorf("%s: keep/discard/crash %d/%d/%d, %d training runs (%d stamped), want 4 kept", r.Name, r.Keep, r.Discard, r.Crash, r.Figures.Experiments, r.Figures.Stamped)
		}
		if !(r.Figures.Occupancy > 0 && r.Figures.Occupancy <= 1) {
			t.Errorf("%s: occupancy %v", r.Name, r.Figures.Occupancy)
		}
	}
	now, before := rep.Runs[0].LLM, rep.Runs[1].LLM
	// Trained on its base, each proposal is one experiment: one answer per
	// proposed experiment. Dropped, the conflicting ones are asked again.
	if now.Requests != 3 || before.Requests <= now.Requests {
		t.Errorf("model answers: %d now, %d before; want 3 now and more before", now.Requests, before.Requests)
	}
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "GPU occupancy, every prepared proposal conflicts") && (f.Target == "" || f.Result == "info") {
			t.Errorf("the conflict occupancy has no target: %+v", f)
		}
		if strings.Contains(f.Name, "LLM tokens per proposed experiment") && f.Value != 2060 {
			t.Errorf("tokens per experiment now = %v, want 2060 (one answer each)", f.Value)
		}
	}
	if len(rep.Figures) != 3 {
		t.Fatalf("figures: %q", names)
	}
	var table bytes.Buffer
	printBench(&table, rep)
	for _, want := range []string{conflictRun, droppedRun, "dropped and the model asked again", "trains on the commit it was written for"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestBenchConflictFlagsExcludeEachOther(t *testing.T) {
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
