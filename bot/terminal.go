package bot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Terminal is the terminal front end of `autoresearch run`: it prints the
// loop's events as timestamped lines with a progress bar while training, and
// serves commands typed on In. Event and Serve may run concurrently.
type Terminal struct {
	In         io.Reader
	Out        io.Writer
	Controller Controller
	Color      bool             // ANSI colors for statuses and errors
	Now        func() time.Time // clock for events without a time (default time.Now)
	Logger     *slog.Logger     // diagnostics (default: discarded)
	// TTY forces redrawing the progress bar in place. Without it, in-place
	// redraws are used only when Out is a character device; elsewhere
	// (pipes, files, tests) progress is printed at most every 10 %.
	TTY bool

	mu      sync.Mutex
	ttyOnce sync.Once
	tty     bool
	bar     string // progress line on screen (TTY); "" = none
	barLen  int    // its width, to blank it out
	gate    progressGate
	best    float64 // best val_bpb seen in events: the finished line's delta
	failed  bool    // a write to Out failed (logged once)
}

var _ research.Observer = (*Terminal)(nil)

// ANSI SGR codes.
const (
	ansiDim    = "2"
	ansiBold   = "1"
	ansiRed    = "31"
	ansiGreen  = "32"
	ansiYellow = "33"
)

// Event prints one loop event. It implements research.Observer.
func (t *Terminal) Event(e research.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	when := e.Time
	if when.IsZero() {
		when = t.now()
	}
	stamp := t.paint(ansiDim, when.Format("15:04:05")) + " "

	if e.Kind == research.EventProgress {
		t.progressLocked(e, stamp)
		return
	}
	switch e.Kind {
	case research.EventExperimentStarted, research.EventExperimentFinished, research.EventRunStopped, research.EventRunStarted:
		// The bar belongs to the experiment that just began or ended.
		t.clearBarLocked()
		t.bar, t.barLen = "", 0
	}
	text := t.eventText(e)
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			b.WriteString(stamp + line + "\n")
		} else {
			b.WriteString("         " + line + "\n")
		}
	}
	t.printLocked(b.String())
}

