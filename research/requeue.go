package research

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// reasonRerun is in the reason of every experiment the judge sends to a
// confirmation rerun (decide.go); a restart finds the reruns it still owes
// by it.
const reasonRerun = "rerunning to confirm"

// requeueConfirmations queues again the confirmation reruns the run still
// owes: an experiment the judge sent to a rerun whose rerun never gave a
// result (none was started, or it was interrupted or stopped), because the
// process ended (kill, restart, a stop, --max-experiments) between the two.
// A gain that needs its rerun must not be lost with the process that
// queued it. Callers own s alone (session start).
func (s *session) requeueConfirmations(ctx context.Context) error {
	owed := map[string]int{} // commit -> number of the experiment to confirm
	_ = s.hist.withRows(func(rows []Experiment) error {
		for _, e := range rows {
			switch {
			case e.Kind == KindConfirmation && !confirmationUnfinished(e):
				delete(owed, e.Commit)
			case e.Kind != KindConfirmation && e.Status == StatusDiscard && strings.Contains(e.Reason, reasonRerun) && e.Commit != "":
				owed[e.Commit] = e.Number
			}
		}
		return nil
	})
	numbers := make([]int, 0, len(owed))
	for _, n := range owed {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	for _, n := range numbers {
		// The whole row: the confirmation carries its first run's diff and
		// value, which the history's lean rows leave out.
		e, err := s.m.Store.ExperimentByNumber(ctx, s.run.ID, n)
		if err != nil {
			return fmt.Errorf("reading #%d, whose confirmation rerun is owed: %w", n, err)
		}
		s.queue.push(confirmationOf(e, strings.HasPrefix(e.Reason, ReasonImplausible)))
		s.m.logger().Info("queued again the confirmation rerun a previous process owed", "number", n)
	}
	return nil
}

// confirmationUnfinished: a confirmation run that ended without a result.
// One still running at a session's start is followed again (a SLURM job
// reattached: recovery marks the others interrupted), so it is owed nothing.
func confirmationUnfinished(e Experiment) bool {
	return e.Status == StatusCrash && (e.Reason == ReasonStopped || e.Reason == ReasonInterrupted)
}
