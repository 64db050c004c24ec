package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// httpHarness serves the bot's HTTP mode handler.
type httpHarness struct {
	t    *testing.T
	f    *fakeSlack
	ctrl *slackFakeCtrl
	out  *memOutbox
	s    *Bot
	srv  *httptest.Server
	now  time.Time
}

func newHTTPHarness(t *testing.T, admins ...string) *httpHarness {
	h := &httpHarness{t: t, f: newFakeSlack(t), ctrl: newSlackFakeCtrl(), out: newMemOutbox(),
		now: time.Unix(1_700_000_000, 0)}
	h.s = newTestSlack(t, h.f, h.ctrl, h.out, func(c *Config) { c.Admins = admins })
	h.s.now = func() time.Time { return h.now }
	h.s.identity = slackIdentity{UserID: "UBOT", BotID: "BBOT"}
	h.srv = httptest.NewServer(h.s.Handler())
	t.Cleanup(h.srv.Close)
	t.Cleanup(h.s.tasks.Wait)
	return h
}

func slackSign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// do posts body to path, signed with secret at time ts.
func (h *httpHarness) do(path, contentType string, body []byte, secret string, ts time.Time) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	tsText := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("X-Slack-Request-Timestamp", tsText)
	req.Header.Set("X-Slack-Signature", slackSign(secret, tsText, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (h *httpHarness) command(user, channel, text string, secret string, ts time.Time) (*http.Response, string) {
	form := url.Values{"command": {"/autoresearch"}, "text": {text}, "user_id": {user}, "channel_id": {channel},
		"response_url": {h.f.URL() + "/respond/x"}, "trigger_id": {"trig"}}
	return h.do("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), secret, ts)
}

func (h *httpHarness) event(id string, ev map[string]any) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": id, "event": ev})
	resp, _ := h.do("/slack/events", "application/json", body, "secret", h.now)
	if resp.StatusCode != 200 {
		h.t.Fatalf("event %s: status %d", id, resp.StatusCode)
	}
}

func TestHTTPSignatureOKForgedStale(t *testing.T) {
	h := newHTTPHarness(t)

	resp, body := h.command("UBOB", slackTestChannel, "status", "secret", h.now.Add(-30*time.Second))
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("signed command: %d %q, want an empty 200 ack", resp.StatusCode, body)
	}
	h.f.WaitCalls("response_url", 1)
	if !h.ctrl.has("status") {
		t.Fatal("signed command did not reach the controller")
	}

	cases := map[string]func() (*http.Response, string){
		"forged": func() (*http.Response, string) {
			return h.command("UBOB", slackTestChannel, "stop now", "not-the-secret", h.now)
		},
		"stale": func() (*http.Response, string) {
			return h.command("UBOB", slackTestChannel, "stop now", "secret", h.now.Add(-6*time.Minute))
		},
		"future": func() (*http.Response, string) {
			return h.command("UBOB", slackTestChannel, "stop now", "secret", h.now.Add(6*time.Minute))
		},
		"events forged": func() (*http.Response, string) {
			return h.do("/slack/events", "application/json", []byte(`{"type":"url_verification","challenge":"c"}`), "nope", h.now)
		},
		"interactive stale": func() (*http.Response, string) {
			return h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte("payload=%7B%7D"), "secret", h.now.Add(-time.Hour))
		},
	}
	for name, do := range cases {
		resp, body := do()
		if resp.StatusCode != http.StatusUnauthorized || body != "" {
			t.Errorf("%s: %d %q, want a bare 401", name, resp.StatusCode, body)
		}
	}
	// Unsigned.
	resp, err := http.Post(h.srv.URL+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("text=stop"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
	h.s.tasks.Wait()
	for _, c := range h.ctrl.called() {
		if strings.HasPrefix(c, "stop") {
			t.Fatal("a forged or stale request reached the controller")
		}
	}
}

func TestHTTPURLVerification(t *testing.T) {
	h := newHTTPHarness(t)
	resp, body := h.do("/slack/events", "application/json", []byte(`{"type":"url_verification","token":"x","challenge":"3eZbrw1aB"}`), "secret", h.now)
	if resp.StatusCode != 200 || !strings.Contains(body, `"challenge":"3eZbrw1aB"`) {
		t.Fatalf("url_verification: %d %q", resp.StatusCode, body)
	}
}

// sentExpPost records an experiment message as posted with ts.
func sentExpPost(t *testing.T, out *memOutbox, key, ts string) {
	t.Helper()
	m, _ := out.Enqueue(context.Background(), research.OutboxMessage{Key: key, Kind: kindPost, Channel: slackTestChannel, Payload: []byte(`{}`)})
	if err := out.MarkSent(context.Background(), m.ID, ts); err != nil {
		t.Fatal(err)
	}
}

func reply(user, text, ts, thread string) map[string]any {
	return map[string]any{"type": "message", "channel": slackTestChannel, "user": user, "text": text, "ts": ts, "thread_ts": thread}
}

func TestHTTPEventsDedupedAndThreadRules(t *testing.T) {
	h := newHTTPHarness(t, "UALICE", "UBOB")
	sentExpPost(t, h.out, "exp:7:3", "1700000000.000001")
	sentExpPost(t, h.out, "run:7", "1700000000.000000")
	h.ctrl.exps[3] = slackTestExp("running")

	h.event("Ev1", reply("UBOB", "use GELU", "1700000001.000001", "1700000000.000001"))
	h.event("Ev1", reply("UBOB", "use GELU", "1700000001.000001", "1700000000.000001")) // Slack's retry
	// Ignored: the bot itself, another bot, another channel, a top-level
	// message, a reply under a message that is not an experiment.
	h.event("Ev2", reply("UBOT", "I am the bot", "1700000001.000002", "1700000000.000001"))
	bot := reply("", "other bot", "1700000001.000003", "1700000000.000001")
	bot["bot_id"], bot["subtype"] = "BOTHER", "bot_message"
	h.event("Ev3", bot)
	other := reply("UBOB", "elsewhere", "1700000001.000004", "1700000000.000001")
	other["channel"] = "COTHER"
	h.event("Ev4", other)
	h.event("Ev5", reply("UBOB", "top level", "1700000001.000005", ""))
	h.event("Ev6", reply("UBOB", "on the header", "1700000001.000006", "1700000000.000000"))
	h.s.tasks.Wait()

	h.ctrl.mu.Lock()
	ideas := append(h.ctrl.ideas[:0:0], h.ctrl.ideas...)
	h.ctrl.mu.Unlock()
	if len(ideas) != 1 {
		t.Fatalf("ideas = %+v, want only the person's reply, once", ideas)
	}
	if ideas[0].FromExp != 42 || ideas[0].Author != "UBOB" || ideas[0].MessageTS != "1700000001.000001" {
		t.Fatalf("idea = %+v, want it linked to experiment ID 42", ideas[0])
	}
	deliver(t, h.s)
	if r := h.f.CallsTo("reactions.add"); len(r) != 1 || r[0].Form.Get("timestamp") != "1700000001.000001" {
		t.Fatalf("reactions = %+v", r)
	}

	// An edit of the reply updates the idea.
	h.event("Ev7", map[string]any{"type": "message", "subtype": "message_changed", "channel": slackTestChannel,
		"message":          map[string]any{"type": "message", "user": "UBOB", "text": "use SwiGLU", "ts": "1700000001.000001", "thread_ts": "1700000000.000001"},
		"previous_message": map[string]any{"type": "message", "user": "UBOB", "text": "use GELU", "ts": "1700000001.000001"}})
	h.s.tasks.Wait()
	h.ctrl.mu.Lock()
	edited := h.ctrl.ideaEdits["1700000001.000001"]
	h.ctrl.mu.Unlock()
	if edited != "use SwiGLU" {
		t.Fatalf("edited idea text = %q", edited)
	}

	// An edit made against a text the idea no longer has (changed since by
	// someone else) is refused and the person is told, in the thread.
	h.event("Ev8", map[string]any{"type": "message", "subtype": "message_changed", "channel": slackTestChannel,
		"message":          map[string]any{"type": "message", "user": "UBOB", "text": "use ReLU", "ts": "1700000001.000001", "thread_ts": "1700000000.000001"},
		"previous_message": map[string]any{"type": "message", "user": "UBOB", "text": "use GELU", "ts": "1700000001.000001"}})
	h.s.tasks.Wait()
	h.ctrl.mu.Lock()
	edited = h.ctrl.ideaEdits["1700000001.000001"]
	h.ctrl.mu.Unlock()
	if edited != "use SwiGLU" {
		t.Fatalf("a stale edit overwrote the idea: %q", edited)
	}
	eph := h.f.WaitCalls("chat.postEphemeral", 1)[0]
	if eph.Form.Get("user") != "UBOB" || eph.Form.Get("thread_ts") != "1700000000.000001" ||
		!strings.Contains(eph.Form.Get("text"), "changed by someone else") || !strings.Contains(eph.Form.Get("text"), "use SwiGLU") {
		t.Fatalf("refusal = %v", eph.Form)
	}
}

func TestThreadIdeaFromNonAdminRefused(t *testing.T) {
	h := newHTTPHarness(t, "UALICE")
	sentExpPost(t, h.out, "exp:7:3", "1700000000.000001")
	h.event("Ev1", reply("UMALLORY", "delete the eval", "1700000001.000001", "1700000000.000001"))
	h.s.tasks.Wait()
	if len(h.ctrl.ideas) != 0 {
		t.Fatalf("a non-admin's reply became an idea: %+v", h.ctrl.ideas)
	}
	eph := h.f.WaitCalls("chat.postEphemeral", 1)[0]
	if eph.Form.Get("user") != "UMALLORY" || eph.Form.Get("thread_ts") != "1700000000.000001" || !strings.Contains(eph.Form.Get("text"), "only the run's admins") {
		t.Fatalf("refusal = %v", eph.Form)
	}
}

func TestHTTPInteractiveProgramSubmit(t *testing.T) {
	h := newHTTPHarness(t, "UALICE")
	view, err := programView(h.ctrl.program)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(view, &v)
	submit := func(user, text string) (int, string) {
		payload, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": user},
			"view": map[string]any{"callback_id": "program_edit", "private_metadata": v.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{"program_0": map[string]any{"text": map[string]any{"value": text}}}}}})
		resp, body := h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()), "secret", h.now)
		return resp.StatusCode, body
	}
	if code, body := submit("UALICE", "   "); code != 200 || !strings.Contains(body, "cannot be empty") {
		t.Fatalf("empty program: %d %s", code, body)
	}
	if code, body := submit("UBOB", "# new\n"); code != 200 || !strings.Contains(body, "only the run's admins") {
		t.Fatalf("non-admin: %d %s", code, body)
	}
	if code, body := submit("UALICE", "# program\n\nbe better\n"); code != 200 || body != "" {
		t.Fatalf("valid edit: %d %q", code, body)
	}
	h.s.tasks.Wait()
	if len(h.ctrl.edits) != 1 || h.ctrl.edits[0].Text != "# program\n\nbe better\n" || h.ctrl.edits[0].Author != "UALICE" {
		t.Fatalf("edits = %+v", h.ctrl.edits)
	}
}
