package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func condenseExps() []research.Experiment {
	return []research.Experiment{
		{Number: 101, ParentCommit: "k100", Commit: "c101", Status: research.StatusDiscard, Description: "increase LR to 0.04",
			Reason: "no improvement", Summary: research.Summary{ValBPB: 0.9931}},
		{Number: 102, ParentCommit: "k100", Commit: "c102", Status: research.StatusCrash, Description: "depth 12", Reason: "CUDA out of memory"},
		{Number: 103, ParentCommit: "k100", Commit: "c103", Status: research.StatusKeep, Description: "warmup 5%", Summary: research.Summary{ValBPB: 0.9902}},
		{Number: 104, ParentCommit: "c103", Commit: "c104", Status: research.StatusDiscard, Description: "gelu", Summary: research.Summary{ValBPB: 0.9950}},
	}
}

// rawField decodes one top-level field of the request JSON (nil if absent).
func rawField(t *testing.T, req wireRequest, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(req.Raw, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

func TestCondenseSendsExperimentsAndReturnsLesson(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(503), replyText("  - LR 0.04 hurt (#101)\n- depth 12 OOMs (#102)\n- warmup 5% helped (#103)\n"))
	l, sleeps := newTestLLM(t, f)
	prev := []research.Lesson{{FromNum: 1, ToNum: 100, Text: "- muon beats adamw (#40)"}}
	text, usage, err := l.Condense(context.Background(), "mar5", condenseExps(), prev)
	if err != nil {
		t.Fatal(err)
	}
	if text != "- LR 0.04 hurt (#101)\n- depth 12 OOMs (#102)\n- warmup 5% helped (#103)" {
		t.Errorf("text = %q", text)
	}
	// The 503 was retried; only the answered call reports usage.
	if usage != (research.Usage{PromptTokens: promptPerTurn, CompletionTokens: completionPerTurn}) {
		t.Errorf("usage = %+v", usage)
	}
	if len(sleeps.got()) != 1 {
		t.Errorf("retry waits = %v, want one", sleeps.got())
	}
	req := f.request(1)
	if req.Model != "test-model" || len(req.Tools) != 0 || rawField(t, req, "tools") != nil {
		t.Errorf("model %q, tools %v: want test-model without tools", req.Model, req.Tools)
	}
	if got := rawField(t, req, "max_tokens"); got != float64(CondenseMaxTokens) {
		t.Errorf("max_tokens = %v, want %d", got, CondenseMaxTokens)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v", req.Messages)
	}
	user := req.Messages[1].text()
	for _, s := range []string{
		"Run: mar5",
		"Condense experiments #101-#104",
		"Lessons from experiments #1-#100:\n- muon beats adamw (#40)",
		"#101 discard 0.993100 (parent earlier) increase LR to 0.04 [no improvement]\n",
		"#102 crash depth 12 (CUDA out of memory)\n",
		"#103 keep 0.990200 (parent earlier) warmup 5%\n",
		"#104 discard 0.995000 (+0.0048) gelu\n",
		"what was learned: what helped, what hurt, what\ncrashed and why, and dead ends",
	} {
		if !strings.Contains(user, s) {
			t.Errorf("condense prompt lacks %q:\n%s", s, user)
		}
	}
}

func TestCondenseReasoningModelUsesMaxCompletionTokens(t *testing.T) {
	f := newFakeOpenAI(t, replyText("- x"))
	l, _ := newTestLLM(t, f)
	l.Model = "o4-mini"
	if _, _, err := l.Condense(context.Background(), "r", condenseExps(), nil); err != nil {
		t.Fatal(err)
	}
	req := f.request(0)
	if rawField(t, req, "max_tokens") != nil {
		t.Errorf("max_tokens sent to a reasoning model")
	}
	if got := rawField(t, req, "max_completion_tokens"); got != float64(CondenseMaxTokens+condenseReasoningAllowance) {
		t.Errorf("max_completion_tokens = %v", got)
	}
	if strings.Contains(req.Messages[1].text(), "Earlier lessons") {
		t.Errorf("no previous lessons, yet the prompt has a lessons section")
	}
}

func TestCondenseCutOffAndFailures(t *testing.T) {
	cut := func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		writeCompletion(w, map[string]any{"role": "assistant", "content": "- first\n- second\n- thi"}, "length")
	}
	f := newFakeOpenAI(t, cut, replyText("   "), replyStatus(400))
	l, _ := newTestLLM(t, f)
	ctx := context.Background()
	text, _, err := l.Condense(ctx, "r", condenseExps(), nil)
	if err != nil || text != "- first\n- second" {
		t.Errorf("cut-off answer = %q, %v; want the finished lines", text, err)
	}
	text, usage, err := l.Condense(ctx, "r", condenseExps(), nil)
	if err == nil || !strings.Contains(err.Error(), "no text") || usage.PromptTokens != promptPerTurn {
		t.Errorf("blank answer = %q, %+v, %v; want an error with the usage", text, usage, err)
	}
	if _, _, err := l.Condense(ctx, "r", condenseExps(), nil); err == nil || errors.Is(err, research.ErrUnavailable) {
		t.Errorf("400 = %v; want a plain error", err)
	}
	if _, _, err := l.Condense(ctx, "r", nil, nil); err == nil {
		t.Error("Condense of nothing succeeded")
	}
	if _, _, err := (&LLM{}).Condense(ctx, "r", condenseExps(), nil); err == nil {
		t.Error("unconfigured LLM condensed")
	}
}

