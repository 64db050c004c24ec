package research

// Verdict is how the judge saw a finished experiment, so front ends show
// the comparison the judge actually made instead of recomputing one.
type Verdict struct {
	// Value is the val_bpb judged: this run's, or for a confirmation the
	// mean of this run and the run it confirms.
	Value float64
	// Against is the best it was compared with, and AgainstNumbers the
	// experiments whose (mean) val_bpb that is: one number, or several
	// when the best is a mean (baseline repeats, a confirmed keep), as the
	// run's History names them (also after a restart). Empty before the
	// first result.
	Against        float64
	AgainstNumbers []int
	Noise          float64 // the run's noise floor (1σ) when judged; 0 if unknown
	NewBest        bool    // a change became the best (not the baseline)
}

// Gain is how much lower Value is than Against (positive: better).
func (v Verdict) Gain() float64 { return v.Against - v.Value }

// Sigmas is the gain in noise units, 0 when the noise is unknown.
func (v Verdict) Sigmas() float64 {
	if v.Noise <= 0 {
		return 0
	}
	return v.Gain() / v.Noise
}

// Role tells what an experiment was for: most are changes; the baseline,
// its repeats (for the noise estimate) and confirmation reruns are labelled
// as such wherever experiments are counted or shown.
type Role string

const (
	RoleChange         Role = "change"
	RoleBaseline       Role = "baseline"
	RoleBaselineRepeat Role = "baseline repeat"
	RoleConfirmation   Role = "confirmation"
)

// RoleOf groups an experiment's Kind for display: proposals, fixes and
// retries are all changes.
func RoleOf(e Experiment) Role {
	switch e.Kind {
	case KindBaseline:
		return RoleBaseline
	case KindBaselineRepeat:
		return RoleBaselineRepeat
	case KindConfirmation:
		return RoleConfirmation
	}
	return RoleChange
}
