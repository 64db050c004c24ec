package research

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// step runs one experiment: the baseline first, then proposals (or the
// repair of a crashed one).
func (s *session) step() error {
	if err := s.preflight(); err != nil {
		return err
	}
	run := s.snapshotRun()
	if run.BestValBPB == 0 {
		return s.runBaseline(run)
	}
	return s.runProposal(run)
}

// runBaseline trains the branch as it is. A crashed baseline pauses the run:
// proposals against a setup that does not train would waste the night.
func (s *session) runBaseline(run Run) error {
	e := Experiment{RunID: run.ID, ParentCommit: run.BestCommit, Commit: run.BestCommit, Description: "baseline", GPU: s.m.Config.GPU}
	e, err := s.m.Store.StartExperiment(context.Background(), e, nil)
	if err != nil {
		return err
	}
	e = s.train(e, time.Now())
	if e.Status == StatusCrash && !s.stopping() {
		return s.pause(fmt.Sprintf("the baseline crashed (%s); fix the setup, then resume", e.Reason))
	}
	return nil
}

// runProposal asks the proposer for a change, checks it, commits and trains it.
func (s *session) runProposal(run Run) error {
	m := s.m
	start := time.Now()
	s.mu.Lock()
	fix := s.fix
	s.fix = nil
	s.mu.Unlock()

	history, err := m.Store.Experiments(context.Background(), run.ID)
	if err != nil {
		return err
	}
	number := len(history) + 1
	s.setPhase(PhaseProposing, nil, number)
	m.emit(Event{Kind: EventProposing, Run: run, Number: number})

	var ideas []Idea
	if fix == nil {
		if ideas, err = m.Store.OpenIdeas(context.Background()); err != nil {
			return err
		}
	}
	program, _ := os.ReadFile(filepath.Join(m.Repo.Root(), m.Config.Program))
	req := ProposalRequest{
		Dir: m.Repo.Root(), Editable: m.Config.Editable, ReadOnly: m.Config.ReadOnly,
		BaseCommit: run.BestCommit, Program: string(program), History: history,
		Best: bestOf(history), Ideas: ideas,
	}
	if fix != nil {
		f := fix.req
		req.Fix = &f
	}
	req.Check = func() error { _, err := s.checker.Check(s.ctx); return err }

	pctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	s.proposeCancel = cancel
	s.mu.Unlock()
	defer func() {
		cancel()
		s.mu.Lock()
		s.proposeCancel = nil
		s.mu.Unlock()
	}()

	prop, changed, usage, err := s.propose(pctx, req, fix, number)
	s.addUsage(usage)
	if err != nil || prop == nil {
		if errors.Is(err, context.Canceled) && s.stopping() {
			return context.Canceled
		}
		return err
	}
	commit, err := m.Repo.Commit(OneLine(prop.Description), changed, m.Config.Author)
	if err != nil {
		_ = m.Repo.RestoreFiles(changed)
		return fmt.Errorf("committing the proposal: %w", err)
	}
	patch, stat, err := m.Repo.Diff(run.BestCommit, commit)
	if err != nil {
		m.logger().Warn("diffing the proposal", "err", err)
	}
	e := Experiment{
		RunID: run.ID, ParentCommit: run.BestCommit, Commit: commit,
		Description: OneLine(prop.Description), Diff: patch, DiffStat: stat, GPU: m.Config.GPU,
		ProposeSeconds: time.Since(start).Seconds(),
		PromptTokens:   usage.PromptTokens, CompletionTokens: usage.CompletionTokens,
	}
	var ideaIDs []int64
	for _, i := range ideas {
		ideaIDs = append(ideaIDs, i.ID)
	}
	if fix != nil {
		e.Attempt = fix.req.Attempt
	}
	e, err = m.Store.StartExperiment(context.Background(), e, ideaIDs)
	if err != nil {
		return err
	}
	e = s.train(e, start)
	if e.Status == StatusCrash && !s.stopping() && e.Attempt < m.Config.FixAttempts {
		s.mu.Lock()
		s.fix = &pendingFix{req: FixRequest{Experiment: e, LogTail: e.LogTail, Attempt: e.Attempt + 1}, files: changed}
		s.mu.Unlock()
	}
	return nil
}

