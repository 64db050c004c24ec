// Package gitrepo implements research.Repo on go-git v5 without go-git's
// worktree operations that are unsafe or slow for an experiment loop:
// HardReset and forced checkout delete untracked and ignored files, and
// Worktree.Status walks ignored directories such as a uv .venv. Instead this
// package reads and writes the index itself, touches only tracked paths whose
// content differs, and walks the tree for untracked files without descending
// into ignored directories.
package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/autoresearch/autoresearch/research"
)

var _ research.Repo = (*Repo)(nil)

// Repo is a git work tree. Its methods are safe for concurrent use; they
// serialize on a mutex because they share the index file.
type Repo struct {
	mu        sync.Mutex
	root      string // absolute work tree root
	gitDir    string // per-worktree git dir: index, HEAD
	commonDir string // shared git dir: objects, refs, info/exclude
	repo      *gogit.Repository

	// Caches (cache.go), guarded by mu.
	snapshots  []*snapshot            // recently used commit trees, oldest first
	index      *indexState            // the index as last read or written
	indexStamp indexStamp             // the index file version index holds
	listings   map[string]*dirListing // the untracked walk's directories (untracked_cache.go)
	walked     *walkResult            // the last untracked walk's answer (untracked_cache.go)

	// The change monitor (monitor.go), guarded by mu: started on first
	// use unless monitorOff; checks records what it lets later checks reuse.
	mon         *monitor
	monCleanup  runtime.Cleanup
	monitorOff  bool
	watchBudget int
	monitorFrom int // tree size from which the monitor starts (monitor.go)
	listed      int // entries the last untracked walk listed
	checks      map[string]entryCheck
	lastChecked int // index entries the last check looked at (tests)
}

// Open opens the work tree whose root is dir. dir must hold .git (a
// directory, or the file a linked worktree has); a subdirectory of a work
// tree is refused rather than searched upwards, so a mistyped --repo can never
// make the loop reset some enclosing repository.
func Open(dir string) (*Repo, error) { return open(dir, true) }

// open is Open with the change monitor on or off (tests compare the two).
func open(dir string, monitor bool) (*Repo, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRepository, dir, err)
	}
	gitDir, commonDir, err := locateGitDirs(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRepository, dir, err)
	}
	repo, err := gogit.PlainOpenWithOptions(root, &gogit.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRepository, dir, err)
	}
	return &Repo{root: root, gitDir: gitDir, commonDir: commonDir, repo: repo,
		monitorOff: !monitor, watchBudget: maxWatchedDirs, monitorFrom: monitorFrom}, nil
}

// locateGitDirs finds the per-worktree git dir and the common dir. A linked
// worktree (git worktree add) has a .git file "gitdir: X", and X/commondir
// names the main repository's .git.
func locateGitDirs(root string) (gitDir, commonDir string, err error) {
	dotGit := filepath.Join(root, ".git")
	fi, err := os.Stat(dotGit)
	if err != nil {
		return "", "", errors.New("no .git here (give the work tree root)")
	}
	gitDir = dotGit
	if !fi.IsDir() {
		b, err := os.ReadFile(dotGit)
		if err != nil {
			return "", "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		target, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
		if !ok {
			return "", "", errors.New(".git file has no gitdir line")
		}
		gitDir = absFrom(root, strings.TrimSpace(target))
	}
	commonDir = gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		commonDir = absFrom(gitDir, strings.TrimSpace(string(b)))
	}
	if _, err := os.Stat(filepath.Join(commonDir, "objects")); err != nil {
		return "", "", fmt.Errorf("%s has no objects directory", commonDir)
	}
	return gitDir, commonDir, nil
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// Root is the work tree's absolute directory.
func (r *Repo) Root() string { return r.root }

// Head returns the full hash HEAD points at.
func (r *Repo) Head() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.headHash()
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// headHash resolves HEAD; ErrNoCommits when its branch is unborn.
func (r *Repo) headHash() (plumbing.Hash, error) {
	ref, err := r.repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, ErrNoCommits
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolve HEAD: %w", err)
	}
	return ref.Hash(), nil
}

// CurrentBranch returns the checked-out branch's short name, "" when HEAD is
// detached. An unborn branch (no commits yet) is still named.
func (r *Repo) CurrentBranch() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name, err := r.headTarget()
	if err != nil {
		return "", err
	}
	if !name.IsBranch() {
		return "", nil
	}
	return name.Short(), nil
}

// headTarget is the ref HEAD points at symbolically, or HEAD itself when
// detached: the ref a commit or reset must move.
func (r *Repo) headTarget() (plumbing.ReferenceName, error) {
	ref, err := r.repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return "", fmt.Errorf("read HEAD: %w", err)
	}
	if ref.Type() == plumbing.SymbolicReference {
		return ref.Target(), nil
	}
	return plumbing.HEAD, nil
}

// ResolveRef turns a branch name, tag, "HEAD", or a short or full hash into
// the full hash of the commit it names (annotated tags are peeled).
func (r *Repo) ResolveRef(ref string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.resolve(ref)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func (r *Repo) resolve(ref string) (plumbing.Hash, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return plumbing.ZeroHash, fmt.Errorf("%w: empty revision", ErrUnknownRevision)
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil || h == nil || h.IsZero() {
		return plumbing.ZeroHash, fmt.Errorf("%w: %q", ErrUnknownRevision, ref)
	}
	return *h, nil
}

// cleanPath turns a caller's path (relative to the root, either separator)
// into the slash form git stores, refusing anything outside the work tree
// or inside .git.
func (r *Repo) cleanPath(p string) (string, error) {
	orig := p
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(r.root, p)
		if err != nil {
			return "", fmt.Errorf("%w: %q", ErrBadPath, orig)
		}
		p = rel
	}
	p = path.Clean(filepath.ToSlash(p))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%w: %q is outside the work tree", ErrBadPath, orig)
	}
	for _, part := range strings.Split(p, "/") {
		if strings.EqualFold(part, ".git") {
			return "", fmt.Errorf("%w: %q is inside .git", ErrBadPath, orig)
		}
	}
	return p, nil
}

// abs is the on-disk path of a slash-separated repository path.
func (r *Repo) abs(p string) string { return filepath.Join(r.root, filepath.FromSlash(p)) }