// eventText renders an event (without timestamp); it also tracks the best
// val_bpb so finished experiments show their delta against what they beat.
func (t *Terminal) eventText(e research.Event) string {
	switch e.Kind {
	case research.EventRunStarted:
		r := e.Run
		verb := e.Text
		if verb == "" {
			verb = "started"
		}
		s := t.paint(ansiBold, fmt.Sprintf("run %s %s", r.Tag, verb)) + " on branch " + r.Branch
		if r.BestValBPB > 0 {
			t.best = r.BestValBPB
			s += fmt.Sprintf(", best %.6f at %s", r.BestValBPB, short(r.BestCommit))
		} else if r.BaseCommit != "" {
			s += " from " + short(r.BaseCommit)
		}
		var notes []string
		if r.Proposer != "" {
			notes = append(notes, "proposer "+strings.TrimSpace(r.Proposer+" "+r.Model))
		}
		if r.GPU != "" {
			notes = append(notes, "gpu "+r.GPU)
		}
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		return s

	case research.EventProposing:
		return fmt.Sprintf("proposing #%d", e.Number)

	case research.EventExperimentStarted:
		if e.Experiment == nil {
			return fmt.Sprintf("#%d training", e.Number)
		}
		x := e.Experiment
		s := fmt.Sprintf("#%d training", x.Number)
		if x.Attempt > 0 {
			s += fmt.Sprintf(" (fix attempt %d)", x.Attempt)
		}
		s += ": " + oneLine(x.Description)
		if st := oneLine(x.DiffStat); st != "" {
			s += "  (" + st + ")"
		}
		for _, i := range e.Ideas {
			s += fmt.Sprintf("\n  using idea [%d] %s", i.ID, oneLine(i.Text))
		}
		return s

	case research.EventExperimentFinished:
		if e.Experiment == nil {
			return fmt.Sprintf("#%d finished", e.Number)
		}
		x := *e.Experiment
		prev := t.best
		if prev == 0 && e.Best != nil && e.Best.Number != x.Number {
			prev = e.Best.Summary.ValBPB
		}
		line := FormatExperimentLine(x, prev)
		line = strings.Replace(line, x.Status, t.paint(statusColor(x.Status), x.Status), 1)
		if x.Status == research.StatusKeep && prev > 0 && e.Best != nil && e.Best.Number == x.Number {
			line += "  " + t.paint(ansiGreen, "new best")
		}
		switch {
		case e.Best != nil && e.Best.Summary.ValBPB > 0:
			t.best = e.Best.Summary.ValBPB
		case x.Status == research.StatusKeep && x.Summary.ValBPB > 0:
			t.best = x.Summary.ValBPB
		}
		if x.Notes != "" {
			line += "\n" + t.paint(ansiYellow, "warning") + ": " + oneLine(x.Notes)
		}
		return line

	case research.EventRefused:
		what := "proposal"
		if e.Number > 0 {
			what = fmt.Sprintf("proposal #%d", e.Number)
		}
		return t.paint(ansiYellow, what+" refused") + ": " + strings.TrimSpace(e.Text)

	case research.EventProgramEdited:
		pe := e.ProgramEdit
		if pe == nil {
			return "program.md edited"
		}
		who := ""
		if pe.Author != "" {
			who = " by " + pe.Author
		}
		if pe.Error != "" {
			return t.paint(ansiRed, "program.md "+pe.Kind+who+" could not be applied") + ": " + pe.Error
		}
		s := "program.md " + pe.Kind + who
		if pe.Commit != "" {
			s += " committed as " + short(pe.Commit)
		}
		if pe.Kind == "append" && pe.Text != "" {
			s += ": " + clip(oneLine(pe.Text), 80)
		}
		return s

	case research.EventPaused:
		line := t.paint(ansiYellow, "paused") + byWhom(e.By) + reasonAfter(e.Text)
		if hint := t.resumeHint(e.Run); hint != "" {
			line += "\n" + hint
		}
		return line

	case research.EventResumed:
		return "resumed" + byWhom(e.By) + reasonAfter(e.Text)

	case research.EventNotice:
		return strings.TrimSpace(e.Text)

	case research.EventRunStopped:
		s := t.paint(ansiBold, "run "+e.Run.Tag+" stopped")
		if e.Run.Tag == "" {
			s = t.paint(ansiBold, "run stopped")
		}
		return s + byWhom(e.By) + reasonAfter(e.Text)
	}
	// A kind added after this front end: still say something.
	return strings.TrimSpace(string(e.Kind) + ": " + e.Text)
}

// progressLocked shows a progress report: redrawn in place on a terminal,
// else printed as a line every 10 %.
func (t *Terminal) progressLocked(e research.Event, stamp string) {
	if e.Progress == nil {
		return
	}
	n := e.Number
	if e.Experiment != nil {
		n = e.Experiment.Number
	}
	line := FormatProgress(n, *e.Progress)
	if !t.isTTY() {
		if t.gate.allow(n, e.Progress.Percent) {
			t.write(stamp + line + "\n")
		}
		return
	}
	pad := ""
	if w := len(line); w < t.barLen {
		pad = strings.Repeat(" ", t.barLen-w)
	}
	t.bar, t.barLen = line, len(line)
	t.write("\r" + line + pad)
}

// printLocked prints whole lines, taking the progress bar off the screen
// first and drawing it again below them.
func (t *Terminal) printLocked(s string) {
	t.clearBarLocked()
	t.write(s)
	if t.bar != "" && t.isTTY() {
		t.write(t.bar)
	}
}

func (t *Terminal) clearBarLocked() {
	if t.bar != "" && t.isTTY() {
		t.write("\r" + strings.Repeat(" ", t.barLen) + "\r")
	}
}

func (t *Terminal) write(s string) {
	if _, err := io.WriteString(t.Out, s); err != nil && !t.failed {
		t.failed = true
		t.logger().Warn("terminal output failed", "err", err)
	}
}

