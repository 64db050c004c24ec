package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/bench"
	"github.com/autoresearch/autoresearch/research/sweep"
)

// Targets of the history scenario (issue 14, point 2).
const (
	targetHistoryRatio = 1.5 // p50 per experiment at the largest size over the smallest
	targetQuery        = time.Second
)

// historyStage is the history scenario at one size: a run holding N
// experiments is resumed and does a few more.
type historyStage struct {
	N       int           `json:"n"`      // experiments stored before the resume
	Ran     int           `json:"ran"`    // experiments run after it
	Resume  time.Duration `json:"resume"` // Start called -> first experiment trains
	Cycle   bench.Dist    `json:"cycle"`  // per-experiment harness time
	Status  time.Duration `json:"status"` // Manager.Status after the run ended (lean rows read from the store)
	Results time.Duration `json:"results_cmd"`
	Digest  time.Duration `json:"digest_cmd"`
	Memory  bench.Memory  `json:"memory"` // after the stage's experiments (before status, results and digest)
}

// historyReport is the history scenario's outcome.
type historyReport struct {
	Sizes  []int          `json:"sizes"`
	PerRun int            `json:"experiments_per_stage"`
	Build  time.Duration  `json:"build_ns"` // inserting the filler experiments, all stages
	Stages []historyStage `json:"stages"`
}

