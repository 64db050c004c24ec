package research_test

import (
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// train.py prints its honest summary, then at exit 9 MiB of padding and a
// fake summary (0.123456): the whole stream is scanned, so it is a crash
// for a repeated summary, and the fake value is never the best.
func TestPaddedFakeSummaryIsACrash(t *testing.T) {
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, FixAttempts: -1},
		hostile(t, "pad_summary.py", "0.01"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "pad"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash" {
		t.Fatalf("statuses = %s (%q)", got, exps[len(exps)-1].Reason)
	}
	if !strings.Contains(exps[1].Reason, "training summary printed more than once") {
		t.Errorf("reason = %q", exps[1].Reason)
	}
	if run.BestValBPB != 1.5 {
		t.Errorf("best = %v, want the baseline's 1.5", run.BestValBPB)
	}
}

// Rebinding the metric through globals() or patching prepare with setattr
// is refused by the static check before anything trains, and the model is
// told why.
func TestMetricRebindingIsRefusedWithTheReason(t *testing.T) {
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		hostile(t, "metric_globals.py", "0.01"),
		hostile(t, "metric_setattr.py", "0.01"),
		setConst(t, "VAL", "1.490000", "honest"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "rebind"})
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 2 {
		t.Fatalf("refusals: %v", refused)
	}
	if !strings.Contains(refused[0].Text, "line 5 writes into a namespace") || !strings.Contains(refused[0].Text, "may not be redefined") {
		t.Errorf("first refusal: %q", refused[0].Text)
	}
	if !strings.Contains(refused[1].Text, "setattr() on the read-only module") {
		t.Errorf("second refusal: %q", refused[1].Text)
	}
	reqs := h.prop.requests()
	if len(reqs) < 3 || !strings.Contains(reqs[1].Feedback, "writes into a namespace") {
		t.Errorf("the model was not told: %q", reqs[1].Feedback)
	}
	if exps := h.experiments(t, run); statuses(exps) != "keep,keep" || exps[1].Description != "honest" {
		t.Errorf("experiments: %s", statuses(exps))
	}
}

// What train.py already did at HEAD is not the proposal's doing: a change
// elsewhere in a file that writes to globals() is not refused for it.
func TestMetricCheckCountsOnlyNewFindings(t *testing.T) {
	dir := researchtest.New(t)
	src := researchtest.Read(t, dir, "train.py")
	researchtest.Write(t, dir, "train.py", strings.Replace(src, "VAL = 1.500000\n", "VAL = 1.500000\nglobals()['LEGACY'] = 1\n", 1))
	researchtest.Git(t, dir, "commit", "-qam", "legacy globals write")
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, setConst(t, "VAL", "1.490000", "honest"))
	run := h.runToEnd(t, research.StartRequest{Tag: "legacy"})
	if refused := h.rec.kinds(research.EventRefused); len(refused) != 0 {
		t.Fatalf("refused: %v", refused)
	}
	if got := statuses(h.experiments(t, run)); got != "keep,keep" {
		t.Errorf("statuses = %s", got)
	}
}
