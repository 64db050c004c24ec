package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// publishedHome decodes the view of the nth views.publish call.
func publishedHome(t *testing.T, f *fakeSlack, n int) (user, text string, blocks []map[string]any) {
	t.Helper()
	c := f.WaitCalls("views.publish", n)[n-1]
	var req struct {
		UserID string `json:"user_id"`
		View   struct {
			Type   string           `json:"type"`
			Blocks []map[string]any `json:"blocks"`
		} `json:"view"`
	}
	if err := json.Unmarshal(c.Body, &req); err != nil {
		t.Fatalf("views.publish body %s: %v", c.Body, err)
	}
	if req.View.Type != "home" {
		t.Fatalf("published a %q view", req.View.Type)
	}
	raw, _ := json.Marshal(req.View.Blocks)
	return req.UserID, blockText(t, string(raw)), req.View.Blocks
}

func TestAppHomeShowsTheRunAndIsRefreshedByResults(t *testing.T) {
	h := newHTTPHarness(t, "UALICE")
	cur := research.Experiment{ID: 12, RunID: 7, Number: 12, Description: "try muon", Status: research.StatusRunning}
	best := research.Experiment{ID: 2, RunID: 7, Number: 2, Description: "LR 0.04", Status: research.StatusKeep, Summary: research.Summary{ValBPB: 0.9931}}
	base := research.Experiment{ID: 1, RunID: 7, Number: 1, Kind: research.KindBaseline, Description: "baseline", Status: research.StatusKeep, Summary: research.Summary{ValBPB: 0.9978}}
	h.ctrl.status = research.Status{Active: true, Phase: research.PhaseTraining,
		Run:     &research.Run{ID: 7, Tag: "mar20", Branch: "autoresearch/mar20", Noise: 0.0004},
		Current: &cur, Progress: &research.Progress{Percent: 41, Loss: 3.21, Remaining: 177 * time.Second},
		Best: &best, Baseline: &base, Counts: research.Counts{Keep: 2, Discard: 7, Running: 1},
		OpenIdeas: []research.Idea{{ID: 3, Text: "try <rotary>", Author: "UBOB"}}}
	h.ctrl.exps[2], h.ctrl.exps[1] = best, base

	h.event("EvHome1", map[string]any{"type": "app_home_opened", "user": "UALICE", "tab": "home"})
	h.s.tasks.Wait()
	user, text, blocks := publishedHome(t, h.f, 1)
	if user != "UALICE" {
		t.Errorf("published for %q", user)
	}
	for _, want := range []string{"`mar20`", "training #12", "try muon", "41%", "*Best* #2 0.993100 (-0.004700 vs baseline)",
		"noise floor ±0.000400", "*10 experiments*: 2 keep", "[3] try &lt;rotary&gt; (<@UBOB>)", "✅ *#2* 0.993100 LR 0.04 · _keep_"} {
		if !strings.Contains(text, want) {
			t.Errorf("App Home lacks %q:\n%s", want, text)
		}
	}
	hasButtons := func(bs []map[string]any) bool {
		for _, b := range bs {
			if b["type"] == "actions" {
				return true
			}
		}
		return false
	}
	if !hasButtons(blocks) {
		t.Error("an admin's App Home has no Pause/Resume/Stop buttons")
	}
	h.event("EvHome2", map[string]any{"type": "app_home_opened", "user": "UBOB", "tab": "home"})
	h.s.tasks.Wait()
	if user, _, blocks := publishedHome(t, h.f, 2); user != "UBOB" || hasButtons(blocks) {
		t.Errorf("a non-admin's App Home (%s) shows the run's buttons", user)
	}

	// A result refreshes both Home tabs (once, however many events).
	h.now = h.now.Add(time.Minute)
	done := cur
	done.Status, done.Summary.ValBPB = research.StatusDiscard, 0.999
	h.s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &done})
	h.s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &research.Experiment{RunID: 7, Number: 13, Status: research.StatusRunning}})
	h.f.WaitCalls("views.publish", 4)
	h.s.tasks.Wait()
	if n := len(h.f.CallsTo("views.publish")); n != 4 {
		t.Errorf("%d publishes, want 2 opens and one refresh of each", n)
	}
}
