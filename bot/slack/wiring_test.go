package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// The GPU telemetry of a finished experiment shows in its message and in
// `status`; a throttled GPU is flagged as not comparable.
func TestTelemetryInExperimentPostAndStatus(t *testing.T) {
	f := newFakeSlack(t)
	ctrl := newSlackFakeCtrl()
	s := newTestSlack(t, f, ctrl, newMemOutbox(), nil)

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	deliver(t, s)
	exp.Status, exp.Summary.ValBPB, exp.Summary.PeakVRAMMB = research.StatusDiscard, 0.998, 45060
	tel := &research.Telemetry{Samples: 150, MeanUtilPct: 97.4, PeakMemoryMB: 45056, MaxTempC: 83, MeanPowerW: 612,
		Throttled: true, ThrottleReason: []string{"sw_thermal"}}
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &exp, Telemetry: tel})
	deliver(t, s)
	upd := f.WaitCalls("chat.update", 1)[0]
	blocks := blockText(t, upd.Form.Get("blocks"))
	for _, want := range []string{"util 97%", "peak 44.0 GB", "max 83°C", "612 W", "NOT COMPARABLE: throttled (sw_thermal)"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("finished post lacks %q:\n%s", want, blocks)
		}
	}
	if !strings.Contains(upd.Form.Get("text"), "NOT COMPARABLE") {
		t.Errorf("the fallback text hides the warning: %q", upd.Form.Get("text"))
	}

	ctrl.status = research.Status{Run: &research.Run{Tag: "t1", Branch: "autoresearch/t1"}, Active: true}
	s.handleCommand(context.Background(), slashRequest{Command: "/autoresearch", Text: "status", UserID: "UBOB",
		ChannelID: slackTestChannel, ResponseURL: f.URL() + "/respond/1"})
	ans := f.WaitCalls("response_url", 1)[0].JSON["text"].(string)
	if !strings.Contains(ans, "last gpu:  #3 GPU util 97%") || !strings.Contains(ans, "NOT COMPARABLE") {
		t.Errorf("status lacks the telemetry:\n%s", ans)
	}
}

func TestTelemetryComparableAndShared(t *testing.T) {
	ok := render.FormatTelemetry(research.Telemetry{Samples: 3, MeanUtilPct: 99, PeakMemoryMB: 2048, MaxTempC: 60, MeanPowerW: 300})
	if ok != "GPU util 99% · peak 2.0 GB · max 60°C · 300 W" {
		t.Errorf("comparable telemetry = %q", ok)
	}
	shared := render.FormatTelemetry(research.Telemetry{Samples: 3, MeanUtilPct: 50, Shared: true, SharedBy: []string{"pid 4242 (python3)"}})
	if !strings.HasSuffix(shared, "NOT COMPARABLE: shared with pid 4242 (python3)") {
		t.Errorf("shared telemetry = %q", shared)
	}
}

// The run header names the GPU inventory and the noise floor when known.
func TestRunHeaderShowsGPUAndNoise(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	run := research.Run{ID: 3, Tag: "t1", Branch: "autoresearch/t1", GPU: "GPU 0: NVIDIA H100 80GB HBM3, 80 GiB (driver 550.54.15, CUDA 12.4)",
		Noise: 0.000412, BestValBPB: 0.99}
	s.Event(research.Event{Kind: research.EventRunStarted, Run: run, Text: "resumed"})
	deliver(t, s)
	post := f.WaitCalls("chat.postMessage", 1)[0]
	blocks := blockText(t, post.Form.Get("blocks"))
	for _, want := range []string{"Run t1 resumed", "NVIDIA H100 80GB HBM3", "noise floor* ±0.000412"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("header lacks %q:\n%s", want, blocks)
		}
	}
	run.Noise = 0
	if _, b := runHeader(run, "started", limits{}, "/autoresearch"); strings.Contains(string(b), "noise") {
		t.Errorf("an unknown noise floor is shown: %s", b)
	}
}

func TestStatusShowsSlotsWhenSeveral(t *testing.T) {
	cur := research.Experiment{Number: 7, Description: "wider MLP", Status: research.StatusRunning}
	st := research.Status{Run: &research.Run{Tag: "t1", Branch: "autoresearch/t1"}, Active: true, Phase: research.PhaseTraining,
		Slots: []research.SlotStatus{{Name: "gpu0", Current: &cur, Progress: &research.Progress{Percent: 40}}, {Name: "gpu1"}}}
	out := render.FormatStatus(st)
	for _, want := range []string{"slots (2):", "gpu0", "#7 wider MLP", "40%", "gpu1     idle"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	st.Slots = st.Slots[:1]
	if out := render.FormatStatus(st); strings.Contains(out, "slots") {
		t.Errorf("a single slot is listed:\n%s", out)
	}
}

// A plateau message invites ideas: a reply in its thread is pinned like a
// reply under an experiment.
func TestPlateauThreadReplyBecomesIdea(t *testing.T) {
	f := newFakeSlack(t)
	ctrl := newSlackFakeCtrl()
	out := newMemOutbox()
	s := newTestSlack(t, f, ctrl, out, nil)
	s.Event(research.Event{Kind: research.EventPlateau, Run: research.Run{ID: 7}, Number: 12,
		Text: "5 experiments without an improvement; reply here with ideas."})
	deliver(t, s)
	post := f.WaitCalls("chat.postMessage", 1)[0]
	if !strings.Contains(post.Form.Get("text"), "Plateau") || !strings.Contains(post.Form.Get("text"), "reply here") {
		t.Fatalf("plateau post = %q", post.Form.Get("text"))
	}
	ts := "1700000000.000001" // the fake's first ts
	s.handleMessage(context.Background(), messageEvent{Type: "message", Channel: slackTestChannel, User: "UBOB",
		Text: "try a cosine schedule", TS: "1700000005.000100", ThreadTS: ts})
	ctrl.mu.Lock()
	ideas := append([]research.Idea(nil), ctrl.ideas...)
	ctrl.mu.Unlock()
	if len(ideas) != 1 || ideas[0].Text != "try a cosine schedule" || ideas[0].ThreadTS != ts || ideas[0].Source != "thread" {
		t.Fatalf("ideas = %+v", ideas)
	}
	deliver(t, s)
	if r := f.WaitCalls("reactions.add", 1)[0]; r.Form.Get("timestamp") != "1700000005.000100" {
		t.Errorf("reaction = %v", r.Form)
	}
}

// A pause in the channel says which command goes on.
func TestPausePostSaysHowToResume(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	s.Event(research.Event{Kind: research.EventPaused, Run: research.Run{ID: 7, Tag: "t1"}, Text: "the proposer has nothing left to try"})
	deliver(t, s)
	text := f.WaitCalls("chat.postMessage", 1)[0].Form.Get("text")
	if !strings.Contains(text, "nothing left to try") || !strings.Contains(text, "Resume with `/autoresearch resume`") {
		t.Fatalf("pause post = %q", text)
	}
}
