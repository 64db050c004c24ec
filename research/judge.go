package research

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// judge carries out the ruling of decide (decide.go) on a finished
// experiment: it updates the shared best, records the experiment, moves the
// branch and the slot, and queues what follows from it (a confirmation, the
// retry of an improvement a stale winner lacks, a crash fix).
func (s *session) judge(sl *slot, c *candidate, e *Experiment, sum Summary, crash string, tel *Telemetry, start time.Time) {
	m := s.m
	ctx := context.Background()
	s.mu.Lock()
	locked := true
	defer func() {
		if locked { // a bug panicked in the locked part: never leave the run locked
			s.mu.Unlock()
		}
	}()
	run := s.run
	oldBest := run.BestCommit
	t := trial{Kind: c.kind, Attempt: c.attempt, Commit: e.Commit, Parent: e.ParentCommit, Diff: e.Diff,
		ConfirmOf: c.confirmOf, Implausible: c.implausible}
	out := outcome{Value: sum.ValBPB, StoppedEarly: c.stoppedEarly}
	if crash != "" {
		// A crash reason quotes the log (the last exception line).
		out.Crash, out.StoppedEarly = m.Config.Redactor.Redact(crash), ""
	}
	r := decide(m.Config.judgePolicy(), s.standing(run), t, out)
	e.Status, e.Reason = r.Status, r.Reason
	if out.measured() {
		e.Summary = sum
	}
	run.BestCommit, run.BestValBPB, run.Noise = r.BestCommit, r.BestValue, r.Noise
	var follow []*candidate
	var fix *pendingFix
	switch {
	case r.Fix && !s.stopAfter:
		fix = &pendingFix{req: FixRequest{Experiment: *e, LogTail: e.LogTail, Attempt: c.attempt + 1}, files: c.files}
	case r.Confirm:
		follow = []*candidate{confirmationOf(*e, r.Implausible)}
	case r.Stale:
		follow = s.adoptStale(e, &run, oldBest)
	}
	baselineFailed := false
	if c.kind.IsBaseline() {
		// Every baseline run crashed: proposals against a setup that does
		// not train would waste the night. Measure again after a resume.
		if s.queue.baselineJudged() && run.BestValBPB == 0 && !s.stopAfter {
			baselineFailed = true
			s.enqueueBaselines()
		}
	}
	if e.Status == StatusKeep {
		s.sinceKeep = 0
	} else if !c.kind.IsBaseline() {
		s.sinceKeep++
	}
	plateau := m.Config.plateauAfter() > 0 && s.sinceKeep == m.Config.plateauAfter()
	e.TotalSeconds = time.Since(start).Seconds()
	e.FinishedAt = m.now()
	if err := m.Store.FinishExperiment(ctx, *e, run); err != nil {
		m.logger().Error("recording the experiment", "number", e.Number, "err", err)
	}
	s.hist.Record(*e, run.Noise)
	s.run = run
	newCurve := s.noteBestCurve(*e, run, c.lossCurve)
	// The main worktree always shows the best commit; the slot that trained
	// on the branch itself moves back when it did not win.
	if run.BestCommit != oldBest && !sl.main {
		if err := checkBranch(m.Repo, run.Branch); err != nil {
			m.logger().Error("moving the branch to the new best", "err", err)
		} else if err := m.Repo.ResetTo(run.BestCommit); err != nil {
			m.logger().Error("moving the branch to the new best", "err", err)
		}
	}
	if e.Status != StatusKeep || sl.main && run.BestCommit != e.Commit {
		if err := s.resetSlot(sl, run, run.BestCommit); err != nil {
			m.logger().Error("moving back to the best commit", "err", err)
		}
	}
	if fix != nil {
		s.fix = fix
	}
	s.queue.push(follow...)
	s.inFlight--
	c.judged = true
	if s.inFlight == 0 && !s.stopAfter && !s.paused {
		s.phase = PhaseProposing
	}
	s.cond.Broadcast()
	locked = false
	s.mu.Unlock()
	if len(follow) > 0 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	s.saveTelemetry(*e, tel)
	s.saveBestCurve(newCurve)
	s.writeResults()
	best := s.hist.Best()
	m.emit(Event{Kind: EventExperimentFinished, Run: run, Number: e.Number, Experiment: ptr(*e), Best: best, Telemetry: tel, Verdict: r.Verdict})
	if WasImplausible(*e) {
		m.emit(Event{Kind: EventNotice, Run: run, Number: e.Number, Experiment: ptr(*e),
			Text: fmt.Sprintf("#%d %s", e.Number, e.Reason)})
	}
	if plateau {
		m.emit(Event{Kind: EventPlateau, Run: run, Number: e.Number,
			Text: fmt.Sprintf("%d experiments without an improvement; the next proposals look for a structurally different idea. Reply here with ideas.", m.Config.plateauAfter())})
	}
	if baselineFailed {
		_ = s.pause(fmt.Sprintf("the baseline crashed (%s); fix the setup (data, environment, train.py), then resume: the baseline runs again", e.Reason))
	}
	if c.kind.IsBaseline() && s.baselineDone() && run.Noise > 0 {
		m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf("noise floor: val_bpb varies by %.6f (1σ) between identical runs; gains below %.6f are confirmed by a rerun", run.Noise, m.Config.confirmSigma()*run.Noise)})
	}
}

