package research

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestDecide covers every branch of the judge: crashes and their fixes,
// early stops, the baseline and its repeats, plain keeps and discards,
// noise-aware and seed-only confirmations, implausible results and their
// reruns, and winners found on a stale base.
func TestDecide(t *testing.T) {
	t.Parallel()
	policy := judgePolicy{MinDelta: 0, ConfirmSigma: 2, FixAttempts: 2,
		ImplausibleSigma: 25, ImplausibleGain: 0.02, PlausibleMin: 0.1, PlausibleMax: 20}
	// The best: the mean 1.00 of three baseline runs with σ 0.01.
	best := standing{Value: 1.00, Commit: "best", Noise: 0.01, Numbers: []int{1, 2, 3}, Baselines: []float64{0.99, 1.00, 1.01}}
	noNoise := standing{Value: 1.00, Commit: "best", Numbers: []int{1}, Baselines: []float64{1.00}}
	none := standing{}
	change := trial{Kind: KindProposal, Commit: "new", Parent: "best", Diff: "+lr = 0.02\n-lr = 0.01\n"}
	seed := trial{Kind: KindProposal, Commit: "new", Parent: "best", Diff: "-SEED = 1\n+SEED = 7\n"}
	confirmOf := func(t trial, val float64, implausible bool) trial {
		return trial{Kind: KindConfirmation, Commit: t.Commit, Parent: t.Parent, Diff: t.Diff,
			ConfirmOf: &Experiment{Number: 4, Summary: Summary{ValBPB: val}}, Implausible: implausible}
	}
	with := func(t trial, f func(*trial)) trial { f(&t); return t }
	type want struct {
		status      string
		reason      string // a part of the reason
		bestValue   float64
		bestCommit  string
		noise       float64
		fix         bool
		confirm     bool
		implausible bool
		stale       bool
		verdict     *Verdict
	}
	// kept: the best moves to the change at v; the verdict says so.
	kept := func(reason string, v float64, against standing) want {
		return want{status: StatusKeep, reason: reason, bestValue: v, bestCommit: "new", noise: against.Noise,
			verdict: &Verdict{Value: v, Against: against.Value, AgainstNumbers: against.Numbers, Noise: against.Noise, NewBest: true}}
	}
	// discarded: nothing moves; the verdict compares v with the best.
	discarded := func(reason string, v float64, against standing) want {
		return want{status: StatusDiscard, reason: reason, bestValue: against.Value, bestCommit: against.Commit, noise: against.Noise,
			verdict: &Verdict{Value: v, Against: against.Value, AgainstNumbers: against.Numbers, Noise: against.Noise}}
	}
	rerun := func(w want, implausible bool) want { w.confirm, w.implausible = true, implausible; return w }
	stale := func(w want) want { w.stale = true; return w }
	cases := []struct {
		name string
		p    judgePolicy
		best standing
		t    trial
		out  outcome
		want want
	}{
		{"crash of a new idea gets a fix", policy, best, change, outcome{Crash: "OOM"},
			want{status: StatusCrash, reason: "OOM", bestValue: 1, bestCommit: "best", noise: 0.01, fix: true}},
		{"crash of the last fix attempt gets none", policy, best, with(change, func(t *trial) { t.Kind, t.Attempt = KindFix, 2 }), outcome{Crash: "OOM"},
			want{status: StatusCrash, reason: "OOM", bestValue: 1, bestCommit: "best", noise: 0.01}},
		{"crash of a fix with attempts left gets another", policy, best, with(change, func(t *trial) { t.Kind, t.Attempt = KindFix, 1 }), outcome{Crash: "OOM"},
			want{status: StatusCrash, reason: "OOM", bestValue: 1, bestCommit: "best", noise: 0.01, fix: true}},
		{"no fix attempts at all", judgePolicy{FixAttempts: 0}, best, change, outcome{Crash: "OOM"},
			want{status: StatusCrash, reason: "OOM", bestValue: 1, bestCommit: "best", noise: 0.01}},
		{"crash of a retry is not fixed", policy, best, with(change, func(t *trial) { t.Kind = KindRetry }), outcome{Crash: "OOM"},
			want{status: StatusCrash, reason: "OOM", bestValue: 1, bestCommit: "best", noise: 0.01}},
		{"crash of a confirmation is not fixed", policy, best, confirmOf(change, 0.98, false), outcome{Crash: "stopped"},
			want{status: StatusCrash, reason: "stopped", bestValue: 1, bestCommit: "best", noise: 0.01}},
		{"a crash beats a result", policy, best, change, outcome{Value: 0.5, Crash: "timeout"},
			want{status: StatusCrash, reason: "timeout", bestValue: 1, bestCommit: "best", noise: 0.01, fix: true}},
		{"stopped early is a discard without a verdict", policy, best, change, outcome{Value: 1.2, StoppedEarly: "stopped early: worse"},
			want{status: StatusDiscard, reason: "stopped early: worse", bestValue: 1, bestCommit: "best", noise: 0.01}},

		{"the first baseline run sets the best", policy, none, trial{Kind: KindBaseline, Commit: "base"}, outcome{Value: 1.5},
			want{status: StatusKeep, reason: "baseline", bestValue: 1.5, bestCommit: "base", verdict: &Verdict{Value: 1.5}}},
		{"a repeat that finds no best yet is the baseline", policy, none, trial{Kind: KindBaselineRepeat, Commit: "base"}, outcome{Value: 1.5},
			want{status: StatusKeep, reason: "baseline", bestValue: 1.5, bestCommit: "base", verdict: &Verdict{Value: 1.5}}},
		{"a repeat measures the noise; the best becomes the mean", policy,
			standing{Value: 1.0, Commit: "base", Numbers: []int{1}, Baselines: []float64{1.0}}, trial{Kind: KindBaselineRepeat, Commit: "base"}, outcome{Value: 1.02},
			want{status: StatusDiscard, reason: "baseline repeat: mean 1.010000, noise 0.014142 over 2 runs", bestValue: 1.01, bestCommit: "base", noise: 0.0141421356,
				verdict: &Verdict{Value: 1.02, Against: 1.0, AgainstNumbers: []int{1}}}},
		{"a repeat that ends after a change was kept measures the noise and leaves the best", policy,
			standing{Value: 0.9, Commit: "new", Numbers: []int{4}, Baselines: []float64{1.0}}, trial{Kind: KindBaselineRepeat, Commit: "base"}, outcome{Value: 1.02},
			want{status: StatusDiscard, reason: "baseline repeat: mean 1.010000, noise 0.014142 over 2 runs", bestValue: 0.9, bestCommit: "new", noise: 0.0141421356,
				verdict: &Verdict{Value: 1.02, Against: 0.9, AgainstNumbers: []int{4}}}},
		{"a repeat after a crashed baseline run has nothing to compare", policy,
			standing{Value: 1.0, Commit: "base"}, trial{Kind: KindBaselineRepeat, Commit: "base"}, outcome{Value: 1.02},
			want{status: StatusDiscard, reason: "baseline repeat, for the noise estimate", bestValue: 1.0, bestCommit: "base",
				verdict: &Verdict{Value: 1.02, Against: 1.0}}},

		{"the first result of a change is kept", policy, none, change, outcome{Value: 1.2},
			want{status: StatusKeep, reason: "first result", bestValue: 1.2, bestCommit: "new", verdict: &Verdict{Value: 1.2, NewBest: true}}},
		{"a worse change is discarded", policy, best, change, outcome{Value: 1.1},
			discarded("no improvement (+0.100000)", 1.1, best)},
		{"a gain within MinDelta is no improvement", judgePolicy{MinDelta: 0.05, PlausibleMax: 20}, noNoise, change, outcome{Value: 0.96},
			discarded("no improvement (-0.040000)", 0.96, noNoise)},
		{"a clear gain is kept", policy, best, change, outcome{Value: 0.95},
			kept("improved by 0.050000", 0.95, best)},
		{"a gain within the noise is rerun", policy, best, change, outcome{Value: 0.99},
			rerun(discarded("gain 0.010000 is within 2.0σ of noise (0.020000): rerunning to confirm", 0.99, best), false)},
		{"without a noise estimate a small gain is kept", policy, noNoise, change, outcome{Value: 0.995},
			kept("improved by 0.005000", 0.995, noNoise)},
		{"a seed change alone is rerun however large its gain", policy, best, seed, outcome{Value: 0.95},
			rerun(discarded("gain 0.050000 from a seed change alone: rerunning to confirm", 0.95, best), false)},

		{"a confirmation is judged by the mean of both runs", policy, best, confirmOf(change, 0.97, false), outcome{Value: 0.95},
			kept("confirmed: mean of 2 runs 0.960000 improves by 0.040000", 0.96, best)},
		{"a confirmation whose mean does not improve is discarded", policy, best, confirmOf(change, 0.99, false), outcome{Value: 1.03},
			discarded("not confirmed: mean of 2 runs 1.010000 vs best 1.000000", 1.01, best)},
		{"a confirmed mean within the noise is kept", policy, best, confirmOf(change, 0.99, false), outcome{Value: 0.99},
			kept("confirmed: mean of 2 runs 0.990000 improves by 0.010000", 0.99, best)},
		{"a seed change confirmed within the noise is never kept", policy, best, confirmOf(seed, 0.98, false), outcome{Value: 1.0},
			discarded("a seed change within the noise (mean gain 0.010000 < 0.020000) is never kept", 0.99, best)},
		{"a seed change confirmed beyond the noise is kept", policy, best, confirmOf(seed, 0.95, false), outcome{Value: 0.95},
			kept("confirmed: mean of 2 runs 0.950000 improves by 0.050000", 0.95, best)},

		{"a gain of many σ is implausible", policy, best, change, outcome{Value: 0.5},
			rerun(discarded("implausible: gain 0.500000 is 50σ of the noise (0.010000), more than 25σ; rerunning", 0.5, best), true)},
		{"without noise, a gain above ImplausibleGain of the best is implausible", policy, noNoise, change, outcome{Value: 0.9},
			rerun(discarded("implausible: gain 0.100000 is 10.0% of the best 1.000000, more than 2%", 0.9, noNoise), true)},
		{"ImplausibleGain 0 never calls a gain implausible", judgePolicy{PlausibleMax: 20}, noNoise, change, outcome{Value: 0.9},
			kept("improved by 0.100000", 0.9, noNoise)},
		{"a val_bpb out of range is implausible", policy, standing{Value: 0.5, Commit: "best", Numbers: []int{1}}, change, outcome{Value: 0.05},
			rerun(discarded("implausible: val_bpb 0.05 is below the plausible range 0.1..20", 0.05, standing{Value: 0.5, Commit: "best", Numbers: []int{1}}), true)},
		{"an implausible gain confirmed by its rerun is kept", policy, best, confirmOf(change, 0.5, true), outcome{Value: 0.52},
			kept("implausible gain confirmed by a rerun: 0.510000 (runs 0.500000 and 0.520000) improves by 0.490000", 0.51, best)},
		{"an implausible gain the rerun does not repeat is discarded", policy, best, confirmOf(change, 0.5, true), outcome{Value: 1.0},
			discarded("implausible and not confirmed: the rerun gave 1.000000 (first run 0.500000) vs best 1.000000", 0.75, best)},
		{"a rerun out of range is not confirmed", policy, best, confirmOf(change, 0.5, true), outcome{Value: 25},
			discarded("implausible and not confirmed: the rerun's val_bpb 25 is above the plausible range 0.1..20", 12.75, best)},
		{"after a first run out of range the rerun alone counts", policy, best, confirmOf(change, 0.01, true), outcome{Value: 0.9},
			kept("implausible gain confirmed by a rerun: 0.900000 (runs 0.010000 and 0.900000)", 0.9, best)},

		{"a winner made on an older best is adopted stale", policy, best, with(change, func(t *trial) { t.Parent = "older" }), outcome{Value: 0.9},
			stale(kept("improved by 0.100000", 0.9, best))},
		{"a confirmed winner made on an older best is adopted stale", policy, best, confirmOf(with(change, func(t *trial) { t.Parent = "older" }), 0.9, false), outcome{Value: 0.9},
			stale(kept("confirmed: mean of 2 runs 0.900000", 0.9, best))},
		{"an implausible winner made on an older best is adopted stale", policy, best, confirmOf(with(change, func(t *trial) { t.Parent = "older" }), 0.5, true), outcome{Value: 0.5},
			stale(kept("implausible gain confirmed", 0.5, best))},
		{"a stale loser is just discarded", policy, best, with(change, func(t *trial) { t.Parent = "older" }), outcome{Value: 1.1},
			discarded("no improvement", 1.1, best)},
		{"the first result is never stale", policy, none, with(change, func(t *trial) { t.Parent = "older" }), outcome{Value: 1.2},
			want{status: StatusKeep, reason: "first result", bestValue: 1.2, bestCommit: "new", verdict: &Verdict{Value: 1.2, NewBest: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decide(tc.p, tc.best, tc.t, tc.out)
			w := tc.want
			if r.Status != w.status || !strings.Contains(r.Reason, w.reason) {
				t.Errorf("ruling %s %q, want %s containing %q", r.Status, r.Reason, w.status, w.reason)
			}
			if math.Abs(r.BestValue-w.bestValue) > 1e-9 || r.BestCommit != w.bestCommit || math.Abs(r.Noise-w.noise) > 1e-9 {
				t.Errorf("best after %v at %q, noise %v; want %v at %q, noise %v", r.BestValue, r.BestCommit, r.Noise, w.bestValue, w.bestCommit, w.noise)
			}
			if r.Fix != w.fix || r.Confirm != w.confirm || r.Implausible != w.implausible || r.Stale != w.stale {
				t.Errorf("fix %v, confirm %v (implausible %v), stale %v; want %v, %v (%v), %v",
					r.Fix, r.Confirm, r.Implausible, r.Stale, w.fix, w.confirm, w.implausible, w.stale)
			}
			if !sameVerdict(r.Verdict, w.verdict) {
				t.Errorf("verdict %+v, want %+v", r.Verdict, w.verdict)
			}
		})
	}
}

func sameVerdict(a, b *Verdict) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(a.Value-b.Value) < 1e-9 && a.Against == b.Against && a.Noise == b.Noise && a.NewBest == b.NewBest &&
		reflect.DeepEqual(append([]int{}, a.AgainstNumbers...), append([]int{}, b.AgainstNumbers...))
}

