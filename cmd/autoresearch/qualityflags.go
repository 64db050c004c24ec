package main

import (
	"flag"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
)

// qualityFlags shape how results are trusted and what the LLM may spend.
type qualityFlags struct {
	baselineRepeats int
	confirmSigma    float64
	plateauAfter    int
	protect         string
	tokenBudget     int64
	costBudget      float64
	prices          string
	ideasPer        int
	implSigma       float64
	implGain        float64
	plausibleBPB    string
	early           earlyStopFlags // --early-stop, --early-stop-warmup, --early-stop-warmdown (earlystopflags.go)
}

func (q *qualityFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&q.baselineRepeats, "baseline-repeats", research.DefaultBaselineRepeats, "extra runs of the baseline to measure run-to-run noise (0 = none)")
	fs.Float64Var(&q.confirmSigma, "confirm-sigma", research.DefaultConfirmSigma, "a gain below this many standard deviations of noise is rerun before it is kept")
	fs.IntVar(&q.ideasPer, "ideas-per-proposal", 1, "open ideas one proposal is given (oldest first); only those are credited")
	fs.IntVar(&q.plateauAfter, "plateau-after", research.DefaultPlateauAfter, "experiments without a keep before the proposer is asked for a different direction (0 = never)")
	fs.StringVar(&q.protect, "protect", "", "extra regexps (comma-separated) of train.py lines that compute or print the metric and may not change")
	fs.Int64Var(&q.tokenBudget, "token-budget", 0, "LLM tokens the run may spend; warns at 80%, pauses at 100% (0 = unlimited)")
	fs.Float64Var(&q.costBudget, "cost-budget", 0, "USD the run may spend on the LLM; warns at 80%, pauses at 100% (0 = unlimited)")
	fs.Float64Var(&q.implSigma, "implausible-sigma", research.DefaultImplausibleSigma, "a gain above this many standard deviations of the measured noise is implausible: rerun before it can be kept, and the channel told (0 = never)")
	fs.Float64Var(&q.implGain, "implausible-gain", research.DefaultImplausibleGain, "with no noise measured, a gain above this fraction of the best val_bpb is implausible (0 = never)")
	fs.StringVar(&q.plausibleBPB, "plausible-bpb", fmt.Sprintf("%g..%g", research.DefaultPlausibleMin, research.DefaultPlausibleMax), "val_bpb outside MIN..MAX is implausible: rerun and never kept unless the rerun is in range and improves")
	fs.StringVar(&q.prices, "prices", "", "USD per million prompt,completion tokens by model, e.g. 'gpt-4.1=2,8;my-model=0.5,1.5'")
	q.early.register(fs)
}

func (q *qualityFlags) validate() error {
	if q.baselineRepeats < 0 {
		return usagef("--baseline-repeats must be 0 or more")
	}
	if q.confirmSigma < 0 {
		return usagef("--confirm-sigma must be 0 or more")
	}
	if q.plateauAfter < 0 {
		return usagef("--plateau-after must be 0 (never) or more")
	}
	if q.ideasPer < 1 {
		return usagef("--ideas-per-proposal must be 1 or more")
	}
	if q.tokenBudget < 0 || q.costBudget < 0 {
		return usagef("budgets must be 0 (unlimited) or more")
	}
	if q.implSigma < 0 || q.implGain < 0 {
		return usagef("--implausible-sigma and --implausible-gain must be 0 (never) or more")
	}
	if err := q.early.validate(); err != nil {
		return err
	}
	if _, _, err := parseRange(q.plausibleBPB); err != nil {
		return usagef("--plausible-bpb %q: %v", q.plausibleBPB, err)
	}
	if _, err := agent.ParsePrices(q.prices); q.prices != "" && err != nil {
		return usagef("--prices: %v", err)
	}
	for _, p := range splitPatterns(q.protect) {
		if _, err := regexp.Compile(p); err != nil {
			return usagef("--protect %q is not a valid regexp: %v", p, err)
		}
	}
	return nil
}

func (q *qualityFlags) apply(cfg *research.Config) {
	cfg.BaselineRepeats = new(q.baselineRepeats)
	cfg.ConfirmSigma = new(q.confirmSigma)
	cfg.PlateauAfter = new(q.plateauAfter)
	cfg.IdeasPerProposal = q.ideasPer
	if extra := splitPatterns(q.protect); len(extra) > 0 {
		cfg.Protected = append(append([]string{}, research.DefaultProtected...), extra...)
	}
	cfg.TokenBudget = q.tokenBudget
	cfg.CostBudget = q.costBudget
	cfg.ImplausibleSigma, cfg.ImplausibleGain = new(q.implSigma), new(q.implGain)
	if lo, hi, err := parseRange(q.plausibleBPB); err == nil {
		cfg.PlausibleMin, cfg.PlausibleMax = new(lo), new(hi)
	}
	q.early.apply(cfg)
}

// parseRange reads "MIN..MAX" with 0 <= MIN < MAX.
func parseRange(s string) (lo, hi float64, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "..")
	if !ok {
		return 0, 0, fmt.Errorf("want MIN..MAX, e.g. 0.1..20")
	}
	if lo, err = strconv.ParseFloat(strings.TrimSpace(a), 64); err != nil {
		return 0, 0, fmt.Errorf("MIN %q is not a number", a)
	}
	if hi, err = strconv.ParseFloat(strings.TrimSpace(b), 64); err != nil {
		return 0, 0, fmt.Errorf("MAX %q is not a number", b)
	}
	if lo <= 0 || hi <= lo || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		return 0, 0, fmt.Errorf("want 0 < MIN < MAX")
	}
	return lo, hi, nil
}

// costOf prices LLM usage for model, from the built-in table and --prices;
// nil when the model's price is unknown.
func (q *qualityFlags) costOf(model string) (func(research.Usage) float64, error) {
	prices := agent.DefaultPrices
	if q.prices != "" {
		over, err := agent.ParsePrices(q.prices)
		if err != nil {
			return nil, usagef("--prices: %v", err)
		}
		prices = agent.MergePrices(prices, over)
	}
	if _, known := agent.LookupPrice(model, prices); !known {
		if q.costBudget > 0 {
			return nil, usagef("--cost-budget needs the price of %q: give it with --prices '%s=PROMPT,COMPLETION' (USD per million tokens)", model, model)
		}
		return nil, nil
	}
	return func(u research.Usage) float64 {
		c, _ := agent.Cost(model, u, prices)
		return c
	}, nil
}

func splitPatterns(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
