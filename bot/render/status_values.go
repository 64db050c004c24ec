package render

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// The values status and App Home show for the best and the baseline come
// from the run's research.History, so they are the numbers the judge
// compares with: a mean where the best is the baseline with its repeats or
// a confirmed keep. A Status without a History (built by hand) shows the
// experiments' own values.

// shownBest is the best's value and, when it is a mean, what of.
func ShownBest(st research.Status) (val float64, note string) {
	h := st.History
	if st.Best == nil {
		return 0, ""
	}
	if h.Best == nil || h.Best.Number != st.Best.Number || h.BestValue <= 0 {
		return st.Best.Summary.ValBPB, ""
	}
	if len(h.BestNumbers) < 2 {
		return h.BestValue, ""
	}
	nums := make([]string, len(h.BestNumbers))
	for i, n := range h.BestNumbers {
		nums[i] = fmt.Sprintf("#%d", n)
	}
	return h.BestValue, " (mean of " + strings.Join(nums, ", ") + ")"
}

// shownBaseline is the baseline's value and, when it is the mean of its
// repeats, how many runs that is.
func ShownBaseline(st research.Status) (val float64, note string) {
	h := st.History
	if st.Baseline == nil {
		return 0, ""
	}
	if h.Baseline == nil || h.Baseline.Number != st.Baseline.Number || h.BaselineValue <= 0 {
		return st.Baseline.Summary.ValBPB, ""
	}
	if n := len(h.BaselineValues); n > 1 {
		return h.BaselineValue, fmt.Sprintf(" (mean of %d runs)", n)
	}
	return h.BaselineValue, ""
}

// shownNoise is the run's noise floor (0: unknown).
func ShownNoise(st research.Status) float64 {
	if st.History.Noise > 0 {
		return st.History.Noise
	}
	if st.Run != nil {
		return st.Run.Noise
	}
	return 0
}
