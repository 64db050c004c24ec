package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// Every command the parser knows is carried out by one handler, so no
// front end can miss one (bot/slack checks its replies the same way).
func TestEveryCommandHasAHandler(t *testing.T) {
	names := command.Names()
	for _, name := range names {
		if handlers[name] == nil {
			t.Errorf("no handler for %q", name)
		}
	}
	if len(handlers) != len(names) {
		t.Errorf("%d handlers for %d commands", len(handlers), len(names))
	}
}

// fakeController answers what the dispatcher tests ask; a method they do
// not expect panics on the nil Controller it embeds.
type fakeController struct {
	Controller
	status   research.Status
	startErr error
	exps     map[int]research.Experiment
	logs     map[int]string
	ideas    int
	calls    []string
	// panicStatus makes the next Status call panic (a bug behind a handler).
	panicStatus bool
}

func newFakeController() *fakeController {
	return &fakeController{exps: map[int]research.Experiment{}, logs: map[int]string{}}
}

func (c *fakeController) has(call string) bool { return slices.Contains(c.calls, call) }

func (c *fakeController) Start(context.Context, research.StartRequest) (research.Run, error) {
	return research.Run{}, c.startErr
}

func (c *fakeController) Status(context.Context) (research.Status, error) {
	if c.panicStatus {
		c.panicStatus = false
		panic("injected bug in status")
	}
	return c.status, nil
}

func (c *fakeController) AddIdea(_ context.Context, i research.Idea) (research.Idea, error) {
	c.ideas++
	i.ID = int64(c.ideas)
	return i, nil
}

func (c *fakeController) Results(context.Context, int) ([]research.Experiment, error) {
	var out []research.Experiment
	for i := 1; i <= len(c.exps); i++ {
		out = append(out, c.exps[i])
	}
	return out, nil
}

func (c *fakeController) Experiment(_ context.Context, n int) (research.Experiment, error) {
	e, ok := c.exps[n]
	if !ok {
		return e, fmt.Errorf("no experiment #%d", n)
	}
	return e, nil
}

func (c *fakeController) Log(_ context.Context, n int) (string, error) { return c.logs[n], nil }

func (c *fakeController) Retry(_ context.Context, n int, by string) error {
	c.calls = append(c.calls, fmt.Sprintf("retry %d by %s", n, by))
	return nil
}

// A bug in one command is returned as a PanicError; the next command works.
func TestDispatcherRecoversAPanicPerCommand(t *testing.T) {
	c := newFakeController()
	c.panicStatus = true
	d := &Dispatcher{Controller: c, Logger: slog.New(slog.DiscardHandler)}
	_, err := d.Do(context.Background(), Request{Command: command.Command{Name: command.Status}, By: "alice"})
	var bug *research.PanicError
	if !errors.As(err, &bug) || !strings.Contains(bug.Error(), "injected bug in status") || bug.Where != "command status" {
		t.Fatalf("err = %v, want the status bug as a PanicError", err)
	}
	r, err := d.Do(context.Background(), Request{Command: command.Command{Name: command.Status}, By: "alice"})
	if err != nil || r.Status == nil || r.Text != render.FormatStatus(research.Status{}) {
		t.Fatalf("next command = %+v, %v", r, err)
	}
}

// The reply carries what the command produced, for front ends that word
// their own answers; the idea keeps what the front end knew about it.
func TestDispatcherReplyParts(t *testing.T) {
	c := newFakeController()
	c.exps[3] = research.Experiment{Number: 3, RunID: 7, Status: research.StatusCrash}
	c.logs[3] = "step 1\nCUDA out of memory\n"
	d := &Dispatcher{Controller: c}
	ctx := context.Background()
	r, err := d.Do(ctx, Request{Command: command.Command{Name: command.Idea, Text: "warmup"}, By: "U1",
		Idea: research.Idea{Source: "shortcut", ThreadTS: "1.2", MessageTS: "1.3"}})
	want := research.Idea{ID: 1, Text: "warmup", Author: "U1", Source: "shortcut", ThreadTS: "1.2", MessageTS: "1.3"}
	if err != nil || r.Idea == nil || *r.Idea != want {
		t.Fatalf("idea reply = %+v, %v", r.Idea, err)
	}
	r, err = d.Do(ctx, Request{Command: command.Command{Name: command.Log, N: 3}})
	if err != nil || r.Experiment == nil || r.Experiment.RunID != 7 || r.Log != c.logs[3] ||
		r.Text != "log of #3 (last 40 lines):\nstep 1\nCUDA out of memory\n" {
		t.Fatalf("log reply = %+v, %v", r, err)
	}
	r, err = d.Do(ctx, Request{Command: command.Command{Name: command.Digest}})
	if err != nil || r.Status == nil || len(r.Experiments) != 1 || r.Digest != nil {
		t.Fatalf("digest without a hook = %+v, %v", r, err)
	}
	d.Digest = func(context.Context) (digest.Message, error) {
		return digest.Message{Text: "Night: 3 experiments"}, nil
	}
	r, err = d.Do(ctx, Request{Command: command.Command{Name: command.Digest}})
	if err != nil || r.Digest == nil || r.Text != "Night: 3 experiments" {
		t.Fatalf("digest with a hook = %+v, %v", r, err)
	}
	if _, err := d.Do(ctx, Request{Command: command.Command{Name: command.Retry, N: 3}, By: "U1"}); err != nil || !c.has("retry 3 by U1") {
		t.Fatalf("retry: %v, calls %v", err, c.calls)
	}
}

// A start refused while a run is active names that run.
func TestDispatcherStartRefusalNamesTheActiveRun(t *testing.T) {
	c := newFakeController()
	c.startErr = errors.New("a run is already active")
	c.status = research.Status{Active: true, Run: &research.Run{Tag: "mar20"}}
	_, err := (&Dispatcher{Controller: c}).Do(context.Background(), Request{Command: command.Command{Name: command.Start, Tag: "x"}})
	var active *ActiveRunError
	if !errors.As(err, &active) || active.Run.Tag != "mar20" || err.Error() != "a run is already active" {
		t.Fatalf("err = %#v", err)
	}
}
