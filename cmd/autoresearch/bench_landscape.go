package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoresearch/autoresearch/bot/terminal"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/bench"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Targets of the landscape scenario (issue 14, point 3).
const (
	targetEarlyStopSpeedup = 1.3
	landscapeSteps         = 50 // progress lines per simulated training
)

// landscapeRun is the landscape scenario with early stopping off or on.
type landscapeRun struct {
	EarlyStop      bool           `json:"early_stop"`
	Experiments    int            `json:"experiments"` // finished, the baseline included
	Wall           time.Duration  `json:"wall_ns"`     // Start to the end of Wait
	ExpPerHour     float64        `json:"exp_per_hour"`
	TrainSeconds   float64        `json:"train_seconds"` // summed over the experiments
	Keeps          int            `json:"keeps"`         // the baseline included
	Stopped        map[string]int `json:"stopped_by_kind"`
	WinnersStopped int            `json:"winners_stopped"` // stopped, but training to the end would have been kept
	MeanStopPct    float64        `json:"mean_stop_percent"`
}

// landscapeReport is the landscape scenario's outcome.
type landscapeReport struct {
	Shapes  int            `json:"shapes"`
	Kinds   map[string]int `json:"kinds"`
	Off, On landscapeRun
	Speedup float64 `json:"speedup"`
}

// benchLandscape runs the loop twice over the same landscape of simulated
// loss curves (bench.NewLandscape), early stopping off then on, with the
// real loop, the local trainer running a python process that prints the
// curve, and the real decision; it measures experiments per hour and how
// many eventual winners early stopping ended.
func benchLandscape(p benchParams, dir string, events io.Writer, logger *slog.Logger, progress io.Writer) (landscapeReport, error) {
	shapes := bench.NewLandscape(p.Landscape, p.Seed)
	rep := landscapeReport{Shapes: len(shapes), Kinds: map[string]int{}}
	for _, c := range shapes {
		rep.Kinds[c.Kind]++
	}
	for _, on := range []bool{false, true} {
		fmt.Fprintf(progress, "bench: landscape: %d curves of %s, early stopping %v...\n", len(shapes), p.Train, on)
		r, err := landscapeScenario(p, filepath.Join(dir, fmt.Sprintf("early-stop-%v", on)), shapes, on, events, logger)
		if err != nil {
			return rep, err
		}
		if on {
			rep.On = r
		} else {
			rep.Off = r
		}
	}
	if rep.Off.ExpPerHour > 0 {
		rep.Speedup = rep.On.ExpPerHour / rep.Off.ExpPerHour
	}
	return rep, nil
}

func landscapeScenario(p benchParams, dir string, shapes []bench.CurveShape, on bool, events io.Writer, logger *slog.Logger) (landscapeRun, error) {
	r := landscapeRun{EarlyStop: on, Stopped: map[string]int{}}
	if err := bench.NewLandscapeRepo(dir, p.Train.Seconds(), landscapeSteps, len(shapes)); err != nil {
		return r, err
	}
	repo, err := openRepo(dir)
	if err != nil {
		return r, err
	}
	cfg := research.Config{
		MaxExperiments:  1 + len(shapes),
		BaselineRepeats: -1, // deterministic curves: the margin is the relative floor
		Pipeline:        true,
		RunLog:          true,
		ProposerName:    "landscape",
		TrainTimeout:    10*p.Train + time.Minute,
		Python:          p.Python,
		EarlyStop:       research.EarlyStop{Enabled: on},
	}.WithDefaults(repo.Root())
	db, err := openStore(cfg.StateDir, repo.Root())
	if err != nil {
		return r, err
	}
	defer db.Close()
	db.Logger = logger
	m := &research.Manager{
		Repo: repo, Store: db, Proposer: &bench.LandscapeProposer{Shapes: shapes},
		Trainer: &trainer.Local{Command: shellQuote(p.Python) + " train.py", Logger: logger},
		Config:  cfg, Logger: logger,
		Worktree: worktrees(repo.Root(), cfg.StateDir),
	}
	m.Observer = &terminal.Terminal{Out: events, Controller: m}
	start := time.Now()
	if _, err := m.Start(context.Background(), research.StartRequest{Tag: "landscape", By: "bench"}); err != nil {
		return r, err
	}
	limit := time.Duration(cfg.MaxExperiments)*p.Train*3 + 2*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		_ = m.Shutdown(context.Background())
		return r, fmt.Errorf("the landscape run did not end within %s: %w", limit, err)
	}
	r.Wall = time.Since(start)
	exps, err := m.Results(context.Background(), 0)
	if err != nil {
		return r, err
	}
	sort.Slice(exps, func(i, j int) bool { return exps[i].Number < exps[j].Number })
	best := 0.0
	var stopPct float64
	for _, e := range exps {
		if e.Status == research.StatusRunning {
			continue
		}
		r.Experiments++
		r.TrainSeconds += e.TrainSeconds
		if e.Status == research.StatusKeep {
			r.Keeps++
			best = e.Summary.ValBPB
			continue
		}
		if !research.WasStoppedEarly(e) {
			continue
		}
		i, ok := bench.ShapeIndex(e.Description)
		if !ok || i >= len(shapes) {
			return r, fmt.Errorf("experiment #%d %q is not one of the landscape's shapes", e.Number, e.Description)
		}
		r.Stopped[shapes[i].Kind]++
		if best > 0 && shapes[i].ValBPB() < best {
			r.WinnersStopped++
		}
		var pct float64
		if _, err := fmt.Sscanf(e.Reason, research.ReasonStoppedEarly+" at %f%%", &pct); err == nil {
			stopPct += pct
		}
	}
	if n := stoppedTotal(r); n > 0 {
		r.MeanStopPct = stopPct / float64(n)
	}
	if r.Wall > 0 {
		r.ExpPerHour = float64(r.Experiments) / r.Wall.Hours()
	}
	return r, nil
}

