package research_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// Ideas go one per proposal, oldest first, also when the next proposal is
// prepared while the previous one trains (it must not take the same idea),
// and each experiment is credited only with the idea its proposal got.
func TestIdeasOnePerProposalInOrder(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var mu sync.Mutex
	var given [][]string
	step := func(value, desc string) func(research.ProposalRequest) (string, error) {
		set := setConst(t, "VAL", value, desc)
		return func(req research.ProposalRequest) (string, error) {
			var texts []string
			for _, i := range req.Ideas {
				texts = append(texts, i.Text)
			}
			mu.Lock()
			given = append(given, texts)
			mu.Unlock()
			return set(req)
		}
	}
	// Worse values each time: every proposal is discarded, so none is
	// re-proposed after a keep and the requests map one to one.
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, Pipeline: true},
		step("1.600000", "a"), step("1.700000", "b"), step("1.800000", "c"))
	withWorktrees(h)
	ctx := context.Background()
	for _, text := range []string{"idea A", "idea B", "idea C", "idea D"} {
		if _, err := h.m.AddIdea(ctx, research.Idea{Text: text, Author: "U1"}); err != nil {
			t.Fatal(err)
		}
	}
	run := h.runToEnd(t, research.StartRequest{Tag: "ideas"})

	mu.Lock()
	got := slices.Clone(given)
	mu.Unlock()
	want := [][]string{{"idea A"}, {"idea B"}, {"idea C"}}
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("ideas given to the proposals = %v, want %v", got, want)
	}
	for _, e := range h.experiments(t, run) {
		ideas, err := h.db.IdeasConsumedBy(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, i := range ideas {
			texts = append(texts, i.Text)
		}
		wantIdea := map[int]string{2: "idea A", 3: "idea B", 4: "idea C"}[e.Number]
		if strings.Join(texts, ",") != wantIdea {
			t.Errorf("#%d (%s) is credited with %v, want %q", e.Number, e.Description, texts, wantIdea)
		}
	}
	open, err := h.db.OpenIdeas(ctx)
	if err != nil || len(open) != 1 || open[0].Text != "idea D" {
		t.Errorf("open ideas after the run = %+v (%v), want idea D alone", open, err)
	}
}

// An edit of an idea made against a text someone else changed since is
// refused, quoting what it reads now; the other person's words stay.
func TestEditIdeaRefusesAnEditOfAChangedIdea(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{})
	ctx := context.Background()
	if _, err := h.m.AddIdea(ctx, research.Idea{Text: "use GELU", Author: "UBOB", MessageTS: "1.1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.EditIdea(ctx, "1.1", "use GELU", "use SwiGLU"); err != nil {
		t.Fatal(err)
	}
	err := h.m.EditIdea(ctx, "1.1", "use GELU", "use ReLU")
	if !errors.Is(err, research.ErrIdeaChanged) || !research.IsInputError(err) || !strings.Contains(err.Error(), "use SwiGLU") {
		t.Fatalf("stale edit: err = %v, want an input error wrapping ErrIdeaChanged that quotes the current text", err)
	}
	ideas, _ := h.m.Ideas(ctx)
	if len(ideas) != 1 || ideas[0].Text != "use SwiGLU" {
		t.Fatalf("ideas = %+v", ideas)
	}
	if err := h.m.EditIdea(ctx, "1.1", "", "use ReLU"); !research.IsInputError(err) {
		t.Fatalf("an edit that does not say what it replaces: %v", err)
	}
}
