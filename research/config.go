package research

import (
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Config shapes a run. WithDefaults fills what is unset: the zero value of
// a field that cannot be zero (no editable file, no timeout), and the nil
// of the counts and thresholds where zero says something (no fix attempts,
// no baseline repeats, never): those are pointers, so an explicit 0 keeps
// its meaning and WithDefaults may run any number of times.
type Config struct {
	Editable []string // files proposals may change (default train.py)
	ReadOnly []string // files verified unchanged before every run (default prepare.py)
	Program  string   // the human's research instructions (default program.md)

	StateDir            string        // store, logs (default REPO/.autoresearch)
	TrainTimeout        time.Duration // hard limit per training run (default 10m)
	MinDelta            float64       // a keep must beat the best by more than this (default 0)
	MaxExperiments      int           // 0 = forever; the baseline counts as one
	FixAttempts         *int          // crash-fix attempts per idea (nil: DefaultFixAttempts; 0 = none)
	ProposeTries        int           // refused proposals retried with feedback per experiment (default 3)
	MaxProposerFailures int           // consecutive proposer errors before pausing (default 3)
	Python              string        // interpreter for the syntax check (default defaultPython; "none" skips it)
	RunLog              bool          // also write run.log in the repo like upstream (the CLI sets it)
	Author              Signature     // author of experiment commits
	GPU                 string        // what the run trains on, for headers and results
	Model               string        // the proposer's model name, for headers
	ProposerName        string        // llm, command, sweep
	TrainEnv            []string      // extra environment for the trainer (CUDA_VISIBLE_DEVICES=...)
	ProgressEvery       time.Duration // minimum interval between progress events (default 1s)
	Slots               []SlotSpec    // where experiments train; empty: one slot in the main worktree
	Pipeline            bool          // propose the next change while the current one trains
	// DropConflicting drops a prepared proposal that no longer applies to
	// a newer best and waits for the next one, instead of training it on
	// the commit it was written for (the behaviour before issue 14). Not a
	// flag: the bench sets it to measure both side by side.
	DropConflicting  bool
	BaselineRepeats  *int     // extra baseline runs to estimate noise (nil: DefaultBaselineRepeats; 0 = none)
	ConfirmSigma     *float64 // gains below this many σ of noise are rerun before a keep (nil: DefaultConfirmSigma; 0 = none)
	PlateauAfter     *int     // experiments without a keep before asking for a new direction (nil: DefaultPlateauAfter; 0 = never)
	IdeasPerProposal int      // open ideas one proposal is given, oldest first (default 1)
	// Review holds each proposal for a person's approval (needs a
	// Reviewer); ReviewTimeout decides an unanswered one by ReviewDefault
	// (ReviewApprove or ReviewSkip; 0: wait for ever).
	Review         bool
	ReviewTimeout  time.Duration
	ReviewDefault  string
	Protected      []string            // regexps of lines that compute or print the metric (default DefaultProtected)
	TokenBudget    int64               // LLM tokens per run; 0 = unlimited
	CostBudget     float64             // USD per run; 0 = unlimited (needs CostOf)
	CostOf         func(Usage) float64 // price of a usage in USD (nil: unknown)
	GPUIndex       int                 // the GPU experiments train on (preflight and telemetry)
	GPUSampleEvery time.Duration       // telemetry sampling interval (default 2s)
	// Redactor hides the process's secrets in everything the loop stores or
	// hands on (logs, log tails, crash reasons, crash-fix prompts); nil: none.
	Redactor *Redactor
	// ProgramMaxBytes caps program.md after an edit or append (default
	// DefaultProgramMaxBytes).
	ProgramMaxBytes int
	// A gain above ImplausibleSigma noise σ (when the noise is known) or
	// above ImplausibleGain relative to the best (when it is not), or a
	// val_bpb outside PlausibleMin..PlausibleMax, is not kept on one run:
	// it is rerun and kept only if confirmed. nil takes the Default*
	// constants (25, 0.02, 0.1..20); an ImplausibleSigma or ImplausibleGain
	// of 0 never calls a gain implausible.
	ImplausibleSigma *float64
	ImplausibleGain  *float64
	PlausibleMin     *float64
	PlausibleMax     *float64
	// EarlyStop ends trainings whose loss curve is clearly worse than the
	// best's (off unless Enabled).
	EarlyStop EarlyStop
}

// WithDefaults fills unset fields for a repository rooted at repoDir.
func (c Config) WithDefaults(repoDir string) Config {
	if len(c.Editable) == 0 {
		c.Editable = []string{"train.py"}
	}
	if len(c.ReadOnly) == 0 {
		c.ReadOnly = []string{"prepare.py"}
	}
	if c.Program == "" {
		c.Program = "program.md"
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(repoDir, ".autoresearch")
	}
	if c.TrainTimeout == 0 {
		c.TrainTimeout = 10 * time.Minute
	}
	c.FixAttempts = orDefault(c.FixAttempts, DefaultFixAttempts)
	if c.ProposeTries == 0 {
		c.ProposeTries = 3
	}
	if c.MaxProposerFailures == 0 {
		c.MaxProposerFailures = 3
	}
	if c.Author.Name == "" {
		c.Author = Signature{Name: "autoresearch", Email: "autoresearch@localhost"}
	}
	c.BaselineRepeats = orDefault(c.BaselineRepeats, DefaultBaselineRepeats)
	c.ConfirmSigma = orDefault(c.ConfirmSigma, DefaultConfirmSigma)
	c.PlateauAfter = orDefault(c.PlateauAfter, DefaultPlateauAfter)
	if c.ReviewDefault == "" {
		c.ReviewDefault = ReviewApprove
	}
	if c.IdeasPerProposal <= 0 {
		c.IdeasPerProposal = 1
	}
	if c.Protected == nil {
		c.Protected = DefaultProtected
	}
	if c.Python == "" {
		c.Python = defaultPython(repoDir)
	}
	if c.GPUSampleEvery == 0 {
		c.GPUSampleEvery = 2 * time.Second
	}
	if c.ProgramMaxBytes <= 0 {
		c.ProgramMaxBytes = DefaultProgramMaxBytes
	}
	c.ImplausibleSigma = orDefault(c.ImplausibleSigma, DefaultImplausibleSigma)
	c.ImplausibleGain = orDefault(c.ImplausibleGain, DefaultImplausibleGain)
	c.PlausibleMin = orDefault(c.PlausibleMin, DefaultPlausibleMin)
	c.PlausibleMax = orDefault(c.PlausibleMax, DefaultPlausibleMax)
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	return c
}

// RequiredFiles are the files a research repository must have.
func (c Config) RequiredFiles() []string {
	files := append([]string{}, c.Editable...)
	files = append(files, c.ReadOnly...)
	return append(files, c.Program)
}

// DefaultProtected matches the lines of upstream's train.py that compute and
// print the metric and the summary block.
var DefaultProtected = []string{
	`evaluate_bpb`,
	`val_bpb`,
	`^\s*print\(\s*f?["']---["']\s*\)`,
	`^\s*print\(\s*f?["'](training_seconds|total_seconds|peak_vram_mb|mfu_percent|total_tokens_M|num_steps|num_params_M|depth):`,
}

// protectedPatterns compiles Protected, skipping (and so never enforcing)
// patterns that do not compile; the CLI validates them first.
func (c Config) protectedPatterns() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range c.Protected {
		if re, err := regexp.Compile(p); err == nil {
			out = append(out, re)
		}
	}
	return out
}

