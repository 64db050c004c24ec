package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddWorktreeCommitsLandInTheMainRepository(t *testing.T) {
	main := t.TempDir()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	os.WriteFile(filepath.Join(main, "train.py"), []byte("A = 1\n"), 0o644)
	git(main, "init", "-q", "-b", "main")
	git(main, "add", ".")
	git(main, "commit", "-q", "-m", "init")
	base := git(main, "rev-parse", "HEAD")

	wtDir := filepath.Join(t.TempDir(), "slots", "gpu1")
	wt, err := AddWorktree(main, wtDir, base)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(wtDir, "train.py"), []byte("A = 2\n"), 0o644)
	c, err := wt.Commit("a=2", []string{"train.py"}, testAuthor)
	if err != nil {
		t.Fatal(err)
	}
	if got := git(main, "cat-file", "-p", c+":train.py"); got != "A = 2" {
		t.Errorf("main repo sees %q", got)
	}
	if branch := git(main, "rev-parse", "main"); branch != base {
		t.Errorf("the worktree commit moved main: %s", branch)
	}
	// Reuse moves the existing worktree to another commit.
	again, err := AddWorktree(main, wtDir, base)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(wtDir, "train.py")); string(data) != "A = 1\n" {
		t.Errorf("reused worktree not reset: %q", data)
	}
	if head, _ := again.Head(); head != base {
		t.Errorf("head %s want %s", head, base)
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644)
	if _, err := AddWorktree(main, full, base); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty directory was taken over: %v", err)
	}
}
