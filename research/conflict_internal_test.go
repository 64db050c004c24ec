package research

import (
	"errors"
	"fmt"
	"testing"

	"github.com/autoresearch/autoresearch/research/patch"
)

// TestOnlyANeverTrainedProposalTrainsOnItsBase: a retry re-applies a change
// that was measured already, and training it on its old base would measure
// the same code again; other errors than a conflict are not a conflict; the
// bench's old behaviour drops every conflicting candidate.
func TestOnlyANeverTrainedProposalTrainsOnItsBase(t *testing.T) {
	conflict := fmt.Errorf("rebasing: %w", &patch.ConflictError{Path: "train.py", Hunk: 1, Reason: "changed meanwhile"})
	s := &session{m: &Manager{}}
	dropping := &session{m: &Manager{Config: Config{DropConflicting: true}}}
	for _, tc := range []struct {
		name string
		s    *session
		c    candidate
		err  error
		want bool
	}{
		{"proposal, conflict", s, candidate{kind: KindProposal, base: "abc"}, conflict, true},
		{"crash fix, conflict", s, candidate{kind: KindFix, base: "abc", attempt: 1}, conflict, true},
		{"retry, conflict", s, candidate{kind: KindRetry, base: "abc"}, conflict, false},
		{"proposal, other error", s, candidate{kind: KindProposal, base: "abc"}, errors.New("disk full"), false},
		{"proposal without a base", s, candidate{kind: KindProposal}, conflict, false},
		{"old behaviour", dropping, candidate{kind: KindProposal, base: "abc"}, conflict, false},
	} {
		if got := tc.s.trainsOnItsBase(&tc.c, tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
