package research_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

func reasons(exps []research.Experiment) string {
	var s []string
	for _, e := range exps {
		s = append(s, e.Reason)
	}
	return strings.Join(s, " | ")
}

func TestNoiseAwareKeepsConfirmSmallGainsAndNeverTrustASeedAlone(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	// Run-to-run noise, one offset per training run in order: the three
	// baseline runs measure sd 0.01; later offsets shape each case.
	researchtest.Write(t, dir, "OFFSETS", "0 0.01 -0.01  0 0  0  -0.05 0.05")
	h := newHarness(t, dir, research.Config{MaxExperiments: 8, BaselineRepeats: new(2), ConfirmSigma: new(2.0)},
		setConst(t, "VAL", "1.490000", "small gain"), // 1.49: gain 0.01 < 2σ = 0.02: rerun
		setConst(t, "VAL", "1.400000", "big gain"),   // gain 0.09: kept at once
		setConst(t, "SEED", "7", "new seed"),         // 1.35 by luck: rerun, 1.45: mean 1.40, no gain
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "noise"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,discard,discard,keep,keep,discard,discard" {
		t.Fatalf("statuses = %s\n%s", got, reasons(exps))
	}
	if got := kinds(exps); got != "baseline,baseline_repeat,baseline_repeat,proposal,confirmation,proposal,proposal,confirmation" {
		t.Errorf("kinds = %s", got)
	}
	if math.Abs(run.Noise-0.01) > 1e-6 {
		t.Errorf("noise = %v, want 0.01", run.Noise)
	}
	if !strings.Contains(exps[3].Reason, "rerunning to confirm") || exps[4].Description != "confirm #4: small gain" ||
		!strings.HasPrefix(exps[4].Reason, "confirmed") || exps[4].Commit != exps[3].Commit {
		t.Errorf("small gain not confirmed by a rerun of the same commit: %q / %q %q", exps[3].Reason, exps[4].Description, exps[4].Reason)
	}
	if !strings.Contains(exps[6].Reason, "seed change") || !strings.HasPrefix(exps[7].Description, "confirm #7") || !strings.Contains(exps[7].Reason, "not confirmed") {
		t.Errorf("seed-only change: %q then %q %q", exps[6].Reason, exps[7].Description, exps[7].Reason)
	}
	if run.BestCommit != exps[5].Commit || math.Abs(run.BestValBPB-1.40) > 1e-9 {
		t.Errorf("best = %s %v, want #6 at 1.40", run.BestCommit, run.BestValBPB)
	}
	// Each result carries the comparison the judge made: against the mean
	// of the baseline runs, then of the confirmed pair, then the big gain.
	verdicts := map[int]*research.Verdict{}
	for _, e := range h.rec.kinds(research.EventExperimentFinished) {
		verdicts[e.Number] = e.Verdict
	}
	for _, c := range []struct {
		number  int
		against []int
		value   float64
		newBest bool
	}{
		{4, []int{1, 2, 3}, 1.49, false},
		{5, []int{1, 2, 3}, 1.49, true},
		{6, []int{4, 5}, 1.40, true},
		{7, []int{6}, 1.35, false},
		{8, []int{6}, 1.40, false},
	} {
		v := verdicts[c.number]
		if v == nil || fmt.Sprint(v.AgainstNumbers) != fmt.Sprint(c.against) || math.Abs(v.Value-c.value) > 1e-9 || v.NewBest != c.newBest || v.Noise != run.Noise {
			t.Errorf("#%d verdict = %+v, want against %v, value %v, new best %v", c.number, v, c.against, c.value, c.newBest)
		}
	}
	// The run's History, built from the stored rows alone, agrees with the
	// judge: before each result it names the best the judge compared
	// with, and at the end the run's best and noise floor.
	for n := 4; n <= 8; n++ {
		v, before := verdicts[n], research.NewHistory(exps[:n-1])
		if v == nil || math.Abs(before.BestValue-v.Against) > 1e-9 || fmt.Sprint(before.BestNumbers) != fmt.Sprint(v.AgainstNumbers) {
			t.Errorf("History before #%d: best %v of %v; the judge compared with %+v", n, before.BestValue, before.BestNumbers, v)
		}
	}
	if all := research.NewHistory(exps); math.Abs(all.BestValue-run.BestValBPB) > 1e-9 || all.Best == nil || all.Best.Commit != run.BestCommit ||
		math.Abs(all.Noise-run.Noise) > 1e-9 || all.Baseline == nil || all.Baseline.Number != 1 {
		t.Errorf("History of the run: best %v (%v), noise %v, baseline %v; the run says best %v at %s, noise %v",
			all.BestValue, all.Best, all.Noise, all.Baseline, run.BestValBPB, run.BestCommit, run.Noise)
	}
	if st, err := h.m.Status(context.Background()); err != nil || st.Counts.Repeats != 2 || st.Counts.Discard != 3 {
		t.Errorf("counts = %+v (%v), want 2 baseline repeats apart from 3 discards", st.Counts, err)
	}
	// results.tsv keeps upstream's format: the confirmation is a row of its own.
	if rows := strings.Count(researchtest.Read(t, dir, "results.tsv"), "\n"); rows != 9 {
		t.Errorf("results.tsv has %d lines", rows)
	}
}

