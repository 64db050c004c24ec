package research

import (
	"fmt"
	"strings"
)

// WrongBranchError: the harness was about to commit or reset on a branch
// that is not the run's. It refuses: its commits land on autoresearch/TAG
// only (or on a slot's detached HEAD), never on a person's branch.
type WrongBranchError struct {
	Want string // "" for a detached HEAD
	Got  string
}

func (e *WrongBranchError) Error() string {
	want, got := e.Want, e.Got
	if want == "" {
		want = "a detached HEAD"
	}
	if got == "" {
		got = "a detached HEAD"
	}
	return fmt.Sprintf("refusing to move git: the working copy is on %s, expected %s", got, want)
}

// checkBranch verifies that repo is on branch ("" = detached HEAD).
func checkBranch(repo Repo, branch string) error {
	cur, err := repo.CurrentBranch()
	if err != nil {
		return err
	}
	if cur != branch {
		return &WrongBranchError{Want: branch, Got: cur}
	}
	return nil
}

// slotBranch is the branch sl's working copy must be on: the run's branch
// in the main worktree, a detached HEAD in a linked one.
func slotBranch(sl *slot, run Run) string {
	if sl.main {
		return run.Branch
	}
	return ""
}

// resetSlot moves sl's working copy to commit after checking it is on the
// branch it should be: ResetTo moves whatever branch is checked out.
func (s *session) resetSlot(sl *slot, run Run, commit string) error {
	if err := checkBranch(sl.repo, slotBranch(sl, run)); err != nil {
		return err
	}
	return sl.repo.ResetTo(commit)
}

// watchGit snapshots the git state before a training; the returned
// function compares it with the state after, restores what changed and
// returns a *GitStateError naming the changes (nil when nothing did).
func (s *session) watchGit(sl *slot, run Run) func() error {
	g, ok := sl.repo.(GitGuard)
	if !ok {
		return func() error { return nil }
	}
	before, err := g.GitState()
	if err != nil {
		s.m.logger().Warn("reading git state before training; not guarded", "err", err)
		return func() error { return nil }
	}
	var ignore []string
	var mainGuard GitGuard
	var mainBefore GitState
	if !sl.main {
		// Other slots' results move the run branch while this one trains.
		ignore = append(ignore, "refs/heads/"+run.Branch)
		if mg, ok := s.m.Repo.(GitGuard); ok {
			if mb, err := mg.GitState(); err == nil {
				mainGuard, mainBefore = mg, mb
			}
		}
	}
	return func() error {
		after, err := g.GitState()
		if err != nil {
			return fmt.Errorf("reading git state after training: %w", err)
		}
		changes := GitStateChanges(before, after, ignore...)
		var mainAfter GitState
		if mainGuard != nil {
			if mainAfter, err = mainGuard.GitState(); err == nil && mainAfter.HeadTarget != mainBefore.HeadTarget {
				changes = append(changes, "checked out "+shortRef(mainAfter.HeadTarget)+" in the main worktree")
			}
		}
		if len(changes) == 0 {
			return nil
		}
		restore := restoreTarget(before, after, ignore)
		gerr := &GitStateError{Changes: changes, RestoreErr: g.RestoreGitState(restore)}
		if mainGuard != nil && mainAfter.HeadTarget != mainBefore.HeadTarget {
			mainAfter.HeadRaw = mainBefore.HeadRaw
			if err := mainGuard.RestoreGitState(mainAfter); err != nil && gerr.RestoreErr == nil {
				gerr.RestoreErr = err
			}
		}
		s.m.logger().Error("train.py changed git state", "changes", changes, "restore_err", gerr.RestoreErr)
		return gerr
	}
}

// guardProposal snapshots the proposal workspace's git state before the
// proposer runs (a command proposer runs arbitrary commands there); the
// returned function restores it and returns a *RefusedError naming what
// changed, or nil. With several working copies the run branch moves under
// other slots' results and is not compared.
func (s *session) guardProposal(run Run) func() error {
	g, ok := s.propRepo.(GitGuard)
	if !ok {
		return func() error { return nil }
	}
	before, err := g.GitState()
	if err != nil {
		s.m.logger().Warn("reading git state before proposing; not guarded", "err", err)
		return func() error { return nil }
	}
	var ignore []string
	if s.propRepo != s.m.Repo {
		ignore = append(ignore, "refs/heads/"+run.Branch)
	}
	return func() error {
		after, err := g.GitState()
		if err != nil {
			return fmt.Errorf("reading git state after proposing: %w", err)
		}
		changes := GitStateChanges(before, after, ignore...)
		if len(changes) == 0 {
			return nil
		}
		restore := restoreTarget(before, after, ignore)
		if err := g.RestoreGitState(restore); err != nil {
			return fmt.Errorf("the proposer changed git state (%s) and restoring it failed: %w", strings.Join(changes, "; "), err)
		}
		s.m.logger().Error("the proposer changed git state", "changes", changes)
		return &RefusedError{Reason: "the proposal changed git state: " + strings.Join(changes, "; ") +
			" (restored); a proposal may only edit " + strings.Join(s.m.Config.Editable, ", ") + ", never run git"}
	}
}

// restoreTarget is the state to restore: before, except the ignored refs,
// which stay as they are now (other slots moved them legitimately).
func restoreTarget(before, after GitState, ignore []string) GitState {
	restore := before
	restore.Refs = make(map[string]string, len(before.Refs))
	for k, v := range before.Refs {
		restore.Refs[k] = v
	}
	for _, name := range ignore {
		delete(restore.Refs, name)
		if v, ok := after.Refs[name]; ok {
			restore.Refs[name] = v
		}
	}
	return restore
}
