package agent

import (
	"context"
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