func TestRepeatedProposalIsRefusedAndTheModelToldWhich(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 3},
		setConst(t, "VAL", "1.600000", "worse"),
		func(req research.ProposalRequest) (string, error) {
			// The same change with different spacing.
			src := researchtest.Read(t, req.Dir, "train.py")
			researchtest.Write(t, req.Dir, "train.py", strings.Replace(src, "VAL = 1.500000", "VAL  =   1.600000", 1))
			return "worse again", nil
		},
		setConst(t, "STEPS", "5", "something new"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "repeat"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,discard,discard" || exps[2].Description != "something new" {
		t.Fatalf("experiments: %s %v", got, exps)
	}
	reqs := h.prop.requests()
	if !strings.Contains(reqs[2].Feedback, "repeats experiment #2") {
		t.Errorf("feedback = %q", reqs[2].Feedback)
	}
}

func TestMetricLinesMayNotChange(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		func(req research.ProposalRequest) (string, error) {
			src := researchtest.Read(t, req.Dir, "train.py")
			researchtest.Write(t, req.Dir, "train.py", strings.Replace(src, `% result))`, `% (result / 2)))`, 1))
			return "halve the metric", nil
		},
		setConst(t, "VAL", "1.400000", "honest"),
	)
	h.runToEnd(t, research.StartRequest{Tag: "metric"})
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 1 || !strings.Contains(refused[0].Text, "computes or prints the metric") || !strings.Contains(refused[0].Text, "val_bpb:") {
		t.Fatalf("refusals: %v", refused)
	}
}

func TestRetryReappliesAPastChangeOrRefusesWhenItNoLongerApplies(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var h *harness
	var retryErrs []error
	h = newHarness(t, dir, research.Config{MaxExperiments: 5},
		setConst(t, "STEPS", "5", "more steps"), // #2: discard (same val)
		setConst(t, "VAL", "1.400000", "lower"), // #3: keep
		func(req research.ProposalRequest) (string, error) {
			ctx := context.Background()
			retryErrs = append(retryErrs, h.m.Retry(ctx, 2, "U1"), h.m.Retry(ctx, 1, "U1"), h.m.Retry(ctx, 3, "U1"))
			testrepo := req.Dir
			researchtest.SetConst(t, testrepo, "BONUS", "0.01")
			return "bonus", nil
		},
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "retry"})
	exps := h.experiments(t, run)
	if retryErrs[0] != nil {
		t.Fatalf("retry #2: %v", retryErrs[0])
	}
	if !research.IsInputError(retryErrs[1]) || !strings.Contains(retryErrs[1].Error(), "changed nothing") {
		t.Errorf("retry of the baseline: %v", retryErrs[1])
	}
	if !research.IsInputError(retryErrs[2]) || !strings.Contains(retryErrs[2].Error(), "already in the best commit") {
		t.Errorf("retry of the kept change itself: %v", retryErrs[2])
	}
	var retried *research.Experiment
	for i := range exps {
		if strings.HasPrefix(exps[i].Description, "retry #2: more steps") {
			retried = &exps[i]
		}
	}
	if retried == nil {
		t.Fatalf("no retry experiment: %v", statuses(exps))
	}
	if retried.Kind != research.KindRetry || exps[1].Kind != research.KindProposal {
		t.Errorf("kinds: retry %q, the retried experiment %q", retried.Kind, exps[1].Kind)
	}
	if !strings.Contains(retried.Diff, "+STEPS = 5") || retried.ParentCommit == exps[1].ParentCommit {
		t.Errorf("retry is not the old change on the new best:\n%s", retried.Diff)
	}
	var ie *research.InputError
	if !errors.As(retryErrs[2], &ie) {
		t.Errorf("not an input error: %T", retryErrs[2])
	}
}

