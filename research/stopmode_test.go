package research_test

import (
	"context"
	"errors"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// TestStopRefusesAnUnknownMode: only the two modes people ask for are
// accepted; anything else is a clear input error that changes nothing.
func TestStopRefusesAnUnknownMode(t *testing.T) {
	t.Parallel()
	var m research.Manager // no repository: the mode is checked first
	err := m.Stop(context.Background(), "tester", research.StopMode(7))
	var input *research.InputError
	if !errors.As(err, &input) {
		t.Fatalf("Stop with mode 7: %v, want an InputError", err)
	}
}
