// Package research runs the autonomous experiment loop: propose a change to
// the editable files, check it, commit, train under a hard timeout, parse the
// summary, keep or discard, record, repeat. It knows nothing of Slack; chat
// front ends watch its Events and call its control methods.
package research

import (
	"context"
	"errors"
	"time"
)

// Usage counts the LLM tokens a proposal spent.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
}

// Add sums two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{u.PromptTokens + o.PromptTokens, u.CompletionTokens + o.CompletionTokens}
}

// Repo is the git working copy the loop experiments in. The harness, never
// the proposer, moves branches and commits.
type Repo interface {
	// Root is the working tree's directory.
	Root() string
	// Head returns the full hash HEAD points at.
	Head() (string, error)
	// CurrentBranch returns the short name of the checked-out branch ("" when detached).
	CurrentBranch() (string, error)
	// DirtyTracked lists tracked files whose content differs from HEAD (index
	// or worktree). It must not walk ignored directories such as .venv.
	DirtyTracked() ([]string, error)
	// Changes lists every path that differs from HEAD: modified or deleted
	// tracked files and untracked files that are not ignored.
	Changes() ([]string, error)
	BranchExists(name string) (bool, error)
	// CreateBranch creates branch name at commit and checks it out, leaving
	// untracked and ignored files alone.
	CreateBranch(name, commit string) error
	// CheckoutBranch switches to an existing branch (tracked files only).
	CheckoutBranch(name string) error
	// Commit stages exactly files (deletions included) and commits them on the
	// current branch; returns the new commit hash.
	Commit(message string, files []string, author Signature) (string, error)
	// ResetTo moves the current branch to commit and makes tracked files match
	// it. Untracked and ignored files are never touched.
	ResetTo(commit string) error
	// RestoreFiles rewrites paths in the worktree from HEAD (deleting those
	// HEAD lacks), undoing an uncommitted proposal.
	RestoreFiles(paths []string) error
	// Diff returns the unified diff from -> to and its stat ("train.py | 4 ++--").
	Diff(from, to string) (patch, stat string, err error)
	// FileAt reads path as of commit.
	FileAt(commit, path string) ([]byte, error)
	// Exclude adds patterns to .git/info/exclude unless already there.
	Exclude(patterns ...string) error
	// ResolveRef turns a branch, tag or (short) hash into a full commit hash.
	ResolveRef(ref string) (string, error)
}

// Signature names a commit author.
type Signature struct {
	Name  string
	Email string
}

// ProposalRequest is everything a proposer gets to make the next change.
type ProposalRequest struct {
	Dir        string   // working copy to edit
	Editable   []string // files the proposal may change (relative paths)
	ReadOnly   []string // files it must never change
	BaseCommit string   // the best commit the change is made on
	Program    string   // the research repo's program.md
	History    []Experiment
	Best       *Experiment // nil before the first successful experiment
	// BestValue is the best as the judge compares with it (History's
	// BestValue): a mean when the best is the baseline with its repeats or
	// a confirmed keep; 0 = unknown (read Best's val_bpb).
	BestValue float64
	// BestNumbers are the experiments BestValue is the (mean) val_bpb of.
	BestNumbers []int
	Ideas       []Idea // pinned ideas, oldest first
	// Lessons condense older experiments that no longer fit the prompt
	// budget (oldest first); History then holds only what is not condensed
	// plus every kept experiment and near miss.
	Lessons []Lesson
	// HistoryOmitted counts the run's experiments left out of History: a
	// long run's History is its most recent experiments plus the latest
	// kept experiments and near misses and every experiment made on
	// BaseCommit (0: nothing left out, the whole run is there).
	HistoryOmitted int
	// Noise is the run-to-run standard deviation of val_bpb (0 = unknown):
	// results within it of the best are near misses, not failures.
	Noise float64
	// SinceKeep counts experiments since the last keep; at PlateauAfter or
	// more the proposer is asked for a structurally different idea.
	SinceKeep    int
	PlateauAfter int
	// Fix is set when the previous attempt crashed: the same idea is to be
	// repaired. The worktree already holds the crashed change.
	Fix *FixRequest
	// Feedback explains why the harness refused the previous proposal in this
	// round (empty on the first try).
	Feedback string
	// Check validates the worktree as the harness will after Propose returns;
	// conversational proposers call it before finishing so the model can
	// repair a refused change in the same conversation.
	Check func() error
	// Env is added to the environment of a proposer that runs processes
	// (the command agent): the marker a restart finds an orphan by.
	Env []string
}

