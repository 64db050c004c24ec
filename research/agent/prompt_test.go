package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestFormatHistoryShort(t *testing.T) {
	hist := []research.Experiment{
		{Number: 1, Commit: "c1", Status: research.StatusKeep, Description: "baseline", Summary: research.Summary{ValBPB: 0.9979}},
		{Number: 2, ParentCommit: "c1", Commit: "c2", Status: research.StatusKeep, Description: "lr 0.04", Summary: research.Summary{ValBPB: 0.9930}},
		{Number: 3, ParentCommit: "c2", Commit: "c3", Status: research.StatusDiscard, Description: "gelu\nmlp", Summary: research.Summary{ValBPB: 0.9951}},
		{Number: 4, ParentCommit: "c2", Commit: "c4", Status: research.StatusCrash, Description: "wide", Reason: "timeout after 10m0s"},
		{Number: 4, Attempt: 1, ParentCommit: "c2", Commit: "c5", Status: research.StatusDiscard, Description: "wide (fix: batch)", Summary: research.Summary{ValBPB: 0.9940}},
		{Number: 5, ParentCommit: "c2", Commit: "c6", Status: research.StatusDiscard, Description: "tiny wd", Summary: research.Summary{ValBPB: 0.9935}},
		{Number: 6, ParentCommit: "c2", Status: research.StatusRunning, Description: "in flight"},
		{Number: 7, ParentCommit: "c2", Commit: "c7", Status: research.StatusDiscard, Description: "depth 4", Reason: "stopped early at 31%: loss 4.10 vs best 3.92"},
	}
	// #5 is 0.0005 above the best: within 0.1% of it, a near miss.
	want := `#1 keep 0.997900 (base) baseline
#2 keep 0.993000 (-0.0049) lr 0.04
#3 discard 0.995100 (+0.0021) gelu mlp
#4 crash wide (timeout after 10m0s)
#4 discard [fix 1] 0.994000 (+0.0010) wide (fix: batch)
#5 discard [near miss] 0.993500 (+0.0005) tiny wd
#7 discard depth 4 (stopped early at 31%: loss 4.10 vs best 3.92)
`
	if got := FormatHistory(research.ProposalRequest{History: hist}, HistoryBudget{}); got != want {
		t.Errorf("history:\n%s\nwant:\n%s", got, want)
	}
	// With a measured noise of 0.0002, #5 is no longer within it.
	got := FormatHistory(research.ProposalRequest{History: hist, Noise: 0.0002}, HistoryBudget{})
	if !strings.Contains(got, "#5 discard 0.993500 (+0.0005) tiny wd\n") {
		t.Errorf("with noise 0.0002, #5 is still a near miss:\n%s", got)
	}
	if got := FormatHistory(research.ProposalRequest{}, HistoryBudget{}); !strings.Contains(got, "first experiment") {
		t.Errorf("empty history = %q", got)
	}
}

func TestBuildPromptPlateau(t *testing.T) {
	dir := newRepo(t)
	const want = "15 experiments without an improvement: propose a structurally different idea " +
		"(architecture, optimizer, schedule, data order), not another small tweak of a constant already tried."
	for _, tc := range []struct {
		name         string
		since, after int
		fix          bool
		show         bool
	}{
		{"at the threshold", 15, 15, false, true},
		{"below it", 14, 15, false, false},
		{"disabled", 40, 0, false, false},
		{"crash fix keeps its idea", 15, 15, true, false},
	} {
		req := baseRequest(dir)
		req.SinceKeep, req.PlateauAfter = tc.since, tc.after
		if tc.fix {
			req.Fix = &research.FixRequest{Experiment: research.Experiment{Number: 3}, Attempt: 1}
		}
		got := BuildPrompt(req)
		if has := strings.Contains(got, "## Plateau\n"); has != tc.show {
			t.Errorf("%s: plateau section shown = %v, want %v", tc.name, has, tc.show)
		}
		if tc.show && !strings.Contains(got, want) {
			t.Errorf("%s: prompt lacks %q:\n%s", tc.name, want, got)
		}
	}
	req := baseRequest(dir)
	req.SinceKeep, req.PlateauAfter = 22, 15
	if got := BuildPrompt(req); !strings.Contains(got, "22 experiments without an improvement") {
		t.Errorf("plateau count not SinceKeep:\n%s", got)
	}
}

func TestBuildPromptFixAndFeedback(t *testing.T) {
	dir := newRepo(t)
	req := baseRequest(dir)
	req.Best = &research.Experiment{Number: 1, Commit: "aaaaaaa111", Description: "baseline", Summary: research.Summary{ValBPB: 0.9919}}
	req.Feedback = "prepare.py was modified"
	req.Fix = &research.FixRequest{
		Experiment: research.Experiment{Number: 3, Description: "double width", Reason: "CUDA out of memory"},
		LogTail:    "Traceback (most recent call last):\n```\ntorch.OutOfMemoryError",
		Attempt:    1,
	}
	got := BuildPrompt(req)
	for _, s := range []string{
		"Best so far: #1 val_bpb 0.991900 (aaaaaaa) baseline",
		"Your previous proposal was refused\nprepare.py was modified",
		"Crash to fix (fix attempt 1)",
		`Experiment #3 "double width" crashed (CUDA out of memory)`,
		"Fix this same idea",
		// the log contains a fence, so a longer one wraps it
		"````\nTraceback (most recent call last):\n```\ntorch.OutOfMemoryError\n````\n",
		"Read-only (must never change): prepare.py",
		"Repository root: prepare.py program.md train.py",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("prompt lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(BuildPrompt(baseRequest(dir)), "Crash to fix") {
		t.Errorf("prompt without Fix mentions a crash")
	}
}

// TestBuildPromptBestMean: when the best is a mean (the baseline with its
// repeats, a confirmed keep), the prompt says which value the judge uses.
func TestBuildPromptBestMean(t *testing.T) {
	dir := newRepo(t)
	req := baseRequest(dir)
	req.Best = &research.Experiment{Number: 7, Commit: "bbbbbbb222", Description: "confirm #6: depth 12", Summary: research.Summary{ValBPB: 0.9940}}
	req.BestValue, req.BestNumbers = 0.9920, []int{6, 7}
	want := "Best so far: #7 val_bpb 0.994000, judged as 0.992000, the mean of #6, #7 (bbbbbbb) confirm #6: depth 12"
	if got := BuildPrompt(req); !strings.Contains(got, want) {
		t.Errorf("prompt lacks %q:\n%s", want, got)
	}
}

func TestBuildPromptEditableEdgeCases(t *testing.T) {
	dir := newRepo(t)
	must(t, os.Symlink("prepare.py", filepath.Join(dir, "link.py")))
	req := baseRequest(dir)
	req.Editable = []string{"train.py", "model.py", "link.py"}
	got := BuildPrompt(req)
	if !strings.Contains(got, "### model.py (current content)\n```\n(does not exist yet)\n```") {
		t.Errorf("missing editable file not reported:\n%s", got)
	}
	if strings.Contains(got, "VOCAB = 8192") {
		t.Errorf("prompt followed a symlink to prepare.py:\n%s", got)
	}
}
