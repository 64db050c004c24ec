package research

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// The judge's decisions, apart from everything that carries them out: decide
// is a pure function of the best of the moment, what was trained, how it
// came out and the run's policy. The session (judge.go) records the
// ruling, moves the branch and queues what follows from it.

// judgePolicy is what the judge takes from the Config.
type judgePolicy struct {
	MinDelta     float64 // a keep must beat the best by more than this
	ConfirmSigma float64 // gains below this many σ of noise are rerun before a keep
	FixAttempts  int     // crash-fix attempts per idea
	// A gain above ImplausibleSigma σ of the noise (when it is known; 0:
	// never) or above ImplausibleGain of the best (when it is not; 0:
	// never), or a val_bpb outside PlausibleMin..PlausibleMax, is rerun
	// before it can be kept.
	ImplausibleSigma float64
	ImplausibleGain  float64
	PlausibleMin     float64
	PlausibleMax     float64
}

// standing is the best a finished experiment is judged against, as it is
// at that moment.
type standing struct {
	Value  float64 // the run's best val_bpb (0: no result yet)
	Commit string  // the run's best commit
	Noise  float64 // the run-to-run σ of val_bpb (0: unknown)
	// Numbers are the experiments whose (mean) val_bpb Value is, and
	// Baselines the val_bpb of the baseline runs with a result so far; both
	// as the run's History has them.
	Numbers   []int
	Baselines []float64
}

// trial is what was trained: what it was for, and what identifies it.
type trial struct {
	Kind    Kind
	Attempt int    // the crash-fix attempt (0: a new idea)
	Commit  string // the commit trained
	Parent  string // the best it was made on (stale when not the best now)
	Diff    string // its change (a seed-only change is never trusted)
	// ConfirmOf is a confirmation's first run, and Implausible tells that
	// the first run was held back as implausible (not just within noise).
	ConfirmOf   *Experiment
	Implausible bool
}

// confirms tells whether t is a confirmation rerun the judge can pair with
// its first run.
func (t trial) confirms() bool { return t.Kind == KindConfirmation && t.ConfirmOf != nil }

// outcome is how a training ended.
type outcome struct {
	Value        float64 // val_bpb (when it trained to the end)
	Crash        string  // why it crashed, redacted ("": it did not)
	StoppedEarly string  // why early stopping ended it ("": it did not)
}

// measured tells whether the training gave a result to judge.
func (o outcome) measured() bool { return o.Crash == "" && o.StoppedEarly == "" }

// ruling is the judge's decision on one experiment.
type ruling struct {
	Status string
	Reason string
	// BestValue, BestCommit and Noise are the run's best and noise floor
	// after this experiment (unchanged unless it moved them).
	BestValue  float64
	BestCommit string
	Noise      float64
	// Fix: the crash gets a repair attempt (unless the run is stopping).
	Fix bool
	// Confirm: the experiment is rerun before it can be kept; Implausible
	// when its result looked too good (or out of range) rather than within
	// the noise.
	Confirm     bool
	Implausible bool
	// Stale: it became the best though it was made on an older best, so it
	// lacks what moved the best meanwhile (adopted; see adoptStale).
	Stale bool
	// Verdict is the comparison made, for front ends (nil: no result).
	Verdict *Verdict
}

// decide judges one finished experiment against the best of the moment.
func decide(p judgePolicy, best standing, t trial, out outcome) ruling {
	r := ruling{BestValue: best.Value, BestCommit: best.Commit, Noise: best.Noise}
	switch {
	case out.Crash != "":
		r.Status, r.Reason = StatusCrash, out.Crash
		r.Fix = (t.Kind == KindProposal || t.Kind == KindFix) && t.Attempt < p.FixAttempts
		return r
	case out.StoppedEarly != "":
		// Its diff is kept: `retry N` trains it to the end.
		r.Status, r.Reason = StatusDiscard, out.StoppedEarly
		return r
	}
	r.Verdict = &Verdict{Value: out.Value, Against: best.Value, AgainstNumbers: best.Numbers, Noise: best.Noise}
	switch {
	case t.Kind.IsBaseline():
		r.baseline(best, t, out.Value)
	case t.confirms() && t.Implausible:
		r.implausibleConfirmation(p, best, t, out.Value)
	default:
		r.change(p, best, t, out.Value)
	}
	return r
}

// keep makes t the best at val.
func (r *ruling) keep(t trial, val float64, reason string) {
	r.Status, r.Reason = StatusKeep, reason
	r.BestCommit, r.BestValue = t.Commit, val
}

