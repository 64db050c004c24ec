package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/autoresearch/autoresearch/research"
)

// socketHarness is a Slack running in Socket Mode against the fake server,
// with the server side of the websocket in conn.
type socketHarness struct {
	t    *testing.T
	f    *fakeSlack
	ctrl *slackFakeCtrl
	out  *memOutbox
	s    *Bot
	conn *websocket.Conn
}

func newSocketHarness(t *testing.T, admins ...string) *socketHarness {
	h := &socketHarness{t: t, f: newFakeSlack(t), ctrl: newSlackFakeCtrl(), out: newMemOutbox()}
	h.s = newTestSlack(t, h.f, h.ctrl, h.out, func(c *Config) {
		c.AppToken = "xapp-test"
		c.Admins = admins
	})
	// Registered before runSlack, so it runs after Run has returned.
	t.Cleanup(func() {
		if h.conn != nil {
			h.conn.Close()
		}
	})
	runSlack(t, h.s)
	select {
	case h.conn = <-h.f.Conns():
	case <-time.After(10 * time.Second):
		t.Fatalf("the bot never opened the Socket Mode websocket; calls: %v", h.f.Methods())
	}
	open := h.f.CallsTo("apps.connections.open")
	if len(open) == 0 || !strings.Contains(open[0].Auth, "xapp-test") {
		t.Fatalf("apps.connections.open must use the app token: %+v", open)
	}
	h.send(map[string]any{"type": "hello", "num_connections": 1})
	return h
}

func (h *socketHarness) send(v any) {
	h.t.Helper()
	if err := h.conn.WriteJSON(v); err != nil {
		h.t.Fatalf("websocket write: %v", err)
	}
}

func (h *socketHarness) envelope(typ, id string, payload any, retry int) {
	h.t.Helper()
	h.send(map[string]any{"type": typ, "envelope_id": id, "payload": payload,
		"accepts_response_payload": typ != "events_api", "retry_attempt": retry})
}

// ack reads the next message from the bot, which must be an ack.
func (h *socketHarness) ack() (string, json.RawMessage) {
	h.t.Helper()
	_ = h.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var a struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := h.conn.ReadJSON(&a); err != nil {
		h.t.Fatalf("reading an ack: %v", err)
	}
	return a.EnvelopeID, a.Payload
}

func (h *socketHarness) slash(id, user, channel, text string) {
	h.t.Helper()
	h.envelope("slash_commands", id, map[string]any{
		"command": "/autoresearch", "text": text, "user_id": user, "channel_id": channel,
		"response_url": h.f.URL() + "/respond/" + id, "trigger_id": "trig-" + id,
	}, 0)
	if got, _ := h.ack(); got != id {
		h.t.Fatalf("ack for envelope %q, want %q", got, id)
	}
}

// answerTo returns the response_url answer to envelope id.
func (h *socketHarness) answerTo(n int) map[string]any {
	h.t.Helper()
	return h.f.WaitCalls("response_url", n)[n-1].JSON
}

func TestSocketModeCommandsEndToEnd(t *testing.T) {
	h := newSocketHarness(t, "UALICE")

	// A read-only command: acked, controller asked, answered ephemerally.
	h.slash("env-1", "UBOB", slackTestChannel, "status")
	ans := h.answerTo(1)
	if ans["response_type"] != "ephemeral" || !strings.Contains(ans["text"].(string), "no run yet") {
		t.Fatalf("status answer = %v", ans)
	}
	if !h.ctrl.has("status") {
		t.Fatal("the controller was not asked for the status")
	}

	// A state change by an admin: done, and answered to the person (the
	// loop's own "paused by" message is the channel's announcement).
	h.slash("env-2", "UALICE", slackTestChannel, "pause")
	ans = h.answerTo(2)
	if !h.ctrl.has("pause by UALICE") || !strings.Contains(ans["text"].(string), "Paused") {
		t.Fatalf("pause: controller %v, answer %v", h.ctrl.called(), ans)
	}

	// Not an admin: refused, clearly, and nothing changes.
	h.slash("env-3", "UBOB", slackTestChannel, "stop now")
	ans = h.answerTo(3)
	if txt := ans["text"].(string); !strings.Contains(txt, "only the run's admins") || !strings.Contains(txt, "<@UALICE>") {
		t.Fatalf("refusal = %q", txt)
	}
	// Wrong channel: refused, naming the right one.
	h.slash("env-4", "UALICE", "COTHER", "resume")
	ans = h.answerTo(4)
	if txt := ans["text"].(string); !strings.Contains(txt, "<#"+slackTestChannel+">") {
		t.Fatalf("wrong-channel refusal = %q", txt)
	}
	// Bad input gets the parser's usage error.
	h.slash("env-5", "UALICE", slackTestChannel, "start Bad/Tag")
	ans = h.answerTo(5)
	if txt := ans["text"].(string); !strings.Contains(txt, "usage: start TAG") {
		t.Fatalf("usage answer = %q", txt)
	}
	for _, c := range h.ctrl.called() {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "resume") || strings.HasPrefix(c, "start") {
			t.Fatalf("a refused command reached the controller: %v", h.ctrl.called())
		}
	}
}

