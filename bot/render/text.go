package render

import (
	"fmt"
	"math"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Small text helpers every front end shares, so a duration, a count or a
// plural reads the same in the terminal, the channel and the digest (a
// commit and a one-line description: research.ShortCommit, research.OneLine).

// ExperimentDuration is how long the experiment trained: the harness's wall
// time, else the training script's own total.
func ExperimentDuration(e research.Experiment) time.Duration {
	if e.TrainSeconds > 0 {
		return seconds(e.TrainSeconds)
	}
	return seconds(e.Summary.TotalSeconds)
}

// MemGB is the experiment's peak GPU memory in GB.
func MemGB(e research.Experiment) float64 { return e.Summary.PeakVRAMMB / 1024 }

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// HumanCount writes a large count compactly: 950, 12.3k, 4.6M.
func HumanCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Plural is n with the word that fits it: "1 crash", "3 crashes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// HasValue says whether the experiment has a usable val_bpb (a positive,
// finite number) to plot or compare.
func HasValue(e research.Experiment) bool {
	return e.Summary.ValBPB > 0 && !math.IsNaN(e.Summary.ValBPB) && !math.IsInf(e.Summary.ValBPB, 0)
}
