package research

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/patch"
)

// slotLoop trains one candidate after another in sl until the run stops.
// A panic (a bug) pauses the run with the reason; the slot carries on
// after a resume.
func (s *session) slotLoop(sl *slot) {
	for {
		err := Catch(s.m.logger(), "slot "+sl.Name, func() { s.trainLoop(sl) })
		if err == nil {
			return
		}
		s.pauseForBug(err)
	}
}

// trainLoop is slotLoop's work, between panics.
func (s *session) trainLoop(sl *slot) {
	if e, ok := s.takeReattach(sl); ok {
		s.followReattached(sl, e)
	}
	for {
		if s.maxReached() {
			s.stopWith(fmt.Sprintf("reached --max-experiments %d", s.m.Config.MaxExperiments))
			return
		}
		if !s.waitWhilePaused() {
			return
		}
		if err := s.applyProgramEdits(sl); err != nil {
			s.m.logger().Error("applying program edits", "err", err)
		}
		if err := s.preflight(sl); err != nil {
			if s.stopping() {
				return
			}
			continue
		}
		if s.maxReached() {
			s.stopWith(fmt.Sprintf("reached --max-experiments %d", s.m.Config.MaxExperiments))
			return
		}
		c := s.next()
		if c == nil {
			return
		}
		ok := s.reserve()
		if c.handed {
			s.taken()
		}
		if !ok {
			s.releasePrepared(c)
			s.stopWith(fmt.Sprintf("reached --max-experiments %d", s.m.Config.MaxExperiments))
			return
		}
		if !s.runCandidate(sl, c) {
			s.unreserve()
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// runCandidate commits c in sl's working copy on top of the current best,
// trains it and records the outcome. false: nothing was started (the
// change no longer applies).
func (s *session) runCandidate(sl *slot, c *candidate) (started bool) {
	m := s.m
	// Started, the store has consumed its ideas and holds its change;
	// dropped, they are free for the next proposal.
	defer s.releaseIdeas(c.ideas)
	defer s.releasePrepared(c)
	start := time.Now().Add(-c.proposedIn)
	run := s.snapshotRun()
	best := run.BestCommit
	var e Experiment
	staleKey := "" // set when c trains on its own base (conflict.go)
	defer Recover(m.logger(), "experiment "+c.description, func(p *PanicError) {
		started = s.bugInExperiment(sl, c, e, best, p)
		s.pauseForBug(p)
	})
	e = Experiment{RunID: run.ID, Kind: c.kind, ParentCommit: best, Description: c.description, GPU: sl.Name, Attempt: c.attempt,
		ProposeSeconds: c.proposedIn.Seconds(), PromptTokens: c.usage.PromptTokens, CompletionTokens: c.usage.CompletionTokens}
	if c.kind.IsBaseline() && run.BestValBPB == 0 && c.commit != best {
		// Before the first result only program.md edits move the best:
		// measure on top of them, or the run would drop them.
		c.commit = best
	}
	switch c.kind {
	case KindBaseline, KindBaselineRepeat, KindConfirmation:
		if err := s.resetSlot(sl, run, c.commit); err != nil {
			m.logger().Error("checking out", "commit", c.commit, "err", err)
			s.pauseOnWrongBranch(err)
			return false
		}
		e.Commit = c.commit
		if c.kind == KindConfirmation {
			e.ParentCommit = c.confirmOf.ParentCommit
			e.Diff, e.DiffStat = c.confirmOf.Diff, c.confirmOf.DiffStat
		}
	default:
		commit, err := s.commitCandidate(sl, c, run)
		if err != nil && s.trainsOnItsBase(c, err) {
			// Trained where it was written and judged as a stale
			// candidate, while the proposer works on the new best.
			conflict := err
			staleKey = s.noteStaleTree(c)
			e.ParentCommit = c.base
			if commit, err = s.commitOnBase(sl, c, run); err == nil {
				m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf("%q conflicts with the new best (%v): it trains on %s, the commit it was written for, and is judged against the best while the next change is prepared on it", c.description, conflict, ShortCommit(c.base))})
			}
		}
		if err != nil {
			if staleKey != "" {
				s.dropStaleTree(staleKey)
			}
			if s.pauseOnWrongBranch(err) {
				return false
			}
			var conflict *patch.ConflictError
			if errors.As(err, &conflict) {
				m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf("%q no longer applies to the best commit (%v); dropped", c.description, err)})
			} else {
				m.logger().Error("committing a candidate", "err", err)
			}
			_ = s.resetSlot(sl, run, best)
			return false
		}
		e.Commit = commit
		if e.Diff, e.DiffStat, err = sl.repo.Diff(e.ParentCommit, commit); err != nil {
			m.logger().Warn("diffing", "err", err)
		}
	}
	var ideaIDs []int64
	for _, i := range c.ideas {
		ideaIDs = append(ideaIDs, i.ID)
	}
	e, err := m.Store.StartExperiment(context.Background(), e, ideaIDs)
	if err != nil {
		m.logger().Error("recording the experiment start", "err", err)
		if staleKey != "" {
			s.dropStaleTree(staleKey)
		}
		_ = s.resetSlot(sl, run, best)
		return false
	}
	if staleKey != "" {
		s.numberStaleTree(staleKey, e.Number)
	}
	s.hist.Record(e, run.Noise)
	s.train(sl, c, e, start)
	return true
}

