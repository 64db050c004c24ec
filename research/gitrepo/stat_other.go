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

// statStamp identifies a file version by size and mtime (no inode here).
func statStamp(fi os.FileInfo) indexStamp {
	return indexStamp{size: uint64(fi.Size()), mtime: fi.ModTime()}
}
