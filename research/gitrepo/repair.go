package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/autoresearch/autoresearch/research"
)

// Repair undoes what a harness process killed at any instant left half
// done, touching only what the harness owns (req says what that is):
//
//   - its stale lock files: index.lock and HEAD.lock of this worktree and
//     the run branch's .lock, removed only when no git process works in the
//     repository (a person's `git commit` waiting for an editor keeps its
//     index.lock);
//   - the run branch when its file is empty, torn or names a missing
//     commit: it goes back to the store's best known commit, else to the
//     newest commit of its reflog; a missing branch is recreated only when
//     req.Recreate says the start that should have made it was killed;
//   - the linked worktrees under req.WorktreesDir: a damaged one (an empty
//     HEAD, a half-made checkout), and one that a copy or a move of the
//     repository left pointing at the old place, is removed, to be rebuilt
//     when next used.
//
// It returns what it did, one line each. The caller must own the repository
// (the state dir's owner lock): no other harness may be at work.
func (r *Repo) Repair(req research.RepairRequest) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var done []string
	gitBusy := gitRunningIn(r.root, r.commonDir)
	var branch plumbing.ReferenceName
	if req.Branch != "" {
		ref, err := branchRef(req.Branch)
		if err != nil {
			return nil, err
		}
		branch = ref
	}
	locks := []string{filepath.Join(r.gitDir, "index.lock"), filepath.Join(r.gitDir, "HEAD.lock")}
	if branch != "" {
		locks = append(locks, r.refPath(branch)+".lock")
	}
	for _, l := range locks {
		if _, err := os.Lstat(l); err != nil {
			continue
		}
		if gitBusy {
			done = append(done, fmt.Sprintf("left %s: a git process is running in %s", l, r.root))
			continue
		}
		if err := os.Remove(l); err != nil && !os.IsNotExist(err) {
			return done, fmt.Errorf("remove the stale %s: %w", l, err)
		}
		done = append(done, "removed the stale "+l)
	}
	if branch != "" {
		d, err := r.repairBranch(branch, req)
		if err != nil {
			return done, err
		}
		done = append(done, d...)
	}
	if req.WorktreesDir != "" {
		d, err := r.repairWorktrees(req.WorktreesDir)
		if err != nil {
			return done, err
		}
		done = append(done, d...)
	}
	return done, nil
}

// repairBranch makes the run branch name a commit again.
func (r *Repo) repairBranch(ref plumbing.ReferenceName, req research.RepairRequest) ([]string, error) {
	path := r.refPath(ref)
	h, exists, ok := readLooseHash(path)
	var problem string
	switch {
	case exists && ok && r.isCommit(h):
		return nil, nil
	case exists && ok:
		problem = "names the missing commit " + h.String()
	case exists:
		data, _ := os.ReadFile(path)
		if strings.HasPrefix(string(data), "ref: refs/") {
			return nil, nil // a symbolic branch someone made: not ours to judge
		}
		problem = fmt.Sprintf("is torn (%q)", strings.TrimSpace(string(data)))
		if len(data) == 0 {
			problem = "is empty"
		}
	default:
		if _, err := r.repo.Storer.Reference(ref); err == nil {
			return nil, nil // packed: fine
		}
		if !req.Recreate {
			return nil, nil // deleted by a person: the start says so
		}
		problem = "is missing (the start that makes it was interrupted)"
	}
	target := plumbing.ZeroHash
	for _, k := range req.Known {
		if k == "" {
			continue
		}
		if c := plumbing.NewHash(k); len(k) == 40 && r.isCommit(c) {
			target = c
			break
		}
	}
	if target.IsZero() && exists {
		for _, c := range reflogCommits(r.logPath(ref)) {
			if r.isCommit(c) {
				target = c
				break
			}
		}
	}
	if target.IsZero() {
		return nil, fmt.Errorf("branch %s %s, and neither the store nor its reflog names a commit to put back: point it at a commit with `git branch -f %s COMMIT`",
			ref.Short(), problem, ref.Short())
	}
	if err := r.setHashRef(ref, target, "autoresearch: repaired, the branch "+problem); err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("branch %s %s: set to %s", ref.Short(), problem, target)}, nil
}

func (r *Repo) isCommit(h plumbing.Hash) bool {
	if h.IsZero() {
		return false
	}
	_, err := r.repo.CommitObject(h)
	return err == nil
}

