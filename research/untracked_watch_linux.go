//go:build linux

package research

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// treeWatch keeps a slot's tree picture current with inotify instead of
// walking the whole tree before and after every training: with tens of
// thousands of untracked files (data caches, checkpoints) two walks cost
// more than the git work itself. The kernel reports each create, delete,
// write, attribute change and rename in every directory of the picture;
// only those paths are stat'ed again. The picture stays exact: a full
// queue (IN_Q_OVERFLOW) falls back to a fresh walk compared with the
// picture, as without a watch.
type treeWatch struct {
	fd   int
	root string
	skip []string
	max  int
	wds  map[int]string // watch descriptor -> directory (slash path, "" = root)
	dirs map[string]int // the inverse
	pic  treePicture    // the tree as of the last settle
	buf  []byte
}

const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DONT_FOLLOW | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// errWatchTooBig: the tree grew past GuardMaxPaths; pictures (bounded
// walks) take over.
var errWatchTooBig = errors.New("the tree has more paths than the guard follows")

// newTreeWatch watches every directory the picture covers and takes the
// picture (one walk: each directory is watched before it is listed, so a
// change made meanwhile is an event).
func newTreeWatch(root string, skip []string, max int) (*treeWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &treeWatch{fd: fd, root: root, skip: skip, max: max, wds: map[int]string{}, dirs: map[string]int{},
		pic: treePicture{files: map[string]fileStamp{}}, buf: make([]byte, 64<<10)}
	if err := w.scan("", w.pic.files, map[string]bool{}); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *treeWatch) close() {
	if w != nil && w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// skipped mirrors pictureTree's rules: .git, the state dir, the harness's
// own files and bytecode caches are not pictured.
func (w *treeWatch) skipped(rel string, dir bool) bool {
	if rel == ".git" || harnessOwned[rel] || dir && path.Base(rel) == "__pycache__" {
		return true
	}
	for _, s := range w.skip {
		if rel == s {
			return true
		}
	}
	return false
}

func (w *treeWatch) abs(rel string) string { return filepath.Join(w.root, filepath.FromSlash(rel)) }

// scan watches rel and every directory below it and records the stamps of
// everything there in into, marking each path in touched.
func (w *treeWatch) scan(rel string, into map[string]fileStamp, touched map[string]bool) error {
	full := w.abs(rel)
	wd, err := unix.InotifyAddWatch(w.fd, full, watchMask)
	if err != nil {
		if rel != "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			return nil // vanished (or replaced by a file, which its parent's event reports)
		}
		return fmt.Errorf("inotify watch %s: %w", full, err)
	}
	if old, ok := w.wds[wd]; ok {
		delete(w.dirs, old) // the same directory, moved
	}
	w.wds[wd], w.dirs[rel] = rel, wd
	if rel != "" {
		into[rel] = fileStamp{mode: fs.ModeDir}
		touched[rel] = true
	}
	ents, err := os.ReadDir(full)
	if err != nil {
		if rel != "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			return nil
		}
		return err
	}
	for _, de := range ents {
		child := path.Join(rel, de.Name())
		if w.skipped(child, de.IsDir()) {
			continue
		}
		if de.IsDir() {
			if err := w.scan(child, into, touched); err != nil {
				return err
			}
			continue
		}
		info, err := de.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		into[child] = fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano(), mode: info.Mode()}
		touched[child] = true
	}
	if len(into) > w.max {
		return errWatchTooBig
	}
	return nil
}

// read drains the queued events: the paths they name, the directories
// created, deleted or moved (whose whole subtree is to be looked at again),
// and whether the queue overflowed.
func (w *treeWatch) read() (touched, dirs map[string]bool, overflow bool, err error) {
	touched, dirs = map[string]bool{}, map[string]bool{}
	const header = unix.SizeofInotifyEvent
	for {
		n, err := unix.Read(w.fd, w.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) || n <= 0 && err == nil {
			return touched, dirs, overflow, nil
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("inotify read: %w", err)
		}
		for off := 0; off+header <= n; {
			wd := int(int32(binary.NativeEndian.Uint32(w.buf[off:])))
			mask := binary.NativeEndian.Uint32(w.buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(w.buf[off+12:]))
			name := strings.TrimRight(string(w.buf[off+header:off+header+nameLen]), "\x00")
			off += header + nameLen
			if mask&unix.IN_Q_OVERFLOW != 0 {
				overflow = true
				continue
			}
			dir, ok := w.wds[wd]
			if !ok || name == "" {
				continue // a watch since removed, or the directory itself (its parent reports it)
			}
			rel := path.Join(dir, name)
			isDir := mask&unix.IN_ISDIR != 0
			if w.skipped(rel, isDir) {
				continue
			}
			touched[rel] = true
			if isDir && mask&(unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO) != 0 {
				dirs[rel] = true
			}
		}
	}
}

