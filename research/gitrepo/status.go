package gitrepo

import (
	"path"
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
	set := map[string]bool{}
	for _, p := range append(dirty, untracked...) {
		set[p] = true
	}
	return sortedKeys(set), nil
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
	sort.Strings(out)
	return out, nil
}

func (r *Repo) dirtyTracked(st *indexState) ([]string, error) {
	head, err := r.headSnapshot()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	asInHead := func(e *index.Entry) bool {
		h, ok := head.files[e.Name]
		return ok && h.Hash == e.Hash && h.Mode == e.Mode
	}
	clean, err := r.cleanEntries(st, asInHead)
	if err != nil {
		return nil, err
	}
	for name := range st.entries {
		if !clean[name] {
			set[name] = true // staged, or changed in the worktree
		}
	}
	for name := range head.files {
		if _, ok := st.entries[name]; !ok {
			set[name] = true // staged deletion (or unmerged)
		}
	}
	for _, e := range st.unmerged {
		set[e.Name] = true
	}
	return sortedKeys(set), nil
}

// walkHook, when set (by tests), sees each directory untracked reads.
var walkHook func(rel string)

// untracked lists the files that are neither in the index nor ignored. An
// ignored directory is skipped without reading it, which is what keeps this
// fast next to a .venv of tens of thousands of files; a directory whose
// listing is cached (untracked_cache.go) and has not changed since is not
// read either, only stat'ed.
func (r *Repo) untracked(st *indexState) ([]string, error) {
	base, baseSig := r.basePatterns()
	seen := make(map[string]bool, len(r.listings))
	var out []string
	var walk func(rel string, parts []string, ps []gitignore.Pattern, sig uint64) error
	walk = func(rel string, parts []string, ps []gitignore.Pattern, sig uint64) error {
		l, err := r.listing(rel, parts, ps, sig)
		if err != nil || l == nil {
			return err
		}
		seen[rel] = true
		for _, name := range l.files {
			p := path.Join(rel, name)
			if _, tracked := st.entries[p]; !tracked {
				out = append(out, p)
			}
		}
		// Full slice expressions: siblings must not share appended patterns.
		ps = append(ps[:len(ps):len(ps)], l.patterns...)
		for _, name := range l.dirs {
			if err := walk(path.Join(rel, name), append(parts[:len(parts):len(parts)], name), ps, l.sig); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", nil, base, baseSig); err != nil {
		return nil, err
	}
	r.pruneListings(seen)
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
