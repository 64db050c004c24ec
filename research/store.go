package research

import (
	"context"
	"time"
)

// Store is what the loop needs from persistence (package store implements
// it on SQLite). Every experiment, idea and program edit lives here.
type Store interface {
	CreateRun(ctx context.Context, r Run) (Run, error)
	RunByTag(ctx context.Context, tag string) (Run, error)
	LatestRun(ctx context.Context) (Run, error)
	UpdateRun(ctx context.Context, r Run) error

	StartExperiment(ctx context.Context, e Experiment, ideaIDs []int64) (Experiment, error)
	FinishExperiment(ctx context.Context, e Experiment, r Run) error
	MarkTSVWritten(ctx context.Context, id int64) error
	Experiments(ctx context.Context, runID int64) ([]Experiment, error)
	ExperimentByNumber(ctx context.Context, runID int64, n int) (Experiment, error)
	RunningExperiments(ctx context.Context, runID int64) ([]Experiment, error)

	AddIdea(ctx context.Context, i Idea) (Idea, error)
	OpenIdeas(ctx context.Context) ([]Idea, error)
	IdeaByMessageTS(ctx context.Context, ts string) (Idea, error)
	UpdateIdeaText(ctx context.Context, id int64, text string) error
	// ReplaceIdeaText changes the text only while it still reads before
	// (else an error wrapping store.ErrIdeaChanged).
	ReplaceIdeaText(ctx context.Context, id int64, before, after string) error
	IdeaByID(ctx context.Context, id int64) (Idea, error)
	UnpinIdea(ctx context.Context, id int64) error
	IdeasConsumedBy(ctx context.Context, experimentID int64) ([]Idea, error)

	// AddLLMCall records what an LLM call spent; LLMTokens sums a run's
	// calls made in [from, to) (zero times leave that end open).
	AddLLMCall(ctx context.Context, c LLMCall) error
	LLMTokens(ctx context.Context, runID int64, from, to time.Time) (prompt, completion int64, err error)

	AddProgramEdit(ctx context.Context, p ProgramEdit) (ProgramEdit, error)
	PendingProgramEdits(ctx context.Context) ([]ProgramEdit, error)
	FinishProgramEdit(ctx context.Context, p ProgramEdit) error
}

// nowUTC is the default clock.
func nowUTC() time.Time { return time.Now().UTC() }