func TestCondenseUnavailable(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(503), replyStatus(503))
	l, _ := newTestLLM(t, f)
	l.Retry.Attempts = 2
	_, _, err := l.Condense(context.Background(), "r", condenseExps(), nil)
	if !errors.Is(err, research.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestConsolidate(t *testing.T) {
	f := newFakeOpenAI(t, replyText("- merged"))
	l, _ := newTestLLM(t, f)
	ls := []research.Lesson{{FromNum: 1, ToNum: 100, Text: "- A"}, {FromNum: 101, ToNum: 180, Text: "- B"}}
	text, usage, err := l.Consolidate(context.Background(), "mar5", ls)
	if err != nil || text != "- merged" || usage.CompletionTokens != completionPerTurn {
		t.Fatalf("Consolidate = %q, %+v, %v", text, usage, err)
	}
	user := f.request(0).Messages[1].text()
	for _, s := range []string{"experiments #1-#180", "Lessons from experiments #1-#100:\n- A", "Lessons from experiments #101-#180:\n- B", "Merge these lessons"} {
		if !strings.Contains(user, s) {
			t.Errorf("consolidate prompt lacks %q:\n%s", s, user)
		}
	}
}

// longHistory is n experiments, every 10th kept, with descriptions long
// enough that 100 non-kept lines exceed half the default budget.
func longHistory(n int) []research.Experiment {
	var h []research.Experiment
	for i := 1; i <= n; i++ {
		e := research.Experiment{Number: i, Description: fmt.Sprintf("idea %d ", i) + strings.Repeat("w", 200)}
		switch {
		case i%10 == 1:
			e.Status, e.Summary.ValBPB = research.StatusKeep, 1-float64(i)/10000
		case i%7 == 0:
			e.Status, e.Reason = research.StatusCrash, "exit status 1"
		default:
			e.Status, e.Summary.ValBPB = research.StatusDiscard, 1.05
		}
		h = append(h, e)
	}
	return h
}

func TestPlanCondense(t *testing.T) {
	b := HistoryBudget{}
	if _, _, ok := PlanCondense(longHistory(40), nil, b); ok {
		t.Error("40 experiments (10 before the recent 30) asked for condensing")
	}
	if _, _, ok := PlanCondense(longHistory(100), nil, b); ok {
		t.Error("70 older lines (under half the budget) asked for condensing")
	}
	hist := longHistory(300)
	from, to, ok := PlanCondense(hist, nil, b)
	if !ok || from != 1 || to != 270 {
		t.Errorf("300 experiments: PlanCondense = %d, %d, %v; want 1, 270 (all but the 30 most recent)", from, to, ok)
	}
	// After that range is condensed, nothing more until the history grows.
	lessons := []research.Lesson{{FromNum: 1, ToNum: 270, Text: "- done"}}
	if f, tt, ok := PlanCondense(hist, lessons, b); ok {
		t.Errorf("after condensing: PlanCondense = %d, %d", f, tt)
	}
	got := FormatHistory(research.ProposalRequest{History: hist, Lessons: lessons}, b)
	if strings.Contains(got, "Other earlier experiments") || !strings.Contains(got, "#261 keep") || !strings.Contains(got, "#300 ") {
		t.Errorf("condensed history still lists covered experiments or lost keeps:\n%s", got)
	}
	from, to, ok = PlanCondense(longHistory(600), lessons, b)
	if !ok || from != 271 || to != 570 {
		t.Errorf("600 experiments after a lesson #1-#270: %d, %d, %v; want 271, 570", from, to, ok)
	}
	// A gap between lessons is filled first, up to the next lesson.
	gap := []research.Lesson{{FromNum: 1, ToNum: 100, Text: "a"}, {FromNum: 251, ToNum: 400, Text: "b"}}
	from, to, ok = PlanCondense(longHistory(600), gap, b)
	if !ok || from != 101 || to != 250 {
		t.Errorf("gap: %d, %d, %v; want 101, 250", from, to, ok)
	}
	// Fix attempts share a number: the range never splits one, and stops
	// before the recent experiments.
	hist = longHistory(300)
	fix := research.Experiment{Number: 271, Attempt: 1, Status: research.StatusDiscard, Summary: research.Summary{ValBPB: 1.05}, Description: "fix"}
	hist = append(hist[:271], append([]research.Experiment{fix}, hist[271:]...)...)
	from, to, ok = PlanCondense(hist, nil, b)
	if !ok || from != 1 || to != 270 {
		t.Errorf("with a fix attempt at the boundary: %d, %d, %v; want 1, 270", from, to, ok)
	}
	if n := len(RangeOf(hist, 270, 272)); n != 4 {
		t.Errorf("RangeOf(270, 272) = %d experiments, want 4 (271 twice)", n)
	}
}

func TestPlanConsolidate(t *testing.T) {
	small := []research.Lesson{{FromNum: 1, ToNum: 100, Text: "- a"}, {FromNum: 101, ToNum: 200, Text: "- b"}}
	if _, ok := PlanConsolidate(small, HistoryBudget{}); ok {
		t.Error("two short lessons asked for a merge")
	}
	var big []research.Lesson
	for i := 0; i < 4; i++ {
		big = append(big, research.Lesson{FromNum: i*100 + 1, ToNum: i*100 + 100, Text: strings.Repeat("- finding\n", 150)})
	}
	merge, ok := PlanConsolidate(big, HistoryBudget{})
	if !ok || len(merge) != 4 || merge[0].FromNum != 1 || merge[3].ToNum != 400 {
		t.Fatalf("PlanConsolidate = %+v, %v; want all four", merge, ok)
	}
	// Once merged, the consolidated lesson supersedes them and is small.
	merged := append(big, research.Lesson{FromNum: 1, ToNum: 400, Text: "- merged"})
	if _, ok := PlanConsolidate(merged, HistoryBudget{}); ok {
		t.Error("asked to merge again after a consolidation")
	}
	// A gap stops the merge at the contiguous prefix.
	for i := range big {
		big[i].Text += strings.Repeat("- more\n", 100)
	}
	gapped := []research.Lesson{big[0], big[1], big[3]}
	merge, ok = PlanConsolidate(gapped, HistoryBudget{})
	if !ok || len(merge) != 2 || merge[1].ToNum != 200 {
		t.Errorf("gapped: %+v, %v; want the first two", merge, ok)
	}
}
