package gitrepo

import (
	"fmt"
	"os"
)

// RestoreFiles makes each path as HEAD has it, in the worktree and the
// index: a changed file is rewritten, a file HEAD lacks is deleted (with any
// parent directories it leaves empty). Paths must name files, not
// directories.
func (r *Repo) RestoreFiles(paths []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	clean := make([]string, 0, len(paths))
	for _, p := range paths {
		c, err := r.cleanPath(p)
		if err != nil {
			return err
		}
		clean = append(clean, c)
	}
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
	var plan []action
	for _, p := range clean {
		if fi, err := os.Lstat(r.abs(p)); err == nil && fi.IsDir() {
			return fmt.Errorf("restore %s: %w", p, ErrNotAFile)
		}
		hb, inHead := head.files[p]
		if !inHead {
			// Not in HEAD: delete it whether tracked (staged) or untracked.
			plan = append(plan, action{path: p, remove: true})
			continue
		}
		if ie := st.entries[p]; entryMatches(ie, hb) {
			ok, err := r.worktreeClean(ie, st.mtime)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
		}
		plan = append(plan, action{path: p, blob: hb})
	}
	if len(plan) == 0 {
		return nil // every path already as HEAD has it: the index stays
	}
	if err := r.apply(st, plan); err != nil {
		return err
	}
	return r.commitIndex(lock, st)
}
