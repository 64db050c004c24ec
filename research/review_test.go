package research_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// scriptedReviewer answers reviews in order: "approve", "reject:NOTE", or
// "wait" (no answer until the loop's timeout).
type scriptedReviewer struct {
	mu      sync.Mutex
	answers []string
	reqs    []research.ReviewRequest
}

func (r *scriptedReviewer) Review(ctx context.Context, req research.ReviewRequest) (research.ReviewDecision, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	a := "approve"
	if len(r.answers) > 0 {
		a, r.answers = r.answers[0], r.answers[1:]
	}
	r.mu.Unlock()
	switch {
	case a == "wait":
		<-ctx.Done()
		return research.ReviewDecision{}, ctx.Err()
	case strings.HasPrefix(a, "reject:"):
		return research.ReviewDecision{By: "UALICE", Note: strings.TrimPrefix(a, "reject:")}, nil
	}
	return research.ReviewDecision{Approved: true, By: "UALICE"}, nil
}

func TestReviewGateTrainsOnlyWhatPeopleApprove(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	rev := &scriptedReviewer{answers: []string{"reject:too risky", "wait", "approve"}}
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, Review: true, ReviewTimeout: 300 * time.Millisecond, ReviewDefault: research.ReviewSkip},
		setConst(t, "VAL", "1.900000", "risky"),
		setConst(t, "VAL", "1.800000", "unreviewed"),
		setConst(t, "VAL", "1.400000", "approved"),
	)
	h.m.Reviewer = rev
	run := h.runToEnd(t, research.StartRequest{Tag: "review"})
	exps := h.experiments(t, run)
	if len(exps) != 2 || exps[1].Description != "approved" || exps[1].Status != research.StatusKeep {
		t.Fatalf("experiments = %v; want the baseline and the approved change only", exps)
	}
	if len(rev.reqs) != 3 || rev.reqs[0].Description != "risky" || !strings.Contains(rev.reqs[0].Diff, "+VAL = 1.900000") {
		t.Fatalf("review requests = %+v", rev.reqs)
	}
	if rev.reqs[1].Deadline.IsZero() || rev.reqs[1].OnTimeout != research.ReviewSkip {
		t.Errorf("a review with a timeout does not say when and what happens: %+v", rev.reqs[1])
	}
	reqs := h.prop.requests()
	if !strings.Contains(reqs[1].Feedback, "rejected by a reviewer: too risky") || !strings.Contains(reqs[2].Feedback, "skipped: nobody reviewed it in time") {
		t.Errorf("feedback to the model: %q then %q", reqs[1].Feedback, reqs[2].Feedback)
	}
}

func TestReviewGateNeedsAReviewerAndCanBeSwitched(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, setConst(t, "VAL", "1.400000", "unreviewed"))
	if err := h.m.SetReview(context.Background(), true, "UALICE"); err == nil {
		t.Fatal("the gate turned on with nobody to ask")
	}
	rev := &scriptedReviewer{}
	h.m.Reviewer = rev
	if err := h.m.SetReview(context.Background(), true, "UALICE"); err != nil || !h.m.Reviewing() {
		t.Fatalf("SetReview(true) = %v, reviewing %v", err, h.m.Reviewing())
	}
	if err := h.m.SetReview(context.Background(), false, "UALICE"); err != nil || h.m.Reviewing() {
		t.Fatalf("SetReview(false) = %v, reviewing %v", err, h.m.Reviewing())
	}
	run := h.runToEnd(t, research.StartRequest{Tag: "noreview"})
	if exps := h.experiments(t, run); len(exps) != 2 || len(rev.reqs) != 0 {
		t.Fatalf("with the gate off: %d experiments, %d reviews", len(exps), len(rev.reqs))
	}
}
