package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestAddIdeaAndLookups(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	in := research.Idea{Text: "try RoPE base 50k", Author: "U1", Source: "thread", ThreadTS: "100.1", MessageTS: "100.2", FromExp: 7}
	i, err := db.AddIdea(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if i.ID == 0 {
		t.Fatal("ID not set")
	}
	sameTime(t, "CreatedAt", i.CreatedAt, c.Peek())
	got, err := db.IdeaByID(ctx, i.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, i) {
		t.Errorf("IdeaByID = %+v\nwant %+v", got, i)
	}
	byTS, err := db.IdeaByMessageTS(ctx, "100.2")
	if err != nil || byTS.ID != i.ID {
		t.Errorf("IdeaByMessageTS = %d, %v", byTS.ID, err)
	}
	if _, err := db.AddIdea(ctx, research.Idea{Text: " \n"}); err == nil {
		t.Error("empty idea accepted")
	}
}

func TestOpenIdeasOrderAndFilter(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	i1, i2, i3, i4 := mustIdea(t, db, "one"), mustIdea(t, db, "two"), mustIdea(t, db, "three"), mustIdea(t, db, "four")
	if err := db.UnpinIdea(ctx, i2.ID); err != nil {
		t.Fatal(err)
	}
	e := mustStart(t, db, run.ID, i3.ID, i2.ID) // i2 is unpinned: not consumed
	open, err := db.OpenIdeas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, i := range open {
		texts = append(texts, i.Text)
	}
	if !reflect.DeepEqual(texts, []string{"one", "four"}) {
		t.Errorf("OpenIdeas = %v", texts)
	}
	used, err := db.IdeasConsumedBy(ctx, e.ID)
	if err != nil || len(used) != 1 || used[0].ID != i3.ID || used[0].ConsumedBy != e.ID {
		t.Errorf("IdeasConsumedBy = %+v, %v", used, err)
	}
	got2, _ := db.IdeaByID(ctx, i2.ID)
	if got2.ConsumedBy != 0 || !got2.Unpinned {
		t.Errorf("unpinned idea = %+v", got2)
	}

	// An idea already consumed stays with its first experiment.
	e2 := mustStart(t, db, run.ID, i3.ID, i1.ID)
	got3, _ := db.IdeaByID(ctx, i3.ID)
	if got3.ConsumedBy != e.ID {
		t.Errorf("idea 3 re-consumed by %d", got3.ConsumedBy)
	}
	if used, _ := db.IdeasConsumedBy(ctx, e2.ID); len(used) != 1 || used[0].ID != i1.ID {
		t.Errorf("IdeasConsumedBy(e2) = %+v", used)
	}
	_ = i4
}

func TestUpdateIdeaTextAndUnpin(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	open, used, unpinned := mustIdea(t, db, "a"), mustIdea(t, db, "b"), mustIdea(t, db, "c")
	mustStart(t, db, run.ID, used.ID)
	if err := db.UnpinIdea(ctx, unpinned.ID); err != nil {
		t.Fatal(err)
	}

	if err := db.UpdateIdeaText(ctx, open.ID, "a, edited"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.IdeaByID(ctx, open.ID); got.Text != "a, edited" {
		t.Errorf("text = %q", got.Text)
	}
	if err := db.UpdateIdeaText(ctx, used.ID, "late edit"); !errors.Is(err, research.ErrIdeaUsed) {
		t.Errorf("edit consumed idea: %v", err)
	}
	if err := db.UpdateIdeaText(ctx, unpinned.ID, "late edit"); !errors.Is(err, research.ErrIdeaUsed) {
		t.Errorf("edit unpinned idea: %v", err)
	}
	if got, _ := db.IdeaByID(ctx, used.ID); got.Text != "b" {
		t.Errorf("consumed idea text changed to %q", got.Text)
	}
	if err := db.UpdateIdeaText(ctx, open.ID, ""); err == nil {
		t.Error("empty text accepted")
	}

	if err := db.UnpinIdea(ctx, used.ID); !errors.Is(err, research.ErrIdeaUsed) {
		t.Errorf("unpin consumed idea: %v", err)
	}
	if got, _ := db.IdeaByID(ctx, used.ID); got.Unpinned {
		t.Error("consumed idea got unpinned")
	}
	if err := db.UnpinIdea(ctx, unpinned.ID); err != nil {
		t.Errorf("unpin twice: %v", err)
	}
}

func TestReplaceIdeaTextRefusesAStaleEdit(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	idea := mustIdea(t, db, "try a wider MLP")
	// Someone else changed it first.
	if err := db.ReplaceIdeaText(ctx, idea.ID, "try a wider MLP", "try a 4x wider MLP"); err != nil {
		t.Fatal(err)
	}
	err := db.ReplaceIdeaText(ctx, idea.ID, " try a wider MLP\n", "try a deeper MLP")
	if !errors.Is(err, research.ErrIdeaChanged) {
		t.Fatalf("stale edit: err = %v, want research.ErrIdeaChanged", err)
	}
	if !strings.Contains(err.Error(), "try a 4x wider MLP") {
		t.Errorf("refusal does not quote the current text: %v", err)
	}
	if got, _ := db.IdeaByID(ctx, idea.ID); got.Text != "try a 4x wider MLP" {
		t.Errorf("the other person's edit was lost: text = %q", got.Text)
	}
	// Against the current text (surrounding space aside) it applies.
	if err := db.ReplaceIdeaText(ctx, idea.ID, "try a 4x wider MLP ", "try a deeper MLP"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.IdeaByID(ctx, idea.ID); got.Text != "try a deeper MLP" {
		t.Errorf("text = %q", got.Text)
	}
	if err := db.ReplaceIdeaText(ctx, 999, "x", "y"); !errors.Is(err, research.ErrNotFound) {
		t.Errorf("unknown idea: %v", err)
	}
}
