package terminal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

type stopRecorder struct{ stops chan research.StopMode }

func (s *stopRecorder) Stop(_ context.Context, _ string, mode research.StopMode) error {
	s.stops <- mode
	return nil
}

type discard struct{}

func (discard) Event(research.Event) {}

// A pause is only ended while nobody can resume it: a resume before the
// input ends cancels it, a pause after the input ended stops the run now.
func TestPauseWatchStopsOnlyAPauseNobodyCanResume(t *testing.T) {
	t.Parallel()
	w := WatchPauses(discard{})
	rec := &stopRecorder{stops: make(chan research.StopMode, 1)}
	input := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { w.StopWhenPausedWithoutInput(ctx, rec, input); close(done) }()

	run := research.Run{Tag: "t", RepoDir: "/r"}
	w.Event(research.Event{Kind: research.EventPaused, Run: run, Text: "the baseline crashed"})
	w.Event(research.Event{Kind: research.EventResumed, Run: run})
	close(input)
	select {
	case m := <-rec.stops:
		t.Fatalf("stopped (%v) a run that was resumed", m)
	default:
	}
	if w.Ended() != nil {
		t.Fatal("Ended reports a stop that did not happen")
	}
	w.Event(research.Event{Kind: research.EventPaused, Run: run, Text: "the proposer failed"})
	select {
	case m := <-rec.stops:
		if m != research.StopNow {
			t.Errorf("stop mode %v, want StopNow", m)
		}
	case <-time.After(time.Minute): // a last guard
		t.Fatal("a pause after the input ended was not stopped")
	}
	<-done
	var pe *PausedError
	if err := w.Ended(); !errors.As(err, &pe) || pe.Reason != "the proposer failed" ||
		!strings.Contains(err.Error(), "autoresearch run --repo /r --tag t --resume") {
		t.Errorf("Ended = %v", err)
	}
}
