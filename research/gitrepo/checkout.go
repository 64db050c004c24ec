package gitrepo

import (
	"fmt"
	"maps"
	"os"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// switchMode says what may happen to local changes of tracked files.
type switchMode int

const (
	// keepLocal is git checkout: paths that differ between HEAD and the
	// target must be unmodified (else *OverwriteError and nothing changes);
	// local changes to other paths are carried over.
	keepLocal switchMode = iota
	// discardLocal is git reset --hard restricted to tracked paths: every
	// tracked path ends up as the target has it.
	discardLocal
)

// action is one planned change to a tracked path.
type action struct {
	path   string
	remove bool      // delete the file and drop it from the index
	blob   blobEntry // else: make the file and index entry this blob
	// indexOnly: the worktree already holds blob (or it is a submodule);
	// only the index entry is rewritten.
	indexOnly bool
}

// switchTree makes the index and the tracked files match target, writing or
// deleting only paths whose content differs. Untracked and ignored files are
// never read, written or deleted (except an untracked file at a path the
// target tracks, which discardLocal overwrites and keepLocal refuses).
// changed is false when the index already matched target and every file
// was clean: nothing was written.
func (r *Repo) switchTree(st *indexState, head, target *snapshot, mode switchMode) (changed bool, err error) {
	if mode == keepLocal && len(st.unmerged) > 0 {
		return false, fmt.Errorf("%w: resolve them first", ErrUnmerged)
	}
	paths, changedFiles, err := r.pathsToPlan(st, head, target, mode)
	if err != nil {
		return false, err
	}
	var plan []action
	var conflicts []string
	for _, p := range sortedKeys(paths) {
		_, tracked := st.entries[p]
		a, ok, err := r.planPath(st, head, target, p, mode, tracked && !changedFiles[p])
		if err != nil {
			return false, err
		}
		if !ok {
			conflicts = append(conflicts, p)
			continue
		}
		if a != nil {
			plan = append(plan, *a)
		}
	}
	if len(conflicts) > 0 {
		return false, &OverwriteError{Paths: conflicts}
	}
	changed = len(plan) > 0
	if mode == discardLocal {
		changed = changed || len(st.unmerged) > 0
		st.unmerged = nil
	}
	return changed, r.apply(st, plan)
}

// pathsToPlan returns the paths planPath must decide and the index entries
// whose file is not clean (or, for discardLocal, that differ from target).
// An index entry that already records target's blob over a clean file needs
// nothing in either mode, which on a big tree leaves only what differs.
func (r *Repo) pathsToPlan(st *indexState, head, target *snapshot, mode switchMode) (paths, changed map[string]bool, err error) {
	if mode == discardLocal {
		// Entries that differ from target are rewritten whether their file
		// is clean or not: only the others need looking at.
		changed, inTarget, err := r.changedEntries(st, target)
		if err != nil {
			return nil, nil, err
		}
		paths = maps.Clone(changed)
		if inTarget < len(target.files) {
			for p := range target.files {
				if _, ok := st.entries[p]; !ok {
					paths[p] = true
				}
			}
		}
		return paths, changed, nil
	}
	// keepLocal also needs to know whether entries that differ from target
	// are clean (unmodified since HEAD): every entry is checked.
	changed, _, err = r.changedEntries(st, nil)
	if err != nil {
		return nil, nil, err
	}
	paths = map[string]bool{}
	for p, e := range st.entries {
		if tb, ok := target.files[p]; !ok || !entryMatches(e, tb) || changed[p] {
			paths[p] = true
		}
	}
	for _, files := range []map[string]blobEntry{target.files, head.files} {
		for p := range files {
			if _, ok := st.entries[p]; !ok {
				paths[p] = true
			}
		}
	}
	return paths, changed, nil
}

// planPath decides what happens to one path; ok=false is a conflict (only in
// keepLocal), a nil action means the path stays as it is.
// clean tells whether the worktree holds exactly what p's index entry
// records (false without one).
func (r *Repo) planPath(st *indexState, head, target *snapshot, p string, mode switchMode, clean bool) (*action, bool, error) {
	ie := st.entries[p]
	tb, inTarget := target.files[p]
	hb, inHead := head.files[p]

	if mode == keepLocal && inHead == inTarget && hb == tb {
		return nil, true, nil // unchanged between branches: keep local state
	}
	if mode == keepLocal {
		alreadyThere := inTarget && entryMatches(ie, tb) && clean
		unmodified := (ie == nil && !inHead) || (inHead && entryMatches(ie, hb) && clean)
		switch {
		case alreadyThere:
			return nil, true, nil
		case !unmodified:
			return nil, false, nil
		case ie == nil && inTarget:
			// An untracked file in the way is only fine if it already holds
			// the target's content.
			if ok, err := r.holdsOrMissing(p, tb); err != nil || !ok {
				return nil, false, err
			}
		}
	}
	if !inTarget {
		if ie == nil {
			return nil, true, nil // head-only path not in the index: untracked now
		}
		return &action{path: p, remove: true}, true, nil
	}
	if entryMatches(ie, tb) && clean {
		return nil, true, nil
	}
	return &action{path: p, blob: tb, indexOnly: tb.Mode == filemode.Submodule}, true, nil
}

// apply runs a plan: deletions first (a deleted file may be a directory in
// the target), then writes, then the index entries.
func (r *Repo) apply(st *indexState, plan []action) error {
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].remove && !plan[j].remove })
	for _, a := range plan {
		if !a.remove {
			continue
		}
		if err := r.removeFile(a.path); err != nil {
			return err
		}
		st.remove(a.path)
	}
	for _, a := range plan {
		if a.remove {
			continue
		}
		if a.indexOnly {
			st.set(&index.Entry{Name: a.path, Hash: a.blob.Hash, Mode: a.blob.Mode})
			continue
		}
		e, err := r.writeFile(a.path, a.blob)
		if err != nil {
			return err
		}
		st.set(e)
	}
	return nil
}

