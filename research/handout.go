package research

// The session's side of the hand-out (queue.go): a slot takes the queued
// candidates first, then the proposer's changes, and counts every
// experiment against --max-experiments before it starts.

// next returns the next candidate: baselines, confirmations and retries
// first, then the proposer's changes. nil means stop.
func (s *session) next() *candidate {
	s.mu.Lock()
	for {
		if s.stopAfter {
			s.mu.Unlock()
			return nil
		}
		c, wait := s.queue.next(s.run.BestValBPB > 0)
		if c != nil {
			s.mu.Unlock()
			return c
		}
		if !wait {
			break
		}
		// Baseline runs are in flight on other slots: wait for them.
		s.cond.Wait()
	}
	s.mu.Unlock()
	if !s.m.Config.Pipeline {
		// Strictly one after the other: ask for a proposal and wait for it,
		// so the proposer never works while this slot trains.
		select {
		case s.demand <- struct{}{}:
		case <-s.halt:
			return nil
		}
		s.mu.Lock()
		s.queue.await()
		s.cond.Broadcast() // a proposer waiting for outcomes counts this slot out
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.queue.arrived()
			s.mu.Unlock()
		}()
		select {
		case c := <-s.ready:
			c.handed = true
			return c
		case <-s.halt:
			return nil
		}
	}
	select {
	case c := <-s.ready:
		c.handed = true
		return c
	case <-s.halt:
		return nil
	case <-s.kick:
		return s.next() // a retry or confirmation arrived meanwhile
	}
}

// taken notes that a slot took the proposal handed to it, so the next
// proposal announces the right experiment number.
func (s *session) taken() {
	s.mu.Lock()
	s.queue.taken()
	s.cond.Broadcast() // the proposer may wait for room
	s.mu.Unlock()
}

// maxReached tells whether --max-experiments are started or done, so no
// slot asks the proposer for a change that would never train.
func (s *session) maxReached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	max := s.m.Config.MaxExperiments
	return max > 0 && s.started >= max
}

// reserve counts an experiment against --max-experiments before it starts.
func (s *session) reserve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if max := s.m.Config.MaxExperiments; max > 0 && s.started >= max {
		return false
	}
	s.started++
	s.inFlight++
	s.phase = PhaseTraining
	return true
}

func (s *session) unreserve() {
	s.mu.Lock()
	s.started--
	s.inFlight--
	s.cond.Broadcast()
	s.mu.Unlock()
}

// enqueue adds a candidate that goes before the proposer's next change.
func (s *session) enqueue(c *candidate) {
	s.mu.Lock()
	s.queue.push(c)
	s.cond.Broadcast()
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
