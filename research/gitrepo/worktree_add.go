package gitrepo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// AddWorktree creates a linked worktree of the repository at mainDir in
// dir, with a detached HEAD at commit, and opens it. Its commits land in the
// main repository's object store, so branches of the main repo can point at
// them. go-git cannot create worktrees, so this one step uses the git CLI.
// An existing worktree at dir is reused and moved to commit.
func AddWorktree(mainDir, dir, commit string) (*Repo, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		if r, err := Open(dir); err == nil {
			if err := r.ResetTo(commit); err != nil {
				return nil, err
			}
			return r, nil
		}
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("cannot create a worktree in %s: the directory is not empty", dir)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if _, err := runGit(mainDir, "worktree", "prune"); err != nil {
		return nil, err
	}
	if _, err := runGit(mainDir, "worktree", "add", "--detach", "--force", dir, commit); err != nil {
		return nil, err
	}
	return Open(dir)
}

// RemoveWorktree deletes a linked worktree created by AddWorktree.
func RemoveWorktree(mainDir, dir string) error {
	_, err := runGit(mainDir, "worktree", "remove", "--force", dir)
	return err
}

// runGit runs the git CLI with hooks off: the harness never runs a hook
// (train.py may have planted one; git worktree add would run post-checkout).
func runGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "core.hooksPath=/dev/null"}, args...)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %v: %v: %s", args, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.String(), nil
}
