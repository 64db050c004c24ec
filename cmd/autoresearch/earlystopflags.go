package main

import (
	"flag"

	"github.com/autoresearch/autoresearch/research"
)

// earlyStopFlags are --early-stop and its window; part of qualityFlags, so
// they mean the same in `run`, `bot` and `demo`.
type earlyStopFlags struct {
	on       bool
	warmup   float64
	warmdown float64
}

func (e *earlyStopFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&e.on, "early-stop", false, "end a training whose loss, at the same fraction of the budget, is worse than the best run's curve by more than the noise margin (recorded as a discard; retry N trains it fully). Off: every run gets the full budget, as upstream")
	fs.Float64Var(&e.warmup, "early-stop-warmup", research.DefaultEarlyStopWarmup, "with --early-stop, the fraction of the budget before which nothing is stopped")
	fs.Float64Var(&e.warmdown, "early-stop-warmdown", research.DefaultEarlyStopWarmdown, "with --early-stop, the final fraction of the budget during which nothing is stopped")
}

func (e *earlyStopFlags) validate() error {
	if err := e.policy().Validate(); err != nil {
		return usagef("--early-stop-warmup/--early-stop-warmdown: %v", err)
	}
	return nil
}

func (e *earlyStopFlags) policy() research.EarlyStop {
	return research.EarlyStop{Enabled: e.on, Warmup: e.warmup, Warmdown: e.warmdown}
}

func (e *earlyStopFlags) apply(cfg *research.Config) { cfg.EarlyStop = e.policy() }
