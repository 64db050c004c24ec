package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/sweep"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// LoopGaps are one loop's gaps between training runs.
type LoopGaps struct {
	Experiments int           `json:"experiments"`
	Keep        int           `json:"keep"`
	Wall        time.Duration `json:"wall_ns"`
	Gap         Dist          `json:"gap"` // trainer end stamp -> next trainer start stamp
	GapP90      time.Duration `json:"gap_p90_ns"`
	Own         Dist          `json:"own"` // training call returned -> next call (the loop's own work)
	OwnP90      time.Duration `json:"own_p90_ns"`
}

// BigTreeReport is the big-tree scenario's outcome: the harness and the
// git-CLI shell loop on the same repository.
type BigTreeReport struct {
	Params  BigTreeParams `json:"params"`
	Build   time.Duration `json:"build_ns"`
	Harness LoopGaps      `json:"harness"`
	Shell   LoopGaps      `json:"shell"`
}

// summarizeLoop sums up one or more runs of a loop.
func summarizeLoop(runs ...[]Span) LoopGaps {
	var g LoopGaps
	var process, own []time.Duration
	for _, spans := range runs {
		g.Experiments += len(spans)
		p, o := Gaps(spans)
		process, own = append(process, p...), append(own, o...)
	}
	g.Gap, g.Own = Summarize(process), Summarize(own)
	slices.Sort(process)
	slices.Sort(own)
	g.GapP90, g.OwnP90 = Percentile(process, 90), Percentile(own, 90)
	return g
}

// runBigTree builds one big repository, runs the git-CLI loop on a branch
// of it, puts it back on main and runs the harness there: sequential
// (--pipeline=false), the sweep proposer (an edit as cheap as the loop's
// sed) and the simulated train.py, so that both gaps are the loop's work
// plus the interpreter's start.
func runBigTree(opts Options, dir string) (BigTreeReport, error) {
	p, b, logger, progress := opts.Params, opts.Params.BigTree, opts.Logger, opts.Progress
	rep := BigTreeReport{Params: b}
	repoDir := filepath.Join(dir, "repo")
	fmt.Fprintf(progress, "bench: big tree: building a repository with %d tracked and %d untracked files...\n", b.Tracked, b.Untracked)
	t0 := time.Now()
	if err := NewRepo(repoDir, RepoOptions{TrainSeconds: b.Train.Seconds(), Python: p.Python}); err != nil {
		return rep, err
	}
	if err := AddBigTree(repoDir, BigTreeOptions{Tracked: b.Tracked, Untracked: b.Untracked}); err != nil {
		return rep, err
	}
	rep.Build = time.Since(t0)
	ctx := context.Background()

	// The shell loop runs once before and once after the harness, so that a
	// load that changes meanwhile weighs on both alike.
	shell := func(i int) (ShellLoopResult, error) {
		fmt.Fprintf(progress, "bench: big tree: the git-CLI shell loop (%d of 2), %d training runs of %s...\n", i, b.Experiments, b.Train)
		sh, err := RunShellLoop(ctx, repoDir, fmt.Sprintf("shell-loop-%d", i), VenvPython(repoDir), filepath.Join(dir, fmt.Sprintf("shell%d", i)), b.Experiments)
		if err != nil {
			return sh, err
		}
		if err := Git(repoDir, "checkout", "-q", "main"); err != nil {
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
	repo, err := gitrepo.Open(repoDir)
	if err != nil {
		return rep, err
	}
	cfg := research.Config{
		MaxExperiments:  b.Experiments,
		BaselineRepeats: new(0),
		Pipeline:        false,
		RunLog:          true,
		ProposerName:    "sweep",
		TrainTimeout:    10*b.Train + time.Minute,
		Python:          VenvPython(repoDir),
	}.WithDefaults(repo.Root())
	db, err := opts.Wiring.OpenStore(cfg.StateDir, repo.Root())
	if err != nil {
		return rep, err
	}
	defer db.Close()
	stamps := filepath.Join(dir, "harness-stamps")
	if err := os.MkdirAll(stamps, 0o755); err != nil {
		return rep, err
	}
	var log Log
	m := &research.Manager{
		Repo: repo, Store: db, Config: cfg, Logger: logger,
		Proposer: &sweep.Sweep{Seed: int64(p.Seed), Logger: logger},
		Trainer: &Recording{Inner: &trainer.Local{Command: shellQuote(VenvPython(repoDir)) + " train.py", Logger: logger},
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
func bigTreeFigures(r BigTreeReport) []Line {
	if r.Harness.Experiments == 0 {
		return nil
	}
	var out lines
	h, s := r.Harness, r.Shell
	where := fmt.Sprintf("%d tracked, %d untracked files", r.Params.Tracked, r.Params.Untracked)
	pass := h.Gap.N > 0 && s.Gap.N > 0 && h.Gap.P50 <= s.Gap.P50
	out.add("big tree: gap p50/p90, harness ("+where+")", ms(h.Gap.P50), "ms", fmtMS(h.Gap.P50)+" / "+fmtMS(h.GapP90),
		fmt.Sprintf("<= git-CLI loop's p50 (%s)", fmtMS(s.Gap.P50)), &pass)
	out.add("  gap p50/p90, git-CLI shell loop (edit, commit, train, grep, reset)", ms(s.Gap.P50), "ms", fmtMS(s.Gap.P50)+" / "+fmtMS(s.GapP90), "", nil)
	out.add("  own share p50/p90 (training call returned -> next call), harness", ms(h.Own.P50), "ms", fmtMS(h.Own.P50)+" / "+fmtMS(h.OwnP90), "", nil)
	out.add("  own share p50/p90, git-CLI shell loop", ms(s.Own.P50), "ms", fmtMS(s.Own.P50)+" / "+fmtMS(s.OwnP90), "", nil)
	return out
}
