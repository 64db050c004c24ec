package bench

import (
	"os"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// TestMain lets the scenario tests' trainers run under the shim, as the
// binary runs them, and skips a version manager's python3 shim.
func TestMain(m *testing.M) {
	trainer.RunShimIfRequested()
	researchtest.PreferRealPython()
	os.Exit(m.Run())
}