// standing is the best of this moment as the judge compares with it: the
// run's best and noise, and the experiments they come from as the run's
// History has them. Callers hold s.mu.
func (s *session) standing(run Run) standing {
	facts := s.hist.Facts()
	return standing{Value: run.BestValBPB, Commit: run.BestCommit, Noise: run.Noise,
		Numbers: facts.BestNumbers, Baselines: facts.BaselineValues}
}

// confirmationOf is the rerun of e's commit that must confirm its gain
// before it can be kept.
func confirmationOf(e Experiment, implausible bool) *candidate {
	return &candidate{kind: KindConfirmation, implausible: implausible, commit: e.Commit, confirmOf: &e,
		description: "confirm #" + fmt.Sprint(e.Number) + ": " + strings.TrimPrefix(e.Description, "confirm ")}
}

func (s *session) baselineDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.baselinesDone()
}

// adoptStale: a winner found on a stale base lacks what moved the best
// meanwhile; that change is queued again on top of it.
func (s *session) adoptStale(e *Experiment, run *Run, oldBest string) []*candidate {
	m := s.m
	s.carryProgram(oldBest, run)
	retry, err := s.lackingChange(e.ParentCommit, oldBest)
	if err == nil && retry != nil && s.conflictsWith(retry, e.Commit) {
		// The winner set some of the same lines (a prepared proposal
		// trained on its own base, conflict.go): the whole retry could
		// only be dropped; what does not contest the winner is retried.
		part := s.uncontestedPart(retry, e.Commit, ShortCommit(oldBest))
		if part == nil {
			e.Reason += fmt.Sprintf(" (adopted over a newer best; the change of %s it lacks sets the same lines and is not retried)", ShortCommit(oldBest))
			return nil
		}
		e.Reason += fmt.Sprintf(" (adopted over a newer best; the parts of %s's change that do not set its lines are retried on top)", ShortCommit(oldBest))
		return []*candidate{part}
	}
	e.Reason += " (adopted over a newer best; its missing change is retried on top)"
	if err != nil {
		m.logger().Warn("preparing the retry of a missing improvement", "err", err)
		return nil
	}
	if retry == nil {
		return nil
	}
	return []*candidate{retry}
}

// lackingChange is the change from..to (what moved the best while a stale
// experiment trained) as a candidate to apply on top of the adopted winner.
func (s *session) lackingChange(from, to string) (*candidate, error) {
	files := map[string]string{}
	for _, path := range s.m.Config.Editable {
		before, _ := s.m.Repo.FileAt(from, path)
		after, err := s.m.Repo.FileAt(to, path)
		if err != nil {
			return nil, err
		}
		if string(before) != string(after) {
			files[path] = string(after)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	return &candidate{kind: KindRetry, base: from, files: files, description: "retry of the improvement " + ShortCommit(to) + " on the adopted best"}, nil
}
