package research

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research/patch"
)

// Retry re-applies experiment number's change onto the current best and
// queues it ahead of the proposer. It refuses, changing nothing, when there
// is no change to retry or it no longer applies.
func (m *Manager) Retry(ctx context.Context, number int, by string) error {
	m.setup()
	s := m.active()
	if s == nil {
		return &InputError{Msg: "no run is active; start or resume one first", Err: ErrNoRun}
	}
	run := s.snapshotRun()
	e, err := m.Experiment(ctx, number)
	if err != nil {
		return err
	}
	if e.Diff == "" || e.Commit == "" || e.ParentCommit == "" || e.Commit == e.ParentCommit {
		return &InputError{Msg: fmt.Sprintf("experiment #%d changed nothing; there is nothing to retry", number)}
	}
	files := map[string]string{}
	for _, path := range m.Config.Editable {
		before, errB := m.Repo.FileAt(e.ParentCommit, path)
		after, errA := m.Repo.FileAt(e.Commit, path)
		if errA != nil || errB != nil || string(before) == string(after) {
			continue
		}
		now, err := m.Repo.FileAt(run.BestCommit, path)
		if err != nil {
			return err
		}
		merged, err := patch.Rebase(string(before), string(after), string(now))
		if err != nil {
			return &InputError{Msg: fmt.Sprintf("experiment #%d no longer applies to the best commit: %v", number, err), Err: err}
		}
		if merged == string(now) {
			continue // already in the best commit
		}
		files[path] = string(after)
	}
	if len(files) == 0 {
		return &InputError{Msg: fmt.Sprintf("experiment #%d's change to %s is already in the best commit; nothing to retry", number, strings.Join(m.Config.Editable, ", "))}
	}
	desc := strings.TrimPrefix(e.Description, "retry ")
	s.enqueue(&candidate{kind: KindRetry, base: e.ParentCommit, files: files, by: by,
		description: fmt.Sprintf("retry #%d: %s", number, desc)})
	m.emit(Event{Kind: EventNotice, Run: run, Text: fmt.Sprintf("%s queued a retry of #%d (%s) on the best commit", by, number, e.Description)})
	return nil
}
