// Package trainer runs the training command for the research loop.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/proctree"
)

// Defaults for the zero Local.
const (
	DefaultCommand = "uv run train.py"
	DefaultShell   = "/bin/sh"
	DefaultGrace   = 10 * time.Second
	// DefaultStopGrace is the SIGTERM-to-SIGKILL grace when the run is
	// stopped or the harness shuts down: docker stop and systemd give the
	// whole process 10 s, and the experiment still has to be recorded and
	// the channel told after the trainer is gone.
	DefaultStopGrace = 3 * time.Second
)

const (
	// reapBound is how long we wait for the kernel to take processes away
	// after SIGKILL. A process stuck in uninterruptible sleep (a GPU driver
	// call) can linger; the loop must move on and say so rather than hang.
	reapBound = 5 * time.Second
	// drainBound is how long we keep reading output once the process group
	// is gone. Output still in the pipe arrives at once; only a process that
	// left the group (setsid) and kept our pipe makes us wait this long.
	drainBound = 2 * time.Second
)

// Errors Train returns; match them with errors.Is.
var (
	// ErrStart: the log files could not be created or the shell could not
	// be started. Nothing ran.
	ErrStart = errors.New("trainer: cannot start the train command")
	// ErrLog: writing a log file failed while the command ran. The result is
	// still complete (Output is kept in memory), but the file is not.
	ErrLog = errors.New("trainer: cannot write the training log")
)

// Local runs the train command as a local subprocess. It implements
// research.Trainer. The zero value is ready to use.
type Local struct {
	Command string        // shell command line; default DefaultCommand
	Shell   string        // runs Command with "-c"; default DefaultShell
	Grace   time.Duration // SIGTERM to SIGKILL on timeout; default DefaultGrace
	// StopGrace is SIGTERM to SIGKILL when ctx is cancelled (stop,
	// shutdown); default DefaultStopGrace.
	StopGrace time.Duration
	// Isolation picks how the command is kept from the harness; "" means
	// the strongest this host allows (Probe).
	Isolation Isolation
	// KeepEnv, when set, replaces IsSecretEnv in deciding which of the
	// parent's variables the command gets (true = keep). job.Env is always
	// added.
	KeepEnv func(key string) bool
	// LogHead is how many bytes of output the log files keep from the
	// start; past it they keep only the last 8 MiB and say what was cut.
	// Default DefaultLogHead.
	LogHead int64
	Logger  *slog.Logger // default slog.Default()
	// NoSpares starts every shim when its training starts, instead of
	// keeping one started ahead (see spare.go).
	NoSpares bool

	spares  spares
	running atomic.Int32 // trainings in progress
	peak    atomic.Int32 // the most that ran at once: how many spares to keep
	closed  atomic.Bool  // Close was called and no training started since: keep no spares
}

var _ research.Trainer = (*Local)(nil)

