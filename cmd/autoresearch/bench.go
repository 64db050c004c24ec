package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoresearch/autoresearch/bot/terminal"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/bench"
	"github.com/autoresearch/autoresearch/research/demo"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Targets of the benchmark (issue 6).
const (
	targetOccupancy = 0.97
	targetSpeedup   = 3.8
	targetGapP50    = 100 * time.Millisecond
	targetRSS       = 60 << 20
)

// benchParams are the bench's flags.
type benchParams struct {
	Train        time.Duration `json:"train_ns"`         // T: each simulated training run sleeps this long
	Latency      time.Duration `json:"latency_ns"`       // L: the fake model's answer time, occupancy runs
	SlotsLatency time.Duration `json:"slots_latency_ns"` // L for the several-slot run (small: the proposer must not be the bottleneck)
	Experiments  int           `json:"experiments"`      // per one-slot run, the baseline included
	Slots        int           `json:"slots"`            // slots of the several-slot run
	VenvFiles    int           `json:"venv_files"`       // files in each repository's ignored .venv
	Seed         uint64        `json:"seed"`
	Python       string        `json:"python"`              // the interpreter that runs train.py and the syntax check
	HistorySizes []int         `json:"history_sizes"`       // the history scenario's sizes (none: skipped)
	HistoryRuns  int           `json:"history_experiments"` // experiments per size of the history scenario
	HistoryOnly  bool          `json:"history_only"`

	// The early-stopping scenario (bench_landscape.go).
	Landscape     int           `json:"landscape"` // simulated curves (0: skipped)
	LandscapeOnly bool          `json:"landscape_only"`
	NoConflict    bool          `json:"no_conflict"`   // skip the conflict scenario (new and old behaviour)
	ConflictOnly  bool          `json:"conflict_only"` // run only the conflict scenario
	BigTree       bigTreeParams `json:"bigtree"`
}

// benchRun is one scenario's outcome.
type benchRun struct {
	Name      string          `json:"name"`
	Slots     int             `json:"slots"`
	Pipeline  bool            `json:"pipeline"`
	Latency   time.Duration   `json:"latency_ns"`
	Max       int             `json:"max_experiments"`
	Wall      time.Duration   `json:"wall_ns"` // Start to the end of Wait
	Keep      int             `json:"keep"`
	Discard   int             `json:"discard"`
	Crash     int             `json:"crash"`
	Figures   bench.Figures   `json:"figures"`
	LLM       bench.FakeStats `json:"llm"`
	SetupTime time.Duration   `json:"setup_ns"` // repository and .venv creation
	Spans     []bench.Span    `json:"spans"`    // every training run, ordered by start

	// Proposed counts the model's experiments (proposals and crash fixes);
	// Retries those the harness queued itself, which ask the model nothing:
	// with several slots, the change an adopted stale winner lacks.
	Proposed int `json:"proposed"`
	Retries  int `json:"retries"`
}

// benchFigure is one line of the result table.
type benchFigure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Shown  string  `json:"shown"`
	Target string  `json:"target,omitempty"`
	Result string  `json:"result"` // PASS, MISS or info
}

type benchReport struct {
	Params  benchParams   `json:"params"`
	Runs    []benchRun    `json:"runs"`
	Memory  bench.Memory  `json:"memory"`
	Figures []benchFigure `json:"figures"`
	Misses  int           `json:"misses"`
	History historyReport `json:"history"`

	Landscape *landscapeReport `json:"landscape,omitempty"`
	BigTree   bigTreeReport    `json:"bigtree"`
}

