package research_test

import (
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestEveryTrainingStartsFromCleanTrackedFiles: a train.py that rewrites a
// tracked file it may not change is kept; every later training still
// starts from the file as committed (the harness skips a reset only when
// nothing ran in the working copy since its own check).
func TestEveryTrainingStartsFromCleanTrackedFiles(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "helper.txt", "orig\n")
	researchtest.Git(t, dir, "add", "helper.txt")
	researchtest.Git(t, dir, "commit", "-qm", "a tracked helper")
	const tamper = `
import glob as _glob
open("seen-%d.txt" % len(_glob.glob("seen-*.txt")), "w").write(open("helper.txt").read())
open("helper.txt", "a").write("tampered\n")
`
	first := func(req research.ProposalRequest) (string, error) {
		researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
		src := researchtest.Read(t, req.Dir, "train.py")
		researchtest.Write(t, req.Dir, "train.py", src+tamper)
		return "tamper with helper.txt", nil
	}
	h := newHarness(t, dir, research.Config{MaxExperiments: 4}, first,
		setConst(t, "VAL", "1.300000", "better"), setConst(t, "VAL", "1.350000", "worse"))
	run := h.runToEnd(t, research.StartRequest{Tag: "tamper"})
	if got := statuses(h.experiments(t, run)); got != "keep,keep,keep,discard" {
		t.Fatalf("statuses = %s", got)
	}
	for _, f := range []string{"seen-0.txt", "seen-1.txt", "seen-2.txt"} {
		if got := researchtest.Read(t, dir, f); got != "orig\n" {
			t.Errorf("%s: the training saw helper.txt as %q", f, got)
		}
	}
	if got := researchtest.Read(t, dir, "helper.txt"); got != "orig\n" {
		t.Errorf("helper.txt after the run: %q", got)
	}
}