// Train runs the command in job.Dir in a process group of its own, with the
// parent's environment minus secrets plus job.Env. Its stdout and stderr go
// to job.LogPath and job.RunLogPath (both truncated, capped at LogHead
// bytes from the start plus the last 8 MiB with a line saying what was cut
// between), to TrainResult.Output (the last 8 MiB) and through a summary
// scanner that sees all of it (TrainResult.Summary), and progress lines reach
// job.OnProgress at most ~4 times a second, from another goroutine, never
// after Train returned (and every one of them to job.OnEveryProgress, from
// the goroutine reading the output).
//
// When job.Timeout passes or ctx is cancelled the whole group gets SIGTERM,
// then SIGKILL after Grace; the result says TimedOut or Stopped. Whatever
// way the command ends, Train returns only once no process of its group is
// left, so a stray dataloader worker cannot keep holding the GPU.
//
// job.OnStart, when set, gets the process group id as soon as the command
// runs (before any output is read: it must be quick), so that a bot
// restarted after kill -9 can find and kill an orphaned trainer.
//
// A non-zero exit is not an error: it is in ExitCode. Errors are ErrStart
// (nothing ran) and ErrLog (the result is still valid).
func (l *Local) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	if ctx.Err() != nil {
		return research.TrainResult{ExitCode: -1, Stopped: true}, nil
	}
	logger := l.logger()
	files, err := openLogs(job)
	if err != nil {
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w: %w", ErrStart, err)
	}
	mode := l.isolation()
	// Orphans of the experiment that escape the shim (it was SIGKILLed) come
	// to us rather than to PID 1, where we can still find and end them.
	_ = proctree.BecomeSubreaper()
	l.closed.Store(false)
	n := l.running.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	defer func() {
		l.running.Add(-1)
		l.keepSpare(mode) // for the next training, started while the harness judges this one
	}()

	start := time.Now()
	cmd, pr, exited, err := l.begin(mode, job)
	if err != nil {
		closeFiles(files)
		return research.TrainResult{ExitCode: -1}, err
	}
	pgid := cmd.Process.Pid
	track := newTracker(pgid, pgid, job.ProcsPath, logger)
	stopTracking := make(chan struct{})
	// Its first scan runs at once, beside the start rather than before it:
	// until it is done, the pgid file OnStart writes names the group.
	trackingDone := make(chan struct{})
	go func() {
		defer close(trackingDone)
		track.run(stopTracking)
	}()
	live := register(pgid, track, job.Dir)
	defer unregister(live)
	if job.OnStart != nil {
		job.OnStart(pgid)
	}
	logger.Info("training started", "pid", pgid, "dir", job.Dir, "command", l.command(), "timeout", job.Timeout, "isolation", mode)

	out := newOutput(files, job.OnProgress)
	if l.LogHead > 0 {
		out.logHead = l.LogHead
	}
	out.every = job.OnEveryProgress
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		if research.Catch(logger, "reading the training output", func() { out.consume(pr) }) != nil {
			_, _ = io.Copy(io.Discard, pr) // a bug must not block the trainer on a full pipe
		}
	}()

	var res research.TrainResult
	grace := l.grace()
	var timeout <-chan time.Time
	if job.Timeout > 0 {
		t := time.NewTimer(job.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-exited:
	case <-timeout:
		res.TimedOut = true
		logger.Warn("training timed out, killing its process group", "pid", pgid, "timeout", job.Timeout)
	case <-ctx.Done():
		res.Stopped = true
		grace = l.stopGrace()
		logger.Warn("training stopped, killing its process group", "pid", pgid)
	}
	allGone := endTree(pgid, track, exited, grace, logger)
	close(stopTracking)
	<-trackingDone // a scan in flight must not write the record after it is removed
	res.Duration = time.Since(start)

	select {
	case <-readDone:
	case <-time.After(drainBound):
		logger.Warn("a process outside the group still holds the output pipe; no longer reading it", "pid", pgid)
		_ = pr.SetReadDeadline(time.Now()) // unblocks consume
		<-readDone
	}
	pr.Close()
	out.finish()
	res.Output = out.tail.bytes()
	res.Summary = out.summary.Scanned()

	res.ExitCode = -1
	select {
	case <-exited:
		res.ExitCode = cmd.ProcessState.ExitCode()
		if mode != IsolationNone && res.ExitCode > 128 && (res.TimedOut || res.Stopped) {
			// The shim says 128+N for the signal we sent; report a kill
			// as a directly started command does.
			res.ExitCode = -1
		}
		if allGone {
			track.forget() // endTree just saw every process gone: none can have been born since
		} else {
			track.finish()
		}
	default: // the leader survived SIGKILL (see reapBound); its record stays
	}
	logger.Info("training finished", "pid", pgid, "exit", res.ExitCode, "timed_out", res.TimedOut,
		"stopped", res.Stopped, "duration", res.Duration.Round(time.Millisecond))
	return res, errors.Join(out.err(), closeFiles(files))
}

