package trainer

import (
	"os"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestMain lets the trainers these tests start run under the shim: the
// shim is this test binary started again.
func TestMain(m *testing.M) {
	RunShimIfRequested()
	researchtest.PreferRealPython() // python3 without a version manager's shim
	os.Exit(m.Run())
}
