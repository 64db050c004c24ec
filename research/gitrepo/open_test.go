package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenNotRepository(t *testing.T) {
	isolateGit(t)
	plain := t.TempDir()
	dir, _ := researchRepo(t)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]string{
		"plain dir": plain,
		"missing":   filepath.Join(plain, "nope"),
		"subdir":    sub, // refused: never operate on an enclosing repo
	} {
		if _, err := Open(d); !errors.Is(err, ErrNotRepository) {
			t.Errorf("%s: Open err = %v, want ErrNotRepository", name, err)
		}
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(repo root): %v", err)
	}
	if r.Root() != dir {
		t.Errorf("Root = %q, want %q", r.Root(), dir)
	}
}

func TestHeadAndBranch(t *testing.T) {
	dir, r := researchRepo(t)
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD")); h != want {
		t.Errorf("Head = %s, want %s", h, want)
	}
	if b, err := r.CurrentBranch(); err != nil || b != "main" {
		t.Errorf("CurrentBranch = %q, %v", b, err)
	}
	git(t, dir, "checkout", "-q", "--detach")
	if b, err := r.CurrentBranch(); err != nil || b != "" {
		t.Errorf("detached: CurrentBranch = %q, %v; want empty", b, err)
	}
}

func TestUnbornRepository(t *testing.T) {
	isolateGit(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "trunk")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Head(); !errors.Is(err, ErrNoCommits) {
		t.Errorf("Head on empty repo: %v, want ErrNoCommits", err)
	}
	if b, _ := r.CurrentBranch(); b != "trunk" {
		t.Errorf("CurrentBranch = %q, want trunk", b)
	}
	writeFile(t, dir, "train.py", trainV1)
	if ch, err := r.Changes(); err != nil || !equalStrings(ch, []string{"train.py"}) {
		t.Errorf("Changes = %q, %v", ch, err)
	}
	h := mustCommit(t, r, "first", "train.py")
	if got := strings.TrimSpace(git(t, dir, "rev-parse", "trunk")); got != h {
		t.Errorf("trunk = %s, want %s", got, h)
	}
	git(t, dir, "fsck", "--strict")
	if p := porcelain(t, dir); len(p) != 0 {
		t.Errorf("status after first commit: %q", p)
	}
}

// A linked worktree (git worktree add) has a .git file; its index and HEAD
// are its own while objects, refs and info/exclude are shared.
func TestLinkedWorktree(t *testing.T) {
	dir, _ := researchRepo(t)
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, dir, "worktree", "add", "-q", "-b", "exp", wt)
	r, err := Open(wt)
	if err != nil {
		t.Fatalf("Open(linked worktree): %v", err)
	}
	if b, _ := r.CurrentBranch(); b != "exp" {
		t.Errorf("CurrentBranch = %q, want exp", b)
	}
	writeFile(t, wt, "train.py", trainV2)
	if d, err := r.DirtyTracked(); err != nil || !equalStrings(d, []string{"train.py"}) {
		t.Fatalf("DirtyTracked = %q, %v", d, err)
	}
	h := mustCommit(t, r, "lr", "train.py")
	if got := strings.TrimSpace(git(t, dir, "rev-parse", "exp")); got != h {
		t.Errorf("exp in main repo = %s, want %s", got, h)
	}
	if p := porcelain(t, wt); len(p) != 0 {
		t.Errorf("worktree status: %q", p)
	}
	// The main worktree's own index and HEAD are untouched.
	if b := strings.TrimSpace(git(t, dir, "symbolic-ref", "--short", "HEAD")); b != "main" {
		t.Errorf("main worktree HEAD moved to %s", b)
	}
	assertOnlyUntracked(t, dir)
	if err := r.Exclude("wt-only.txt"); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, filepath.Join(dir, ".git"), "info/exclude"); !strings.Contains(b, "wt-only.txt\n") {
		t.Errorf("common info/exclude = %q", b)
	}
	if err := r.ResetTo("main"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, wt, "train.py"); got != trainV1 {
		t.Errorf("train.py after reset = %q", got)
	}
	git(t, dir, "fsck", "--strict")
}
