package research_test

import (
	"os"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestMain skips a version manager's python3 shim: the loop tests start
// python3 for every training and syntax check (see PreferRealPython).
func TestMain(m *testing.M) {
	researchtest.PreferRealPython()
	os.Exit(m.Run())
}
