package research_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// A 3.9 MB program.md (a modal submission) and an append that would take
// program.md over the cap are refused with the sizes and the flag; nothing
// is recorded, written or committed.
func TestProgramEditOverTheSizeCapRefused(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{})
	before := researchtest.Read(t, dir, "program.md")
	head := researchtest.Git(t, dir, "rev-parse", "HEAD")
	ctx := context.Background()

	huge := strings.Repeat("lorem ipsum\n", 3_900_000/12)
	_, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: huge, Author: "UALICE"})
	var tl *research.ProgramTooLargeError
	if !research.IsInputError(err) || !errors.As(err, &tl) || !errors.Is(err, research.ErrProgramTooLarge) {
		t.Fatalf("huge replace: err = %v, want a ProgramTooLargeError input error", err)
	}
	for _, want := range []string{"3.7 MB", "64 KB", "--program-max-bytes", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}

	h.m.Config.ProgramMaxBytes = len(before) + 100
	_, err = h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: strings.Repeat("x", 200), Author: "UALICE"})
	if !errors.As(err, &tl) || tl.Kind != "append" {
		t.Fatalf("append over the cap: err = %v", err)
	}
	// An append that fits is taken.
	if _, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "Be brief.", Author: "UALICE"}); err != nil {
		t.Fatalf("small append: %v", err)
	}

	pending, err := h.db.PendingProgramEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Fatalf("pending edits left: %+v", pending)
	}
	if got := researchtest.Read(t, dir, "program.md"); got != strings.TrimRight(before, "\n")+"\n\nBe brief.\n" {
		t.Fatalf("program.md = %q", got)
	}
	if n := researchtest.Git(t, dir, "rev-list", "--count", head+"..HEAD"); strings.TrimSpace(n) != "1" {
		t.Fatalf("%s commits after the refusals, want only the small append's", n)
	}
}
