package slack

import (
	"os"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestMain skips a version manager's python3 shim for the tests that run
// the loop with a python3 trainer (see researchtest.PreferRealPython).
func TestMain(m *testing.M) {
	researchtest.PreferRealPython()
	os.Exit(m.Run())
}
