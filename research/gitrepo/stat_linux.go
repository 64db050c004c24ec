//go:build linux

package gitrepo

import (
	"os"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// fillSys copies the stat fields git compares (ctime, dev, inode, uid, gid)
// so the git CLI finds our entries stat-clean instead of re-hashing them.
func fillSys(e *index.Entry, fi os.FileInfo) {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	e.CreatedAt = time.Unix(int64(s.Ctim.Sec), int64(s.Ctim.Nsec))
	e.Dev = uint32(s.Dev)
	e.Inode = uint32(s.Ino)
	e.UID = s.Uid
	e.GID = s.Gid
}

// statStamp identifies a file version by inode, size, mtime and ctime.
func statStamp(fi os.FileInfo) indexStamp {
	st := indexStamp{size: uint64(fi.Size()), mtime: fi.ModTime()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = s.Ino
		st.ctime = time.Unix(int64(s.Ctim.Sec), int64(s.Ctim.Nsec))
	}
	return st
}
