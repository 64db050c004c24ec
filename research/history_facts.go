package research

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// History is what a run's experiments say about the run as a whole: its
// baseline, its best (as the judge compares with it), its noise floor and
// its counts. It is the one definition of these facts: the session, status,
// the digest, the chart, App Home and the prompt all read them from here.
//
// History is pure: it is built from rows (lean rows do: it reads no diff
// and no log tail) by Add, in Number order, and does no I/O. Adding one
// experiment costs the same at the 10,000th as at the 10th.
type History struct {
	// Baseline is the first baseline run with a result (nil: none yet).
	Baseline *Experiment
	// BaselineValue is the baseline's val_bpb: the mean of BaselineValues
	// (0: none yet). It is the best the first change is judged against.
	BaselineValue float64
	// BaselineValues are the val_bpb of the baseline and its repeats that
	// have a result, in order.
	BaselineValues []float64
	// Best is the kept experiment the run stands on: the one with the
	// lowest BestValue (nil: nothing kept yet).
	Best *Experiment
	// BestValue is the best as the judge compares with it: the mean of the
	// baseline runs while the baseline is the best, the mean of both runs
	// of a confirmed keep, else Best's own val_bpb (0: none).
	BestValue float64
	// BestNumbers are the experiments whose (mean) val_bpb BestValue is.
	BestNumbers []int
	// Noise is the run-to-run standard deviation of val_bpb, from the
	// baseline runs (0 with fewer than two).
	Noise float64
	// Counts are the experiments by status, baseline repeats apart.
	Counts Counts
	// Kinds counts the experiments by what they were for.
	Kinds map[Kind]int
	// LastFinished is the latest experiment (by Number) that is not
	// running (nil: none).
	LastFinished *Experiment
	// Kept are the kept experiments in run order, each with the best it
	// was judged against.
	Kept []Keep

	// values are the val_bpb of the changes that may still be confirmed
	// (Number -> value): a confirmation's mean needs them.
	values map[int]float64
}

// Keep is one kept experiment of the run.
type Keep struct {
	Number     int
	Value      float64 // its value as the best (a mean for a confirmed keep or the baseline with repeats)
	Before     float64 // the best it was judged against (0: it is the first result)
	FinishedAt time.Time
}

// Delta is how much the keep lowered the best (positive is better; 0 for
// the first result).
func (k Keep) Delta() float64 {
	if k.Before == 0 {
		return 0
	}
	return k.Before - k.Value
}

// NewHistory builds the History of exps (one run's experiments, in Number
// order).
func NewHistory(exps []Experiment) History {
	var h History
	for i := range exps {
		h.Add(exps[i])
	}
	return h
}

// hasValue tells whether e finished with a usable val_bpb.
func hasValue(e Experiment) bool {
	v := e.Summary.ValBPB
	return (e.Status == StatusKeep || e.Status == StatusDiscard) && v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Add files the next experiment of the run (in Number order). Adding a
// running experiment counts it; add its finished row to a new History
// (or use runHistory, which follows updates).
func (h *History) Add(e Experiment) {
	e.Diff, e.LogTail = "", ""
	h.count(e, 1)
	if e.Status != StatusRunning {
		last := e
		h.LastFinished = &last
	}
	if !hasValue(e) {
		return
	}
	val := e.Summary.ValBPB
	if e.Kind.IsBaseline() {
		h.BaselineValues = append(h.BaselineValues, val)
		h.BaselineValue, h.Noise = meanStd(h.BaselineValues)
		if h.Baseline == nil {
			b := e
			h.Baseline = &b
		}
		// While the baseline is the best, the best is the mean of its runs.
		if h.Best != nil && h.Baseline.Number == h.Best.Number && e.Kind == KindBaselineRepeat {
			h.BestValue = h.BaselineValue
			h.BestNumbers = append(h.BestNumbers, e.Number)
			for i := range h.Kept {
				if h.Kept[i].Number == h.Best.Number {
					h.Kept[i].Value = h.BestValue
				}
			}
		}
	}
	if e.Status != StatusKeep {
		if e.Kind.IsChange() {
			if h.values == nil {
				h.values = map[int]float64{}
			}
			h.values[e.Number] = val
		}
		return
	}
	numbers := []int{e.Number}
	if of, ok := confirmedNumber(e); ok {
		if v, ok := h.values[of]; ok {
			val = (v + val) / 2
			numbers = []int{of, e.Number}
		}
	}
	h.Kept = append(h.Kept, Keep{Number: e.Number, Value: val, Before: h.BestValue, FinishedAt: e.FinishedAt})
	if h.Best != nil && val >= h.BestValue {
		return
	}
	b := e
	h.Best, h.BestValue, h.BestNumbers = &b, val, numbers
}

func (h *History) count(e Experiment, d int) {
	if h.Kinds == nil {
		h.Kinds = map[Kind]int{}
	}
	h.Kinds[e.Kind] += d
	switch e.Status {
	case StatusKeep:
		h.Counts.Keep += d
	case StatusDiscard:
		if e.Kind == KindBaselineRepeat {
			h.Counts.Repeats += d
		} else {
			h.Counts.Discard += d
		}
	case StatusCrash:
		h.Counts.Crash += d
	case StatusRunning:
		h.Counts.Running += d
	}
}

// BestBefore is the best among the keeps finished before t (0: none).
func (h *History) BestBefore(t time.Time) float64 {
	best := 0.0
	for _, k := range h.Kept {
		if !k.FinishedAt.IsZero() && k.FinishedAt.Before(t) && (best == 0 || k.Value < best) {
			best = k.Value
		}
	}
	return best
}

// confirmedNumber reads which experiment a confirmation reran from the
// description the loop gives it ("confirm #12: ...").
func confirmedNumber(e Experiment) (int, bool) {
	if e.Kind != KindConfirmation {
		return 0, false
	}
	rest := strings.TrimPrefix(e.Description, "confirm #")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	return n, err == nil
}

// Finish files the finished state e of an experiment that was added while
// running (old): it leaves the running count and is filed as Add files it.
func (h *History) Finish(old, e Experiment) {
	h.count(old, -1)
	h.Add(e)
}

// clone copies h so the copy shares nothing mutable with it.
func (h History) clone() History {
	c := h
	c.BaselineValues = append([]float64(nil), h.BaselineValues...)
	c.BestNumbers = append([]int(nil), h.BestNumbers...)
	c.Kept = append([]Keep(nil), h.Kept...)
	c.Kinds = make(map[Kind]int, len(h.Kinds))
	for k, v := range h.Kinds {
		c.Kinds[k] = v
	}
	c.values = nil // only Add reads it, and a copy is for reading
	return c
}