// TestDecideIsPure: the judge changes none of its inputs (the session
// hands it History's slices).
func TestDecideIsPure(t *testing.T) {
	t.Parallel()
	best := standing{Value: 1.0, Commit: "base", Numbers: []int{1}, Baselines: []float64{1.0}}
	first := &Experiment{Number: 4, Summary: Summary{ValBPB: 0.98}}
	decide(judgePolicy{PlausibleMax: 20}, best, trial{Kind: KindBaselineRepeat, Commit: "base"}, outcome{Value: 1.02})
	decide(judgePolicy{PlausibleMax: 20}, best, trial{Kind: KindConfirmation, ConfirmOf: first, Commit: "c"}, outcome{Value: 0.96})
	if !reflect.DeepEqual(best, standing{Value: 1.0, Commit: "base", Numbers: []int{1}, Baselines: []float64{1.0}}) || first.Summary.ValBPB != 0.98 {
		t.Errorf("inputs changed: %+v, %+v", best, first)
	}
}

func TestSeedOnlyChange(t *testing.T) {
	t.Parallel()
	for diff, want := range map[string]bool{
		"--- a/train.py\n+++ b/train.py\n-SEED = 1\n+SEED = 7\n": true,
		"-torch.manual_seed(1)\n+torch.manual_seed(2)\n+\n":      true,
		"-SEED = 1\n+SEED = 7\n+lr = 0.1\n":                      false,
		"--- a/train.py\n+++ b/train.py\n":                       false,
		"":                                                       false,
	} {
		if got := seedOnlyChange(diff); got != want {
			t.Errorf("seedOnlyChange(%q) = %v, want %v", diff, got, want)
		}
	}
}
