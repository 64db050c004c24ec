package trainer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A spare shim is started while the harness has time (when a training
// ends) and waits for the command of the next training: the shim is this
// whole binary, and its start (the runtime, every package's init, the new
// namespaces and /proc) costs ~30 ms on a GPU host, which would otherwise
// lie between two trainings, where the GPU idles.
//
// The spare waits on a pipe (its fd 3) for a spareSpec: the argv, the
// environment and the directory of the training, which it then runs as a
// shim started for it would. EOF on the pipe (the harness discarded the
// spare, or died) ends it at once without running anything; so does
// spareIdle without a spec. The harness uses a spare only while it is
// clearly younger than that (spareUsable), so that a spec never reaches a
// shim that already gave up.
const (
	shimSpareEnv = "AUTORESEARCH_TRAINER_SHIM_SPARE"
	spareSpecFD  = 3
	spareIdle    = 15 * time.Second
	spareUsable  = 10 * time.Second
	// maxSpares bounds the spares of one Local (one per training that
	// runs at the same time: slots).
	maxSpares = 8
)

// spareSpec is what a spare needs to run a training.
type spareSpec struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

// apply makes the spec's environment and directory the shim's own: the
// command inherits both, and LookPath uses the spec's PATH.
func (s spareSpec) apply() error {
	os.Clearenv()
	for _, kv := range s.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				if err := os.Setenv(kv[:i], kv[i+1:]); err != nil {
					return err
				}
				break
			}
		}
	}
	if err := os.Chdir(s.Dir); err != nil {
		return fmt.Errorf("the training's directory: %w", err)
	}
	return nil
}

// awaitSpec reads the spec from the inherited descriptor fd, giving up
// after idle.
func awaitSpec(fd int, idle time.Duration) (spareSpec, bool) {
	var spec spareSpec
	// Non-blocking before os.NewFile, which then makes it pollable: the
	// deadline holds (the pipe may have come blocking).
	if err := syscall.SetNonblock(fd, true); err != nil {
		return spec, false
	}
	f := os.NewFile(uintptr(fd), "spec")
	defer f.Close()
	_ = f.SetReadDeadline(time.Now().Add(idle))
	data, err := io.ReadAll(f)
	if err != nil || len(data) == 0 {
		return spec, false
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Fprintf(os.Stderr, "%s: a spare got a bad spec: %v\n", shimArg0, err)
		return spec, false
	}
	return spec, true
}

// spare is a started spare shim, seen from the harness.
type spare struct {
	mode    Isolation
	cmd     *exec.Cmd
	out     *os.File // the read end of its stdout and stderr
	spec    *os.File // the write end of its fd 3
	started time.Time
	exited  <-chan struct{} // closed once cmd.Wait returned
}

// usable: alive and young enough to be sure to read a spec.
func (s *spare) usable(now time.Time) bool {
	return !isClosed(s.exited) && now.Sub(s.started) < spareUsable
}

// launch hands the spare its training; it runs from now on.
func (s *spare) launch(spec spareSpec) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if _, err := s.spec.Write(data); err != nil {
		return err
	}
	return s.spec.Close() // EOF: the spec is whole
}

// discard ends an unused spare (EOF on its fd 3) and waits for it.
func (s *spare) discard() {
	_ = s.spec.Close()
	_ = s.out.Close()
	select {
	case <-s.exited:
	case <-time.After(2 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// spares are a Local's started spare shims.
type spares struct {
	mu   sync.Mutex
	idle []*spare
}

// take returns a usable spare of mode, discarding stale ones; nil if none.
func (ss *spares) take(mode Isolation) *spare {
	ss.mu.Lock()
	var got *spare
	var stale []*spare
	keep := ss.idle[:0]
	now := time.Now()
	for _, s := range ss.idle {
		switch {
		case !s.usable(now):
			stale = append(stale, s)
		case got == nil && s.mode == mode:
			got = s
		default:
			keep = append(keep, s)
		}
	}
	ss.idle = keep
	ss.mu.Unlock()
	for _, s := range stale {
		go s.discard()
	}
	return got
}

// put keeps s for a later training unless enough are kept or closed is
// set (read under the lock closeAll takes, so that a spare put while Close
// runs is either refused here or discarded there).
func (ss *spares) put(s *spare, want int, closed *atomic.Bool) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if closed.Load() || len(ss.idle) >= min(want, maxSpares) {
		return false
	}
	ss.idle = append(ss.idle, s)
	return true
}

// count is how many spares wait.
func (ss *spares) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.idle)
}

// closeAll discards every spare.
func (ss *spares) closeAll() {
	ss.mu.Lock()
	idle := ss.idle
	ss.idle = nil
	ss.mu.Unlock()
	for _, s := range idle {
		s.discard()
	}
}
