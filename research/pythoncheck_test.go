package research_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestPythonChecksStartOneInterpreterPerFile: the syntax and the metric
// check of a proposal run in one interpreter, and HEAD's findings are
// worked out once per version of the file, not at every proposal. An
// interpreter wrapper counts the starts.
func TestPythonChecksStartOneInterpreterPerFile(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := researchtest.New(t)
	src := researchtest.Read(t, dir, "train.py")
	researchtest.Write(t, dir, "train.py", strings.Replace(src, "VAL = 1.500000\n", "VAL = 1.500000\nglobals()['LEGACY'] = 1\n", 1))
	researchtest.Git(t, dir, "commit", "-qam", "legacy globals write")
	head := researchtest.Read(t, dir, "train.py")

	scratch := t.TempDir()
	calls := filepath.Join(scratch, "calls")
	wrapper := filepath.Join(scratch, "python")
	script := "#!/bin/sh\necho run >> '" + calls + "'\nexec '" + py + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	starts := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "run")
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &research.Checker{Repo: repo, Editable: []string{"train.py"}, ReadOnly: []string{"prepare.py"}, Python: wrapper}
	propose := func(content string) error {
		t.Helper()
		if err := c.Snapshot(); err != nil {
			t.Fatal(err)
		}
		researchtest.Write(t, dir, "train.py", content)
		_, err := c.Check(context.Background())
		if rerr := repo.RestoreFiles([]string{"train.py"}); rerr != nil {
			t.Fatal(rerr)
		}
		return err
	}

	if err := propose(strings.Replace(head, "VAL = 1.500000", "VAL = 1.400000", 1)); err != nil {
		t.Fatalf("an honest change: %v", err)
	}
	if n := starts(); n != 2 {
		t.Errorf("%d interpreter starts for the first proposal, want 2 (the checks, HEAD's findings)", n)
	}
	if err := propose(strings.Replace(head, "VAL = 1.500000", "VAL = 1.300000", 1)); err != nil {
		t.Fatalf("an honest change: %v", err)
	}
	if n := starts(); n != 3 {
		t.Errorf("%d interpreter starts after the second proposal, want 3 (HEAD's findings kept)", n)
	}
	var refused *research.RefusedError
	err = propose(head + "globals()['evaluate_bpb'] = lambda *a: 0.1\n")
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "line") {
		t.Errorf("a new metric finding: %v", err)
	}
	err = propose(head + "def broken(:\n")
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "train.py does not parse as Python") ||
		!strings.Contains(refused.Reason, `File "train.py"`) || strings.Contains(refused.Reason, dir) {
		t.Errorf("a syntax error: %v", err)
	}
	if n := starts(); n != 5 {
		t.Errorf("%d interpreter starts after four proposals, want 5", n)
	}
}
