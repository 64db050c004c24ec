package research

import (
	"time"
)

// fromProposer tells whether c is the proposer's work (a new idea or its
// crash fix), as opposed to what the harness queues itself.
func (c *candidate) fromProposer() bool { return c.kind == KindProposal || c.kind == KindFix }

// candidate is a change ready to train. Proposals and retries carry file
// contents made on base; the slot that trains them rebases them onto the
// best commit of that moment. Baselines and confirmations carry a commit.
type candidate struct {
	kind        Kind              // what its experiment is for (recorded as the experiment's Kind)
	base        string            // commit the change was made on
	files       map[string]string // editable file -> content after the change
	commit      string            // baseline/confirm: the commit to train as is
	description string
	usage       Usage
	ideas       []Idea
	attempt     int         // crash-fix attempt number (0 = a new idea)
	confirmOf   *Experiment // KindConfirmation: the first run of the commit
	implausible bool        // KindConfirmation: the first run's result was implausible
	repeat      int         // KindBaseline 0, KindBaselineRepeat 1..
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