// commitCandidate writes c's files, rebased onto best when it was made on
// an older commit, and commits them in sl's working copy.
func (s *session) commitCandidate(sl *slot, c *candidate, run Run) (string, error) {
	best := run.BestCommit
	files := c.files
	// Rebased from the object store before the working copy moves: a
	// change that conflicts costs no reset (it may train on its own base).
	if c.base != best {
		rebased := make(map[string]string, len(files))
		for path, content := range files {
			old, err := sl.repo.FileAt(c.base, path)
			if err != nil {
				return "", err
			}
			now, err := sl.repo.FileAt(best, path)
			if err != nil {
				return "", err
			}
			if rebased[path], err = patch.Rebase(string(old), content, string(now)); err != nil {
				return "", err
			}
		}
		files = rebased
	}
	if s.stillClean(sl, c, best) {
		// Sequential on one slot: the proposal was made, checked and undone
		// in this very working copy, on best, and nothing ran in it since;
		// a reset would stat every tracked file again for nothing.
		if err := checkBranch(sl.repo, slotBranch(sl, run)); err != nil {
			return "", err
		}
	} else if err := s.resetSlot(sl, run, best); err != nil {
		return "", err
	}
	if err := s.writeFiles(sl.repo, files); err != nil {
		return "", err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	// Verified again right before the commit: it must land on the run's
	// branch (or the slot's detached HEAD), never on a person's branch.
	if err := checkBranch(sl.repo, slotBranch(sl, run)); err != nil {
		return "", err
	}
	return sl.repo.Commit(OneLine(c.description), paths, s.m.Config.Author)
}

// train runs the committed experiment e in sl, judges and records it.
func (s *session) train(sl *slot, c *candidate, e Experiment, start time.Time) {
	m := s.m
	run := s.snapshotRun()
	sl.set(&e, nil)
	m.emit(Event{Kind: EventExperimentStarted, Run: run, Number: e.Number, Experiment: ptr(e), Ideas: s.ideasOf(e)})

	job := TrainJob{
		Dir:     sl.repo.Root(),
		LogPath: freshLogPath(filepath.Join(m.Config.StateDir, "logs", run.Tag), e.Number),
		Timeout: m.Config.TrainTimeout,
		Env:     m.trainerEnv(sl.Env),
	}
	if m.Config.RunLog {
		job.RunLogPath = filepath.Join(sl.repo.Root(), "run.log")
	}
	pidFile := filepath.Join(m.Config.StateDir, "trainer-"+sanitize(sl.Name)+".pgid")
	var group atomic.Int64 // the trainer's process group once it runs
	trained := false
	defer func() {
		if pgid := group.Load(); !trained && pgid > 1 {
			// A bug unwound the training: its processes must not run on
			// unwatched, holding the GPU.
			_ = syscall.Kill(-int(pgid), syscall.SIGKILL)
		}
	}()
	job.OnStart = func(pgid int) {
		group.Store(int64(pgid))
		// A bug here must not leave the trainer running unwatched.
		defer Recover(m.logger(), "recording the trainer's process group", nil)
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pgid)), 0o644); err != nil {
			m.logger().Warn("recording the trainer's process group", "err", err)
		}
	}
	defer os.Remove(pidFile)
	// Every process of the experiment, setsid ones too, for a restart
	// after kill -9 (killOrphanTrainer); the trainer removes it when all
	// are gone.
	job.ProcsPath = filepath.Join(m.Config.StateDir, "trainer-"+sanitize(sl.Name)+".procs")
	var lastProgress time.Time
	trainCtx, loss := s.watchLoss(c)
	defer loss.finish() // releases the training context on every path
	job.OnProgress = func(p Progress) {
		// Called on the trainer's own goroutine: a bug here must not end
		// the process (the progress is only shown).
		defer Recover(m.logger(), "showing training progress", nil)
		loss.observe(p) // for trainers that do not call OnEveryProgress
		sl.set(&e, &p)
		if time.Since(lastProgress) < m.Config.ProgressEvery {
			return
		}
		lastProgress = time.Now()
		m.emit(Event{Kind: EventProgress, Run: run, Number: e.Number, Experiment: ptr(e), Progress: &p})
	}
	job.OnEveryProgress = func(p Progress) {
		defer Recover(m.logger(), "following the loss curve", nil)
		loss.observe(p)
	}
	var res TrainResult
	var err error
	var tel *Telemetry
	var before treePicture
	guarded := false
	if verr := s.verifyReadOnly(sl); verr != nil {
		err = verr
	} else {
		s.mu.Lock()
		s.trainings++ // whatever it does to the working copy, it is no longer known clean
		s.mu.Unlock()
		before, guarded = s.pictureSlot(sl)
		stopWatch := s.watchGPU(sl)
		gitChanged := s.watchGit(sl, run)
		res, err = sl.Trainer.Train(trainCtx, job)
		trained = true
		tel = stopWatch()
		if !detached(err) {
			// Checked whatever the run's outcome: a crashing train.py may
			// have moved a branch too.
			if gerr := gitChanged(); gerr != nil {
				err = gerr
			}
		}
	}
	if detached(err) {
		// The job runs on (SLURM, bot shutting down): the experiment stays
		// recorded as running and the next start follows it again.
		s.mu.Lock()
		s.inFlight--
		c.judged = true
		s.cond.Broadcast()
		s.mu.Unlock()
		sl.set(nil, nil)
		return
	}
	if guarded {
		// Untracked and ignored files the training deleted or rewrote (a
		// .venv, a person's notes) are reported with the experiment.
		e.Notes = s.untrackedDamage(sl, before, e.Commit)
	}
	e.LogPath = job.LogPath
	e.TrainSeconds = res.Duration.Seconds()
	m.redactTraining(job, &res)
	e.LogTail = Tail(res.Output, 40)
	sum, verdict := measure(res, err, m.Config.TrainTimeout)
	if c.lossCurve, c.stoppedEarly = loss.finish(); c.stoppedEarly != "" && res.Stopped && err == nil && s.ctx.Err() == nil {
		verdict = "" // not a crash: a discard with the reason (judge)
	} else {
		c.stoppedEarly = "" // a stop or a crash came first: that is the outcome
	}
	s.judge(sl, c, &e, sum, verdict, tel, start)
	sl.set(nil, nil)
}

