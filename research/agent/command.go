package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// DefaultCommandTimeout bounds an external agent's run.
const DefaultCommandTimeout = 30 * time.Minute

// Command proposes by running an external agent (--agent-cmd) with `sh -c`
// in the working copy. The prompt arrives on stdin; the agent edits the files
// itself and prints a final `DESCRIPTION: ...` line. The harness, not
// Command, checks what changed. The agent inherits the parent environment:
// unlike training, it needs its own API keys.
type Command struct {
	CommandLine string
	Timeout     time.Duration // default 30m
	Logger      *slog.Logger
	// Redactor hides the process's secrets in the prompt the agent reads
	// (crash logs included); nil: none.
	Redactor *research.Redactor
}

var _ research.Proposer = (*Command)(nil)

// CommandError reports a failed agent run.
type CommandError struct {
	ExitCode int  // -1 when killed
	TimedOut bool // killed after Timeout
	Tail     string
	Err      error
}

func (e *CommandError) Error() string {
	what := fmt.Sprintf("exited with code %d", e.ExitCode)
	if e.TimedOut {
		what = "timed out and was killed"
	} else if e.ExitCode < 0 {
		what = fmt.Sprintf("was killed (%v)", e.Err)
	}
	return fmt.Sprintf("agent command %s; output tail:\n%s", what, e.Tail)
}

func (e *CommandError) Unwrap() error { return e.Err }

// outputTailBytes is how much of the agent's output is kept.
const outputTailBytes = 64 << 10

// Propose runs the agent once. The whole process group is killed on timeout
// or cancellation, and after a normal exit too, so no stray child keeps
// editing files after the harness took over.
func (c *Command) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	if strings.TrimSpace(c.CommandLine) == "" {
		return research.Proposal{}, errors.New("agent: no agent command configured")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	stdout := &tailBuffer{max: outputTailBytes}
	combined := &tailBuffer{max: outputTailBytes}
	cmd := exec.CommandContext(runCtx, "sh", "-c", c.CommandLine)
	cmd.Dir = req.Dir
	cmd.Env = append(os.Environ(), req.Env...)
	cmd.Stdin = strings.NewReader(c.Redactor.Redact(CommandPrompt(req)))
	cmd.Stdout = teeWriter{stdout, combined}
	cmd.Stderr = combined
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	// Background children holding the pipes would block Wait forever; the
	// group kill normally closes them, this bounds the rest.
	cmd.WaitDelay = 5 * time.Second

	log := c.Logger
	if log == nil {
		log = discardLogger()
	}
	log.Info("running agent command", "cmd", c.CommandLine, "dir", req.Dir)
	err := cmd.Run()
	if cmd.Process != nil {
		_ = killGroup(cmd) // stragglers of a finished agent
	}
	if err != nil {
		ce := &CommandError{ExitCode: -1, Tail: combined.String(), Err: err}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ce.ExitCode = ee.ExitCode()
		}
		switch {
		case errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
			ce.TimedOut = true
		case ctx.Err() != nil:
			return research.Proposal{}, fmt.Errorf("agent command canceled: %w", ctx.Err())
		}
		return research.Proposal{}, ce
	}
	return research.Proposal{Description: parseDescription(stdout.String())}, nil
}

func killGroup(cmd *exec.Cmd) error {
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// parseDescription takes the last `DESCRIPTION:` line, else the last
// non-empty line, trimmed to one line of MaxDescriptionLen characters.
func parseDescription(out string) string {
	lines := strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n")
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if rest, ok := strings.CutPrefix(l, "DESCRIPTION:"); ok && strings.TrimSpace(rest) != "" {
			return truncateDesc(rest)
		}
		if last == "" && l != "" {
			last = l
		}
	}
	if last != "" {
		return truncateDesc(last)
	}
	return "agent change"
}

func truncateDesc(s string) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > MaxDescriptionLen {
		s = string(r[:MaxDescriptionLen])
	}
	return s
}

// tailBuffer keeps the last max bytes written; safe for the concurrent
// stdout and stderr copiers of exec.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

type teeWriter struct{ a, b *tailBuffer }

func (w teeWriter) Write(p []byte) (int, error) {
	w.a.Write(p)
	return w.b.Write(p)
}
