package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// loopFlags are the flags that shape the loop; they mean the same in `run`,
// `bot` and `demo`.
type loopFlags struct {
	repo           string
	stateDir       string
	trainCmd       string
	timeout        time.Duration
	proposer       string
	agentCmd       string
	maxExperiments int
	minDelta       float64
	fixAttempts    int
	editable       string
	readOnly       string
	python         string
	seed           int64
	model          string
	programMax     int

	// secrets are secret values read outside the environment's scrubbed
	// variables (the bot's Slack settings), name -> value, for the
	// Redactor; not a flag.
	secrets       map[string]string
	red           *research.Redactor // see redactor()
	redactorBuilt bool

	gpu     gpuFlags       // --gpu-index, --gpu-min-free-mb, --allow-shared-gpu, --metrics-addr (gpuflags.go)
	quality qualityFlags   // noise, plateaus, metric lines, LLM budgets (qualityflags.go)
	slots   slotFlags      // --gpus, --pipeline (slotflags.go)
	slurm   slurmFlags     // --runner, --slots, --slurm-* (slurmflags.go)
	iso     isolationFlags // --isolation (isolationflags.go)
}

func (f *loopFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.repo, "repo", ".", "the research repository (prepare.py, train.py, program.md)")
	fs.StringVar(&f.stateDir, "state-dir", "", "where the store and logs live (default REPO/.autoresearch)")
	fs.StringVar(&f.trainCmd, "train-cmd", "uv run train.py", "the training command, run with sh -c in the repo")
	f.iso.register(fs)
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "hard limit per training run; the process group is killed after it")
	fs.StringVar(&f.proposer, "proposer", "llm", "who proposes changes: llm, command or sweep")
	fs.StringVar(&f.agentCmd, "agent-cmd", "", "the coding agent command line for --proposer command (prompt on stdin)")
	fs.IntVar(&f.maxExperiments, "max-experiments", 0, "stop after N experiments, the baseline included (0 = forever)")
	fs.Float64Var(&f.minDelta, "min-delta", 0, "a keep must lower val_bpb by more than this")
	fs.IntVar(&f.fixAttempts, "fix-attempts", research.DefaultFixAttempts, "attempts to repair a crashed idea before moving on (0 = none)")
	fs.StringVar(&f.editable, "editable", "train.py", "comma-separated files proposals may change")
	fs.StringVar(&f.readOnly, "read-only", "prepare.py", "comma-separated files verified unchanged before every run")
	fs.StringVar(&f.python, "python", "", "interpreter for the syntax check before training (default: the repo's .venv/bin/python, which `uv run` trains with, else python3; \"none\" disables it; skipped when absent)")
	fs.Int64Var(&f.seed, "seed", 1, "random seed of the sweep proposer")
	fs.StringVar(&f.model, "model", "", "LLM model (default $AUTORESEARCH_MODEL, else gpt-4.1)")
	fs.IntVar(&f.programMax, "program-max-bytes", research.DefaultProgramMaxBytes, "largest program.md an edit or append may make (it goes into every prompt)")
	f.gpu.register(fs)
	f.quality.register(fs)
	f.slots.register(fs)
	f.slurm.register(fs)
}

// validate checks the flags before anything is opened.
func (f *loopFlags) validate() error {
	switch f.proposer {
	case "llm":
		if os.Getenv("OPENAI_API_KEY") == "" && os.Getenv("OPENAI_BASE_URL") == "" {
			return &research.InputError{Msg: "--proposer llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for a non-OpenAI endpoint); or use --proposer sweep"}
		}
	case "sweep":
	case "command":
		if strings.TrimSpace(f.agentCmd) == "" {
			return usagef("--proposer command needs --agent-cmd, e.g. --agent-cmd 'claude -p'")
		}
	default:
		return usagef("--proposer must be llm, command or sweep, not %q", f.proposer)
	}
	if err := f.iso.validate(); err != nil {
		return err
	}
	if f.timeout <= 0 {
		return usagef("--timeout must be positive, e.g. 10m")
	}
	if f.maxExperiments < 0 {
		return usagef("--max-experiments must be 0 (forever) or more")
	}
	if f.fixAttempts < 0 {
		return usagef("--fix-attempts must be 0 or more")
	}
	if f.minDelta < 0 {
		return usagef("--min-delta must be 0 or more")
	}
	if f.programMax <= 0 {
		return usagef("--program-max-bytes must be positive, e.g. %d", research.DefaultProgramMaxBytes)
	}
	if strings.TrimSpace(f.trainCmd) == "" {
		return usagef("--train-cmd cannot be empty")
	}
	if err := f.quality.validate(); err != nil {
		return err
	}
	if _, err := parseGPUs(f.slots.gpus, 1); err != nil && f.slots.gpus != "all" {
		return err
	}
	if err := f.slurm.validate(f.slots.gpus); err != nil {
		return err
	}
	return f.gpu.validate()
}

func (f *loopFlags) absRepo() (string, error) {
	dir, err := filepath.Abs(f.repo)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return "", &research.InputError{Msg: fmt.Sprintf("%s is not a directory", dir)}
	}
	return dir, nil
}

func (f *loopFlags) config(repoDir string) research.Config {
	cfg := research.Config{
		Editable:        splitList(f.editable),
		ReadOnly:        splitList(f.readOnly),
		StateDir:        f.stateDir,
		TrainTimeout:    f.timeout,
		MinDelta:        f.minDelta,
		MaxExperiments:  f.maxExperiments,
		FixAttempts:     new(f.fixAttempts),
		Python:          f.python,
		RunLog:          true,
		ProposerName:    f.proposer,
		Model:           f.modelName(),
		ProgramMaxBytes: f.programMax,
	}
	f.gpu.apply(&cfg)
	f.quality.apply(&cfg)
	cfg.Pipeline = f.slots.pipeline
	if cfg.StateDir != "" {
		if abs, err := filepath.Abs(cfg.StateDir); err == nil {
			cfg.StateDir = abs
		}
	}
	return cfg.WithDefaults(repoDir)
}

func (f *loopFlags) modelName() string {
	switch {
	case f.proposer != "llm":
		return ""
	case f.model != "":
		return f.model
	case os.Getenv("AUTORESEARCH_MODEL") != "":
		return os.Getenv("AUTORESEARCH_MODEL")
	}
	return "gpt-4.1"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, filepath.ToSlash(filepath.Clean(p)))
		}
	}
	return out
}