// baseline: the first successful baseline run sets the best; repeats
// estimate the noise, and the best becomes the mean of all baseline runs
// while the baseline is still the best.
func (r *ruling) baseline(best standing, t trial, val float64) {
	if best.Value == 0 {
		r.keep(t, val, "baseline")
		return
	}
	r.Status, r.Reason = StatusDiscard, "baseline repeat, for the noise estimate"
	vals := append(append([]float64(nil), best.Baselines...), val)
	if len(vals) < 2 {
		return
	}
	mean, sd := meanStd(vals)
	r.Noise = sd
	// With several slots a change can be kept while a repeat still trains:
	// the mean of the baseline runs is then no longer the best.
	if best.Commit == t.Commit {
		r.BestValue = mean
	}
	r.Reason = fmt.Sprintf("baseline repeat: mean %.6f, noise %.6f over %d runs", mean, sd, len(vals))
}

// change compares a change (or a confirmation rerun, by the mean of both
// runs) with the best. Gains within the noise, from a seed alone or too
// good to believe are rerun before they are kept; a winner found on a
// stale base is adopted.
func (r *ruling) change(p judgePolicy, best standing, t trial, val float64) {
	confirm := t.confirms()
	if confirm {
		val = (t.ConfirmOf.Summary.ValBPB + val) / 2
		r.Verdict.Value = val
	}
	if best.Value == 0 {
		r.keep(t, val, "first result")
		r.Verdict.NewBest = true
		return
	}
	gain := best.Value - val
	if gain <= p.MinDelta {
		r.Status, r.Reason = StatusDiscard, fmt.Sprintf("no improvement (%+.6f)", val-best.Value)
		if confirm {
			r.Reason = fmt.Sprintf("not confirmed: mean of 2 runs %.6f vs best %.6f", val, best.Value)
		}
		return
	}
	if !confirm {
		why := p.outOfRange(val)
		if why == "" {
			why = p.implausibleGain(gain, best.Value, best.Noise)
		}
		if why != "" {
			r.Status = StatusDiscard
			r.Reason = ReasonImplausible + ": " + why + "; " + reasonRerun + " before it can be kept (a person may want to look at the change)"
			r.Confirm, r.Implausible = true, true
			return
		}
	}
	noiseBar := p.ConfirmSigma * best.Noise
	seedOnly := seedOnlyChange(t.Diff)
	if !confirm && (gain < noiseBar || seedOnly) {
		r.Status, r.Confirm = StatusDiscard, true
		r.Reason = fmt.Sprintf("gain %.6f is within %.1fσ of noise (%.6f): %s", gain, p.ConfirmSigma, noiseBar, reasonRerun)
		if seedOnly {
			r.Reason = fmt.Sprintf("gain %.6f from a seed change alone: %s", gain, reasonRerun)
		}
		return
	}
	if confirm && seedOnly && gain < noiseBar {
		r.Status, r.Reason = StatusDiscard, fmt.Sprintf("a seed change within the noise (mean gain %.6f < %.6f) is never kept", gain, noiseBar)
		return
	}
	reason := fmt.Sprintf("improved by %.6f", gain)
	if confirm {
		reason = fmt.Sprintf("confirmed: mean of 2 runs %.6f improves by %.6f", val, gain)
	}
	r.keep(t, val, reason)
	r.Verdict.NewBest = true
	r.Stale = t.Parent != best.Commit
}

// implausibleConfirmation decides the rerun of an implausible result: kept
// only when the rerun is in range and improves on the best by itself, and
// the two runs together do too (the rerun alone when the first was out of
// range, since a mean with it means nothing).
func (r *ruling) implausibleConfirmation(p judgePolicy, best standing, t trial, again float64) {
	first := t.ConfirmOf.Summary.ValBPB
	val := (first + again) / 2
	if p.outOfRange(first) != "" {
		val = again
	}
	r.Verdict.Value = val
	if why := p.outOfRange(again); why != "" {
		r.Status, r.Reason = StatusDiscard, ReasonImplausible+" and not confirmed: the rerun's "+why
		return
	}
	if best.Value-again <= p.MinDelta || best.Value-val <= p.MinDelta {
		r.Status = StatusDiscard
		r.Reason = fmt.Sprintf("%s and not confirmed: the rerun gave %.6f (first run %.6f) vs best %.6f", ReasonImplausible, again, first, best.Value)
		return
	}
	gain := best.Value - val
	r.keep(t, val, fmt.Sprintf("%s gain confirmed by a rerun: %.6f (runs %.6f and %.6f) improves by %.6f; a person may want to look at the change", ReasonImplausible, val, first, again, gain))
	r.Verdict.NewBest = true
	r.Stale = t.Parent != best.Commit
}

var seedLine = regexp.MustCompile(`(?i)seed`)

// seedOnlyChange tells whether every changed line of a diff mentions a
// seed: such a change moves val_bpb by luck alone.
func seedOnlyChange(diff string) bool {
	changed := 0
	for _, line := range strings.Split(diff, "\n") {
		if strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
			continue
		}
		if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			if strings.TrimSpace(line[1:]) == "" {
				continue
			}
			changed++
			if !seedLine.MatchString(line) {
				return false
			}
		}
	}
	return changed > 0
}

func meanStd(vals []float64) (mean, sd float64) {
	if len(vals) == 0 {
		return 0, 0
	}
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	if len(vals) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(vals)-1))
}
