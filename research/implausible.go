package research

import (
	"fmt"
	"strings"
)

// ReasonImplausible starts the reason of every experiment whose result
// looked too good (or out of range) to keep on one run, so front ends can
// ask a person to look.
const ReasonImplausible = "implausible"

// WasImplausible reports whether e's result was judged implausible: held
// back for a rerun, or the rerun that confirmed or refuted it.
func WasImplausible(e Experiment) bool {
	return strings.HasPrefix(e.Reason, ReasonImplausible)
}

// outOfRange says why val is not a plausible val_bpb ("" when it is).
func (c Config) outOfRange(val float64) string {
	switch {
	case c.PlausibleMin > 0 && val < c.PlausibleMin:
		return fmt.Sprintf("val_bpb %g is below the plausible range %g..%g", val, c.PlausibleMin, c.PlausibleMax)
	case c.PlausibleMax > 0 && val > c.PlausibleMax:
		return fmt.Sprintf("val_bpb %g is above the plausible range %g..%g", val, c.PlausibleMin, c.PlausibleMax)
	}
	return ""
}

// implausibleGain says why a gain over best is too large to trust on one
// run ("" when it is not): more than ImplausibleSigma σ of the measured
// noise, or, with no noise measured, more than ImplausibleGain of best.
func (c Config) implausibleGain(gain, best, noise float64) string {
	switch {
	case noise > 0 && c.ImplausibleSigma > 0 && gain > c.ImplausibleSigma*noise:
		return fmt.Sprintf("gain %.6f is %.0fσ of the noise (%.6f), more than %gσ", gain, gain/noise, noise, c.ImplausibleSigma)
	case noise <= 0 && c.ImplausibleGain > 0 && best > 0 && gain > c.ImplausibleGain*best:
		return fmt.Sprintf("gain %.6f is %.1f%% of the best %.6f, more than %g%%", gain, 100*gain/best, best, 100*c.ImplausibleGain)
	}
	return ""
}

// judgeImplausible holds back a first run whose result is implausible: it
// is discarded for now and rerun; nil when the result is plausible.
func (s *session) judgeImplausible(c *candidate, e *Experiment, run *Run, gain float64) []*candidate {
	cfg := s.m.Config
	why := cfg.outOfRange(e.Summary.ValBPB)
	if why == "" {
		why = cfg.implausibleGain(gain, run.BestValBPB, run.Noise)
	}
	if why == "" {
		return nil
	}
	e.Status = StatusDiscard
	e.Reason = ReasonImplausible + ": " + why + "; rerunning to confirm before it can be kept (a person may want to look at the change)"
	return []*candidate{{kind: kindConfirm, implausible: true, commit: e.Commit, confirmOf: ptr(*e),
		description: "confirm #" + fmt.Sprint(e.Number) + ": " + strings.TrimPrefix(e.Description, "confirm ")}}
}

// judgeImplausibleConfirm decides the rerun of an implausible result: kept
// only when the rerun is in range and improves on the best by itself, and
// the two runs together do too (the rerun alone when the first was out of
// range, since a mean with it means nothing).
func (s *session) judgeImplausibleConfirm(c *candidate, e *Experiment, run *Run) bool {
	cfg := s.m.Config
	first, again := c.confirmOf.Summary.ValBPB, e.Summary.ValBPB
	if why := cfg.outOfRange(again); why != "" {
		e.Status, e.Reason = StatusDiscard, ReasonImplausible+" and not confirmed: the rerun's "+why
		return false
	}
	val := s.confirmedValue(c, e)
	if run.BestValBPB-again <= cfg.MinDelta || run.BestValBPB-val <= cfg.MinDelta {
		e.Status = StatusDiscard
		e.Reason = fmt.Sprintf("%s and not confirmed: the rerun gave %.6f (first run %.6f) vs best %.6f", ReasonImplausible, again, first, run.BestValBPB)
		return false
	}
	gain := run.BestValBPB - val
	e.Status = StatusKeep
	e.Reason = fmt.Sprintf("%s gain confirmed by a rerun: %.6f (runs %.6f and %.6f) improves by %.6f; a person may want to look at the change", ReasonImplausible, val, first, again, gain)
	run.BestCommit, run.BestValBPB = e.Commit, val
	return true
}

// confirmedValue is what a confirmation measures: the mean of both runs,
// or the rerun alone when the first run's value was out of range (a mean
// with it means nothing).
func (s *session) confirmedValue(c *candidate, e *Experiment) float64 {
	if c.implausible && s.m.Config.outOfRange(c.confirmOf.Summary.ValBPB) != "" {
		return e.Summary.ValBPB
	}
	return (c.confirmOf.Summary.ValBPB + e.Summary.ValBPB) / 2
}
