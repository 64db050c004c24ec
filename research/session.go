package research

import (
	"context"
	"sync"
	"time"
)

// session is one active run inside this process: a proposer goroutine that
// prepares changes, one goroutine per slot that trains them, and the
// controls people use meanwhile. The best result is shared: every slot
// judges its experiment against the best of the moment it finishes.
type session struct {
	m       *Manager
	resumed bool
	since   time.Time

	ctx    context.Context // cancelled on stop-now and shutdown: kills training
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error

	slots    []*slot
	propRepo Repo
	checker  *Checker // checks proposals in propRepo

	ready  chan *candidate // proposals handed from the proposer to a slot
	demand chan struct{}   // sequential mode: a slot asks for a proposal
	halt   chan struct{}   // closed when stopping: no new experiments
	kick   chan struct{}   // poked when the priority queue gets work
	tsvMu  sync.Mutex

	mu            sync.Mutex
	cond          *sync.Cond // signalled on pause/resume/stop/queue changes
	run           Run
	phase         Phase
	paused        bool
	pauseReason   string
	stopAfter     bool
	stopBy        string
	stopReason    string
	shutdown      bool
	proposing     int
	proposeCancel context.CancelFunc
	usage         Usage
	failures      int
	fix           *pendingFix
	started       int // experiments of the run started so far
	inFlight      int // experiments training now
	sinceKeep     int
	// reviewFeedback tells the next proposal why a reviewer did not let the
	// last one train.
	reviewFeedback string
	// proposedOnce: the proposer made its first proposal of this session
	// (read and written by the proposer goroutine only).
	proposedOnce bool
	budgetWarned bool
	reattach     []Experiment     // experiments whose jobs survived a restart
	proposals    int              // proposals started in the proposal workspace (candidate.cleanSeq)
	trainings    int              // trainings started in any slot, never decremented (candidate.cleanTrainings)
	heldIdeas    map[int64]bool   // ideas given to proposals not started yet
	prepared     []preparedChange // accepted proposals not recorded as experiments yet
	// queue hands out what the slots train before the proposer's changes
	// and counts the proposals on their way to a slot.
	queue     queue
	hist      *runHistory // the run's experiments, loaded once and kept up to date
	bestCurve BestCurve   // the best experiment's loss curve, for early stopping
	// staleTrees: the editable files of the conflicting proposals this
	// session trained on their own base, for the repeat check.
	staleTrees map[string]*staleTree

	// condenseRetry: when a failed condensation is tried again (proposer
	// goroutine only).
	condenseRetry condenseBackoff
}

// pendingFix is a crashed attempt the next proposal should repair.
type pendingFix struct {
	req   FixRequest
	files map[string]string
}

func newSession(m *Manager, run Run, hashes map[string]string, resumed bool) (*session, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &session{
		m: m, run: run, resumed: resumed, since: m.now(),
		ctx: ctx, cancel: cancel,
		done:  make(chan struct{}),
		ready: make(chan *candidate),
		halt:  make(chan struct{}),
		kick:  make(chan struct{}, 1),
		phase: PhaseProposing,
	}
	s.cond = sync.NewCond(&s.mu)
	slots, err := m.buildSlots(run.BestCommit)
	if err != nil {
		cancel(err)
		return nil, err
	}
	s.slots = slots
	s.demand = make(chan struct{}, len(slots))
	if s.propRepo, err = m.proposalRepo(run.BestCommit, slots); err != nil {
		cancel(err)
		return nil, err
	}
	s.checker = &Checker{Repo: s.propRepo, Editable: m.Config.Editable, ReadOnly: m.Config.ReadOnly,
		Python: m.Config.Python, Hashes: hashes, Protected: m.Config.protectedPatterns()}
	if run.State == RunPaused {
		s.paused, s.pauseReason, s.phase = true, "paused before the restart; resume to continue", PhasePaused
	}
	if err := s.restoreCounters(); err != nil {
		cancel(err)
		return nil, err
	}
	s.reattach, m.reattach = m.reattach, nil
	return s, nil
}

// restoreCounters reads what the run did before this process: how many
// experiments, whether the baseline (and its repeats) are done, the streak
// without a keep.
func (s *session) restoreCounters() error {
	hist := s.m.loaded
	s.m.loaded = nil
	if hist == nil || hist.runID != s.run.ID {
		var err error
		if hist, err = loadHistory(context.Background(), s.m.Store, s.run.ID, s.run.Noise); err != nil {
			return err
		}
	}
	s.hist = hist
	s.restoreBestCurve()
	var done int // baseline runs that did not crash
	s.started, s.sinceKeep, done = hist.restartCounts()
	if s.run.BestValBPB == 0 {
		s.enqueueBaselines()
		return nil
	}
	// A restart in the middle of the baseline repeats runs the missing ones.
	s.queue.pushBaselines(s.run.BestCommit, done, s.m.Config.baselineRepeats())
	return s.requeueConfirmations(context.Background())
}

// enqueueBaselines queues the baseline and its repeats. Callers hold s.mu
// (or own s alone).
func (s *session) enqueueBaselines() {
	s.queue.pushBaselines(s.run.BestCommit, 0, s.m.Config.baselineRepeats())
}

