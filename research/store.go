package research

import (
	"context"
	"time"
)

// Store is everything the loop needs from persistence (package store
// implements it on SQLite). Every experiment, idea and program edit lives
// here. It is the whole contract: there are no optional capabilities found
// by type assertion, so a store that lacks a part does not compile instead
// of silently turning a feature off. Errors wrap ErrNotFound, ErrExists,
// ErrIdeaUsed and ErrIdeaChanged where callers must tell those cases apart.
type Store interface {
	RunStore
	ExperimentStore
	IdeaStore
	ProgramEditStore
	LessonStore
	TelemetryStore
	LLMCallStore
	SlurmJobStore
	CurveStore
}

// RunStore keeps runs.
type RunStore interface {
	// CreateRun fails with ErrExists when the tag is taken.
	CreateRun(ctx context.Context, r Run) (Run, error)
	RunByTag(ctx context.Context, tag string) (Run, error)
	LatestRun(ctx context.Context) (Run, error)
	UpdateRun(ctx context.Context, r Run) error
}

// ExperimentStore keeps experiments.
type ExperimentStore interface {
	StartExperiment(ctx context.Context, e Experiment, ideaIDs []int64) (Experiment, error)
	FinishExperiment(ctx context.Context, e Experiment, r Run) error
	MarkTSVWritten(ctx context.Context, id int64) error
	Experiments(ctx context.Context, runID int64) ([]Experiment, error)
	ExperimentByNumber(ctx context.Context, runID int64, n int) (Experiment, error)
	RunningExperiments(ctx context.Context, runID int64) ([]Experiment, error)
	// ExperimentsBrief is Experiments without diffs and log tails, for
	// readers that need neither: on a long run a fraction of the bytes.
	ExperimentsBrief(ctx context.Context, runID int64) ([]Experiment, error)
	// LastExperiments returns the run's last n experiments, oldest first.
	LastExperiments(ctx context.Context, runID int64, n int) ([]Experiment, error)
	// ExperimentDiffsOn returns what the repeat check reads of the run's
	// experiments made on parent, ordered by number.
	ExperimentDiffsOn(ctx context.Context, runID int64, parent string) ([]ExperimentDiff, error)
}

// IdeaStore keeps the ideas people pin.
type IdeaStore interface {
	AddIdea(ctx context.Context, i Idea) (Idea, error)
	OpenIdeas(ctx context.Context) ([]Idea, error)
	IdeaByMessageTS(ctx context.Context, ts string) (Idea, error)
	UpdateIdeaText(ctx context.Context, id int64, text string) error
	// ReplaceIdeaText changes the text only while it still reads before
	// (else an error wrapping ErrIdeaChanged).
	ReplaceIdeaText(ctx context.Context, id int64, before, after string) error
	IdeaByID(ctx context.Context, id int64) (Idea, error)
	UnpinIdea(ctx context.Context, id int64) error
	IdeasConsumedBy(ctx context.Context, experimentID int64) ([]Idea, error)
}

// ProgramEditStore keeps queued and applied program.md edits.
type ProgramEditStore interface {
	AddProgramEdit(ctx context.Context, p ProgramEdit) (ProgramEdit, error)
	PendingProgramEdits(ctx context.Context) ([]ProgramEdit, error)
	// RecentProgramEdits returns the latest limit edits, newest first.
	RecentProgramEdits(ctx context.Context, limit int) ([]ProgramEdit, error)
	FinishProgramEdit(ctx context.Context, p ProgramEdit) error
}

// LessonStore keeps the condensed history of long runs.
type LessonStore interface {
	Lessons(ctx context.Context, runID int64) ([]Lesson, error)
	AddLesson(ctx context.Context, l Lesson) (Lesson, error)
}

// TelemetryStore keeps the GPU aggregates of experiments.
type TelemetryStore interface {
	SaveTelemetry(ctx context.Context, experimentID int64, t Telemetry) error
	// Telemetry fails with ErrNotFound when none was recorded.
	Telemetry(ctx context.Context, experimentID int64) (Telemetry, error)
}

// LLMCallStore keeps what LLM calls spent.
type LLMCallStore interface {
	// AddLLMCall records what an LLM call spent; LLMTokens sums a run's
	// calls made in [from, to) (zero times leave that end open).
	AddLLMCall(ctx context.Context, c LLMCall) error
	LLMTokens(ctx context.Context, runID int64, from, to time.Time) (prompt, completion int64, err error)
}

// SlurmJobStore keeps the SLURM jobs experiments train in, so a restarted
// bot finds and follows them again (research/slurm).
type SlurmJobStore interface {
	// SaveSlurmJob records or updates a job; experimentID 0 keeps the tie
	// already recorded, and empty fields keep their recorded values.
	SaveSlurmJob(ctx context.Context, experimentID int64, j SlurmJob) error
	SlurmJobOf(ctx context.Context, experimentID int64) (SlurmJob, error)
	SlurmJobByLogPath(ctx context.Context, logPath string) (SlurmJob, error)
}

// CurveStore keeps the training-loss curve of each run's best experiment,
// for early stopping (EarlyStop).
type CurveStore interface {
	// SaveBestCurve records or replaces the best curve of run c.RunID.
	SaveBestCurve(ctx context.Context, c BestCurve) error
	// BestCurve fails with ErrNotFound when none was recorded.
	BestCurve(ctx context.Context, runID int64) (BestCurve, error)
}

// nowUTC is the default clock.
func nowUTC() time.Time { return time.Now().UTC() }
