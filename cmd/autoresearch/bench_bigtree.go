package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/bench"
	"github.com/autoresearch/autoresearch/research/sweep"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// bigTreeParams are the big-tree scenario's flags (issue 14, point 5).
type bigTreeParams struct {
	Tracked     int           `json:"tracked"`     // files committed besides the research files
	Untracked   int           `json:"untracked"`   // untracked files nothing ignores
	Experiments int           `json:"experiments"` // training runs per loop, the baseline included
	Train       time.Duration `json:"train_ns"`    // each simulated training run
	Only        bool          `json:"only"`
}

func (b *bigTreeParams) flags(fs *flag.FlagSet) {
	fs.IntVar(&b.Tracked, "bigtree-tracked", 5000, "big-tree scenario: tracked files besides the research files")
	fs.IntVar(&b.Untracked, "bigtree-untracked", 20000, "big-tree scenario: untracked files that no .gitignore covers")
	fs.IntVar(&b.Experiments, "bigtree-experiments", 12, "big-tree scenario: training runs per loop, the baseline included (0: skip the scenario)")
	fs.DurationVar(&b.Train, "bigtree-train", 300*time.Millisecond, "big-tree scenario: how long each simulated training run takes")
	fs.BoolVar(&b.Only, "bigtree-only", false, "run only the big-tree scenario")
}

func (b bigTreeParams) check() error {
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

// loopGaps are one loop's gaps between training runs.
type loopGaps struct {
	Experiments int           `json:"experiments"`
	Keep        int           `json:"keep"`
	Wall        time.Duration `json:"wall_ns"`
	Gap         bench.Dist    `json:"gap"` // trainer end stamp -> next trainer start stamp
	GapP90      time.Duration `json:"gap_p90_ns"`
	Own         bench.Dist    `json:"own"` // training call returned -> next call (the loop's own work)
	OwnP90      time.Duration `json:"own_p90_ns"`
}

// bigTreeReport is the big-tree scenario's outcome: the harness and the
// git-CLI shell loop on the same repository.
type bigTreeReport struct {
	Params  bigTreeParams `json:"params"`
	Build   time.Duration `json:"build_ns"`
	Harness loopGaps      `json:"harness"`
	Shell   loopGaps      `json:"shell"`
}

// summarizeLoop sums up one or more runs of a loop.
func summarizeLoop(runs ...[]bench.Span) loopGaps {
	var g loopGaps
	var process, own []time.Duration
	for _, spans := range runs {
		g.Experiments += len(spans)
		p, o := bench.Gaps(spans)
		process, own = append(process, p...), append(own, o...)
	}
	g.Gap, g.Own = bench.Summarize(process), bench.Summarize(own)
	slices.Sort(process)
	slices.Sort(own)
	g.GapP90, g.OwnP90 = bench.Percentile(process, 90), bench.Percentile(own, 90)
	return g
}

// benchBigTree builds one big repository, runs the git-CLI loop on a branch
// of it, puts it back on main and runs the harness there: sequential
// (--pipeline=false), the sweep proposer (an edit as cheap as the loop's
// sed) and the simulated train.py, so that both gaps are the loop's work
// plus the interpreter's start.
func benchBigTree(p benchParams, b bigTreeParams, dir string, logger *slog.Logger, progress io.Writer) (bigTreeReport, error) {
	rep := bigTreeReport{Params: b}
	repoDir := filepath.Join(dir, "repo")
	fmt.Fprintf(progress, "bench: big tree: building a repository with %d tracked and %d untracked files...\n", b.Tracked, b.Untracked)
	t0 := time.Now()
	if err := bench.NewRepo(repoDir, bench.RepoOptions{TrainSeconds: b.Train.Seconds()}); err != nil {
		return rep, err
	}
	if err := bench.AddBigTree(repoDir, bench.BigTreeOptions{Tracked: b.Tracked, Untracked: b.Untracked}); err != nil {
		return rep, err
	}
	rep.Build = time.Since(t0)
	ctx := context.Background()

	// The shell loop runs once before and once after the harness, so that a
	// load that changes meanwhile weighs on both alike.
	shell := func(i int) (bench.ShellLoopResult, error) {
		fmt.Fprintf(progress, "bench: big tree: the git-CLI shell loop (%d of 2), %d training runs of %s...\n", i, b.Experiments, b.Train)
		sh, err := bench.RunShellLoop(ctx, repoDir, fmt.Sprintf("shell-loop-%d", i), p.Python, filepath.Join(dir, fmt.Sprintf("shell%d", i)), b.Experiments)
		if err != nil {
			return sh, err
		}
		if err := bench.Git(repoDir, "checkout", "-q", "main"); err != nil {
			return sh, err
		}
		for _, f := range []string{"results.tsv", "run.log"} {
			if err := os.Remove(filepath.Join(repoDir, f)); err != nil && !os.IsNotExist(err) {
				return sh, err
			}
		}
		return sh, nil
	}
	sh1, err := shell(1)
	if err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "bench: big tree: the harness (sequential, sweep proposer), %d training runs of %s...\n", b.Experiments, b.Train)
	repo, err := openRepo(repoDir)
	if err != nil {
		return rep, err
	}
	cfg := research.Config{
		MaxExperiments:  b.Experiments,
		BaselineRepeats: -1,
		Pipeline:        false,
		RunLog:          true,
		ProposerName:    "sweep",
		TrainTimeout:    10*b.Train + time.Minute,
		Python:          p.Python,
	}.WithDefaults(repo.Root())
	db, err := openStore(cfg.StateDir, repo.Root())
	if err != nil {
		return rep, err
	}
	defer db.Close()
	db.Logger = logger
	stamps := filepath.Join(dir, "harness-stamps")
	if err := os.MkdirAll(stamps, 0o755); err != nil {
		return rep, err
	}
	var log bench.Log
	m := &research.Manager{
		Repo: repo, Store: db, Config: cfg, Logger: logger,
		Proposer: &sweep.Sweep{Seed: int64(p.Seed), Logger: logger},
		Trainer: &bench.Recording{Inner: &trainer.Local{Command: shellQuote(p.Python) + " train.py", Logger: logger},
			Slot: "main", Log: &log, StampDir: stamps},
	}
	start := time.Now()
	if _, err := m.Start(ctx, research.StartRequest{Tag: "bigtree", By: "bench"}); err != nil {
		return rep, err
	}
	if err := waitRun(ctx, m, b.Experiments); err != nil {
		return rep, err
	}
	spans := log.Spans()
	rep.Harness = summarizeLoop(spans)
	rep.Harness.Wall = time.Since(start)
	exps, err := m.Results(ctx, 0)
	if err != nil {
		return rep, err
	}
	for _, e := range exps {
		if e.Status == research.StatusKeep {
			rep.Harness.Keep++
		}
	}
	sh2, err := shell(2)
	if err != nil {
		return rep, err
	}
	rep.Shell = summarizeLoop(sh1.Spans, sh2.Spans)
	rep.Shell.Keep, rep.Shell.Wall = sh1.Keep+sh2.Keep, sh1.Wall+sh2.Wall
	return rep, nil
}

