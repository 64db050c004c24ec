// Package trainer runs the training command for the research loop.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Defaults for the zero Local.
const (
	DefaultCommand = "uv run train.py"
	DefaultShell   = "/bin/sh"
	DefaultGrace   = 10 * time.Second
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
	Grace   time.Duration // SIGTERM to SIGKILL; default DefaultGrace
	// KeepEnv, when set, replaces IsSecretEnv in deciding which of the
	// parent's variables the command gets (true = keep). job.Env is always
	// added.
	KeepEnv func(key string) bool
	Logger  *slog.Logger // default slog.Default()
}

var _ research.Trainer = (*Local)(nil)

// Train runs the command in job.Dir in a process group of its own, with the
// parent's environment minus secrets plus job.Env. Its stdout and stderr go
// to job.LogPath and job.RunLogPath (both truncated) and to
// TrainResult.Output (the last 8 MiB), and progress lines reach
// job.OnProgress at most ~4 times a second, from another goroutine, never
// after Train returned.
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
	pr, pw, err := os.Pipe()
	if err != nil {
		closeFiles(files)
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w: %w", ErrStart, err)
	}
	cmd := exec.Command(l.shell(), "-c", l.command())
	cmd.Dir = job.Dir
	cmd.Env = append(l.env(), job.Env...)
	// One pipe for both streams keeps their interleaving, as "> run.log 2>&1" does.
	cmd.Stdout, cmd.Stderr = pw, pw
	// Own process group: the kill must reach grandchildren (dataloader
	// workers, torch.compile helpers) and must not reach us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		closeFiles(files)
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w: %s -c %q in %s: %w", ErrStart, l.shell(), l.command(), job.Dir, err)
	}
	// Only the command's processes hold the write end now: EOF on the read
	// end means all of them closed it.
	pw.Close()
	pgid := cmd.Process.Pid
	if job.OnStart != nil {
		job.OnStart(pgid)
	}
	logger.Info("training started", "pid", pgid, "dir", job.Dir, "command", l.command(), "timeout", job.Timeout)

	out := newOutput(files, job.OnProgress)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		out.consume(pr)
	}()
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_ = cmd.Wait() // the exit status is read from cmd.ProcessState
	}()

	var res research.TrainResult
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
		logger.Warn("training stopped, killing its process group", "pid", pgid)
	}
	l.endGroup(pgid, exited, logger)
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

	res.ExitCode = -1
	select {
	case <-exited:
		res.ExitCode = cmd.ProcessState.ExitCode()
	default: // the leader survived SIGKILL (see reapBound)
	}
	logger.Info("training finished", "pid", pgid, "exit", res.ExitCode, "timed_out", res.TimedOut,
		"stopped", res.Stopped, "duration", res.Duration.Round(time.Millisecond))
	return res, errors.Join(out.err(), closeFiles(files))
}

// endGroup makes sure no process of the group is left. When the leader
// exited by itself the group is usually already gone and this costs one
// syscall; otherwise it sends SIGTERM, waits Grace, then SIGKILL.
func (l *Local) endGroup(pgid int, exited <-chan struct{}, logger *slog.Logger) {
	gone := func() bool { return isClosed(exited) && !groupAlive(pgid) }
	if gone() {
		return
	}
	if isClosed(exited) {
		logger.Warn("train command left processes behind, terminating them", "pgid", pgid)
	}
	signalGroup(pgid, syscall.SIGTERM)
	// A stopped (SIGTSTP) process would not act on SIGTERM until continued.
	signalGroup(pgid, syscall.SIGCONT)
	if waitUntil(gone, l.grace()) {
		return
	}
	logger.Warn("train command still running after SIGTERM, sending SIGKILL", "pgid", pgid, "grace", l.grace())
	signalGroup(pgid, syscall.SIGKILL)
	if !waitUntil(gone, reapBound) {
		logger.Error("processes of the train command survived SIGKILL", "pgid", pgid)
	}
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
