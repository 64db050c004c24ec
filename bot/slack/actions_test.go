package slack

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// actionHarness presses buttons through the real HTTP route (signed
// requests to /slack/interactive).
type actionHarness struct {
	*httpHarness
	n int
}

func newActionHarness(t *testing.T, admins ...string) *actionHarness {
	h := newHTTPHarness(t, admins...)
	h.ctrl.exps[3] = research.Experiment{ID: 33, RunID: 7, Number: 3, Status: research.StatusDiscard, Description: "raise LR",
		Diff: "diff --git a/train.py b/train.py\n-LR = 0.02\n+LR = 0.04\n"}
	h.ctrl.exps[4] = research.Experiment{ID: 34, RunID: 7, Number: 4, Status: research.StatusRunning, Description: "deeper"}
	h.ctrl.logs[3] = "step 1\nval_bpb: 0.999\n"
	h.ctrl.status = research.Status{Active: true, Run: &research.Run{ID: 7, Tag: "mar20"}}
	return &actionHarness{httpHarness: h}
}

// interact posts an interactive payload and waits for the work it started.
// Each request is signed anew a second later, as Slack signs every request
// it sends (an identical signature and timestamp is a replay, answered once).
func (h *actionHarness) interact(payload map[string]any) string {
	h.t.Helper()
	h.now = h.now.Add(time.Second)
	raw, _ := json.Marshal(payload)
	resp, body := h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), "secret", h.now)
	if resp.StatusCode != 200 {
		h.t.Fatalf("interactive answered %d %s", resp.StatusCode, body)
	}
	h.s.tasks.Wait()
	deliver(h.t, h.s)
	return body
}

// press presses button actionID with value as user, on the message ts.
func (h *actionHarness) press(user, actionID, value string) {
	h.t.Helper()
	h.n++
	h.interact(map[string]any{
		"type": "block_actions", "trigger_id": "trig", "user": map[string]any{"id": user},
		"channel": map[string]any{"id": slackTestChannel},
		"message": map[string]any{"ts": "1700000000.000003"},
		"actions": []any{map[string]any{"action_id": actionID, "value": value, "action_ts": "1700000100." + strings.Repeat("0", 5) + string(rune('0'+h.n%10))}},
	})
}

// ephemerals returns the private answers to user.
func (h *actionHarness) ephemerals(user string) []string {
	var out []string
	for _, c := range h.f.CallsTo("chat.postEphemeral") {
		if c.Form.Get("user") == user {
			out = append(out, c.Form.Get("text"))
		}
	}
	return out
}

func TestButtonsShowDiffAndLogInTheThreadOnce(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	h.press("UBOB", actionDiff, "7:3")
	h.press("UBOB", actionLog, "7:3")
	h.press("UCAROL", actionDiff, "7:3") // a second press: already there
	posts := h.f.CallsTo("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d posts, want the diff and the log once each", len(posts))
	}
	for i, want := range []string{"Diff of #3", "Log tail of #3"} {
		if p := posts[i]; p.Form.Get("thread_ts") != "1700000000.000003" || !strings.Contains(p.Form.Get("text"), want) {
			t.Errorf("post %d = %v, want %q in the message's thread", i, p.Form, want)
		}
	}
	if !strings.Contains(posts[0].Form.Get("text"), "+LR = 0.04") {
		t.Errorf("the diff is not in the post: %q", posts[0].Form.Get("text"))
	}
	if e := h.ephemerals("UCAROL"); len(e) != 1 || !strings.Contains(e[0], "already in the thread") {
		t.Errorf("second press answered %q", e)
	}
}

func TestButtonsObeyTheAdminsAndDoOneThing(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	h.press("UBOB", actionStop, "7:4")
	h.press("UBOB", actionEnd, "7")
	if e := h.ephemerals("UBOB"); len(e) != 2 || !strings.Contains(e[0], "only the run's admins") || !strings.Contains(e[1], "only the run's admins") {
		t.Errorf("a non-admin's presses answered %q", e)
	}
	for _, c := range h.ctrl.called() {
		if strings.HasPrefix(c, "stop") {
			t.Fatalf("a non-admin's press reached the controller: %v", h.ctrl.called())
		}
	}
	h.press("UALICE", actionStop, "7:4")
	h.press("UALICE", actionPause, "7")
	h.press("UALICE", actionResume, "7")
	h.press("UALICE", actionRetry, "7:3")
	h.press("UALICE", actionRetry, "7:3")
	if !h.ctrl.has("stop by UALICE now=true") || !h.ctrl.has("pause by UALICE") || !h.ctrl.has("resume by UALICE") {
		t.Errorf("controller calls = %v", h.ctrl.called())
	}
	if r := h.ctrl.retries(); len(r) != 1 || r[0] != 3 {
		t.Errorf("retried %v, want #3 once", r)
	}
	// A button of another run's message does not act on the current one.
	h.press("UALICE", actionPause, "6")
	h.press("UALICE", actionStop, "6:4")
	if e := h.ephemerals("UALICE"); !strings.Contains(strings.Join(e, "\n"), "that run is over") || !strings.Contains(strings.Join(e, "\n"), "no longer the current run's") {
		t.Errorf("old-run buttons answered %q", e)
	}
	if n := strings.Count(strings.Join(h.ctrl.called(), "\n"), "pause by UALICE"); n != 1 {
		t.Errorf("paused %d times", n)
	}
}

