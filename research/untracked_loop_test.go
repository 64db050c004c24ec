package research_test

import (
	"os"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

func TestTrainingThatDamagesUntrackedFilesIsReported(t *testing.T) {
	t.Parallel()
	hostile, err := os.ReadFile("testdata/hostile_untracked.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, appendCode(t, string(hostile), "tidies up"))
	run := h.runToEnd(t, research.StartRequest{Tag: "hostile"})
	exps := h.experiments(t, run)
	if len(exps) != 2 {
		t.Fatalf("experiments: %s (%s)", statuses(exps), reasons(exps))
	}
	want := "train.py deleted .venv/ (1 path); rewrote notes.txt"
	if exps[0].Notes != "" || exps[1].Notes != want {
		t.Fatalf("notes: baseline %q, #2 %q; want %q on #2", exps[0].Notes, exps[1].Notes, want)
	}
	var told bool
	for _, e := range h.rec.kinds(research.EventExperimentFinished) {
		told = told || e.Experiment.Number == 2 && e.Experiment.Notes == want
	}
	if !told {
		t.Error("the finished event does not carry the note")
	}
	// results.tsv is the harness's: neither reported nor left forged.
	if tsv := researchtest.Read(t, dir, "results.tsv"); strings.Contains(tsv, "forged") || strings.Count(tsv, "\n") != 3 {
		t.Errorf("results.tsv:\n%s", tsv)
	}
}
