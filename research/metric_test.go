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
