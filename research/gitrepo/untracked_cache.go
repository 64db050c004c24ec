package gitrepo

import (
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// The untracked walk reads every directory that is not ignored. With tens
// of thousands of untracked files (data caches, checkpoints, logs) that is
// most of what a status costs, and it is asked several times per
// experiment. But a directory's list of entries changes only when an entry
// is created, deleted or renamed in it, and each of those sets the
// directory's mtime: so the walk keeps each directory's listing with the
// mtime it had, and a directory whose mtime (and whose ignore rules) are
// unchanged is only stat'ed, not read. This is what git's untracked cache
// does.
//
// Racy listings: a directory changed within the same timestamp tick as the
// read could keep its mtime. A listing is only reused when the directory's
// mtime was older than the read by more than racyMargin, far more than the
// coarse clock tick file systems stamp with.
const racyMargin = 100 * time.Millisecond

// With the change monitor (monitor.go) a watched directory's listing is
// reused without even a stat while its name-list generation stays put: any
// create, delete or rename in it, and any change to its .gitignore, moves
// it. No racy margin is needed then: the watch was added before the
// directory was looked at, so every later change is an event.

// dirListing is one directory as the untracked walk last read it.
type dirListing struct {
	mtime     time.Time           // the directory's mtime when read
	ino       uint64              // and its inode: two directories swapped by renames may share an mtime
	inherited uint64              // the signature of the ignore rules it inherits
	sig       uint64              // its ignore rules: inherited ones and its own .gitignore
	stable    bool                // mtime was older than the read by racyMargin
	patterns  []gitignore.Pattern // parsed from its .gitignore
	files     []string            // names of entries that are not directories and not ignored
	dirs      []string            // names of subdirectories that are not ignored, in path order (dirKey)
	// listGen is the monitor's name-list generation of the directory when
	// the listing was last found valid; 0 when it was not watched.
	listGen uint64
	// untracked are the paths of files not in the index whose names were
	// names; valid while the index has the same set of names.
	untracked []string
	names     uint64
}

// dirKey is how a subdirectory sorts among its siblings in git's path
// order: every path below it starts with name + "/".
func dirKey(name string) string { return name + "/" }

// walkResult is the untracked walk's whole answer, reused with the monitor
// while nothing it depends on changed: no name-list event anywhere, the
// same index names and the same base ignore rules.
type walkResult struct {
	paths   []string // sorted
	names   uint64
	baseSig uint64
	changes uint64 // the monitor's changes when walked
}

// listing returns the directory rel's listing, reading it unless the cached
// one is still valid; nil when the directory is gone (or is no longer
// one). ps are the ignore patterns that apply to it, sig their signature.
func (r *Repo) listing(mon *monitor, rel string, parts []string, ps []gitignore.Pattern, sig uint64) (*dirListing, error) {
	var listGen uint64
	if mon != nil {
		// Watched before it is looked at: from here on a change is an event.
		if d := mon.watch(rel); d != nil {
			listGen = d.listGen
		}
	}
	inherited := sig
	if l := r.listings[rel]; l != nil && listGen != 0 && l.listGen == listGen && l.inherited == inherited {
		return l, nil
	}
	dir := filepath.Join(r.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(dir)
	if err == nil && !fi.IsDir() {
		err = os.ErrNotExist
	}
	if err != nil {
		if rel != "" && isMissing(err) {
			return nil, nil // vanished while walking
		}
		return nil, err
	}
	sig = mixSig(sig, fileSig(filepath.Join(dir, ".gitignore")))
	ino := statStamp(fi).ino
	if l := r.listings[rel]; l != nil && l.stable && l.sig == sig && l.mtime.Equal(fi.ModTime()) && l.ino == ino {
		l.inherited, l.listGen = inherited, listGen
		return l, nil
	}
	if walkHook != nil {
		walkHook(rel)
	}
	read := time.Now()
	l := &dirListing{mtime: fi.ModTime(), ino: ino, inherited: inherited, sig: sig, listGen: listGen,
		patterns: readPatternFile(filepath.Join(dir, ".gitignore"), parts)}
	m := gitignore.NewMatcher(append(ps[:len(ps):len(ps)], l.patterns...))
	ents, err := os.ReadDir(dir)
	if err != nil {
		if rel != "" && isMissing(err) {
			return nil, nil
		}
		return nil, err
	}
	for _, de := range ents {
		name := de.Name()
		if name == ".git" {
			continue
		}
		child := append(parts[:len(parts):len(parts)], name)
		switch {
		case de.IsDir() && !m.Match(child, true):
			l.dirs = append(l.dirs, name)
		case !de.IsDir() && !m.Match(child, false):
			l.files = append(l.files, name)
		}
	}
	sort.Slice(l.dirs, func(i, j int) bool { return dirKey(l.dirs[i]) < dirKey(l.dirs[j]) })
	l.stable = l.mtime.Before(read.Add(-racyMargin))
	if r.listings == nil {
		r.listings = map[string]*dirListing{}
	}
	r.listings[rel] = l
	return l, nil
}

// pruneListings forgets the directories the last walk did not reach
// (deleted, or ignored now).
func (r *Repo) pruneListings(seen map[string]bool) {
	for rel := range r.listings {
		if !seen[rel] {
			delete(r.listings, rel)
		}
	}
}

// fileSig is a signature of a file's version (0 when there is none): a
// .gitignore edited in place keeps its directory's mtime but not its own.
func fileSig(p string) uint64 {
	fi, err := os.Lstat(p)
	if err != nil {
		return 0
	}
	st := statStamp(fi)
	return mixSig(mixSig(mixSig(st.ino, st.size), uint64(st.mtime.UnixNano())), uint64(st.ctime.UnixNano())) | 1
}

// mixSig combines two signatures (order matters).
func mixSig(a, b uint64) uint64 {
	h := fnv.New64a()
	var buf [16]byte
	for i := 0; i < 8; i++ {
		buf[i] = byte(a >> (8 * i))
		buf[8+i] = byte(b >> (8 * i))
	}
	h.Write(buf[:])
	return h.Sum64()
}
