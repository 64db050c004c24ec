package research_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// curveTrainPy prints a loss curve: the best's shape plus a gap of WORSE
// all along and one moving linearly from BLOOM_START to BLOOM_END over the
// budget; val_bpb = VAL + (WORSE + BLOOM_END)/3.3. At HOLD_WORSE percent
// it waits for the file RELEASE_WORSE, at HOLD_LATE for RELEASE_LATE, so
// that a test knows the harness saw the curve up to there before the
// training goes on (or is stopped). Separate constants keep the changes of
// a test's proposals apart (a retry applies on top of the others).
const curveTrainPy = `import math, os, sys, time
from prepare import EVAL_TOKENS
WORSE = 0.0
BLOOM_START = 0.0
BLOOM_END = 0.0
VAL = 1.000000
HOLD_WORSE = 200
HOLD_LATE = 200
STEPS = 40
ctl = os.environ.get("RESEARCHTEST_DIR", ".")
def hold(gate):
    waited = 0
    while not os.path.exists(os.path.join(ctl, gate)) and waited < 6000:
        time.sleep(0.02)
        waited += 1
held = set()
for i in range(1, STEPS + 1):
    p = 100.0 * i / STEPS
    loss = 3.3 + 1.5 * math.exp(-p / 20) + WORSE + BLOOM_START + (BLOOM_END - BLOOM_START) * p / 100
    print("step %05d (%.1f%%) | loss: %.6f | remaining: %ds" % (i, p, loss, STEPS - i), end="\r", flush=True)
    for at, gate in ((HOLD_WORSE, "RELEASE_WORSE"), (HOLD_LATE, "RELEASE_LATE")):
        if p >= at and gate not in held:
            held.add(gate)
            hold(gate)
print()
print("---")
print("val_bpb:          %.6f" % (VAL + (WORSE + BLOOM_END) / 3.3))
print("training_seconds: 300.1")
print("peak_vram_mb:     45060.2")
`

// setConsts returns a proposal step that sets several train.py constants.
func setConsts(t *testing.T, desc string, kv ...string) func(research.ProposalRequest) (string, error) {
	return func(req research.ProposalRequest) (string, error) {
		for i := 0; i+1 < len(kv); i += 2 {
			researchtest.SetConst(t, req.Dir, kv[i], kv[i+1])
		}
		return desc, nil
	}
}

