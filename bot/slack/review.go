package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// The review gate in Slack: each proposal is posted with its diff and
// Approve / Reject / Edit idea buttons; the loop waits for the answer
// (research.Reviewer) or its own timeout.
const (
	actionApprove    = "review_approve" // value: the review ID
	actionReject     = "review_reject"
	actionEditIdea   = "review_edit"
	reviewCallbackID = "review_idea"
	// reviewDiffLines is how much of the diff the review message shows; the
	// whole diff is in its thread when longer.
	reviewDiffLines = 40
)

// pendingReview is a proposal waiting for a person.
type pendingReview struct {
	req    research.ReviewRequest
	answer chan research.ReviewDecision
}

// reviewTimeoutNote says what happens to an unanswered proposal.
func (s *Bot) reviewTimeoutNote() string {
	if s.cfg.ReviewTimeout <= 0 {
		return ""
	}
	what := "approved"
	if s.cfg.ReviewDefault == research.ReviewSkip {
		what = "skipped"
	}
	return fmt.Sprintf(" (%s automatically after %s without an answer)", what, render.FormatDuration(s.cfg.ReviewTimeout))
}

// Review implements research.Reviewer.
func (s *Bot) Review(ctx context.Context, req research.ReviewRequest) (research.ReviewDecision, error) {
	p := &pendingReview{req: req, answer: make(chan research.ReviewDecision, 1)}
	s.mu.Lock()
	if s.reviews == nil {
		s.reviews = map[string]*pendingReview{}
	}
	s.reviews[req.ID] = p
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.reviews, req.ID)
		s.mu.Unlock()
	}()

	key := "review:" + req.ID
	text, bs := reviewMessage(req, true)
	if err := s.enqueue(ctx, kindPost, key, "", outPayload{Text: text, Blocks: blocksJSON(bs...)}); err != nil {
		return research.ReviewDecision{}, err
	}
	if strings.Count(req.Diff, "\n") > reviewDiffLines {
		s.replyLong(ctx, key, fmt.Sprintf("Full diff of the proposal for #%d", req.Number), req.Diff, fmt.Sprintf("proposal-%d.diff", req.Number))
	}
	select {
	case d := <-p.answer:
		return d, nil
	case <-ctx.Done():
		outcome := "⏹️ Not trained: the run stopped."
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			outcome = "⏱️ Nobody answered in time: skipped."
			if req.OnTimeout == research.ReviewApprove {
				outcome = "⏱️ Nobody answered in time: approved, it trains."
			}
		}
		s.closeReview(context.WithoutCancel(ctx), req, outcome)
		return research.ReviewDecision{}, ctx.Err()
	}
}

// closeReview replaces the review's buttons with its outcome.
func (s *Bot) closeReview(ctx context.Context, req research.ReviewRequest, outcome string) {
	text, bs := reviewMessage(req, false)
	text += " — " + outcome
	bs = append(bs, contextBlock(outcome))
	_ = s.enqueue(ctx, kindUpdate, "", "review:"+req.ID, outPayload{Text: text, Blocks: blocksJSON(bs...)})
}

// reviewMessage shows a proposal: what it changes, its ideas, its diff and,
// while it waits, the buttons.
func reviewMessage(req research.ReviewRequest, open bool) (string, []slackBlock) {
	title := fmt.Sprintf("🔎 *Review* #%d %s", req.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(req.Description), 200)))
	bs := []slackBlock{sectionBlock(title)}
	if d := diffSection(req.Diff, reviewDiffLines, " (the whole diff is in the thread)"); d != nil {
		bs = append(bs, d)
	}
	for i, idea := range req.Ideas {
		if i == ideaLinesShown {
			break
		}
		bs = append(bs, contextBlock(fmt.Sprintf("💡 idea from %s: %s", mention(idea.Author), mrkdwn.Escape(textclip.Bytes(research.OneLine(idea.Text), 300)))))
	}
	if open {
		note := "Waits for an answer"
		if !req.Deadline.IsZero() {
			what := "approved"
			if req.OnTimeout == research.ReviewSkip {
				what = "skipped"
			}
			note = fmt.Sprintf("Without an answer it is %s at %s", what, req.Deadline.UTC().Format("15:04 UTC"))
		}
		bs = append(bs, contextBlock(note+"."), actionsBlock("review_"+req.ID,
			button("Approve", actionApprove, req.ID, "primary"),
			button("Reject", actionReject, req.ID, "danger"),
			button("Edit idea", actionEditIdea, req.ID, "")))
	}
	text := fmt.Sprintf("Review #%d: %s", req.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(req.Description), 200)))
	return text, bs
}

