package research

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// guardedProposerLoop is proposerLoop that survives a panic outside a
// proposal (those are caught in the loop): the run pauses with the reason
// and proposing carries on after a resume.
func (s *session) guardedProposerLoop() {
	for {
		err := Catch(s.m.logger(), "the proposer loop", s.proposerLoop)
		if err == nil {
			return
		}
		s.pauseForBug(err)
		if !s.m.Config.Pipeline {
			// It may have taken a slot's request: owe the slot a proposal.
			select {
			case s.demand <- struct{}{}:
			default:
			}
		}
	}
}

// proposerLoop prepares changes. Pipelined, it works on the next change
// while the slots train; sequential, it waits until a slot asks.
func (s *session) proposerLoop() {
	m := s.m
	for {
		if !m.Config.Pipeline {
			select {
			case <-s.demand:
			case <-s.halt:
				return
			}
		}
		if !s.waitWhilePaused() {
			return
		}
		// Pipelined, the first proposal is prepared while the baseline
		// trains (its base, the start commit, is known); it is handed over
		// only once the baseline has a result.
		if early := m.Config.Pipeline && !s.proposedOnce; !early {
			if err := s.waitForBaseline(); err != nil {
				return
			}
		}
		if !s.waitForRoom() {
			return
		}
		s.proposedOnce = true
		var c *candidate
		var err error
		if bug := Catch(m.logger(), "the proposer", func() { c, err = s.proposeOne() }); bug != nil {
			c, err = nil, nil
			s.restoreProposal()
			s.pauseForBug(bug)
		}
		if err == nil && c != nil && m.Reviewing() {
			s.mu.Lock()
			number := s.nextNumberLocked()
			s.mu.Unlock()
			if !s.review(c, number) {
				s.releasePrepared(c) // also when stopping: it never trains
				if s.stopping() {
					return
				}
				c = nil // not trained: the next proposal hears why
			}
		}
		if err != nil {
			if s.stopping() {
				return
			}
			m.logger().Error("proposing", "err", err)
			_ = s.pause(fmt.Sprintf("paused after an error while proposing: %v", err))
		}
		if c == nil {
			if !m.Config.Pipeline {
				// The slot still waits for a proposal: owe it one (after a
				// resume, if the run paused).
				select {
				case s.demand <- struct{}{}:
				default:
				}
			}
			continue
		}
		if err := s.waitForBaseline(); err != nil {
			s.releaseIdeas(c.ideas)
			return
		}
		s.mu.Lock()
		s.queue.handOff()
		s.mu.Unlock()
		select {
		case s.ready <- c:
		case <-s.halt:
			return
		}
	}
}

// waitForRoom holds proposals while every experiment the run may have is
// started (a dropped candidate gives its place back); false means stop.
func (s *session) waitForRoom() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	max := s.m.Config.MaxExperiments
	for max > 0 && s.started+s.queue.inHand() >= max && !s.stopAfter {
		s.cond.Wait()
	}
	return !s.stopAfter
}

// waitForBaseline holds proposals until the baseline has a result: a setup
// that does not train makes every proposal a waste.
func (s *session) waitForBaseline() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.run.BestValBPB == 0 && !s.stopAfter {
		s.cond.Wait()
	}
	if s.stopAfter {
		return context.Canceled
	}
	return nil
}

