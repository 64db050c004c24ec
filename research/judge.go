package research

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// judge decides keep, discard or crash against the best of this moment,
// updates the shared best, records the experiment and queues what follows
// from it (a confirmation, the retry of an improvement a stale winner
// lacks, a crash fix).
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
	var follow []*candidate
	var fix *pendingFix
	oldBest := run.BestCommit
	verdict := &Verdict{Value: sum.ValBPB, Against: run.BestValBPB, AgainstNumbers: s.bestNumbers, Noise: run.Noise}
	switch {
	case crash != "":
		// A crash reason quotes the log (the last exception line).
		e.Status, e.Reason = StatusCrash, m.Config.Redactor.Redact(crash)
		if c.kind == kindProposal && !s.stopAfter && c.attempt < m.Config.fixAttempts() {
			fix = &pendingFix{req: FixRequest{Experiment: *e, LogTail: e.LogTail, Attempt: c.attempt + 1}, files: c.files}
		}
	case c.stoppedEarly != "":
		// Its diff is kept: `retry N` trains it to the end.
		e.Status, e.Reason = StatusDiscard, c.stoppedEarly
	case c.kind == kindBaseline:
		e.Summary = sum
		s.judgeBaseline(e, &run)
	default:
		e.Summary = sum
		follow = s.judgeChange(c, e, &run)
	}
	baselineFailed := false
	if c.kind == kindBaseline {
		s.baselineRuns--
		// Every baseline run crashed: proposals against a setup that does
		// not train would waste the night. Measure again after a resume.
		if run.BestValBPB == 0 && s.baselineRuns == 0 && !s.stopAfter {
			baselineFailed = true
			s.enqueueBaselines()
		}
	}
	switch {
	case crash != "" || c.stoppedEarly != "":
		verdict = nil
	case c.kind == kindBaseline && e.Status == StatusKeep:
		s.bestNumbers = []int{e.Number}
	case c.kind == kindBaseline && e.Kind == KindBaselineRepeat && run.BestCommit == oldBest && run.BestValBPB != verdict.Against:
		// A repeat moved the best to the mean of the baseline runs.
		s.bestNumbers = append(append([]int(nil), s.bestNumbers...), e.Number)
	case e.Status == StatusKeep:
		verdict.NewBest = true
		s.bestNumbers = []int{e.Number}
		if c.kind == kindConfirm {
			verdict.Value = s.confirmedValue(c, e)
			s.bestNumbers = []int{c.confirmOf.Number, e.Number}
		}
	case c.kind == kindConfirm:
		verdict.Value = s.confirmedValue(c, e)
	}
	if e.Status == StatusKeep {
		s.sinceKeep = 0
	} else if c.kind != kindBaseline {
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
	s.priority = append(s.priority, follow...)
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
	m.emit(Event{Kind: EventExperimentFinished, Run: run, Number: e.Number, Experiment: ptr(*e), Best: best, Telemetry: tel, Verdict: verdict})
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
	if c.kind == kindBaseline && s.baselineDone() && run.Noise > 0 {
		m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf("noise floor: val_bpb varies by %.6f (1σ) between identical runs; gains below %.6f are confirmed by a rerun", run.Noise, m.Config.ConfirmSigma*run.Noise)})
	}
}

func (s *session) baselineDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baselineRuns == 0
}

// judgeBaseline: the first successful baseline run sets the best; repeats
// estimate the noise, and the best becomes the mean of all baseline runs.
func (s *session) judgeBaseline(e *Experiment, run *Run) {
	if run.BestValBPB == 0 {
		e.Status, e.Reason = StatusKeep, "baseline"
		run.BestCommit, run.BestValBPB = e.Commit, e.Summary.ValBPB
		return
	}
	e.Status = StatusDiscard
	e.Reason = "baseline repeat, for the noise estimate"
	vals := s.hist.BaselineValues()
	vals = append(vals, e.Summary.ValBPB)
	mean, sd := meanStd(vals)
	if len(vals) >= 2 {
		run.Noise = sd
		run.BestValBPB = mean
		e.Reason = fmt.Sprintf("baseline repeat: mean %.6f, noise %.6f over %d runs", mean, sd, len(vals))
	}
}

