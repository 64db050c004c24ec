package research_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// gatedStep sets a train.py constant and makes that training wait for the
// file gate in the repo, so the test decides when its result comes.
func gatedStep(t *testing.T, name, value, gate, desc string) func(research.ProposalRequest) (string, error) {
	return func(req research.ProposalRequest) (string, error) {
		researchtest.SetConst(t, req.Dir, name, value)
		researchtest.SetConst(t, req.Dir, "WAIT_FOR", `"`+gate+`"`)
		return desc, nil
	}
}

func isWaitingNotice(e research.Event) bool {
	return e.Kind == research.EventNotice && strings.Contains(e.Text, "waiting for the 1 experiment")
}

func TestDryProposerWaitsForTheResultInFlightAndGoesOnFromANewBest(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 3, Pipeline: true},
		gatedStep(t, "VAL", "1.400000", "gate", "better, still training when the proposer runs dry"))
	h.m.Observer = research.ObserverFunc(func(e research.Event) {
		h.rec.Event(e)
		if isWaitingNotice(e) {
			// The new best will give the proposer something to try.
			h.prop.mu.Lock()
			h.prop.steps = append(h.prop.steps, setConst(t, "BONUS", "0.01", "made from the new best"))
			h.prop.mu.Unlock()
			researchtest.Write(t, dir, "gate", "")
		}
	})
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "dry"})
	if p := h.rec.kinds(research.EventPaused); len(p) > 0 {
		t.Fatalf("paused although an experiment was in flight: %q", p[0].Text)
	}
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,keep" || exps[2].Description != "made from the new best" || exps[2].ParentCommit != exps[1].Commit {
		t.Fatalf("experiments: %s (%s)", got, reasons(exps))
	}
	if run.State != research.RunStopped {
		t.Errorf("state %s", run.State)
	}
}

func TestDryProposerPausesOnlyWhenNothingCanGoOnAndRunResumeContinues(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{Pipeline: true},
		gatedStep(t, "VAL", "1.600000", "gate", "worse, still training when the proposer runs dry"))
	var mu sync.Mutex
	runningAtPause := -1
	h.m.Observer = research.ObserverFunc(func(e research.Event) {
		defer h.rec.Event(e) // recorded last: the test reads runningAtPause once it sees the pause
		if isWaitingNotice(e) {
			researchtest.Write(t, dir, "gate", "")
		}
		if e.Kind == research.EventPaused {
			running, err := h.db.RunningExperiments(context.Background(), e.Run.ID)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			runningAtPause = len(running)
			mu.Unlock()
		}
	})
	withWorktrees(h)
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "dry"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) == 1 })
	mu.Lock()
	if runningAtPause != 0 {
		t.Errorf("paused with %d experiment(s) still training", runningAtPause)
	}
	mu.Unlock()
	if text := h.rec.kinds(research.EventPaused)[0].Text; !strings.Contains(text, "nothing left to try") {
		t.Errorf("pause reason %q", text)
	}
	shutdown := func() {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := h.m.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
	}
	shutdown()

	// The bot coming back keeps a paused run paused...
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "dry", Resume: true, KeepPaused: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.m.Status(ctx); st.Phase != research.PhasePaused {
		t.Fatalf("phase %s after a restart that keeps the pause", st.Phase)
	}
	shutdown()

	// ...while `run --resume` (no terminal to type `resume` into) goes on.
	h.prop.mu.Lock()
	h.prop.steps = append(h.prop.steps, setConst(t, "BONUS", "0.01", "after the resume"))
	h.prop.mu.Unlock()
	h.m.Config.MaxExperiments = 3
	run := h.runToEnd(t, research.StartRequest{Tag: "dry", Resume: true})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,keep" || exps[2].Description != "after the resume" {
		t.Fatalf("experiments: %s (%s)", got, reasons(exps))
	}
	if run.State != research.RunStopped {
		t.Errorf("state %s", run.State)
	}
}
