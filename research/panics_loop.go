package research

import (
	"context"
	"fmt"
)

// What the loop does after one of its goroutines recovered from a panic.

// pauseForBug pauses the run with the panic as the reason: it waits for a
// person, who resumes it once they know the cause (the stack is logged).
func (s *session) pauseForBug(p error) {
	if s.stopping() {
		return
	}
	reason := fmt.Sprintf("paused: %v (%s; the stack is in the log); resume to continue", p, BugMessage)
	if err := s.pause(reason); err != nil {
		// Already paused for another reason: still say what happened.
		s.m.emit(Event{Kind: EventNotice, Run: s.snapshotRun(), Text: reason})
	}
}

// bugInExperiment cleans up after a panic while c was committed, trained or
// judged in sl. An experiment stored but not judged becomes a crash with
// the bug as its reason, so the store, results.tsv and the counters agree
// and nothing waits for it; the slot goes back to the best commit. A
// baseline or confirmation that never started is queued again. It returns
// whether an experiment was started.
func (s *session) bugInExperiment(sl *slot, c *candidate, e Experiment, best string, p *PanicError) bool {
	m := s.m
	defer sl.set(nil, nil)
	if e.ID == 0 {
		if err := sl.repo.ResetTo(best); err != nil {
			m.logger().Error("moving back to the best commit after a bug", "err", err)
		}
		if !c.fromProposer() {
			s.enqueue(c)
		}
		return false
	}
	s.mu.Lock()
	judged := c.judged
	if !judged {
		c.judged = true
		s.inFlight--
		if c.kind.IsBaseline() {
			if s.queue.baselineJudged() && s.run.BestValBPB == 0 && !s.stopAfter {
				s.enqueueBaselines() // measured again after the resume
			}
		}
		s.cond.Broadcast()
	}
	run := s.run
	s.mu.Unlock()
	if !judged {
		e.Status, e.Reason, e.FinishedAt = StatusCrash, p.Error(), m.now()
		if err := m.Store.FinishExperiment(context.Background(), e, run); err != nil {
			m.logger().Error("recording the experiment a bug ended", "number", e.Number, "err", err)
		}
		s.hist.Record(e, run.Noise)
		s.writeResults()
		m.emit(Event{Kind: EventExperimentFinished, Run: run, Number: e.Number, Experiment: ptr(e)})
	}
	if err := sl.repo.ResetTo(run.BestCommit); err != nil {
		m.logger().Error("moving back to the best commit after a bug", "err", err)
	}
	return true
}