// parseSizes reads --history-sizes: ascending experiment counts, the first
// at least 2 (the baseline and one change); "" or "0" switches the
// scenario off.
func parseSizes(s string) ([]int, error) {
	if s == "" || s == "0" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 || len(out) > 0 && n <= out[len(out)-1] {
			return nil, usagef("--history-sizes takes ascending experiment counts of at least 2, e.g. 10,1000,10000 (got %q)", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchHistory builds one run and, for each size N, tops its history up to
// N experiments with direct store inserts (diffs and log tails included),
// resumes it with the sweep proposer and the instant trainer for per
// experiments, and measures the harness's cycle per experiment, the resume,
// status, `results`, `digest` and the process's memory.
func benchHistory(p benchParams, dir string, sizes []int, per int, logger *slog.Logger, progress io.Writer) (historyReport, error) {
	rep := historyReport{Sizes: sizes, PerRun: per}
	if err := bench.NewRepo(dir, bench.RepoOptions{}); err != nil {
		return rep, err
	}
	repo, err := openRepo(dir)
	if err != nil {
		return rep, err
	}
	cfg := research.Config{
		BaselineRepeats: -1,
		Pipeline:        false, // one experiment at a time: each cycle is the harness's whole work for it
		ProposerName:    "sweep",
		TrainTimeout:    time.Minute,
		Python:          p.Python,
	}.WithDefaults(repo.Root())
	db, err := openStore(cfg.StateDir, repo.Root())
	if err != nil {
		return rep, err
	}
	defer db.Close()
	db.Logger = logger
	ctx := context.Background()
	const tag = "history"
	// The run's real start: the baseline and sweep proposals up to the
	// smallest size, not measured.
	seed := &research.Manager{Repo: repo, Store: db, Proposer: &sweep.Sweep{Seed: int64(p.Seed), Logger: logger},
		Trainer: &bench.Instant{}, Config: cfg, Logger: logger}
	seed.Config.MaxExperiments = sizes[0]
	if _, err := seed.Start(ctx, research.StartRequest{Tag: tag, By: "bench"}); err != nil {
		return rep, err
	}
	if err := waitRun(ctx, seed, sizes[0]); err != nil {
		return rep, err
	}
	for _, n := range sizes {
		st := historyStage{N: n}
		run, err := db.RunByTag(ctx, tag)
		if err != nil {
			return rep, err
		}
		have, err := db.ExperimentsBrief(ctx, run.ID)
		if err != nil {
			return rep, err
		}
		build := time.Now()
		count, next := len(have), have[len(have)-1].Number+1
		for count < n {
			// In chunks, so that building the filler does not set the
			// process's peak memory.
			chunk := min(500, n-count)
			if err := db.ImportExperiments(ctx, run.ID, bench.FakeHistory(run.ID, next, chunk, run.BestValBPB, time.Now())); err != nil {
				return rep, err
			}
			next, count = next+chunk, count+chunk
		}
		rep.Build += time.Since(build)
		have = nil
		n = max(n, count) // a stage's own experiments may pass the next size
		st.N = n
		fmt.Fprintf(progress, "bench: history: resuming at %d experiments, %d more with the sweep proposer and an instant trainer...\n", n, per)
		trainer := &bench.Instant{}
		m := &research.Manager{Repo: repo, Store: db, Proposer: &sweep.Sweep{Seed: int64(p.Seed), Logger: logger},
			Trainer: trainer, Config: cfg, Logger: logger}
		m.Config.MaxExperiments = n + per
		t0 := time.Now()
		if _, err := m.Start(ctx, research.StartRequest{Tag: tag, By: "bench", Resume: true}); err != nil {
			return rep, err
		}
		if err := waitRun(ctx, m, n); err != nil {
			return rep, err
		}
		calls := trainer.Calls()
		if len(calls) > 0 {
			st.Resume = calls[0].Sub(t0)
		}
		st.Ran = len(calls)
		st.Cycle = bench.Summarize(bench.Cycles(calls, 0))
		runtime.GC()
		st.Memory = bench.ReadMemory()
		t1 := time.Now()
		if _, err := m.Status(ctx); err != nil {
			return rep, err
		}
		st.Status = time.Since(t1)
		// The commands as people run them: a process each, start-up included
		// (and their memory is not the harness's).
		if st.Results, err = timeCommand("results", "--repo", dir); err != nil {
			return rep, err
		}
		if st.Digest, err = timeCommand("digest", "--repo", dir); err != nil {
			return rep, err
		}
		rep.Stages = append(rep.Stages, st)
	}
	return rep, nil
}

// timeCommand runs this binary's subcommand and times it.
func timeCommand(args ...string) (time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, args...)
	// Under `go test` this binary is the test binary: the variable makes
	// its TestMain run the command (the real binary ignores it).
	cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return time.Since(t0), nil
}

// waitRun waits for m's run to end (its experiment budget reached).
func waitRun(ctx context.Context, m *research.Manager, n int) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := m.Wait(wctx); err != nil {
		_ = m.Shutdown(ctx)
		return fmt.Errorf("history at %d: the run did not end: %w", n, err)
	}
	return nil
}

// historyFigures are the history scenario's lines of the result table.
func historyFigures(h historyReport, add func(name string, v float64, unit, shown, target string, pass *bool)) {
	if len(h.Stages) == 0 {
		return
	}
	ptrTo := func(b bool) *bool { return &b }
	first, last := h.Stages[0], h.Stages[len(h.Stages)-1]
	for _, st := range h.Stages {
		add(fmt.Sprintf("history: harness time per experiment at %d experiments p50/p95", st.N), ms(st.Cycle.P50), "ms",
			fmtMS(st.Cycle.P50)+" / "+fmtMS(st.Cycle.P95), "", nil)
		add("  resident memory after it (VmRSS, after a GC)", float64(st.Memory.RSSBytes)/(1<<20), "MiB",
			fmt.Sprintf("%.1f MiB", float64(st.Memory.RSSBytes)/(1<<20)), "", nil)
	}
	ratio := 0.0
	if first.Cycle.P50 > 0 {
		ratio = float64(last.Cycle.P50) / float64(first.Cycle.P50)
	}
	add(fmt.Sprintf("history: p50 at %d over p50 at %d", last.N, first.N), ratio, "x", fmt.Sprintf("%.2fx", ratio),
		fmt.Sprintf("<= %.1fx", targetHistoryRatio), ptrTo(first.Cycle.N > 0 && last.Cycle.N > 0 && ratio <= targetHistoryRatio))
	add(fmt.Sprintf("history: resident memory at %d experiments", last.N), float64(last.Memory.RSSBytes)/(1<<20), "MiB",
		fmt.Sprintf("%.1f MiB", float64(last.Memory.RSSBytes)/(1<<20)), fmt.Sprintf("< %d MiB", targetRSS>>20),
		ptrTo(last.Memory.ProcAvailable && last.Memory.RSSBytes < targetRSS))
	slowest := max(last.Resume, last.Status, last.Results, last.Digest)
	add(fmt.Sprintf("history: resume / status / results / digest at %d", last.N), ms(slowest), "ms",
		fmt.Sprintf("%s / %s / %s / %s", fmtMS(last.Resume), fmtMS(last.Status), fmtMS(last.Results), fmtMS(last.Digest)),
		fmt.Sprintf("each < %s", fmtMS(targetQuery)), ptrTo(slowest < targetQuery))
}

// printHistory prints the per-size table of the history scenario.
func printHistory(w io.Writer, h historyReport) {
	if len(h.Stages) == 0 {
		return
	}
	fmt.Fprintf(w, "history scaling: a run resumed at each size does %d experiments (sweep proposer, instant trainer, sequential); filler rows inserted in %s\n",
		h.PerRun, h.Build.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "experiments\tran\tharness p50 / p95 per experiment\tresume\tstatus\tresults\tdigest\tVmRSS\tVmHWM")
	for _, st := range h.Stages {
		fmt.Fprintf(tw, "%d\t%d\t%s / %s\t%s\t%s\t%s\t%s\t%.1f MiB\t%.1f MiB\n", st.N, st.Ran, fmtMS(st.Cycle.P50), fmtMS(st.Cycle.P95),
			fmtMS(st.Resume), fmtMS(st.Status), fmtMS(st.Results), fmtMS(st.Digest),
			float64(st.Memory.RSSBytes)/(1<<20), float64(st.Memory.HWMBytes)/(1<<20))
	}
	tw.Flush()
	fmt.Fprintln(w)
}