// CreateBranch creates branch name at commit (any revision ResolveRef
// accepts) and checks it out. Local changes to paths that differ between HEAD
// and commit make it fail with *OverwriteError, creating nothing.
func (r *Repo) CreateBranch(name, commit string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := branchRef(name)
	if err != nil {
		return err
	}
	if _, err := r.repo.Storer.Reference(ref); err == nil {
		return fmt.Errorf("%w: %s", ErrBranchExists, name)
	}
	h, err := r.resolve(commit)
	if err != nil {
		return err
	}
	if err := r.checkout(h, keepLocal, nil); err != nil {
		return err
	}
	if err := r.setHashRef(ref, h, "branch: Created from "+commit); err != nil {
		return fmt.Errorf("create branch %s: %w", name, err)
	}
	return r.setHead(ref)
}

// CheckoutBranch switches to an existing branch, changing only tracked
// paths that differ; local changes elsewhere are carried over, local changes
// in the way make it fail with *OverwriteError.
func (r *Repo) CheckoutBranch(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := branchRef(name)
	if err != nil {
		return err
	}
	br, err := r.repo.Storer.Reference(ref)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBranchNotFound, name)
	}
	if err := r.checkout(br.Hash(), keepLocal, nil); err != nil {
		return err
	}
	return r.setHead(ref)
}

// ResetTo moves the current branch (or a detached HEAD) to commit and makes
// every tracked file match it, discarding local changes to tracked files.
// Untracked and ignored files are left alone.
func (r *Repo) ResetTo(commit string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.resolve(commit)
	if err != nil {
		return err
	}
	target, err := r.headTarget()
	if err != nil {
		return err
	}
	return r.checkout(h, discardLocal, func() error {
		if err := r.setHashRef(target, h, "reset: moving to "+h.String()); err != nil {
			return fmt.Errorf("move %s: %w", target.Short(), err)
		}
		return nil
	})
}

// checkout switches the worktree and index from HEAD to commit under the
// index lock. before, if set, runs after the worktree is updated and before
// the new index is installed.
func (r *Repo) checkout(commit plumbing.Hash, mode switchMode, before func() error) error {
	lock, err := r.lockIndex()
	if err != nil {
		return err
	}
	defer lock.release()
	st, err := r.readIndex()
	if err != nil {
		return err
	}
	head, err := r.headSnapshot()
	if err != nil {
		return err
	}
	target, err := r.commitSnapshot(commit)
	if err != nil {
		return err
	}
	changed, err := r.switchTree(st, head, target, mode)
	if err != nil {
		return err
	}
	if before != nil {
		if err := before(); err != nil {
			return err
		}
	}
	if !changed {
		// The index already records target and every file is clean: the
		// same index again would only cost writing it.
		return nil
	}
	return r.commitIndex(lock, st)
}

// setHead points HEAD at a branch.
func (r *Repo) setHead(ref plumbing.ReferenceName) error {
	from := "HEAD"
	if cur, err := r.headTarget(); err == nil && cur.IsBranch() {
		from = cur.Short()
	}
	if err := r.setSymbolicHead(ref, "checkout: moving from "+from+" to "+ref.Short()); err != nil {
		return fmt.Errorf("update HEAD: %w", err)
	}
	return nil
}

// holdsOrMissing: nothing is at p, or a file that already holds b.
func (r *Repo) holdsOrMissing(p string, b blobEntry) (bool, error) {
	fi, err := os.Lstat(r.abs(p))
	if isMissing(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !modeMatches(b.Mode, fi) {
		return false, nil
	}
	h, err := r.hashWorktree(p, fi)
	return err == nil && h == b.Hash, err
}
