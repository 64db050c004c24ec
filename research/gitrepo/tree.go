package gitrepo

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// blobEntry is a tracked file as a tree records it.
type blobEntry struct {
	Hash plumbing.Hash
	Mode filemode.FileMode
}

// snapshot is a commit's tree flattened to file paths. dirs keeps each
// directory's tree hash so an unchanged directory can be reused as is when a
// new tree is written.
type snapshot struct {
	commit plumbing.Hash // zero for the empty snapshot of an unborn branch
	tree   plumbing.Hash
	files  map[string]blobEntry
	dirs   map[string]plumbing.Hash // "" is the root
}

func emptySnapshot() *snapshot {
	return &snapshot{files: map[string]blobEntry{}, dirs: map[string]plumbing.Hash{}}
}

// headSnapshot is HEAD's tree, or an empty one on an unborn branch.
func (r *Repo) headSnapshot() (*snapshot, error) {
	h, err := r.headHash()
	if errors.Is(err, ErrNoCommits) {
		return emptySnapshot(), nil
	}
	if err != nil {
		return nil, err
	}
	return r.commitSnapshot(h)
}

// commitSnapshot is commit's tree, flattened; callers must not change it
// (it is kept for the next caller).
func (r *Repo) commitSnapshot(commit plumbing.Hash) (*snapshot, error) {
	if s, ok := r.cachedSnapshot(commit); ok {
		return s, nil
	}
	c, err := r.repo.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnknownRevision, commit, err)
	}
	s := emptySnapshot()
	s.commit, s.tree = commit, c.TreeHash
	if err := r.flatten(c.TreeHash, "", s); err != nil {
		return nil, err
	}
	r.keepSnapshot(s)
	return s, nil
}

func (r *Repo) flatten(tree plumbing.Hash, dir string, s *snapshot) error {
	t, err := r.repo.TreeObject(tree)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", tree, err)
	}
	s.dirs[dir] = tree
	for _, e := range t.Entries {
		p := path.Join(dir, e.Name)
		if e.Mode == filemode.Dir {
			if err := r.flatten(e.Hash, p, s); err != nil {
				return err
			}
			continue
		}
		s.files[p] = blobEntry{Hash: e.Hash, Mode: e.Mode}
	}
	return nil
}

// dirNode is one directory while a tree is being written.
type dirNode struct {
	files map[string]blobEntry
	dirs  map[string]*dirNode
}

func newDirNode() *dirNode {
	return &dirNode{files: map[string]blobEntry{}, dirs: map[string]*dirNode{}}
}

// writeTree stores the tree objects for files and returns the root hash and
// the hash of every directory of the new tree (a snapshot's dirs). Directories
// that contain none of the changed paths keep the hash they have in base,
// so a commit writes only the trees along the changed paths.
func (r *Repo) writeTree(files map[string]blobEntry, base *snapshot, changed []string) (plumbing.Hash, map[string]plumbing.Hash, error) {
	root := newDirNode()
	for p, b := range files {
		n := root
		parts := strings.Split(p, "/")
		for _, d := range parts[:len(parts)-1] {
			c, ok := n.dirs[d]
			if !ok {
				c = newDirNode()
				n.dirs[d] = c
			}
			n = c
		}
		n.files[parts[len(parts)-1]] = b
	}
	dirty := map[string]bool{"": true}
	for _, p := range changed {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirty[d] = true
		}
	}
	w := &treeWriter{base: base, dirty: dirty, dirs: map[string]plumbing.Hash{}, reused: map[string]bool{}}
	h, _, err := r.encodeDir(root, "", w)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	// Below a directory reused from base, every directory is as base has it.
	if len(w.reused) > 0 {
		for d, dh := range base.dirs {
			for a := d; ; a = parentDir(a) {
				if w.reused[a] {
					w.dirs[d] = dh
					break
				}
				if a == "" {
					break
				}
			}
		}
	}
	return h, w.dirs, nil
}

// treeWriter is one writeTree: what it may reuse and what it wrote.
type treeWriter struct {
	base   *snapshot
	dirty  map[string]bool          // directories holding a changed path
	dirs   map[string]plumbing.Hash // every directory's hash so far
	reused map[string]bool          // directories taken from base as they were
}

// encodeDir returns the directory's tree hash, and false when it is empty
// (git stores no empty trees below the root).
func (r *Repo) encodeDir(n *dirNode, dir string, w *treeWriter) (plumbing.Hash, bool, error) {
	if h, ok := w.base.dirs[dir]; ok && !w.dirty[dir] {
		w.dirs[dir], w.reused[dir] = h, true
		return h, true, nil
	}
	var t object.Tree
	for name, b := range n.files {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: b.Mode, Hash: b.Hash})
	}
	for name, c := range n.dirs {
		h, ok, err := r.encodeDir(c, path.Join(dir, name), w)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if ok {
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}
	if len(t.Entries) == 0 && dir != "" {
		return plumbing.ZeroHash, false, nil
	}
	// git orders tree entries by name, comparing a directory as if its name
	// ended in "/"; fsck rejects any other order.
	sort.Slice(t.Entries, func(i, j int) bool { return treeSortKey(t.Entries[i]) < treeSortKey(t.Entries[j]) })
	obj := r.repo.Storer.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("encode tree: %w", err)
	}
	h, err := r.storeObject(obj)
	if err == nil {
		w.dirs[dir] = h
	}
	return h, true, err
}

func treeSortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// storeObject writes obj unless the object database already has it.
func (r *Repo) storeObject(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if r.repo.Storer.HasEncodedObject(h) == nil {
		return h, nil
	}
	if _, err := r.repo.Storer.SetEncodedObject(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store object: %w", err)
	}
	return h, nil
}