func TestPlateauAsksForANewDirectionAndTellsTheChannel(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, PlateauAfter: new(2)},
		setConst(t, "VAL", "1.600000", "worse 1"),
		setConst(t, "VAL", "1.700000", "worse 2"),
		setConst(t, "VAL", "1.800000", "worse 3"),
	)
	h.runToEnd(t, research.StartRequest{Tag: "plateau"})
	reqs := h.prop.requests()
	if reqs[2].SinceKeep != 2 || reqs[2].PlateauAfter != 2 || reqs[1].SinceKeep != 1 {
		t.Errorf("since-keep counts: %d %d", reqs[1].SinceKeep, reqs[2].SinceKeep)
	}
	if ev := h.rec.kinds(research.EventPlateau); len(ev) != 1 || !strings.Contains(ev[0].Text, "Reply here with ideas") {
		t.Errorf("plateau events: %v", ev)
	}
}

func TestTokenBudgetWarnsThenPauses(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	// Each scripted proposal spends 110 tokens.
	h := newHarness(t, dir, research.Config{TokenBudget: 270},
		setConst(t, "VAL", "1.600000", "a"),
		setConst(t, "VAL", "1.700000", "b"),
		setConst(t, "VAL", "1.800000", "c"),
		setConst(t, "VAL", "1.900000", "d"),
	)
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "budget"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	if err := h.m.Stop(context.Background(), "t", research.StopNow); err != nil {
		t.Fatal(err)
	}
	h.m.Wait(context.Background())
	var warned bool
	for _, e := range h.rec.kinds(research.EventNotice) {
		warned = warned || strings.Contains(e.Text, "80% of the LLM budget used: 220 of 270")
	}
	paused := h.rec.kinds(research.EventPaused)[0].Text
	if !warned || !strings.Contains(paused, "LLM budget is spent (330 of 270") {
		t.Errorf("warned=%v paused=%q", warned, paused)
	}
	if n := len(h.prop.requests()); n != 3 {
		t.Errorf("%d proposals made; the budget should stop the 4th", n)
	}
}

func TestResumeAfterTheProposerPausedTheRunGoesOn(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var h *harness
	calls := 0
	h = newHarness(t, dir, research.Config{MaxExperiments: 2, MaxProposerFailures: 1},
		func(req research.ProposalRequest) (string, error) {
			calls++
			return "", errors.New("model overloaded")
		},
		setConst(t, "VAL", "1.400000", "after the resume"),
	)
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "resume"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	if err := h.m.Resume(context.Background(), "U1"); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "resume")
	if got := statuses(h.experiments(t, run)); got != "keep,keep" || calls != 1 {
		t.Fatalf("statuses %s, failing calls %d", got, calls)
	}
}

func TestACrashedBaselinePausesTheRunAndRunsAgainOnResume(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "BROKEN", "no data yet")
	h := newHarness(t, dir, research.Config{MaxExperiments: 3}, setConst(t, "VAL", "1.400000", "lower"))
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "broken"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	if text := h.rec.kinds(research.EventPaused)[0].Text; !strings.Contains(text, "the baseline crashed (FileNotFoundError") || !strings.Contains(text, "exit status 3") {
		t.Errorf("pause reason = %q", text)
	}
	if n := len(h.prop.requests()); n != 0 {
		t.Errorf("%d proposals made against a setup that does not train", n)
	}
	if err := os.Remove(filepath.Join(dir, "BROKEN")); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Resume(context.Background(), "U1"); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "broken")
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "crash,keep,keep" || exps[1].Description != "baseline" {
		t.Fatalf("experiments: %s (%s)", got, reasons(exps))
	}
}

