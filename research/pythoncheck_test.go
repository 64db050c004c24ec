package research_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestPythonChecksShareOneInterpreter: every Python check of a Checker
// (syntax, metric, HEAD's findings) runs in one long-lived interpreter,
// which Close ends; HEAD's findings are worked out once per version of the
// file. An interpreter wrapper counts the starts.
func TestPythonChecksShareOneInterpreter(t *testing.T) {
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
	script := "#!/bin/sh\necho run $$ >> '" + calls + "'\nexec '" + py + "' \"$@\"\n"
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
	t.Cleanup(c.Close)
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
	if n := starts(); n != 1 {
		t.Errorf("%d interpreter starts for the first proposal, want 1 (the checks and HEAD's findings share it)", n)
	}
	if err := propose(strings.Replace(head, "VAL = 1.500000", "VAL = 1.300000", 1)); err != nil {
		t.Fatalf("an honest change: %v", err)
	}
	if n := starts(); n != 1 {
		t.Errorf("%d interpreter starts after the second proposal, want 1", n)
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
	if n := starts(); n != 1 {
		t.Errorf("%d interpreter starts after four proposals, want 1", n)
	}
	// A file that crashes the parser's recursion is refused, and the
	// interpreter serves the next check.
	err = propose(head + "x = " + strings.Repeat("(", 5000) + strings.Repeat(")", 5000) + "\n")
	if !errors.As(err, &refused) {
		t.Errorf("a file nested too deep to parse: %v", err)
	}
	if err := propose(strings.Replace(head, "VAL = 1.500000", "VAL = 1.200000", 1)); err != nil {
		t.Fatalf("an honest change after a refusal: %v", err)
	}

	// Close ends the interpreter (and waits for it).
	b, _ := os.ReadFile(calls)
	var pid int
	if _, err := fmt.Sscanf(string(b), "run %d", &pid); err != nil {
		t.Fatalf("the wrapper recorded %q: %v", b, err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the interpreter %d is not running before Close: %v", pid, err)
	}
	c.Close()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the interpreter %d outlived Close: %v", pid, err)
	}
}
