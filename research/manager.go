package research

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Manager owns the research repository and at most one active run. It is
// the Controller the chat front ends call, and it runs the loop in its own
// goroutine.
type Manager struct {
	Repo     Repo
	Store    Store
	Proposer Proposer
	Trainer  Trainer
	Observer Observer
	// Reviewer asks people to approve proposals when the review gate is on
	// (Config.Review, SetReview); nil: no gate.
	Reviewer Reviewer
	GPU      GPUMonitor // nil: no telemetry, no preflight
	// Worktree makes (or reuses) a working copy named name at commit, whose
	// commits land in Repo: needed for several slots and for pipelining.
	Worktree func(name, commit string) (Repo, error)
	Config   Config
	Logger   *slog.Logger
	Now      func() time.Time

	once    sync.Once // applies the config's defaults before first use
	logOnce sync.Once // sets Logger's default
	review  reviewSwitch
	mu      sync.Mutex
	sess    *session
	// loaded is the history Start read for results.tsv, handed on to the
	// session it starts so that a resume reads the run's rows once.
	loaded   *runHistory
	reattach []Experiment // running when the bot died, on trainers that can follow them
	// programMu serializes program.md edits (see program.go).
	programMu sync.Mutex
}

// setup fills the config's defaults once, before any method reads it, so
// front ends may call in from several goroutines.
func (m *Manager) setup() {
	m.once.Do(func() {
		m.Config = m.Config.WithDefaults(m.Repo.Root())
		m.review.on.Store(m.Config.Review)
	})
}

// logger is called from every goroutine of the loop (panics are logged
// from all of them), so its default is set once.
func (m *Manager) logger() *slog.Logger {
	m.logOnce.Do(func() {
		if m.Logger == nil {
			m.Logger = slog.Default().With("component", "research")
		}
	})
	return m.Logger
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return nowUTC()
}

func (m *Manager) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	if m.Observer != nil {
		// A bug in a front end loses that one message, not the run.
		_ = Catch(m.logger(), "showing a "+string(e.Kind)+" event", func() { m.Observer.Event(e) })
	}
}

// active returns the running session, or nil.
func (m *Manager) active() *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess != nil && !m.sess.isDone() {
		return m.sess
	}
	return nil
}

// Start begins a run of req.Tag: a new branch autoresearch/TAG, or the
// existing one when resuming. Every refusal is an *InputError and changes
// nothing.
func (m *Manager) Start(ctx context.Context, req StartRequest) (Run, error) {
	m.setup()
	if err := ValidateTag(req.Tag); err != nil {
		return Run{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess != nil && !m.sess.isDone() {
		return Run{}, runActiveError(m.sess.run, m.sess.since)
	}
	m.loaded = nil
	run, resumed, err := m.prepare(ctx, req)
	if err != nil {
		m.loaded = nil
		return Run{}, err
	}
	hashes, err := HashFiles(m.Repo.Root(), m.Config.ReadOnly)
	if err != nil {
		return Run{}, err
	}
	s, err := newSession(m, run, hashes, resumed)
	if err != nil {
		return Run{}, err
	}
	m.sess = s
	go s.loop()
	return run, nil
}

// prepare checks the repository and creates or resumes the run record and
// branch. It refuses before changing anything.
func (m *Manager) prepare(ctx context.Context, req StartRequest) (Run, bool, error) {
	m.killOrphanProposers()
	branch := BranchName(req.Tag)
	existing, err := m.Store.RunByTag(ctx, req.Tag)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Run{}, false, err
	}
	if err := m.repair(ctx, branch, existing, found); err != nil {
		return Run{}, false, err
	}
	resume, dirty, err := checkStart(m.Repo, m.Config, req, found, existing)
	if err != nil {
		return Run{}, false, err
	}
	prev := m.previousRunTag(ctx, req.Tag)
	if !resume {
		return m.createRun(ctx, req, branch, prev)
	}
	run, err := m.resumeRun(ctx, req, existing, found, branch, dirty, prev)
	return run, true, err
}

// Precheck runs the refusals of Start that need no store, so a command line
// can refuse bad input before it creates a state dir.
func Precheck(repo Repo, cfg Config, req StartRequest) error {
	if err := ValidateTag(req.Tag); err != nil {
		return err
	}
	_, _, err := checkStart(repo, cfg.WithDefaults(repo.Root()), req, false, Run{})
	return err
}

// checkStart decides whether a start creates or resumes a run and refuses,
// with a specific *InputError, what cannot be started. It changes nothing.
func checkStart(repo Repo, cfg Config, req StartRequest, found bool, existing Run) (resume bool, dirty []string, err error) {
	root := repo.Root()
	for _, f := range cfg.RequiredFiles() {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return false, nil, &InputError{Msg: fmt.Sprintf("%s is missing in %s: a research repo needs %s", f, root, strings.Join(cfg.RequiredFiles(), ", "))}
		}
	}
	branch := BranchName(req.Tag)
	branchExists, err := repo.BranchExists(branch)
	if err != nil {
		return false, nil, err
	}
	// A run that was never stopped by a person was interrupted (kill -9,
	// SIGTERM, a crash): starting it again resumes it.
	interrupted := found && existing.State != RunStopped && branchExists
	resume = req.Resume || interrupted
	switch {
	case branchExists && !resume:
		return false, nil, &InputError{Msg: fmt.Sprintf("branch %s already exists; pick a new tag, or pass --resume to continue that run", branch)}
	case resume && !branchExists:
		return false, nil, &InputError{Msg: fmt.Sprintf("nothing to resume: branch %s does not exist", branch)}
	case !resume && found:
		return false, nil, &InputError{Msg: fmt.Sprintf("run %s is already recorded in %s although its branch is gone; pick a new tag", req.Tag, cfg.StateDir)}
	}
	dirty, err = repo.DirtyTracked()
	if err != nil {
		return false, nil, err
	}
	if len(dirty) > 0 && !(resume && onlyEditable(cfg, dirty)) {
		return false, nil, &InputError{Msg: fmt.Sprintf("tracked files have uncommitted changes (%s); commit or stash them first", strings.Join(dirty, ", "))}
	}
	return resume, dirty, nil
}

