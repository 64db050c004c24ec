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
	m.setup()
	data, err := os.ReadFile(filepath.Join(m.Repo.Root(), m.configured().Program))
	return string(data), err
}

func (m *Manager) configured() Config {
	m.setup()
	return m.Config
}

// EditProgram queues a change to program.md. With a run active it is
// committed between experiments, never inside an experiment's commit; with
// none it is committed at once on the current branch.
func (m *Manager) EditProgram(ctx context.Context, edit ProgramEdit) (ProgramEdit, error) {
	m.setup()
	cfg := m.configured()
	switch edit.Kind {
	case "append":
		if strings.TrimSpace(edit.Text) == "" {
			return ProgramEdit{}, &InputError{Msg: "program append needs some text to append"}
		}
		// Checked before reading program.md: a huge append is refused
		// whatever the file holds.
		if err := cfg.checkProgramSize("append", len(strings.TrimSpace(edit.Text))); err != nil {
			return ProgramEdit{}, err
		}
		current, err := m.Program(ctx)
		if err != nil {
			return ProgramEdit{}, err
		}
		if err := cfg.checkProgramSize("append", len(appendProgram(current, edit.Text))); err != nil {
			return ProgramEdit{}, err
		}
	case "replace":
		if strings.TrimSpace(edit.Text) == "" {
			return ProgramEdit{}, &InputError{Msg: "program.md cannot be emptied"}
		}
		if err := cfg.checkProgramSize("replace", len(edit.Text)); err != nil {
			return ProgramEdit{}, err
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
		return edit, nil // the next slot to go idle commits it
	}
	m.mu.Lock()
	_, events, err := m.applyProgramEdits(ctx, nil)
	m.mu.Unlock()
	for _, e := range events {
		m.emit(e)
	}
	return edit, err
}

// appendProgram is program.md with text appended as its own paragraph.
func appendProgram(current, text string) string {
	return strings.TrimRight(current, "\n") + "\n\n" + strings.TrimSpace(text) + "\n"
}

func normalizeProgram(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// applyProgramEdits commits the pending edits between experiments and moves
// the run's best commit to the new tip. The main worktree must be idle: with
// one slot that is the slot itself, between its experiments; with several,
// the main worktree never trains.
func (s *session) applyProgramEdits(sl *slot) error {
	s.mu.Lock()
	run, events, err := s.m.applyProgramEdits(context.Background(), &s.run)
	if err == nil {
		s.run = run
	}
	s.mu.Unlock()
	for _, e := range events {
		s.m.emit(e) // outside the lock: observers may ask for the status
	}
	return err
}

// applyProgramEdits commits every pending edit. With run set, its best
// commit follows the branch tip and is saved.
func (m *Manager) applyProgramEdits(ctx context.Context, run *Run) (Run, []Event, error) {
	var out Run
	if run != nil {
		out = *run
	}
	edits, err := m.Store.PendingProgramEdits(ctx)
	if err != nil || len(edits) == 0 {
		return out, nil, err
	}
	var events []Event
	cfg := m.configured()
	path := filepath.Join(m.Repo.Root(), cfg.Program)
	for _, edit := range edits {
		before, err := m.Repo.Head()
		if err != nil {
			return out, events, err
		}
		if err := m.commitProgramEdit(path, cfg.Program, &edit); err != nil {
			edit.Error = err.Error()
		} else if edit.Diff, _, err = m.Repo.Diff(before, edit.Commit); err != nil {
			m.logger().Warn("diffing a program edit", "err", err)
		}
		if run != nil && edit.Error == "" {
			out.BestCommit = edit.Commit
			if err := m.Store.UpdateRun(ctx, out); err != nil {
				return out, events, err
			}
		}
		if err := m.Store.FinishProgramEdit(ctx, edit); err != nil {
			return out, events, err
		}
		events = append(events, Event{Kind: EventProgramEdited, Time: m.now(), Run: out, ProgramEdit: ptr(edit), Text: edit.Error})
	}
	return out, events, nil
}

func (m *Manager) commitProgramEdit(path, rel string, edit *ProgramEdit) error {
	current, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	next := edit.Text
	if edit.Kind == "append" {
		next = appendProgram(string(current), edit.Text)
	}
	if normalizeProgram(next) == normalizeProgram(string(current)) {
		return fmt.Errorf("program.md is unchanged")
	}
	// Edits queued during a run are checked again as they land: appends
	// that each fit can add up to too much.
	if err := m.configured().checkProgramSize(edit.Kind, len(next)); err != nil {
		return err
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
