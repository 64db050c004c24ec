package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/terminal"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/bench"
	"github.com/autoresearch/autoresearch/research/demo"
)

// benchOptions are what the flags of `autoresearch bench` ask for: the
// bench's own settings (research/bench runs the scenarios) and how this
// command runs and shows it.
type benchOptions struct {
	params     bench.Params
	json       bool   // print the report as JSON
	dir        string // keep the repositories here ("" a temporary directory)
	verbose    bool   // the loops' events and warnings on stderr
	cpuProfile string
}

func benchCmd(args []string, streams IO) error {
	o, err := parseBenchFlags(args, streams)
	if err != nil {
		return err
	}
	return runBench(o, streams)
}

// parseBenchFlags reads and checks the flags; it starts nothing.
func parseBenchFlags(args []string, streams IO) (benchOptions, error) {
	fs := newFlagSet("bench", streams)
	var o benchOptions
	p := &o.params
	fs.DurationVar(&p.Train, "train", 3*time.Second, "how long each simulated training run takes (T)")
	fs.DurationVar(&p.Latency, "latency", time.Second, "the fake LLM's answer time (L) for the occupancy runs; the target is for L = T/3")
	fs.DurationVar(&p.SlotsLatency, "slots-latency", 0, "the fake LLM's answer time for the several-slot run (default T/30: one proposer must keep all slots fed)")
	fs.IntVar(&p.Experiments, "experiments", 12, "experiments per one-slot run, the baseline included; the several-slot run does 1+slots*(N-1), the same wall time")
	fs.IntVar(&p.Slots, "slots", 4, "simulated GPUs (slots) of the throughput run")
	fs.IntVar(&p.VenvFiles, "venv-files", 20000, "files in the ignored .venv of each repository, like a uv checkout")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed of the fake model's edits")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.dir, "dir", "", "create the repositories here and keep them (default a temporary directory, removed afterwards)")
	fs.BoolVar(&o.verbose, "verbose", false, "print the loops' events and warnings on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole bench to this file (go tool pprof)")
	sizes := fs.String("history-sizes", "10,1000,10000", "experiment counts the history scenario resumes a run at (\"\" or 0: skip it)")
	fs.IntVar(&p.HistoryRuns, "history-experiments", 30, "experiments the history scenario runs at each size")
	fs.BoolVar(&p.HistoryOnly, "history-only", false, "run only the history scenario")
	fs.IntVar(&p.Landscape, "landscape", 24, "simulated loss curves of the early-stopping scenario, run with --early-stop off and on (0: skip it)")
	fs.BoolVar(&p.LandscapeOnly, "landscape-only", false, "run only the early-stopping (landscape) scenario")
	fs.BoolVar(&p.ConflictOnly, "conflict-only", false, "run only the conflict scenario, with and without training a conflicting proposal on its own base")
	fs.BoolVar(&p.NoConflict, "no-conflict", false, "skip the conflict scenario (every prepared proposal conflicts with the keep before it), run with and without training it on its own base")
	fs.StringVar(&p.Python, "python", "", "the Python interpreter each bench repository's .venv links to; train.py and the syntax check run with that .venv (default: python3's real executable, past pyenv/asdf shims)")
	bigTreeFlags(fs, &p.BigTree)
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	if err := checkBigTree(p.BigTree); err != nil {
		return o, err
	}
	var err error
	if p.HistorySizes, err = parseSizes(*sizes); err != nil {
		return o, err
	}
	if p.HistoryOnly && len(p.HistorySizes) == 0 && !p.LandscapeOnly {
		return o, usagef("--history-only needs --history-sizes")
	}
	only := 0
	for _, on := range []bool{p.HistoryOnly, p.LandscapeOnly, p.ConflictOnly, p.BigTree.Only} {
		if on {
			only++
		}
	}
	switch {
	case only > 1:
		return o, usagef("--history-only, --landscape-only, --conflict-only and --bigtree-only exclude each other")
	case p.ConflictOnly && p.NoConflict:
		return o, usagef("--conflict-only and --no-conflict exclude each other")
	case p.LandscapeOnly && p.Landscape <= 0:
		return o, usagef("--landscape-only needs --landscape N with N > 0")
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
		return o, usagef("--history-experiments must be at least 3 (two gaps make a median)")
	}
	if p.SlotsLatency == 0 {
		p.SlotsLatency = (p.Train / 30).Round(time.Millisecond)
	}
	switch {
	case p.Train <= 0:
		return o, usagef("--train must be positive, e.g. 3s")
	case p.Latency < 0 || p.SlotsLatency < 0:
		return o, usagef("--latency and --slots-latency must be 0 or more")
	case p.Experiments < 2:
		return o, usagef("--experiments must be at least 2 (the baseline and one proposal)")
	case p.Slots < 2:
		return o, usagef("--slots must be at least 2")
	case p.VenvFiles < 0:
		return o, usagef("--venv-files must be 0 or more")
	}
	return o, nil
}

