package research

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Status is a snapshot of the loop and the current (or latest) run.
func (m *Manager) Status(ctx context.Context) (Status, error) {
	m.setup()
	st := Status{Phase: PhaseIdle}
	var hist *runHistory
	if s := m.active(); s != nil {
		hist = s.hist
		s.mu.Lock()
		run := s.run
		st.Run, st.Active, st.Phase = &run, true, s.phase
		st.PauseReason, st.Usage, st.Since, st.Proposing = s.pauseReason, s.usage, s.since, s.proposing
		s.mu.Unlock()
		for _, sl := range s.slots {
			ss := sl.status()
			st.Slots = append(st.Slots, ss)
			if st.Current == nil && ss.Current != nil {
				st.Current, st.Progress = ss.Current, ss.Progress
			}
		}
	} else {
		run, err := m.Store.LatestRun(ctx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return st, err
		}
		if err == nil {
			st.Run = &run
		}
	}
	if st.Run != nil {
		if hist != nil {
			st.History = hist.Facts()
		} else {
			// No session: the History of the run's lean rows, read once.
			exps, err := m.Store.ExperimentsBrief(ctx, st.Run.ID)
			if err != nil {
				return st, err
			}
			st.History = NewHistory(exps)
		}
		st.Best, st.Baseline, st.Counts = st.History.Best, st.History.Baseline, st.History.Counts
		st.LastTelemetry = m.lastTelemetry(ctx, st.History.LastFinished)
		var used Usage
		if p, c, err := m.Store.LLMTokens(ctx, st.Run.ID, time.Time{}, time.Time{}); err == nil {
			used = Usage{p, c}
		}
		if !st.Active {
			st.Usage = used
		} else if used.PromptTokens+used.CompletionTokens > st.Usage.PromptTokens+st.Usage.CompletionTokens {
			st.Usage = used
		}
	}
	if m.Config.CostOf != nil {
		st.CostUSD = m.Config.CostOf(st.Usage)
	}
	ideas, err := m.Store.OpenIdeas(ctx)
	if err != nil {
		return st, err
	}
	st.OpenIdeas = ideas
	return st, nil
}

// AddIdea pins an idea for the next proposals.
func (m *Manager) AddIdea(ctx context.Context, idea Idea) (Idea, error) {
	m.setup()
	idea.Text = strings.TrimSpace(idea.Text)
	if idea.Text == "" {
		return Idea{}, &InputError{Msg: "an idea needs some text, e.g. `idea try a cosine learning-rate schedule`"}
	}
	if len(idea.Text) > 4000 {
		return Idea{}, &InputError{Msg: fmt.Sprintf("the idea is %d characters long; keep it under 4000", len(idea.Text))}
	}
	if idea.Source == "" {
		idea.Source = "terminal"
	}
	return m.Store.AddIdea(ctx, idea)
}

// Ideas lists the open (pinned, unused) ideas.
func (m *Manager) Ideas(ctx context.Context) ([]Idea, error) {
	m.setup()
	return m.Store.OpenIdeas(ctx)
}

// Unpin removes an open idea.
func (m *Manager) Unpin(ctx context.Context, id int64, by string) error {
	m.setup()
	err := m.Store.UnpinIdea(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return &InputError{Msg: fmt.Sprintf("there is no idea %d; `ideas` lists them", id), Err: err}
	case errors.Is(err, ErrIdeaUsed):
		return &InputError{Msg: fmt.Sprintf("idea %d was already used by an experiment", id), Err: err}
	}
	return err
}