func onlyEditable(cfg Config, paths []string) bool {
	for _, p := range paths {
		if !contains(cfg.Editable, p) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Manager) createRun(ctx context.Context, req StartRequest, branch, prev string) (Run, bool, error) {
	from := req.From
	if from == "" {
		from = "HEAD"
	}
	commit, err := m.Repo.ResolveRef(from)
	if err != nil {
		return Run{}, false, &InputError{Msg: fmt.Sprintf("cannot start from %q: %v", from, err), Err: err}
	}
	// The record comes first: a start killed before the branch exists
	// leaves a run without experiments whose branch the next start
	// recreates (see repair), never a branch no record explains.
	run, err := m.Store.CreateRun(ctx, Run{
		Tag: req.Tag, Branch: branch, RepoDir: m.Repo.Root(),
		BaseCommit: commit, BestCommit: commit, State: RunActive,
		StartedBy: req.By, Proposer: m.Config.ProposerName, Model: m.Config.Model, GPU: m.Config.GPU,
	})
	if err != nil {
		return Run{}, false, err
	}
	if err := m.Repo.CreateBranch(branch, commit); err != nil {
		return Run{}, false, err
	}
	if err := m.prepareFiles(); err != nil {
		return Run{}, false, err
	}
	if err := m.adoptResults(ctx, run, prev); err != nil {
		return Run{}, false, err
	}
	return run, false, nil
}

// prepareFiles keeps results.tsv (and its temp file), run.log and the state
// dir out of git.
func (m *Manager) prepareFiles() error {
	patterns := []string{"results.tsv", resultsTemp, "run.log"}
	if rel, err := filepath.Rel(m.Repo.Root(), m.Config.StateDir); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
		patterns = append(patterns, "/"+filepath.ToSlash(rel)+"/")
	}
	return m.Repo.Exclude(patterns...)
}

// Wait blocks until the active run's loop has ended (or ctx is done).
func (m *Manager) Wait(ctx context.Context) error {
	m.setup()
	m.mu.Lock()
	s := m.sess
	m.mu.Unlock()
	if s == nil {
		return nil
	}
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop ends the active run: after the running experiment (StopAfterRunning),
// or at once (StopNow: the experiment is recorded as crash "stopped").
func (m *Manager) Stop(ctx context.Context, by string, mode StopMode) error {
	if mode != StopAfterRunning && mode != StopNow {
		return &InputError{Msg: fmt.Sprintf("unknown stop mode %d: stop after the running experiment or now", mode)}
	}
	m.setup()
	s := m.active()
	if s == nil {
		return &InputError{Msg: "no run is active", Err: ErrNoRun}
	}
	s.requestStop(by, mode)
	return nil
}

// Shutdown kills the running experiment (crash "stopped"), leaves the repo at
// the best commit and waits for the loop, without marking the run stopped:
// the next start resumes it.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.setup()
	s := m.active()
	if s == nil {
		return nil
	}
	s.requestStop("shutdown", stopForShutdown)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pause lets the running experiment finish and then waits for Resume.
func (m *Manager) Pause(ctx context.Context, by string) error {
	m.setup()
	s := m.active()
	if s == nil {
		return &InputError{Msg: "no run is active", Err: ErrNoRun}
	}
	return s.pauseBy(by)
}

// Resume continues a paused run.
func (m *Manager) Resume(ctx context.Context, by string) error {
	m.setup()
	s := m.active()
	if s == nil {
		return &InputError{Msg: "no run is active", Err: ErrNoRun}
	}
	return s.resume(by)
}
