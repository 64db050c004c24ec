package research

import (
	"time"
)

// candidateKind says where a candidate came from.
type candidateKind int

const (
	kindProposal candidateKind = iota // the proposer's change (or its crash fix)
	kindBaseline                      // the branch as it is, to measure and to estimate noise
	kindConfirm                       // a rerun of a commit whose gain was within the noise
	kindRetry                         // a past change re-applied on the current best
)

// experimentKind is the Kind of the experiment c is recorded as.
func (c *candidate) experimentKind() Kind {
	switch c.kind {
	case kindBaseline:
		if c.repeat > 0 {
			return KindBaselineRepeat
		}
		return KindBaseline
	case kindConfirm:
		return KindConfirmation
	case kindRetry:
		return KindRetry
	}
	if c.attempt > 0 {
		return KindFix
	}
	return KindProposal
}

// candidate is a change ready to train. Proposals and retries carry file
// contents made on base; the slot that trains them rebases them onto the
// best commit of that moment. Baselines and confirmations carry a commit.
type candidate struct {
	kind        candidateKind
	base        string            // commit the change was made on
	files       map[string]string // editable file -> content after the change
	commit      string            // baseline/confirm: the commit to train as is
	description string
	usage       Usage
	ideas       []Idea
	attempt     int         // crash-fix attempt number (0 = a new idea)
	confirmOf   *Experiment // kindConfirm: the first run of the commit
	implausible bool        // kindConfirm: the first run's result was implausible
	repeat      int         // kindBaseline: 0 for the baseline, 1.. for repeats
	proposedIn  time.Duration
	by          string // who asked (retry)
	handed      bool   // came from the proposer through the hand-off channel
	judged      bool   // its experiment's outcome is recorded (set under session.mu)
	// lossCurve is the training-loss curve of its experiment, and
	// stoppedEarly the reason when early stopping ended the training.
	lossCurve    []CurvePoint
	stoppedEarly string
	// cleanAt: the proposal workspace was checked and restored to this
	// commit right after the change was captured, as proposal number
	// cleanSeq (session.proposals) after cleanTrainings trainings; see
	// stillClean.
	cleanAt        string
	cleanSeq       int
	cleanTrainings int
}
