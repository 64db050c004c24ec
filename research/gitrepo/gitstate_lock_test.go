package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A ref update in progress (its .lock file) is neither recorded as a ref
// nor touched by a restore: recorded and "restored", it would lock the
// branch for good.
func TestGitStateIgnoresRefLockFiles(t *testing.T) {
	dir, r := researchRepo(t)
	lock := filepath.Join(dir, ".git", "refs", "heads", "autoresearch", "b.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD"))
	if err := os.WriteFile(lock, []byte(head+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := r.GitState()
	if err != nil {
		t.Fatal(err)
	}
	for name := range st.Refs {
		if filepath.Ext(name) == ".lock" {
			t.Fatalf("a lock file was recorded as ref %s", name)
		}
	}
	// Another update took the lock meanwhile; restoring must leave it.
	if err := r.RestoreGitState(st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("the restore removed a ref update's lock: %v", err)
	}
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := r.RestoreGitState(st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Fatal("the restore created a lock file")
	}
}

// The instant after another worktree's commit created a ref's lock, the
// lock is empty: a snapshot taken then (a guard around a proposal) must
// still succeed, and list the packed refs as well as the loose ones.
func TestGitStateDuringARefUpdateInAnotherWorktree(t *testing.T) {
	dir, r := researchRepo(t)
	git(t, dir, "branch", "packed-one")
	git(t, dir, "pack-refs", "--all")
	git(t, dir, "branch", "loose-one")
	lock := filepath.Join(dir, ".git", "refs", "heads", "loose-one.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := r.GitState()
	if err != nil {
		t.Fatalf("snapshot during a ref update: %v", err)
	}
	head := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD"))
	for _, name := range []string{"refs/heads/packed-one", "refs/heads/loose-one"} {
		if st.Refs[name] != head {
			t.Errorf("%s = %q, want %s (refs %v)", name, st.Refs[name], head, st.Refs)
		}
	}
	if _, ok := st.Refs["refs/heads/loose-one.lock"]; ok {
		t.Error("the lock was listed as a ref")
	}
	if err := r.RestoreGitState(st); err != nil {
		t.Fatalf("restore during a ref update: %v", err)
	}
}
