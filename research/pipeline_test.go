package research_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// withWorktrees gives the manager linked worktrees under the state dir, as
// the CLI does.
func withWorktrees(h *harness) {
	h.m.Worktree = func(name, commit string) (research.Repo, error) {
		return gitrepo.AddWorktree(h.dir, filepath.Join(h.m.Config.StateDir, "worktrees", name), commit)
	}
}

func TestPipelinedProposalIsReappliedOnTheNewBest(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	proposed := filepath.Join(t.TempDir(), "second.proposed")
	var bases []string
	record := func(step func(research.ProposalRequest) (string, error)) func(research.ProposalRequest) (string, error) {
		return func(req research.ProposalRequest) (string, error) {
			bases = append(bases, req.BaseCommit)
			return step(req)
		}
	}
	h := newHarness(t, dir, research.Config{MaxExperiments: 3, Pipeline: true},
		record(func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			// #2 trains until the next proposal is made, so that one is made on the baseline.
			researchtest.SetConst(t, req.Dir, "WAIT_FOR", strconv.Quote(proposed))
			return "lower, gated", nil
		}),
		record(func(req research.ProposalRequest) (string, error) { // made while #2 trains, on the baseline
			researchtest.SetConst(t, req.Dir, "STEPS", "5")
			researchtest.Write(t, "/", proposed, "")
			return "more steps", nil
		}),
	)
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "pipe"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,keep" && got != "keep,keep,discard" {
		t.Fatalf("statuses = %s (%s)", got, reasons(exps))
	}
	if bases[1] != exps[0].Commit {
		t.Fatalf("the second proposal was not made on the baseline while #2 trained: %s", bases[1])
	}
	// #3 was re-applied on top of #2, the new best: it has both changes.
	if exps[2].ParentCommit != exps[1].Commit {
		t.Errorf("#3 parent %s, want #2 %s", exps[2].ParentCommit, exps[1].Commit)
	}
	src := researchtest.Git(t, dir, "show", exps[2].Commit+":train.py")
	if !strings.Contains(src, "VAL = 1.400000") || !strings.Contains(src, "STEPS = 5") {
		t.Errorf("#3 does not hold both changes:\n%s", src)
	}
	if st := researchtest.Git(t, dir, "status", "--porcelain"); st != "?? notes.txt" {
		t.Errorf("main worktree status = %q", st)
	}
	var numbers []int
	for _, e := range h.rec.kinds(research.EventProposing) {
		numbers = append(numbers, e.Number)
	}
	if fmt.Sprint(numbers) != "[2 3]" {
		t.Errorf("proposing events announce %v, want [2 3]", numbers)
	}
}

// TestPipelinedProposalThatNoLongerAppliesIsDroppedAndAskedAgain is the
// behaviour before issue 14, which the bench keeps for its comparison
// (DropConflicting); by default such a proposal trains on its own base
// (conflict_test.go).
func TestPipelinedProposalThatNoLongerAppliesIsDroppedAndAskedAgain(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	proposed := filepath.Join(t.TempDir(), "second.proposed")
	h := newHarness(t, dir, research.Config{MaxExperiments: 3, Pipeline: true, DropConflicting: true},
		func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			// #2 trains until the next proposal is made on the baseline.
			researchtest.SetConst(t, req.Dir, "WAIT_FOR", strconv.Quote(proposed))
			return "lower", nil
		},
		func(req research.ProposalRequest) (string, error) { // same line as #2's keep: conflict
			researchtest.SetConst(t, req.Dir, "VAL", "1.300000")
			researchtest.Write(t, "/", proposed, "")
			return "even lower", nil
		},
		setConst(t, "BONUS", "0.05", "bonus"),
	)
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "conflict"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,keep" || exps[2].Description != "bonus" {
		t.Fatalf("experiments: %s / %v", statuses(exps), reasons(exps))
	}
	var dropped bool
	for _, e := range h.rec.kinds(research.EventNotice) {
		dropped = dropped || strings.Contains(e.Text, `"even lower" no longer applies`)
	}
	if !dropped {
		t.Error("no notice about the dropped proposal")
	}
}

