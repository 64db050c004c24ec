package slack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A signed request captured and sent again inside the signature window
// (same body, signature and timestamp) is handled once: one idea pinned.
func TestReplayedSignedRequestHandledOnce(t *testing.T) {
	h := newHTTPHarness(t)
	form := url.Values{"command": {"/autoresearch"}, "text": {"idea try &lt;b&gt; warmup"}, "user_id": {"UBOB"},
		"channel_id": {slackTestChannel}, "response_url": {h.f.URL() + "/respond/x"}, "trigger_id": {"trig"}}
	body := []byte(form.Encode())
	at := h.now.Add(-10 * time.Second)
	for i := range 3 {
		resp, _ := h.do("/slack/commands", "application/x-www-form-urlencoded", body, "secret", at)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	h.s.tasks.Wait()
	var ideas []string
	for _, c := range h.ctrl.called() {
		if strings.HasPrefix(c, "idea ") {
			ideas = append(ideas, c)
		}
	}
	if len(ideas) != 1 {
		t.Fatalf("a replayed request was handled %d times: %v", len(ideas), ideas)
	}
	// Decoded once on the way in: the idea holds what the person typed.
	if ideas[0] != "idea try <b> warmup" {
		t.Errorf("idea text = %q", ideas[0])
	}
	// The same command signed anew (a new timestamp) is a new request.
	h.now = h.now.Add(time.Second)
	if resp, _ := h.do("/slack/commands", "application/x-www-form-urlencoded", body, "secret", h.now); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh request: %d", resp.StatusCode)
	}
	h.s.tasks.Wait()
	n := 0
	for _, c := range h.ctrl.called() {
		if strings.HasPrefix(c, "idea ") {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("a freshly signed request was not handled: %d ideas", n)
	}
}

func TestReplayGuardForgetsAfterTheWindowAndStaysBounded(t *testing.T) {
	g := newReplayGuard(5*time.Minute, 2)
	t0 := time.Unix(1_700_000_000, 0)
	if ok, _ := g.first("s1", "1", t0); !ok {
		t.Fatal("first sight refused")
	}
	if ok, _ := g.first("s1", "1", t0.Add(9*time.Minute)); ok {
		t.Fatal("a replay inside the window passed")
	}
	if _, full := g.first("s2", "2", t0.Add(time.Minute)); full {
		t.Fatal("full too early")
	}
	if ok, full := g.first("s3", "3", t0.Add(time.Minute)); ok || !full {
		t.Fatalf("over the bound: ok=%t full=%t, want a refusal", ok, full)
	}
	// After twice the window the first entry is forgotten, making room.
	if ok, full := g.first("s3", "3", t0.Add(10*time.Minute)); !ok || full {
		t.Fatalf("after the window: ok=%t full=%t", ok, full)
	}
}