// The defaults of the counts and thresholds a nil Config field leaves to
// WithDefaults (the CLI's flags start from them too).
const (
	DefaultFixAttempts      = 2
	DefaultBaselineRepeats  = 2
	DefaultPlateauAfter     = 15
	DefaultConfirmSigma     = 2.0
	DefaultImplausibleSigma = 25.0
	DefaultImplausibleGain  = 0.02
	DefaultPlausibleMin     = 0.1
	DefaultPlausibleMax     = 20.0
)

// orDefault is p, or a new pointer to def when p is nil (unset).
func orDefault[T any](p *T, def T) *T {
	if p == nil {
		return &def
	}
	return p
}

// valueOr reads an optional field: def when it is unset.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// fixAttempts, baselineRepeats, plateauAfter and confirmSigma read the
// optional fields, also of a Config WithDefaults never saw.
func (c Config) fixAttempts() int      { return valueOr(c.FixAttempts, DefaultFixAttempts) }
func (c Config) baselineRepeats() int  { return valueOr(c.BaselineRepeats, DefaultBaselineRepeats) }
func (c Config) plateauAfter() int     { return valueOr(c.PlateauAfter, DefaultPlateauAfter) }
func (c Config) confirmSigma() float64 { return valueOr(c.ConfirmSigma, DefaultConfirmSigma) }

// judgePolicy is what the judge (decide) takes from c.
func (c Config) judgePolicy() judgePolicy {
	return judgePolicy{MinDelta: c.MinDelta, ConfirmSigma: c.confirmSigma(), FixAttempts: c.fixAttempts(),
		ImplausibleSigma: valueOr(c.ImplausibleSigma, DefaultImplausibleSigma),
		ImplausibleGain:  valueOr(c.ImplausibleGain, DefaultImplausibleGain),
		PlausibleMin:     valueOr(c.PlausibleMin, DefaultPlausibleMin),
		PlausibleMax:     valueOr(c.PlausibleMax, DefaultPlausibleMax)}
}

// defaultPython is the interpreter the checks parse train.py with: the
// project's own environment when root has one (.venv/bin/python, what
// `uv run train.py` trains with, so the checks know the syntax of the
// Python that will run it), else python3 from PATH.
func defaultPython(root string) string {
	venv := filepath.Join(root, ".venv", "bin", "python")
	if fi, err := os.Stat(venv); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return venv
	}
	return "python3"
}
