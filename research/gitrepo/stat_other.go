//go:build !linux

package gitrepo

import (
	"os"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// fillSys leaves the platform stat fields zero: the git CLI then re-hashes
// those files once and refreshes the index itself; our own checks only use
// size and mtime.
func fillSys(e *index.Entry, fi os.FileInfo) {}
