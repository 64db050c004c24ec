package gitrepo

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// branchRef validates a short branch name and returns refs/heads/name.
func branchRef(name string) (plumbing.ReferenceName, error) {
	if name == "" || name == "HEAD" {
		return "", fmt.Errorf("%w: %q", ErrInvalidBranchName, name)
	}
	ref := plumbing.NewBranchReferenceName(name)
	if err := ref.Validate(); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidBranchName, name, err)
	}
	return ref, nil
}

// BranchExists reports whether refs/heads/name exists (loose or packed).
func (r *Repo) BranchExists(name string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := branchRef(name)
	if err != nil {
		return false, err
	}
	_, err = r.repo.Storer.Reference(ref)
	switch err {
	case nil:
		return true, nil
	case plumbing.ErrReferenceNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("read branch %s: %w", name, err)
	}
}

// DeleteBranch removes refs/heads/name. The checked-out branch cannot be
// deleted. Unlike git branch -d it does not check that the branch is merged:
// the loop deletes its own experiment branches.
func (r *Repo) DeleteBranch(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := branchRef(name)
	if err != nil {
		return err
	}
	if cur, err := r.headTarget(); err == nil && cur == ref {
		return fmt.Errorf("%w: %s", ErrCurrentBranch, name)
	}
	if _, err := r.repo.Storer.Reference(ref); err != nil {
		return fmt.Errorf("%w: %s", ErrBranchNotFound, name)
	}
	if err := r.repo.Storer.RemoveReference(ref); err != nil {
		return fmt.Errorf("delete branch %s: %w", name, err)
	}
	return nil
}