// propose asks the proposer until the harness accepts the change (or the
// tries run out). A nil proposal with a nil error means "nothing to train
// this round".
func (s *session) propose(ctx context.Context, req ProposalRequest, fix *pendingFix, number int) (*Proposal, []string, Usage, error) {
	m := s.m
	var usage Usage
	if err := s.checker.Snapshot(); err != nil {
		return nil, nil, usage, err
	}
	for try := 0; try < m.Config.ProposeTries; try++ {
		if fix != nil {
			if err := s.reapply(fix); err != nil {
				return nil, nil, usage, err
			}
		}
		p, err := m.Proposer.Propose(ctx, req)
		usage = usage.Add(p.Usage)
		if err != nil {
			s.restoreWorktree()
			return nil, nil, usage, s.proposerFailed(err, fix != nil)
		}
		s.mu.Lock()
		s.failures = 0
		s.mu.Unlock()
		changed, err := s.checker.Check(ctx)
		if err == nil {
			return &p, changed, usage, nil
		}
		var refused *RefusedError
		if !errors.As(err, &refused) {
			s.restoreWorktree()
			return nil, nil, usage, err
		}
		m.emit(Event{Kind: EventRefused, Run: s.snapshotRun(), Number: number, Text: refused.Reason})
		req.Feedback = refused.Reason
		s.restoreWorktree()
	}
	m.emit(Event{Kind: EventNotice, Run: s.snapshotRun(), Text: fmt.Sprintf("the proposal was refused %d times; trying a new one", m.Config.ProposeTries)})
	return nil, nil, usage, nil
}

// proposerFailed turns a proposer error into the loop's reaction: stop,
// move on, or pause the run with a clear reason.
func (s *session) proposerFailed(err error, fixing bool) error {
	m := s.m
	if errors.Is(err, context.Canceled) && s.stopping() {
		return context.Canceled
	}
	if fixing && errors.Is(err, ErrCannotFix) {
		return nil
	}
	if errors.Is(err, ErrExhausted) {
		return s.pause(fmt.Sprintf("the proposer has nothing left to try: %v", err))
	}
	s.mu.Lock()
	s.failures++
	failures := s.failures
	s.mu.Unlock()
	if errors.Is(err, ErrUnavailable) || failures >= m.Config.MaxProposerFailures {
		return s.pause(fmt.Sprintf("the proposer keeps failing (%d in a row): %v", failures, err))
	}
	m.emit(Event{Kind: EventNotice, Run: s.snapshotRun(), Text: fmt.Sprintf("the proposer failed: %v", err)})
	return nil
}

// reapply writes the crashed attempt's files back into the worktree so the
// proposer repairs that change rather than starting over.
func (s *session) reapply(fix *pendingFix) error {
	for _, f := range fix.files {
		data, err := s.m.Repo.FileAt(fix.req.Experiment.Commit, f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.m.Repo.Root(), f), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// restoreWorktree undoes whatever an unaccepted proposal left behind.
func (s *session) restoreWorktree() {
	changed, err := s.checker.Changed()
	if err == nil && len(changed) > 0 {
		err = s.m.Repo.RestoreFiles(changed)
	}
	if err != nil {
		s.m.logger().Error("restoring the worktree", "err", err)
	}
}

func (s *session) addUsage(u Usage) {
	s.mu.Lock()
	s.usage = s.usage.Add(u)
	s.mu.Unlock()
}

// train runs the committed experiment e, judges it, records it and leaves
// the branch at the best commit.
func (s *session) train(e Experiment, start time.Time) Experiment {
	m := s.m
	run := s.snapshotRun()
	s.setPhase(PhaseTraining, &e, 0)
	m.emit(Event{Kind: EventExperimentStarted, Run: run, Number: e.Number, Experiment: ptr(e), Ideas: s.ideasOf(e)})

	job := TrainJob{
		Dir:     m.Repo.Root(),
		LogPath: filepath.Join(m.Config.StateDir, "logs", run.Tag, fmt.Sprintf("%04d.log", e.Number)),
		Timeout: m.Config.TrainTimeout,
		Env:     m.Config.TrainEnv,
	}
	if m.Config.RunLog {
		job.RunLogPath = filepath.Join(m.Repo.Root(), "run.log")
	}
	pidFile := filepath.Join(m.Config.StateDir, "trainer.pgid")
	job.OnStart = func(pgid int) {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pgid)), 0o644); err != nil {
			m.logger().Warn("recording the trainer's process group", "err", err)
		}
	}
	defer os.Remove(pidFile)
	var lastProgress time.Time
	job.OnProgress = func(p Progress) {
		s.mu.Lock()
		s.progress = &p
		s.mu.Unlock()
		if time.Since(lastProgress) < m.Config.ProgressEvery {
			return
		}
		lastProgress = time.Now()
		m.emit(Event{Kind: EventProgress, Run: run, Number: e.Number, Experiment: ptr(e), Progress: &p})
	}
	var res TrainResult
	var err error
	var tel *Telemetry
	if verr := s.checker.VerifyReadOnly(); verr != nil {
		err = verr
	} else {
		stopWatch := s.watchGPU()
		res, err = m.Trainer.Train(s.ctx, job)
		tel = stopWatch()
	}
	e.LogPath = job.LogPath
	e.TrainSeconds = res.Duration.Seconds()
	run = s.judge(&e, res, err, run)
	e.TotalSeconds = time.Since(start).Seconds()
	if e.FinishedAt.IsZero() {
		e.FinishedAt = m.now()
	}
	ctx := context.Background()
	if err := m.Store.FinishExperiment(ctx, e, run); err != nil {
		m.logger().Error("recording the experiment", "number", e.Number, "err", err)
	}
	s.setRun(run)
	s.saveTelemetry(e, tel)
	if e.Status != StatusKeep {
		if err := m.Repo.ResetTo(run.BestCommit); err != nil {
			m.logger().Error("moving the branch back to the best commit", "err", err)
		}
	}
	if err := AppendResult(m.resultsPath(), e); err != nil {
		m.logger().Error("appending to results.tsv", "err", err)
	} else if err := m.Store.MarkTSVWritten(ctx, e.ID); err != nil {
		m.logger().Error("recording the results.tsv row", "err", err)
	}
	s.setPhase(PhaseProposing, nil, 0)
	best, _ := m.bestExperiment(ctx, run)
	m.emit(Event{Kind: EventExperimentFinished, Run: run, Number: e.Number, Experiment: ptr(e), Best: best, Telemetry: tel})
	return e
}

