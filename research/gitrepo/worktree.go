package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// worktreeClean reports whether the file for e still holds e's content and
// mode. Stat data decides when it can (size and mtime equal and the mtime
// older than the index, see indexState.mtime); otherwise the content is
// hashed. A missing file, or a directory in its place, is not clean.
func (r *Repo) worktreeClean(e *index.Entry, indexMtime time.Time) (bool, error) {
	if e.Mode == filemode.Submodule {
		return true, nil // submodule contents are not ours to check out
	}
	fi, err := os.Lstat(r.abs(e.Name))
	if isMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !modeMatches(e.Mode, fi) {
		return false, nil
	}
	if fi.Size() != 0 && uint32(fi.Size()) == e.Size && fi.ModTime().Equal(e.ModifiedAt) &&
		(indexMtime.IsZero() || e.ModifiedAt.Before(indexMtime)) {
		return true, nil
	}
	h, err := r.hashWorktree(e.Name, fi)
	if isMissing(err) {
		return false, nil // deleted since the stat
	}
	if err != nil {
		return false, err
	}
	return h == e.Hash, nil
}

// contentMatches hashes the worktree file, ignoring stat data.
func (r *Repo) contentMatches(e *index.Entry) (bool, error) {
	fi, err := os.Lstat(r.abs(e.Name))
	if isMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !modeMatches(e.Mode, fi) {
		return false, nil
	}
	h, err := r.hashWorktree(e.Name, fi)
	if isMissing(err) {
		return false, nil
	}
	return err == nil && h == e.Hash, err
}

// isMissing: nothing there, or a parent turned into a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// modeMatches compares the file type and executable bit, as git does with
// core.fileMode true.
func modeMatches(m filemode.FileMode, fi os.FileInfo) bool {
	switch {
	case m == filemode.Symlink:
		return fi.Mode()&os.ModeSymlink != 0
	case !fi.Mode().IsRegular():
		return false
	default:
		return (fi.Mode()&0o111 != 0) == (m == filemode.Executable)
	}
}

// fileMode is the git mode for a file on disk; ErrNotAFile for directories
// and special files.
func fileMode(p string, fi os.FileInfo) (filemode.FileMode, error) {
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return filemode.Symlink, nil
	case fi.Mode().IsRegular() && fi.Mode()&0o111 != 0:
		return filemode.Executable, nil
	case fi.Mode().IsRegular():
		return filemode.Regular, nil
	default:
		return 0, fmt.Errorf("%w: %s", ErrNotAFile, p)
	}
}

// hashWorktree computes the blob hash of a worktree file (a symlink hashes
// its target, as git stores it).
func (r *Repo) hashWorktree(p string, fi os.FileInfo) (plumbing.Hash, error) {
	full := r.abs(p)
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(full)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return plumbing.ComputeHash(plumbing.BlobObject, []byte(target)), nil
	}
	// Read whole rather than stream with the stat size: a file being
	// rewritten while we read simply hashes as different, never as an error.
	b, err := os.ReadFile(full)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return plumbing.ComputeHash(plumbing.BlobObject, b), nil
}

// stageFile stores the worktree file p as a blob and returns its index
// entry. The stat is taken before reading so that a write racing with us
// leaves an entry whose mtime disagrees with the file, never a stale hash
// behind a matching mtime.
func (r *Repo) stageFile(p string, fi os.FileInfo) (*index.Entry, blobEntry, error) {
	mode, err := fileMode(p, fi)
	if err != nil {
		return nil, blobEntry{}, err
	}
	var content []byte
	if mode == filemode.Symlink {
		t, err := os.Readlink(r.abs(p))
		if err != nil {
			return nil, blobEntry{}, err
		}
		content = []byte(t)
	} else if content, err = os.ReadFile(r.abs(p)); err != nil {
		return nil, blobEntry{}, err
	}
	obj := r.repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return nil, blobEntry{}, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, blobEntry{}, err
	}
	if err := w.Close(); err != nil {
		return nil, blobEntry{}, err
	}
	h, err := r.storeObject(obj)
	if err != nil {
		return nil, blobEntry{}, err
	}
	b := blobEntry{Hash: h, Mode: mode}
	e := newEntry(p, b, fi)
	if int64(len(content)) != fi.Size() {
		e.Size = 0 // changed between stat and read: make readers re-hash
	}
	return e, b, nil
}

// writeFile puts blob b at p (creating parent directories) and returns the
// new index entry. Regular files go through a temp file and a rename, so a
// crash never leaves a half-written train.py and a symlink at p is replaced,
// never written through.
func (r *Repo) writeFile(p string, b blobEntry) (*index.Entry, error) {
	full := r.abs(p)
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("write %s: %w (a directory is in the way)", p, ErrNotAFile)
	}
	blob, err := r.repo.BlobObject(b.Hash)
	if err != nil {
		return nil, fmt.Errorf("read blob for %s: %w", p, err)
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if b.Mode == filemode.Symlink {
		target, err := io.ReadAll(rd)
		if err != nil {
			return nil, err
		}
		if err := os.Remove(full); err != nil && !isMissing(err) {
			return nil, err
		}
		if err := os.Symlink(string(target), full); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
	} else if err := writeRegular(full, rd, b.Mode); err != nil {
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	fi, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	return newEntry(p, b, fi), nil
}

func writeRegular(full string, rd io.Reader, mode filemode.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(full), ".gitrepo-tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	perm := os.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	if _, err := io.Copy(tmp, rd); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), full)
}

// removeFile deletes the tracked file p and then any parent directories it
// leaves empty, as git does. A directory at p is left alone: it can only hold
// untracked files, which are never ours to delete.
func (r *Repo) removeFile(p string) error {
	full := r.abs(p)
	fi, err := os.Lstat(full)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	if err := os.Remove(full); err != nil && !isMissing(err) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	for d := filepath.Dir(full); d != r.root && len(d) > len(r.root); d = filepath.Dir(d) {
		if os.Remove(d) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}
