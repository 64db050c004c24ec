package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// startReview asks the bot to review a proposal, as the loop does, and
// returns where its decision arrives.
func startReview(t *testing.T, h *actionHarness, ctx context.Context, id string) (<-chan research.ReviewDecision, <-chan error) {
	t.Helper()
	dec, errc := make(chan research.ReviewDecision, 1), make(chan error, 1)
	req := research.ReviewRequest{ID: id, Run: research.Run{ID: 7, Tag: "mar20"}, Number: 5, Description: "use <rotary> embeddings",
		Diff:     "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-ROPE = False\n+ROPE = True\n",
		Ideas:    []research.Idea{{ID: 2, Text: "rotary helps", Author: "UCAROL"}},
		Deadline: time.Date(2026, 3, 20, 3, 12, 0, 0, time.UTC), OnTimeout: research.ReviewApprove}
	go func() {
		d, err := h.s.Review(ctx, req)
		dec <- d
		errc <- err
	}()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		deliver(t, h.s)
		for _, c := range h.f.CallsTo("chat.postMessage") {
			if strings.Contains(c.Form.Get("text"), "Review #5") {
				return dec, errc
			}
		}
		time.Sleep(5 * time.Millisecond) // the review goroutine queues its post
	}
	t.Fatal("the review was never posted")
	return nil, nil
}

func TestReviewButtonsDecideOnceAndOnlyForAdmins(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	dec, errc := startReview(t, h, context.Background(), "7-5-1")
	post := h.f.CallsTo("chat.postMessage")[0]
	blocks := blockText(t, post.Form.Get("blocks"))
	for _, want := range []string{"Review* #5 use &lt;rotary&gt; embeddings", "+ROPE = True", "idea from <@UCAROL>", "approved at 03:12 UTC", "Approve", "Reject", "Edit idea"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("review message lacks %q:\n%s", want, blocks)
		}
	}
	h.press("UBOB", actionApprove, "7-5-1")
	if e := h.ephemerals("UBOB"); len(e) != 1 || !strings.Contains(e[0], "only the run's admins") {
		t.Fatalf("a non-admin's approval answered %q", e)
	}
	select {
	case d := <-dec:
		t.Fatalf("a non-admin decided: %+v", d)
	default:
	}
	h.press("UALICE", actionReject, "7-5-1")
	if d, err := <-dec, <-errc; err != nil || d.Approved || d.By != "UALICE" {
		t.Fatalf("decision = %+v, %v; want rejected by UALICE", d, err)
	}
	h.press("UALICE", actionApprove, "7-5-1")
	if e := h.ephemerals("UALICE"); len(e) != 1 || !strings.Contains(e[0], "already decided") {
		t.Errorf("a second press answered %q", e)
	}
	ups := h.f.CallsTo("chat.update")
	if len(ups) != 1 || !strings.Contains(ups[0].Form.Get("text"), "Rejected by <@UALICE>") || strings.Contains(ups[0].Form.Get("blocks"), "review_approve") {
		t.Errorf("the review message was not closed with its outcome: %v", ups)
	}
}

func TestReviewEditIdeaRejectsAndPinsTheRevisedIdea(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	dec, _ := startReview(t, h, context.Background(), "7-5-2")
	h.press("UALICE", actionEditIdea, "7-5-2")
	opens := h.f.CallsTo("views.open")
	if len(opens) != 1 || !strings.Contains(string(opens[0].Body), "rotary helps") {
		t.Fatalf("the editor did not open on the proposal's idea: %v", opens)
	}
	body := h.interact(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UALICE"},
		"view": map[string]any{"callback_id": reviewCallbackID, "private_metadata": "7-5-2",
			"state": map[string]any{"values": map[string]any{pinIdeaBlock: map[string]any{pinIdeaAction: map[string]any{"value": "rotary, but only in the last 4 layers"}}}}}})
	if body != "" {
		t.Fatalf("the submission answered %q, want the modal closed", body)
	}
	d := <-dec
	if d.Approved || !strings.Contains(d.Note, "rotary, but only in the last 4 layers") {
		t.Errorf("decision = %+v", d)
	}
	if len(h.ctrl.ideas) != 1 || h.ctrl.ideas[0].Author != "UALICE" || h.ctrl.ideas[0].Source != "review" {
		t.Errorf("ideas = %+v", h.ctrl.ideas)
	}
}

func TestAnUnansweredReviewSaysWhatTheTimeoutDid(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, errc := startReview(t, h, ctx, "7-5-3")
	if err := <-errc; err == nil {
		t.Fatal("an unanswered review returned no error")
	}
	deliver(t, h.s)
	ups := h.f.CallsTo("chat.update")
	if len(ups) != 1 || !strings.Contains(ups[0].Form.Get("text"), "Nobody answered in time: approved") {
		t.Errorf("update = %v", ups)
	}
	var v any
	if err := json.Unmarshal([]byte(ups[0].Form.Get("blocks")), &v); err != nil || strings.Contains(ups[0].Form.Get("blocks"), "review_approve") {
		t.Errorf("the closed review still has buttons (%v)", err)
	}
}