// judgeChange compares a change (or a confirmation rerun) with the best of
// this moment. Gains within the noise are rerun before they are kept; a
// winner found on a stale base is adopted and the improvement it lacks is
// queued on top of it.
func (s *session) judgeChange(c *candidate, e *Experiment, run *Run) []*candidate {
	m := s.m
	val := e.Summary.ValBPB
	if c.kind == kindConfirm && c.implausible {
		oldBest := run.BestCommit
		if s.judgeImplausibleConfirm(c, e, run) && e.ParentCommit != oldBest {
			return s.adoptStale(e, run, oldBest)
		}
		return nil
	}
	if c.kind == kindConfirm {
		val = (c.confirmOf.Summary.ValBPB + e.Summary.ValBPB) / 2
	}
	gain := run.BestValBPB - val
	threshold := m.Config.MinDelta
	if run.BestValBPB == 0 {
		e.Status, e.Reason = StatusKeep, "first result"
		run.BestCommit, run.BestValBPB = e.Commit, val
		return nil
	}
	if gain <= threshold {
		e.Status, e.Reason = StatusDiscard, fmt.Sprintf("no improvement (%+.6f)", val-run.BestValBPB)
		if c.kind == kindConfirm {
			e.Reason = fmt.Sprintf("not confirmed: mean of 2 runs %.6f vs best %.6f", val, run.BestValBPB)
		}
		return nil
	}
	if c.kind != kindConfirm {
		if follow := s.judgeImplausible(c, e, run, gain); follow != nil {
			return follow
		}
	}
	noiseBar := m.Config.ConfirmSigma * run.Noise
	seedOnly := seedOnlyChange(e.Diff)
	if c.kind != kindConfirm && (gain < noiseBar || seedOnly) {
		e.Status = StatusDiscard
		e.Reason = fmt.Sprintf("gain %.6f is within %.1fσ of noise (%.6f): rerunning to confirm", gain, m.Config.ConfirmSigma, noiseBar)
		if seedOnly {
			e.Reason = fmt.Sprintf("gain %.6f from a seed change alone: rerunning to confirm", gain)
		}
		return []*candidate{{kind: kindConfirm, commit: e.Commit, confirmOf: ptr(*e),
			description: "confirm #" + fmt.Sprint(e.Number) + ": " + strings.TrimPrefix(e.Description, "confirm ")}}
	}
	if c.kind == kindConfirm && seedOnly && gain < noiseBar {
		e.Status, e.Reason = StatusDiscard, fmt.Sprintf("a seed change within the noise (mean gain %.6f < %.6f) is never kept", gain, noiseBar)
		return nil
	}
	e.Status = StatusKeep
	e.Reason = fmt.Sprintf("improved by %.6f", gain)
	if c.kind == kindConfirm {
		e.Reason = fmt.Sprintf("confirmed: mean of 2 runs %.6f improves by %.6f", val, gain)
	}
	oldBest := run.BestCommit
	run.BestCommit, run.BestValBPB = e.Commit, val
	if e.ParentCommit == oldBest {
		return nil
	}
	return s.adoptStale(e, run, oldBest)
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
		part := s.uncontestedPart(retry, e.Commit, short(oldBest))
		if part == nil {
			e.Reason += fmt.Sprintf(" (adopted over a newer best; the change of %s it lacks sets the same lines and is not retried)", short(oldBest))
			return nil
		}
		e.Reason += fmt.Sprintf(" (adopted over a newer best; the parts of %s's change that do not set its lines are retried on top)", short(oldBest))
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
	return &candidate{kind: kindRetry, base: from, files: files, description: "retry of the improvement " + short(to) + " on the adopted best"}, nil
}

var seedLine = regexp.MustCompile(`(?i)seed`)

// seedOnlyChange tells whether every changed line of a diff mentions a
// seed: such a change moves val_bpb by luck alone.
func seedOnlyChange(diff string) bool {
	changed := 0
	for _, line := range strings.Split(diff, "\n") {
		if strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
			continue
		}
		if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			if strings.TrimSpace(line[1:]) == "" {
				continue
			}
			changed++
			if !seedLine.MatchString(line) {
				return false
			}
		}
	}
	return changed > 0
}

func meanStd(vals []float64) (mean, sd float64) {
	if len(vals) == 0 {
		return 0, 0
	}
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	if len(vals) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(vals)-1))
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}
