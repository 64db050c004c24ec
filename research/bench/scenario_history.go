package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/sweep"
)

// Targets of the history scenario (issue 14, point 2).
const (
	targetHistoryRatio = 1.5 // p50 per experiment at the largest size over the smallest
	targetQuery        = time.Second
)

// HistoryStage is the history scenario at one size: a run holding N
// experiments is resumed and does a few more.
type HistoryStage struct {
	N       int           `json:"n"`      // experiments stored before the resume
	Ran     int           `json:"ran"`    // experiments run after it
	Resume  time.Duration `json:"resume"` // Start called -> first experiment trains
	Cycle   Dist          `json:"cycle"`  // per-experiment harness time
	Status  time.Duration `json:"status"` // Manager.Status after the run ended (lean rows read from the store)
	Results time.Duration `json:"results_cmd"`
	Digest  time.Duration `json:"digest_cmd"`
	Memory  Memory        `json:"memory"` // after the stage's experiments (before status, results and digest)
}

// HistoryReport is the history scenario's outcome.
type HistoryReport struct {
	Sizes  []int          `json:"sizes"`
	PerRun int            `json:"experiments_per_stage"`
	Build  time.Duration  `json:"build_ns"` // inserting the filler experiments, all stages
	Stages []HistoryStage `json:"stages"`
}

// runHistory builds one run and, for each size N, tops its history up to
// N experiments with direct store inserts (diffs and log tails included),
// resumes it with the sweep proposer and the instant trainer for a few
// experiments, and measures the harness's cycle per experiment, the resume,
// status, `results`, `digest` and the process's memory.
func runHistory(opts Options, dir string) (HistoryReport, error) {
	p, logger := opts.Params, opts.Logger
	sizes, per := p.HistorySizes, p.HistoryRuns
	rep := HistoryReport{Sizes: sizes, PerRun: per}
	if err := NewRepo(dir, RepoOptions{Python: p.Python}); err != nil {
		return rep, err
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return rep, err
	}
	cfg := research.Config{
		BaselineRepeats: new(0),
		Pipeline:        false, // one experiment at a time: each cycle is the harness's whole work for it
		ProposerName:    "sweep",
		TrainTimeout:    time.Minute,
		Python:          VenvPython(dir),
	}.WithDefaults(repo.Root())
	db, err := opts.Wiring.OpenStore(cfg.StateDir, repo.Root())
	if err != nil {
		return rep, err
	}
	defer db.Close()
	ctx := context.Background()
	const tag = "history"
	// The run's real start: the baseline and sweep proposals up to the
	// smallest size, not measured.
	seed := &research.Manager{Repo: repo, Store: db, Proposer: &sweep.Sweep{Seed: int64(p.Seed), Logger: logger},
		Trainer: &Instant{}, Config: cfg, Logger: logger}
	seed.Config.MaxExperiments = sizes[0]
	if _, err := seed.Start(ctx, research.StartRequest{Tag: tag, By: "bench"}); err != nil {
		return rep, err
	}
	if err := waitRun(ctx, seed, sizes[0]); err != nil {
		return rep, err
	}
	for _, n := range sizes {
		st := HistoryStage{N: n}
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
			if err := db.ImportExperiments(ctx, run.ID, FakeHistory(run.ID, next, chunk, run.BestValBPB, time.Now())); err != nil {
				return rep, err
			}
			next, count = next+chunk, count+chunk
		}
		rep.Build += time.Since(build)
		have = nil
		n = max(n, count) // a stage's own experiments may pass the next size
		st.N = n
		fmt.Fprintf(opts.Progress, "bench: history: resuming at %d experiments, %d more with the sweep proposer and an instant trainer...\n", n, per)
		trainer := &Instant{}
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
		st.Cycle = Summarize(Cycles(calls, 0))
		runtime.GC()
		st.Memory = ReadMemory()
		t1 := time.Now()
		if _, err := m.Status(ctx); err != nil {
			return rep, err
		}
		st.Status = time.Since(t1)
		// The commands as people run them: a process each, start-up included
		// (and their memory is not the harness's).
		if st.Results, err = timeCommand(opts.Wiring, "results", "--repo", dir); err != nil {
			return rep, err
		}
		if st.Digest, err = timeCommand(opts.Wiring, "digest", "--repo", dir); err != nil {
			return rep, err
		}
		rep.Stages = append(rep.Stages, st)
	}
	return rep, nil
}

// timeCommand runs one of the binary's subcommands and times it.
func timeCommand(w Wiring, args ...string) (time.Duration, error) {
	t0 := time.Now()
	if err := w.RunCommand(args...); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// historyFigures are the history scenario's lines of the result table.
func historyFigures(h HistoryReport) []Line {
	if len(h.Stages) == 0 {
		return nil
	}
	var out lines
	first, last := h.Stages[0], h.Stages[len(h.Stages)-1]
	for _, st := range h.Stages {
		out.add(fmt.Sprintf("history: harness time per experiment at %d experiments p50/p95", st.N), ms(st.Cycle.P50), "ms",
			fmtMS(st.Cycle.P50)+" / "+fmtMS(st.Cycle.P95), "", nil)
		out.add("  resident memory after it (VmRSS, after a GC)", float64(st.Memory.RSSBytes)/(1<<20), "MiB",
			fmt.Sprintf("%.1f MiB", float64(st.Memory.RSSBytes)/(1<<20)), "", nil)
	}
	ratio := 0.0
	if first.Cycle.P50 > 0 {
		ratio = float64(last.Cycle.P50) / float64(first.Cycle.P50)
	}
	out.add(fmt.Sprintf("history: p50 at %d over p50 at %d", last.N, first.N), ratio, "x", fmt.Sprintf("%.2fx", ratio),
		fmt.Sprintf("<= %.1fx", targetHistoryRatio), ptrTo(first.Cycle.N > 0 && last.Cycle.N > 0 && ratio <= targetHistoryRatio))
	out.add(fmt.Sprintf("history: resident memory at %d experiments", last.N), float64(last.Memory.RSSBytes)/(1<<20), "MiB",
		fmt.Sprintf("%.1f MiB", float64(last.Memory.RSSBytes)/(1<<20)), fmt.Sprintf("< %d MiB", targetRSS>>20),
		ptrTo(last.Memory.ProcAvailable && last.Memory.RSSBytes < targetRSS))
	slowest := max(last.Resume, last.Status, last.Results, last.Digest)
	out.add(fmt.Sprintf("history: resume / status / results / digest at %d", last.N), ms(slowest), "ms",
		fmt.Sprintf("%s / %s / %s / %s", fmtMS(last.Resume), fmtMS(last.Status), fmtMS(last.Results), fmtMS(last.Digest)),
		fmt.Sprintf("each < %s", fmtMS(targetQuery)), ptrTo(slowest < targetQuery))
	return out
}
