package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Targets of the occupancy scenarios (issue 6).
const (
	targetOccupancy = 0.97
	targetSpeedup   = 3.8
	targetGapP50    = 100 * time.Millisecond
	targetRSS       = 60 << 20
)

// LoopRun is one loop scenario's outcome (sequential, pipelined, several
// slots, the conflict runs).
type LoopRun struct {
	Name      string        `json:"name"`
	Slots     int           `json:"slots"`
	Pipeline  bool          `json:"pipeline"`
	Latency   time.Duration `json:"latency_ns"`
	Max       int           `json:"max_experiments"`
	Wall      time.Duration `json:"wall_ns"` // Start to the end of Wait
	Keep      int           `json:"keep"`
	Discard   int           `json:"discard"`
	Crash     int           `json:"crash"`
	Figures   Figures       `json:"figures"`
	LLM       FakeStats     `json:"llm"`
	SetupTime time.Duration `json:"setup_ns"` // repository and .venv creation
	Spans     []Span        `json:"spans"`    // every training run, ordered by start

	// Proposed counts the model's experiments (proposals and crash fixes);
	// Retries those the harness queued itself, which ask the model nothing:
	// with several slots, the change an adopted stale winner lacks.
	Proposed int `json:"proposed"`
	Retries  int `json:"retries"`
}

// loopScenario is one loop the bench runs.
type loopScenario struct {
	name     string
	slots    int
	pipeline bool
	latency  time.Duration
	max      int
	variant  variant
}

// variant shapes one scenario's repository, model and loop.
type variant struct {
	conflict        bool // the fake model always edits K0 and every run improves
	dropConflicting bool // the loop drops a conflicting proposal (before issue 14)
}

// loopScenarios are the loops p asks for: sequential, pipelined and
// several slots, then the conflict runs.
func loopScenarios(p Params) []loopScenario {
	if p.HistoryOnly || p.BigTree.Only {
		return nil
	}
	if p.ConflictOnly {
		return conflictScenarios(p)
	}
	scenarios := []loopScenario{
		{"sequential", 1, false, p.Latency, p.Experiments, variant{}},
		{"pipelined", 1, true, p.Latency, p.Experiments, variant{}},
		{fmt.Sprintf("%d-slots", p.Slots), p.Slots, true, p.SlotsLatency, 1 + p.Slots*(p.Experiments-1), variant{}},
	}
	if !p.NoConflict {
		scenarios = append(scenarios, conflictScenarios(p)...)
	}
	return scenarios
}

// runLoop builds a research repository and a Manager wired as `run` wires
// one (gitrepo, the store, the LLM proposer over HTTP, the local trainer,
// per-slot linked worktrees, the terminal observer) and runs it to its
// experiment budget.
func runLoop(opts Options, dir string, sc loopScenario, seed uint64) (LoopRun, error) {
	p, w, logger := opts.Params, opts.Wiring, opts.Logger
	r := LoopRun{Name: sc.name, Slots: sc.slots, Pipeline: sc.pipeline, Latency: sc.latency, Max: sc.max}
	t0 := time.Now()
	repoOpts := RepoOptions{TrainSeconds: p.Train.Seconds(), VenvFiles: p.VenvFiles, Python: p.Python}
	if sc.variant.conflict {
		repoOpts.ImprovingRuns = dir + ".runs"
	}
	if err := NewRepo(dir, repoOpts); err != nil {
		return r, err
	}
	r.SetupTime = time.Since(t0)
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return r, err
	}
	cfg := research.Config{
		MaxExperiments:  sc.max,
		BaselineRepeats: new(0), // no noise estimate: one baseline run, no confirmation reruns
		Pipeline:        sc.pipeline,
		RunLog:          true,
		ProposerName:    "llm",
		Model:           "bench-model",
		TrainTimeout:    10*p.Train + time.Minute,
		Python:          VenvPython(dir),
		DropConflicting: sc.variant.dropConflicting,
	}.WithDefaults(repo.Root())
	db, err := w.OpenStore(cfg.StateDir, repo.Root())
	if err != nil {
		return r, err
	}
	defer db.Close()
	stamps := filepath.Join(cfg.StateDir, "stamps")
	if err := os.MkdirAll(stamps, 0o755); err != nil {
		return r, err
	}

	fake := NewFakeLLM(sc.latency, seed)
	fake.SameLine = sc.variant.conflict
	srv := fake.Serve()
	defer srv.Close()
	llm := agent.NewLLM(agent.LLMConfig{APIKey: "sk-bench", BaseURL: srv.URL + "/v1", Model: "bench-model", Logger: logger})

	local := &trainer.Local{Command: shellQuote(VenvPython(dir)) + " train.py", Logger: logger}
	var log Log
	recording := func(slot string) research.Trainer {
		return &Recording{Inner: local, Slot: slot, Log: &log, StampDir: stamps}
	}
	m := &research.Manager{
		Repo: repo, Store: db, Proposer: llm, Trainer: recording("main"),
		Config: cfg, Logger: logger,
		Worktree: w.Worktrees(repo.Root(), cfg.StateDir),
	}
	if sc.slots > 1 {
		gpus := make([]int, sc.slots)
		for i := range gpus {
			gpus[i] = i
		}
		specs := w.Slots(gpus)
		for i := range specs {
			specs[i].Trainer = recording(specs[i].Name)
		}
		m.Config.Slots = specs
	}
	if w.Observer != nil {
		m.Observer = w.Observer(opts.Events, m)
	}

	start := time.Now()
	if _, err := m.Start(context.Background(), research.StartRequest{Tag: "bench", By: "bench"}); err != nil {
		return r, err
	}
	limit := time.Duration(sc.max)*(p.Train+sc.latency)*3 + 2*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		_ = m.Shutdown(context.Background())
		return r, fmt.Errorf("the run did not end within %s: %w", limit, err)
	}
	r.Wall = time.Since(start)
	exps, err := m.Results(context.Background(), 0)
	if err != nil {
		return r, err
	}
	for _, e := range exps {
		switch e.Status {
		case research.StatusKeep:
			r.Keep++
		case research.StatusDiscard:
			r.Discard++
		case research.StatusCrash:
			r.Crash++
		}
		switch e.Kind {
		case research.KindProposal, research.KindFix:
			r.Proposed++
		case research.KindRetry:
			r.Retries++
		}
	}
	r.Spans = log.Spans()
	r.Figures = Analyze(r.Spans, sc.slots)
	r.LLM = fake.Stats()
	return r, nil
}