func TestSeveralSlotsShareOneBestAndAdoptAStaleWinner(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	// The order is made by gates, not by sleeps: the quick win finishes
	// only once the slow one trains, and the slow one only once the quick
	// one is recorded, so the slow winner is always the stale one.
	h := newHarness(t, dir, research.Config{MaxExperiments: 5, Slots: []research.SlotSpec{
		// RESEARCHTEST_DIR: the gates below, seen from the workers' worktrees.
		{Name: "gpu0", GPU: -1, Env: []string{"CUDA_VISIBLE_DEVICES=0", "RESEARCHTEST_DIR=" + dir}},
		{Name: "gpu1", GPU: -1, Env: []string{"CUDA_VISIBLE_DEVICES=1", "RESEARCHTEST_DIR=" + dir}},
	}},
		func(req research.ProposalRequest) (string, error) { // better, finishes second
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			researchtest.SetConst(t, req.Dir, "WAIT_FOR", `"quick.done"`)
			return "slow win", nil
		},
		func(req research.ProposalRequest) (string, error) { // 1.48, finishes first
			researchtest.SetConst(t, req.Dir, "BONUS", "0.02")
			researchtest.SetConst(t, req.Dir, "ALSO_WAIT_FOR", `"slow.started"`)
			return "quick small win", nil
		},
		setConst(t, "STEPS", "5", "slower, no gain"), // a line no other change touches: applies on any best
	)
	h.m.Observer = research.ObserverFunc(func(e research.Event) {
		h.rec.Event(e)
		switch {
		case e.Experiment == nil:
		case e.Kind == research.EventExperimentStarted && e.Experiment.Description == "slow win":
			researchtest.Write(t, dir, "slow.started", "")
		case e.Kind == research.EventExperimentFinished && e.Experiment.Description == "quick small win":
			researchtest.Write(t, dir, "quick.done", "")
		}
	})
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "multi"})
	exps := h.experiments(t, run)
	if len(exps) != 5 {
		t.Fatalf("%d experiments: %s (%s)", len(exps), statuses(exps), reasons(exps))
	}
	byDesc := map[string]research.Experiment{}
	for _, e := range exps {
		byDesc[e.Description] = e
	}
	quick, slow := byDesc["quick small win"], byDesc["slow win"]
	if quick.Status != research.StatusKeep || slow.Status != research.StatusKeep || quick.GPU == slow.GPU {
		t.Fatalf("quick %s on %s, slow %s on %s", quick.Status, quick.GPU, slow.Status, slow.GPU)
	}
	if !strings.Contains(slow.Reason, "adopted") {
		t.Errorf("the stale winner was not adopted: %q", slow.Reason)
	}
	var retry research.Experiment
	for _, e := range exps {
		if strings.HasPrefix(e.Description, "retry of the improvement") {
			retry = e
		}
	}
	if retry.ParentCommit != slow.Commit || retry.Status != research.StatusKeep || retry.Summary.ValBPB > 1.3801 {
		t.Fatalf("the missing improvement was not retried on the adopted best: %+v", retry)
	}
	if run.BestCommit != retry.Commit {
		t.Errorf("best %s, want the retry %s", run.BestCommit, retry.Commit)
	}
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/multi"); tip != run.BestCommit {
		t.Errorf("branch at %s, best %s", tip, run.BestCommit)
	}
	tsv := researchtest.Read(t, dir, "results.tsv")
	if !strings.Contains(tsv, "[gpu0]") || !strings.Contains(tsv, "[gpu1]") {
		t.Errorf("results.tsv does not say which GPU:\n%s", tsv)
	}
}

func TestOneSlotCrashesWhileTheOtherGoesOnAndStopDrainsBoth(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	ctl := "RESEARCHTEST_DIR=" + dir // HANG_ON_RUN below, seen from the workers' worktrees
	h := newHarness(t, dir, research.Config{FixAttempts: new(0), Slots: []research.SlotSpec{
		{Name: "gpu0", GPU: -1, Env: []string{ctl}}, {Name: "gpu1", GPU: -1, Env: []string{ctl}},
	}},
		setConst(t, "CRASH", "1", "crashes"),
		setConst(t, "VAL", "1.450000", "fine"),
		setConst(t, "STEPS", "6", "long a"),
		setConst(t, "STEPS", "7", "long b"),
	)
	withWorktrees(h)
	researchtest.Write(t, dir, "HANG_ON_RUN", "4") // the 4th and later trainings hang
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "drain"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, _ := h.m.Status(context.Background())
		busy := 0
		for _, s := range st.Slots {
			if s.Current != nil && s.Current.Number >= 4 {
				busy++
			}
		}
		return busy == 2
	})
	if err := h.m.Stop(context.Background(), "tester", research.StopNow); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "drain")
	exps := h.experiments(t, run)
	counts := map[string]int{}
	stopped := 0
	for _, e := range exps {
		counts[e.Description] = counts[e.Description] + 1
		if e.Reason == "stopped" {
			stopped++
		}
		if e.Status == research.StatusRunning {
			t.Errorf("#%d still running", e.Number)
		}
	}
	if byStatus := statuses(exps); !strings.Contains(byStatus, "crash") || counts["fine"] != 1 || counts["crashes"] != 1 {
		t.Errorf("experiments: %s (%s)", byStatus, reasons(exps))
	}
	if stopped != 2 {
		t.Errorf("%d experiments recorded as stopped, want the 2 in flight", stopped)
	}
	if run.State != research.RunStopped {
		t.Errorf("state %s", run.State)
	}
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != run.BestCommit {
		t.Errorf("main worktree at %s, best %s", head, run.BestCommit)
	}
}

