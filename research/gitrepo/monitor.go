package gitrepo

import (
	"runtime"
	"strings"
	"sync/atomic"
)

// The change monitor is git's fsmonitor for this package: on a tree of
// thousands of tracked files, every status and reset used to lstat each of
// them, and every untracked walk to stat each directory, although the
// harness changed one file. The monitor (inotify on Linux, see
// monitor_linux.go; elsewhere there is none and every check is a full
// scan) keeps, for each watched directory, generations that move with every
// event about an entry in it. What a check found is then reused while
// nothing could have changed it:
//
//   - a tracked file found clean, while its index entry is the very same
//     entry (entries are never changed in place, so any index write that
//     touches it, ours or another process's, makes a new one) and its
//     directory's generation has not moved (entryChecks, status.go);
//   - a directory's listing for the untracked walk, while its name-list
//     generation has not moved (untracked_cache.go).
//
// A watch proves something only from the moment it was added, so each
// directory is watched before the check that relies on it, and its parents
// before it (a rename of a parent is then an event). Draining the queue at
// the start of each operation makes the answer exact: the kernel queues an
// event before the write that caused it returns. Whatever the monitor
// cannot vouch for (a directory it could not watch, a lost queue, a tree
// over its budget) is checked in full, as without it.
//
// Writes the kernel does not report through the file's directory are not
// seen: writes through a shared mmap, writes through a hard link in another
// directory, and changes made by another machine on a network or FUSE file
// system; git's fsmonitor has the same limits.

// maxWatchedDirs is the default budget of directories one Repo watches;
// past it the monitor turns off and every check is a full scan again.
const maxWatchedDirs = 8192

// monitorFrom is the size of tree (index entries, or entries the untracked
// walk listed) from which a Repo starts its monitor: below it a full scan
// costs less than watching, and a process with many small repos (tests,
// the bench's plain fixtures) holds no inotify instances.
const monitorFrom = 1000

// maxMonitors bounds the inotify instances all Repos of the process hold
// (the kernel's default per user is 128, shared with other watchers); a
// Repo opened past it does full scans.
const maxMonitors = 32

var monitorsOpen atomic.Int32

// genCounter hands out generations. It is process-wide so that a
// generation is never reused, even by a new watch of the same directory.
var genCounter atomic.Uint64

func nextGen() uint64 { return genCounter.Add(1) }

// watchedDir is one watched directory and the generations its events have
// reached. gen moves with any event about an entry in it (or about itself);
// listGen only with what changes its list of names or its ignore rules.
// Both are 0 once the watch is dropped, which no generation equals.
type watchedDir struct {
	wd           int
	gen, listGen uint64
}

// liveMonitor returns the monitor ready to use, with its queue drained, or
// nil when checks must be full scans. The monitor starts on the first
// check of a tree of size (see monitorFrom) or more. Callers hold r.mu.
func (r *Repo) liveMonitor(size int) *monitor {
	if r.monitorOff {
		return nil
	}
	if r.mon == nil {
		if size < r.monitorFrom {
			return nil
		}
		if monitorsOpen.Add(1) > maxMonitors {
			monitorsOpen.Add(-1)
			r.monitorOff = true
			return nil
		}
		m, err := newMonitor(r.root, r.watchBudget)
		if err != nil {
			monitorsOpen.Add(-1)
			r.monitorOff = true
			return nil
		}
		r.mon = m
		// A Repo that is dropped without Close still gives its inotify
		// instance back once collected.
		r.monCleanup = runtime.AddCleanup(r, func(m *monitor) { m.close() }, m)
	}
	r.mon.drain()
	if !r.mon.live() {
		return nil
	}
	return r.mon
}

// Close releases the change monitor's resources (an inotify instance on
// Linux). The Repo stays usable; its checks are full scans from then on.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.monitorOff = true
	if r.mon != nil {
		r.monCleanup.Stop()
		r.mon.close()
	}
	return nil
}

// parentDir is the slash path of p's directory ("" for the root).
func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// joinRel joins a directory's slash path ("" = root) and a name.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
