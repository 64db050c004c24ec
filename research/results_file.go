package research

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// results.tsv belongs to one run at a time, as upstream's does: a new tag
// starts a fresh file and the previous run's file is archived in the state
// dir, never deleted. The owner file in STATE_DIR/results names the run the
// repo's results.tsv belongs to now.

func (m *Manager) resultsPath() string { return filepath.Join(m.Repo.Root(), "results.tsv") }

func (m *Manager) resultsDir() string { return filepath.Join(m.Config.StateDir, "results") }

func (m *Manager) resultsOwnerPath() string { return filepath.Join(m.resultsDir(), "owner") }

// ArchivedResultsPath is where the results.tsv of run tag is kept once
// another run took the repo over (the first archive; later ones of the same
// tag get a number).
func ArchivedResultsPath(stateDir, tag string) string {
	return filepath.Join(stateDir, "results", tag+".tsv")
}

// previousRunTag is the tag of the latest run recorded before this start,
// the likely owner of a results.tsv written before owners were recorded.
func (m *Manager) previousRunTag(ctx context.Context, tag string) string {
	latest, err := m.Store.LatestRun(ctx)
	if err != nil || latest.Tag == tag {
		return ""
	}
	return latest.Tag
}

// adoptResults makes results.tsv run's file: another run's rows are archived
// first, then the file is rewritten from the store (header and run's own
// rows). prev names the run recorded before this start, for a file whose
// owner was never written down.
func (m *Manager) adoptResults(ctx context.Context, run Run, prev string) error {
	path := m.resultsPath()
	rows, err := resultRows(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	owner, err := os.ReadFile(m.resultsOwnerPath())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	hist, err := loadHistory(ctx, m.Store, run.ID, run.Noise)
	if err != nil {
		return err
	}
	m.loaded = hist // the session Start makes next takes it over
	exps := hist.Snapshot()
	ownerTag := strings.TrimSpace(string(owner))
	if len(rows) > 0 && ownerTag != run.Tag && !(ownerTag == "" && rowsOfRun(rows, exps)) {
		name := ownerTag
		if name == "" {
			name = prev
		}
		if name == "" || ValidateTag(name) != nil {
			name = "before-" + run.Tag
		}
		dst, err := m.archiveResults(path, name)
		if err != nil {
			return fmt.Errorf("keeping the previous results.tsv: %w", err)
		}
		m.logger().Info("results.tsv held another run's rows; kept them", "rows", len(rows), "archive", dst)
	}
	if err := os.MkdirAll(m.resultsDir(), 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(m.resultsOwnerPath(), m.resultsOwnerPath()+".tmp", []byte(run.Tag+"\n")); err != nil {
		return err
	}
	return WriteResultsFile(path, exps)
}

// rowsOfRun tells whether every row of a file is one of the run's own rows
// (a file this run wrote before owners were recorded).
func rowsOfRun(rows []string, exps []Experiment) bool {
	var b strings.Builder
	if err := WriteResults(&b, exps); err != nil {
		return false
	}
	own := map[string]bool{}
	for _, l := range strings.Split(b.String(), "\n") {
		own[l] = true
	}
	for _, r := range rows {
		if !own[r] {
			return false
		}
	}
	return true
}

// archiveResults copies results.tsv to STATE_DIR/results/NAME.tsv (NAME.2.tsv
// and so on when that exists already: an archive is never overwritten).
func (m *Manager) archiveResults(path, name string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(m.resultsDir(), 0o755); err != nil {
		return "", err
	}
	dst := ArchivedResultsPath(m.Config.StateDir, name)
	for n := 2; ; n++ {
		_, err := os.Stat(dst)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		dst = filepath.Join(m.resultsDir(), fmt.Sprintf("%s.%d.tsv", name, n))
	}
	return dst, writeFileAtomic(dst, dst+".tmp", data)
}

// writeResults rewrites results.tsv from the store after every experiment:
// one row per experiment, identical rows included, and nothing train.py
// wrote into the file survives.
func (s *session) writeResults() {
	s.tsvMu.Lock()
	defer s.tsvMu.Unlock()
	// The session's history holds every row of the run as the store has
	// it (each start and finish is filed there right after the store
	// write), so the rewrite reads no database; writing the file stays O(N).
	// The rows are formatted in place (no copy of the whole run per
	// experiment); the file is written after the history's lock is let go.
	var b bytes.Buffer
	err := s.hist.withRows(func(rows []Experiment) error { return WriteResults(&b, rows) })
	if err == nil {
		path := s.m.resultsPath()
		err = writeFileAtomic(path, filepath.Join(filepath.Dir(path), resultsTemp), b.Bytes())
	}
	if err != nil {
		s.m.logger().Error("rewriting results.tsv", "err", err)
	}
}