// decideReview answers a pending review; false when it is no longer pending.
func (s *Bot) decideReview(ctx context.Context, id string, d research.ReviewDecision, outcome string) bool {
	s.mu.Lock()
	p := s.reviews[id]
	delete(s.reviews, id)
	s.mu.Unlock()
	if p == nil {
		return false
	}
	p.answer <- d
	s.closeReview(ctx, p.req, outcome)
	return true
}

// reviewAction handles Approve, Reject and Edit idea.
func (s *Bot) reviewAction(ctx context.Context, p actionPayload, id, reviewID string) error {
	if err := s.steer(p, "review proposals"); err != nil {
		return err
	}
	user := p.User.ID
	switch id {
	case actionApprove:
		if !s.decideReview(ctx, reviewID, research.ReviewDecision{Approved: true, By: user}, "✅ Approved by "+mention(user)+": it trains.") {
			s.tell(ctx, p, "That proposal was already decided.")
		}
	case actionReject:
		if !s.decideReview(ctx, reviewID, research.ReviewDecision{By: user}, "❌ Rejected by "+mention(user)+": not trained.") {
			s.tell(ctx, p, "That proposal was already decided.")
		}
	case actionEditIdea:
		s.mu.Lock()
		pr := s.reviews[reviewID]
		s.mu.Unlock()
		if pr == nil {
			s.tell(ctx, p, "That proposal was already decided.")
			return nil
		}
		return s.api.OpenView(ctx, p.TriggerID, reviewIdeaView(reviewID, pr.req))
	}
	return nil
}

// reviewIdeaView is *Edit idea*: the proposal's idea in a field; saving
// rejects the proposal and pins the edited idea for the next one.
func reviewIdeaView(reviewID string, req research.ReviewRequest) json.RawMessage {
	initial := req.Description
	if len(req.Ideas) > 0 {
		initial = req.Ideas[0].Text
	}
	view := map[string]any{
		"type": "modal", "callback_id": reviewCallbackID, "private_metadata": reviewID,
		"title":  map[string]any{"type": "plain_text", "text": fmt.Sprintf("Edit the idea of #%d", req.Number)},
		"submit": map[string]any{"type": "plain_text", "text": "Reject and pin"},
		"close":  map[string]any{"type": "plain_text", "text": "Cancel"},
		"blocks": []any{map[string]any{
			"type": "input", "block_id": pinIdeaBlock,
			"label": map[string]any{"type": "plain_text", "text": "The idea the next proposal should try instead"},
			"element": map[string]any{"type": "plain_text_input", "action_id": pinIdeaAction, "multiline": true,
				"max_length": ideaMaxChars, "initial_value": textclip.Bytes(initial, ideaMaxChars)},
		}},
	}
	raw, _ := json.Marshal(view)
	return raw
}

// reviewIdeaSubmitted rejects the proposal and pins the edited idea.
func (s *Bot) reviewIdeaSubmitted(ctx context.Context, p actionPayload) json.RawMessage {
	if err := s.auth.maySteer(p.User.ID, "review proposals"); err != nil {
		return viewErrors(map[string]string{pinIdeaBlock: err.Error()})
	}
	text := strings.TrimSpace(p.View.State.Values[pinIdeaBlock][pinIdeaAction].Value)
	if text == "" {
		return viewErrors(map[string]string{pinIdeaBlock: "Write the idea, or cancel."})
	}
	if utf8.RuneCountInString(text) > ideaMaxChars {
		return viewErrors(map[string]string{pinIdeaBlock: fmt.Sprintf("An idea is at most %d characters.", ideaMaxChars)})
	}
	s.mu.Lock()
	pending := s.reviews[p.View.PrivateMetadata] != nil
	s.mu.Unlock()
	if !pending {
		return viewErrors(map[string]string{pinIdeaBlock: "That proposal was already decided; pin the idea with the idea command instead."})
	}
	idea, err := s.pinIdea(ctx, p.User.ID, text, research.Idea{Source: "review"})
	var bug *research.PanicError
	switch {
	case errors.As(err, &bug):
		return viewErrors(map[string]string{pinIdeaBlock: bugText(bug) + " The idea was not pinned."})
	case err != nil:
		return viewErrors(map[string]string{pinIdeaBlock: "Not pinned: " + err.Error()})
	}
	s.decideReview(ctx, p.View.PrivateMetadata, research.ReviewDecision{By: p.User.ID,
		Note: "a reviewer pinned a revised idea instead: " + text},
		fmt.Sprintf("✏️ Rejected by %s, who pinned a revised idea [%d]: %s", mention(p.User.ID), idea.ID, mrkdwn.Escape(textclip.Bytes(research.OneLine(text), 300))))
	return nil
}
