package gitrepo

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; match them with errors.Is. Errors returned by Repo wrap
// them with the path, branch or revision concerned.
var (
	// ErrNotRepository: the directory is not the root of a git work tree.
	ErrNotRepository = errors.New("not a git work tree")
	// ErrNoCommits: HEAD points at a branch that has no commit yet.
	ErrNoCommits = errors.New("repository has no commits yet")
	// ErrUnknownRevision: a branch, tag or hash that names no commit.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrBranchExists: CreateBranch on a name that is taken.
	ErrBranchExists = errors.New("branch already exists")
	// ErrBranchNotFound: CheckoutBranch or DeleteBranch on a missing branch.
	ErrBranchNotFound = errors.New("branch not found")
	// ErrInvalidBranchName: the name is not a valid git branch name.
	ErrInvalidBranchName = errors.New("invalid branch name")
	// ErrCurrentBranch: DeleteBranch on the checked-out branch.
	ErrCurrentBranch = errors.New("cannot delete the checked-out branch")
	// ErrBadPath: a path that is absolute, escapes the work tree, or points
	// into .git.
	ErrBadPath = errors.New("invalid path")
	// ErrPathNotFound: Commit of a path that is neither on disk nor tracked,
	// or FileAt of a path the commit does not have.
	ErrPathNotFound = errors.New("path not found")
	// ErrNotAFile: a path that names a directory where a file was expected.
	ErrNotAFile = errors.New("not a regular file or symlink")
	// ErrNothingToCommit: Commit would produce a tree identical to HEAD's.
	ErrNothingToCommit = errors.New("nothing to commit")
	// ErrBadSignature: an author without a name, or with characters git
	// cannot store in a signature line.
	ErrBadSignature = errors.New("invalid author signature")
	// ErrIndexLocked: .git/index.lock exists (another git process is
	// running, or one crashed and left it behind).
	ErrIndexLocked = errors.New("index is locked")
	// ErrUnmerged: the index holds unresolved merge conflicts.
	ErrUnmerged = errors.New("index has unmerged paths")
	// ErrWouldOverwrite: a branch switch would overwrite local changes; the
	// concrete error is *OverwriteError.
	ErrWouldOverwrite = errors.New("checkout would overwrite local changes")
)

// OverwriteError lists the paths whose local changes (or untracked files in
// the way) made a branch switch refuse. Nothing was changed.
type OverwriteError struct {
	Paths []string
}

func (e *OverwriteError) Error() string {
	return fmt.Sprintf("%v: %s", ErrWouldOverwrite, strings.Join(e.Paths, ", "))
}

// Is makes errors.Is(err, ErrWouldOverwrite) true.
func (e *OverwriteError) Is(target error) bool { return target == ErrWouldOverwrite }
