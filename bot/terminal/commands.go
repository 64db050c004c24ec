package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/research"
)

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
	cmd, err := command.Parse(line)
	if err != nil {
		t.answer(t.paint(ansiRed, "error:") + " " + err.Error())
		return
	}
	t.logger().Debug("terminal command", "command", cmd.Name, "by", by)
	// The controller is called without holding t.mu: it may emit events
	// (which print through t.mu) before returning.
	d := bot.Dispatcher{Controller: t.Controller, Logger: t.logger()}
	reply, err := d.Do(ctx, bot.Request{Command: cmd, By: by, Idea: research.Idea{Source: "terminal"}})
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
func explain(cmd command.Command, err error) string {
	if errors.Is(err, research.ErrNotFound) {
		switch cmd.Name {
		case command.Show, command.Log, command.Retry:
			return fmt.Sprintf("there is no experiment #%d (see \"results\")", cmd.N)
		case command.Unpin:
			return fmt.Sprintf("there is no open idea [%d] (see \"ideas\")", cmd.ID)
		}
	}
	return err.Error()
}
