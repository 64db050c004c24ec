package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// indexState is the index read from disk, keyed by path. Only stage-0
// entries are in entries; unmerged stages are kept aside and written back
// untouched unless their path is rewritten.
type indexState struct {
	version  uint32
	entries  map[string]*index.Entry
	unmerged []*index.Entry
	// mtime is the index file's modification time when read. An entry whose
	// file mtime is not older than this may have been changed within the same
	// timestamp tick after it was recorded ("racy git"), so its stat data
	// cannot vouch for its content.
	mtime time.Time
	// fresh marks entries this operation recorded from a stat taken after
	// writing or hashing the file; they need no racy re-check on write.
	fresh map[string]bool
	// names identifies the set of stage-0 paths: it changes whenever a
	// path is added or removed, so the untracked walk can keep what it
	// derived from the set (untracked_cache.go).
	names uint64
}

// emptyNames is the names of an index that does not exist yet.
const emptyNames = ^uint64(0)

func (r *Repo) indexPath() string { return filepath.Join(r.gitDir, "index") }

// readIndex loads the index; a missing index is an empty one (fresh repo).
func (r *Repo) readIndex() (*indexState, error) {
	st := &indexState{version: 2, entries: map[string]*index.Entry{}, fresh: map[string]bool{}, names: emptyNames}
	f, err := os.Open(r.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	defer f.Close()
	var stamp indexStamp
	stamped := false
	if fi, err := f.Stat(); err == nil {
		st.mtime = fi.ModTime()
		stamp, stamped = statStamp(fi), true
		if c := r.cachedIndex(stamp); c != nil {
			return c, nil
		}
	}
	var idx index.Index
	if err := index.NewDecoder(bufio.NewReader(f)).Decode(&idx); err != nil {
		return nil, fmt.Errorf("decode index: %w", err)
	}
	st.version = idx.Version
	st.names = nextGen()
	for _, e := range idx.Entries {
		// Stage 0 is a merged entry; go-git's index.Merged constant is 1
		// (the same as AncestorMode), so compare with 0 directly.
		if e.Stage != 0 {
			st.unmerged = append(st.unmerged, e)
			continue
		}
		st.entries[e.Name] = e
	}
	if stamped {
		r.keepIndex(st, stamp)
	}
	return st, nil
}

// set records e as the stage-0 entry for its path, dropping unmerged stages.
func (st *indexState) set(e *index.Entry) {
	if _, ok := st.entries[e.Name]; !ok {
		st.names = nextGen()
	}
	st.entries[e.Name] = e
	st.fresh[e.Name] = true
	st.dropUnmerged(e.Name)
}

// remove drops every stage of p.
func (st *indexState) remove(p string) {
	if _, ok := st.entries[p]; ok {
		st.names = nextGen()
	}
	delete(st.entries, p)
	delete(st.fresh, p)
	st.dropUnmerged(p)
}

func (st *indexState) dropUnmerged(p string) {
	kept := st.unmerged[:0]
	for _, e := range st.unmerged {
		if e.Name != p {
			kept = append(kept, e)
		}
	}
	st.unmerged = kept
}

// indexLock is git's index.lock protocol: creating the lock file exclusively
// keeps the git CLI (and other processes) from writing the index meanwhile,
// and renaming it over index publishes the new index atomically.
type indexLock struct {
	f    *os.File
	path string
	done bool
}

func (r *Repo) lockIndex() (*indexLock, error) {
	p := r.indexPath() + ".lock"
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s exists; remove it if no git process is running", ErrIndexLocked, p)
	}
	if err != nil {
		return nil, fmt.Errorf("lock index: %w", err)
	}
	return &indexLock{f: f, path: p}, nil
}

// release abandons the lock without changing the index; safe after commit.
func (l *indexLock) release() {
	if l.done {
		return
	}
	l.done = true
	l.f.Close()
	os.Remove(l.path)
}

// commit writes st through the lock file and renames it into place.
func (r *Repo) commitIndex(l *indexLock, st *indexState) error {
	r.smudgeRacy(st)
	idx := &index.Index{Version: st.version}
	if idx.Version < 2 || idx.Version > 4 {
		idx.Version = 2
	}
	for _, e := range st.entries {
		idx.Entries = append(idx.Entries, e)
		if idx.Version == 2 && (e.IntentToAdd || e.SkipWorktree) {
			idx.Version = 3 // extended flags need v3
		}
	}
	idx.Entries = append(idx.Entries, st.unmerged...)
	slices.SortFunc(idx.Entries, func(a, b *index.Entry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return int(a.Stage) - int(b.Stage)
	})
	// No extensions are written (go-git cannot encode them); dropping the
	// cache-tree only means git recomputes it.
	w := bufio.NewWriter(l.f)
	var err error
	if idx.Version == 4 {
		err = index.NewEncoder(w).Encode(idx)
	} else {
		err = encodeIndex(w, idx.Version, idx.Entries)
	}
	if err != nil {
		l.release()
		return fmt.Errorf("encode index: %w", err)
	}
	if err := w.Flush(); err != nil {
		l.release()
		return fmt.Errorf("write index: %w", err)
	}
	if err := l.f.Close(); err != nil {
		l.done = true
		os.Remove(l.path)
		return fmt.Errorf("write index: %w", err)
	}
	l.done = true
	if err := os.Rename(l.path, r.indexPath()); err != nil {
		os.Remove(l.path)
		return fmt.Errorf("install index: %w", err)
	}
	// What was just written is the next reader's index, unless another
	// writer already replaced it (then the stamps differ and it is parsed).
	if fi, err := os.Stat(r.indexPath()); err == nil {
		st.mtime = fi.ModTime()
		r.keepIndex(st, statStamp(fi))
	}
	return nil
}

// smudgeRacy does what git does before writing an index: an entry carried
// over from the old index whose mtime is not older than that index may hide
// a same-tick modification, which the new (later) index mtime would no longer
// reveal. Such entries are verified by content and, if changed, get size 0 so
// every reader re-hashes them.
func (r *Repo) smudgeRacy(st *indexState) {
	if st.mtime.IsZero() {
		return
	}
	for name, e := range st.entries {
		if st.fresh[name] || e.ModifiedAt.Before(st.mtime) {
			continue
		}
		if e.Mode == filemode.Submodule {
			continue
		}
		same, err := r.contentMatches(e)
		if err != nil || !same {
			// A copy: entries are shared with the cached index.
			c := *e
			c.Size = 0
			st.entries[name] = &c
		}
	}
}

// newEntry builds the index entry for a file just written or hashed.
func newEntry(name string, b blobEntry, fi os.FileInfo) *index.Entry {
	e := &index.Entry{
		Hash:       b.Hash,
		Name:       name,
		Mode:       b.Mode,
		Size:       uint32(fi.Size()),
		ModifiedAt: fi.ModTime(),
	}
	fillSys(e, fi)
	return e
}
