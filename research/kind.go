package research

import (
	"fmt"
	"strings"
)

// Kind says what an experiment was for. The loop sets it when it starts
// the experiment and it never changes; the store keeps it in a column
// (migration 009), so nothing reads it back from the description.
type Kind string

const (
	// KindBaseline trains the branch as it is: the first result of a run.
	KindBaseline Kind = "baseline"
	// KindBaselineRepeat trains the baseline again to estimate the
	// run-to-run noise; it is never kept and never counts as a discard.
	KindBaselineRepeat Kind = "baseline_repeat"
	// KindProposal trains the proposer's change (a new idea).
	KindProposal Kind = "proposal"
	// KindConfirmation reruns a commit whose gain was within the noise (or
	// implausible) before it can be kept.
	KindConfirmation Kind = "confirmation"
	// KindRetry re-applies a past change on the current best (asked for by
	// a person, or a kept change the adopted best lacks).
	KindRetry Kind = "retry"
	// KindFix is the proposer's repair of a proposal that crashed
	// (Attempt 1, 2, ...).
	KindFix Kind = "fix"
)

// Kinds lists every kind, in the order they are shown.
var Kinds = []Kind{KindBaseline, KindBaselineRepeat, KindProposal, KindConfirmation, KindRetry, KindFix}

// Valid tells whether k is one of Kinds (the empty kind is not).
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Check returns a clear error when k is not a valid kind.
func (k Kind) Check() error {
	if k.Valid() {
		return nil
	}
	names := make([]string, len(Kinds))
	for i, v := range Kinds {
		names[i] = string(v)
	}
	return fmt.Errorf("experiment kind %q is not one of %s: set it where the experiment is made", string(k), strings.Join(names, ", "))
}

// IsBaseline tells whether the experiment measured the branch as it was:
// the baseline or one of its repeats.
func (k Kind) IsBaseline() bool { return k == KindBaseline || k == KindBaselineRepeat }

// IsChange tells whether the experiment tried a change to the editable
// files: a proposal, its fix, or a retry.
func (k Kind) IsChange() bool { return k == KindProposal || k == KindFix || k == KindRetry }