// TestFirstProposalIsPreparedWhileTheBaselineTrains: pipelined, the model
// is asked for the first change while the baseline trains (the baseline
// here waits for that request), and the change trains after the baseline.
func TestFirstProposalIsPreparedWhileTheBaselineTrains(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A last guard: without early proposing the baseline would wait for
	// ever; the assertion below then says why.
	guard := time.AfterFunc(2*time.Minute, func() { os.Remove(hold) })
	defer guard.Stop()
	var h *harness
	var duringBaseline bool
	h = newHarness(t, dir, research.Config{MaxExperiments: 2, Pipeline: true},
		func(req research.ProposalRequest) (string, error) {
			// The proposer may be asked before the slot has the baseline
			// under way; the hold keeps the baseline from finishing, so
			// wait for it to train, then look whether it has a result.
			var st research.Status
			waitFor(t, func() bool {
				st, _ = h.m.Status(context.Background())
				return st.Current != nil
			})
			duringBaseline = st.Current.Number == 1 && st.Best == nil
			os.Remove(hold)
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			return "prepared during the baseline", nil
		})
	h.m.Trainer = &trainer.Local{Command: fmt.Sprintf("while [ -e '%s' ]; do sleep 0.02; done; python3 train.py", hold), Grace: time.Second}
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "early"})
	exps := h.experiments(t, run)
	if !duringBaseline {
		t.Error("the first proposal was not prepared while the baseline trained")
	}
	if got := statuses(exps); got != "keep,keep" || exps[1].Description != "prepared during the baseline" || exps[1].ParentCommit != exps[0].Commit {
		t.Fatalf("experiments: %s; #2 %q on %s (baseline %s)", got, exps[1].Description, exps[1].ParentCommit, exps[0].Commit)
	}
}

func TestPipelinedRepeatOfTheChangeInFlightIsRefused(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var h *harness
	depth2 := func(req research.ProposalRequest) {
		researchtest.SetConst(t, req.Dir, "VAL", "1.450000")
		researchtest.SetConst(t, req.Dir, "WAIT_FOR", `"repeat.refused"`) // #2 trains until the repeat is refused
	}
	// The gate file is looked for in the repo, also from the worktrees.
	cfg := research.Config{MaxExperiments: 3, Pipeline: true, TrainEnv: []string{"RESEARCHTEST_DIR=" + dir}}
	h = newHarness(t, dir, cfg,
		func(req research.ProposalRequest) (string, error) {
			depth2(req)
			return "depth 8 to 2", nil
		},
		func(req research.ProposalRequest) (string, error) {
			// Proposed while #2 is recorded as training, on the same best.
			waitFor(t, func() bool {
				for _, e := range h.rec.kinds(research.EventExperimentStarted) {
					if e.Number == 2 {
						return true
					}
				}
				return false
			})
			depth2(req)
			return "depth 8 to 2 again", nil
		},
		setConst(t, "BONUS", "0.01", "something else"),
	)
	h.m.Observer = research.ObserverFunc(func(e research.Event) {
		h.rec.Event(e)
		if e.Kind == research.EventRefused {
			researchtest.Write(t, dir, "repeat.refused", "")
		}
	})
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "again"})
	exps := h.experiments(t, run)
	if len(exps) != 3 || exps[1].Description != "depth 8 to 2" || exps[2].Description != "something else" {
		t.Fatalf("experiments: %s (%s)", statuses(exps), reasons(exps))
	}
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 1 || !strings.Contains(refused[0].Text, "repeats experiment #2") || !strings.Contains(refused[0].Text, "training now") {
		t.Fatalf("refusals: %+v", refused)
	}
	reqs := h.prop.requests()
	if last := reqs[len(reqs)-1]; !strings.Contains(last.Feedback, "#2") {
		t.Errorf("the model was not told which experiment it repeats: %q", last.Feedback)
	}
}
