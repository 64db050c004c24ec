package research_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// The case seen in the field: an append is queued while the run is paused,
// then a second admin saves an editor opened before the append. The save is
// refused (it would delete the appended line), says what changed and offers
// the current text; the append survives and is committed on resume.
func TestStaleProgramReplaceIsRefusedAndTheQueuedAppendSurvives(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2}, setConst(t, "VAL", "1.400000", "lower"))
	ctx := context.Background()
	if _, err := h.m.Start(ctx, research.StartRequest{Tag: "conflict", By: "UALICE"}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Pause(ctx, "UALICE"); err != nil {
		t.Fatal(err)
	}

	// Bob opens the editor on the current text.
	opened, err := h.m.Program(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bobsVersion := research.ProgramVersion(opened)

	// Alice appends while the run is paused: queued, not committed yet.
	if _, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "Keep the learning rate.", Author: "UALICE"}); err != nil {
		t.Fatal(err)
	}
	now, err := h.m.Program(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(now, "Keep the learning rate.") {
		t.Fatalf("the editor would not show the queued append:\n%s", now)
	}

	// Bob saves his edit of the old text.
	bobs := strings.Replace(opened, "\n", "\nBe bold.\n", 1)
	_, err = h.m.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: bobs, Author: "UBOB", BaseVersion: bobsVersion})
	var conflict *research.ProgramConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("stale replace: err = %v, want a *ProgramConflictError", err)
	}
	if conflict.CurrentText != now || conflict.CurrentVersion != research.ProgramVersion(now) {
		t.Errorf("the refusal does not offer the current text: %+v", conflict)
	}
	if by := conflict.ChangedBy(); len(by) != 1 || by[0] != "UALICE" {
		t.Errorf("changed by = %v, want UALICE", by)
	}
	for _, want := range []string{"UALICE appended", "Keep the learning rate.", "queued", "not saved"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	pending, err := h.db.PendingProgramEdits(ctx)
	if err != nil || len(pending) != 1 || pending[0].Kind != "append" {
		t.Fatalf("pending = %+v, %v; want only the append", pending, err)
	}

	// An append never conflicts, and a replace made on the current text
	// (the append included) is queued behind it.
	if _, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "Mind the memory.", Author: "UCAROL"}); err != nil {
		t.Fatalf("append after append: %v", err)
	}
	current, _ := h.m.Program(ctx)
	fresh := strings.Replace(current, "\n", "\nBe bold.\n", 1)
	if _, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: fresh, Author: "UBOB", BaseVersion: research.ProgramVersion(current)}); err != nil {
		t.Fatalf("replace on the current text: %v", err)
	}

	if err := h.m.Resume(ctx, "UALICE"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := h.m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	final := researchtest.Read(t, dir, "program.md")
	for _, want := range []string{"Keep the learning rate.", "Mind the memory.", "Be bold."} {
		if !strings.Contains(final, want) {
			t.Errorf("program.md lost %q:\n%s", want, final)
		}
	}
	for _, e := range h.rec.kinds(research.EventProgramEdited) {
		if e.ProgramEdit.Error != "" {
			t.Errorf("edit by %s failed: %s", e.ProgramEdit.Author, e.ProgramEdit.Error)
		}
	}
	if n := len(h.rec.kinds(research.EventProgramEdited)); n != 3 {
		t.Errorf("%d program edits committed, want 3", n)
	}
}

// With no run the edit is committed at once; a replace made against the
// text before a committed edit names that edit.
func TestStaleProgramReplaceAfterACommittedEditNamesIt(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{})
	ctx := context.Background()
	opened, _ := h.m.Program(ctx)
	if _, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "Prefer small models.", Author: "UALICE"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(researchtest.Read(t, dir, "program.md"), "Prefer small models.") {
		t.Fatal("with no run the append was not committed at once")
	}
	_, err := h.m.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: opened + "\nmore\n", Author: "UBOB", BaseVersion: research.ProgramVersion(opened)})
	var conflict *research.ProgramConflictError
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "UALICE appended") || !strings.Contains(err.Error(), "committed") {
		t.Fatalf("err = %v, want a conflict naming UALICE's committed append", err)
	}
	if !strings.Contains(researchtest.Read(t, dir, "program.md"), "Prefer small models.") {
		t.Fatal("the refused replace changed program.md")
	}
	// A replace made against an unknown text (changed outside the bot).
	_, err = h.m.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: "# new\n", Author: "UBOB", BaseVersion: "000000000000"})
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "outside the bot") {
		t.Fatalf("err = %v, want a conflict saying it changed outside the bot", err)
	}
}

// gateSlow holds the training of the change that sets VAL to 1.4 until a
// program.md append, queued when it starts, has been committed by the other
// slot: the slow experiment then wins over a best that holds the append.
type gateSlow struct {
	research.Trainer
	t *testing.T
	h *harness
}

func (g gateSlow) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	if strings.Contains(researchtest.Read(g.t, job.Dir, "train.py"), "VAL = 1.400000") {
		if _, err := g.h.m.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: "Carry me over.", Author: "UALICE"}); err != nil {
			return research.TrainResult{}, err
		}
		for len(g.h.rec.kinds(research.EventProgramEdited)) == 0 {
			if ctx.Err() != nil {
				return research.TrainResult{}, ctx.Err()
			}
			time.Sleep(10 * time.Millisecond) // waiting for the other slot's commit, an event
		}
	}
	return g.Trainer.Train(ctx, job)
}

// With several slots a program.md edit is committed while an experiment
// trains on the older best; when that experiment wins and is adopted, the
// edit is carried over onto it instead of being dropped from the branch.
func TestAdoptedStaleWinnerKeepsProgramEditsMadeMeanwhile(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, Slots: []research.SlotSpec{
		{Name: "gpu0", GPU: -1}, {Name: "gpu1", GPU: -1},
	}},
		setConst(t, "VAL", "1.400000", "slow win"),
		setConst(t, "VAL", "1.600000", "worse"),
		setConst(t, "STEPS", "5", "more steps"),
	)
	withWorktrees(h)
	h.m.Trainer = gateSlow{Trainer: h.m.Trainer, t: t, h: h}
	run := h.runToEnd(t, research.StartRequest{Tag: "carry"})
	var slow research.Experiment
	for _, e := range h.experiments(t, run) {
		if e.Description == "slow win" {
			slow = e
		}
	}
	if slow.Status != research.StatusKeep || !strings.Contains(slow.Reason, "adopted") {
		t.Fatalf("slow win: %s %q, want kept as a stale winner", slow.Status, slow.Reason)
	}
	tip := researchtest.Git(t, dir, "show", "autoresearch/carry:program.md")
	if !strings.Contains(tip, "Carry me over.") {
		t.Fatalf("the branch lost the program.md append:\n%s", tip)
	}
	if !strings.Contains(researchtest.Read(t, dir, "program.md"), "Carry me over.") {
		t.Fatal("the main worktree lost the program.md append")
	}
}
