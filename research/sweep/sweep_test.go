package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

const trainPy = `"""A toy trainer.
NOT_A_CONST = 3
"""
import math

LR = 0.04  # learning rate
DEPTH = 8
WD = 3e-4
HEADS: int = 3
SEED = 42
name = "x"

def main():
    STEP = 5
    print(LR * DEPTH)
`

func writeRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readTrain(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "train.py"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// changedLines returns the lines of got that differ from trainPy; both have
// the same number of lines because an edit never adds or removes one.
func changedLines(t *testing.T, got string) []string {
	t.Helper()
	a, b := strings.Split(trainPy, "\n"), strings.Split(got, "\n")
	if len(a) != len(b) {
		t.Fatalf("line count changed: %d -> %d", len(a), len(b))
	}
	var out []string
	for i := range a {
		if a[i] != b[i] {
			out = append(out, b[i])
		}
	}
	return out
}

// allCandidates is how many changes the sweep can make to trainPy:
// LR, WD 4 each; DEPTH 2; HEADS 2; SEED is never touched.
const allCandidates = 12

func TestProposeChangesExactlyOneLine(t *testing.T) {
	dir := writeRepo(t)
	p, err := (&Sweep{Seed: 1}).Propose(context.Background(), research.ProposalRequest{Dir: dir, BaseCommit: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	got := readTrain(t, dir)
	lines := changedLines(t, got)
	if len(lines) != 1 {
		t.Fatalf("changed lines %q, want exactly one", lines)
	}
	name, v, ok := parseDescription(p.Description)
	if !ok {
		t.Fatalf("description %q does not parse", p.Description)
	}
	if !strings.HasPrefix(lines[0], name) {
		t.Fatalf("description %q names %s but line %q changed", p.Description, name, lines[0])
	}
	// The written literal is the value the description claims.
	for _, c := range ParseConsts([]byte(got)) {
		if c.Name == name && !sameValue(c.Value, v) {
			t.Fatalf("%s is %v in the file, description says %v", name, c.Value, v)
		}
	}
}

// TestNoRepeatsFromSameBase simulates a run: each proposal is trained and
// lands in the history with the same parent; a fresh Sweep each time proves
// the history alone prevents repeats (as after a restart).
func TestNoRepeatsFromSameBase(t *testing.T) {
	dir := writeRepo(t)
	var hist []research.Experiment
	// Noise from another base must not count as tried.
	hist = append(hist, research.Experiment{ParentCommit: "other", Description: "sweep: LR 0.04 -> 0.05"})
	seen := map[string]bool{}
	for i := 0; ; i++ {
		if err := os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := (&Sweep{Seed: 7}).Propose(context.Background(), research.ProposalRequest{
			Dir: dir, BaseCommit: "base", History: hist,
		})
		if errors.Is(err, ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > allCandidates {
			t.Fatalf("more than %d proposals", allCandidates)
		}
		if seen[p.Description] {
			t.Fatalf("repeated %q", p.Description)
		}
		if strings.Contains(p.Description, "SEED") {
			t.Fatalf("changed the seed: %q", p.Description)
		}
		seen[p.Description] = true
		if n := len(changedLines(t, readTrain(t, dir))); n != 1 {
			t.Fatalf("%q changed %d lines", p.Description, n)
		}
		hist = append(hist, research.Experiment{ParentCommit: "base", Description: p.Description, Status: research.StatusDiscard})
	}
	if len(seen) != allCandidates {
		t.Fatalf("proposed %d distinct changes, want %d: %v", len(seen), allCandidates, seen)
	}
	if !seen["sweep: LR 0.04 -> 0.05"] {
		t.Fatal("history from another base blocked LR 0.04 -> 0.05")
	}
	// A new base starts over.
	_, err := (&Sweep{Seed: 7}).Propose(context.Background(), research.ProposalRequest{Dir: dir, BaseCommit: "next", History: hist})
	if err != nil {
		t.Fatalf("new base: %v", err)
	}
}

// Without any history (a refused proposal, or parallel slots) one Sweep
// still does not repeat itself from the same base.
func TestRemembersOwnProposals(t *testing.T) {
	dir := writeRepo(t)
	s := &Sweep{Seed: 3}
	seen := map[string]bool{}
	for range allCandidates {
		os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644)
		p, err := s.Propose(context.Background(), research.ProposalRequest{Dir: dir, BaseCommit: "b", Feedback: "refused"})
		if err != nil {
			t.Fatal(err)
		}
		if seen[p.Description] {
			t.Fatalf("repeated %q", p.Description)
		}
		seen[p.Description] = true
	}
	os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644)
	if _, err := s.Propose(context.Background(), research.ProposalRequest{Dir: dir, BaseCommit: "b"}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
}

func sequence(t *testing.T, seed int64) []string {
	t.Helper()
	dir := writeRepo(t)
	var hist []research.Experiment
	var out []string
	for range 5 {
		os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644)
		p, err := (&Sweep{Seed: seed}).Propose(context.Background(), research.ProposalRequest{Dir: dir, BaseCommit: "b", History: hist})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Description)
		hist = append(hist, research.Experiment{ParentCommit: "b", Description: p.Description})
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := sequence(t, 11), sequence(t, 11)
	if strings.Join(a, "|") != strings.Join(b, "|") {
		t.Fatalf("same seed, different sequences:\n%v\n%v", a, b)
	}
	c := sequence(t, 12)
	if strings.Join(a, "|") == strings.Join(c, "|") {
		t.Fatalf("seeds 11 and 12 gave the same sequence %v", a)
	}
}

func TestIdeaAppliedFirst(t *testing.T) {
	dir := writeRepo(t)
	ideas := []research.Idea{
		{ID: 1, Text: "use a bigger batch", Author: "u"},                 // names no constant
		{ID: 2, Text: "depth=9.5"},                                       // DEPTH is an int
		{ID: 3, Text: "try lr=0.1 please", ConsumedBy: 4},                // already used
		{ID: 4, Text: "maybe WD 1e-3 and then DEPTH=12", Unpinned: true}, // unpinned
		{ID: 5, Text: "try lr = 0.1 and DEPTH 12"},
	}
	req := research.ProposalRequest{Dir: dir, BaseCommit: "b", Ideas: ideas}
	p, err := (&Sweep{}).Propose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "sweep: LR 0.04 -> 0.1 (idea #5)" {
		t.Fatalf("description %q", p.Description)
	}
	if lines := changedLines(t, readTrain(t, dir)); len(lines) != 1 || lines[0] != "LR = 0.1  # learning rate" {
		t.Fatalf("changed %q", lines)
	}
	// Once LR=0.1 is in the history, the idea's next setting applies.
	os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644)
	req.History = []research.Experiment{{ParentCommit: "b", Description: p.Description}}
	p, err = (&Sweep{}).Propose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "sweep: DEPTH 8 -> 12 (idea #5)" {
		t.Fatalf("second description %q", p.Description)
	}
}

func TestIdeaInSciStyle(t *testing.T) {
	dir := writeRepo(t)
	p, err := (&Sweep{}).Propose(context.Background(), research.ProposalRequest{
		Dir: dir, BaseCommit: "b", Ideas: []research.Idea{{Text: "WD=0.001"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "sweep: WD 3e-4 -> 1e-3 (idea)" {
		t.Fatalf("description %q", p.Description)
	}
}

func TestFixIsRefused(t *testing.T) {
	dir := writeRepo(t)
	_, err := (&Sweep{}).Propose(context.Background(), research.ProposalRequest{
		Dir: dir, BaseCommit: "b", Fix: &research.FixRequest{Attempt: 1},
	})
	if !errors.Is(err, ErrCannotFix) {
		t.Fatalf("err = %v, want ErrCannotFix", err)
	}
	if readTrain(t, dir) != trainPy {
		t.Fatal("a refused fix changed the file")
	}
}

func TestErrors(t *testing.T) {
	dir := writeRepo(t)
	_, err := (&Sweep{}).Propose(context.Background(), research.ProposalRequest{Dir: dir, Editable: []string{"model.py"}})
	if err == nil || errors.Is(err, ErrExhausted) {
		t.Fatalf("non-editable file: err = %v", err)
	}
	_, err = (&Sweep{File: "missing.py"}).Propose(context.Background(), research.ProposalRequest{Dir: dir})
	if err == nil {
		t.Fatal("missing file: no error")
	}
	os.WriteFile(filepath.Join(dir, "empty.py"), []byte("x = 1\nSEED = 3\n"), 0o644)
	_, err = (&Sweep{File: "empty.py"}).Propose(context.Background(), research.ProposalRequest{Dir: dir})
	if err == nil || errors.Is(err, ErrExhausted) {
		t.Fatalf("no constants: err = %v", err)
	}
}
