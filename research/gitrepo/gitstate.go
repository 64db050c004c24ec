package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/atomicfile"
)

var _ research.GitGuard = (*Repo)(nil)

// configFiles are the git config files of a repository the harness relies
// on (core.hooksPath, core.bare, core.worktree, include.*, user.*): the
// shared one and a linked worktree's own.
func (r *Repo) configFiles() map[string]string {
	return map[string]string{
		"config":          filepath.Join(r.commonDir, "config"),
		"config.worktree": filepath.Join(r.gitDir, "config.worktree"),
	}
}

func (r *Repo) hooksDir() string { return filepath.Join(r.commonDir, "hooks") }

// GitState snapshots HEAD, every ref, the hooks and the config files.
func (r *Repo) GitState() (research.GitState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := research.GitState{Refs: map[string]string{}, Hooks: map[string][]byte{}, Config: map[string][]byte{}}
	raw, err := os.ReadFile(filepath.Join(r.gitDir, "HEAD"))
	if err != nil {
		return st, fmt.Errorf("read HEAD: %w", err)
	}
	st.HeadRaw = raw
	if target, err := r.headTarget(); err == nil && target != plumbing.HEAD {
		st.HeadTarget = target.String()
	}
	if h, err := r.headHash(); err == nil {
		st.HeadCommit = h.String()
	}
	refs, err := r.listRefs()
	if err != nil {
		return st, fmt.Errorf("list refs: %w", err)
	}
	st.Refs = refs
	if st.Hooks, err = readHooks(r.hooksDir()); err != nil {
		return st, err
	}
	for name, path := range r.configFiles() {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("read %s: %w", path, err)
		}
		st.Config[name] = b
	}
	return st, nil
}

// readHooks reads every file under dir (a symlink is recorded by its
// target, never followed).
func readHooks(dir string) (map[string][]byte, error) {
	hooks := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			hooks[filepath.ToSlash(rel)] = []byte("symlink -> " + target)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		hooks[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read hooks: %w", err)
	}
	return hooks, nil
}

// RestoreGitState puts HEAD, the refs, the hooks and the config back as
// they were in st: refs created since are deleted, hooks installed since
// are removed. Tracked files are not touched: reset them afterwards.
func (r *Repo) RestoreGitState(st research.GitState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	// Config first: an edited core.worktree or core.bare would mislead
	// anything below that reads it.
	for name, path := range r.configFiles() {
		before, had := st.Config[name]
		now, err := os.ReadFile(path)
		switch {
		case !had && err == nil:
			errs = append(errs, os.Remove(path))
		case had && (err != nil || string(now) != string(before)):
			errs = append(errs, writeAtomic(path, before, 0o644))
		}
	}
	if now, err := os.ReadFile(filepath.Join(r.gitDir, "HEAD")); err != nil || string(now) != string(st.HeadRaw) {
		errs = append(errs, writeAtomic(filepath.Join(r.gitDir, "HEAD"), st.HeadRaw, 0o644))
	}
	errs = append(errs, r.restoreRefs(st.Refs))
	errs = append(errs, restoreHooks(r.hooksDir(), st.Hooks))
	return errors.Join(errs...)
}

func (r *Repo) restoreRefs(want map[string]string) error {
	var errs []error
	now, err := r.listRefs()
	if err != nil {
		return fmt.Errorf("list refs: %w", err)
	}
	for name := range now {
		if _, ok := want[name]; !ok && name != plumbing.HEAD.String() {
			if err := r.repo.Storer.RemoveReference(plumbing.ReferenceName(name)); err != nil {
				errs = append(errs, fmt.Errorf("delete %s: %w", name, err))
			}
		}
	}
	for name, v := range want {
		if now[name] == v {
			continue
		}
		var ref *plumbing.Reference
		if target, ok := strings.CutPrefix(v, "ref: "); ok {
			ref = plumbing.NewSymbolicReference(plumbing.ReferenceName(name), plumbing.ReferenceName(target))
		} else {
			ref = plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.NewHash(v))
		}
		if err := r.repo.Storer.SetReference(ref); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func restoreHooks(dir string, want map[string][]byte) error {
	now, err := readHooks(dir)
	if err != nil {
		return err
	}
	var errs []error
	for name := range now {
		if _, ok := want[name]; !ok {
			errs = append(errs, os.Remove(filepath.Join(dir, filepath.FromSlash(name))))
		}
	}
	for name, b := range want {
		if string(now[name]) == string(b) {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if target, ok := strings.CutPrefix(string(b), "symlink -> "); ok {
			_ = os.Remove(path)
			errs = append(errs, os.Symlink(target, path))
			continue
		}
		errs = append(errs, os.MkdirAll(filepath.Dir(path), 0o755), writeAtomic(path, b, 0o755))
	}
	return errors.Join(errs...)
}

// writeAtomic replaces path with data, so a crash leaves the old or the
// new content, never half (a symlink planted at path is replaced, not
// written through).
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.Write(path, data, mode, ".autoresearch-*")
}