func TestSocketModeThreadReplyBecomesIdeaOnce(t *testing.T) {
	h := newSocketHarness(t)
	// The experiment's message was posted before (its ts is in the outbox).
	m, _ := h.out.Enqueue(context.Background(), research.OutboxMessage{Key: "exp:7:3", Kind: kindPost, Channel: slackTestChannel, Payload: []byte(`{}`)})
	_ = h.out.MarkSent(context.Background(), m.ID, "1700000000.000001")

	event := map[string]any{
		"type": "event_callback", "event_id": "Ev1",
		"event": map[string]any{"type": "message", "channel": slackTestChannel, "user": "UBOB",
			"text": "try GELU instead", "ts": "1700000001.000100", "thread_ts": "1700000000.000001"},
	}
	h.envelope("events_api", "env-e1", event, 0)
	if id, _ := h.ack(); id != "env-e1" {
		t.Fatalf("ack %q", id)
	}
	// Slack retries the same event (its ack was "lost"): acked, not redone.
	h.envelope("events_api", "env-e2", event, 1)
	if id, _ := h.ack(); id != "env-e2" {
		t.Fatalf("ack %q", id)
	}
	react := h.f.WaitCalls("reactions.add", 1)[0]
	if react.Form.Get("name") != "bulb" || react.Form.Get("timestamp") != "1700000001.000100" {
		t.Fatalf("reaction = %v", react.Form)
	}
	// A later event proves the retry was handled before it.
	h.envelope("events_api", "env-e3", map[string]any{"type": "event_callback", "event_id": "Ev2",
		"event": map[string]any{"type": "message", "channel": slackTestChannel, "user": "UCAROL",
			"text": "and a wider MLP", "ts": "1700000002.000100", "thread_ts": "1700000000.000001"}}, 0)
	h.ack()
	h.s.tasks.Wait() // every acked event's work was started before its ack
	h.f.WaitCalls("reactions.add", 2)

	h.ctrl.mu.Lock()
	defer h.ctrl.mu.Unlock()
	if len(h.ctrl.ideas) != 2 {
		t.Fatalf("ideas = %+v, want 2 (the retried event once)", h.ctrl.ideas)
	}
	i := h.ctrl.ideas[0]
	if i.Text != "try GELU instead" || i.Author != "UBOB" || i.Source != "thread" || i.ThreadTS != "1700000000.000001" || i.MessageTS != "1700000001.000100" {
		t.Fatalf("idea = %+v", i)
	}
}

func TestSocketModeProgramModalRoundTrip(t *testing.T) {
	h := newSocketHarness(t, "UALICE")
	var b strings.Builder
	for i := 0; b.Len() < 7000; i++ {
		b.WriteString("line of the research program, number ")
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteString("\n")
	}
	h.ctrl.program = b.String()

	h.slash("env-p", "UALICE", slackTestChannel, "program")
	open := h.f.WaitCalls("views.open", 1)[0]
	if open.JSON["trigger_id"] != "trig-env-p" {
		t.Fatalf("views.open trigger_id = %v", open.JSON["trigger_id"])
	}
	view := open.JSON["view"].(map[string]any)
	meta := view["private_metadata"].(string)
	values := map[string]any{}
	var parts []string
	for _, bl := range view["blocks"].([]any) {
		block := bl.(map[string]any)
		if block["type"] != "input" {
			continue
		}
		el := block["element"].(map[string]any)
		v, _ := el["initial_value"].(string)
		if len(v) > 3000 || el["max_length"].(float64) > 3000 {
			t.Fatalf("an input holds %d characters (max_length %v); Slack allows 3000", len(v), el["max_length"])
		}
		parts = append(parts, v)
		values[block["block_id"].(string)] = map[string]any{"text": map[string]any{"type": "plain_text_input", "value": v}}
	}
	if len(parts) < 4 {
		t.Fatalf("a 7000-character program.md in %d inputs", len(parts))
	}
	original := h.ctrl.program
	submit := func(id string) json.RawMessage {
		h.envelope("interactive", id, map[string]any{
			"type": "view_submission", "user": map[string]any{"id": "UALICE"},
			"view": map[string]any{"callback_id": "program_edit", "private_metadata": meta,
				"state": map[string]any{"values": values}},
		}, 0)
		got, payload := h.ack()
		if got != id {
			t.Fatalf("ack for %q, want %q", got, id)
		}
		return payload
	}

	// Submitted as opened: nothing to save, the modal stays open.
	if p := submit("env-v0"); !strings.Contains(string(p), `"response_action":"errors"`) || !strings.Contains(string(p), "Nothing changed") {
		t.Fatalf("unchanged submission ack = %s", p)
	}

	// The person adds a line at the end of the second part.
	second := values["program_1"].(map[string]any)["text"].(map[string]any)
	second["value"] = parts[1] + "\nNEW IDEA LINE"
	if p := submit("env-v"); len(p) > 0 && string(p) != "null" {
		t.Fatalf("submission ack %s, want an empty ack (closes the modal)", p)
	}
	h.f.WaitCalls("chat.postMessage", 1)
	h.ctrl.mu.Lock()
	edits := h.ctrl.edits
	h.ctrl.mu.Unlock()
	if len(edits) != 1 || edits[0].Kind != "replace" || edits[0].Author != "UALICE" {
		t.Fatalf("edits = %+v", edits)
	}
	head := parts[0] + "\n" + parts[1] + "\n"
	if !strings.HasPrefix(original, head) {
		t.Fatal("the inputs were not cut at line boundaries")
	}
	want := head + "NEW IDEA LINE\n" + strings.TrimPrefix(original, head)
	if edits[0].Text != want {
		t.Fatalf("reassembled program.md differs:\n got %q\nwant %q", edits[0].Text, want)
	}

	// program.md changed since the editor opened: refused, not clobbered.
	h.ctrl.program = edits[0].Text
	if p := submit("env-v2"); !strings.Contains(string(p), `"response_action":"errors"`) || !strings.Contains(string(p), "changed since you opened") {
		t.Fatalf("stale submission ack = %s", p)
	}
}

