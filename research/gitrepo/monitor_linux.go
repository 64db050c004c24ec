//go:build linux

package gitrepo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// monitor is the Linux change monitor (see monitor.go): one inotify
// instance watching the work tree's directories.
type monitor struct {
	fd   int
	root string
	max  int                    // most directories watched; past it the monitor turns itself off
	dirs map[string]*watchedDir // slash path ("" = root) -> its watch
	wds  map[int]string         // the inverse
	// changes counts events that can change the untracked walk's answer
	// (see listGen); a cached walk is reused while it stays put.
	changes uint64
	// off says why the monitor stopped ("" while it runs); every check then
	// falls back to a full scan.
	off       string
	overflows int // queue overflows seen (tests)
	buf       []byte
}

// monitorMask is what moves a generation. Reads and opens are left out (the
// checks themselves read files); IN_MODIFY and IN_ATTRIB cover every
// change of content, size, mode and mtime made through this directory.
const monitorMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MODIFY | unix.IN_ATTRIB |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_DONT_FOLLOW | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// namespaceEvents change a directory's list of names.
const namespaceEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO

func newMonitor(root string, max int) (*monitor, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &monitor{fd: fd, root: root, max: max, dirs: map[string]*watchedDir{}, wds: map[int]string{},
		buf: make([]byte, 64<<10)}, nil
}

// live: the monitor runs and its answers can be trusted.
func (m *monitor) live() bool { return m != nil && m.off == "" }

// close releases the inotify instance; safe to repeat.
func (m *monitor) close() {
	if m == nil || m.fd < 0 {
		return
	}
	unix.Close(m.fd)
	m.fd = -1
	for _, d := range m.dirs {
		d.gen, d.listGen = 0, 0
	}
	m.dirs, m.wds = map[string]*watchedDir{}, map[int]string{}
	if m.off == "" {
		m.off = "closed"
	}
	monitorsOpen.Add(-1)
}

// stop turns the monitor off for good: what remains is a full scan each
// time, which is always right.
func (m *monitor) stop(why string) {
	m.off = why
	m.close()
}

// watch makes sure rel and all its parents are watched and returns its
// watch; nil when it cannot be watched (gone, not a directory, or the
// monitor is off). Parents are watched first so that a
// rename of any of them is an event: only then does a watch on rel prove
// that the path rel still names what it watches.
func (m *monitor) watch(rel string) *watchedDir {
	if d := m.dirs[rel]; d != nil {
		return d
	}
	if !m.live() {
		return nil
	}
	if rel != "" && m.watch(parentDir(rel)) == nil {
		return nil
	}
	if len(m.dirs) >= m.max {
		m.stop(fmt.Sprintf("the tree has more than %d directories to watch", m.max))
		return nil
	}
	mask := uint32(monitorMask)
	if rel == "" {
		mask &^= unix.IN_DONT_FOLLOW // the root may be reached through a symlink
	}
	wd, err := unix.InotifyAddWatch(m.fd, filepath.Join(m.root, filepath.FromSlash(rel)), mask)
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.ENOMEM) {
		m.stop("inotify watch limit reached: " + err.Error())
		return nil
	}
	if err != nil {
		return nil // gone, a file, a symlink: checked every time
	}
	if old, dup := m.wds[wd]; dup && old != rel {
		// The same directory under an older name whose rename is still
		// queued: that name no longer proves anything.
		m.forget(old, wd)
	}
	d := &watchedDir{wd: wd, gen: nextGen(), listGen: nextGen()}
	m.dirs[rel], m.wds[wd] = d, rel
	return d
}

// forget drops the watches of rel and every directory below it (all of
// them for rel ""), except keep: they were deleted, renamed or replaced,
// so what was checked under them proves nothing any more.
func (m *monitor) forget(rel string, keep int) {
	prefix := rel + "/"
	for p, d := range m.dirs {
		if rel != "" && p != rel && !strings.HasPrefix(p, prefix) {
			continue
		}
		if d.wd != keep {
			unix.InotifyRmWatch(m.fd, uint32(d.wd))
			delete(m.wds, d.wd)
		}
		d.gen, d.listGen = 0, 0 // what was recorded against it is void
		delete(m.dirs, p)
	}
	m.changes++
}

// drain reads every queued event without blocking. The kernel queues an
// event before the write that caused it returns, so after drain every
// change made before the call has moved a generation.
func (m *monitor) drain() {
	for m.live() {
		n, err := unix.Read(m.fd, m.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) || err == nil && n <= 0 {
			return
		}
		if err != nil {
			m.stop("inotify read: " + err.Error())
			return
		}
		m.handle(m.buf[:n])
	}
}

// handle applies one buffer of events.
func (m *monitor) handle(b []byte) {
	const header = unix.SizeofInotifyEvent
	for len(b) >= header {
		wd := int(int32(binary.NativeEndian.Uint32(b[0:4])))
		mask := binary.NativeEndian.Uint32(b[4:8])
		size := int(binary.NativeEndian.Uint32(b[12:16]))
		if header+size > len(b) {
			return
		}
		name := strings.TrimRight(string(b[header:header+size]), "\x00")
		b = b[header+size:]
		if mask&unix.IN_Q_OVERFLOW != 0 {
			// Events were lost: nothing watched so far proves anything.
			m.overflows++
			m.forget("", -1)
			continue
		}
		rel, ok := m.wds[wd]
		d := m.dirs[rel]
		if !ok || d == nil || d.wd != wd {
			continue // a watch already forgotten
		}
		if name == "" {
			if mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED|unix.IN_UNMOUNT) != 0 {
				m.forget(rel, -1)
			} else {
				d.gen = nextGen()
			}
			continue
		}
		d.gen = nextGen()
		if mask&namespaceEvents != 0 || name == ".gitignore" {
			d.listGen = nextGen()
			m.changes++
		}
		if mask&unix.IN_ISDIR != 0 && mask&namespaceEvents != 0 {
			m.forget(joinRel(rel, name), -1)
		}
	}
}
