package research

import "fmt"

// awaitNewMaterial is what a proposer that ran dry does before the run
// pauses: while experiments are still training, handed to a slot or queued
// (confirmations, retries), their results may move the best and give the
// proposer something new to work on, so it waits for them. true: the best
// moved (propose again) or the run is stopping; false: nothing can go on,
// pause. The best moves when its commit changes, or when its value does
// with the same commit (the baseline's first result, a mean of repeats).
func (s *session) awaitNewMaterial(base Run, cause error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proposing = 0 // nothing is being prepared while it waits
	told := false
	moved := func() bool {
		return s.run.BestCommit != base.BestCommit || s.run.BestValBPB != base.BestValBPB
	}
	for s.pending() && !moved() && !s.stopAfter {
		if !told {
			told = true
			n := s.inFlight + s.queue.ahead()
			run := s.run
			// emit outside the lock: observers may call back in.
			s.mu.Unlock()
			s.m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf(
				"the proposer has nothing left to try (%v); waiting for the %d experiment(s) still in flight before deciding to pause", cause, n)})
			s.mu.Lock()
			continue
		}
		s.cond.Wait()
	}
	return s.stopAfter || moved()
}

// pending tells whether an experiment can still finish without the
// proposer: one training, one handed to a slot, or a queued one that a slot
// not waiting for the proposer will take. s.mu is held.
func (s *session) pending() bool {
	return s.inFlight > 0 || s.queue.pending(len(s.slots))
}
