package research

import (
	"errors"
	"fmt"
	"path/filepath"
)

// takeReattach hands sl the experiment of its own that was running when the
// bot died, if its trainer can follow it.
func (s *session) takeReattach(sl *slot) (Experiment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.reattach {
		if e.GPU == sl.Name {
			s.reattach = append(s.reattach[:i], s.reattach[i+1:]...)
			s.inFlight++
			s.phase = PhaseTraining
			return e, true
		}
	}
	return Experiment{}, false
}

// followReattached follows e's job to its end and judges it like any
// experiment; a job that is gone is recorded as interrupted.
func (s *session) followReattached(sl *slot, e Experiment) {
	m := s.m
	run := s.snapshotRun()
	s.mu.Lock()
	s.trainings++ // a training runs in the working copy again (see stillClean)
	s.mu.Unlock()
	if err := sl.repo.ResetTo(e.Commit); err != nil {
		m.logger().Warn("moving the slot's working copy to a re-attached experiment", "err", err)
	}
	sl.set(&e, nil)
	m.emit(Event{Kind: EventNotice, Run: run, Number: e.Number, Text: fmt.Sprintf("#%d on %s: following its job again after the restart", e.Number, sl.Name)})
	job := TrainJob{
		Dir:     sl.repo.Root(),
		LogPath: filepath.Join(m.Config.StateDir, "logs", run.Tag, fmt.Sprintf("%04d.log", e.Number)),
		Timeout: m.Config.TrainTimeout,
		Env:     m.trainerEnv(sl.Env),
		OnProgress: func(p Progress) {
			sl.set(&e, &p)
		},
	}
	res, err := sl.Trainer.(Reattacher).Reattach(s.ctx, e, job)
	var gone interface{ NoJob() bool }
	if errors.As(err, &gone) && gone.NoJob() {
		err = errors.New("interrupted")
	}
	if detached(err) {
		sl.set(nil, nil)
		return
	}
	m.redactTraining(job, &res)
	e.LogPath, e.TrainSeconds, e.LogTail = job.LogPath, res.Duration.Seconds(), Tail(res.Output, 40)
	sum, verdict := measure(res, err, m.Config.TrainTimeout)
	// Judged as what it was, except that a confirmation or a retry is
	// judged as the proposer's change: what it confirmed or re-applied is
	// not known after a restart.
	c := &candidate{kind: KindProposal, description: e.Description, attempt: e.Attempt}
	switch {
	case e.Kind.IsBaseline():
		c.kind = e.Kind
	case e.Attempt > 0:
		c.kind = KindFix
	}
	s.judge(sl, c, &e, sum, verdict, nil, e.StartedAt)
	sl.set(nil, nil)
}

// detached tells whether a trainer left its job running on purpose (the bot
// is shutting down; the next start re-attaches).
func detached(err error) bool {
	var d interface{ Detached() bool }
	return errors.As(err, &d) && d.Detached()
}