// validHead: a worktree HEAD file holds a commit this repository has, or a
// symbolic ref.
func (r *Repo) validHead(path string) bool {
	if h, _, ok := readLooseHash(path); ok {
		return r.isCommit(h)
	}
	data, err := os.ReadFile(path)
	return err == nil && strings.HasPrefix(string(data), "ref: refs/")
}

// gitdirOf reads a worktree's .git file: the admin dir it names, absolute.
func gitdirOf(worktree string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(worktree, ".git"))
	if err != nil {
		return "", false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	target, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return "", false
	}
	return absFrom(worktree, strings.TrimSpace(target)), true
}

// adminLink reads an admin dir's gitdir file: the worktree's .git it names.
func adminLink(admin string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(admin, "gitdir"))
	if err != nil {
		return "", false
	}
	p := strings.TrimSpace(string(data))
	if p == "" {
		return "", false
	}
	return absFrom(admin, p), true
}

// repairWorktrees removes the harness's damaged or foreign-linked worktrees
// (and their admin dirs in this repository) so that AddWorktree rebuilds
// them. Worktrees a person made elsewhere are never looked at.
func (r *Repo) repairWorktrees(dir string) ([]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var done []string
	adminRoot := filepath.Join(r.commonDir, "worktrees")
	// A copy or a move keeps the state dir's place relative to the repo:
	// admin dirs that name RELDIR/NAME/.git at another root are ours.
	relDir := ""
	if within(dir, r.root) {
		relDir, _ = filepath.Rel(r.root, dir)
	}
	admins, _ := os.ReadDir(adminRoot)
	for _, a := range admins {
		admin := filepath.Join(adminRoot, a.Name())
		link, ok := adminLink(admin)
		if !ok {
			continue // not a worktree admin dir we can read: leave it
		}
		wt := filepath.Dir(link)
		if !within(wt, dir) {
			foreign := relDir != "" && strings.HasSuffix(filepath.ToSlash(link), "/"+filepath.ToSlash(filepath.Join(relDir, filepath.Base(wt), ".git")))
			if !foreign {
				continue // a person's worktree
			}
			// Its twin in this repo's state dir links here? Then it is live.
			if g, ok := gitdirOf(filepath.Join(dir, filepath.Base(wt))); ok && g == admin {
				continue
			}
			if err := os.RemoveAll(admin); err != nil {
				return done, err
			}
			done = append(done, fmt.Sprintf("dropped worktree entry %s: it names %s, left by a copy or move of the repository", admin, wt))
			continue
		}
		busy := gitRunningIn(wt, admin)
		for _, l := range []string{"index.lock", "HEAD.lock"} {
			if p := filepath.Join(admin, l); !busy && fileExists(p) {
				os.Remove(p)
				done = append(done, "removed the stale "+p)
			}
		}
		g, linked := gitdirOf(wt)
		healthy := linked && g == admin && r.validHead(filepath.Join(admin, "HEAD"))
		if healthy || busy {
			continue
		}
		if err := os.RemoveAll(admin); err != nil {
			return done, err
		}
		if err := removeOwnedWorktree(dir, wt); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("removed the damaged worktree %s (rebuilt when next used)", wt))
	}
	// Worktree dirs whose .git names no admin dir of this repository that
	// names them back: half made, or copied from elsewhere.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		wt := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			continue
		}
		fi, err := os.Lstat(filepath.Join(wt, ".git"))
		if err == nil && fi.IsDir() {
			continue // a whole repository someone put here: not ours
		}
		if err == nil {
			if g, ok := gitdirOf(wt); ok && within(g, adminRoot) {
				if back, ok := adminLink(g); ok && back == filepath.Join(wt, ".git") {
					continue
				}
			}
		} else if rest, _ := os.ReadDir(wt); len(rest) > 0 {
			continue // files without a .git: not a worktree we made
		}
		if err := removeOwnedWorktree(dir, wt); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("removed the worktree %s: it was not linked to this repository (rebuilt when next used)", wt))
	}
	return done, nil
}

// removeOwnedWorktree deletes wt, which must be a directory right under dir.
func removeOwnedWorktree(dir, wt string) error {
	if filepath.Dir(wt) != dir {
		return nil
	}
	return os.RemoveAll(wt)
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
