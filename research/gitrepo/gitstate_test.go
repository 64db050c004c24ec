package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// Whatever git commands changed (packed and loose refs, a symbolic HEAD
// turned detached, a planted hook, config, a linked worktree's own HEAD),
// RestoreGitState puts back what GitState saw, and GitStateChanges names it.
func TestGitStateRestoresWhatGitChanged(t *testing.T) {
	dir, r := researchRepo(t)
	git(t, dir, "branch", "packed")
	git(t, dir, "tag", "-a", "-m", "annotated", "v1")
	git(t, dir, "pack-refs", "--all")
	git(t, dir, "branch", "loose")
	before, err := r.GitState()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD"))
	writeFile(t, dir, "extra.txt", "x\n")
	git(t, dir, "add", "extra.txt")
	git(t, dir, "commit", "-qm", "moves the current branch")
	git(t, dir, "branch", "-f", "packed", "HEAD")
	git(t, dir, "branch", "-D", "loose")
	git(t, dir, "tag", "-d", "v1")
	git(t, dir, "checkout", "-q", "--detach", "HEAD")
	writeFile(t, dir, ".git/hooks/pre-push", "#!/bin/sh\n")
	git(t, dir, "config", "core.hooksPath", "/tmp/elsewhere")

	after, err := r.GitState()
	if err != nil {
		t.Fatal(err)
	}
	changes := strings.Join(research.GitStateChanges(before, after), "; ")
	for _, want := range []string{"detached HEAD at", "deleted branch loose", "moved branch packed from " + head[:7], "deleted tag v1", "installed hook pre-push (removed)", "edited .git/config"} {
		if !strings.Contains(changes, want) {
			t.Errorf("changes %q lack %q", changes, want)
		}
	}
	if err := r.RestoreGitState(before); err != nil {
		t.Fatal(err)
	}
	again, err := r.GitState()
	if err != nil {
		t.Fatal(err)
	}
	if left := research.GitStateChanges(before, again); len(left) > 0 {
		t.Fatalf("after restore still changed: %q", left)
	}
	if got := strings.TrimSpace(git(t, dir, "rev-parse", "v1^{commit}")); got != head {
		t.Errorf("v1 -> %s, want %s", got, head)
	}
	if got := strings.TrimSpace(git(t, dir, "cat-file", "-t", "v1")); got != "tag" {
		t.Errorf("v1 is a %s, want the annotated tag object back", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "hooks", "pre-push")); !os.IsNotExist(err) {
		t.Errorf("hook still there: %v", err)
	}
	if cfg := readFile(t, dir, ".git/config"); strings.Contains(cfg, "hooksPath") {
		t.Errorf("config not restored:\n%s", cfg)
	}
}

// The harness never runs hooks: git worktree add would run a planted
// post-checkout hook, but runGit turns hooks off.
func TestGitCLINeverRunsHooks(t *testing.T) {
	dir, r := researchRepo(t)
	marker := filepath.Join(t.TempDir(), "hook-ran")
	hook := filepath.Join(dir, ".git", "hooks", "post-checkout")
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddWorktree(dir, filepath.Join(t.TempDir(), "wt"), head); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the post-checkout hook ran (%v)", err)
	}
}