func stoppedTotal(r landscapeRun) int {
	n := 0
	for _, v := range r.Stopped {
		n += v
	}
	return n
}

// landscapeFigures adds the scenario's lines to the figure table.
func landscapeFigures(l landscapeReport, add func(name string, v float64, unit, shown, target string, pass *bool)) {
	ptrTo := func(b bool) *bool { return &b }
	add("experiments/hour, landscape, fixed budget (early stop off)", l.Off.ExpPerHour, "1/h", fmt.Sprintf("%.0f", l.Off.ExpPerHour), "", nil)
	add("experiments/hour, landscape, --early-stop", l.On.ExpPerHour, "1/h", fmt.Sprintf("%.0f", l.On.ExpPerHour), "", nil)
	add("  speed-up from early stopping", l.Speedup, "x", fmt.Sprintf("%.2fx", l.Speedup),
		fmt.Sprintf(">= %.2fx", targetEarlyStopSpeedup), ptrTo(l.Speedup >= targetEarlyStopSpeedup))
	perExp := func(r landscapeRun) float64 {
		if r.Experiments == 0 {
			return 0
		}
		return r.TrainSeconds / float64(r.Experiments)
	}
	add("  training seconds per experiment, off / on", perExp(l.On), "s",
		fmt.Sprintf("%.2f / %.2f", perExp(l.Off), perExp(l.On)), "", nil)
	add("  eventual keeps stopped early", float64(l.On.WinnersStopped), "", fmt.Sprintf("%d", l.On.WinnersStopped), "0", ptrTo(l.On.WinnersStopped == 0))
	add("  keeps without / with early stopping", float64(l.On.Keeps), "", fmt.Sprintf("%d / %d", l.Off.Keeps, l.On.Keeps), "", nil)
}

func printLandscape(w io.Writer, l *landscapeReport) {
	if l == nil {
		return
	}
	kinds := []string{bench.ShapeWorse, bench.ShapeNeutral, bench.ShapeBetter, bench.ShapeLateBloomer}
	var mix []string
	for _, k := range kinds {
		mix = append(mix, fmt.Sprintf("%d %s", l.Kinds[k], k))
	}
	fmt.Fprintf(w, "landscape: %d simulated loss curves (%s), %d progress lines each\n", l.Shapes, strings.Join(mix, ", "), landscapeSteps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "early stop\texperiments\twall\texp/hour\ttraining s\tkeeps\tstopped (worse/neutral/better/late)\tmean stop at\twinners stopped")
	for _, r := range []landscapeRun{l.Off, l.On} {
		fmt.Fprintf(tw, "%v\t%d\t%s\t%.0f\t%.1f\t%d\t%d/%d/%d/%d\t%.0f%%\t%d\n", r.EarlyStop, r.Experiments, r.Wall.Round(100*time.Millisecond),
			r.ExpPerHour, r.TrainSeconds, r.Keeps, r.Stopped[bench.ShapeWorse], r.Stopped[bench.ShapeNeutral], r.Stopped[bench.ShapeBetter],
			r.Stopped[bench.ShapeLateBloomer], r.MeanStopPct, r.WinnersStopped)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
