package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/metrics"
	"github.com/autoresearch/autoresearch/research/sweep"
	"github.com/autoresearch/autoresearch/research/trainer"
	"github.com/autoresearch/autoresearch/store"
)

// openRepo opens dir as a git work tree, refusing plainly when it is not one.
func openRepo(dir string) (*gitrepo.Repo, error) {
	repo, err := gitrepo.Open(dir)
	if errors.Is(err, gitrepo.ErrNotRepository) {
		return nil, &research.InputError{Msg: fmt.Sprintf("%s is not a git repository (run `git init` and commit prepare.py, train.py and program.md first)", dir), Err: err}
	}
	return repo, err
}

// openStore opens the SQLite store of a state dir, refusing a damaged one
// and a 0-byte one in a repository that had runs (storecheck.go).
func openStore(stateDir, repoDir string) (*store.DB, error) {
	if err := refuseLostStore(stateDir, repoDir); err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(stateDir, "autoresearch.db"))
	return db, storeOpenError(err)
}

// newProposer builds the proposer the flags ask for.
func newProposer(f *loopFlags, logger *slog.Logger, redactor *research.Redactor) (research.Proposer, error) {
	switch f.proposer {
	case "sweep":
		return &sweep.Sweep{Seed: f.seed, File: firstOr(splitList(f.editable), "train.py")}, nil
	case "command":
		return &agent.Command{CommandLine: f.agentCmd, Logger: logger, Redactor: redactor}, nil
	case "llm":
		cfg := agent.ConfigFromEnv()
		if cfg.APIKey == "" && cfg.BaseURL == "" {
			return nil, &research.InputError{Msg: "--proposer llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for a non-OpenAI endpoint); or use --proposer sweep"}
		}
		cfg.Model = f.modelName()
		cfg.Logger = logger
		cfg.Redactor = redactor
		return agent.NewLLM(cfg), nil
	}
	return nil, usagef("unknown proposer %q", f.proposer)
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// loopParts are the opened pieces of a loop, closed together.
type loopParts struct {
	repo    *gitrepo.Repo
	db      *store.DB
	manager *research.Manager

	metrics     *metrics.Collector // --metrics-addr (gpuflags.go); nil when off
	stopMetrics func()
}

func (p *loopParts) Close() error {
	if p.stopMetrics != nil {
		p.stopMetrics()
	}
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// openLoop validates flags, opens the repo and the store, and builds the
// manager. Nothing in the repository is changed.
func openLoop(f *loopFlags, logger *slog.Logger) (*loopParts, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	dir, err := f.absRepo()
	if err != nil {
		return nil, err
	}
	repo, err := openRepo(dir)
	if err != nil {
		return nil, err
	}
	cfg := f.config(repo.Root())
	// Every secret the process knows is redacted from what it stores,
	// posts or sends to a model (defence in depth behind the scrubbed
	// trainer environment).
	cfg.Redactor = f.redactor()
	if names := cfg.Redactor.Names(); len(names) > 0 {
		logger.Info("secrets redacted from logs, messages and prompts", "names", strings.Join(names, ","))
	}
	proposer, err := newProposer(f, logger, cfg.Redactor)
	if err != nil {
		return nil, err
	}
	db, err := openStore(cfg.StateDir, repo.Root())
	if research.IsInputError(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("opening the store in %s: %w", cfg.StateDir, err)
	}
	db.Logger = logger.With("component", "store")
	m := &research.Manager{
		Repo:     repo,
		Store:    db,
		Proposer: proposer,
		Trainer:  &trainer.Local{Command: f.trainCmd, Isolation: f.iso.mode(), Logger: logger.With("component", "trainer")},
		Config:   cfg,
		Logger:   logger.With("component", "research"),
	}
	m.Worktree = worktrees(repo.Root(), cfg.StateDir)
	if f.proposer == "llm" {
		costOf, err := f.quality.costOf(cfg.Model)
		if err != nil {
			db.Close()
			return nil, err
		}
		m.Config.CostOf = costOf
	}
	parts := &loopParts{repo: repo, db: db, manager: m}
	if err := parts.wireGPU(f, logger); err != nil { // GPU monitor and metrics (gpuflags.go)
		db.Close()
		return nil, err
	}
	if err := parts.wireSlots(f); err != nil {
		parts.Close()
		return nil, err
	}
	if err := parts.wireSlurm(f, logger); err != nil { // --runner slurm (slurmflags.go)
		parts.Close()
		return nil, err
	}
	return parts, nil
}

// newLogger writes structured logs to stderr (or a file when set).
func newLogger(w *os.File, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// wireSlots turns --gpus into one worker slot per GPU.
func (p *loopParts) wireSlots(f *loopFlags) error {
	count := 0
	if p.manager.GPU != nil {
		count = len(p.manager.GPU.Inventory().GPUs)
	}
	gpus, err := parseGPUs(f.slots.gpus, count)
	if err != nil {
		return err
	}
	p.manager.Config.Slots = slotSpecs(gpus)
	return nil
}
