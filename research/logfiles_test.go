package research_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// A log that already exists for an experiment's number (a store restored
// from an older backup numbers experiments again) is never overwritten:
// the new training writes NNNN-2.log and the experiment records that path.
func TestExistingLogIsNotOverwritten(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 1})
	logs := filepath.Join(h.m.Config.StateDir, "logs", "again")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(logs, "0001.log")
	if err := os.WriteFile(old, []byte("the first night's log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := h.runToEnd(t, research.StartRequest{Tag: "again"})
	exps := h.experiments(t, run)
	if len(exps) != 1 {
		t.Fatalf("experiments = %+v", exps)
	}
	if data, _ := os.ReadFile(old); string(data) != "the first night's log\n" {
		t.Fatalf("0001.log was overwritten: %q", data)
	}
	if want := filepath.Join(logs, "0001-2.log"); exps[0].LogPath != want {
		t.Fatalf("log path = %q, want %q", exps[0].LogPath, want)
	}
	if data, err := os.ReadFile(exps[0].LogPath); err != nil || len(data) == 0 {
		t.Fatalf("the new log: %v, %d bytes", err, len(data))
	}
}
