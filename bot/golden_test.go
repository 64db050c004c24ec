package bot

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// The main renderings people see are golden files: a change to what the
// channel shows is a visible diff in review. Regenerate with
//
//	go test ./bot -run TestGolden -update
//
// and read the diff (they are drawn at phone width, 44 columns).
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const phoneColumns = 44

// phoneRender draws a message roughly as a phone shows it: the blocks
// wrapped at phone width, then the notification text.
func phoneRender(t *testing.T, text string, blocks json.RawMessage) string {
	t.Helper()
	var b strings.Builder
	if len(blocks) > 0 {
		var bs []map[string]any
		if err := json.Unmarshal(blocks, &bs); err != nil {
			t.Fatalf("blocks: %v", err)
		}
		for _, blk := range bs {
			switch blk["type"] {
			case "header":
				b.WriteString(wrap("▌ "+blockString(blk["text"]), phoneColumns) + "\n")
			case "section":
				b.WriteString(wrap(blockString(blk["text"]), phoneColumns) + "\n")
			case "context":
				elems, _ := blk["elements"].([]any)
				var parts []string
				for _, e := range elems {
					parts = append(parts, blockString(e))
				}
				b.WriteString(wrap("· "+strings.Join(parts, "  "), phoneColumns) + "\n")
			case "actions":
				elems, _ := blk["elements"].([]any)
				var parts []string
				for _, e := range elems {
					m, _ := e.(map[string]any)
					parts = append(parts, "["+blockString(m["text"])+"]")
				}
				b.WriteString(wrap(strings.Join(parts, " "), phoneColumns) + "\n")
			case "divider":
				b.WriteString(strings.Repeat("─", phoneColumns) + "\n")
			case "image":
				fmt.Fprintf(&b, "[image: %v]\n", blk["alt_text"])
			default:
				fmt.Fprintf(&b, "[%v block]\n", blk["type"])
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("notification: " + asShown(text) + "\n")
	return b.String()
}

func blockString(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["text"].(string)
	return asShown(s)
}

var (
	shownLink    = regexp.MustCompile(`<https?://[^|>]+\|([^>]*)>`)
	shownMention = regexp.MustCompile(`<@([A-Z0-9]+)>`)
)

// asShown turns Slack markup into what a reader sees: link labels (marked
// ↗), @mentions and decoded entities.
func asShown(s string) string {
	s = shownLink.ReplaceAllString(s, "${1}↗")
	s = shownMention.ReplaceAllString(s, "@$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// wrap breaks lines longer than width at spaces (code lines are cut
// where they must be, as a phone does).
func wrap(s string, width int) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for len([]rune(line)) > width {
			r := []rune(line)
			cut := strings.LastIndex(string(r[:width]), " ")
			if cut <= 0 {
				cut = len(string(r[:width]))
			}
			out = append(out, strings.TrimRight(line[:cut], " "))
			line = strings.TrimLeft(line[cut:], " ")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./bot -run TestGolden -update` to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed; if that is intended, rerun with -update and review the diff.\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func goldenExp(number int, status, desc string) research.Experiment {
	e := research.Experiment{
		ID: int64(40 + number), RunID: 7, Number: number, Description: desc, Status: status,
		Diff:      "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -30,3 +30,3 @@\n-MATRIX_LR = 0.04\n+MATRIX_LR = 0.06\n WARMUP = 0.0\n-DEPTH = 8\n+DEPTH = 12\n",
		StartedAt: time.Date(2026, 3, 20, 1, 0, 0, 0, time.UTC),
	}
	return e
}

func TestGoldenExperimentMessages(t *testing.T) {
	ideas := []ideaRef{{ID: 3, Author: "UALICE", Text: "try MATRIX_LR < 0.08 & a deeper model"}}
	running := goldenExp(12, research.StatusRunning, "raise MATRIX_LR to 0.06 and depth 8 → 12")
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

	repeat := goldenExp(2, research.StatusDiscard, "baseline (repeat 1/2)")
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
		for _, p := range payloadProblems("chat.postMessage", map[string][]string{"text": {text}, "blocks": {string(blocks)}}, nil) {
			t.Errorf("%s: %s", c.name, p)
		}
		golden(t, c.name, phoneRender(t, text, blocks))
	}
	review := research.ReviewRequest{ID: "7-13-1", Number: 13, Description: "depth 8 → 12 & warmup 200", Diff: running.Diff,
		Ideas: []research.Idea{{ID: 3, Author: "UALICE", Text: "a deeper model"}}, Deadline: time.Date(2026, 3, 20, 3, 12, 0, 0, time.UTC), OnTimeout: research.ReviewApprove}
	rtext, rbs := reviewMessage(review, true)
	golden(t, "review.txt", phoneRender(t, rtext, blocksJSON(rbs...)))
	golden(t, "new-best.txt", "notification: "+asShown(newBestText(kept, keptVerdict, &best, ideas))+"\n")
}

func TestGoldenRunHeaderStatusAndDigest(t *testing.T) {
	run := research.Run{ID: 7, Tag: "mar20", Branch: "autoresearch/mar20", GPU: "NVIDIA H100 80GB", Model: "gpt-5",
		StartedBy: "UALICE", BestValBPB: 0.9931, Noise: 0.0004}
	text, blocks := runHeader(run, "started", limits{budget: 5 * time.Minute, budgetFrom: "prepare.py", timeout: 10 * time.Minute}, "/autoresearch")
	golden(t, "run-header.txt", phoneRender(t, text, blocks))

	base := goldenExp(1, research.StatusKeep, "baseline")
	base.Kind = research.KindBaseline
	base.Summary.ValBPB = 0.9978
	best := goldenExp(9, research.StatusKeep, "increase LR to 0.04")
	best.Summary.ValBPB, best.Commit = 0.9931, "abcdef0123456789"
	cur := goldenExp(12, research.StatusRunning, "try muon")
	st := research.Status{
		Run: &run, Active: true, Phase: research.PhaseProposing, Proposing: 13,
		Current: &cur, Progress: &research.Progress{Percent: 41, Loss: 3.21, Remaining: 177 * time.Second},
		Best: &best, Baseline: &base,
		Counts: research.Counts{Keep: 4, Discard: 5, Crash: 1, Running: 1, Repeats: 2},
		Usage:  research.Usage{PromptTokens: 1_234_567, CompletionTokens: 30_500}, CostUSD: 3.42,
		OpenIdeas: []research.Idea{{ID: 3, Text: "try muon", Author: "UALICE"}},
	}
	golden(t, "status.txt", FormatStatus(st))

	recent := []research.Experiment{base, best}
	home := homeView(st, recent, true, "/autoresearch", time.Date(2026, 3, 20, 7, 58, 0, 0, time.UTC))
	var hv struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(home, &hv); err != nil {
		t.Fatal(err)
	}
	for _, p := range blocksProblems(string(hv.Blocks), limitViewBlocks) {
		t.Errorf("App Home: %s", p)
	}
	golden(t, "app-home.txt", phoneRender(t, "(App Home)", hv.Blocks))

	history, night := digestCrafted()
	d := BuildDigest(history, night, digestIdeas(), 0, digestFrom, digestTo)
	d.Tag, d.NoiseFloor = "mar3", 0.002
	d.Training = TrainingNow(research.Status{Current: &cur, Progress: &research.Progress{Percent: 41, Remaining: 13 * time.Minute}}, digestTo.Add(-time.Minute))
	link := func(e research.Experiment) string {
		return fmt.Sprintf("https://team.slack.com/archives/C1/p%d", 1000+e.Number)
	}
	out := "notification: " + asShown(d.Text()) + "\n\n"
	for i, th := range d.ThreadTexts(link) {
		out += fmt.Sprintf("── thread reply %d ──\n%s\n", i+1, wrap(asShown(th), phoneColumns))
		for _, p := range textProblems(fmt.Sprintf("thread reply %d", i+1), th) {
			t.Errorf("digest: %s", p)
		}
	}
	golden(t, "digest.txt", out)
}
