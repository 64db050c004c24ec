package research

import (
	"math"
	"path/filepath"
	"regexp"
	"time"
)

// Config shapes a run. Zero values take the defaults of WithDefaults.
type Config struct {
	Editable []string // files proposals may change (default train.py)
	ReadOnly []string // files verified unchanged before every run (default prepare.py)
	Program  string   // the human's research instructions (default program.md)

	StateDir            string        // store, logs (default REPO/.autoresearch)
	TrainTimeout        time.Duration // hard limit per training run (default 10m)
	MinDelta            float64       // a keep must beat the best by more than this (default 0)
	MaxExperiments      int           // 0 = forever; the baseline counts as one
	FixAttempts         int           // crash-fix attempts per idea (default 2; -1 = none)
	ProposeTries        int           // refused proposals retried with feedback per experiment (default 3)
	MaxProposerFailures int           // consecutive proposer errors before pausing (default 3)
	Python              string        // interpreter for the syntax check (default python3; "" skips when absent)
	RunLog              bool          // also write run.log in the repo like upstream (default true via WithDefaults)
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
	BaselineRepeats  int     // extra baseline runs to estimate noise (default 2; -1 = none)
	ConfirmSigma     float64 // gains below this many σ of noise are rerun before a keep (default 2)
	PlateauAfter     int     // experiments without a keep before asking for a new direction (default 15; -1 = never)
	IdeasPerProposal int     // open ideas one proposal is given, oldest first (default 1)
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
	// it is rerun and kept only if confirmed. Defaults 25, 0.02, 0.1..20;
	// negative disables each.
	ImplausibleSigma float64
	ImplausibleGain  float64
	PlausibleMin     float64
	PlausibleMax     float64
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
	if c.FixAttempts == 0 {
		c.FixAttempts = 2 // negative means none; WithDefaults may run twice
	}
	if c.ProposeTries == 0 {
		c.ProposeTries = 3
	}
	if c.MaxProposerFailures == 0 {
		c.MaxProposerFailures = 3
	}
	if c.Author.Name == "" {
		c.Author = Signature{Name: "autoresearch", Email: "autoresearch@localhost"}
	}
	if c.BaselineRepeats == 0 {
		c.BaselineRepeats = 2 // negative means none; WithDefaults may run twice
	}
	if c.ConfirmSigma == 0 {
		c.ConfirmSigma = 2
	}
	if c.PlateauAfter == 0 {
		c.PlateauAfter = 15 // negative means none; WithDefaults may run twice
	}
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
		c.Python = "python3"
	}
	if c.GPUSampleEvery == 0 {
		c.GPUSampleEvery = 2 * time.Second
	}
	if c.ProgramMaxBytes <= 0 {
		c.ProgramMaxBytes = DefaultProgramMaxBytes
	}
	if c.ImplausibleSigma == 0 {
		c.ImplausibleSigma = 25 // negative means never; WithDefaults may run twice
	}
	if c.ImplausibleGain == 0 {
		c.ImplausibleGain = 0.02
	}
	if c.PlausibleMin == 0 {
		c.PlausibleMin = 0.1
	}
	if c.PlausibleMax == 0 {
		c.PlausibleMax = 20
	}
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

// fixAttempts, baselineRepeats and plateauAfter read the counts whose
// negative values mean "none".
func (c Config) fixAttempts() int     { return max(c.FixAttempts, 0) }
func (c Config) baselineRepeats() int { return max(c.BaselineRepeats, 0) }
func (c Config) plateauAfter() int    { return max(c.PlateauAfter, 0) }

// judgePolicy is what the judge (decide) takes from c. Negative
// thresholds disable their check; a negative plausible bound is no bound.
func (c Config) judgePolicy() judgePolicy {
	p := judgePolicy{MinDelta: c.MinDelta, ConfirmSigma: c.ConfirmSigma, FixAttempts: c.fixAttempts(),
		ImplausibleSigma: max(c.ImplausibleSigma, 0), ImplausibleGain: max(c.ImplausibleGain, 0),
		PlausibleMin: max(c.PlausibleMin, 0), PlausibleMax: c.PlausibleMax}
	if p.PlausibleMax <= 0 {
		p.PlausibleMax = math.Inf(1)
	}
	return p
}
