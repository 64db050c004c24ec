package slack

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
	"github.com/autoresearch/autoresearch/research"
)

func logInto(s *Bot) *bottest.LockedLog {
	l := &bottest.LockedLog{}
	s.log = slog.New(slog.NewJSONHandler(l, nil))
	return l
}

// A bug behind a slash command, a thread reply or a modal submission is
// logged with its stack; the person is told it was a bug (ephemeral, in
// the thread, under the modal's input) and the bot keeps serving.
func TestHTTPHandlerPanicsAreReportedAndTheBotKeepsServing(t *testing.T) {
	h := newHTTPHarness(t, "UALICE")
	logs := logInto(h.s)
	h.ctrl.panicOn = map[string]bool{"status": true, "idea": true, "program": true}

	// A slash command.
	h.command("UBOB", slackTestChannel, "status", "secret", h.now)
	ans := h.f.WaitCalls("response_url", 1)[0].JSON
	if txt, _ := ans["text"].(string); !strings.Contains(txt, research.BugMessage) || !strings.Contains(txt, "injected bug in status") {
		t.Fatalf("answer to the panicking command = %v", ans)
	}
	// Still serving: the same command works now (signed anew: an identical
	// request would be a replay).
	h.command("UBOB", slackTestChannel, "status", "secret", h.now.Add(time.Second))
	if txt, _ := h.f.WaitCalls("response_url", 2)[1].JSON["text"].(string); !strings.Contains(txt, "no run yet") {
		t.Fatalf("the next command got %q", txt)
	}

	// A thread reply.
	sentExpPost(t, h.out, "exp:7:3", "1700000000.000001")
	h.event("Ev1", reply("UALICE", "use GELU", "1700000001.000001", "1700000000.000001"))
	h.s.tasks.Wait()
	eph := h.f.WaitCalls("chat.postEphemeral", 1)[0]
	if eph.Form.Get("user") != "UALICE" || eph.Form.Get("thread_ts") != "1700000000.000001" || !strings.Contains(eph.Form.Get("text"), research.BugMessage) {
		t.Fatalf("thread reply bug answer = %v", eph.Form)
	}

	// A modal submission: Slack's errors answer on the first input.
	view, err := programView(h.ctrl.program)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(view, &v)
	payload, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UALICE"},
		"view": map[string]any{"callback_id": "program_edit", "private_metadata": v.PrivateMetadata,
			"state": map[string]any{"values": map[string]any{"program_0": map[string]any{"text": map[string]any{"value": "# new\n"}}}}}})
	resp, body := h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()), "secret", h.now)
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &ack); err != nil || resp.StatusCode != 200 || ack.ResponseAction != "errors" ||
		!strings.Contains(ack.Errors["program_0"], research.BugMessage) {
		t.Fatalf("modal bug answer: %d %q", resp.StatusCode, body)
	}

	recs := logs.Panics()
	if len(recs) != 3 {
		t.Fatalf("%d panic records, want one per bug:\n%s", len(recs), strings.Join(recs, "\n"))
	}
	for _, r := range recs {
		if !strings.Contains(r, `"stack"`) || !strings.Contains(r, "maybePanic") {
			t.Errorf("a panic record without the stack: %s", r)
		}
	}
}

// In Socket Mode a bug under one envelope leaves the connection serving the
// next ones.
func TestSocketModeKeepsServingAfterAPanic(t *testing.T) {
	h := newSocketHarness(t, "UALICE")
	h.ctrl.panicOn = map[string]bool{"status": true, "program": true}
	h.slash("env-1", "UBOB", slackTestChannel, "status")
	if txt, _ := h.answerTo(1)["text"].(string); !strings.Contains(txt, research.BugMessage) {
		t.Fatalf("answer = %q", txt)
	}
	h.envelope("interactive", "env-2", map[string]any{
		"type": "view_submission", "user": map[string]any{"id": "UALICE"},
		"view": map[string]any{"callback_id": "program_edit", "private_metadata": `{"soft":"--","version":"` + research.ProgramVersion(h.ctrl.program) + `"}`,
			"state": map[string]any{"values": map[string]any{"program_0": map[string]any{"text": map[string]any{"value": "# new"}}}}},
	}, 0)
	if id, p := h.ack(); id != "env-2" || !strings.Contains(string(p), research.BugMessage) {
		t.Fatalf("ack %s %s, want the bug under the modal's input", id, p)
	}
	h.slash("env-3", "UBOB", slackTestChannel, "status")
	if txt, _ := h.answerTo(2)["text"].(string); !strings.Contains(txt, "no run yet") {
		t.Fatalf("after the panics: %q", txt)
	}
}

// A bug behind a button is told to whoever pressed it; the next press works.
func TestButtonPanicIsReportedAndTheNextPressWorks(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	logs := logInto(h.s)
	h.ctrl.panicOn = map[string]bool{"status": true}
	h.press("UALICE", actionPause, "7")
	if e := h.ephemerals("UALICE"); len(e) != 1 || !strings.Contains(e[0], research.BugMessage) {
		t.Fatalf("the press that hit a bug was answered %q", e)
	}
	h.press("UALICE", actionPause, "7")
	if !h.ctrl.has("pause by UALICE") {
		t.Fatalf("the next press did not pause; calls %v", h.ctrl.calls)
	}
	if n := len(logs.Panics()); n != 1 {
		t.Fatalf("%d panic records, want 1", n)
	}
}
