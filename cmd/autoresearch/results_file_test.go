package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// A new tag starts a fresh results.tsv; the previous run's file is kept in
// the state dir and `results --tag OLD --tsv` rebuilds it from the store.
func TestNewTagKeepsThePreviousResultsFileAndResultsRebuildsIt(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs real training")
	}
	dir := researchtest.New(t)
	run := func(tag string) {
		t.Helper()
		code, out, stderr := runMain(t, "run", "--repo", dir, "--tag", tag, "--proposer", "sweep",
			"--train-cmd", "python3 train.py", "--max-experiments", "2", "--baseline-repeats", "0")
		if code != exitOK {
			t.Fatalf("run --tag %s: exit %d: %s\n%s", tag, code, stderr, out)
		}
	}
	run("a")
	fileA := researchtest.Read(t, dir, "results.tsv")
	run("b")
	fileB := researchtest.Read(t, dir, "results.tsv")
	if strings.Count(fileB, "\n") != 3 || fileB == fileA {
		t.Fatalf("run b's results.tsv holds more than its own rows:\n%s\nrun a's:\n%s", fileB, fileA)
	}
	kept, err := os.ReadFile(filepath.Join(dir, ".autoresearch", "results", "a.tsv"))
	if err != nil || string(kept) != fileA {
		t.Fatalf("run a's file was not kept (%v):\n%s", err, kept)
	}
	code, out, stderr := runMain(t, "results", "--repo", dir, "--tag", "a", "--tsv")
	if code != exitOK || out != fileA {
		t.Fatalf("results --tag a --tsv (exit %d, %s):\n%s\nwant\n%s", code, stderr, out, fileA)
	}
}
