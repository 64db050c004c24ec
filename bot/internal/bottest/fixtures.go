package bottest

import (
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// GoldenExp is an experiment of run 7 as the golden files show it: a small
// diff to train.py, started at 01:00 UTC on 20 March 2026.
func GoldenExp(number int, status, desc string) research.Experiment {
	return research.Experiment{
		ID: int64(40 + number), RunID: 7, Number: number, Description: desc, Status: status,
		Diff:      "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -30,3 +30,3 @@\n-MATRIX_LR = 0.04\n+MATRIX_LR = 0.06\n WARMUP = 0.0\n-DEPTH = 8\n+DEPTH = 12\n",
		StartedAt: time.Date(2026, 3, 20, 1, 0, 0, 0, time.UTC),
	}
}

// GoldenStatus is the status of run mar20 the golden files show: proposing
// #13 while #12 trains, a baseline, a best, counts, usage and an open idea.
func GoldenStatus() research.Status {
	run := research.Run{ID: 7, Tag: "mar20", Branch: "autoresearch/mar20", GPU: "NVIDIA H100 80GB", Model: "gpt-5",
		StartedBy: "UALICE", BestValBPB: 0.9931, Noise: 0.0004}
	base := GoldenExp(1, research.StatusKeep, "baseline")
	base.Kind = research.KindBaseline
	base.Summary.ValBPB = 0.9978
	best := GoldenExp(9, research.StatusKeep, "increase LR to 0.04")
	best.Summary.ValBPB, best.Commit = 0.9931, "abcdef0123456789"
	cur := GoldenExp(12, research.StatusRunning, "try muon")
	return research.Status{
		Run: &run, Active: true, Phase: research.PhaseProposing, Proposing: 13,
		Current: &cur, Progress: &research.Progress{Percent: 41, Loss: 3.21, Remaining: 177 * time.Second},
		Best: &best, Baseline: &base,
		Counts: research.Counts{Keep: 4, Discard: 5, Crash: 1, Running: 1, Repeats: 2},
		Usage:  research.Usage{PromptTokens: 1_234_567, CompletionTokens: 30_500}, CostUSD: 3.42,
		OpenIdeas: []research.Idea{{ID: 3, Text: "try muon", Author: "UALICE"}},
	}
}
