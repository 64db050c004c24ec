package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Params are the settings of `autoresearch bench` (its flags), reported
// with the results as they ran.
type Params struct {
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

	// The early-stopping scenario (scenario_landscape.go).
	Landscape     int           `json:"landscape"` // simulated curves (0: skipped)
	LandscapeOnly bool          `json:"landscape_only"`
	NoConflict    bool          `json:"no_conflict"`   // skip the conflict scenario (new and old behaviour)
	ConflictOnly  bool          `json:"conflict_only"` // run only the conflict scenario
	BigTree       BigTreeParams `json:"bigtree"`
}

// BigTreeParams are the big-tree scenario's settings (issue 14, point 5).
type BigTreeParams struct {
	Tracked     int           `json:"tracked"`     // files committed besides the research files
	Untracked   int           `json:"untracked"`   // untracked files nothing ignores
	Experiments int           `json:"experiments"` // training runs per loop, the baseline included
	Train       time.Duration `json:"train_ns"`    // each simulated training run
	Only        bool          `json:"only"`
}

// Store is what the bench needs of persistence: the loop's store, plus
// direct inserts for the history scenario's filler experiments.
type Store interface {
	research.Store
	ImportExperiments(ctx context.Context, runID int64, exps []research.Experiment) error
	Close() error
}

// Wiring is what the command line builds for `autoresearch run`, handed to
// the bench so that it measures the very loop people run, without this
// package linking the store or the chat side.
type Wiring struct {
	// OpenStore opens the store of a state dir (its logger set).
	OpenStore func(stateDir, repoDir string) (Store, error)
	// Worktrees makes the per-slot working copies of the repository at root.
	Worktrees func(root, stateDir string) func(name, commit string) (research.Repo, error)
	// Slots are the slot specs of so many simulated GPUs.
	Slots func(gpus []int) []research.SlotSpec
	// Observer shows m's events on w as `autoresearch run` does (nil: none).
	Observer func(w io.Writer, m *research.Manager) research.Observer
	// RunCommand runs one of this binary's subcommands (`results`, `digest`)
	// in a process of its own, as people run them.
	RunCommand func(args ...string) error
}

// check refuses wiring that lacks a part the scenarios of p use.
func (w Wiring) check(p Params) error {
	switch {
	case w.OpenStore == nil:
		return errors.New("bench: Wiring.OpenStore is missing")
	case w.Worktrees == nil:
		return errors.New("bench: Wiring.Worktrees is missing")
	case w.Slots == nil && slices.ContainsFunc(loopScenarios(p), func(sc loopScenario) bool { return sc.slots > 1 }):
		return errors.New("bench: Wiring.Slots is missing")
	case w.RunCommand == nil && len(p.HistorySizes) > 0 && !p.BigTree.Only:
		return errors.New("bench: Wiring.RunCommand is missing (the history scenario runs `results` and `digest`)")
	}
	return nil
}

// Options are one bench's settings and where it writes.
type Options struct {
	Params Params
	// Dir is where the repositories are made and kept; "" makes a
	// temporary directory, removed afterwards.
	Dir      string
	Events   io.Writer // the loops' events (nil: discarded)
	Progress io.Writer // a line as each scenario starts (nil: discarded)
	Logger   *slog.Logger
	Wiring   Wiring
}

// Report is the bench's outcome: its JSON form is `bench --json`.
type Report struct {
	Params  Params        `json:"params"`
	Runs    []LoopRun     `json:"runs"`
	Memory  Memory        `json:"memory"`
	Figures []Line        `json:"figures"`
	Misses  int           `json:"misses"`
	History HistoryReport `json:"history"`

	Landscape *LandscapeReport `json:"landscape,omitempty"`
	BigTree   BigTreeReport    `json:"bigtree"`
}

// Line is one line of the result table.
type Line struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Shown  string  `json:"shown"`
	Target string  `json:"target,omitempty"`
	Result string  `json:"result"` // PASS, MISS or info
}

// lines collects table lines; a nil pass is a figure without a target.
type lines []Line

func (ls *lines) add(name string, v float64, unit, shown, target string, pass *bool) {
	*ls = append(*ls, Line{Name: name, Value: v, Unit: unit, Shown: shown, Target: target, Result: passResult(pass)})
}

// passResult is a line's result column: info without a target.
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

func ptrTo(b bool) *bool { return &b }

// Run runs the scenarios opts.Params asks for one after the other (never
// at once: they would share the CPUs) and computes the figures.
func Run(opts Options) (Report, error) {
	p := opts.Params
	rep := Report{Params: p}
	if opts.Events == nil {
		opts.Events = io.Discard
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := opts.Wiring.check(p); err != nil {
		return rep, err
	}
	base := opts.Dir
	if base == "" {
		tmp, err := os.MkdirTemp("", "autoresearch-bench-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		base = tmp
	}
	scenarios := loopScenarios(p)
	for i, sc := range scenarios {
		fmt.Fprintf(opts.Progress, "bench: %s: %d slot(s), pipeline %v, LLM latency %s, %d experiments of %s...\n",
			sc.name, sc.slots, sc.pipeline, sc.latency, sc.max, p.Train)
		r, err := runLoop(opts, filepath.Join(base, sc.name), sc, p.Seed+uint64(i))
		if err != nil {
			return rep, fmt.Errorf("bench %s: %w", sc.name, err)
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.Memory = ReadMemory()
	if len(rep.Runs) == len(scenarios) && len(scenarios) > 0 {
		if !p.ConflictOnly {
			rep.Figures = occupancyFigures(p, rep)
		}
		rep.Figures = append(rep.Figures, conflictFigures(p, rep)...)
	}
	if p.BigTree.Experiments > 0 && !p.HistoryOnly {
		bt, err := runBigTree(opts, filepath.Join(base, "bigtree"))
		if err != nil {
			return rep, fmt.Errorf("bench big tree: %w", err)
		}
		rep.BigTree = bt
		rep.Figures = append(rep.Figures, bigTreeFigures(bt)...)
	}
	if len(p.HistorySizes) > 0 && !p.BigTree.Only {
		h, err := runHistory(opts, filepath.Join(base, "history"))
		if err != nil {
			return rep, fmt.Errorf("bench history: %w", err)
		}
		rep.History = h
		rep.Figures = append(rep.Figures, historyFigures(h)...)
	}
	if p.Landscape > 0 {
		l, err := runLandscape(opts, filepath.Join(base, "landscape"))
		if err != nil {
			return rep, fmt.Errorf("bench landscape: %w", err)
		}
		rep.Landscape = &l
		rep.Figures = append(rep.Figures, landscapeFigures(l)...)
	}
	for _, f := range rep.Figures {
		if f.Result == "MISS" {
			rep.Misses++
		}
	}
	return rep, nil
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

// RealPython resolves the interpreter the simulated trainer runs with
// ("" is python3). A version manager's shim (pyenv, asdf) is a script that
// costs ~60 ms per start: that would be measured as harness gap although
// it is neither the harness nor what a GPU host's `uv run` does, so the
// real executable is asked for its own path.
func RealPython(name string) (string, error) {
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
