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
func (p judgePolicy) outOfRange(val float64) string {
	if val < p.PlausibleMin || val > p.PlausibleMax {
		dir := "below"
		if val > p.PlausibleMax {
			dir = "above"
		}
		return fmt.Sprintf("val_bpb %g is %s the plausible range %g..%g", val, dir, p.PlausibleMin, p.PlausibleMax)
	}
	return ""
}

// implausibleGain says why a gain over best is too large to trust on one
// run ("" when it is not): more than ImplausibleSigma σ of the measured
// noise, or, with no noise measured, more than ImplausibleGain of best.
func (p judgePolicy) implausibleGain(gain, best, noise float64) string {
	switch {
	case noise > 0 && p.ImplausibleSigma > 0 && gain > p.ImplausibleSigma*noise:
		return fmt.Sprintf("gain %.6f is %.0fσ of the noise (%.6f), more than %gσ", gain, gain/noise, noise, p.ImplausibleSigma)
	case noise <= 0 && p.ImplausibleGain > 0 && best > 0 && gain > p.ImplausibleGain*best:
		return fmt.Sprintf("gain %.6f is %.1f%% of the best %.6f, more than %g%%", gain, 100*gain/best, best, 100*p.ImplausibleGain)
	}
	return ""
}
