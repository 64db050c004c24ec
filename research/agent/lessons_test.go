package agent

import (
	"context"
	"errors"
	"slices"
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
// is asked again only as the history grows by 5, 10, 20, ... experiments,
// not before every proposal; each failed call's usage is still returned, and
// a later success resets the wait.
func TestNextLessonBacksOffAfterFailures(t *testing.T) {
	var steps []step
	for range 6 {
		steps = append(steps, replyTools(call{name: "read_file", args: map[string]string{"path": "train.py"}}))
	}
	steps = append(steps, replyText("- finally a lesson"))
	f := newFakeOpenAI(t, steps...)
	l, _ := newTestLLM(t, f)
	run := research.Run{ID: 3, Tag: "mar20"}
	ctx := context.Background()

	var tried []int
	var spent int64
	for n := 600; n < 1000; n++ {
		before := len(f.requests())
		_, usage, made, err := l.NextLesson(ctx, run, longHistory(n), nil)
		spent += usage.PromptTokens
		if len(f.requests()) == before {
			if err != nil || made || usage != (research.Usage{}) {
				t.Fatalf("n=%d: no call, but made=%v usage=%+v err=%v", n, made, usage, err)
			}
			continue
		}
		tried = append(tried, n)
		if made {
			break
		}
		var ce *CondenseError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no text") {
			t.Fatalf("n=%d: err = %v, want a CondenseError wrapping the model's missing text", n, err)
		}
		if ce.Failures != len(tried) {
			t.Errorf("n=%d: failures = %d, want %d", n, ce.Failures, len(tried))
		}
	}
	if want := []int{600, 605, 615, 635, 675, 755, 915}; !slices.Equal(tried, want) {
		t.Fatalf("condensation tried at history lengths %v, want %v (the last one making the lesson)", tried, want)
	}
	if spent != 7*promptPerTurn {
		t.Errorf("prompt tokens returned = %d, want %d (every call counted, failed ones too)", spent, 7*promptPerTurn)
	}
}
