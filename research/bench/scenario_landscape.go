package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Targets of the landscape scenario (issue 14, point 3).
const (
	targetEarlyStopSpeedup = 1.3
	landscapeSteps         = 50 // progress lines per simulated training
)

// LandscapeRun is the landscape scenario with early stopping off or on.
type LandscapeRun struct {
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

// StoppedTotal is how many experiments early stopping ended.
func (r LandscapeRun) StoppedTotal() int {
	n := 0
	for _, v := range r.Stopped {
		n += v
	}
	return n
}

// LandscapeReport is the landscape scenario's outcome.
type LandscapeReport struct {
	Shapes  int            `json:"shapes"`
	Kinds   map[string]int `json:"kinds"`
	Off, On LandscapeRun
	Speedup float64 `json:"speedup"`
}

// runLandscape runs the loop twice over the same landscape of simulated
// loss curves (NewLandscape), early stopping off then on, with the real
// loop, the local trainer running a python process that prints the curve,
// and the real decision; it measures experiments per hour and how many
// eventual winners early stopping ended.
func runLandscape(opts Options, dir string) (LandscapeReport, error) {
	p := opts.Params
	shapes := NewLandscape(p.Landscape, p.Seed)
	rep := LandscapeReport{Shapes: len(shapes), Kinds: map[string]int{}}
	for _, c := range shapes {
		rep.Kinds[c.Kind]++
	}
	for _, on := range []bool{false, true} {
		fmt.Fprintf(opts.Progress, "bench: landscape: %d curves of %s, early stopping %v...\n", len(shapes), p.Train, on)
		r, err := runLandscapeLoop(opts, filepath.Join(dir, fmt.Sprintf("early-stop-%v", on)), shapes, on)
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

func runLandscapeLoop(opts Options, dir string, shapes []CurveShape, on bool) (LandscapeRun, error) {
	p, w, logger := opts.Params, opts.Wiring, opts.Logger
	r := LandscapeRun{EarlyStop: on, Stopped: map[string]int{}}
	if err := NewLandscapeRepo(dir, p.Python, p.Train.Seconds(), landscapeSteps, len(shapes)); err != nil {
		return r, err
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return r, err
	}
	cfg := research.Config{
		MaxExperiments:  1 + len(shapes),
		BaselineRepeats: new(0), // deterministic curves: the margin is the relative floor
		Pipeline:        true,
		RunLog:          true,
		ProposerName:    "landscape",
		TrainTimeout:    10*p.Train + time.Minute,
		Python:          VenvPython(dir),
		EarlyStop:       research.EarlyStop{Enabled: on},
	}.WithDefaults(repo.Root())
	db, err := w.OpenStore(cfg.StateDir, repo.Root())
	if err != nil {
		return r, err
	}
	defer db.Close()
	m := &research.Manager{
		Repo: repo, Store: db, Proposer: &LandscapeProposer{Shapes: shapes},
		Trainer: &trainer.Local{Command: shellQuote(VenvPython(dir)) + " train.py", Logger: logger},
		Config:  cfg, Logger: logger,
		Worktree: w.Worktrees(repo.Root(), cfg.StateDir),
	}
	if w.Observer != nil {
		m.Observer = w.Observer(opts.Events, m)
	}
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
		i, ok := ShapeIndex(e.Description)
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
	if n := r.StoppedTotal(); n > 0 {
		r.MeanStopPct = stopPct / float64(n)
	}
	if r.Wall > 0 {
		r.ExpPerHour = float64(r.Experiments) / r.Wall.Hours()
	}
	return r, nil
}

// landscapeFigures are the scenario's lines of the result table.
func landscapeFigures(l LandscapeReport) []Line {
	var out lines
	out.add("experiments/hour, landscape, fixed budget (early stop off)", l.Off.ExpPerHour, "1/h", fmt.Sprintf("%.0f", l.Off.ExpPerHour), "", nil)
	out.add("experiments/hour, landscape, --early-stop", l.On.ExpPerHour, "1/h", fmt.Sprintf("%.0f", l.On.ExpPerHour), "", nil)
	out.add("  speed-up from early stopping", l.Speedup, "x", fmt.Sprintf("%.2fx", l.Speedup),
		fmt.Sprintf(">= %.2fx", targetEarlyStopSpeedup), ptrTo(l.Speedup >= targetEarlyStopSpeedup))
	perExp := func(r LandscapeRun) float64 {
		if r.Experiments == 0 {
			return 0
		}
		return r.TrainSeconds / float64(r.Experiments)
	}
	out.add("  training seconds per experiment, off / on", perExp(l.On), "s",
		fmt.Sprintf("%.2f / %.2f", perExp(l.Off), perExp(l.On)), "", nil)
	out.add("  eventual keeps stopped early", float64(l.On.WinnersStopped), "", fmt.Sprintf("%d", l.On.WinnersStopped), "0", ptrTo(l.On.WinnersStopped == 0))
	out.add("  keeps without / with early stopping", float64(l.On.Keeps), "", fmt.Sprintf("%d / %d", l.Off.Keeps, l.On.Keeps), "", nil)
	return out
}
