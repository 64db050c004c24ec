package bot

import (
	"context"

	"github.com/autoresearch/autoresearch/research"
)

// Controller is what the chat front ends need from the research side: the
// loop's controls and read access to its records. research.Manager implements
// it; front ends never touch git, the store or the trainer directly.
type Controller interface {
	// Start begins a run (errors explain refusals, e.g. a run already active).
	Start(ctx context.Context, req research.StartRequest) (research.Run, error)
	// Stop ends the run after the running experiment, or at once (StopNow).
	Stop(ctx context.Context, by string, mode research.StopMode) error
	Pause(ctx context.Context, by string) error
	Resume(ctx context.Context, by string) error
	Status(ctx context.Context) (research.Status, error)

	AddIdea(ctx context.Context, idea research.Idea) (research.Idea, error)
	Ideas(ctx context.Context) ([]research.Idea, error)
	Unpin(ctx context.Context, id int64, by string) error
	// EditIdea replaces the text of the open idea that came from the chat
	// message messageTS (an edited thread reply) when it still reads before
	// (the message before the edit); an idea someone else changed since, or
	// a used one, stays as it is and the refusal says why.
	EditIdea(ctx context.Context, messageTS, before, text string) error

	// Program returns the research repo's program.md as the loop will use it
	// (queued edits included); research.ProgramVersion of it is the
	// BaseVersion a replace made on it carries.
	Program(ctx context.Context) (string, error)
	// EditProgram queues an edit ("append" or "replace"); it is committed
	// between experiments and announced through an EventProgramEdited. A
	// replace made against an older text is refused with a
	// *research.ProgramConflictError.
	EditProgram(ctx context.Context, edit research.ProgramEdit) (research.ProgramEdit, error)

	// Results returns the last n experiments of the current (or latest) run,
	// oldest first; n <= 0 means all.
	Results(ctx context.Context, n int) ([]research.Experiment, error)
	Experiment(ctx context.Context, number int) (research.Experiment, error)
	// Log returns the training log of experiment number.
	Log(ctx context.Context, number int) (string, error)
	// SetReview turns the review gate (each proposal waits for approval)
	// on or off.
	SetReview(ctx context.Context, on bool, by string) error
	// Retry queues experiment number's change to train again on the best.
	Retry(ctx context.Context, number int, by string) error
	// Reviewing tells whether the review gate is on.
	Reviewing() bool
}
