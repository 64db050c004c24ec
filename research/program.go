package research

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Program returns the research repo's program.md.
func (m *Manager) Program(ctx context.Context) (string, error) {
	m.Config = m.configured()
	data, err := os.ReadFile(filepath.Join(m.Repo.Root(), m.Config.Program))
	return string(data), err
}

func (m *Manager) configured() Config { return m.Config.WithDefaults(m.Repo.Root()) }

// EditProgram queues a change to program.md. With a run active it is
// committed between experiments, never inside an experiment's commit; with
// none it is committed at once on the current branch.
func (m *Manager) EditProgram(ctx context.Context, edit ProgramEdit) (ProgramEdit, error) {
	switch edit.Kind {
	case "append":
		if strings.TrimSpace(edit.Text) == "" {
			return ProgramEdit{}, &InputError{Msg: "program append needs some text to append"}
		}
	case "replace":
		if strings.TrimSpace(edit.Text) == "" {
			return ProgramEdit{}, &InputError{Msg: "program.md cannot be emptied"}
		}
		current, err := m.Program(ctx)
		if err != nil {
			return ProgramEdit{}, err
		}
		if normalizeProgram(current) == normalizeProgram(edit.Text) {
			return ProgramEdit{}, &InputError{Msg: "program.md is unchanged; nothing to commit"}
		}
	default:
		return ProgramEdit{}, &InputError{Msg: fmt.Sprintf("unknown program edit %q (append or replace)", edit.Kind)}
	}
	s := m.active()
	if s != nil {
		edit.RunID = s.snapshotRun().ID
	}
	edit, err := m.Store.AddProgramEdit(ctx, edit)
	if err != nil {
		return ProgramEdit{}, err
	}
	if s != nil {
		s.poke()
		return edit, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.applyProgramEdits(ctx, nil); err != nil {
		return edit, err
	}
	return edit, nil
}

func normalizeProgram(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// applyProgramEdits commits the pending edits between experiments and moves
// the run's best commit to the new tip.
func (s *session) applyProgramEdits() error {
	run := s.snapshotRun()
	run, err := s.m.applyProgramEdits(context.Background(), &run)
	if err != nil {
		return err
	}
	s.setRun(run)
	return nil
}

// applyProgramEdits commits every pending edit. With run set, its best
// commit follows the branch tip and is saved.
func (m *Manager) applyProgramEdits(ctx context.Context, run *Run) (Run, error) {
	var out Run
	if run != nil {
		out = *run
	}
	edits, err := m.Store.PendingProgramEdits(ctx)
	if err != nil || len(edits) == 0 {
		return out, err
	}
	cfg := m.configured()
	path := filepath.Join(m.Repo.Root(), cfg.Program)
	for _, edit := range edits {
		before, err := m.Repo.Head()
		if err != nil {
			return out, err
		}
		if err := m.commitProgramEdit(path, cfg.Program, &edit); err != nil {
			edit.Error = err.Error()
		} else if edit.Diff, _, err = m.Repo.Diff(before, edit.Commit); err != nil {
			m.logger().Warn("diffing a program edit", "err", err)
		}
		if run != nil && edit.Error == "" {
			out.BestCommit = edit.Commit
			if err := m.Store.UpdateRun(ctx, out); err != nil {
				return out, err
			}
		}
		if err := m.Store.FinishProgramEdit(ctx, edit); err != nil {
			return out, err
		}
		m.emit(Event{Kind: EventProgramEdited, Run: out, ProgramEdit: &edit, Text: edit.Error})
	}
	return out, nil
}

func (m *Manager) commitProgramEdit(path, rel string, edit *ProgramEdit) error {
	current, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	next := edit.Text
	if edit.Kind == "append" {
		next = strings.TrimRight(string(current), "\n") + "\n\n" + strings.TrimSpace(edit.Text) + "\n"
	}
	if normalizeProgram(next) == normalizeProgram(string(current)) {
		return fmt.Errorf("program.md is unchanged")
	}
	if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
		return err
	}
	author := Signature{Name: edit.Author, Email: edit.Author + "@users.autoresearch"}
	if edit.Author == "" {
		author = m.configured().Author
	}
	msg := "program.md: " + edit.Kind + " by " + edit.Author
	commit, err := m.Repo.Commit(msg, []string{rel}, author)
	if err != nil {
		_ = os.WriteFile(path, current, 0o644)
		return err
	}
	edit.Commit = commit
	return nil
}