// bigTreeFigures are the scenario's lines of the result table: the goal is
// a harness gap no worse than the git-CLI loop's.
func bigTreeFigures(r bigTreeReport, add func(name string, v float64, unit, shown, target string, pass *bool)) {
	if r.Harness.Experiments == 0 {
		return
	}
	h, s := r.Harness, r.Shell
	where := fmt.Sprintf("%d tracked, %d untracked files", r.Params.Tracked, r.Params.Untracked)
	pass := h.Gap.N > 0 && s.Gap.N > 0 && h.Gap.P50 <= s.Gap.P50
	add("big tree: gap p50/p90, harness ("+where+")", ms(h.Gap.P50), "ms", fmtMS(h.Gap.P50)+" / "+fmtMS(h.GapP90),
		fmt.Sprintf("<= git-CLI loop's p50 (%s)", fmtMS(s.Gap.P50)), &pass)
	add("  gap p50/p90, git-CLI shell loop (edit, commit, train, grep, reset)", ms(s.Gap.P50), "ms", fmtMS(s.Gap.P50)+" / "+fmtMS(s.GapP90), "", nil)
	add("  own share p50/p90 (training call returned -> next call), harness", ms(h.Own.P50), "ms", fmtMS(h.Own.P50)+" / "+fmtMS(h.OwnP90), "", nil)
	add("  own share p50/p90, git-CLI shell loop", ms(s.Own.P50), "ms", fmtMS(s.Own.P50)+" / "+fmtMS(s.OwnP90), "", nil)
}

// printBigTree prints the scenario's side-by-side table.
func printBigTree(w io.Writer, r bigTreeReport) {
	if r.Harness.Experiments == 0 {
		return
	}
	fmt.Fprintf(w, "big tree: %d tracked and %d untracked (unignored) files, built in %s; %d training runs of %s per loop, sequential\n",
		r.Params.Tracked, r.Params.Untracked, r.Build.Round(time.Millisecond), r.Params.Experiments, r.Params.Train)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "loop\truns\tkeep\twall\tgap p50 / p90\town share p50 / p90")
	for _, l := range []struct {
		name string
		g    loopGaps
	}{{"harness", r.Harness}, {"git CLI (bash)", r.Shell}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s / %s\t%s / %s\n", l.name, l.g.Experiments, l.g.Keep, l.g.Wall.Round(100*time.Millisecond),
			fmtMS(l.g.Gap.P50), fmtMS(l.g.GapP90), fmtMS(l.g.Own.P50), fmtMS(l.g.OwnP90))
	}
	tw.Flush()
	fmt.Fprintln(w, "gap: one trainer's end stamp to the next one's start stamp (the interpreter's start included); own share: the training command returned to the next one called.")
	fmt.Fprintln(w)
}