func (s *session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// StopMode says what a stop does to the experiments in flight.
type StopMode int

const (
	// StopAfterRunning lets the running experiments finish and be judged.
	StopAfterRunning StopMode = iota
	// StopNow kills them (recorded as crash "stopped"); the run ends stopped.
	StopNow
	// stopForShutdown kills them but leaves the run to resume: the process
	// is going away, not the run (trainers whose jobs outlive the bot may
	// keep them). Manager.Shutdown stops so.
	stopForShutdown
)

func (s *session) requestStop(by string, mode StopMode) {
	now, shutdown := mode != StopAfterRunning, mode == stopForShutdown
	s.mu.Lock()
	first := !s.stopAfter
	s.stopAfter = true
	if by != "" && s.stopBy == "" {
		s.stopBy = by
	}
	s.shutdown = s.shutdown || shutdown
	s.phase = PhaseStopping
	cancelPropose := s.proposeCancel
	s.cond.Broadcast()
	s.mu.Unlock()
	if first {
		close(s.halt)
	}
	if cancelPropose != nil {
		cancelPropose() // an unfinished proposal is simply dropped
	}
	if now {
		cause := context.Canceled
		if shutdown {
			cause = ErrShutdown // trainers whose jobs outlive the bot may keep them
		}
		s.cancel(cause) // kills every training process group
	}
}

// stopWith ends the run for a reason of the loop's own (budget of
// experiments reached).
func (s *session) stopWith(reason string) {
	s.mu.Lock()
	if s.stopReason == "" {
		s.stopReason = reason
	}
	s.mu.Unlock()
	s.requestStop("", StopAfterRunning)
}

func (s *session) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopAfter
}

func (s *session) pause(reason string) error { return s.pauseAs(reason, "") }

// pauseBy pauses at a person's request: the event names them in By.
func (s *session) pauseBy(by string) error { return s.pauseAs("", by) }

func (s *session) pauseAs(reason, by string) error {
	status := reason
	if status == "" {
		status = "paused by " + by
	}
	s.mu.Lock()
	if s.paused {
		s.mu.Unlock()
		return &InputError{Msg: "the run is already paused (" + s.pauseReason + ")"}
	}
	s.paused, s.pauseReason = true, status
	if s.inFlight == 0 {
		s.phase = PhasePaused
	}
	s.run.State = RunPaused
	run := s.run
	s.cond.Broadcast()
	s.mu.Unlock()
	if err := s.m.Store.UpdateRun(context.Background(), run); err != nil {
		s.m.logger().Error("recording pause", "err", err)
	}
	s.m.emit(Event{Kind: EventPaused, Run: run, Text: reason, By: by})
	return nil
}

func (s *session) resume(by string) error {
	s.mu.Lock()
	if !s.paused {
		s.mu.Unlock()
		return &InputError{Msg: "the run is not paused"}
	}
	s.paused, s.pauseReason, s.failures = false, "", 0
	s.phase = PhaseProposing
	s.run.State = RunActive
	run := s.run
	s.cond.Broadcast()
	s.mu.Unlock()
	if err := s.m.Store.UpdateRun(context.Background(), run); err != nil {
		s.m.logger().Error("recording resume", "err", err)
	}
	s.m.emit(Event{Kind: EventResumed, Run: run, By: by})
	return nil
}

// waitWhilePaused blocks while the run is paused; false means stop.
func (s *session) waitWhilePaused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.paused && !s.stopAfter {
		s.cond.Wait()
	}
	return !s.stopAfter
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

// loop runs the proposer and the slots until the run stops.
func (s *session) loop() {
	defer close(s.done)
	defer s.cancel(context.Canceled)
	defer Recover(s.m.logger(), "the run loop", nil) // the process lives on; the run is over
	m := s.m
	text := "started"
	if s.resumed {
		text = "resumed"
	}
	m.emit(Event{Kind: EventRunStarted, Run: s.snapshotRun(), Text: text})
	// Wake waiters when the run is stopped at once.
	go func() {
		<-s.ctx.Done()
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	proposerDone := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(proposerDone)
		s.guardedProposerLoop()
	}()
	var slots sync.WaitGroup
	for _, sl := range s.slots {
		slots.Add(1)
		go func() {
			defer slots.Done()
			defer func() { sl.watch.close() }() // the watch is made during the loop
			s.slotLoop(sl)
		}()
	}
	slots.Wait()
	s.requestStop("", StopAfterRunning) // the slots are done: so is the proposer
	wg.Wait()
	s.checker.Close() // no interpreter outlives the run
	s.finish()
}

// finish records how the run ended and leaves the repo at the best commit.
func (s *session) finish() {
	m := s.m
	s.mu.Lock()
	shutdown, by, reason := s.shutdown, s.stopBy, s.stopReason
	s.phase = PhaseIdle
	s.mu.Unlock()
	for _, sl := range s.slots {
		sl.set(nil, nil)
	}
	run := s.snapshotRun()
	if err := checkBranch(m.Repo, run.Branch); err != nil {
		m.logger().Error("not resetting to the best commit", "err", err)
	} else if err := m.Repo.ResetTo(run.BestCommit); err != nil {
		m.logger().Error("resetting to the best commit", "err", err)
	}
	if s.propRepo != m.Repo {
		s.restoreProposal()
	}
	switch {
	case shutdown:
		reason = "the bot shut down; the run resumes at the next start"
	case reason != "":
	case by != "":
		// The event names the person in By; the reason stays empty.
	default:
		reason = "stopped"
	}
	if !shutdown {
		run.State = RunStopped
	}
	if err := m.Store.UpdateRun(context.Background(), run); err != nil {
		m.logger().Error("recording the end of the run", "err", err)
	}
	s.setRun(run)
	m.emit(Event{Kind: EventRunStopped, Run: run, Text: reason, By: by})
}
