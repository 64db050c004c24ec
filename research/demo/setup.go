package demo

import (
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Setup writes the example research repo into dir and commits it on branch
// main, so the loop can branch off it like off a real autoresearch checkout.
func Setup(dir string) error {
	if err := WriteExample(dir); err != nil {
		return err
	}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		return fmt.Errorf("initialising the demo repo: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return fmt.Errorf("adding the demo files: %w", err)
	}
	sig := &object.Signature{Name: "autoresearch demo", Email: "demo@autoresearch.local", When: time.Now()}
	if _, err := wt.Commit("demo: example research repo", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		return fmt.Errorf("committing the demo files: %w", err)
	}
	return nil
}

// EmptyDir reports whether dir is missing or holds nothing.
func EmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return true, nil
	}
	return len(entries) == 0, err
}