// proposeOne asks the proposer for a change against the current best until
// the harness accepts it (or the tries run out: nil, nil).
func (s *session) proposeOne() (*candidate, error) {
	m := s.m
	start := time.Now()
	s.mu.Lock()
	fix := s.fix
	s.fix = nil
	run := s.run
	number := s.nextNumberLocked()
	sinceKeep := s.sinceKeep
	s.phase = PhaseProposing
	s.proposing = number
	pctx, cancel := context.WithCancel(s.ctx)
	s.proposeCancel = cancel
	s.mu.Unlock()
	defer func() {
		cancel()
		s.mu.Lock()
		s.proposeCancel, s.proposing = nil, 0
		s.mu.Unlock()
	}()
	propBranch := "" // a proposal worktree has a detached HEAD
	if s.propRepo == m.Repo {
		propBranch = run.Branch
	}
	if err := checkBranch(s.propRepo, propBranch); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.proposals++
	seq := s.proposals
	s.mu.Unlock()
	if err := s.propRepo.ResetTo(run.BestCommit); err != nil {
		return nil, fmt.Errorf("moving the proposal workspace to the best commit: %w", err)
	}
	m.emit(Event{Kind: EventProposing, Run: run, Number: number})

	ctx := context.Background()
	history, omitted := s.hist.ForProposal(run.BestCommit)
	s.condense(pctx, run)
	var ideas []Idea
	var err error
	if fix == nil {
		if ideas, err = s.nextIdeas(ctx); err != nil {
			return nil, err
		}
	}
	program, _ := os.ReadFile(filepath.Join(s.propRepo.Root(), m.Config.Program))
	facts := s.hist.Facts()
	req := ProposalRequest{
		Dir: s.propRepo.Root(), Editable: m.Config.Editable, ReadOnly: m.Config.ReadOnly,
		BaseCommit: run.BestCommit, Program: string(program), History: history, HistoryOmitted: omitted,
		Best: facts.Best, BestValue: facts.BestValue, BestNumbers: facts.BestNumbers, Ideas: ideas, Noise: run.Noise,
		SinceKeep: sinceKeep, PlateauAfter: m.Config.plateauAfter(),
		Lessons: s.lessons(run),
	}
	if fix != nil {
		f := fix.req
		req.Fix = &f
	}
	req.Check = func() error { return s.checkProposal(run.BestCommit) }
	req.Env = []string{m.proposerMarker()}
	req.Feedback = s.takeReviewFeedback()

	// The workspace was reset to the best commit above: its tracked files
	// are clean, what exists beyond them is untracked.
	if err := s.checker.SnapshotAfterReset(); err != nil {
		return nil, err
	}
	var usage Usage
	for try := 0; try < m.Config.ProposeTries; try++ {
		if fix != nil {
			if err := s.writeFiles(s.propRepo, fix.files); err != nil {
				return nil, err
			}
		}
		gitChanged := s.guardProposal(run)
		p, err := m.Proposer.Propose(pctx, req)
		gitErr := gitChanged()
		usage = usage.Add(p.Usage)
		purpose := "propose"
		if fix != nil {
			purpose = "fix"
		}
		s.recordUsage(run, purpose, number, p.Usage, err != nil)
		if err != nil {
			s.restoreProposal()
			return nil, s.proposerFailed(err, fix != nil, run)
		}
		// A proposal that touched git is refused like any bad change, and
		// the model is told why. The check's list of changed paths is what
		// the workspace holds until it is restored: the harness only reads
		// meanwhile, so the tree is not walked again to capture or restore.
		var changed []string
		var files map[string]string
		if err = gitErr; err == nil {
			changed, files, err = s.checkedProposal(run.BestCommit)
		}
		if err == nil {
			s.mu.Lock()
			s.failures = 0 // only an accepted proposal ends a streak of failures
			s.mu.Unlock()
			c := s.capture(run.BestCommit, files, p, usage, ideas)
			s.holdIdeas(c.ideas)
			s.holdPrepared(c, number)
			if s.restorePaths(changed) {
				// The check compared every tracked file with the best
				// commit and only changed's differed: the workspace is
				// exactly the best commit again.
				s.mu.Lock()
				c.cleanAt, c.cleanSeq, c.cleanTrainings = run.BestCommit, seq, s.trainings
				s.mu.Unlock()
			}
			if fix != nil {
				c.kind, c.attempt = KindFix, fix.req.Attempt
			}
			c.proposedIn = time.Since(start)
			s.checkBudget()
			return c, nil
		}
		var refused *RefusedError
		if !errors.As(err, &refused) {
			s.restoreProposal()
			return nil, err
		}
		m.emit(Event{Kind: EventRefused, Run: s.snapshotRun(), Number: number, Text: refused.Reason})
		req.Feedback = refused.Reason
		if gitErr == nil && changed != nil {
			s.restorePaths(changed)
		} else {
			s.restoreProposal()
		}
	}
	s.checkBudget()
	// Rounds of refusals count as proposer failures: a model that keeps
	// producing changes the harness refuses pauses the run instead of
	// spending tokens all night.
	return nil, s.proposerFailed(fmt.Errorf("the proposal was refused %d times (last: %s)", m.Config.ProposeTries, req.Feedback), fix != nil, run)
}

