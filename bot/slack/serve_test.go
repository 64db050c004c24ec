package slack

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// serveLoop is the loop Serve stops: it records the order of calls and,
// while shutting down, has its last event told through the Bot.
type serveLoop struct {
	mu       sync.Mutex
	calls    []string
	lastWord func()
	shutErr  error
}

func (l *serveLoop) record(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *serveLoop) ResumeInterrupted(context.Context, string) (research.Run, bool, error) {
	l.record("resume")
	return research.Run{}, false, nil
}

func (l *serveLoop) Shutdown(context.Context) error {
	l.record("shutdown")
	if l.lastWord != nil {
		l.lastWord()
	}
	return l.shutErr
}

// A signal (ctx ending) shuts the loop down first and Slack after it, so
// the loop's last event still reaches the channel; the console says what
// happens at start and stop.
func TestServeShutsTheLoopDownBeforeSlack(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	loop := &serveLoop{}
	loop.lastWord = func() {
		s.Event(research.Event{Kind: research.EventNotice, Time: time.Now(), Text: "experiment #4 stopped by the shutdown"})
	}
	loop.shutErr = errors.New("the trainer did not end")
	stuck := make(chan struct{}, 1)
	var console bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ctx, ServeOptions{Loop: loop, Console: &console,
			ShutdownGrace: time.Second, ExitWithin: time.Minute,
			Stuck: func() { stuck <- struct{}{} }})
	}()
	// A message queued before is delivered once Slack serves.
	s.Event(research.Event{Kind: research.EventNotice, Time: time.Now(), Text: "queued before the start"})
	f.WaitPost("queued before the start")
	cancel()
	f.WaitPost("experiment #4 stopped by the shutdown")
	if err := <-done; err != nil {
		t.Fatalf("Serve after a signal = %v, want nil", err)
	}
	select {
	case <-stuck:
	default:
		t.Error("a loop that did not shut down in time was not reported as stuck")
	}
	if got := strings.Join(loop.calls, ","); got != "resume,shutdown" {
		t.Errorf("loop calls = %s", got)
	}
	for _, want := range []string{"idle: start a run with `/autoresearch start TAG`", "stopping: the running experiment is recorded as stopped"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console.String())
		}
	}
}

// When the Slack transport ends on its own, Serve stops the loop and says
// why it ended.
func TestServeEndsWhenSlackDoes(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), func(c *Config) { c.HTTPAddr = "256.0.0.1:0" })
	loop := &serveLoop{}
	err := s.Serve(context.Background(), ServeOptions{Loop: loop, ShutdownGrace: time.Second, ExitWithin: time.Second})
	if err == nil {
		t.Fatal("Serve returned nil though Slack could not listen")
	}
	if got := strings.Join(loop.calls, ","); got != "resume,shutdown" {
		t.Errorf("loop calls = %s", got)
	}
}