func TestFollowUpIdeaButtonOpensAModalAndPinsTheIdea(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	h.press("UALICE", actionIdea, "7:3")
	opens := h.f.CallsTo("views.open")
	if len(opens) != 1 {
		t.Fatalf("views.open called %d times", len(opens))
	}
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	raw := opens[0].Form.Get("view")
	if raw == "" {
		b, _ := json.Marshal(opens[0].JSON["view"])
		raw = string(b)
	}
	if err := json.Unmarshal([]byte(raw), &view); err != nil || view.CallbackID != pinIdeaCallbackID {
		t.Fatalf("opened view %s (%v)", raw, err)
	}
	submit := func(text string) string {
		return h.interact(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UALICE"},
			"view": map[string]any{"callback_id": pinIdeaCallbackID, "private_metadata": view.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{pinIdeaBlock: map[string]any{pinIdeaAction: map[string]any{"value": text}}}}}})
	}
	if body := submit("  "); !strings.Contains(body, "Write the idea") {
		t.Errorf("empty idea answered %q", body)
	}
	if body := submit("try LR 0.03 & warmup"); body != "" {
		t.Errorf("a good idea answered %q (want the modal closed)", body)
	}
	if len(h.ctrl.ideas) != 1 || h.ctrl.ideas[0].Text != "try LR 0.03 & warmup" || h.ctrl.ideas[0].Author != "UALICE" || h.ctrl.ideas[0].FromExp != 33 {
		t.Fatalf("ideas = %+v", h.ctrl.ideas)
	}
	posts := h.f.CallsTo("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("thread_ts") != "1700000000.000003" || !strings.Contains(posts[0].Form.Get("text"), "pinned idea [1] after #3: try LR 0.03 &amp; warmup") {
		t.Errorf("thread note = %v", posts)
	}
}

func TestSuggestAsIdeaShortcutCreditsTheAuthorOnce(t *testing.T) {
	h := newActionHarness(t, "UALICE")
	shortcut := map[string]any{"type": "message_action", "callback_id": suggestIdeaCallbackID, "trigger_id": "t",
		"user": map[string]any{"id": "UALICE"}, "channel": map[string]any{"id": slackTestChannel},
		"message": map[string]any{"ts": "1700000200.000001", "user": "UCAROL", "text": "what about MATRIX_LR &lt; 0.03?"}}
	h.interact(shortcut)
	h.interact(shortcut)
	if len(h.ctrl.ideas) != 1 || h.ctrl.ideas[0].Author != "UCAROL" || h.ctrl.ideas[0].Text != "what about MATRIX_LR < 0.03?" || h.ctrl.ideas[0].Source != "shortcut" {
		t.Fatalf("ideas = %+v", h.ctrl.ideas)
	}
	if r := h.f.CallsTo("reactions.add"); len(r) != 1 || r[0].Form.Get("timestamp") != "1700000200.000001" {
		t.Errorf("reactions = %v", r)
	}
	e := h.ephemerals("UALICE")
	if len(e) != 2 || !strings.Contains(e[0], "Pinned idea [1] from <@UCAROL>") || !strings.Contains(e[1], "already a pinned idea") {
		t.Errorf("answers = %q", e)
	}
	// Not an admin: refused, nothing pinned.
	shortcut["user"] = map[string]any{"id": "UBOB"}
	shortcut["message"] = map[string]any{"ts": "1700000300.000001", "user": "UBOB", "text": "mine"}
	h.interact(shortcut)
	if len(h.ctrl.ideas) != 1 || !strings.Contains(strings.Join(h.ephemerals("UBOB"), ""), "only the run's admins") {
		t.Errorf("a non-admin's shortcut: ideas %d, answers %q", len(h.ctrl.ideas), h.ephemerals("UBOB"))
	}
}