// TestEarlyStopEndsAClearlyWorseRunAndSparesALateBloomer runs the loop
// with a real python trainer: a change whose loss stays clearly above the
// baseline's curve is stopped at the end of the warmup and recorded as a
// discard with the reason; a change that starts worse but closes the gap
// trains to the end and is kept; `retry` of the stopped one trains it fully.
func TestEarlyStopEndsAClearlyWorseRunAndSparesALateBloomer(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "train.py", curveTrainPy)
	researchtest.Git(t, dir, "commit", "-qam", "curve trainer")
	// The gates live outside the repository: a file that appears in the
	// repository while the model proposes there is taken for the
	// proposal's own (refused and removed).
	gates := t.TempDir()
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, FixAttempts: new(0), ProgressEvery: time.Millisecond,
		TrainEnv:  []string{"RESEARCHTEST_DIR=" + gates},
		EarlyStop: research.EarlyStop{Enabled: true, Warmup: 0.2, Warmdown: 0.2}},
		setConsts(t, "clearly worse", "WORSE", "0.3", "HOLD_WORSE", "60"),
		setConsts(t, "late bloomer", "BLOOM_START", "0.6", "BLOOM_END", "-0.05", "HOLD_LATE", "85"),
		setConsts(t, "never trained: the retry and max-experiments come first", "VAL", "0.9"),
	)
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "es", By: "tester"}); err != nil {
		t.Fatal(err)
	}
	finished := func(n int) *research.Event {
		for _, e := range h.rec.kinds(research.EventExperimentFinished) {
			if e.Number == n {
				return &e
			}
		}
		return nil
	}
	// The worse change holds at 60% until a file that never comes: only
	// early stopping can end it.
	waitFor(t, func() bool { return finished(2) != nil })
	worse := finished(2)
	if e := worse.Experiment; e.Status != research.StatusDiscard || !strings.HasPrefix(e.Reason, "stopped early at 20%: loss ") ||
		!strings.Contains(e.Reason, " vs best ") || !research.WasStoppedEarly(*e) {
		t.Fatalf("#2 = %s %q, want a discard stopped early at 20%%", e.Status, e.Reason)
	}
	if worse.Verdict != nil {
		t.Errorf("#2 has a verdict %+v; it has no val_bpb to compare", worse.Verdict)
	}
	if !strings.Contains(worse.Experiment.Diff, "+WORSE = 0.3") {
		t.Errorf("#2's diff is not kept: %q", worse.Experiment.Diff)
	}
	if strings.Contains(worse.Experiment.LogTail, "val_bpb:") {
		t.Errorf("#2 trained to the end: %q", worse.Experiment.LogTail)
	}
	// retry of the stopped change is queued now, while #3 trains, and
	// trains fully: its gate is opened.
	researchtest.Write(t, gates, "RELEASE_WORSE", "")
	if err := h.m.Retry(ctx, 2, "tester"); err != nil {
		t.Fatal(err)
	}
	// The late bloomer holds at 85% (in the warmdown) until the harness has
	// seen its curve that far: had any point stopped it, it would be
	// killed there rather than kept.
	waitFor(t, func() bool {
		for _, e := range h.rec.kinds(research.EventProgress) {
			if e.Number == 3 && e.Progress != nil && e.Progress.Percent >= 85 {
				return true
			}
		}
		return finished(3) != nil
	})
	researchtest.Write(t, gates, "RELEASE_LATE", "")
	h.waitUnpaused(t)
	run, err := h.db.RunByTag(ctx, "es")
	if err != nil {
		t.Fatal(err)
	}
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,keep,discard" {
		t.Fatalf("statuses = %s", got)
	}
	if late := exps[2]; late.Description != "late bloomer" || late.Reason == "" || research.WasStoppedEarly(late) {
		t.Errorf("#3 = %q %s %q, want the late bloomer kept", late.Description, late.Status, late.Reason)
	}
	if r := exps[3]; !strings.HasPrefix(r.Description, "retry #2") || r.Summary.ValBPB == 0 || research.WasStoppedEarly(r) ||
		!strings.Contains(r.LogTail, "val_bpb:") {
		t.Errorf("the retry of #2 did not train fully: %q %s %q val %v", r.Description, r.Status, r.Reason, r.Summary.ValBPB)
	}
	if tsv := researchtest.Read(t, dir, "results.tsv"); !strings.Contains(tsv, "\t0.000000\t0.0\tdiscard\tclearly worse [stopped early at 20%]\n") {
		t.Errorf("results.tsv does not say #2 was stopped early:\n%s", tsv)
	}
	// The best run's curve is stored: a restart compares against it.
	best, err := h.db.BestCurve(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if best.Number != 3 || len(best.Points) < 30 || best.Points[len(best.Points)-1].Percent != 100 {
		t.Errorf("stored best curve: #%d with %d points, want #3's whole curve", best.Number, len(best.Points))
	}
}

// TestEarlyStopAfterARestartUsesTheStoredCurve: the best run's curve is
// read back from the store by a new process (a new Manager on the same
// state dir), so the first change after the restart is compared with it
// without training the baseline again.
func TestEarlyStopAfterARestartUsesTheStoredCurve(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "train.py", curveTrainPy)
	researchtest.Git(t, dir, "commit", "-qam", "curve trainer")
	cfg := research.Config{MaxExperiments: 1, FixAttempts: new(0), EarlyStop: research.EarlyStop{Enabled: true}}
	first := newHarness(t, dir, cfg)
	run := first.runToEnd(t, research.StartRequest{Tag: "restart"})
	if got := statuses(first.experiments(t, run)); got != "keep" {
		t.Fatalf("first session: %s, want the baseline kept", got)
	}

	cfg.MaxExperiments = 2
	second := newHarness(t, dir, cfg, setConsts(t, "clearly worse", "WORSE", "0.3", "HOLD_WORSE", "60"))
	run = second.runToEnd(t, research.StartRequest{Tag: "restart", Resume: true})
	exps := second.experiments(t, run)
	if got := statuses(exps); got != "keep,discard" {
		t.Fatalf("statuses = %s, want the baseline and the stopped change only", got)
	}
	if r := exps[1].Reason; !strings.HasPrefix(r, "stopped early at 20%") || !strings.Contains(r, "(#1, margin") {
		t.Errorf("#2's reason %q: want it stopped against #1's stored curve", r)
	}
}
