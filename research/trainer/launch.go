package trainer

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// begin starts job's command: on a spare shim of mode when one waits, else
// on a new process. It returns the command, the read end of its output
// (stdout and stderr in one pipe, interleaved as "> run.log 2>&1" keeps
// them) and a channel closed once the command has been waited for (its
// status is then in cmd.ProcessState). Errors wrap ErrStart.
func (l *Local) begin(mode Isolation, job research.TrainJob) (*exec.Cmd, *os.File, <-chan struct{}, error) {
	// What a shim could only report as exit status 127 is an error here.
	if _, err := exec.LookPath(l.shell()); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	if fi, err := os.Stat(job.Dir); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: the training directory: %w", ErrStart, err)
	} else if !fi.IsDir() {
		return nil, nil, nil, fmt.Errorf("%w: the training directory %s is not a directory", ErrStart, job.Dir)
	}
	if mode != IsolationNone && !l.NoSpares {
		if sp := l.spares.take(mode); sp != nil {
			err := sp.launch(spareSpec{Argv: []string{l.shell(), "-c", l.command()}, Env: l.jobEnv(job), Dir: job.Dir})
			if err == nil {
				return sp.cmd, sp.out, sp.exited, nil
			}
			l.logger().Warn("a spare trainer shim could not take the training; starting a new one", "err", err)
			sp.discard()
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	cmd, err := l.buildCmd(mode, job)
	if err != nil {
		pw.Close()
		pr.Close()
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := startCmd(cmd); err != nil {
		pw.Close()
		pr.Close()
		return nil, nil, nil, fmt.Errorf("%w: %s -c %q in %s: %w", ErrStart, l.shell(), l.command(), job.Dir, err)
	}
	// Only the command's processes hold the write end now: EOF on the read
	// end means all of them closed it.
	pw.Close()
	return cmd, pr, waitFor(cmd), nil
}

// waitFor waits for cmd on a goroutine; the channel closes when it did.
func waitFor(cmd *exec.Cmd) <-chan struct{} {
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_ = cmd.Wait() // the exit status is read from cmd.ProcessState
	}()
	return exited
}

// keepSpare starts a spare shim of mode in the background unless enough
// wait: one per training that ran at the same time.
func (l *Local) keepSpare(mode Isolation) {
	if mode == IsolationNone || l.NoSpares || l.closed.Load() || !shimHooked.Load() || shimAttr(mode) == nil {
		return
	}
	if l.spares.count() >= int(l.peak.Load()) {
		return
	}
	go func() {
		// Not logged: this may outlive the Train call (and a test's
		// logger); a failure here only means the next start is a cold one,
		// which reports its own errors.
		sp, err := l.startSpare(mode)
		if err != nil {
			return
		}
		if !l.spares.put(sp, int(l.peak.Load()), &l.closed) {
			sp.discard()
		}
	}()
}

// startSpare starts a shim of mode that waits for its training's spec.
func (l *Local) startSpare(mode Isolation) (*spare, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{shimArg0}
	cmd.Dir = "/"
	// Its own environment is scrubbed like the command's; the command gets
	// the one in its spec.
	cmd.Env = append(l.env(), shimEnv+"="+string(mode), shimSpareEnv+"=1")
	cmd.SysProcAttr = shimAttr(mode)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.ExtraFiles = []*os.File{specR} // fd 3 (spareSpecFD)
	err = startCmd(cmd)
	pw.Close()
	specR.Close()
	if err != nil {
		pr.Close()
		specW.Close()
		return nil, err
	}
	sp := &spare{mode: mode, cmd: cmd, out: pr, spec: specW, started: time.Now()}
	sp.exited = waitFor(cmd)
	return sp, nil
}

// jobEnv is the environment job's command runs with.
func (l *Local) jobEnv(job research.TrainJob) []string {
	return append(l.env(), job.Env...)
}

// Close ends the spare shims this Local keeps, and a training in progress
// leaves none when it ends (it is not affected otherwise). A Local may
// train again after Close; it keeps spares again from then on.
func (l *Local) Close() error {
	l.closed.Store(true)
	l.spares.closeAll()
	return nil
}
