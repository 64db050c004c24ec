package research

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/autoresearch/autoresearch/research/patch"
)

// Reviewer lets people approve each proposal before it trains (the review
// gate, --review). Review blocks until someone decides or ctx ends; the
// loop applies Config.ReviewTimeout itself, so a gate nobody watches does
// not leave the GPU idle all night.
type Reviewer interface {
	Review(ctx context.Context, req ReviewRequest) (ReviewDecision, error)
}

// ReviewRequest is a proposal waiting for a decision.
type ReviewRequest struct {
	ID          string // unique per request
	Run         Run
	Number      int // the number it will get if it trains first
	Description string
	Diff        string
	Ideas       []Idea
	Deadline    time.Time // zero: no timeout
	OnTimeout   string    // ReviewApprove or ReviewSkip
}

// ReviewDecision is what people (or the timeout) decided.
type ReviewDecision struct {
	Approved bool
	By       string // who decided; "" when the timeout did
	Note     string // a rejection's reason, told to the model
	TimedOut bool
}

// What an unanswered review becomes (Config.ReviewDefault).
const (
	ReviewApprove = "approve"
	ReviewSkip    = "skip"
)

// reviewSwitch is the gate's on/off state, changed at run time by people.
type reviewSwitch struct{ on atomic.Bool }

// SetReview turns the review gate on or off (by a person); it needs a
// Reviewer. It holds for the process's life; --review sets it at start.
func (m *Manager) SetReview(_ context.Context, on bool, by string) error {
	m.setup()
	if on && m.Reviewer == nil {
		return &InputError{Msg: "the review gate needs a front end that can ask people (the Slack bot)"}
	}
	m.review.on.Store(on)
	m.logger().Info("review gate switched", "on", on, "by", by)
	return nil
}

// Reviewing tells whether proposals wait for a person's approval.
func (m *Manager) Reviewing() bool { return m.Reviewer != nil && m.review.on.Load() }

var reviewSeq atomic.Int64

// review asks people about c; false drops it (rejected, skipped at the
// timeout, or the run is stopping). A rejection's reason is told to the
// model with the next proposal.
func (s *session) review(c *candidate, number int) bool {
	m := s.m
	run := s.snapshotRun()
	req := ReviewRequest{
		ID:  fmt.Sprintf("%d-%d-%d", run.ID, number, reviewSeq.Add(1)),
		Run: run, Number: number, Description: c.description, Diff: s.candidateDiff(c),
		Ideas: c.ideas, OnTimeout: m.Config.ReviewDefault,
	}
	ctx := s.ctx
	if m.Config.ReviewTimeout > 0 {
		req.Deadline = m.now().Add(m.Config.ReviewTimeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.Config.ReviewTimeout)
		defer cancel()
	}
	d, err := m.Reviewer.Review(ctx, req)
	switch {
	case err == nil:
	case s.ctx.Err() != nil:
		return false // stopping
	case errors.Is(err, context.DeadlineExceeded):
		d = ReviewDecision{Approved: m.Config.ReviewDefault == ReviewApprove, TimedOut: true}
	default:
		// The gate could not ask anyone: better the configured default
		// than a night without experiments.
		m.logger().Error("review gate failed; applying its default", "err", err, "default", m.Config.ReviewDefault)
		d = ReviewDecision{Approved: m.Config.ReviewDefault == ReviewApprove, TimedOut: true}
	}
	if d.Approved {
		return true
	}
	s.releaseIdeas(c.ideas)
	why := "skipped: nobody reviewed it in time"
	if !d.TimedOut {
		why = "rejected by a reviewer"
		if d.Note != "" {
			why += ": " + d.Note
		}
	}
	s.mu.Lock()
	s.reviewFeedback = fmt.Sprintf("Your last proposal (%s) was not trained, %s. Propose something else.", c.description, why)
	s.mu.Unlock()
	return false
}

// candidateDiff is c's change against the commit it was written on.
func (s *session) candidateDiff(c *candidate) string {
	paths := make([]string, 0, len(c.files))
	for p := range c.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := ""
	for _, p := range paths {
		old, _ := s.m.Repo.FileAt(c.base, p)
		out += patch.Diff(p, string(old), c.files[p], 3).String()
	}
	return out
}

// takeReviewFeedback returns (once) what a review said about the last proposal.
func (s *session) takeReviewFeedback() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.reviewFeedback
	s.reviewFeedback = ""
	return f
}
