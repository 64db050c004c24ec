package research

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTimeBudgetReadsTheRepo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prepare, train string
		want                 time.Duration
		from                 string
	}{
		{"upstream", "TIME_BUDGET = 300  # 5 minutes\n", "", 5 * time.Minute, "prepare.py"},
		{"first literal wins", "TIME_BUDGET = 20\nTIME_BUDGET = int(os.environ.get('X', TIME_BUDGET))\n", "", 20 * time.Second, "prepare.py"},
		{"fractional", "TIME_BUDGET=90.5\n", "", 90500 * time.Millisecond, "prepare.py"},
		{"from train.py", "import os\n", "TIME_BUDGET = 60\n", time.Minute, "train.py"},
		{"indented is not top level", "def f():\n    TIME_BUDGET = 7\n", "", 0, ""},
		{"an expression is not read", "TIME_BUDGET = 5 * 60\n", "", 0, ""},
		{"zero is no budget", "TIME_BUDGET = 0\n", "", 0, ""},
		{"none", "", "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.prepare != "" {
				os.WriteFile(filepath.Join(dir, "prepare.py"), []byte(tc.prepare), 0o644)
			}
			if tc.train != "" {
				os.WriteFile(filepath.Join(dir, "train.py"), []byte(tc.train), 0o644)
			}
			got, from := TimeBudget(dir)
			if got != tc.want || from != tc.from {
				t.Errorf("TimeBudget = %v from %q, want %v from %q", got, from, tc.want, tc.from)
			}
		})
	}
}
