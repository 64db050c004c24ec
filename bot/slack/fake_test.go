package slack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/slacktest"

	"github.com/autoresearch/autoresearch/research"
)

// fakeSlack is the shared fake Slack (bot/slacktest); the bot's tests
// also check every payload against what Slack accepts and shows.
type fakeSlack = slacktest.Server

func newFakeSlack(t *testing.T) *fakeSlack {
	f := slacktest.New(t)
	f.Check = slacktest.PayloadProblems
	return f
}

// apiURLOf is the fake's Web API URL without its trailing slash: the
// adapter adds it.
func apiURLOf(f *fakeSlack) string { return strings.TrimSuffix(f.APIURL(), "/") }

// slackFakeCtrl records what the front end asks of the research side.
type slackFakeCtrl struct {
	mu        sync.Mutex
	calls     []string
	ideas     []research.Idea
	edits     []research.ProgramEdit
	ideaEdits map[string]string
	program   string
	status    research.Status
	exps      map[int]research.Experiment
	logs      map[int]string
	startErr  error
	reviewing bool
	retried   []int
	// panicOn names controller methods that panic once each (a bug
	// injected behind a handler): "status", "idea", "program".
	panicOn map[string]bool
}

// maybePanic panics once for a method named in panicOn.
func (c *slackFakeCtrl) maybePanic(method string) {
	c.mu.Lock()
	bug := c.panicOn[method]
	delete(c.panicOn, method)
	c.mu.Unlock()
	if bug {
		panic("injected bug in " + method)
	}
}

func newSlackFakeCtrl() *slackFakeCtrl {
	return &slackFakeCtrl{ideaEdits: map[string]string{}, exps: map[int]research.Experiment{}, logs: map[int]string{},
		program: "# program\n\nbe good\n"}
}

func (c *slackFakeCtrl) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *slackFakeCtrl) called() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *slackFakeCtrl) has(call string) bool {
	for _, s := range c.called() {
		if s == call {
			return true
		}
	}
	return false
}

func (c *slackFakeCtrl) Start(_ context.Context, req research.StartRequest) (research.Run, error) {
	c.record("start " + req.Tag + " by " + req.By)
	if c.startErr != nil {
		return research.Run{}, c.startErr
	}
	return research.Run{ID: 1, Tag: req.Tag, Branch: "autoresearch/" + req.Tag, StartedBy: req.By}, nil
}
func (c *slackFakeCtrl) Stop(_ context.Context, by string, mode research.StopMode) error {
	c.record(fmt.Sprintf("stop by %s now=%t", by, mode == research.StopNow))
	return nil
}
func (c *slackFakeCtrl) Retry(_ context.Context, n int, by string) error {
	c.record(fmt.Sprintf("retry %d by %s", n, by))
	c.mu.Lock()
	c.retried = append(c.retried, n)
	c.mu.Unlock()
	return nil
}

// retries is what was retried so far.
func (c *slackFakeCtrl) retries() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.retried...)
}
func (c *slackFakeCtrl) SetReview(_ context.Context, on bool, by string) error {
	c.record(fmt.Sprintf("review %v by %s", on, by))
	c.mu.Lock()
	c.reviewing = on
	c.mu.Unlock()
	return nil
}
func (c *slackFakeCtrl) Reviewing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reviewing
}
func (c *slackFakeCtrl) Pause(_ context.Context, by string) error {
	c.record("pause by " + by)
	return nil
}
func (c *slackFakeCtrl) Resume(_ context.Context, by string) error {
	c.record("resume by " + by)
	return nil
}
func (c *slackFakeCtrl) Status(context.Context) (research.Status, error) {
	c.maybePanic("status")
	c.record("status")
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, nil
}
func (c *slackFakeCtrl) AddIdea(_ context.Context, i research.Idea) (research.Idea, error) {
	c.maybePanic("idea")
	c.mu.Lock()
	i.ID = int64(len(c.ideas) + 1)
	c.ideas = append(c.ideas, i)
	c.mu.Unlock()
	c.record("idea " + i.Text)
	return i, nil
}
func (c *slackFakeCtrl) Ideas(context.Context) ([]research.Idea, error) {
	c.record("ideas")
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]research.Idea(nil), c.ideas...), nil
}
func (c *slackFakeCtrl) Unpin(_ context.Context, id int64, by string) error {
	c.record(fmt.Sprintf("unpin %d by %s", id, by))
	return nil
}
func (c *slackFakeCtrl) EditIdea(_ context.Context, ts, before, text string) error {
	c.mu.Lock()
	current, ok := c.ideaEdits[ts]
	for _, i := range c.ideas {
		if !ok && i.MessageTS == ts {
			current, ok = i.Text, true
		}
	}
	if ok && current != before {
		c.mu.Unlock() // as the Manager: an edit of a text changed since is refused
		return &research.InputError{Msg: fmt.Sprintf("idea was changed by someone else since (it now reads %q)", current), Err: research.ErrIdeaChanged}
	}
	c.ideaEdits[ts] = text
	c.mu.Unlock()
	c.record("edit idea " + ts)
	return nil
}
func (c *slackFakeCtrl) Program(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.program, nil
}
func (c *slackFakeCtrl) EditProgram(_ context.Context, e research.ProgramEdit) (research.ProgramEdit, error) {
	c.maybePanic("program")
	c.mu.Lock()
	if now := research.ProgramVersion(c.program); e.Kind == "replace" && e.BaseVersion != now {
		c.mu.Unlock() // as the Manager: a replace made on an older text is refused
		return research.ProgramEdit{}, &research.ProgramConflictError{BaseVersion: e.BaseVersion, CurrentVersion: now, CurrentText: c.program}
	}
	e.ID = int64(len(c.edits) + 1)
	c.edits = append(c.edits, e)
	c.mu.Unlock()
	c.record("program " + e.Kind + " by " + e.Author)
	return e, nil
}
func (c *slackFakeCtrl) Results(_ context.Context, n int) ([]research.Experiment, error) {
	c.record(fmt.Sprintf("results %d", n))
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []research.Experiment
	for i := 1; i <= len(c.exps); i++ {
		out = append(out, c.exps[i])
	}
	return out, nil
}
func (c *slackFakeCtrl) Experiment(_ context.Context, n int) (research.Experiment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.exps[n]
	if !ok {
		return e, fmt.Errorf("no experiment #%d", n)
	}
	return e, nil
}
func (c *slackFakeCtrl) Log(_ context.Context, n int) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs[n], nil
}

const slackTestChannel = "CRESEARCH"

// newTestSlack builds a Slack against the fake server.
func newTestSlack(t *testing.T, f *fakeSlack, ctrl bot.Controller, out Outbox, mod func(*Config)) *Bot {
	t.Helper()
	cfg := Config{
		BotToken: "xoxb-test", SigningSecret: "secret", Channel: slackTestChannel,
		APIURL: apiURLOf(f), HTTPAddr: "127.0.0.1:0",
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, ctrl, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSlack runs s until the test ends and checks Run's result.
func runSlack(t *testing.T, s *Bot) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