// verifyReadOnly checks the read-only files of the slot's working copy.
func (s *session) verifyReadOnly(sl *slot) error {
	c := Checker{Repo: sl.repo, ReadOnly: s.checker.ReadOnly, Hashes: s.checker.Hashes}
	return c.VerifyReadOnly()
}

// measure turns a training result into a summary, or a crash reason.
func measure(res TrainResult, trainErr error, timeout time.Duration) (Summary, string) {
	var sum Summary
	var perr error
	if res.Summary != nil {
		sum, perr = res.Summary.Summary, res.Summary.Err
	} else {
		sum, perr = ParseSummary(res.Output)
	}
	switch {
	case trainErr != nil:
		return sum, trainErr.Error()
	case res.Stopped:
		return sum, ReasonStopped
	case res.TimedOut:
		return sum, fmt.Sprintf("timeout after %s", timeout)
	case res.ExitCode != 0:
		return sum, CrashCause(res.Output, res.ExitCode)
	case perr != nil:
		return sum, perr.Error()
	}
	return sum, ""
}

// pauseOnWrongBranch pauses the run when err says the working copy is on
// a branch the harness must not move; it reports whether it did.
func (s *session) pauseOnWrongBranch(err error) bool {
	var wb *WrongBranchError
	if !errors.As(err, &wb) {
		return false
	}
	s.m.logger().Error("not on the run's branch", "err", err)
	_ = s.pause(err.Error() + "; check out the run's branch, then resume")
	return true
}

func (s *session) ideasOf(e Experiment) []Idea {
	ideas, err := s.m.Store.IdeasConsumedBy(context.Background(), e.ID)
	if err != nil {
		s.m.logger().Warn("reading the ideas of an experiment", "err", err)
	}
	return ideas
}

func sanitize(name string) string {
	out := []byte(name)
	for i, b := range out {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			out[i] = '_'
		}
	}
	return string(out)
}

func ptr[T any](v T) *T { return &v }

// stillClean tells whether sl's working copy is known to hold exactly best:
// c was checked and undone in it (the proposal workspace is the slot's own
// working copy only when one slot trains without pipelining, and then
// proposing and training take turns), no proposal and no training (a
// confirmation run first, say) started since, and HEAD is still best.
func (s *session) stillClean(sl *slot, c *candidate, best string) bool {
	if c.cleanAt == "" || c.cleanAt != best || s.propRepo != sl.repo {
		return false
	}
	s.mu.Lock()
	same := s.proposals == c.cleanSeq && s.trainings == c.cleanTrainings
	s.mu.Unlock()
	head, err := sl.repo.Head()
	return same && err == nil && head == best
}
