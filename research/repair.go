package research

import (
	"context"
	"errors"
	"path/filepath"
)

// Repairer is a Repo that can undo what a process killed at any instant
// left half done in git. It touches only what the harness owns.
type Repairer interface {
	Repair(req RepairRequest) ([]string, error)
}

// RepairRequest names what the harness owns and what it knows.
type RepairRequest struct {
	// Branch is the run's branch (autoresearch/TAG): an empty or torn ref
	// goes back to the first of Known that exists, else to its reflog.
	Branch string
	Known  []string
	// Recreate allows a missing Branch to be made at Known[0]: a start was
	// killed after recording the run and before making its branch.
	Recreate bool
	// WorktreesDir holds the harness's linked worktrees; damaged ones, and
	// those a copy or a move left pointing at another place, are removed
	// there to be rebuilt on use.
	WorktreesDir string
}

// WorktreesDir is where the linked worktrees of several slots and of the
// pipelined proposer live.
func (c Config) WorktreesDir() string { return filepath.Join(c.StateDir, "worktrees") }

// repair runs the repo's Repair, if it has one, before a run starts or
// resumes. The caller holds the state dir's owner lock, so no other harness
// is at work; the repair itself checks that no git process is running
// before it removes a lock file.
func (m *Manager) repair(ctx context.Context, branch string, existing Run, found bool) error {
	rp, ok := m.Repo.(Repairer)
	if !ok {
		return nil
	}
	req := RepairRequest{Branch: branch, WorktreesDir: m.Config.WorktreesDir()}
	if found {
		req.Known = []string{existing.BestCommit, existing.BaseCommit}
		// Numbers start at 1 and are never reused: a run without #1 has
		// no experiments (one indexed row read, not the whole run).
		_, err := m.Store.ExperimentByNumber(ctx, existing.ID, 1)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		req.Recreate = err != nil && existing.State != RunStopped
	}
	done, err := rp.Repair(req)
	for _, d := range done {
		m.logger().Warn("repaired what an earlier process left half done", "what", d)
	}
	return err
}