// judge decides keep, discard or crash, and returns the run with its best
// updated on a keep.
func (s *session) judge(e *Experiment, res TrainResult, trainErr error, run Run) Run {
	e.LogTail = lastLines(string(res.Output), 40)
	sum, perr := ParseSummary(res.Output)
	switch {
	case trainErr != nil:
		e.Status, e.Reason = StatusCrash, trainErr.Error()
	case res.Stopped:
		e.Status, e.Reason = StatusCrash, "stopped"
	case res.TimedOut:
		e.Status, e.Reason = StatusCrash, fmt.Sprintf("timeout after %s", s.m.Config.TrainTimeout)
	case res.ExitCode != 0:
		e.Status, e.Reason = StatusCrash, fmt.Sprintf("exit status %d", res.ExitCode)
	case perr != nil:
		e.Status, e.Reason = StatusCrash, perr.Error()
	case math.IsNaN(sum.ValBPB) || math.IsInf(sum.ValBPB, 0) || sum.ValBPB <= 0:
		e.Status, e.Reason = StatusCrash, fmt.Sprintf("val_bpb is not a finite positive number (%v)", sum.ValBPB)
	default:
		e.Summary = sum
		switch delta := sum.ValBPB - run.BestValBPB; {
		case run.BestValBPB == 0:
			e.Status, e.Reason = StatusKeep, "first result"
		case delta < -s.m.Config.MinDelta:
			e.Status, e.Reason = StatusKeep, fmt.Sprintf("improved by %.6f", -delta)
		default:
			e.Status, e.Reason = StatusDiscard, fmt.Sprintf("no improvement (%+.6f)", delta)
		}
	}
	if e.Status == StatusKeep {
		run.BestCommit, run.BestValBPB = e.Commit, e.Summary.ValBPB
	}
	return run
}

func (s *session) ideasOf(e Experiment) []Idea {
	ideas, err := s.m.Store.IdeasConsumedBy(context.Background(), e.ID)
	if err != nil {
		s.m.logger().Warn("reading the ideas of an experiment", "err", err)
	}
	return ideas
}

// bestExperiment returns the kept experiment holding the run's best value.
func (m *Manager) bestExperiment(ctx context.Context, run Run) (*Experiment, error) {
	exps, err := m.Store.Experiments(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	return bestOf(exps), nil
}

// bestOf returns the kept experiment with the lowest val_bpb, or nil.
func bestOf(exps []Experiment) *Experiment {
	var best *Experiment
	for i := range exps {
		e := &exps[i]
		if e.Status != StatusKeep {
			continue
		}
		if best == nil || e.Summary.ValBPB < best.Summary.ValBPB {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	b := *best
	return &b
}

func ptr[T any](v T) *T { return &v }
