package render

import (
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                     "0s",
		-3 * time.Second:                      "0s",
		400 * time.Millisecond:                "0s",
		600 * time.Millisecond:                "1s",
		42 * time.Second:                      "42s",
		59*time.Second + 700*time.Millisecond: "1m00s",
		5*time.Minute + 2*time.Second:         "5m02s",
		10 * time.Minute:                      "10m00s",
		time.Hour + 5*time.Minute + 59*time.Second: "1h05m",
		26 * time.Hour: "26h00m",
	}
	for d, want := range cases {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func exp(n int, status string, val, vramMB, secs float64, desc string) research.Experiment {
	return research.Experiment{
		Number: n, Status: status, Description: desc, TrainSeconds: secs,
		Commit:  "abcdef0123456789abcdef0123456789abcdef01",
		Summary: research.Summary{ValBPB: val, PeakVRAMMB: vramMB},
	}
}

// baselineExp marks e as the run's baseline.
func baselineExp(e research.Experiment) research.Experiment {
	e.Kind = research.KindBaseline
	return e
}

func TestFormatExperimentLine(t *testing.T) {
	crash := exp(13, research.StatusCrash, 0, 0, 72, "add flash\nattention")
	crash.Reason = "CUDA out of memory"
	noTime := exp(2, research.StatusDiscard, 1.01, 0, 0, "")
	noTime.Summary.TotalSeconds = 65
	early := exp(15, research.StatusDiscard, 0, 0, 186, "deeper")
	early.Reason = "stopped early at 62%: loss 3.41 vs best 3.30 (#9, margin 0.033)"
	cases := []struct {
		e    research.Experiment
		best float64
		want string
	}{
		{exp(12, research.StatusKeep, 0.9931, 44.0*1024, 302, "increase LR to 0.04"), 0.9978,
			"#12 keep    0.993100 (-0.004700)  44.0 GB  5m02s  increase LR to 0.04"},
		{exp(4, research.StatusDiscard, 1.0001, 45056, 300, "wider MLP"), 0.9978,
			"#4 discard 1.000100 (+0.002300)  44.0 GB  5m00s  wider MLP"},
		{baselineExp(exp(1, research.StatusKeep, 0.9978, 45056, 300, "baseline")), 0,
			"#1 keep    0.997800  44.0 GB  5m00s  baseline"},
		{crash, 0.99, "#13 crash   1m12s  add flash attention  (CUDA out of memory)"},
		{exp(14, research.StatusRunning, 0, 0, 0, "try muon"), 0.99, "#14 running try muon"},
		{noTime, 0, "#2 discard 1.010000  1m05s"},
		{early, 0.99, "#15 discard 3m06s  deeper  (stopped early at 62%: loss 3.41 vs best 3.30 (#9, margin 0.033))"},
	}
	for _, c := range cases {
		if got := FormatExperimentLine(c.e, c.best); got != c.want {
			t.Errorf("FormatExperimentLine(#%d)\n got %q\nwant %q", c.e.Number, got, c.want)
		}
	}
}

func TestFormatExperiment(t *testing.T) {
	e := exp(12, research.StatusKeep, 0.9931, 45056, 302, "increase LR to 0.04")
	e.ParentCommit = "1234567890"
	e.Reason = "improved by 0.004700"
	e.Summary.NumSteps = 953
	e.Summary.Depth = 8
	e.Summary.MFUPercent = 39.8
	e.PromptTokens, e.CompletionTokens, e.ProposeSeconds = 12345, 678, 21
	e.StartedAt = time.Date(2026, 3, 20, 14, 2, 11, 0, time.UTC)
	e.GPU = "0"
	e.DiffStat = " train.py | 2 +-\n"
	e.Diff = "--- a/train.py\n+++ b/train.py\n-LR = 0.02\n+LR = 0.04\n"
	want := `#12 keep    0.993100  44.0 GB  5m02s  increase LR to 0.04
commit:  abcdef0 (on 1234567)
reason:  improved by 0.004700
summary: val_bpb 0.993100, 44.0 GB, mfu 39.8%, 953 steps, depth 8
propose: 21s, 12.3k prompt + 678 completion tokens
started: 2026-03-20 14:02:11 on gpu 0
 train.py | 2 +-

--- a/train.py
+++ b/train.py
-LR = 0.02
+LR = 0.04
`
	if got := FormatExperiment(e); got != want {
		t.Errorf("FormatExperiment\n got:\n%s\nwant:\n%s", got, want)
	}
	bare := research.Experiment{Number: 5, Status: research.StatusRunning}
	if got, want := FormatExperiment(bare), "#5 running\n(no diff)\n"; got != want {
		t.Errorf("FormatExperiment(bare) = %q, want %q", got, want)
	}
}

func TestFormatStatus(t *testing.T) {
	if got, want := FormatStatus(research.Status{}), "no run yet; start one with \"start TAG\"\n"; got != want {
		t.Errorf("no run: got %q, want %q", got, want)
	}

	base := baselineExp(exp(1, research.StatusKeep, 0.9978, 45056, 300, "baseline"))
	best := exp(9, research.StatusKeep, 0.9931, 45056, 300, "increase LR to 0.04")
	cur := exp(12, research.StatusRunning, 0, 0, 0, "try muon")
	s := research.Status{
		Run:      &research.Run{Tag: "mar20", Branch: "autoresearch/mar20", State: "active", GPU: "NVIDIA H100 80GB", Noise: 0.0004},
		Active:   true,
		Phase:    research.PhaseTraining,
		Current:  &cur,
		Progress: &research.Progress{Percent: 41, Loss: 3.21, Remaining: 177 * time.Second},
		Best:     &best,
		Baseline: &base,
		Counts:   research.Counts{Keep: 4, Discard: 6, Crash: 1, Running: 1},
		Usage:    research.Usage{PromptTokens: 1_234_567, CompletionTokens: 30_500},
		OpenIdeas: []research.Idea{
			{ID: 3, Text: "try muon", Author: "terminal"},
			{ID: 5, Text: "smaller\nbatch", Author: "U123"},
		},
	}
	want := `run mar20 on autoresearch/mar20: training #12
training:  #12 try muon
progress:  [########............] 41%  loss 3.210  2m57s left
best:      #9 0.993100 (-0.004700 vs baseline)  abcdef0  increase LR to 0.04
baseline:  #1 0.997800  (noise ±0.000400)
experiments: 12 (4 keep, 6 discard, 1 crash, 1 running)
tokens:    1.2M prompt + 30.5k completion
gpu:       NVIDIA H100 80GB
open ideas (2):
  [3] try muon  (by terminal)
  [5] smaller batch  (by U123)
`
	if got := FormatStatus(s); got != want {
		t.Errorf("training status\n got:\n%s\nwant:\n%s", got, want)
	}

	idle := research.Status{
		Run:    &research.Run{Tag: "mar19", Branch: "autoresearch/mar19", State: "stopped"},
		Phase:  research.PhaseIdle,
		Counts: research.Counts{Crash: 1},
	}
	want = `run mar19 on autoresearch/mar19: not running (stopped)
best:      none yet
experiments: 1 (0 keep, 0 discard, 1 crash)
open ideas: none
`
	if got := FormatStatus(idle); got != want {
		t.Errorf("idle status\n got:\n%s\nwant:\n%s", got, want)
	}

	paused := research.Status{
		Run: &research.Run{Tag: "t", Branch: "autoresearch/t"}, Active: true,
		Phase: research.PhasePaused, PauseReason: "GPU busy", Best: &base, Baseline: &base,
	}
	want = `run t on autoresearch/t: paused (GPU busy)
best:      #1 0.997800  abcdef0  baseline
baseline:  #1 0.997800
experiments: 0 (0 keep, 0 discard, 0 crash)
open ideas: none
`
	if got := FormatStatus(paused); got != want {
		t.Errorf("paused status\n got:\n%s\nwant:\n%s", got, want)
	}

	proposing := research.Status{Run: &research.Run{Tag: "t", Branch: "autoresearch/t"}, Active: true, Phase: research.PhaseProposing, Proposing: 7}
	want = `run t on autoresearch/t: proposing #7
best:      none yet
experiments: 0 (0 keep, 0 discard, 0 crash)
open ideas: none
`
	if got := FormatStatus(proposing); got != want {
		t.Errorf("proposing status\n got:\n%s\nwant:\n%s", got, want)
	}
	// Pipelined: the loop proposes #13 while #12 trains; status names one
	// phase, training, and says the next is being prepared.
	s.Phase, s.Proposing = research.PhaseProposing, 13
	if got := FormatStatus(s); !strings.HasPrefix(got, "run mar20 on autoresearch/mar20: training #12, preparing #13\ntraining:  #12 try muon\n") ||
		strings.Contains(got, "proposing") {
		t.Errorf("pipelined status:\n%s", got)
	}
}

func TestFormatResultsTable(t *testing.T) {
	if got := FormatResultsTable(nil); got != "no experiments yet\n" {
		t.Errorf("empty table = %q", got)
	}
	crash := exp(4, research.StatusCrash, 0, 0, 12, "flash attention")
	crash.Reason = "OOM"
	running := exp(5, research.StatusRunning, 0, 0, 0, "try muon")
	running.Commit = ""
	early := exp(11, research.StatusDiscard, 0, 0, 62, "deeper")
	early.Reason = "stopped early at 20%: loss 4.20 vs best 3.85"
	exps := []research.Experiment{
		baselineExp(exp(1, research.StatusKeep, 0.9978, 45056, 300, "baseline")),
		exp(2, research.StatusDiscard, 1.0001, 45056, 301, "wider MLP"),
		exp(3, research.StatusKeep, 0.9931, 46080, 302, "increase LR to 0.04"),
		crash,
		running,
		exp(10, research.StatusDiscard, 0.9950, 46080, 3725, "x"),
		early,
	}
	got := FormatResultsTable(exps)
	want := ` #  commit    val_bpb      delta  mem GB  status    time  description
 1  abcdef0  0.997800          -    44.0  keep     5m00s  baseline
 2  abcdef0  1.000100  +0.002300    44.0  discard  5m01s  wider MLP
 3  abcdef0  0.993100  -0.004700    45.0  keep     5m02s  increase LR to 0.04
 4  abcdef0         -          -       -  crash      12s  flash attention (OOM)
 5  -               -          -       -  running      -  try muon
10  abcdef0  0.995000  +0.001900    45.0  discard  1h02m  x
11  abcdef0         -          -       -  discard  1m02s  deeper (stopped early at 20%: loss 4.20 vs best 3.85)
`
	if got != want {
		t.Errorf("table\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatIdeas(t *testing.T) {
	if got, want := FormatIdeas(nil), "no open ideas; add one with \"idea TEXT\"\n"; got != want {
		t.Errorf("no ideas: %q, want %q", got, want)
	}
	ideas := []research.Idea{
		{ID: 3, Text: "try  muon\noptimizer", Author: "terminal"},
		{ID: 4, Text: "cosine", ConsumedBy: 9},
		{ID: 7, Text: "rope", Author: "U1", Unpinned: true},
	}
	want := "[3] try muon optimizer  (by terminal)\n[4] cosine  (used)\n[7] rope  (by U1, unpinned)\n"
	if got := FormatIdeas(ideas); got != want {
		t.Errorf("FormatIdeas\n got %q\nwant %q", got, want)
	}
}

func TestFormatLogTail(t *testing.T) {
	log := "loading\nstep 1 (1%)\rstep 2 (2%)\rstep 3 (3%)\n---\nval_bpb: 0.99\n"
	if got, want := FormatLogTail(log, 3), "step 3 (3%)\n---\nval_bpb: 0.99\n"; got != want {
		t.Errorf("tail 3 = %q, want %q", got, want)
	}
	if got, want := FormatLogTail("a\nb", 10), "a\nb\n"; got != want {
		t.Errorf("short log = %q, want %q", got, want)
	}
	if got := FormatLogTail("", 10); got != "" {
		t.Errorf("empty log = %q", got)
	}
}
