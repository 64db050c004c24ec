// Package statelock makes one process the owner of a state dir (and so of
// its repository): an exclusive flock on STATE_DIR/owner.lock, held for the
// process's life. The kernel drops the lock when the process dies, kill -9
// included, so a lock file left behind never blocks a restart. Who holds it
// is written beside it in owner.json, so that a refused second process can
// say whom it met.
package statelock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/atomicfile"
)

// File names inside the state dir.
const (
	LockFile  = "owner.lock"
	OwnerFile = "owner.json"
)

// Owner describes the process that holds the lock.
type Owner struct {
	PID      int       `json:"pid"`
	Command  string    `json:"command"`
	Tag      string    `json:"tag,omitempty"`
	Since    time.Time `json:"since"`
	Hostname string    `json:"hostname"`
}

// HeldError is the refusal of a second process: another one owns the dir.
type HeldError struct {
	Dir   string
	Owner Owner // zero when owner.json could not be read
}

func (e *HeldError) Error() string {
	o := e.Owner
	if o.PID == 0 {
		return fmt.Sprintf("another autoresearch process owns %s (it holds %s); stop it first, `fuser %s` names it",
			e.Dir, filepath.Join(e.Dir, LockFile), filepath.Join(e.Dir, LockFile))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "another autoresearch process owns this repo: pid %d", o.PID)
	if host, _ := os.Hostname(); o.Hostname != "" && o.Hostname != host {
		fmt.Fprintf(&b, " on host %s", o.Hostname)
	}
	fmt.Fprintf(&b, ", `%s`", o.Command)
	if o.Tag != "" {
		fmt.Fprintf(&b, ", run %s", o.Tag)
	}
	if !o.Since.IsZero() {
		fmt.Fprintf(&b, ", since %s (%s ago)", o.Since.Local().Format("2006-01-02 15:04:05"), time.Since(o.Since).Round(time.Second))
	}
	fmt.Fprintf(&b, "; stop it with `kill %d` (it records the running experiment and the run resumes at the next start), or talk to it instead of starting another", o.PID)
	return b.String()
}

// ErrHeld is wrapped by *HeldError, for errors.Is.
var ErrHeld = errors.New("state dir is owned by another process")

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held owner lock. Release it (or exit) to let the next owner in.
type Lock struct {
	mu    sync.Mutex // SetTag may be called from event goroutines
	dir   string
	f     *os.File
	owner Owner
}

// Acquire takes the owner lock of dir (created if missing), waiting at most
// a second for it (see flockRetry); a *HeldError says who holds it. owner's PID, Since and Hostname are filled
// in when zero.
func Acquire(dir string, owner Owner) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the owner lock: %w", err)
	}
	if err := flockRetry(f, dir); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, held(dir)
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	if owner.PID == 0 {
		owner.PID = os.Getpid()
	}
	if owner.Since.IsZero() {
		owner.Since = time.Now().UTC()
	}
	if owner.Hostname == "" {
		owner.Hostname, _ = os.Hostname()
	}
	l := &Lock{dir: dir, f: f, owner: owner}
	if err := l.writeOwner(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// Probe tells, changing nothing, whether another process holds dir's lock:
// a *HeldError when one does, nil when nobody does or there is no lock file.
func Probe(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the owner lock: %w", err)
	}
	defer f.Close()
	// A shared lock: probes do not block each other, only an owner blocks them.
	if err := flockNB(f, syscall.LOCK_SH); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return held(dir)
		}
		return err
	}
	// Closing f drops the probe's lock at once.
	return nil
}

// Holder reads who holds dir's lock now: ok is false when nobody does (a
// stale owner.json from a dead process is not reported).
func Holder(dir string) (Owner, bool, error) {
	err := Probe(dir)
	var he *HeldError
	if errors.As(err, &he) {
		return he.Owner, true, nil
	}
	return Owner{}, false, err
}

func held(dir string) error {
	o, err := readOwner(dir)
	if err != nil || !plausible(o) {
		o = Owner{} // a holder still starting up, or a stale file
	}
	return &HeldError{Dir: dir, Owner: o}
}

// plausible: owner.json names a live process (on another host it cannot
// be checked and is believed).
func plausible(o Owner) bool {
	if o.PID <= 0 {
		return false
	}
	if host, _ := os.Hostname(); o.Hostname != "" && o.Hostname != host {
		return true
	}
	err := syscall.Kill(o.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// SetTag records the run the owner now drives (the bot learns it late).
func (l *Lock) SetTag(tag string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil || l.owner.Tag == tag {
		return nil
	}
	l.owner.Tag = tag
	return l.writeOwner()
}

// Owner is what this lock recorded about its process.
func (l *Lock) Owner() Owner { return l.owner }

// Release drops the lock and removes owner.json. The lock file stays: it is
// harmless, and removing it would race with a process opening it.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	os.Remove(filepath.Join(l.dir, OwnerFile))
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

// writeOwner replaces owner.json through a rename, so a reader never sees
// half of it.
func (l *Lock) writeOwner() error {
	data, err := json.MarshalIndent(l.owner, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(l.dir, OwnerFile), append(data, '\n'), 0o600, ".owner-*.json")
}

func readOwner(dir string) (Owner, error) {
	var o Owner
	data, err := os.ReadFile(filepath.Join(dir, OwnerFile))
	if err != nil {
		return o, err
	}
	err = json.Unmarshal(data, &o)
	return o, err
}

// Retry windows of Acquire. A live owner that owner.json names is reported
// after the short one: a Probe (doctor) holds the lock for an instant and
// must not turn a start away. A holder that names nobody is waited for up to
// the long one: it is an owner between its flock and writing owner.json, or
// a child that another goroutine of a just-ended owner forked, which shares
// the lock's open file until its exec closes it (a fork of a big process
// under load can take that long).
var (
	retryNamed   = 200 * time.Millisecond
	retryUnnamed = time.Second
	retryEvery   = 40 * time.Millisecond
)

// onBusy, when set (tests), is called after each refused try.
var onBusy func()

// flockRetry takes the exclusive lock, retrying as the windows above say.
func flockRetry(f *os.File, dir string) error {
	start := time.Now()
	for {
		err := flockNB(f, syscall.LOCK_EX)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if onBusy != nil {
			onBusy()
		}
		waited := time.Since(start)
		if waited >= retryUnnamed || (waited >= retryNamed && namedOwner(dir)) {
			return err
		}
		time.Sleep(retryEvery)
	}
}

// namedOwner: owner.json names a live process.
func namedOwner(dir string) bool {
	o, err := readOwner(dir)
	return err == nil && plausible(o)
}

func flockNB(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
