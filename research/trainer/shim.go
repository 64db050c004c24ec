package trainer

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/proctree"
)

// The shim is this very binary, started again (os.Executable) with shimEnv
// set, between the harness and the train command. It must be the first
// thing main runs (RunShimIfRequested), and the TestMain of every package
// whose tests start trainers must call it too.
const (
	shimEnv   = "AUTORESEARCH_TRAINER_SHIM"
	shimArg0  = "autoresearch-trainer"
	shimProbe = "probe"
	// shimLeftoverGrace is how long processes the command left behind get
	// between SIGTERM and SIGKILL once the command itself has exited.
	shimLeftoverGrace = 2 * time.Second
)

// shimHooked is set once RunShimIfRequested ran in this process: only then
// may we start ourselves as the shim. A binary that does not call it (a
// test binary of another package) would run its own main, or all its tests,
// instead; it gets IsolationNone.
var shimHooked atomic.Bool

// RunShimIfRequested turns this process into the trainer shim when the
// harness started it as one, and then exits with the command's status; in
// any other process it returns at once and does nothing.
func RunShimIfRequested() {
	shimHooked.Store(true)
	mode := os.Getenv(shimEnv)
	if mode == "" {
		return
	}
	os.Unsetenv(shimEnv)
	os.Exit(runShim(mode, os.Args[1:]))
}

// runShim prepares the namespaces (a fresh /proc) or becomes a subreaper,
// runs argv, forwards signals to the processes that left its process group
// (the group itself gets them from the harness), reaps every orphan, and
// when argv's process exits, ends whatever it left behind. It returns
// argv's exit status, 128+N when a signal N killed it.
func runShim(mode string, argv []string) int {
	_ = proctree.SetNotDumpable()
	switch Isolation(mode) {
	case IsolationNamespaces, shimProbe:
		if os.Getpid() != 1 {
			return shimFail("not the first process of a new PID namespace (pid %d)", os.Getpid())
		}
		if err := mountFreshProc(); err != nil {
			return shimFail("%v", err)
		}
		if mode == shimProbe {
			return 0
		}
	case IsolationReaper:
		if err := proctree.BecomeSubreaper(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cannot become a subreaper (%v); processes that leave the group may outlive the experiment\n", shimArg0, err)
		}
	default:
		return shimFail("unknown mode %q", mode)
	}
	if os.Getenv(shimSpareEnv) != "" {
		// A spare: ready before it is needed, it waits for its command.
		os.Unsetenv(shimSpareEnv)
		spec, ok := awaitSpec(spareSpecFD, spareIdle)
		if !ok {
			return 0 // not needed after all, or the harness is gone
		}
		if err := spec.apply(); err != nil {
			return shimFail("%v", err)
		}
		argv = spec.Argv
	}
	if len(argv) == 0 {
		return shimFail("no command")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return shimFail("%v", err)
	}
	// Capabilities belong to a thread: drop them on the one that forks.
	runtime.LockOSThread()
	dropPowers()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGCHLD)
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return shimFail("%v", err)
	}
	self := os.Getpid()
	tick := time.NewTicker(time.Second) // in case a SIGCHLD was merged away
	defer tick.Stop()
	var status syscall.WaitStatus
	for done := false; !done; {
		done = reapAll(proc.Pid, &status)
		if done {
			break
		}
		select {
		case sig := <-sigs:
			if s, ok := sig.(syscall.Signal); ok && s != syscall.SIGCHLD {
				forwardOutsideGroup(self, s)
			}
		case <-tick.C:
		}
	}
	endLeftovers(self)
	switch {
	case status.Exited():
		return status.ExitStatus()
	case status.Signaled():
		return 128 + int(status.Signal())
	default:
		return 127
	}
}

func shimFail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "%s: "+format+"\n", append([]any{shimArg0}, args...)...)
	return 127
}

// reapAll collects every exited child without blocking and reports whether
// main was among them (its status in *status).
func reapAll(main int, status *syscall.WaitStatus) bool {
	found := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return found
		}
		if pid == main {
			*status, found = ws, true
		}
	}
}

// forwardOutsideGroup passes sig on to our descendants that left our
// process group (setsid): the harness signals the group, which they are no
// longer in.
func forwardOutsideGroup(self int, sig syscall.Signal) {
	procs, err := proctree.Descendants(self, 0)
	if err != nil {
		return
	}
	pgid := syscall.Getpgrp()
	for _, p := range procs {
		if p.PID != self && p.PGID != pgid {
			_ = proctree.Signal(p, sig)
		}
	}
}

// endLeftovers ends every descendant still running after the command
// exited: SIGTERM, shimLeftoverGrace, SIGKILL, reaping as they go.
func endLeftovers(self int) {
	rest := func() []proctree.Proc {
		procs, _ := proctree.Descendants(self, 0)
		out := procs[:0]
		for _, p := range procs {
			if p.PID != self && !p.Dead() {
				out = append(out, p)
			}
		}
		return out
	}
	var ignored syscall.WaitStatus
	left := rest()
	if len(left) == 0 {
		reapAll(-1, &ignored)
		return
	}
	proctree.SignalAll(left, syscall.SIGTERM)
	proctree.SignalAll(left, syscall.SIGCONT)
	deadline := time.Now().Add(shimLeftoverGrace)
	for time.Now().Before(deadline) && len(left) > 0 {
		time.Sleep(20 * time.Millisecond)
		reapAll(-1, &ignored)
		left = rest()
	}
	for i := 0; i < 100 && len(left) > 0; i++ {
		proctree.SignalAll(left, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
		reapAll(-1, &ignored)
		left = rest()
	}
}