func bigTreeFlags(fs *flag.FlagSet, b *bench.BigTreeParams) {
	fs.IntVar(&b.Tracked, "bigtree-tracked", 5000, "big-tree scenario: tracked files besides the research files")
	fs.IntVar(&b.Untracked, "bigtree-untracked", 20000, "big-tree scenario: untracked files that no .gitignore covers")
	fs.IntVar(&b.Experiments, "bigtree-experiments", 12, "big-tree scenario: training runs per loop, the baseline included (0: skip the scenario)")
	fs.DurationVar(&b.Train, "bigtree-train", 300*time.Millisecond, "big-tree scenario: how long each simulated training run takes")
	fs.BoolVar(&b.Only, "bigtree-only", false, "run only the big-tree scenario")
}

func checkBigTree(b bench.BigTreeParams) error {
	switch {
	case b.Tracked < 0 || b.Untracked < 0:
		return usagef("--bigtree-tracked and --bigtree-untracked must be 0 or more")
	case b.Experiments != 0 && b.Experiments < 3:
		return usagef("--bigtree-experiments must be 0 (skip) or at least 3 (the baseline and two gaps)")
	case b.Train <= 0:
		return usagef("--bigtree-train must be positive, e.g. 300ms")
	case b.Only && b.Experiments == 0:
		return usagef("--bigtree-only needs --bigtree-experiments")
	}
	return nil
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

// runBench resolves the interpreter and the directory, wires the bench as
// `run` wires the loop, runs it and prints the report.
func runBench(o benchOptions, streams IO) error {
	py, err := bench.RealPython(o.params.Python)
	if err != nil {
		return err
	}
	o.params.Python = py
	dir := o.dir
	if dir != "" {
		if empty, err := demo.EmptyDir(dir); err != nil {
			return err
		} else if !empty {
			return &research.InputError{Msg: fmt.Sprintf("--dir %s is not empty; give a new or empty directory", dir)}
		} else if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
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
	if o.verbose {
		events, level = streams.Err, slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(streams.Err, &slog.HandlerOptions{Level: level}))
	prev := slog.Default()
	slog.SetDefault(logger) // the store logs its migrations to the default logger
	defer slog.SetDefault(prev)

	rep, err := bench.Run(bench.Options{
		Params: o.params, Dir: dir, Events: events, Progress: streams.Err, Logger: logger,
		Wiring: benchWiring(logger),
	})
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(streams.Out)
	return nil
}

// benchWiring hands the bench the parts `run` is built from.
func benchWiring(logger *slog.Logger) bench.Wiring {
	return bench.Wiring{
		OpenStore: func(stateDir, repoDir string) (bench.Store, error) {
			db, err := openStore(stateDir, repoDir)
			if err != nil {
				return nil, err
			}
			db.Logger = logger
			return db, nil
		},
		Worktrees: worktrees,
		Slots:     slotSpecs,
		Observer: func(w io.Writer, m *research.Manager) research.Observer {
			return &terminal.Terminal{Out: w, Controller: m}
		},
		RunCommand: runSelf,
	}
}

// runSelf runs one of this binary's subcommands in a process of its own.
func runSelf(args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, args...)
	// Under `go test` this binary is the test binary: the variable makes
	// its TestMain run the command (the real binary ignores it).
	cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