// endTree makes sure no process of the experiment is left: not the
// leader, not its process group, not a process that left the group. When
// the leader exited by itself everything is usually gone already and this
// costs one /proc scan; otherwise all get SIGTERM, grace, then SIGKILL.
// It reports whether it saw them all gone.
func endTree(pgid int, track *tracker, exited <-chan struct{}, grace time.Duration, logger *slog.Logger) bool {
	gone := func() bool { return isClosed(exited) && !groupAlive(pgid) && !track.anyAlive() }
	if gone() {
		return true
	}
	if isClosed(exited) {
		logger.Warn("train command left processes behind, terminating them", "pgid", pgid)
	}
	signalTree(pgid, track, syscall.SIGTERM)
	// A stopped (SIGTSTP) process would not act on SIGTERM until continued.
	signalTree(pgid, track, syscall.SIGCONT)
	if waitUntil(gone, grace) {
		return true
	}
	logger.Warn("train command still running after SIGTERM, sending SIGKILL", "pgid", pgid, "grace", grace)
	signalTree(pgid, track, syscall.SIGKILL)
	if !waitUntil(gone, reapBound) {
		logger.Error("processes of the train command survived SIGKILL", "pgid", pgid)
		return false
	}
	return true
}

// signalTree signals the group and every tracked process outside it.
func signalTree(pgid int, track *tracker, sig syscall.Signal) {
	signalGroup(pgid, sig)
	track.signal(sig)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// openLogs creates (truncating) the per-experiment log and run.log.
func openLogs(job research.TrainJob) ([]*os.File, error) {
	var files []*os.File
	for _, path := range []string{job.LogPath, job.RunLogPath} {
		if path == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			closeFiles(files)
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			closeFiles(files)
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func closeFiles(files []*os.File) error {
	var errs []error
	for _, f := range files {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrLog, err))
		}
	}
	return errors.Join(errs...)
}

func (l *Local) env() []string {
	if l.KeepEnv != nil {
		return filterEnv(os.Environ(), l.KeepEnv)
	}
	return ScrubEnv(os.Environ())
}

// buildCmd is the command line to start: the shim (this binary again,
// see RunShimIfRequested) running the shell, or the shell itself when
// there is no isolation. Either way it leads a process group of its own:
// the kill must reach grandchildren (dataloader workers, torch.compile
// helpers) and must not reach us.
func (l *Local) buildCmd(mode Isolation, job research.TrainJob) (*exec.Cmd, error) {
	env := l.jobEnv(job)
	if mode == IsolationNone {
		cmd := exec.Command(l.shell(), "-c", l.command())
		cmd.Dir, cmd.Env = job.Dir, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd, nil
	}
	attr := shimAttr(mode)
	if !shimHooked.Load() {
		return nil, fmt.Errorf("isolation %q needs the trainer shim: call trainer.RunShimIfRequested first in main (and in TestMain)", mode)
	}
	if attr == nil {
		return nil, fmt.Errorf("isolation %q is not available on this system", mode)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding our own executable for the trainer shim: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{shimArg0, l.shell(), "-c", l.command()}
	cmd.Dir = job.Dir
	cmd.Env = append(env, shimEnv+"="+string(mode))
	cmd.SysProcAttr = attr
	return cmd, nil
}

func (l *Local) isolation() Isolation {
	if l.Isolation == "" {
		return Probe().Mode
	}
	return l.Isolation
}

func (l *Local) stopGrace() time.Duration {
	if l.StopGrace <= 0 {
		return DefaultStopGrace
	}
	return l.StopGrace
}

func (l *Local) command() string {
	if l.Command == "" {
		return DefaultCommand
	}
	return l.Command
}

func (l *Local) shell() string {
	if l.Shell == "" {
		return DefaultShell
	}
	return l.Shell
}

func (l *Local) grace() time.Duration {
	if l.Grace <= 0 {
		return DefaultGrace
	}
	return l.Grace
}

func (l *Local) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.Default()
	}
	return l.Logger
}
