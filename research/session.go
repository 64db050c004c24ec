package research

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/store"
)

// session is one active run inside this process: the loop goroutine and the
// controls people use while it runs.
type session struct {
	m       *Manager
	checker *Checker
	resumed bool
	since   time.Time

	ctx    context.Context // cancelled on stop-now and shutdown
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}
	err    error

	mu            sync.Mutex
	run           Run
	phase         Phase
	paused        bool
	pauseReason   string
	stopAfter     bool
	stopBy        string
	shutdown      bool
	current       *Experiment
	progress      *Progress
	proposing     int
	proposeCancel context.CancelFunc
	usage         Usage
	failures      int
	fix           *pendingFix
}

// pendingFix is a crashed attempt the next proposal should repair.
type pendingFix struct {
	req   FixRequest
	files []string
}

func newSession(m *Manager, run Run, hashes map[string]string, resumed bool) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		m: m, run: run, resumed: resumed, since: m.now(),
		ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1),
		phase: PhaseProposing,
		checker: &Checker{Repo: m.Repo, Editable: m.Config.Editable, ReadOnly: m.Config.ReadOnly,
			Python: m.Config.Python, Hashes: hashes},
	}
	if run.State == store.RunPaused {
		s.paused, s.pauseReason, s.phase = true, "paused before the restart; resume to continue", PhasePaused
	}
	return s
}

func (s *session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) requestStop(by string, now, shutdown bool) {
	s.mu.Lock()
	s.stopAfter = true
	s.stopBy = by
	s.shutdown = s.shutdown || shutdown
	if s.phase != PhaseTraining || now {
		s.phase = PhaseStopping
	}
	cancelPropose := s.proposeCancel
	s.mu.Unlock()
	if cancelPropose != nil {
		cancelPropose() // an unfinished proposal is simply dropped
	}
	if now {
		s.cancel() // kills the training process group
	}
	s.poke()
}

func (s *session) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopAfter
}

func (s *session) pause(reason string) error {
	s.mu.Lock()
	if s.paused {
		s.mu.Unlock()
		return &InputError{Msg: "the run is already paused (" + s.pauseReason + ")"}
	}
	s.paused, s.pauseReason = true, reason
	if s.phase != PhaseTraining {
		s.phase = PhasePaused
	}
	run := s.run
	run.State = store.RunPaused
	s.run = run
	s.mu.Unlock()
	if err := s.m.Store.UpdateRun(context.Background(), run); err != nil {
		s.m.logger().Error("recording pause", "err", err)
	}
	s.m.emit(Event{Kind: EventPaused, Run: run, Text: reason})
	s.poke()
	return nil
}

func (s *session) resume(by string) error {
	s.mu.Lock()
	if !s.paused {
		s.mu.Unlock()
		return &InputError{Msg: "the run is not paused"}
	}
	s.paused, s.pauseReason, s.failures = false, "", 0
	if s.phase == PhasePaused {
		s.phase = PhaseProposing
	}
	run := s.run
	run.State = store.RunActive
	s.run = run
	s.mu.Unlock()
	if err := s.m.Store.UpdateRun(context.Background(), run); err != nil {
		s.m.logger().Error("recording resume", "err", err)
	}
	s.m.emit(Event{Kind: EventResumed, Run: run, Text: "resumed by " + by})
	s.poke()
	return nil
}

// waitWhilePaused blocks while the run is paused; false means stop.
func (s *session) waitWhilePaused() bool {
	for {
		s.mu.Lock()
		paused, stop := s.paused, s.stopAfter
		s.mu.Unlock()
		if stop {
			return false
		}
		if !paused {
			return true
		}
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return false
		}
	}
}

func (s *session) snapshotRun() Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

func (s *session) setRun(r Run) {
	s.mu.Lock()
	s.run = r
	s.mu.Unlock()
}

func (s *session) setPhase(p Phase, current *Experiment, proposing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopAfter && p != PhaseTraining {
		p = PhaseStopping
	}
	s.phase, s.current, s.proposing = p, current, proposing
	if current == nil {
		s.progress = nil
	}
}

// loop is the run: experiment after experiment until stopped, the budget of
// experiments is spent, or the process shuts down.
func (s *session) loop() {
	defer close(s.done)
	defer s.cancel()
	m := s.m
	run := s.snapshotRun()
	text := "started"
	if s.resumed {
		text = "resumed"
	}
	m.emit(Event{Kind: EventRunStarted, Run: run, Text: text})
	reason := ""
	for {
		if !s.waitWhilePaused() {
			break
		}
		if max := m.Config.MaxExperiments; max > 0 {
			exps, err := m.Store.Experiments(s.ctx, run.ID)
			if err == nil && len(exps) >= max {
				reason = fmt.Sprintf("reached --max-experiments %d", max)
				break
			}
		}
		if err := s.applyProgramEdits(); err != nil {
			m.logger().Error("applying program edits", "err", err)
		}
		if err := s.step(); err != nil {
			if errors.Is(err, context.Canceled) && s.stopping() {
				break
			}
			m.logger().Error("experiment step failed", "err", err)
			_ = s.pause(fmt.Sprintf("paused after an error: %v", err))
		}
		if s.stopping() {
			break
		}
	}
	s.finish(reason)
}

// finish records how the run ended and leaves the repo at the best commit.
func (s *session) finish(reason string) {
	m := s.m
	s.mu.Lock()
	shutdown, by := s.shutdown, s.stopBy
	s.phase, s.current, s.progress = PhaseIdle, nil, nil
	run := s.run
	s.mu.Unlock()
	ctx := context.Background()
	if err := m.Repo.ResetTo(run.BestCommit); err != nil {
		m.logger().Error("resetting to the best commit", "err", err)
	}
	switch {
	case shutdown:
		reason = "the bot shut down; the run resumes at the next start"
	case reason == "":
		reason = "stopped by " + by
	}
	if !shutdown {
		run.State = store.RunStopped
	}
	if err := m.Store.UpdateRun(ctx, run); err != nil {
		m.logger().Error("recording the end of the run", "err", err)
	}
	s.setRun(run)
	m.emit(Event{Kind: EventRunStopped, Run: run, Text: reason})
}