// EditIdea follows an edited chat message to the idea it created. before
// is the text the edit was made against (the message before the edit): when
// the idea no longer reads so, someone else changed it since and the edit
// is refused with an *InputError wrapping ErrIdeaChanged that quotes
// the current text. Used or unpinned ideas stay as they were.
func (m *Manager) EditIdea(ctx context.Context, messageTS, before, text string) error {
	m.setup()
	text = strings.TrimSpace(text)
	if text == "" {
		return &InputError{Msg: "an idea cannot be empty"}
	}
	if strings.TrimSpace(before) == "" {
		return &InputError{Msg: "this edit does not say which text it replaces, so it was not applied; pin the new text as a new idea"}
	}
	idea, err := m.Store.IdeaByMessageTS(ctx, messageTS)
	if err != nil {
		return err
	}
	err = m.Store.ReplaceIdeaText(ctx, idea.ID, before, text)
	switch {
	case errors.Is(err, ErrIdeaChanged):
		now := idea.Text
		if fresh, ferr := m.Store.IdeaByID(ctx, idea.ID); ferr == nil {
			now = fresh.Text
		}
		return &InputError{Msg: fmt.Sprintf("idea [%d] was changed by someone else since (it now reads %q); your edit was not applied", idea.ID, snippet(now, 200)), Err: err}
	case errors.Is(err, ErrIdeaUsed):
		return &InputError{Msg: fmt.Sprintf("idea [%d] was already used or unpinned; your edit was not applied", idea.ID), Err: err}
	}
	return err
}

// currentRun is the active run, else the latest one.
func (m *Manager) currentRun(ctx context.Context) (Run, error) {
	if s := m.active(); s != nil {
		return s.snapshotRun(), nil
	}
	run, err := m.Store.LatestRun(ctx)
	if errors.Is(err, ErrNotFound) {
		return Run{}, &InputError{Msg: "no run yet; start one with `start TAG`", Err: ErrNoRun}
	}
	return run, err
}

// Results returns the last n experiments (all when n <= 0), oldest first.
func (m *Manager) Results(ctx context.Context, n int) ([]Experiment, error) {
	m.setup()
	run, err := m.currentRun(ctx)
	if err != nil {
		return nil, err
	}
	var exps []Experiment
	if n > 0 {
		exps, err = m.Store.LastExperiments(ctx, run.ID, n) // the last n by the (run_id, number) index
	} else {
		exps, err = m.Store.Experiments(ctx, run.ID)
	}
	if err != nil {
		return nil, err
	}
	if n > 0 && len(exps) > n {
		exps = exps[len(exps)-n:]
	}
	return exps, nil
}

// Experiment returns experiment number of the current (or latest) run.
func (m *Manager) Experiment(ctx context.Context, number int) (Experiment, error) {
	m.setup()
	run, err := m.currentRun(ctx)
	if err != nil {
		return Experiment{}, err
	}
	e, err := m.Store.ExperimentByNumber(ctx, run.ID, number)
	if errors.Is(err, ErrNotFound) {
		return Experiment{}, &InputError{Msg: fmt.Sprintf("run %s has no experiment %d", run.Tag, number), Err: err}
	}
	return e, err
}

// Log returns the training log of experiment number.
func (m *Manager) Log(ctx context.Context, number int) (string, error) {
	m.setup()
	e, err := m.Experiment(ctx, number)
	if err != nil {
		return "", err
	}
	if e.LogPath == "" {
		return "", &InputError{Msg: fmt.Sprintf("experiment %d has no log yet", number)}
	}
	data, err := os.ReadFile(m.localLogPath(e.LogPath))
	if err != nil {
		if e.LogTail != "" {
			return m.Config.Redactor.Redact(e.LogTail), nil
		}
		return "", err
	}
	return m.Config.Redactor.Redact(string(data)), nil
}

// lastTelemetry is the GPU record of the latest finished experiment (nil:
// none recorded).
func (m *Manager) lastTelemetry(ctx context.Context, last *Experiment) *Telemetry {
	if last == nil {
		return nil
	}
	t, err := m.Store.Telemetry(ctx, last.ID)
	if err != nil {
		return nil
	}
	return &t
}

// localLogPath finds a stored log path in this state dir: a repo moved or
// copied elsewhere keeps its logs at the same place relative to the state
// dir, while the store still names the old absolute path.
func (m *Manager) localLogPath(stored string) string {
	sep := string(filepath.Separator)
	i := strings.LastIndex(stored, sep+"logs"+sep)
	if i < 0 {
		return stored
	}
	local := filepath.Join(m.Config.StateDir, stored[i+1:])
	if _, err := os.Stat(local); err == nil {
		return local
	}
	return stored
}
