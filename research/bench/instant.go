package bench

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Instant is a research.Trainer that trains in no time: it reads the
// constants of the simulated train.py in the job's directory, computes the
// val_bpb the script would print (the same landscape, with a deterministic
// noise of its own) and returns the summary block at once, so that what a
// scenario measures is the harness alone. Calls records when each Train
// call began.
type Instant struct {
	mu    sync.Mutex
	calls []time.Time
}

var _ research.Trainer = (*Instant)(nil)

var kLine = regexp.MustCompile(`(?m)^K\d+ = ([0-9.eE+-]+)\s*$`)

// Train computes the result and writes it to the job's log.
func (t *Instant) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	start := time.Now()
	t.mu.Lock()
	t.calls = append(t.calls, start)
	t.mu.Unlock()
	src, err := os.ReadFile(filepath.Join(job.Dir, "train.py"))
	if err != nil {
		return research.TrainResult{ExitCode: 1, Output: []byte(err.Error() + "\n")}, nil
	}
	val := 1.0
	for _, m := range kLine.FindAllStringSubmatch(string(src), -1) {
		k, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			val += 0.001 * (k - Target) * (k - Target)
		}
	}
	h := fnv.New32a()
	h.Write(src)
	val += 0.0004 * (float64(h.Sum32())/float64(1<<32) - 0.5)
	var out strings.Builder
	out.WriteString("step 00010 (100.0%) | loss: 3.000000 | remaining: 0s\r\n---\n")
	fmt.Fprintf(&out, "val_bpb:          %.6f\ntraining_seconds: 0.0\ntotal_seconds:    0.0\npeak_vram_mb:     1024.0\n", val)
	out.WriteString("mfu_percent:      0.00\ntotal_tokens_M:   1.0\nnum_steps:        10\nnum_params_M:     1.0\ndepth:            1\n")
	if job.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(job.LogPath), 0o755); err == nil {
			_ = os.WriteFile(job.LogPath, []byte(out.String()), 0o644)
		}
	}
	return research.TrainResult{Output: []byte(out.String()), Duration: time.Since(start)}, nil
}

// Calls are the start times of every Train call so far.
func (t *Instant) Calls() []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Time(nil), t.calls...)
}

// Cycles are the times between consecutive Train calls from the index
// from on: with an instant trainer, each is one experiment's whole harness
// cycle (propose, check, commit, record, judge, write results).
func Cycles(calls []time.Time, from int) []time.Duration {
	var out []time.Duration
	for i := max(from, 0) + 1; i < len(calls); i++ {
		out = append(out, calls[i].Sub(calls[i-1]))
	}
	return out
}

// FakeHistory makes n finished experiments numbered from first on, shaped
// like a long run's: mostly discards on a chain of (fictitious) best
// commits, a keep every 25, a crash every 10, each with a diff of about
// 1.5 KB and a 40-line log tail, all worse than worst (so that the real
// best stays the best). For inserting with store.ImportExperiments.
func FakeHistory(runID int64, first, n int, worst float64, finished time.Time) []research.Experiment {
	exps := make([]research.Experiment, 0, n)
	parent := fakeHash(first - 1)
	var tail strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&tail, "step %05d (%.1f%%) | loss: %.6f | lr: 0.000400 | dt: 312ms | tok/s: 1048576 | remaining: %ds\n", i*25, float64(i)*2.5, 3.5-float64(i)*0.01, 300-i*7)
	}
	for i := 0; i < n; i++ {
		num := first + i
		e := research.Experiment{RunID: runID, Number: num, Kind: research.KindProposal, ParentCommit: parent, Commit: fakeHash(num),
			Description: fmt.Sprintf("K%d: %.4f -> %.4f (history filler %d)", num%Constants, Start, Start*0.8, num),
			Status:      research.StatusDiscard, Diff: fakeDiff(num), DiffStat: "train.py | 4 ++--",
			LogTail: tail.String(), LogPath: fmt.Sprintf("/nonexistent/logs/%d.log", num), GPU: "main",
			StartedAt: finished.Add(-time.Second), FinishedAt: finished, TSVWritten: true,
			ProposeSeconds: 0.5, TrainSeconds: 300, TotalSeconds: 301}
		e.Summary = research.Summary{ValBPB: worst + 0.001 + float64(num%97)*0.0001, TrainingSeconds: 300, TotalSeconds: 301,
			PeakVRAMMB: 1024, NumSteps: 1000, NumParamsM: 50, Depth: 8}
		switch {
		case num%10 == 0:
			e.Status, e.Reason, e.Summary = research.StatusCrash, "RuntimeError: CUDA out of memory", research.Summary{}
		case num%25 == 0:
			e.Status, e.Reason = research.StatusKeep, "improved by 0.000100"
			parent = e.Commit
		default:
			e.Reason = "no improvement (+0.001000)"
		}
		exps = append(exps, e)
	}
	return exps
}

func fakeHash(n int) string { return fmt.Sprintf("%040x", 0xf00d0000+n) }

func fakeDiff(n int) string {
	var b strings.Builder
	b.WriteString("diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n")
	fmt.Fprintf(&b, "@@ -%d,30 +%d,30 @@\n", 10+n%50, 10+n%50)
	for i := 0; i < 14; i++ {
		fmt.Fprintf(&b, " # context line %d of the simulated model definition\n", i)
	}
	fmt.Fprintf(&b, "-K%d = %.4f\n+K%d = %.4f\n", n%Constants, Start, n%Constants, Start*0.8+float64(n)*1e-6)
	for i := 14; i < 29; i++ {
		fmt.Fprintf(&b, " # context line %d of the simulated model definition\n", i)
	}
	return b.String()
}
