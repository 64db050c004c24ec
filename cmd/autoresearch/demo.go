package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/demo"
)

func demoCmd(args []string, streams IO) error {
	fs := newFlagSet("demo", streams)
	var f loopFlags
	f.register(fs)
	dir := fs.String("dir", "", "where to put the example repo (default a new temporary directory)")
	experiments := fs.Int("experiments", 8, "how many experiments to run, the baseline included")
	// The demo's own defaults: CPU-only stdlib Python, the sweep proposer
	// unless an API key is there to use the LLM.
	_ = fs.Set("train-cmd", "python3 train.py")
	_ = fs.Set("timeout", "2m")
	proposer := "sweep"
	if os.Getenv("OPENAI_API_KEY") != "" {
		proposer = "llm"
	}
	_ = fs.Set("proposer", proposer)
	// The demo's trainer is deterministic: repeating its baseline measures no
	// noise, it only costs time. It trains on the CPU: no GPU checks.
	_ = fs.Set("baseline-repeats", "0")
	f.gpu.disabled = true
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return &research.InputError{Msg: "the demo needs python3 on PATH (standard library only; no GPU, no packages)"}
	}
	if *experiments < 1 {
		return usagef("--experiments must be at least 1")
	}
	if *dir != "" {
		probe := f
		probe.repo = *dir
		if _, err := probe.absRepo(); err == nil {
			if err := probeOwner(&probe); err != nil {
				return err
			}
		}
	}
	target := *dir
	if target == "" {
		tmp, err := os.MkdirTemp("", "autoresearch-demo-")
		if err != nil {
			return err
		}
		target = tmp
	} else if empty, err := demo.EmptyDir(target); err != nil {
		return err
	} else if !empty {
		return &research.InputError{Msg: fmt.Sprintf("--dir %s is not empty; give a new or empty directory", target)}
	}
	target, _ = filepath.Abs(target)
	if err := demo.Setup(target); err != nil {
		return err
	}
	f.repo = target
	f.maxExperiments = *experiments
	fmt.Fprintf(streams.Out, "autoresearch demo: example research repo in %s (proposer %s, %d experiments)\n\n", target, f.proposer, *experiments)
	start := time.Now()
	req := research.StartRequest{Tag: "demo", By: "demo"}
	return runLoop(&f, req, streams, loopOptions{endPausedWithoutInput: true, onEnd: func(p *loopParts) error {
		exps, err := p.manager.Results(context.Background(), 0)
		if err != nil {
			return err
		}
		cfg := p.manager.Config
		fmt.Fprintf(streams.Out, "\n%s\n", render.FormatResultsTable(exps))
		fmt.Fprintf(streams.Out, "finished in %s\n\n", time.Since(start).Round(time.Second))
		fmt.Fprintf(streams.Out, "files:\n  repo          %s (branch autoresearch/demo holds the best train.py)\n  results.tsv   %s\n  store         %s\n  logs          %s\n",
			target, filepath.Join(target, "results.tsv"), filepath.Join(cfg.StateDir, "autoresearch.db"), filepath.Join(cfg.StateDir, "logs", "demo"))
		fmt.Fprintf(streams.Out, "\nnext: autoresearch results --repo %s   (or --tsv / --json)\n", target)
		return nil
	}})
}
