package agent

import (
	"context"

	"github.com/autoresearch/autoresearch/research"
)

// NextLesson implements research.Condenser on the LLM: when the history no
// longer fits the prompt budget (l.History), the oldest uncondensed range
// becomes a lesson; when the lessons themselves outgrow their share, the
// oldest are merged into one. The usage of a failed call is still returned,
// so it is counted; the harness decides when to ask again after a failure.
func (l *LLM) NextLesson(ctx context.Context, run research.Run, history []research.Experiment, lessons []research.Lesson) (research.Lesson, research.Usage, bool, error) {
	budget := l.History
	current := CurrentLessons(lessons)
	if merge, ok := PlanConsolidate(current, budget); ok {
		text, u, err := l.Consolidate(ctx, run.Tag, merge)
		if err != nil {
			return research.Lesson{}, u, false, err
		}
		return research.Lesson{RunID: run.ID, FromNum: merge[0].FromNum, ToNum: merge[len(merge)-1].ToNum, Text: text}, u, true, nil
	}
	from, to, ok := PlanCondense(history, current, budget)
	if !ok {
		return research.Lesson{}, research.Usage{}, false, nil
	}
	text, u, err := l.Condense(ctx, run.Tag, RangeOf(history, from, to), current)
	if err != nil {
		return research.Lesson{}, u, false, err
	}
	return research.Lesson{RunID: run.ID, FromNum: from, ToNum: to, Text: text}, u, true, nil
}