// settle brings the picture up to date with the events since the last
// settle and returns what the touched paths were before and are now.
func (w *treeWatch) settle() (before, after treePicture, overflow bool, err error) {
	touched, dirs, overflow, err := w.read()
	if err != nil || overflow {
		return before, after, overflow, err
	}
	before = treePicture{files: map[string]fileStamp{}}
	after = treePicture{files: map[string]fileStamp{}}
	if len(dirs) > 0 {
		// Everything pictured below a changed directory may be gone, and
		// everything there now is looked at (and watched) afresh.
		for p := range w.pic.files {
			for d := path.Dir(p); d != "."; d = path.Dir(d) {
				if dirs[d] {
					touched[p] = true
					break
				}
			}
		}
		for _, d := range outermost(dirs) {
			w.unwatch(d)
			if err := w.scan(d, after.files, touched); err != nil {
				return before, after, false, err
			}
		}
	}
	for p := range touched {
		if old, ok := w.pic.files[p]; ok {
			before.files[p] = old
		}
		if _, ok := after.files[p]; ok {
			continue
		}
		fi, err := os.Lstat(w.abs(p))
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			continue
		case err != nil:
			return before, after, false, err
		case fi.IsDir():
			after.files[p] = fileStamp{mode: fs.ModeDir}
		default:
			after.files[p] = fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
		}
	}
	for p := range touched {
		if s, ok := after.files[p]; ok {
			w.pic.files[p] = s
		} else {
			delete(w.pic.files, p)
		}
	}
	if len(w.pic.files) > w.max {
		return before, after, false, errWatchTooBig
	}
	return before, after, false, nil
}

// outermost lists the directories of set none of whose parents is in it.
func outermost(set map[string]bool) []string {
	var out []string
	for d := range set {
		top := true
		for p := path.Dir(d); p != "."; p = path.Dir(p) {
			if set[p] {
				top = false
				break
			}
		}
		if top {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// unwatch removes the watches of d and every directory below it (they are
// added again by a scan when they still exist).
func (w *treeWatch) unwatch(d string) {
	prefix := d + "/"
	for rel, wd := range w.dirs {
		if rel == d || strings.HasPrefix(rel, prefix) {
			_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.dirs, rel)
			delete(w.wds, wd)
		}
	}
}

// rebuild starts over after an overflow: a new watch and a fresh picture.
func (w *treeWatch) rebuild() error {
	fresh, err := newTreeWatch(w.root, w.skip, w.max)
	w.close()
	if err != nil {
		return err
	}
	*w = *fresh
	return nil
}

// sync is called right before a training: the picture is made current so
// that what the training does is all the next changes reports.
func (w *treeWatch) sync() error {
	_, _, overflow, err := w.settle()
	if err == nil && overflow {
		err = w.rebuild()
	}
	return err
}

// changes is called right after a training: what it did to the paths that
// existed before it, compared exactly as two pictures are.
func (w *treeWatch) changes(tracked func(string) bool) (treeDamage, treePicture, error) {
	before, after, overflow, err := w.settle()
	if err != nil {
		return treeDamage{}, before, err
	}
	if overflow {
		// Too many events to follow: the picture from before the training
		// against a fresh walk, as without a watch.
		old := w.pic
		now, err := pictureTree(w.root, w.skip, w.max)
		if err != nil {
			return treeDamage{}, old, err
		}
		if err := w.rebuild(); err != nil {
			return treeDamage{}, old, err
		}
		return compareTrees(old, now, tracked), old, nil
	}
	return compareTrees(before, after, tracked), before, nil
}
