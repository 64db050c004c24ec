package research

import (
	"path/filepath"
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
	GPUIndex            int           // the GPU experiments train on (preflight and telemetry)
	GPUSampleEvery      time.Duration // telemetry sampling interval (default 2s)
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
		c.FixAttempts = 2
	} else if c.FixAttempts < 0 {
		c.FixAttempts = 0
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
	if c.Python == "" {
		c.Python = "python3"
	}
	if c.GPUSampleEvery == 0 {
		c.GPUSampleEvery = 2 * time.Second
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
