package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestNextLessonCondensesOnlyWhenTheHistoryOutgrowsTheBudget(t *testing.T) {
	f := newFakeOpenAI(t, replyText("- higher LR diverges past 0.06\n- depth 10 OOMs"))
	l, _ := newTestLLM(t, f)
	run := research.Run{ID: 7, Tag: "mar20"}

	if _, _, made, err := l.NextLesson(context.Background(), run, longHistory(20), nil); err != nil || made {
		t.Fatalf("a short history was condensed: made=%v err=%v", made, err)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests for a short history", n)
	}
	hist := longHistory(600)
	lesson, usage, made, err := l.NextLesson(context.Background(), run, hist, nil)
	if err != nil || !made {
		t.Fatalf("made=%v err=%v", made, err)
	}
	if lesson.RunID != 7 || lesson.FromNum != hist[0].Number || lesson.ToNum <= lesson.FromNum || lesson.ToNum >= hist[len(hist)-1].Number {
		t.Errorf("lesson range #%d-#%d of a %d-experiment run", lesson.FromNum, lesson.ToNum, len(hist))
	}
	if lesson.Text == "" || usage.PromptTokens == 0 {
		t.Errorf("lesson %q usage %+v", lesson.Text, usage)
	}
}

// A model that answers the condensation request with a tool call (no text)
// fails the condensation, but the call's usage is returned so the harness
// counts it; NextLesson asks again whenever it is called (the harness, which
// knows how the history grows, decides when to back off). History's budget
// decides when condensing starts.
func TestNextLessonReturnsTheUsageOfAFailedCall(t *testing.T) {
	tool := replyTools(call{name: "read_file", args: map[string]string{"path": "train.py"}})
	f := newFakeOpenAI(t, tool, tool)
	l, _ := newTestLLM(t, f)
	l.History = HistoryBudget{MaxTokens: 50, KeepRecent: 2}
	run := research.Run{ID: 3, Tag: "mar20"}

	for try := 1; try <= 2; try++ {
		_, usage, made, err := l.NextLesson(context.Background(), run, longHistory(6), nil)
		if err == nil || made || !strings.Contains(err.Error(), "no text") {
			t.Fatalf("try %d: made=%v err=%v, want the model's missing text", try, made, err)
		}
		if usage.PromptTokens != promptPerTurn || usage.CompletionTokens != completionPerTurn {
			t.Errorf("try %d: usage = %+v, want the failed call's", try, usage)
		}
		if n := len(f.requests()); n != try {
			t.Fatalf("try %d: %d requests", try, n)
		}
	}
}
