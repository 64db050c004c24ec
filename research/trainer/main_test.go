package trainer

import (
	"os"
	"testing"
)

// TestMain lets the trainers these tests start run under the shim: the
// shim is this test binary started again.
func TestMain(m *testing.M) {
	RunShimIfRequested()
	os.Exit(m.Run())
}
