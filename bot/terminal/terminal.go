// Package terminal is the terminal front end of `autoresearch run`: loop
// events as timestamped lines with a progress bar, and commands typed on
// standard input carried out by the bot's dispatcher.
package terminal

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/research"
)

// Terminal is the terminal front end of `autoresearch run`: it prints the
// loop's events as timestamped lines with a progress bar while training, and
// serves commands typed on In. Event and Serve may run concurrently.
type Terminal struct {
	In         io.Reader
	Out        io.Writer
	Controller bot.Controller
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
