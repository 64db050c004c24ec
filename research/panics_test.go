package research_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// logBuffer collects log records from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// panicRecords are the log lines of recovered panics.
func (b *logBuffer) panicRecords() []string {
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "panic recovered") {
			out = append(out, line)
		}
	}
	return out
}

// panicsOnCall wraps a trainer and panics on its nth call.
type panicsOnCall struct {
	research.Trainer
	n     int
	mu    sync.Mutex
	calls int
}

func (p *panicsOnCall) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	p.mu.Lock()
	p.calls++
	call := p.calls
	p.mu.Unlock()
	if call == p.n {
		var m map[string]int
		//lint:ignore SA5000 the point is a real runtime panic
		m["boom"]++ // a real runtime panic: assignment to entry in nil map
	}
	return p.Trainer.Train(ctx, job)
}

// waitPaused waits for the nth pause and returns its reason.
func waitPaused(t *testing.T, h *harness, n int) string {
	t.Helper()
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) >= n })
	return h.rec.kinds(research.EventPaused)[n-1].Text
}

// A panic in the trainer ends that experiment as a crash naming the bug,
// logs the stack once, pauses the run with the reason; a resume trains on.
func TestTrainerPanicPausesTheRunAndResumeTrainsAgain(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 3, FixAttempts: new(0)},
		setConst(t, "VAL", "1.400000", "lower"), setConst(t, "VAL", "1.300000", "lower still"))
	logs := &logBuffer{}
	h.m.Logger = logs.logger()
	h.m.Trainer = &panicsOnCall{Trainer: h.m.Trainer, n: 2}
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "bug"}); err != nil {
		t.Fatal(err)
	}
	reason := waitPaused(t, h, 1)
	for _, want := range []string{"bug: panic in experiment lower", "assignment to entry in nil map", research.BugMessage, "resume"} {
		if !strings.Contains(reason, want) {
			t.Errorf("pause reason %q lacks %q", reason, want)
		}
	}
	st, err := h.m.Status(ctx)
	if err != nil || !st.Active || st.PauseReason != reason {
		t.Fatalf("status after the panic: %+v, %v; want the run active and paused with the reason", st, err)
	}
	recs := logs.panicRecords()
	if len(recs) != 1 || !strings.Contains(recs[0], "panicsOnCall") || !strings.Contains(recs[0], `"stack"`) {
		t.Fatalf("panic log records = %q, want one with the stack", recs)
	}

	if err := h.m.Resume(ctx, "UALICE"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := h.m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(ctx, "bug")
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash,keep" {
		t.Fatalf("statuses = %s, want the baseline, the bug's crash, then training again", got)
	}
	if !strings.Contains(exps[1].Reason, "bug: panic") {
		t.Errorf("crash reason = %q", exps[1].Reason)
	}
	rows := strings.Count(researchtest.Read(t, dir, "results.tsv"), "\n") - 1
	if rows != len(exps) {
		t.Errorf("results.tsv has %d rows for %d experiments", rows, len(exps))
	}
}

// panicsOnce is a proposer that panics on its first call.
type panicsOnce struct {
	research.Proposer
	mu     sync.Mutex
	called bool
}

func (p *panicsOnce) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	p.mu.Lock()
	first := !p.called
	p.called = true
	p.mu.Unlock()
	if first {
		panic("proposer bug")
	}
	return p.Proposer.Propose(ctx, req)
}

// A panic in the proposer pauses the run with the reason, in both the
// pipelined and the sequential loop; a resume proposes and trains again.
func TestProposerPanicPausesTheRunAndResumeProposesAgain(t *testing.T) {
	t.Parallel()
	for _, pipeline := range []bool{false, true} {
		t.Run(map[bool]string{false: "sequential", true: "pipelined"}[pipeline], func(t *testing.T) {
			dir := researchtest.New(t)
			h := newHarness(t, dir, research.Config{MaxExperiments: 2, Pipeline: pipeline},
				setConst(t, "VAL", "1.400000", "lower"))
			logs := &logBuffer{}
			h.m.Logger = logs.logger()
			if pipeline {
				withWorktrees(h)
			}
			h.m.Proposer = &panicsOnce{Proposer: h.prop}
			ctx := context.Background()
			if _, err := h.m.Start(ctx, research.StartRequest{Tag: "pbug"}); err != nil {
				t.Fatal(err)
			}
			reason := waitPaused(t, h, 1)
			if !strings.Contains(reason, "bug: panic in the proposer: proposer bug") || !strings.Contains(reason, research.BugMessage) {
				t.Fatalf("pause reason = %q", reason)
			}
			if n := len(logs.panicRecords()); n != 1 {
				t.Fatalf("%d panic records, want 1", n)
			}
			if err := h.m.Resume(ctx, "UALICE"); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			if err := h.m.Wait(wctx); err != nil {
				t.Fatal(err)
			}
			run, _ := h.db.RunByTag(ctx, "pbug")
			if got := statuses(h.experiments(t, run)); got != "keep,keep" {
				t.Fatalf("statuses = %s, want the baseline and the proposal after the resume", got)
			}
		})
	}
}

