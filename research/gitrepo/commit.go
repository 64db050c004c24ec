package gitrepo

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/autoresearch/autoresearch/research"
)

// Commit records exactly files, as they are on disk, on top of HEAD and
// moves the current branch (or a detached HEAD) to the new commit. A listed
// file that no longer exists is recorded as deleted. Other staged changes in
// the index are neither committed nor lost (like git commit --only). Author
// and committer are author, at the current time. Returns ErrNothingToCommit
// when the result would equal HEAD's tree.
func (r *Repo) Commit(message string, files []string, author research.Signature) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := checkSignature(author); err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%w: no files given", ErrNothingToCommit)
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		p, err := r.cleanPath(f)
		if err != nil {
			return "", err
		}
		paths = append(paths, p)
	}
	lock, err := r.lockIndex()
	if err != nil {
		return "", err
	}
	defer lock.release()
	st, err := r.readIndex()
	if err != nil {
		return "", err
	}
	head, err := r.headSnapshot()
	if err != nil {
		return "", err
	}
	tree := make(map[string]blobEntry, len(head.files)+len(paths))
	for p, b := range head.files {
		tree[p] = b
	}
	for _, p := range paths {
		fi, err := os.Lstat(r.abs(p))
		if isMissing(err) {
			_, inHead := tree[p]
			_, inIndex := st.entries[p]
			if !inHead && !inIndex {
				return "", fmt.Errorf("%w: %s", ErrPathNotFound, p)
			}
			delete(tree, p)
			st.remove(p)
			continue
		}
		if err != nil {
			return "", err
		}
		e, b, err := r.stageFile(p, fi)
		if err != nil {
			return "", err
		}
		dropOverlaps(tree, p)
		tree[p] = b
		st.set(e)
	}
	treeHash, dirs, err := r.writeTree(tree, head, paths)
	if err != nil {
		return "", err
	}
	if treeHash == head.tree || (head.commit.IsZero() && len(tree) == 0) {
		return "", ErrNothingToCommit
	}
	h, err := r.writeCommit(message, treeHash, head.commit, author)
	if err != nil {
		return "", err
	}
	target, err := r.headTarget()
	if err != nil {
		return "", err
	}
	if err := r.setHashRef(target, h, "commit: "+firstLine(message)); err != nil {
		return "", fmt.Errorf("move %s: %w", target.Short(), err)
	}
	// The new HEAD's snapshot is what was just written: keeping it spares
	// the next status reading every tree of the commit back.
	r.keepSnapshot(&snapshot{commit: h, tree: treeHash, files: tree, dirs: dirs})
	if err := r.commitIndex(lock, st); err != nil {
		return "", fmt.Errorf("commit %s created, but: %w", h, err)
	}
	return h.String(), nil
}

// dropOverlaps removes entries that cannot coexist with a file at p: a file
// where one of p's parent directories now is, or files under p when p has
// become a file.
func dropOverlaps(tree map[string]blobEntry, p string) {
	for d := p; ; {
		i := strings.LastIndexByte(d, '/')
		if i < 0 {
			break
		}
		d = d[:i]
		delete(tree, d)
	}
	prefix := p + "/"
	for q := range tree {
		if strings.HasPrefix(q, prefix) {
			delete(tree, q)
		}
	}
}

func checkSignature(s research.Signature) error {
	if strings.TrimSpace(s.Name) == "" {
		return fmt.Errorf("%w: empty name", ErrBadSignature)
	}
	if strings.ContainsAny(s.Name+s.Email, "<>\n\x00") {
		return fmt.Errorf("%w: %q <%s>", ErrBadSignature, s.Name, s.Email)
	}
	return nil
}

func (r *Repo) writeCommit(message string, tree, parent plumbing.Hash, author research.Signature) (plumbing.Hash, error) {
	// git ends messages with a newline; tools such as git log --format=%B
	// expect it.
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: time.Now()}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	obj := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.storeObject(obj)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
