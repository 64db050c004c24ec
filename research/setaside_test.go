package research_test

import (
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestFilesUndoneWithARefusedProposalAreSetAside: in sequential mode the
// model proposes in the person's working copy; a file that appears there
// meanwhile (here written during the proposal, as a person or another
// program might) is undone with the refused proposal, and a copy is kept
// under the state dir.
func TestFilesUndoneWithARefusedProposalAreSetAside(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			researchtest.Write(t, req.Dir, "data/cache.txt", "a person's cache\n")
			return "lower, and a file it may not write", nil
		},
		setConst(t, "VAL", "1.400000", "lower"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "aside"})
	if got := statuses(h.experiments(t, run)); got != "keep,keep" {
		t.Fatalf("statuses = %s", got)
	}
	copies, err := filepath.Glob(filepath.Join(h.m.Config.StateDir, "set-aside", "*", "data", "cache.txt"))
	if err != nil || len(copies) != 1 {
		t.Fatalf("set-aside copies = %v, %v", copies, err)
	}
	if got := researchtest.Read(t, filepath.Dir(copies[0]), "cache.txt"); got != "a person's cache\n" {
		t.Errorf("the copy holds %q", got)
	}
	if m, _ := filepath.Glob(filepath.Join(h.m.Config.StateDir, "set-aside", "*", "train.py")); len(m) != 0 {
		t.Errorf("the editable train.py was set aside too: %v", m)
	}
}
