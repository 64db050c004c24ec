package research

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// timeBudgetLine is upstream's fixed training budget, a literal number of
// seconds assigned at the top level of prepare.py (or train.py).
var timeBudgetLine = regexp.MustCompile(`(?m)^TIME_BUDGET\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*(?:#.*)?$`)

// TimeBudget reads the training budget a repo declares: the first literal
// TIME_BUDGET in prepare.py, else in train.py. It returns the file it came
// from, or 0 and "" when neither declares one. This is what an experiment
// trains for; the harness's --timeout is only the guard around it.
func TimeBudget(dir string) (time.Duration, string) {
	for _, name := range []string{"prepare.py", "train.py"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		m := timeBudgetLine.FindSubmatch(data)
		if m == nil {
			continue
		}
		seconds, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil || seconds <= 0 {
			continue
		}
		return time.Duration(seconds * float64(time.Second)), name
	}
	return 0, ""
}
