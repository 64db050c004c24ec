package research

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// program.md edits are serialized by Manager.programMu: reading the text an
// editor opens on, queueing an edit and committing the queue never
// interleave, so a replace is checked against exactly the text it would
// overwrite. Lock order: a session's mu, then programMu, then Manager.mu.

// Program returns program.md as the loop will use it: the file with the
// edits still queued applied, so an editor opens on what a save replaces.
// Its ProgramVersion is the version an edit of it carries.
func (m *Manager) Program(ctx context.Context) (string, error) {
	m.setup()
	m.programMu.Lock()
	defer m.programMu.Unlock()
	_, chain, _, err := m.programState(ctx)
	if err != nil {
		return "", err
	}
	return chain[len(chain)-1], nil
}

func (m *Manager) configured() Config {
	m.setup()
	return m.Config
}

func (m *Manager) programPath() string {
	return filepath.Join(m.Repo.Root(), m.configured().Program)
}

// programState reads the file and the queue. Call with programMu held.
func (m *Manager) programState(ctx context.Context) (file string, chain []string, pending []ProgramEdit, err error) {
	data, err := os.ReadFile(m.programPath())
	if err != nil {
		return "", nil, nil, err
	}
	if pending, err = m.Store.PendingProgramEdits(ctx); err != nil {
		return "", nil, nil, err
	}
	return string(data), programChain(string(data), pending), pending, nil
}

// EditProgram queues a change to program.md. With a run active it is
// committed between experiments, never inside an experiment's commit; with
// none it is committed at once on the current branch.
//
// An append applies on top of whatever is current. A replace carries the
// BaseVersion (ProgramVersion) of the text it was made against, empty
// meaning the current one; when program.md changed since (an edit applied
// or queued in between) it is refused with a *ProgramConflictError that
// says what changed and holds the current text.
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
		edit.BaseVersion = "" // appends never conflict
	case "replace":
		if strings.TrimSpace(edit.Text) == "" {
			return ProgramEdit{}, &InputError{Msg: "program.md cannot be emptied"}
		}
		if err := cfg.checkProgramSize("replace", len(edit.Text)); err != nil {
			return ProgramEdit{}, err
		}
	default:
		return ProgramEdit{}, &InputError{Msg: fmt.Sprintf("unknown program edit %q (append or replace)", edit.Kind)}
	}
	// The session is looked up before programMu (see the lock order).
	s := m.active()
	if s != nil {
		edit.RunID = s.snapshotRun().ID
	}
	edit, events, err := func() (ProgramEdit, []Event, error) {
		m.programMu.Lock()
		defer m.programMu.Unlock() // also when a bug panics in here
		edit, err := m.queueProgramEdit(ctx, edit)
		if err != nil || s != nil {
			return edit, nil, err // with a run, the next slot to go idle commits it
		}
		events, err := m.applyIdle(ctx)
		return edit, events, err
	}()
	for _, e := range events {
		m.emit(e)
	}
	return edit, err
}

// queueProgramEdit checks a replace against the text it overwrites and
// stores the edit. Call with programMu held.
func (m *Manager) queueProgramEdit(ctx context.Context, edit ProgramEdit) (ProgramEdit, error) {
	_, chain, pending, err := m.programState(ctx)
	if err != nil {
		return ProgramEdit{}, err
	}
	current := chain[len(chain)-1]
	if edit.Kind == "append" {
		if err := m.configured().checkProgramSize("append", len(appendProgram(current, edit.Text))); err != nil {
			return ProgramEdit{}, err
		}
	}
	if edit.Kind == "replace" {
		version := ProgramVersion(current)
		if edit.BaseVersion == "" {
			edit.BaseVersion = version
		}
		if edit.BaseVersion != version {
			return ProgramEdit{}, m.programConflict(ctx, edit.BaseVersion, chain, pending)
		}
		if normalizeProgram(current) == normalizeProgram(edit.Text) {
			return ProgramEdit{}, &InputError{Msg: "program.md is unchanged; nothing to commit"}
		}
	}
	return m.Store.AddProgramEdit(ctx, edit)
}

// programConflict finds what changed program.md since base: the queued
// edits after it, and the committed ones when base is older than the file.
func (m *Manager) programConflict(ctx context.Context, base string, chain []string, pending []ProgramEdit) error {
	conflict := &ProgramConflictError{BaseVersion: base, CurrentText: chain[len(chain)-1]}
	conflict.CurrentVersion = ProgramVersion(conflict.CurrentText)
	from := -1 // index in chain of the text the edit was made against
	for i := len(chain) - 1; i >= 0; i-- {
		if ProgramVersion(chain[i]) == base {
			from = i
			break
		}
	}
	if from < 0 {
		from = 0
		conflict.Changes = m.committedSince(ctx, base)
	}
	for i := from; i < len(pending); i++ {
		if chain[i+1] != chain[i] {
			conflict.Changes = append(conflict.Changes, pending[i])
		}
	}
	return conflict
}

