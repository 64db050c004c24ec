package terminal

import (
	"context"
	"fmt"
	"sync"

	"github.com/autoresearch/autoresearch/research"
)

// PausedError: the run paused where nobody could resume it (the terminal's
// input had ended), so it was stopped instead of waiting for ever.
type PausedError struct {
	Reason string
	Resume string // the command that continues the run
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("the run paused (%s) and no terminal can resume it, so it was stopped; continue it with: %s", e.Reason, e.Resume)
}

// PauseWatch passes every event on (to the terminal) and remembers whether
// the run is paused, and why.
type PauseWatch struct {
	next research.Observer

	mu      sync.Mutex
	paused  bool
	reason  string
	resume  string
	changed chan struct{} // signalled on a pause or a resume
	stopped *PausedError  // set when the watch stopped the run
}

// WatchPauses wraps next; set the result as the Manager's Observer.
func WatchPauses(next research.Observer) *PauseWatch {
	return &PauseWatch{next: next, changed: make(chan struct{}, 1)}
}

func (w *PauseWatch) Event(e research.Event) {
	w.next.Event(e)
	if e.Kind != research.EventPaused && e.Kind != research.EventResumed {
		return
	}
	w.mu.Lock()
	w.paused = e.Kind == research.EventPaused
	if w.paused {
		w.reason = e.Text
		if w.reason == "" && e.By != "" {
			w.reason = "paused by " + e.By
		}
		w.resume = fmt.Sprintf("autoresearch run --repo %s --tag %s --resume", e.Run.RepoDir, e.Run.Tag)
	}
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// StopWhenPausedWithoutInput stops the run as soon as it is paused and the
// terminal's input has ended, whichever comes last.
func (w *PauseWatch) StopWhenPausedWithoutInput(ctx context.Context, c interface {
	Stop(ctx context.Context, by string, mode research.StopMode) error
}, inputDone <-chan struct{}) {
	select {
	case <-inputDone:
	case <-ctx.Done():
		return
	}
	for {
		w.mu.Lock()
		if w.paused {
			w.stopped = &PausedError{Reason: w.reason, Resume: w.resume}
			w.mu.Unlock()
			_ = c.Stop(ctx, "autoresearch (nobody can resume)", research.StopNow)
			return
		}
		w.mu.Unlock()
		select {
		case <-w.changed:
		case <-ctx.Done():
			return
		}
	}
}

// Ended is the PausedError when the watch stopped the run, else nil.
func (w *PauseWatch) Ended() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped == nil {
		return nil
	}
	return w.stopped
}
