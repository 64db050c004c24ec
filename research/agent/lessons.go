package agent

import (
	"context"
	"fmt"
	"sync"

	"github.com/autoresearch/autoresearch/research"
)

// Backoff of failed condensations, counted in experiments: the history only
// changes by one experiment per proposal, so asking again at once would send
// the same large request for the same answer (a model that replies with a
// tool call instead of text keeps doing so).
const (
	// condenseRetryStep is how many more experiments the history must hold
	// before the first retry; each further failure doubles it.
	condenseRetryStep = 5
	// condenseRetryMax caps the wait, so a model that recovers (or an
	// endpoint that comes back) is used again within a night.
	condenseRetryMax = 320
)

// condenseBackoff remembers the failures of one run's condensation.
type condenseBackoff struct {
	mu       sync.Mutex
	runID    int64
	failures int // consecutive failures
	retryAt  int // history length from which to try again
}

// due reports whether a condensation may be tried for a history of n
// experiments of run.
func (b *condenseBackoff) due(runID int64, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.runID != runID {
		b.runID, b.failures, b.retryAt = runID, 0, 0
	}
	return n >= b.retryAt
}

// failed records a failure at history length n and returns how many more
// experiments it waits.
func (b *condenseBackoff) failed(runID int64, n int) (wait, failures int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.runID != runID {
		b.runID, b.failures = runID, 0
	}
	b.failures++
	wait = condenseRetryStep
	for i := 1; i < b.failures && wait < condenseRetryMax; i++ {
		wait *= 2
	}
	wait = min(wait, condenseRetryMax)
	b.retryAt = n + wait
	return wait, b.failures
}

func (b *condenseBackoff) succeeded(runID int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.runID, b.failures, b.retryAt = runID, 0, 0
}

// CondenseError is a failed condensation or consolidation; the next try
// waits until the history has grown by Wait experiments.
type CondenseError struct {
	Failures int // consecutive failures, this one included
	Wait     int // experiments until the next try
	Err      error
}

func (e *CondenseError) Error() string {
	return fmt.Sprintf("%v (failure %d in a row; next try after %d more experiments)", e.Err, e.Failures, e.Wait)
}

func (e *CondenseError) Unwrap() error { return e.Err }

// NextLesson implements research.Condenser on the LLM: when the history no
// longer fits the prompt budget, the oldest uncondensed range becomes a
// lesson; when the lessons themselves outgrow their share, the oldest are
// merged into one. After a failure it makes no call until the history has
// grown by a number of experiments that doubles with each failure in a row;
// the usage of a failed call is still returned, so it is counted.
func (l *LLM) NextLesson(ctx context.Context, run research.Run, history []research.Experiment, lessons []research.Lesson) (research.Lesson, research.Usage, bool, error) {
	n := len(history)
	if !l.condenseBackoff.due(run.ID, n) {
		return research.Lesson{}, research.Usage{}, false, nil
	}
	lesson, u, made, err := l.nextLesson(ctx, run, history, lessons)
	if err != nil {
		if ctx.Err() != nil {
			return lesson, u, false, err // stopped, not failed
		}
		wait, failures := l.condenseBackoff.failed(run.ID, n)
		return lesson, u, false, &CondenseError{Failures: failures, Wait: wait, Err: err}
	}
	if made {
		l.condenseBackoff.succeeded(run.ID)
	}
	return lesson, u, made, nil
}

func (l *LLM) nextLesson(ctx context.Context, run research.Run, history []research.Experiment, lessons []research.Lesson) (research.Lesson, research.Usage, bool, error) {
	budget := HistoryBudget{}
	current := CurrentLessons(lessons)
	if merge, ok := PlanConsolidate(current, budget); ok {
		text, u, err := l.Consolidate(ctx, run.Tag, merge)
		if err != nil {
			return research.Lesson{}, u, false, err
		}
		return research.Lesson{RunID: run.ID, FromNum: merge[0].FromNum, ToNum: merge[len(merge)-1].ToNum, Text: text}, u, true, nil
	}
	from, to, ok := PlanCondense(history, current, budget)
	if !ok {
		return research.Lesson{}, research.Usage{}, false, nil
	}
	text, u, err := l.Condense(ctx, run.Tag, RangeOf(history, from, to), current)
	if err != nil {
		return research.Lesson{}, u, false, err
	}
	return research.Lesson{RunID: run.ID, FromNum: from, ToNum: to, Text: text}, u, true, nil
}