func TestAProposerWhoseChangesKeepBeingRefusedPausesTheRun(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	nothing := func(req research.ProposalRequest) (string, error) { return "no change at all", nil }
	var steps []func(research.ProposalRequest) (string, error)
	for i := 0; i < 20; i++ {
		steps = append(steps, nothing)
	}
	h := newHarness(t, dir, research.Config{ProposeTries: 2, MaxProposerFailures: 3}, steps...)
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "stubborn"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	paused := h.rec.kinds(research.EventPaused)[0].Text
	if !strings.Contains(paused, "keeps failing (3 in a row)") || !strings.Contains(paused, "changed nothing") {
		t.Errorf("pause reason = %q", paused)
	}
	if n := len(h.prop.requests()); n != 6 {
		t.Errorf("%d proposals before the pause, want 3 rounds of 2", n)
	}
	h.m.Stop(context.Background(), "t", research.StopNow)
	h.m.Wait(context.Background())
}

// A proposal that failed spent tokens too: the store records every call, so
// status (also after the run ended) counts it, not only the experiments'.
func TestFailedProposalsCountInTheRunsUsage(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, MaxProposerFailures: 1},
		func(req research.ProposalRequest) (string, error) { return "", errors.New("model overloaded") },
		setConst(t, "VAL", "1.400000", "after the resume"),
	)
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "usage"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	if err := h.m.Resume(ctx, "U1"); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(ctx, "usage")
	var inExperiments int64
	for _, e := range h.experiments(t, run) {
		inExperiments += e.PromptTokens + e.CompletionTokens
	}
	p, c, err := h.db.LLMTokens(ctx, run.ID, time.Time{}, time.Time{})
	if err != nil || p+c != 220 || inExperiments != 110 {
		t.Fatalf("store: %d+%d tokens (%v), experiments %d; want 220 in all, 110 of them in the experiment", p, c, err, inExperiments)
	}
	st, err := h.m.Status(ctx)
	if err != nil || st.Usage.PromptTokens+st.Usage.CompletionTokens != 220 {
		t.Errorf("status usage %+v (%v), want 220 tokens", st.Usage, err)
	}
}

// A confirmation rerun the run still owes when its process ends (here
// --max-experiments came first; a kill or a restart are the same to the
// next start) is queued again when the run resumes, and confirms.
func TestAnOwedConfirmationRerunIsQueuedAgainOnResume(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "OFFSETS", "0 0.01 -0.01  0 0")
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, BaselineRepeats: new(2), ConfirmSigma: new(2.0)},
		setConst(t, "VAL", "1.490000", "small gain"), // gain 0.01 < 2σ = 0.02: rerun owed
		// Prepared while others train; only the last resume trains one.
		setConst(t, "BONUS", "0.001", "bonus 1"),
		setConst(t, "BONUS", "0.002", "bonus 2"),
		setConst(t, "BONUS", "0.003", "bonus 3"),
		setConst(t, "BONUS", "0.004", "bonus 4"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "owed"})
	exps := h.experiments(t, run)
	if len(exps) != 4 || !strings.Contains(exps[3].Reason, "rerunning to confirm") {
		t.Fatalf("the first process should end owing #4's rerun:\n%s", reasons(exps))
	}

	h.m.Config.MaxExperiments = 5
	run = h.runToEnd(t, research.StartRequest{Tag: "owed", Resume: true})
	exps = h.experiments(t, run)
	if len(exps) != 5 || exps[4].Kind != research.KindConfirmation || exps[4].Description != "confirm #4: small gain" ||
		exps[4].Commit != exps[3].Commit || !strings.HasPrefix(exps[4].Reason, "confirmed") || exps[4].Diff != exps[3].Diff {
		t.Fatalf("after the resume: %s\n%s", kinds(exps), reasons(exps))
	}
	if run.BestCommit != exps[3].Commit {
		t.Errorf("best %s, want the confirmed #4 (%s)", run.BestCommit, exps[3].Commit)
	}

	// Once given, the rerun is owed no more: another resume does not repeat it.
	h.m.Config.MaxExperiments = 6
	run = h.runToEnd(t, research.StartRequest{Tag: "owed", Resume: true})
	exps = h.experiments(t, run)
	if n := strings.Count(kinds(exps), "confirmation"); n != 1 {
		t.Errorf("%d confirmations after a second resume, want 1: %s", n, kinds(exps))
	}
}