// latencyLabel names the model's latency, and says when it is T/3.
func latencyLabel(p Params) string {
	lat := fmt.Sprintf("L=%s", p.Latency)
	if p.Latency*3 == p.Train {
		lat += "=T/3"
	}
	return lat
}

// occupancyTarget judges a pipelined one-slot occupancy: the target holds
// for a model that answers within a third of a training run.
func occupancyTarget(p Params, occupancy float64) (string, *bool) {
	target := fmt.Sprintf(">= %.2f", targetOccupancy)
	if p.Latency*3 > p.Train {
		return target + " (at L <= T/3)", nil
	}
	return target, ptrTo(occupancy >= targetOccupancy)
}

// occupancyFigures turns the sequential, pipelined and several-slot runs
// (the first three) into the table's lines, with targets.
func occupancyFigures(p Params, rep Report) []Line {
	seq, pipe, multi := rep.Runs[0], rep.Runs[1], rep.Runs[2]
	var out lines
	lat := latencyLabel(p)
	out.add(fmt.Sprintf("GPU occupancy, 1 slot, sequential (%s)", lat), seq.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", seq.Figures.Occupancy), "", nil)
	occTarget, occPass := occupancyTarget(p, pipe.Figures.Occupancy)
	out.add(fmt.Sprintf("GPU occupancy, 1 slot, pipelined (%s)", lat), pipe.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", pipe.Figures.Occupancy), occTarget, occPass)
	out.add("  same, whole run incl. baseline ramp-up", pipe.Figures.RunOccupancy, "ratio",
		fmt.Sprintf("%.3f", pipe.Figures.RunOccupancy), "", nil)
	out.add("experiments/hour, 1 slot (pipelined)", pipe.Figures.ExpPerHour, "1/h", fmt.Sprintf("%.0f", pipe.Figures.ExpPerHour), "", nil)
	out.add(fmt.Sprintf("experiments/hour, %d slots (pipelined, L=%s)", p.Slots, p.SlotsLatency), multi.Figures.ExpPerHour, "1/h",
		fmt.Sprintf("%.0f", multi.Figures.ExpPerHour), "", nil)
	speedup := 0.0
	if pipe.Figures.ExpPerHour > 0 {
		speedup = multi.Figures.ExpPerHour / pipe.Figures.ExpPerHour
	}
	want := targetSpeedup * float64(p.Slots) / 4
	out.add(fmt.Sprintf("speed-up, %d slots over 1", p.Slots), speedup, "x", fmt.Sprintf("%.2fx", speedup),
		fmt.Sprintf(">= %.2fx", want), ptrTo(speedup >= want))
	out.add(fmt.Sprintf("  occupancy of the %d slots", p.Slots), multi.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", multi.Figures.Occupancy), "", nil)
	whole := 0.0
	if pipe.Figures.WindowExpPerHour > 0 {
		whole = multi.Figures.WindowExpPerHour / pipe.Figures.WindowExpPerHour
	}
	out.add("  same, whole window incl. the slots' staggered start", whole, "x", fmt.Sprintf("%.2fx", whole), "", nil)
	g := pipe.Figures.ProcessGap
	out.add("harness gap p50, trainer exit -> next start (1 slot, pipelined)", ms(g.P50), "ms", fmtMS(g.P50),
		fmt.Sprintf("< %s", fmtMS(targetGapP50)), ptrTo(g.N > 0 && g.P50 < targetGapP50))
	out.add("harness gap p95", ms(g.P95), "ms", fmtMS(g.P95), "", nil)
	h := pipe.Figures.HarnessGap
	out.add("  of which in the harness (Train returned -> Train called) p50/p95", ms(h.P50), "ms",
		fmtMS(h.P50)+" / "+fmtMS(h.P95), "", nil)
	mg := multi.Figures.ProcessGap
	out.add(fmt.Sprintf("harness gap p50/p95 on %d slots", p.Slots), ms(mg.P50), "ms", fmtMS(mg.P50)+" / "+fmtMS(mg.P95), "", nil)
	mem := rep.Memory
	out.add("resident memory after the runs (VmRSS)", float64(mem.RSSBytes)/(1<<20), "MiB", fmt.Sprintf("%.1f MiB", float64(mem.RSSBytes)/(1<<20)),
		fmt.Sprintf("< %d MiB", targetRSS>>20), ptrTo(mem.ProcAvailable && mem.RSSBytes < targetRSS))
	out.add("  peak resident (VmHWM)", float64(mem.HWMBytes)/(1<<20), "MiB", fmt.Sprintf("%.1f MiB", float64(mem.HWMBytes)/(1<<20)), "", nil)
	out.add("  Go heap in use / obtained from the OS", float64(mem.HeapInuse)/(1<<20), "MiB",
		fmt.Sprintf("%.1f / %.1f MiB", float64(mem.HeapInuse)/(1<<20), float64(mem.Sys)/(1<<20)), "", nil)
	return out
}