// panicsOnEvent is an observer (a front end) with a bug.
type panicsOnEvent struct{}

func (panicsOnEvent) Event(e research.Event) {
	if e.Kind == research.EventExperimentStarted {
		panic("render bug")
	}
}

// A bug in a front end costs that message, not the run.
func TestObserverPanicDoesNotStopTheRun(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, setConst(t, "VAL", "1.400000", "lower"))
	logs := &logBuffer{}
	h.m.Logger = logs.logger()
	h.m.Observer = panicsOnEvent{}
	run := h.runToEnd(t, research.StartRequest{Tag: "obug"})
	if got := statuses(h.experiments(t, run)); got != "keep,keep" {
		t.Fatalf("statuses = %s", got)
	}
	if n := len(logs.panicRecords()); n != 2 {
		t.Errorf("%d panic records, want one per experiment started", n)
	}
}

// panicOnceStore is the real store with a bug in queueing a program edit.
type panicOnceStore struct {
	*store.DB
	mu     sync.Mutex
	struck bool
}

func (p *panicOnceStore) AddProgramEdit(ctx context.Context, e research.ProgramEdit) (research.ProgramEdit, error) {
	p.mu.Lock()
	first := !p.struck
	p.struck = true
	p.mu.Unlock()
	if first {
		panic("store bug")
	}
	return p.DB.AddProgramEdit(ctx, e)
}

// A panic while program edits are serialized does not leave them locked:
// the caller (a handler) recovers it, and the next read and edit work.
func TestPanicInAProgramEditLeavesProgramUsable(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{})
	h.m.Store = &panicOnceStore{DB: h.db}
	ctx := context.Background()
	err := research.Catch(nil, "test handler", func() {
		_, _ = h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "first", Author: "UALICE"})
	})
	var bug *research.PanicError
	if !errors.As(err, &bug) || bug.Value != "store bug" {
		t.Fatalf("Catch = %v, want the store's panic", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "second", Author: "UALICE"})
		if err == nil {
			_, err = h.m.Program(ctx)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a last guard: a locked mutex never returns
		t.Fatal("program.md edits stayed locked after the panic")
	}
	if !strings.Contains(researchtest.Read(t, dir, "program.md"), "second") {
		t.Fatal("the edit after the panic was not committed")
	}
}

// startsThenPanics starts a real process group, reports it, then panics.
type startsThenPanics struct {
	mu  sync.Mutex
	cmd *exec.Cmd
}

func (p *startsThenPanics) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return research.TrainResult{}, err
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	job.OnStart(cmd.Process.Pid)
	panic("trainer bug after the start")
}

// A bug that unwinds a training kills the trainer's process group: nothing
// keeps running unwatched on the GPU. The baseline it hit runs again after
// a resume.
func TestTrainerPanicKillsTheTrainerItStarted(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 1})
	h.m.Logger = (&logBuffer{}).logger()
	tr := &startsThenPanics{}
	h.m.Trainer = tr
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "orphan"}); err != nil {
		t.Fatal(err)
	}
	if reason := waitPaused(t, h, 1); !strings.Contains(reason, "trainer bug after the start") {
		t.Fatalf("pause reason = %q", reason)
	}
	tr.mu.Lock()
	cmd := tr.cmd
	tr.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("the trainer ended with %v, want killed", err)
		}
	case <-time.After(30 * time.Second): // a last guard; sleep 300 would outlive the test
		_ = cmd.Process.Kill()
		t.Fatal("the trainer a bug unwound is still running")
	}
	run, _ := h.db.RunByTag(ctx, "orphan")
	if exps := h.experiments(t, run); len(exps) != 1 || exps[0].Status != research.StatusCrash {
		t.Fatalf("experiments: %s, want the baseline recorded as crash", statuses(exps))
	}
	// --max-experiments 1 is spent on the crash: the run ends by itself.
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := h.m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
}
