package research

import (
	"strings"
	"testing"
)

// TestQueueHandsOutBaselinesFirstThenWaitsForTheBaseline: the baseline and
// its repeats go first, in order; a slot that finds nothing queued waits
// while baseline runs train elsewhere and the baseline has no result, and
// asks the proposer otherwise.
func TestQueueHandsOutBaselinesFirstThenWaitsForTheBaseline(t *testing.T) {
	t.Parallel()
	var q queue
	q.pushBaselines("abc", 0, 2)
	var got []string
	for {
		c, wait := q.next(false)
		if c == nil {
			if !wait {
				t.Fatal("nothing queued and baselines untrained: the slot must wait, not ask the proposer")
			}
			break
		}
		if !c.kind.IsBaseline() || c.commit != "abc" {
			t.Errorf("handed %+v, want a baseline run of abc", c)
		}
		got = append(got, string(c.kind)+": "+c.description)
	}
	if strings.Join(got, " | ") != "baseline: baseline | baseline_repeat: baseline (repeat 1/2) | baseline_repeat: baseline (repeat 2/2)" {
		t.Errorf("handed %q", got)
	}
	if c, wait := q.next(true); c != nil || wait {
		t.Errorf("with a baseline result a free slot asks the proposer; got %v, wait %v", c, wait)
	}
	for i, want := range []bool{false, false, true} {
		if last := q.baselineJudged(); last != want || q.baselinesDone() != want {
			t.Errorf("baseline run %d judged: last %v, done %v; want %v", i+1, last, q.baselinesDone(), want)
		}
	}
	if c, wait := q.next(false); c != nil || wait {
		t.Errorf("every baseline run judged (all crashed): nothing to wait for; got %v, wait %v", c, wait)
	}
}

// TestQueueAfterARestartRunsTheMissingRepeats: a restart after the
// baseline and one repeat queues only the second repeat.
func TestQueueAfterARestartRunsTheMissingRepeats(t *testing.T) {
	t.Parallel()
	var q queue
	q.pushBaselines("abc", 2, 2)
	c, _ := q.next(true)
	if c == nil || c.repeat != 2 || c.description != "baseline (repeat 2/2)" {
		t.Fatalf("handed %+v, want the second repeat", c)
	}
	if q.baselinesDone() {
		t.Error("the repeat is not judged yet")
	}
	var none queue
	none.pushBaselines("abc", 3, 2)
	if c, _ := none.next(false); c != nil || !none.baselinesDone() {
		t.Errorf("every baseline run done before the restart: handed %+v", c)
	}
}

// TestQueueKeepsConfirmationsAndRetriesInOrder: what the judge and people
// queue goes first in first out, ahead of the proposer.
func TestQueueKeepsConfirmationsAndRetriesInOrder(t *testing.T) {
	t.Parallel()
	var q queue
	confirm := &candidate{kind: KindConfirmation, description: "confirm #4"}
	retry := &candidate{kind: KindRetry, description: "retry #2"}
	lacking := &candidate{kind: KindRetry, description: "retry of the improvement"}
	q.push(confirm)
	q.push(retry, lacking)
	for _, want := range []*candidate{confirm, retry, lacking} {
		if c, wait := q.next(true); c != want || wait {
			t.Fatalf("handed %+v (wait %v), want %s", c, wait, want.description)
		}
	}
}

// TestQueueCountsWhatStartsBeforeTheNextProposal: the number a proposal
// announces counts the proposals handed to slots and the queued work.
func TestQueueCountsWhatStartsBeforeTheNextProposal(t *testing.T) {
	t.Parallel()
	var q queue
	q.push(&candidate{kind: KindConfirmation})
	q.handOff()
	q.handOff()
	if q.ahead() != 3 || q.inHand() != 2 {
		t.Errorf("ahead %d, in hand %d; want 3, 2", q.ahead(), q.inHand())
	}
	q.taken()
	q.taken()
	q.taken() // a proposal handed before a restart of the count: never below zero
	if q.inHand() != 0 || q.ahead() != 1 {
		t.Errorf("after taking: in hand %d, ahead %d", q.inHand(), q.ahead())
	}
}

// TestQueuePending: an experiment can start without the proposer while one
// is handed to a slot, or one is queued and some slot does not wait for
// the proposer (sequential slots that asked for a change take nothing else).
func TestQueuePending(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                     string
		queued, handed, awaiting int
		slots                    int
		want                     bool
	}{
		{"nothing", 0, 0, 0, 2, false},
		{"a proposal handed to a slot", 0, 1, 2, 2, true},
		{"queued, a slot is free", 1, 0, 1, 2, true},
		{"queued, every slot awaits the proposer", 1, 0, 2, 2, false},
	} {
		var q queue
		for range tc.queued {
			q.push(&candidate{kind: KindRetry})
		}
		for range tc.handed {
			q.handOff()
		}
		for range tc.awaiting {
			q.await()
		}
		if got := q.pending(tc.slots); got != tc.want {
			t.Errorf("%s: pending = %v, want %v", tc.name, got, tc.want)
		}
		for range tc.awaiting {
			q.arrived()
		}
		if tc.queued > 0 && !q.pending(tc.slots) {
			t.Errorf("%s: once the proposals arrived, the queued work is pending", tc.name)
		}
	}
}