// Serve reads commands from In, one per line, and answers them on Out until
// In ends (nil: the run goes on without a keyboard) or ctx is done
// (ctx.Err()). by names the person to the controller ("terminal").
//
// A read from In cannot be interrupted, so after ctx is done the reading
// goroutine lingers until the next line or EOF; for os.Stdin that is
// process exit.
func (t *Terminal) Serve(ctx context.Context, by string) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(t.In)
		sc.Buffer(make([]byte, 64*1024), 1<<20) // a pasted idea can be long
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
		errc <- sc.Err()
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok {
				return <-errc
			}
			t.Handle(ctx, line, by)
		}
	}
}

// Handle parses and answers one typed line. Blank lines are ignored (on a
// terminal they are just Enter).
func (t *Terminal) Handle(ctx context.Context, line, by string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	defer research.Recover(t.logger(), "terminal command "+line, func(p *research.PanicError) {
		t.answer(t.paint(ansiRed, "error:") + " " + research.BugMessage + " (" + p.Error() + ")")
	})
	cmd, err := ParseCommand(line)
	if err != nil {
		t.answer(t.paint(ansiRed, "error:") + " " + err.Error())
		return
	}
	t.logger().Debug("terminal command", "command", cmd.Name, "by", by)
	// The controller is called without holding t.mu: it may emit events
	// (which print through t.mu) before returning.
	d := Dispatcher{Controller: t.Controller, Logger: t.logger()}
	reply, err := d.Do(ctx, Request{Command: cmd, By: by, Idea: research.Idea{Source: "terminal"}})
	var bug *research.PanicError
	switch {
	case errors.As(err, &bug):
		t.answer(t.paint(ansiRed, "error:") + " " + research.BugMessage + " (" + bug.Error() + ")")
	case err != nil:
		t.logger().Warn("terminal command failed", "command", cmd.Name, "err", err)
		t.answer(t.paint(ansiRed, "error:") + " " + explain(cmd, err))
	default:
		t.answer(reply.Text)
	}
}

func (t *Terminal) answer(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.printLocked(strings.TrimRight(s, "\n") + "\n")
}

// explain words controller errors for people: a missing experiment or idea
// gets a sentence, anything else its own message.
func explain(cmd Command, err error) string {
	if errors.Is(err, research.ErrNotFound) {
		switch cmd.Name {
		case CmdShow, CmdLog, CmdRetry:
			return fmt.Sprintf("there is no experiment #%d (see \"results\")", cmd.N)
		case CmdUnpin:
			return fmt.Sprintf("there is no open idea [%d] (see \"ideas\")", cmd.ID)
		}
	}
	return err.Error()
}

func (t *Terminal) isTTY() bool {
	t.ttyOnce.Do(func() {
		t.tty = t.TTY
		if f, ok := t.Out.(*os.File); ok && !t.tty {
			fi, err := f.Stat()
			t.tty = err == nil && fi.Mode()&os.ModeCharDevice != 0
		}
	})
	return t.tty
}

func (t *Terminal) paint(code, s string) string {
	if !t.Color || code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func statusColor(status string) string {
	switch status {
	case research.StatusKeep:
		return ansiGreen
	case research.StatusDiscard:
		return ansiYellow
	case research.StatusCrash:
		return ansiRed
	}
	return ""
}

func (t *Terminal) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Terminal) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// clip shortens s to at most n runes, marking the cut with "...".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// byWhom names the person behind a pause, resume or stop at the terminal.
func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// reasonAfter appends an event's reason, if it has one.
func reasonAfter(text string) string {
	if t := strings.TrimSpace(text); t != "" {
		return ": " + t
	}
	return ""
}

// resumeHint says how to go on from a pause in this terminal: typing
// `resume` when commands are read here, and always how to continue the run
// from a fresh start, for a run nobody can type into.
func (t *Terminal) resumeHint(run research.Run) string {
	restart := ""
	if run.Tag != "" {
		repo := run.RepoDir
		if repo == "" || strings.ContainsAny(repo, " \t'\"") {
			repo = "DIR"
		}
		restart = fmt.Sprintf("autoresearch run --repo %s --tag %s --resume", repo, run.Tag)
	}
	switch {
	case t.In != nil && restart != "":
		return "to go on: type `resume`, or stop it and start again with `" + restart + "`"
	case t.In != nil:
		return "to go on: type `resume`"
	case restart != "":
		return "to go on: stop it (Ctrl-C or SIGTERM) and start again with `" + restart + "`"
	}
	return ""
}
