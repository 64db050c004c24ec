package terminal

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/autoresearch/autoresearch/research"
)

// fakeController records every call (as "Method arg arg") and answers from
// its fields; err, when set, is returned by every method.
type fakeController struct {
	mu      sync.Mutex
	calls   []string
	err     error
	status  research.Status
	ideas   []research.Idea
	program string
	exps    []research.Experiment
	logs    map[int]string
	nextID  int64
	added   []research.Idea
	edits   []research.ProgramEdit
}

func (f *fakeController) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeController) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeController) Start(_ context.Context, req research.StartRequest) (research.Run, error) {
	f.record("Start %s from=%q by=%s", req.Tag, req.From, req.By)
	if f.err != nil {
		return research.Run{}, f.err
	}
	return research.Run{Tag: req.Tag, Branch: "autoresearch/" + req.Tag}, nil
}

func (f *fakeController) Stop(_ context.Context, by string, mode research.StopMode) error {
	f.record("Stop by=%s now=%v", by, mode == research.StopNow)
	return f.err
}

func (f *fakeController) SetReview(_ context.Context, on bool, by string) error {
	f.record("SetReview %v by=%s", on, by)
	return f.err
}

func (f *fakeController) Reviewing() bool { return false }

func (f *fakeController) Pause(_ context.Context, by string) error {
	f.record("Pause by=%s", by)
	return f.err
}

func (f *fakeController) Resume(_ context.Context, by string) error {
	f.record("Resume by=%s", by)
	return f.err
}

func (f *fakeController) Status(context.Context) (research.Status, error) {
	f.record("Status")
	return f.status, f.err
}

func (f *fakeController) AddIdea(_ context.Context, idea research.Idea) (research.Idea, error) {
	f.record("AddIdea %q by=%s source=%s", idea.Text, idea.Author, idea.Source)
	if f.err != nil {
		return research.Idea{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	idea.ID = f.nextID
	f.added = append(f.added, idea)
	return idea, nil
}

func (f *fakeController) Ideas(context.Context) ([]research.Idea, error) {
	f.record("Ideas")
	return f.ideas, f.err
}

func (f *fakeController) Unpin(_ context.Context, id int64, by string) error {
	f.record("Unpin %d by=%s", id, by)
	if f.err != nil {
		return f.err
	}
	for _, i := range f.ideas {
		if i.ID == id {
			return nil
		}
	}
	return fmt.Errorf("idea %d: %w", id, research.ErrNotFound)
}

func (f *fakeController) EditIdea(_ context.Context, messageTS, before, text string) error {
	f.record("EditIdea %s %q", messageTS, text)
	return f.err
}

func (f *fakeController) Program(context.Context) (string, error) {
	f.record("Program")
	return f.program, f.err
}

func (f *fakeController) EditProgram(_ context.Context, e research.ProgramEdit) (research.ProgramEdit, error) {
	f.record("EditProgram %s %q by=%s", e.Kind, e.Text, e.Author)
	if f.err != nil {
		return research.ProgramEdit{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	e.ID = f.nextID
	f.edits = append(f.edits, e)
	return e, nil
}

func (f *fakeController) Results(_ context.Context, n int) ([]research.Experiment, error) {
	f.record("Results %d", n)
	if n <= 0 || n > len(f.exps) {
		return f.exps, f.err
	}
	return f.exps[len(f.exps)-n:], f.err
}

func (f *fakeController) Experiment(_ context.Context, number int) (research.Experiment, error) {
	f.record("Experiment %d", number)
	if f.err != nil {
		return research.Experiment{}, f.err
	}
	for _, e := range f.exps {
		if e.Number == number {
			return e, nil
		}
	}
	return research.Experiment{}, fmt.Errorf("experiment %d: %w", number, research.ErrNotFound)
}

func (f *fakeController) Log(_ context.Context, number int) (string, error) {
	f.record("Log %d", number)
	if f.err != nil {
		return "", f.err
	}
	l, ok := f.logs[number]
	if !ok {
		return "", fmt.Errorf("log %d: %w", number, research.ErrNotFound)
	}
	return l, nil
}

func (f *fakeController) Retry(_ context.Context, number int, by string) error {
	f.record("Retry %d by=%s", number, by)
	return f.err
}

func joinCalls(calls []string) string { return strings.Join(calls, "\n") }

// exp is an experiment with the figures the terminal shows.
func exp(n int, status string, val, vramMB, secs float64, desc string) research.Experiment {
	return research.Experiment{
		Number: n, Status: status, Description: desc, TrainSeconds: secs,
		Commit:  "abcdef0123456789abcdef0123456789abcdef01",
		Summary: research.Summary{ValBPB: val, PeakVRAMMB: vramMB},
	}
}

// baselineExp marks e as the run's baseline.
func baselineExp(e research.Experiment) research.Experiment {
	e.Kind = research.KindBaseline
	return e
}