// committedSince returns the committed edits made after program.md read
// base, oldest first, looking a few edits back; nil when base is not among
// them (the text was changed outside the bot).
func (m *Manager) committedSince(ctx context.Context, base string) []ProgramEdit {
	edits, err := m.Store.RecentProgramEdits(ctx, 20)
	if err != nil {
		m.logger().Warn("reading recent program.md edits", "err", err)
		return nil
	}
	rel := m.configured().Program
	versionAt := func(rev string) string {
		data, err := m.Repo.FileAt(rev, rel)
		if err != nil {
			return ""
		}
		return ProgramVersion(string(data))
	}
	var newer []ProgramEdit // newest first
	for _, e := range edits {
		if versionAt(e.Commit) == base {
			break // base is the text this edit made
		}
		newer = append(newer, e)
		if parent, err := m.Repo.ResolveRef(e.Commit + "^"); err == nil && versionAt(parent) == base {
			break // base is the text this edit changed
		}
		if len(newer) == len(edits) {
			return nil // base is older than all of them, or was never the bot's
		}
	}
	out := make([]ProgramEdit, 0, len(newer))
	for i := len(newer) - 1; i >= 0; i-- {
		out = append(out, newer[i])
	}
	return out
}

// applyIdle commits the queue when no run is active (a run that started
// meanwhile commits it between its experiments). Call with programMu held.
func (m *Manager) applyIdle(ctx context.Context) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess != nil && !m.sess.isDone() {
		return nil, nil
	}
	_, events, err := m.applyProgramEdits(ctx, nil)
	return events, err
}

// applyProgramEdits commits the pending edits between experiments and moves
// the run's best commit to the new tip. The main worktree must be idle: with
// one slot that is the slot itself, between its experiments; with several,
// the main worktree never trains.
func (s *session) applyProgramEdits(sl *slot) error {
	var events []Event
	err := func() error {
		s.mu.Lock()
		defer s.mu.Unlock() // also when a bug panics in here
		s.m.programMu.Lock()
		defer s.m.programMu.Unlock()
		run, evs, err := s.m.applyProgramEdits(context.Background(), &s.run)
		if err == nil {
			s.run = run
		}
		events = evs
		return err
	}()
	for _, e := range events {
		s.m.emit(e) // outside the lock: observers may ask for the status
	}
	return err
}

// applyProgramEdits commits every pending edit, in order. With run set,
// its best commit follows the branch tip and is saved. Call with programMu
// held.
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
	if edit.Kind != "append" && edit.BaseVersion != "" && edit.BaseVersion != ProgramVersion(string(current)) {
		// Only a change outside the bot gets here: queued edits were
		// checked against each other when they were queued.
		return &ProgramConflictError{BaseVersion: edit.BaseVersion, CurrentVersion: ProgramVersion(string(current)), CurrentText: string(current)}
	}
	next := applyEditText(string(current), *edit)
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

// carryProgram keeps the program.md edits committed while a stale winner
// trained: the winner was made on an older best, so its tree lacks them,
// and adopting it would drop a person's words. program.md as the replaced
// best had it is committed again on top of the winner, which becomes the
// run's best commit. Called with the session's mu held, in the main
// worktree (with several slots it never trains).
func (s *session) carryProgram(replaced string, run *Run) {
	m := s.m
	rel := m.Config.Program
	want, err := m.Repo.FileAt(replaced, rel)
	if err != nil {
		return
	}
	have, err := m.Repo.FileAt(run.BestCommit, rel)
	if err != nil || string(have) == string(want) {
		return
	}
	m.programMu.Lock()
	defer m.programMu.Unlock()
	if err := m.Repo.ResetTo(run.BestCommit); err != nil {
		m.logger().Error("carrying program.md over to the adopted winner", "err", err)
		return
	}
	if err := os.WriteFile(filepath.Join(m.Repo.Root(), rel), want, 0o644); err != nil {
		m.logger().Error("carrying program.md over to the adopted winner", "err", err)
		return
	}
	commit, err := m.Repo.Commit("program.md: edits carried over onto the adopted winner", []string{rel}, m.Config.Author)
	if err != nil {
		m.logger().Error("carrying program.md over to the adopted winner", "err", err)
		_ = m.Repo.ResetTo(run.BestCommit)
		return
	}
	run.BestCommit = commit
}
