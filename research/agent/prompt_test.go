package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestFormatHistory(t *testing.T) {
	hist := []research.Experiment{
		{Number: 1, Commit: "c1", Status: research.StatusKeep, Description: "baseline", Summary: research.Summary{ValBPB: 0.9979}},
		{Number: 2, ParentCommit: "c1", Commit: "c2", Status: research.StatusKeep, Description: "lr 0.04", Summary: research.Summary{ValBPB: 0.9930}},
		{Number: 3, ParentCommit: "c2", Commit: "c3", Status: research.StatusDiscard, Description: "gelu\nmlp", Summary: research.Summary{ValBPB: 0.9951}},
		{Number: 4, ParentCommit: "c2", Commit: "c4", Status: research.StatusCrash, Description: "wide", Reason: "timeout after 10m0s"},
		{Number: 4, Attempt: 1, ParentCommit: "c2", Commit: "c5", Status: research.StatusDiscard, Description: "wide (fix: batch)", Summary: research.Summary{ValBPB: 0.9940}},
		{Number: 5, ParentCommit: "c2", Status: research.StatusRunning, Description: "in flight"},
	}
	want := `#1 keep 0.997900 (base) baseline
#2 keep 0.993000 (-0.0049) lr 0.04
#3 discard 0.995100 (+0.0021) gelu mlp
#4 crash wide (timeout after 10m0s)
#4 discard [fix 1] 0.994000 (+0.0010) wide (fix: batch)
`
	if got := formatHistory(hist); got != want {
		t.Errorf("history:\n%s\nwant:\n%s", got, want)
	}
	if got := formatHistory(nil); !strings.Contains(got, "first experiment") {
		t.Errorf("empty history = %q", got)
	}
}

func TestFormatHistoryKeepsRecentLines(t *testing.T) {
	var hist []research.Experiment
	for i := 1; i <= maxHistoryLines+5; i++ {
		hist = append(hist, research.Experiment{Number: i, Status: research.StatusCrash, Description: fmt.Sprintf("idea %d", i)})
	}
	got := formatHistory(hist)
	if !strings.HasPrefix(got, "(5 earlier experiments omitted)\n#6 crash idea 6\n") || !strings.HasSuffix(got, fmt.Sprintf("#%d crash idea %d\n", maxHistoryLines+5, maxHistoryLines+5)) {
		t.Errorf("history head/tail wrong:\n%.200s", got)
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