// blockingCtrl holds Status until released, like a slow research side.
type blockingCtrl struct {
	*slackFakeCtrl
	entered, release chan struct{}
}

func (b *blockingCtrl) Status(ctx context.Context) (research.Status, error) {
	close(b.entered)
	<-b.release
	return b.slackFakeCtrl.Status(ctx)
}

func TestAckDoesNotWaitForTheWork(t *testing.T) {
	ctrl := &blockingCtrl{slackFakeCtrl: newSlackFakeCtrl(), entered: make(chan struct{}), release: make(chan struct{})}
	h := &socketHarness{t: t, f: newFakeSlack(t), out: newMemOutbox()}
	h.s = newTestSlack(t, h.f, ctrl, h.out, func(c *Config) { c.AppToken = "xapp-test" })
	t.Cleanup(func() {
		if h.conn != nil {
			h.conn.Close()
		}
	})
	runSlack(t, h.s)
	h.conn = <-h.f.Conns()
	h.send(map[string]any{"type": "hello"})

	// The ack arrives while the controller is still busy with the command.
	h.slash("env-slow", "UBOB", slackTestChannel, "status")
	<-ctrl.entered
	if n := len(h.f.CallsTo("response_url")); n != 0 {
		t.Fatal("answered before the work was done?")
	}
	close(ctrl.release)
	if ans := h.answerTo(1); !strings.Contains(ans["text"].(string), "no run yet") {
		t.Fatalf("answer = %v", ans)
	}
}

func TestSocketModeButtonIsAckedAndActsOnce(t *testing.T) {
	h := newSocketHarness(t, "UALICE")
	h.ctrl.mu.Lock()
	h.ctrl.exps[3] = research.Experiment{ID: 33, RunID: 7, Number: 3, Status: research.StatusDiscard, Description: "raise LR",
		Diff: "diff --git a/train.py b/train.py\n-LR = 0.02\n+LR = 0.04\n"}
	h.ctrl.mu.Unlock()
	press := func(id, ts string) {
		h.envelope("interactive", id, map[string]any{
			"type": "block_actions", "user": map[string]any{"id": "UBOB"}, "channel": map[string]any{"id": slackTestChannel},
			"message": map[string]any{"ts": "1700000000.000003"},
			"actions": []any{map[string]any{"action_id": actionDiff, "value": "7:3", "action_ts": ts}},
		}, 0)
		if got, _ := h.ack(); got != id {
			t.Fatalf("ack for %q, want %q", got, id)
		}
	}
	press("env-b1", "1700000100.000001")
	post := h.f.WaitCalls("chat.postMessage", 1)[0]
	if post.Form.Get("thread_ts") != "1700000000.000003" || !strings.Contains(post.Form.Get("text"), "Diff of #3") {
		t.Fatalf("diff post = %v", post.Form)
	}
	press("env-b2", "1700000101.000001")
	h.f.WaitCalls("chat.postEphemeral", 1)
	if n := len(h.f.CallsTo("chat.postMessage")); n != 1 {
		t.Errorf("%d posts after two presses", n)
	}
}
