package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrRefLocked: a ref's .lock file exists (another git process is updating
// it, or one was killed and left it behind).
var ErrRefLocked = errors.New("ref is locked")

// lockFile is git's lock protocol for one file P: P.lock is created
// exclusively (so git and we never update P at once), the new content is
// written and fsynced there, and a rename replaces P in one step. A process
// killed at any instant leaves P either old or new, never empty or torn; at
// worst a stale P.lock, which Repair removes.
type lockFile struct {
	target string
	f      *os.File
	done   bool
}

func lockFor(target string) (*lockFile, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(target+".lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s.lock exists; remove it if no git process is running", ErrRefLocked, target)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", target, err)
	}
	return &lockFile{target: target, f: f}, nil
}

// commit writes content, syncs it and renames the lock over the target.
func (l *lockFile) commit(content []byte) error {
	if _, err := l.f.Write(content); err != nil {
		l.abandon()
		return err
	}
	if err := l.f.Sync(); err != nil {
		l.abandon()
		return err
	}
	if err := l.f.Close(); err != nil {
		l.done = true
		os.Remove(l.f.Name())
		return err
	}
	l.done = true
	if err := os.Rename(l.f.Name(), l.target); err != nil {
		os.Remove(l.f.Name())
		return err
	}
	syncDir(filepath.Dir(l.target)) // the rename itself survives a power cut
	return nil
}

// abandon drops the lock without touching the target; safe after commit.
func (l *lockFile) abandon() {
	if l.done {
		return
	}
	l.done = true
	l.f.Close()
	os.Remove(l.f.Name())
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
