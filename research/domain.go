package research

// The domain's rows: runs, experiments, ideas, program.md edits, lessons
// and LLM calls. Package store keeps them in SQLite and imports this
// package; research never imports the store.

import (
	"errors"
	"time"
)

// Errors a Store returns (wrapped) so that callers can tell the cases apart
// without knowing which database keeps the rows.
var (
	// ErrNotFound: a looked-up row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with the same unique key exists, e.g. CreateRun with
	// a tag that is already taken.
	ErrExists = errors.New("already exists")
	// ErrIdeaUsed: an idea can no longer be changed because an experiment
	// consumed it (or, for edits, it was unpinned).
	ErrIdeaUsed = errors.New("idea already used")
	// ErrIdeaChanged: an edit of an idea was made against a text that
	// someone else has changed since.
	ErrIdeaChanged = errors.New("idea changed since")
)

// Experiment statuses. "running" is only ever seen while an experiment trains
// (or after the bot was killed in the middle of one: recovery turns it into crash).
const (
	StatusRunning = "running"
	StatusKeep    = "keep"
	StatusDiscard = "discard"
	StatusCrash   = "crash"
)

// Run states.
const (
	RunActive  = "active"
	RunPaused  = "paused"
	RunStopped = "stopped"
)

// Run is one research run: a tag, its branch and its best result so far.
type Run struct {
	ID         int64
	Tag        string
	Branch     string // autoresearch/TAG
	RepoDir    string
	BaseCommit string  // where the branch was created from
	BestCommit string  // the branch tip: last kept experiment or program edit
	BestValBPB float64 // 0 while there is no successful experiment
	State      string  // RunActive, RunPaused, RunStopped
	StartedBy  string  // who started it (Slack user ID, or "terminal")
	Proposer   string  // llm, command, sweep
	Model      string
	GPU        string  // description of the GPU(s) the run uses
	Noise      float64 // run-to-run standard deviation of val_bpb (0 = unknown)
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Summary holds the figures of the training summary block.
type Summary struct {
	ValBPB          float64
	TrainingSeconds float64
	TotalSeconds    float64
	PeakVRAMMB      float64
	MFUPercent      float64
	TotalTokensM    float64
	NumSteps        int64
	NumParamsM      float64
	Depth           int64
}

// Experiment is one try: a commit, a training run and its outcome.
type Experiment struct {
	ID           int64
	RunID        int64
	Number       int    // 1-based within the run; 1 is the baseline
	Kind         Kind   // what it was for: baseline, proposal, confirmation, ...; set at the start, never changes
	Attempt      int    // 0 for a new idea, 1.. for crash-fix attempts of the same idea
	ParentCommit string // the best commit the change was made on
	Commit       string // full hash of the experiment's commit
	Description  string
	Status       string // StatusRunning, keep, discard, crash
	Reason       string // why: "improved by 0.0012", "timeout after 10m0s", "stopped", ...
	Summary      Summary
	Diff         string // full unified diff against ParentCommit
	DiffStat     string // " train.py | 4 ++--"
	LogPath      string
	LogTail      string // last lines of the training log (kept for crashes)
	GPU          string // which GPU/slot ran it ("0", "cpu", ...)

	ProposeSeconds float64
	TrainSeconds   float64
	TotalSeconds   float64

	PromptTokens     int64
	CompletionTokens int64

	TSVWritten bool // appended to results.tsv
	// Notes is what the harness noticed beyond the result, e.g. "train.py
	// deleted .venv/ (3 paths)"; empty when there is nothing to say.
	Notes      string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}

// Idea is a human suggestion for the next experiments.
type Idea struct {
	ID         int64
	Text       string
	Author     string // Slack user ID or "terminal"
	Source     string // "terminal", "slash", "thread"
	ThreadTS   string // Slack thread the idea was posted in, if any
	MessageTS  string // the reply's own ts, to follow edits
	FromExp    int64  // experiment ID the thread belongs to (0 = none)
	ConsumedBy int64  // experiment ID that used it (0 = open)
	Unpinned   bool
	CreatedAt  time.Time
}

// ProgramEdit is a queued or applied change to the research repo's program.md.
type ProgramEdit struct {
	ID     int64
	RunID  int64 // 0 when queued with no active run
	Author string
	Kind   string // "append" or "replace"
	Text   string // appended text, or the whole new program.md
	// BaseVersion is the version of program.md (research.ProgramVersion)
	// a replace was made against; it is refused when the text changed
	// since. Empty for appends, which apply on top of whatever is there.
	BaseVersion string
	Commit      string // set when applied
	Diff        string // set when applied
	Error       string // set when it could not be applied
	CreatedAt   time.Time
	AppliedAt   time.Time
}

// Lesson condenses a range of a run's older experiments into what was
// learned, so the prompt stays within its budget on long runs.
type Lesson struct {
	ID        int64
	RunID     int64
	FromNum   int // first experiment number covered
	ToNum     int // last experiment number covered
	Text      string
	CreatedAt time.Time
}

// LLMCall is what one LLM call, or one proposal's whole conversation, spent.
type LLMCall struct {
	RunID            int64
	At               time.Time
	Purpose          string // "propose", "fix", "condense"
	Number           int    // the experiment it was for (0: none)
	PromptTokens     int64
	CompletionTokens int64
	Failed           bool // the call (or proposal) failed or was refused
}

// ExperimentDiff is what the repeat check needs of an experiment made on a
// given parent commit.
type ExperimentDiff struct {
	Number      int
	Attempt     int
	Status      string
	Description string
	Diff        string
}

// SlurmJob is one SLURM batch job an experiment trained in (research/slurm).
// The trainer records it so that a restarted bot follows the job again.
type SlurmJob struct {
	JobID        string
	ExperimentID int64  // 0 while the job is not yet tied to its experiment
	Slot         string // slot name, e.g. slurm1
	LogPath      string // the experiment's log, unique per experiment
	OutPath      string // the job's --output file on the shared filesystem
	Dir          string // working copy the job trains in
	State        string // PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, ...
	Reason       string // squeue's reason while pending, or why it ended
	ExitCode     string // "exit:signal", as scontrol prints it
	Node         string
	GPUType      string // h100, a100, ...; "gpu" when the GRES has no type; "" without GPU
	Pending      time.Duration
	Elapsed      time.Duration
	MaxRSSMB     float64 // peak memory from sacct, 0 when not reported
	SubmittedAt  time.Time
	StartedAt    time.Time
	FinishedAt   time.Time // zero while pending or running
	UpdatedAt    time.Time // set by SaveSlurmJob
}
