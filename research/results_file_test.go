package research_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// appendCode returns a step that appends python lines to train.py.
func appendCode(t *testing.T, code, desc string) func(research.ProposalRequest) (string, error) {
	return func(req research.ProposalRequest) (string, error) {
		src := researchtest.Read(t, req.Dir, "train.py")
		researchtest.Write(t, req.Dir, "train.py", src+code)
		return desc, nil
	}
}

// rebuilt is results.tsv as the store says it should be for run tag.
func rebuilt(t *testing.T, h *harness, tag string) string {
	t.Helper()
	run, err := h.db.RunByTag(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := research.WriteResults(&b, h.experiments(t, run)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestForgedResultsRowFromTrainPyDoesNotSurvive(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		appendCode(t, "open('results.tsv', 'a').write('fffffff\\t0.100000\\t1.0\\tkeep\\tforged\\n')\n", "forges a row"))
	run := h.runToEnd(t, research.StartRequest{Tag: "forge"})
	got := researchtest.Read(t, dir, "results.tsv")
	if strings.Contains(got, "forged") {
		t.Fatalf("the forged row survived:\n%s", got)
	}
	if want := rebuilt(t, h, "forge"); got != want || len(h.experiments(t, run)) != 2 {
		t.Fatalf("results.tsv =\n%s\nwant\n%s", got, want)
	}
}

func TestNewTagStartsAFreshResultsFileAndKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		setConst(t, "VAL", "1.400000", "a: lower"),
		setConst(t, "BONUS", "0.01", "b: bonus"),
		setConst(t, "STEPS", "5", "a: more steps"),
	)
	h.runToEnd(t, research.StartRequest{Tag: "a"})
	fileA := researchtest.Read(t, dir, "results.tsv")
	if fileA != rebuilt(t, h, "a") || !strings.Contains(fileA, "a: lower") {
		t.Fatalf("run a's results.tsv:\n%s", fileA)
	}

	h.runToEnd(t, research.StartRequest{Tag: "b"})
	fileB := researchtest.Read(t, dir, "results.tsv")
	if fileB != rebuilt(t, h, "b") || strings.Contains(fileB, "a: lower") {
		t.Fatalf("run b's results.tsv holds more than its own rows:\n%s", fileB)
	}
	archiveA := filepath.Join(h.m.Config.StateDir, "results", "a.tsv")
	kept, err := os.ReadFile(archiveA)
	if err != nil || string(kept) != fileA {
		t.Fatalf("run a's file was not kept at %s (%v):\n%s", archiveA, err, kept)
	}

	// Resuming a brings its own file back; b's is kept in turn.
	h.m.Config.MaxExperiments = 3
	h.runToEnd(t, research.StartRequest{Tag: "a", Resume: true})
	fileA2 := researchtest.Read(t, dir, "results.tsv")
	if fileA2 != rebuilt(t, h, "a") || !strings.HasPrefix(fileA2, fileA) || !strings.Contains(fileA2, "a: more steps") {
		t.Fatalf("resumed run a's results.tsv:\n%s\nbefore:\n%s", fileA2, fileA)
	}
	if kept, err := os.ReadFile(filepath.Join(h.m.Config.StateDir, "results", "b.tsv")); err != nil || string(kept) != fileB {
		t.Fatalf("run b's file was not kept (%v):\n%s", err, kept)
	}
	if kept, _ := os.ReadFile(archiveA); string(kept) != fileA {
		t.Errorf("the archive of a was overwritten:\n%s", kept)
	}
}

func TestResumeKeepsTheRunsOwnResultsFile(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, setConst(t, "VAL", "1.400000", "lower"), setConst(t, "BONUS", "0.01", "bonus"))
	h.runToEnd(t, research.StartRequest{Tag: "r"})
	before := researchtest.Read(t, dir, "results.tsv")
	h.m.Config.MaxExperiments = 3
	h.runToEnd(t, research.StartRequest{Tag: "r", Resume: true})
	after := researchtest.Read(t, dir, "results.tsv")
	if !strings.HasPrefix(after, before) || after != rebuilt(t, h, "r") || strings.Count(after, "\n") != 4 {
		t.Fatalf("after resume:\n%s\nbefore:\n%s", after, before)
	}
	if entries, _ := os.ReadDir(filepath.Join(h.m.Config.StateDir, "results")); len(entries) != 1 {
		t.Errorf("resuming archived something: %v", entries)
	}
}

func TestUpstreamResultsFileIsKeptWhenTheFirstRunStarts(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	old := research.ResultsHeader + "abcdef0\t0.990000\t40.0\tkeep\tby hand\n"
	researchtest.Write(t, dir, "results.tsv", old)
	h := newHarness(t, dir, research.Config{MaxExperiments: 1})
	h.runToEnd(t, research.StartRequest{Tag: "first"})
	if got := researchtest.Read(t, dir, "results.tsv"); strings.Contains(got, "by hand") {
		t.Fatalf("the new run's file holds the old rows:\n%s", got)
	}
	kept, err := os.ReadFile(filepath.Join(h.m.Config.StateDir, "results", "before-first.tsv"))
	if err != nil || string(kept) != old {
		t.Fatalf("the upstream file was not kept (%v): %q", err, kept)
	}
}
