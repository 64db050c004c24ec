package research

// Condensation from the harness's side: when the proposer is asked to turn
// old history into a lesson, and what a failure costs. Apart from
// proposer.go because the backoff is a small type of its own.

import (
	"context"
	"log/slog"
)

// Condenser turns old history into lessons so long runs keep fitting the
// prompt (the LLM proposer implements it).
type Condenser interface {
	NextLesson(ctx context.Context, run Run, history []Experiment, lessons []Lesson) (Lesson, Usage, bool, error)
}

// condense stores a new lesson when the proposer can make one and the
// history asks for it. Failures only cost the lesson: the prompt builder
// still fits the budget by aggregating. A failure is still counted in the
// token and cost figures, backs off (condenseBackoff) instead of being
// retried before every proposal, and is logged at Warn once per streak of
// failures. Only a condensing proposer gets (a copy of) the whole history.
func (s *session) condense(ctx context.Context, run Run) {
	c, ok := s.m.Proposer.(Condenser)
	if !ok {
		return
	}
	n := s.hist.Len()
	if !s.condenseRetry.due(n) {
		return
	}
	history := s.hist.Snapshot()
	lessons, err := s.m.Store.Lessons(ctx, run.ID)
	if err != nil {
		return
	}
	lesson, usage, made, err := c.NextLesson(ctx, run, history, lessons)
	s.recordUsage(run, "condense", 0, usage, err != nil)
	log := s.m.logger()
	if err != nil {
		if ctx.Err() != nil {
			return // stopped, not failed
		}
		wait := s.condenseRetry.failed(n)
		level := slog.LevelDebug
		msg := "condensing old experiments into a lesson failed again"
		if s.condenseRetry.failures == 1 {
			level = slog.LevelWarn
			msg = "condensing old experiments into a lesson failed; retrying as the history grows (further failures are logged at debug level)"
		}
		log.Log(context.Background(), level, msg, "err", err,
			"failures_in_a_row", s.condenseRetry.failures, "retry_after_experiments", wait)
		return
	}
	if failures := s.condenseRetry.succeeded(); failures > 0 {
		log.Info("condensing old experiments works again", "after_failures", failures, "lesson_made", made)
	}
	if made {
		if _, err := s.m.Store.AddLesson(ctx, lesson); err != nil {
			log.Warn("storing a lesson", "err", err)
		}
	}
}

// A failed condensation backs off in experiments, not in time: the history
// grows by one experiment per proposal, so asking again before the next
// proposal sends nearly the same large request for the same answer (a model
// that replies with a tool call instead of text keeps doing so). The wait
// doubles with each failure in a row, up to a cap, so a model or an
// endpoint that recovers is used again within a bounded number of
// experiments.
const (
	// condenseRetryFirst is how many more experiments the history must
	// hold before the first retry.
	condenseRetryFirst = 1
	// condenseRetryMax caps the wait (a few hours of 5-minute experiments).
	condenseRetryMax = 64
)

// condenseBackoff decides when a run's condensation is tried again after
// failures. The zero value is due at once. Only a session's proposer
// goroutine uses it, so it holds no lock.
type condenseBackoff struct {
	failures int // failures in a row
	retryAt  int // history length from which to try again
}

// due reports whether a condensation may be tried with a history of n
// experiments.
func (b *condenseBackoff) due(n int) bool {
	return b.failures == 0 || n >= b.retryAt
}

// failed records a failure with a history of n experiments and returns how
// many more experiments the next try waits for.
func (b *condenseBackoff) failed(n int) (wait int) {
	b.failures++
	wait = condenseRetryFirst
	for i := 1; i < b.failures && wait < condenseRetryMax; i++ {
		wait *= 2
	}
	wait = min(wait, condenseRetryMax)
	b.retryAt = n + wait
	return wait
}

// succeeded ends a streak of failures and returns how long it was (0: there
// was none).
func (b *condenseBackoff) succeeded() (failures int) {
	failures = b.failures
	*b = condenseBackoff{}
	return failures
}