func benchCmd(args []string, streams IO) error {
	fs := newFlagSet("bench", streams)
	var p benchParams
	fs.DurationVar(&p.Train, "train", 3*time.Second, "how long each simulated training run takes (T)")
	fs.DurationVar(&p.Latency, "latency", time.Second, "the fake LLM's answer time (L) for the occupancy runs; the target is for L = T/3")
	fs.DurationVar(&p.SlotsLatency, "slots-latency", 0, "the fake LLM's answer time for the several-slot run (default T/30: one proposer must keep all slots fed)")
	fs.IntVar(&p.Experiments, "experiments", 12, "experiments per one-slot run, the baseline included; the several-slot run does 1+slots*(N-1), the same wall time")
	fs.IntVar(&p.Slots, "slots", 4, "simulated GPUs (slots) of the throughput run")
	fs.IntVar(&p.VenvFiles, "venv-files", 20000, "files in the ignored .venv of each repository, like a uv checkout")
	seed := fs.Uint64("seed", 1, "seed of the fake model's edits")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	keep := fs.String("dir", "", "create the repositories here and keep them (default a temporary directory, removed afterwards)")
	verbose := fs.Bool("verbose", false, "print the loops' events and warnings on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole bench to this file (go tool pprof)")
	sizes := fs.String("history-sizes", "10,1000,10000", "experiment counts the history scenario resumes a run at (\"\" or 0: skip it)")
	fs.IntVar(&p.HistoryRuns, "history-experiments", 30, "experiments the history scenario runs at each size")
	fs.BoolVar(&p.HistoryOnly, "history-only", false, "run only the history scenario")
	fs.IntVar(&p.Landscape, "landscape", 24, "simulated loss curves of the early-stopping scenario, run with --early-stop off and on (0: skip it)")
	fs.BoolVar(&p.LandscapeOnly, "landscape-only", false, "run only the early-stopping (landscape) scenario")
	fs.BoolVar(&p.ConflictOnly, "conflict-only", false, "run only the conflict scenario, with and without training a conflicting proposal on its own base")
	fs.BoolVar(&p.NoConflict, "no-conflict", false, "skip the conflict scenario (every prepared proposal conflicts with the keep before it), run with and without training it on its own base")
	fs.StringVar(&p.Python, "python", "", "Python interpreter for train.py and the syntax check (default: python3's real executable, past pyenv/asdf shims)")
	p.BigTree.flags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := p.BigTree.check(); err != nil {
		return err
	}
	p.Seed = *seed
	var err error
	if p.HistorySizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	if p.HistoryOnly && len(p.HistorySizes) == 0 && !p.LandscapeOnly {
		return usagef("--history-only needs --history-sizes")
	}
	only := 0
	for _, o := range []bool{p.HistoryOnly, p.LandscapeOnly, p.ConflictOnly, p.BigTree.Only} {
		if o {
			only++
		}
	}
	switch {
	case only > 1:
		return usagef("--history-only, --landscape-only, --conflict-only and --bigtree-only exclude each other")
	case p.ConflictOnly && p.NoConflict:
		return usagef("--conflict-only and --no-conflict exclude each other")
	case p.LandscapeOnly && p.Landscape <= 0:
		return usagef("--landscape-only needs --landscape N with N > 0")
	case p.LandscapeOnly:
		// Neither the occupancy, the history nor the big-tree runs.
		p.HistoryOnly, p.HistorySizes, p.BigTree.Experiments = true, nil, 0
	case p.HistoryOnly:
		p.Landscape, p.BigTree.Experiments = 0, 0
	case p.ConflictOnly:
		p.HistorySizes, p.Landscape, p.BigTree.Experiments = nil, 0, 0
	case p.BigTree.Only:
		p.Landscape = 0
	}
	if p.HistoryRuns < 3 {
		return usagef("--history-experiments must be at least 3 (two gaps make a median)")
	}
	if p.SlotsLatency == 0 {
		p.SlotsLatency = (p.Train / 30).Round(time.Millisecond)
	}
	switch {
	case p.Train <= 0:
		return usagef("--train must be positive, e.g. 3s")
	case p.Latency < 0 || p.SlotsLatency < 0:
		return usagef("--latency and --slots-latency must be 0 or more")
	case p.Experiments < 2:
		return usagef("--experiments must be at least 2 (the baseline and one proposal)")
	case p.Slots < 2:
		return usagef("--slots must be at least 2")
	case p.VenvFiles < 0:
		return usagef("--venv-files must be 0 or more")
	}
	py, err := realPython(p.Python)
	if err != nil {
		return err
	}
	p.Python = py
	base := *keep
	if base == "" {
		tmp, err := os.MkdirTemp("", "autoresearch-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		base = tmp
	} else if empty, err := demo.EmptyDir(base); err != nil {
		return err
	} else if !empty {
		return &research.InputError{Msg: fmt.Sprintf("--dir %s is not empty; give a new or empty directory", base)}
	} else if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var events io.Writer = io.Discard
	level := slog.LevelError + 4 // nothing
	if *verbose {
		events, level = streams.Err, slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(streams.Err, &slog.HandlerOptions{Level: level}))
	prev := slog.Default()
	slog.SetDefault(logger) // the store logs its migrations to the default logger
	defer slog.SetDefault(prev)

	rep, err := runBench(p, base, events, logger, streams.Err)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(streams.Out, rep)
	return nil
}

// scenarioSpec is one loop the bench runs.
type scenarioSpec struct {
	name     string
	slots    int
	pipeline bool
	latency  time.Duration
	max      int
	variant  benchVariant
}

// runBench runs the three scenarios one after the other (never at once:
// they would share the CPUs) and computes the figures.
func runBench(p benchParams, base string, events io.Writer, logger *slog.Logger, progress io.Writer) (benchReport, error) {
	rep := benchReport{Params: p}
	scenarios := []scenarioSpec{
		{"sequential", 1, false, p.Latency, p.Experiments, benchVariant{}},
		{"pipelined", 1, true, p.Latency, p.Experiments, benchVariant{}},
		{fmt.Sprintf("%d-slots", p.Slots), p.Slots, true, p.SlotsLatency, 1 + p.Slots*(p.Experiments-1), benchVariant{}},
	}
	if !p.NoConflict {
		scenarios = append(scenarios, conflictScenarios(p)...)
	}
	if p.ConflictOnly {
		scenarios = conflictScenarios(p)
	}
	if p.HistoryOnly || p.BigTree.Only {
		scenarios = nil
	}
	for i, sc := range scenarios {
		fmt.Fprintf(progress, "bench: %s: %d slot(s), pipeline %v, LLM latency %s, %d experiments of %s...\n",
			sc.name, sc.slots, sc.pipeline, sc.latency, sc.max, p.Train)
		r, err := benchScenario(p, filepath.Join(base, sc.name), sc.name, sc.slots, sc.pipeline, sc.latency, sc.max,
			p.Seed+uint64(i), events, logger, sc.variant)
		if err != nil {
			return rep, fmt.Errorf("bench %s: %w", sc.name, err)
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.Memory = bench.ReadMemory()
	if len(rep.Runs) == len(scenarios) && len(scenarios) > 0 {
		if !p.ConflictOnly {
			rep.Figures = benchFigures(p, rep)
		}
		rep.Figures = append(rep.Figures, conflictFigures(p, rep)...)
	}
	if p.BigTree.Experiments > 0 && !p.HistoryOnly {
		bt, err := benchBigTree(p, p.BigTree, filepath.Join(base, "bigtree"), logger, progress)
		if err != nil {
			return rep, fmt.Errorf("bench big tree: %w", err)
		}
		rep.BigTree = bt
		bigTreeFigures(bt, func(name string, v float64, unit, shown, target string, pass *bool) {
			rep.Figures = append(rep.Figures, benchFigure{Name: name, Value: v, Unit: unit, Shown: shown, Target: target, Result: passResult(pass)})
		})
	}
	if len(p.HistorySizes) > 0 && !p.BigTree.Only {
		h, err := benchHistory(p, filepath.Join(base, "history"), p.HistorySizes, p.HistoryRuns, logger, progress)
		if err != nil {
			return rep, fmt.Errorf("bench history: %w", err)
		}
		rep.History = h
		historyFigures(h, func(name string, v float64, unit, shown, target string, pass *bool) {
			res := "info"
			if pass != nil {
				res = "MISS"
				if *pass {
					res = "PASS"
				}
			}
			rep.Figures = append(rep.Figures, benchFigure{Name: name, Value: v, Unit: unit, Shown: shown, Target: target, Result: res})
		})
	}
	if p.Landscape > 0 {
		l, err := benchLandscape(p, filepath.Join(base, "landscape"), events, logger, progress)
		if err != nil {
			return rep, fmt.Errorf("bench landscape: %w", err)
		}
		rep.Landscape = &l
		landscapeFigures(l, func(name string, v float64, unit, shown, target string, pass *bool) {
			res := "info"
			if pass != nil {
				res = "MISS"
				if *pass {
					res = "PASS"
				}
			}
			rep.Figures = append(rep.Figures, benchFigure{Name: name, Value: v, Unit: unit, Shown: shown, Target: target, Result: res})
		})
	}
	for _, f := range rep.Figures {
		if f.Result == "MISS" {
			rep.Misses++
		}
	}
	return rep, nil
}

// benchScenario builds a research repository and a Manager wired as `run`
// wires one (gitrepo, SQLite store, the LLM proposer over HTTP, the local
// trainer, per-slot linked worktrees, the terminal observer) and runs it to
// --max-experiments.
func benchScenario(p benchParams, dir, name string, slots int, pipeline bool, latency time.Duration, maxExp int,
	seed uint64, events io.Writer, logger *slog.Logger, v benchVariant) (benchRun, error) {
	r := benchRun{Name: name, Slots: slots, Pipeline: pipeline, Latency: latency, Max: maxExp}
	t0 := time.Now()
	opts := bench.RepoOptions{TrainSeconds: p.Train.Seconds(), VenvFiles: p.VenvFiles}
	if v.conflict {
		opts.ImprovingRuns = dir + ".runs"
	}
	if err := bench.NewRepo(dir, opts); err != nil {
		return r, err
	}
	r.SetupTime = time.Since(t0)
	repo, err := openRepo(dir)
	if err != nil {
		return r, err
	}
	cfg := research.Config{
		MaxExperiments:  maxExp,
		BaselineRepeats: -1, // no noise estimate: one baseline run, no confirmation reruns
		Pipeline:        pipeline,
		RunLog:          true,
		ProposerName:    "llm",
		Model:           "bench-model",
		TrainTimeout:    10*p.Train + time.Minute,
		Python:          p.Python,
		DropConflicting: v.dropConflicting,
	}.WithDefaults(repo.Root())
	db, err := openStore(cfg.StateDir, repo.Root())
	if err != nil {
		return r, err
	}
	defer db.Close()
	db.Logger = logger
	stamps := filepath.Join(cfg.StateDir, "stamps")
	if err := os.MkdirAll(stamps, 0o755); err != nil {
		return r, err
	}

	fake := bench.NewFakeLLM(latency, seed)
	fake.SameLine = v.conflict
	srv := fake.Serve()
	defer srv.Close()
	llm := agent.NewLLM(agent.LLMConfig{APIKey: "sk-bench", BaseURL: srv.URL + "/v1", Model: "bench-model", Logger: logger})

	local := &trainer.Local{Command: shellQuote(p.Python) + " train.py", Logger: logger}
	var log bench.Log
	recording := func(slot string) research.Trainer {
		return &bench.Recording{Inner: local, Slot: slot, Log: &log, StampDir: stamps}
	}
	m := &research.Manager{
		Repo: repo, Store: db, Proposer: llm, Trainer: recording("main"),
		Config: cfg, Logger: logger,
		Worktree: worktrees(repo.Root(), cfg.StateDir),
	}
	if slots > 1 {
		gpus := make([]int, slots)
		for i := range gpus {
			gpus[i] = i
		}
		specs := slotSpecs(gpus)
		for i := range specs {
			specs[i].Trainer = recording(specs[i].Name)
		}
		m.Config.Slots = specs
	}
	m.Observer = &terminal.Terminal{Out: events, Controller: m}

	start := time.Now()
	if _, err := m.Start(context.Background(), research.StartRequest{Tag: "bench", By: "bench"}); err != nil {
		return r, err
	}
	limit := time.Duration(maxExp)*(p.Train+latency)*3 + 2*time.Minute
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
	r.Figures = bench.Analyze(r.Spans, slots)
	r.LLM = fake.Stats()
	return r, nil
}

// benchFigures turns the runs into the table's lines, with targets.
func benchFigures(p benchParams, rep benchReport) []benchFigure {
	seq, pipe, multi := rep.Runs[0], rep.Runs[1], rep.Runs[2]
	var out []benchFigure
	add := func(name string, v float64, unit, shown, target string, pass *bool) {
		res := "info"
		if pass != nil {
			res = "MISS"
			if *pass {
				res = "PASS"
			}
		}
		out = append(out, benchFigure{Name: name, Value: v, Unit: unit, Shown: shown, Target: target, Result: res})
	}
	ptrTo := func(b bool) *bool { return &b }
	lat := fmt.Sprintf("L=%s", p.Latency)
	if p.Latency*3 == p.Train {
		lat += "=T/3"
	}
	add(fmt.Sprintf("GPU occupancy, 1 slot, sequential (%s)", lat), seq.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", seq.Figures.Occupancy), "", nil)
	occTarget := fmt.Sprintf(">= %.2f", targetOccupancy)
	var occPass *bool
	if p.Latency*3 <= p.Train {
		occPass = ptrTo(pipe.Figures.Occupancy >= targetOccupancy)
	} else {
		occTarget += " (at L <= T/3)"
	}
	add(fmt.Sprintf("GPU occupancy, 1 slot, pipelined (%s)", lat), pipe.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", pipe.Figures.Occupancy), occTarget, occPass)
	add("  same, whole run incl. baseline ramp-up", pipe.Figures.RunOccupancy, "ratio",
		fmt.Sprintf("%.3f", pipe.Figures.RunOccupancy), "", nil)
	add("experiments/hour, 1 slot (pipelined)", pipe.Figures.ExpPerHour, "1/h", fmt.Sprintf("%.0f", pipe.Figures.ExpPerHour), "", nil)
	add(fmt.Sprintf("experiments/hour, %d slots (pipelined, L=%s)", p.Slots, p.SlotsLatency), multi.Figures.ExpPerHour, "1/h",
		fmt.Sprintf("%.0f", multi.Figures.ExpPerHour), "", nil)
	speedup := 0.0
	if pipe.Figures.ExpPerHour > 0 {
		speedup = multi.Figures.ExpPerHour / pipe.Figures.ExpPerHour
	}
	want := targetSpeedup * float64(p.Slots) / 4
	add(fmt.Sprintf("speed-up, %d slots over 1", p.Slots), speedup, "x", fmt.Sprintf("%.2fx", speedup),
		fmt.Sprintf(">= %.2fx", want), ptrTo(speedup >= want))
	add(fmt.Sprintf("  occupancy of the %d slots", p.Slots), multi.Figures.Occupancy, "ratio",
		fmt.Sprintf("%.3f", multi.Figures.Occupancy), "", nil)
	whole := 0.0
	if pipe.Figures.WindowExpPerHour > 0 {
		whole = multi.Figures.WindowExpPerHour / pipe.Figures.WindowExpPerHour
	}
	add("  same, whole window incl. the slots' staggered start", whole, "x", fmt.Sprintf("%.2fx", whole), "", nil)
	g := pipe.Figures.ProcessGap
	add("harness gap p50, trainer exit -> next start (1 slot, pipelined)", ms(g.P50), "ms", fmtMS(g.P50),
		fmt.Sprintf("< %s", fmtMS(targetGapP50)), ptrTo(g.N > 0 && g.P50 < targetGapP50))
	add("harness gap p95", ms(g.P95), "ms", fmtMS(g.P95), "", nil)
	h := pipe.Figures.HarnessGap
	add("  of which in the harness (Train returned -> Train called) p50/p95", ms(h.P50), "ms",
		fmtMS(h.P50)+" / "+fmtMS(h.P95), "", nil)
	mg := multi.Figures.ProcessGap
	add(fmt.Sprintf("harness gap p50/p95 on %d slots", p.Slots), ms(mg.P50), "ms", fmtMS(mg.P50)+" / "+fmtMS(mg.P95), "", nil)
	mem := rep.Memory
	add("resident memory after the runs (VmRSS)", float64(mem.RSSBytes)/(1<<20), "MiB", fmt.Sprintf("%.1f MiB", float64(mem.RSSBytes)/(1<<20)),
		fmt.Sprintf("< %d MiB", targetRSS>>20), ptrTo(mem.ProcAvailable && mem.RSSBytes < targetRSS))
	add("  peak resident (VmHWM)", float64(mem.HWMBytes)/(1<<20), "MiB", fmt.Sprintf("%.1f MiB", float64(mem.HWMBytes)/(1<<20)), "", nil)
	add("  Go heap in use / obtained from the OS", float64(mem.HeapInuse)/(1<<20), "MiB",
		fmt.Sprintf("%.1f / %.1f MiB", float64(mem.HeapInuse)/(1<<20), float64(mem.Sys)/(1<<20)), "", nil)
	return out
}

// passResult is a figure's result column: info without a target.
func passResult(pass *bool) string {
	switch {
	case pass == nil:
		return "info"
	case *pass:
		return "PASS"
	default:
		return "MISS"
	}
}

// realPython resolves the interpreter the simulated trainer runs with. A
// version manager's shim (pyenv, asdf) is a script that costs ~60 ms per
// start: that would be measured as harness gap although it is neither the
// harness nor what a GPU host's `uv run` does, so the real executable is
// asked for its own path.
func realPython(name string) (string, error) {
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", &research.InputError{Msg: fmt.Sprintf("the bench's simulated trainer needs %s on PATH (standard library only)", name), Err: err}
	}
	out, err := exec.Command(path, "-c", "import sys; print(sys.executable)").Output()
	if real := strings.TrimSpace(string(out)); err == nil && real != "" {
		return real, nil
	}
	return path, nil
}

// shellQuote quotes s for sh -c.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%.0f ms", ms(d))
}

func printBench(w io.Writer, rep benchReport) {
	p := rep.Params
	fmt.Fprintf(w, "\nautoresearch bench: T=%s per training run, LLM latency %s (%s on %d slots), %d experiments per 1-slot run, .venv of %d files, %s\n\n",
		p.Train, p.Latency, p.SlotsLatency, p.Slots, p.Experiments, p.VenvFiles, p.Python)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rep.Runs) == 0 {
		tw = tabwriter.NewWriter(io.Discard, 0, 0, 2, ' ', 0)
	}
	fmt.Fprintln(tw, "run\tslots\tpipeline\tLLM latency\texperiments\tkeep/discard/crash\twall\toccupancy (whole run)\texp/hour\tgap p50 / p95\tLLM requests")
	for _, r := range rep.Runs {
		f := r.Figures
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%d\t%d/%d/%d\t%s\t%.3f (%.3f)\t%.0f\t%s / %s\t%d\n",
			r.Name, r.Slots, r.Pipeline, r.Latency, f.Experiments, r.Keep, r.Discard, r.Crash,
			r.Wall.Round(100*time.Millisecond), f.Occupancy, f.RunOccupancy, f.ExpPerHour, fmtMS(f.ProcessGap.P50), fmtMS(f.ProcessGap.P95), r.LLM.Requests)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printHistory(w, rep.History)
	printLandscape(w, rep.Landscape)
	printBigTree(w, rep.BigTree)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmeasured\ttarget\tresult")
	for _, f := range rep.Figures {
		target := f.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Shown, target, f.Result)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if rep.Misses > 0 {
		var names []string
		for _, f := range rep.Figures {
			if f.Result == "MISS" {
				names = append(names, strings.TrimSpace(f.Name))
			}
		}
		fmt.Fprintf(w, "MISS: %d target(s) missed: %s\n", rep.Misses, strings.Join(names, "; "))
	} else {
		fmt.Fprintln(w, "all targets met")
	}
	if note := conflictNote(rep); note != "" {
		fmt.Fprintln(w, note)
	}
	fmt.Fprintln(w, "occupancy and exp/hour are the steady state: per slot, from its first experiment after the baseline to its last end, summed over slots (the whole-run figures include the baseline ramp-up); a gap is one trainer's end stamp to the next one's start stamp on the same slot, the transition out of the baseline excluded.")
}
