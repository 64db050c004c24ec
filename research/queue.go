package research

import "fmt"

// queue is the hand-out of work to the slots: what trains before the
// proposer's next change (the baseline runs, confirmations, retries, first
// in first out) and the count of what is on its way from the proposer to a
// slot. It holds no lock and waits for nothing: the session guards it with
// its mu, and its goroutines do the waiting (handout.go).
type queue struct {
	items []*candidate
	// baselines counts the baseline runs (repeats included) queued or
	// training that are not judged yet.
	baselines int
	// handed counts the proposals handed to a slot that has not started
	// them yet; awaiting, the slots (sequential mode) that asked the
	// proposer for a change and take nothing else until it comes.
	handed   int
	awaiting int
}

// push queues cs after what is queued.
func (q *queue) push(cs ...*candidate) { q.items = append(q.items, cs...) }

// pushBaselines queues the baseline runs of commit from repeat from (0: the
// baseline itself) to repeats.
func (q *queue) pushBaselines(commit string, from, repeats int) {
	for r := from; r <= repeats; r++ {
		kind := KindBaseline
		if r > 0 {
			kind = KindBaselineRepeat
		}
		q.push(&candidate{kind: kind, commit: commit, repeat: r, description: baselineDescription(r, repeats)})
		q.baselines++
	}
}

func baselineDescription(repeat, of int) string {
	if repeat == 0 {
		return "baseline"
	}
	return fmt.Sprintf("baseline (repeat %d/%d)", repeat, of)
}

// next is what a free slot does now: train c, the first queued candidate;
// or, with nothing queued, wait (baseline runs are training elsewhere and
// the baseline has no result yet: haveBest is false) or ask the proposer
// (c nil, wait false).
func (q *queue) next(haveBest bool) (c *candidate, wait bool) {
	if len(q.items) > 0 {
		c, q.items = q.items[0], q.items[1:]
		return c, false
	}
	return nil, q.baselines > 0 && !haveBest
}

// baselineJudged counts the end of a baseline run; true when no other is
// left to judge.
func (q *queue) baselineJudged() (last bool) {
	q.baselines--
	return q.baselines == 0
}

// baselinesDone tells whether every baseline run queued was judged.
func (q *queue) baselinesDone() bool { return q.baselines == 0 }

// handOff counts a proposal on its way to a slot (before it is sent, so
// that taken never comes first); taken counts its arrival.
func (q *queue) handOff() { q.handed++ }

func (q *queue) taken() {
	if q.handed > 0 {
		q.handed--
	}
}

// inHand is the number of proposals handed to slots and not started.
func (q *queue) inHand() int { return q.handed }

// await and arrived bracket a slot's wait for the proposal it asked for.
func (q *queue) await()   { q.awaiting++ }
func (q *queue) arrived() { q.awaiting-- }

// ahead is how many experiments start before a proposal made now: those
// handed to a slot and those queued.
func (q *queue) ahead() int { return q.handed + len(q.items) }

// pending tells whether an experiment can start without the proposer's
// help: one handed to a slot, or a queued one that one of the slots (of
// slots in all) not waiting for the proposer will take.
func (q *queue) pending(slots int) bool {
	return q.handed > 0 || len(q.items) > 0 && q.awaiting < slots
}
