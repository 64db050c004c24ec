package research

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
