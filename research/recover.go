package research

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/proctree"
)

// resumeRun brings an existing run back: the branch checked out at its best
// commit, experiments that were running when the process died recorded as
// crash "interrupted", results.tsv completed. Untracked files stay as they are.
func (m *Manager) resumeRun(ctx context.Context, req StartRequest, run Run, found bool, branch string, dirty []string, prev string) (Run, error) {
	// Half-written proposals (dirty editable files) are ours: undo them.
	if len(dirty) > 0 {
		m.logger().Warn("discarding an unfinished proposal left in the worktree", "files", dirty)
		if err := m.Repo.RestoreFiles(dirty); err != nil {
			return Run{}, err
		}
	}
	current, err := m.Repo.CurrentBranch()
	if err != nil {
		return Run{}, err
	}
	if current != branch {
		if err := m.Repo.CheckoutBranch(branch); err != nil {
			return Run{}, err
		}
	}
	if !found {
		// A branch made by hand (or by upstream's agent) without our record:
		// adopt it, its tip as the best so far.
		tip, err := m.Repo.Head()
		if err != nil {
			return Run{}, err
		}
		run, err = m.Store.CreateRun(ctx, Run{
			Tag: req.Tag, Branch: branch, RepoDir: m.Repo.Root(), BaseCommit: tip, BestCommit: tip,
			State: RunActive, StartedBy: req.By, Proposer: m.Config.ProposerName, Model: m.Config.Model, GPU: m.Config.GPU,
		})
		if err != nil {
			return Run{}, err
		}
	}
	if err := m.prepareFiles(); err != nil {
		return Run{}, err
	}
	if err := m.recoverExperiments(ctx, &run); err != nil {
		return Run{}, err
	}
	if err := m.adoptResults(ctx, run, prev); err != nil {
		return Run{}, err
	}
	if err := m.Repo.ResetTo(run.BestCommit); err != nil {
		return Run{}, fmt.Errorf("moving %s back to the best commit: %w", branch, err)
	}
	if run.State == RunStopped || run.State == RunPaused && !req.KeepPaused {
		run.State = RunActive
	}
	run.RepoDir = m.Repo.Root() // the repo may have been moved or copied here
	if req.By != "" {
		run.StartedBy = req.By
	}
	if err := m.Store.UpdateRun(ctx, run); err != nil {
		return Run{}, err
	}
	return run, nil
}

// recoverExperiments records experiments left running as crashes (the
// caller then rewrites results.tsv from the store).
func (m *Manager) recoverExperiments(ctx context.Context, run *Run) error {
	m.killOrphanTrainer()
	running, err := m.Store.RunningExperiments(ctx, run.ID)
	if err != nil {
		return err
	}
	m.reattach = nil
	for _, e := range running {
		if m.canReattach(e) {
			m.reattach = append(m.reattach, e) // its job may still run: the session follows it
			continue
		}
		e.Status = StatusCrash
		e.Reason = ReasonInterrupted
		e.FinishedAt = m.now()
		if err := m.Store.FinishExperiment(ctx, e, *run); err != nil {
			return err
		}
		m.logger().Warn("experiment was interrupted", "run", run.Tag, "number", e.Number)
	}
	return nil
}

// ResumeInterrupted resumes the latest run if it was not stopped by a person
// (the bot calls it at start). It returns false when there is nothing to resume.
func (m *Manager) ResumeInterrupted(ctx context.Context, by string) (Run, bool, error) {
	m.setup()
	run, err := m.Store.LatestRun(ctx)
	if errors.Is(err, ErrNotFound) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	if run.State == RunStopped {
		return Run{}, false, nil
	}
	// A paused run stays paused: the session starts in that state.
	r, err := m.Start(ctx, StartRequest{Tag: run.Tag, By: run.StartedBy, Resume: true, KeepPaused: true})
	if err != nil {
		return Run{}, false, err
	}
	return r, true, nil
}

// killOrphanTrainer kills the process group of a trainer that outlived a
// killed bot, and every process its record lists (those that left the
// group too; pids reused since by other processes are left alone): left
// alone they would hold the GPU and skew the next result.
func (m *Manager) killOrphanTrainer() {
	records, _ := filepath.Glob(filepath.Join(m.Config.StateDir, "trainer-*.procs"))
	for _, rec := range records {
		killed, err := proctree.EndRecorded(rec, 5*time.Second)
		if err != nil {
			m.logger().Warn("ending the processes of an interrupted experiment", "record", rec, "err", err)
		}
		if len(killed) > 0 {
			m.logger().Warn("killed processes of an experiment left over from before the restart", "record", rec, "count", len(killed))
		}
	}
	files, _ := filepath.Glob(filepath.Join(m.Config.StateDir, "trainer-*.pgid"))
	if len(files) > 0 {
		marked, checkable := m.markedProcessGroups(m.trainerMarker())
		for _, pidFile := range files {
			data, err := os.ReadFile(pidFile)
			if err != nil {
				continue
			}
			pgid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err == nil && pgid > 1 {
				m.killRecordedTrainer(pgid, marked, checkable)
			}
			// Removed only after the kill: a restart killed in between
			// finds the file again.
			os.Remove(pidFile)
		}
	}
	// Trainers whose group was never recorded: the harness died between
	// starting one and writing its file. Not where jobs outlive the harness
	// on purpose (a trainer that reattaches follows them).
	if m.anyReattacher() {
		return
	}
	groups, _ := m.markedProcessGroups(m.trainerMarker()) // again: the recorded ones are gone now
	for _, pgid := range groups {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
			m.logger().Warn("killed an unrecorded trainer left over from before the restart", "pgid", pgid)
		}
	}
}

// killRecordedTrainer kills process group pgid, recorded for a trainer
// before the restart, only while one of its processes still carries this
// state dir's marker (marked): after a reboot or a long downtime the number
// may have been reused by an unrelated group. Where the markers cannot be
// read (checkable false: no /proc), the group is killed unchecked, as the
// record asks.
func (m *Manager) killRecordedTrainer(pgid int, marked []int, checkable bool) {
	if checkable && !slices.Contains(marked, pgid) {
		m.logger().Info("the trainer recorded before the restart is gone: its process group is empty or no longer a trainer's; left alone", "pgid", pgid)
		return
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
		m.logger().Warn("killed a trainer left over from before the restart", "pgid", pgid)
	}
}

// canReattach tells whether e ran on a slot whose trainer can follow it
// after a restart.
func (m *Manager) canReattach(e Experiment) bool {
	for _, sp := range m.Config.Slots {
		if sp.Name == e.GPU && sp.Trainer != nil {
			_, ok := sp.Trainer.(Reattacher)
			return ok
		}
	}
	return false
}

// anyReattacher: some slot's trainer follows jobs across restarts.
func (m *Manager) anyReattacher() bool {
	for _, sp := range m.Config.Slots {
		if _, ok := sp.Trainer.(Reattacher); ok {
			return true
		}
	}
	_, ok := m.Trainer.(Reattacher)
	return ok
}
