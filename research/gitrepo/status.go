package gitrepo

import (
	"sort"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// DirtyTracked lists tracked paths whose index entry or worktree file
// differs from HEAD: modified, deleted, staged (also staged additions) and
// unmerged paths. It stats each index entry and hashes only files whose stat
// data changed; it never walks directories, ignored or not.
func (r *Repo) DirtyTracked() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	return r.dirtyTracked(st)
}

// Changes lists every path that differs from HEAD: what DirtyTracked lists
// plus untracked files that are not ignored. Untracked files are listed one
// by one (not collapsed to their directory); ignored directories are skipped
// without being read.
func (r *Repo) Changes() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	dirty, err := r.dirtyTracked(st)
	if err != nil {
		return nil, err
	}
	untracked, err := r.untracked(st)
	if err != nil {
		return nil, err
	}
	return mergeSorted(dirty, untracked), nil
}

// mergeSorted merges two sorted lists into a new one without duplicates
// (a staged deletion whose file is back on disk is in both).
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			out, a = append(out, a[0]), a[1:]
		case b[0] < a[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// Untracked lists the files that are neither tracked nor ignored: the
// part of Changes that does not stat tracked files (right after ResetTo
// they are all clean).
func (r *Repo) Untracked() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	out, err := r.untracked(st)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), out...), nil
}

func (r *Repo) dirtyTracked(st *indexState) ([]string, error) {
	head, err := r.headSnapshot()
	if err != nil {
		return nil, err
	}
	set, inHead, err := r.changedEntries(st, head)
	if err != nil {
		return nil, err
	}
	if inHead < len(head.files) {
		for name := range head.files {
			if _, ok := st.entries[name]; !ok {
				set[name] = true // staged deletion (or unmerged)
			}
		}
	}
	for _, e := range st.unmerged {
		set[e.Name] = true
	}
	return sortedKeys(set), nil
}

// walkHook, when set (by tests), sees each directory untracked reads.
var walkHook func(rel string)

// untracked lists, in path order, the files that are neither in the index
// nor ignored. An ignored directory is skipped without reading it, which is
// what keeps this fast next to a .venv of tens of thousands of files; a
// directory whose listing is cached (untracked_cache.go) and has not
// changed since is not read either, only stat'ed, or not even that while
// the change monitor vouches for it. The result is shared with the cache:
// callers must not change it.
func (r *Repo) untracked(st *indexState) ([]string, error) {
	mon := r.liveMonitor(max(len(st.entries), r.listed))
	base, baseSig := r.basePatterns()
	var changes uint64
	if mon != nil {
		if w := r.walked; w != nil && w.names == st.names && w.baseSig == baseSig && w.changes == mon.changes {
			return w.paths, nil
		}
		changes = mon.changes
	}
	r.walked = nil
	complete := mon != nil // every directory was watched: the answer may be kept
	seen := make(map[string]bool, len(r.listings))
	listed := 0
	var out []string
	var walk func(rel string, parts []string, ps []gitignore.Pattern, sig uint64) error
	walk = func(rel string, parts []string, ps []gitignore.Pattern, sig uint64) error {
		l, err := r.listing(mon, rel, parts, ps, sig)
		if err != nil || l == nil {
			complete = false
			return err
		}
		if l.listGen == 0 {
			complete = false
		}
		seen[rel] = true
		listed += len(l.files) + len(l.dirs)
		if l.untracked == nil || l.names != st.names {
			l.untracked = make([]string, 0, len(l.files))
			for _, name := range l.files {
				if p := joinRel(rel, name); st.entries[p] == nil {
					l.untracked = append(l.untracked, p)
				}
			}
			l.names = st.names
		}
		// Full slice expressions: siblings must not share appended patterns.
		ps = append(ps[:len(ps):len(ps)], l.patterns...)
		// Files and subdirectories merged in path order, so that the
		// whole answer comes out sorted.
		files, prefix := l.untracked, len(rel)
		if rel != "" {
			prefix++
		}
		for _, name := range l.dirs {
			key := dirKey(name)
			for len(files) > 0 && files[0][prefix:] < key {
				out = append(out, files[0])
				files = files[1:]
			}
			if err := walk(joinRel(rel, name), append(parts[:len(parts):len(parts)], name), ps, l.sig); err != nil {
				return err
			}
		}
		out = append(out, files...)
		return nil
	}
	if err := walk("", nil, base, baseSig); err != nil {
		return nil, err
	}
	r.pruneListings(seen)
	r.listed = listed
	if complete && mon.live() && mon.changes == changes {
		r.walked = &walkResult{paths: out, names: st.names, baseSig: baseSig, changes: changes}
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// entryMatches: the index entry records exactly blob b.
func entryMatches(e *index.Entry, b blobEntry) bool {
	return e != nil && e.Hash == b.Hash && e.Mode == b.Mode
}