// FixRequest describes a crashed attempt the proposer may repair.
type FixRequest struct {
	Experiment Experiment
	LogTail    string
	Attempt    int // 1-based number of this fix attempt
}

// Proposal is what a proposer returns: its change is in the worktree.
type Proposal struct {
	Description string // one line, goes to results.tsv
	Usage       Usage
}

// Proposer changes the editable files in req.Dir.
type Proposer interface {
	Propose(ctx context.Context, req ProposalRequest) (Proposal, error)
}

// Progress is one training progress report.
type Progress struct {
	Step      int64
	Percent   float64 // 0..100
	Remaining time.Duration
	Loss      float64
	Line      string
}

// TrainJob is one training run of the train command.
type TrainJob struct {
	Dir        string        // working copy
	LogPath    string        // per-experiment log (state dir)
	RunLogPath string        // run.log in the repo, like upstream ("" = none)
	Timeout    time.Duration // hard limit; the process group is killed after it
	Env        []string      // extra environment (e.g. CUDA_VISIBLE_DEVICES=0)
	OnProgress func(Progress)
	// OnEveryProgress, when set, gets every progress line, unthrottled, on
	// the goroutine reading the output: it must be quick. Early stopping
	// builds the loss curve from it; trainers that do not call it leave
	// the curve to OnProgress's samples.
	OnEveryProgress func(Progress)
	// OnStart gets the process group id once the command runs, so a
	// restarted bot can kill a trainer orphaned by a kill -9.
	OnStart func(pgid int)
	// ProcsPath, when set, is a file where a local trainer keeps the pids
	// and start times of every process of the experiment while it runs
	// (those that left the process group too), so that a restart after
	// kill -9 can end them (proctree.EndRecorded).
	ProcsPath string
}

// TrainResult is what a finished (or killed) training run left.
type TrainResult struct {
	Output   []byte // the log's tail (trainers cap it)
	ExitCode int    // -1 when killed by a signal (under the trainer shim, 128+N when signal N ended the command by itself)
	TimedOut bool
	Stopped  bool // killed because the run was stopped
	Duration time.Duration
	// Summary, when set, was read from the whole output stream as it was
	// written; Output is only a tail, and a summary hidden behind padding
	// must still count. nil: the loop parses Output.
	Summary *ScannedSummary
}

// ScannedSummary is a SummaryScanner's result.
type ScannedSummary struct {
	Summary Summary
	Err     error
}

// Scanned returns sc's result as a TrainResult carries it.
func (sc *SummaryScanner) Scanned() *ScannedSummary {
	sum, err := sc.Result()
	return &ScannedSummary{Summary: sum, Err: err}
}

// Trainer runs the train command. ctx cancellation means "stop now": the
// whole process group is killed and the result is marked Stopped.
type Trainer interface {
	Train(ctx context.Context, job TrainJob) (TrainResult, error)
}

// Reattacher is a Trainer whose runs outlive the bot (SLURM jobs): after a
// restart the loop follows the experiment's job instead of recording it as
// interrupted. An error with a method NoJob() bool reporting true means
// there was nothing to follow.
type Reattacher interface {
	Reattach(ctx context.Context, e Experiment, job TrainJob) (TrainResult, error)
}

// ErrShutdown is the cause of the training context's cancellation when the
// bot shuts down (SIGTERM): trainers whose jobs can outlive the bot may
// leave them running (an error with a method Detached() bool reporting
// true), and the next start re-attaches.
var ErrShutdown = errors.New("the bot is shutting down")
