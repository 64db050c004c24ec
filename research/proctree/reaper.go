package proctree

import (
	"sync"
	"syscall"
)

var (
	subreaperOnce sync.Once
	subreaperErr  error
)

// BecomeSubreaper makes the calling process a child subreaper
// (PR_SET_CHILD_SUBREAPER): a descendant whose parent exits is re-parented
// to us instead of to PID 1, so a process that double-forked and called
// setsid is still below us in /proc and can be found and ended. It is done
// once per process; later calls return the first answer.
//
// The price: orphans that we do not end become our zombies until someone
// reaps them. Reap does that for the processes we ended.
func BecomeSubreaper() error {
	subreaperOnce.Do(func() {
		subreaperErr = setSubreaper()
	})
	return subreaperErr
}

// Reap collects the exit status of those of procs that are zombies and our
// own children (orphans re-parented to us as subreaper), so they do not
// stay in the process table. Processes someone else waits for (an
// exec.Cmd's own child) must not be passed: their Wait would fail.
func Reap(procs []Proc) {
	self := syscall.Getpid()
	for _, p := range procs {
		now, err := Stat(p.PID)
		if err != nil || now.StartTime != p.StartTime || now.PPID != self || !now.Dead() {
			continue
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(p.PID, &ws, syscall.WNOHANG, nil)
	}
}

// SignalAll sends sig to every process of procs that is still the same
// process (see Signal) and not yet dead.
func SignalAll(procs []Proc, sig syscall.Signal) {
	for _, p := range procs {
		if !p.Dead() {
			_ = Signal(p, sig)
		}
	}
}

// AnyAlive reports whether a process of procs still runs.
func AnyAlive(procs []Proc) bool {
	for _, p := range procs {
		if Alive(p) {
			return true
		}
	}
	return false
}
