package research

import (
	"errors"
	"fmt"
	"time"
)

// InputError is a refusal caused by what a person asked for (bad tag, dirty
// repo, missing file, run already active). Nothing was changed. The CLI
// exits with status 2 on these.
type InputError struct {
	Msg string
	Err error
}

func (e *InputError) Error() string { return e.Msg }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError tells whether err is a refusal of bad input.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// ErrRunActive is wrapped by a refusal to start while a run is active.
var ErrRunActive = errors.New("a run is already active")

// RunActiveError says which run is active, who started it and when.
func runActiveError(r Run, since time.Time) error {
	by := r.StartedBy
	if by == "" {
		by = "someone"
	}
	return &InputError{
		Msg: fmt.Sprintf("run %s is already active (started by %s at %s); stop it first", r.Tag, by, since.UTC().Format("2006-01-02 15:04 UTC")),
		Err: ErrRunActive,
	}
}

// ErrNoRun is returned by controls that need an active run when there is none.
var ErrNoRun = errors.New("no run is active")

// ErrUnavailable marks proposer failures that will not go away by trying
// again at once (the LLM endpoint keeps failing): the run pauses.
var ErrUnavailable = errors.New("proposer unavailable")

// ErrExhausted marks a proposer that has nothing left to try from this base.
var ErrExhausted = errors.New("proposer exhausted")

// ErrCannotFix marks a proposer that cannot repair a crashed attempt; the
// loop then moves on to a new idea.
var ErrCannotFix = errors.New("proposer cannot fix crashes")

// RefusedError is a proposal the harness refused before training (empty
// change, a file outside the editable set, a syntax error). The proposer is
// told Reason and may try again.
type RefusedError struct {
	Reason string
	Files  []string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }
