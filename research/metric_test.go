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
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, FixAttempts: new(0)},
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
	t.Parallel()
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
	t.Parallel()
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

// implausibleNotices are the channel notices about implausible results.
func implausibleNotices(h *harness) []string {
	var out []string
	for _, e := range h.rec.kinds(research.EventNotice) {
		if strings.Contains(e.Text, "implausible") {
			out = append(out, e.Text)
		}
	}
	return out
}

// A val_bpb of 1e-30 (printed as such, not rounded) is out of the
// plausible range: held back, rerun, and not kept when the rerun says the
// same; the channel is told each time.
func TestImplausibleValBPBIsNeverKeptOnOneRun(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "train.py", "VAL = \"1.500000\"\nprint(\"---\")\nprint(\"val_bpb: \" + VAL)\n")
	researchtest.Git(t, dir, "commit", "-qam", "a train.py that prints VAL as it is")
	h := newHarness(t, dir, research.Config{MaxExperiments: 3, FixAttempts: new(0)},
		setConst(t, "VAL", `"1e-30"`, "tiny"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "tiny"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,discard" {
		t.Fatalf("statuses = %s", got)
	}
	if !strings.HasPrefix(exps[1].Reason, "implausible: val_bpb 1e-30 is below the plausible range 0.1..20") ||
		!strings.HasPrefix(exps[2].Reason, "implausible and not confirmed: the rerun's val_bpb 1e-30") {
		t.Errorf("reasons: %q / %q", exps[1].Reason, exps[2].Reason)
	}
	if run.BestValBPB != 1.5 || run.BestCommit != exps[0].Commit {
		t.Errorf("best = %v at %s, want the baseline", run.BestValBPB, run.BestCommit)
	}
	if n := implausibleNotices(h); len(n) != 2 || !strings.HasPrefix(n[0], "#2 implausible") {
		t.Errorf("notices: %q", n)
	}
}

// A gain far beyond the bound (20% with no noise known, bound 2%) is rerun:
// refused when the rerun does not reproduce it, kept when it does.
func TestBigGainIsRerunAndKeptOnlyIfConfirmed(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	// Per-run offsets: baseline, first big gain, its rerun (+0.5: not
	// reproduced), second big gain, its rerun (reproduced).
	researchtest.Write(t, dir, "OFFSETS", "0 0 0.5 0 0.01\n")
	h := newHarness(t, dir, research.Config{MaxExperiments: 5, FixAttempts: new(0), ImplausibleGain: new(0.02)},
		setConst(t, "VAL", "1.200000", "big gain"),
		setConst(t, "VAL", "1.250000", "big gain again"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "big"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,discard,discard,keep" {
		for _, e := range exps {
			t.Logf("#%d %s %v %s", e.Number, e.Status, e.Summary.ValBPB, e.Reason)
		}
		t.Fatalf("statuses = %s", got)
	}
	for i, want := range []string{
		"implausible: gain 0.300000 is 20.0% of the best 1.500000, more than 2%",
		"implausible and not confirmed: the rerun gave 1.700000",
		"implausible: gain 0.250000",
		"implausible gain confirmed by a rerun: 1.255000",
	} {
		if !strings.HasPrefix(exps[i+1].Reason, want) {
			t.Errorf("#%d reason %q, want prefix %q", i+2, exps[i+1].Reason, want)
		}
	}
	if run.BestCommit != exps[4].Commit || run.BestValBPB < 1.2549 || run.BestValBPB > 1.2551 {
		t.Errorf("best = %v at %s", run.BestValBPB, run.BestCommit)
	}
	if n := implausibleNotices(h); len(n) != 4 {
		t.Errorf("notices: %q", n)
	}
}