// checkProposal is the harness's whole verdict on the proposal workspace.
func (s *session) checkProposal(base string) error {
	_, _, err := s.checkedProposal(base)
	return err
}

// checkedProposal is checkProposal that also returns the changed paths
// (also when refused, for restoring them; nil when unknown) and, when
// accepted, their content.
func (s *session) checkedProposal(base string) ([]string, map[string]string, error) {
	changed, err := s.checker.Check(s.ctx)
	if err != nil {
		return changed, nil, err
	}
	files, err := s.readFiles(s.propRepo, changed)
	if err != nil {
		return changed, nil, err
	}
	return changed, files, s.checkRepeat(base, files)
}

// capture turns the accepted worktree change (files, as checked) into a
// candidate.
func (s *session) capture(base string, files map[string]string, p Proposal, usage Usage, ideas []Idea) *candidate {
	return &candidate{kind: KindProposal, base: base, files: files, description: OneLine(p.Description), usage: usage, ideas: ideas}
}

func (s *session) readFiles(repo Repo, paths []string) (map[string]string, error) {
	files := make(map[string]string, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(repo.Root(), p))
		if err != nil {
			return nil, err
		}
		files[p] = string(data)
	}
	return files, nil
}

func (s *session) writeFiles(repo Repo, files map[string]string) error {
	for p, content := range files {
		if err := os.WriteFile(filepath.Join(repo.Root(), p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// restoreProposal undoes whatever the proposer left in its workspace.
func (s *session) restoreProposal() {
	changed, err := s.checker.Changed()
	if err != nil {
		s.m.logger().Error("restoring the proposal workspace", "err", err)
		return
	}
	s.restorePaths(changed)
}

// restorePaths undoes the proposal's changes to paths, known from a check;
// false when that failed.
func (s *session) restorePaths(changed []string) bool {
	if len(changed) == 0 {
		return true
	}
	s.setAside(changed)
	if err := s.propRepo.RestoreFiles(changed); err != nil {
		s.m.logger().Error("restoring the proposal workspace", "err", err)
		return false
	}
	return true
}

// proposerFailed turns a proposer error into the loop's reaction: stop,
// move on, or pause the run with a clear reason. base is the run as the
// proposer saw it (its best commit and value).
func (s *session) proposerFailed(err error, fixing bool, base Run) error {
	m := s.m
	if errors.Is(err, context.Canceled) && s.stopping() {
		return nil
	}
	if fixing && errors.Is(err, ErrCannotFix) {
		return nil
	}
	if errors.Is(err, ErrExhausted) {
		if s.awaitNewMaterial(base, err) {
			return nil // a new best (or a stop): propose again, or end
		}
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

// recordUsage stores what an LLM call spent (also when it failed, and
// whether or not a proposal came of it), so budgets, status and the digest
// count every call, across restarts.
func (s *session) recordUsage(run Run, purpose string, number int, u Usage, failed bool) {
	s.mu.Lock()
	s.usage = s.usage.Add(u)
	s.mu.Unlock()
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return
	}
	err := s.m.Store.AddLLMCall(context.Background(), LLMCall{RunID: run.ID, Purpose: purpose, Number: number,
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Failed: failed})
	if err != nil {
		s.m.logger().Warn("recording LLM usage", "purpose", purpose, "err", err)
	}
}

// lessons returns the stored lessons of the run.
func (s *session) lessons(run Run) []Lesson {
	lessons, err := s.m.Store.Lessons(context.Background(), run.ID)
	if err != nil {
		s.m.logger().Warn("reading lessons", "err", err)
	}
	return lessons
}

// nextNumberLocked is the number the proposal being made will most likely
// get: after what started, what was handed to a slot and what is queued to
// go first (a baseline the first proposal is prepared beside, a
// confirmation, a retry). Callers hold s.mu.
func (s *session) nextNumberLocked() int {
	return s.started + s.queue.ahead() + 1
}
