package slack

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
	"github.com/autoresearch/autoresearch/bot/slacktest"
	"github.com/autoresearch/autoresearch/research"
)

func TestGoldenExperimentMessages(t *testing.T) {
	ideas := []ideaRef{{ID: 3, Author: "UALICE", Text: "try MATRIX_LR < 0.08 & a deeper model"}}
	running := bottest.GoldenExp(12, research.StatusRunning, "raise MATRIX_LR to 0.06 and depth 8 → 12")
	progress := &research.Progress{Percent: 41, Loss: 3.214, Remaining: 177 * time.Second}

	kept := running
	kept.Status, kept.Reason = research.StatusKeep, "improved by 0.004700"
	kept.Summary = research.Summary{ValBPB: 0.993100, PeakVRAMMB: 45056}
	kept.TrainSeconds = 300
	keptVerdict := research.Verdict{Value: 0.9931, Against: 0.9978, AgainstNumbers: []int{1, 2, 3}, Noise: 0.0004, NewBest: true}

	discard := running
	discard.Status, discard.Reason = research.StatusDiscard, "no improvement (+0.005900)"
	discard.Summary = research.Summary{ValBPB: 0.999000, PeakVRAMMB: 45056}
	discard.TrainSeconds = 301

	crash := running
	crash.Status, crash.Reason = research.StatusCrash, "out of memory (torch.OutOfMemoryError; exit status 1)"
	crash.TrainSeconds = 42

	stopped := running
	stopped.Status, stopped.Reason = research.StatusCrash, research.ReasonStopped
	stopped.TrainSeconds = 95

	stoppedEarly := running
	stoppedEarly.Status, stoppedEarly.Reason = research.StatusDiscard, "stopped early at 62%: loss 3.41 vs best 3.30 (#9, margin 0.033)"
	stoppedEarly.TrainSeconds = 186

	repeat := bottest.GoldenExp(2, research.StatusDiscard, "baseline (repeat 1/2)")
	repeat.Kind = research.KindBaselineRepeat
	repeat.Diff = ""
	repeat.Summary = research.Summary{ValBPB: 0.998200}
	repeat.Reason = "baseline repeat: mean 0.997800, noise 0.000400 over 2 runs"

	best := kept
	best.Number = 9
	cases := []struct {
		name string
		view expView
	}{
		{"experiment-started.txt", expView{Exp: running, Ideas: ideas}},
		{"experiment-training.txt", expView{Exp: running, Ideas: ideas, Progress: progress}},
		{"experiment-kept.txt", expView{Exp: kept, Best: &best, Verdict: &keptVerdict, Ideas: ideas}},
		{"experiment-discarded.txt", expView{Exp: discard, Best: &best, Verdict: &research.Verdict{Value: 0.999, Against: 0.9931, AgainstNumbers: []int{9}, Noise: 0.0004}}},
		{"experiment-crashed.txt", expView{Exp: crash, Best: &best}},
		{"experiment-stopped.txt", expView{Exp: stopped, Best: &best}},
		{"experiment-stopped-early.txt", expView{Exp: stoppedEarly, Best: &best}},
		{"experiment-baseline-repeat.txt", expView{Exp: repeat}},
	}
	for _, c := range cases {
		text, blocks := c.view.render()
		for _, p := range slacktest.PayloadProblems("chat.postMessage", map[string][]string{"text": {text}, "blocks": {string(blocks)}}, nil) {
			t.Errorf("%s: %s", c.name, p)
		}
		bottest.Golden(t, c.name, bottest.PhoneRender(t, text, blocks))
	}
	review := research.ReviewRequest{ID: "7-13-1", Number: 13, Description: "depth 8 → 12 & warmup 200", Diff: running.Diff,
		Ideas: []research.Idea{{ID: 3, Author: "UALICE", Text: "a deeper model"}}, Deadline: time.Date(2026, 3, 20, 3, 12, 0, 0, time.UTC), OnTimeout: research.ReviewApprove}
	rtext, rbs := reviewMessage(review, true)
	bottest.Golden(t, "review.txt", bottest.PhoneRender(t, rtext, blocksJSON(rbs...)))
	bottest.Golden(t, "new-best.txt", "notification: "+bottest.AsShown(newBestText(kept, keptVerdict, &best, ideas))+"\n")
}

func TestGoldenRunHeaderAndAppHome(t *testing.T) {
	st := bottest.GoldenStatus()
	text, blocks := runHeader(*st.Run, "started", limits{budget: 5 * time.Minute, budgetFrom: "prepare.py", timeout: 10 * time.Minute}, "/autoresearch")
	bottest.Golden(t, "run-header.txt", bottest.PhoneRender(t, text, blocks))

	recent := []research.Experiment{*st.Baseline, *st.Best}
	home := homeView(st, recent, true, "/autoresearch", time.Date(2026, 3, 20, 7, 58, 0, 0, time.UTC))
	var hv struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(home, &hv); err != nil {
		t.Fatal(err)
	}
	for _, p := range slacktest.BlocksProblems(string(hv.Blocks), slacktest.LimitViewBlocks) {
		t.Errorf("App Home: %s", p)
	}
	bottest.Golden(t, "app-home.txt", bottest.PhoneRender(t, "(App Home)", hv.Blocks))
}
