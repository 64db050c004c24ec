// Package slurm trains experiments as SLURM batch jobs: a research.Trainer
// that submits the train command with sbatch, follows the job with squeue,
// scontrol and (where accounting exists) sacct, reads the job's output file
// for progress and the summary, and cancels its own job when the run stops.
// A restarted bot re-attaches to jobs still pending or running (Reattach).
//
// The bot runs on a login node; the working copies (--slurm-workdir) and
// the spool directory with the batch scripts and the jobs' output must be
// on a filesystem the compute nodes share.
package slurm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Defaults for the zero Runner.
const (
	DefaultPoll           = 15 * time.Second
	DefaultPendingLimit   = 10 * time.Minute
	DefaultMargin         = 2 * time.Minute
	DefaultMaxPollErrors  = 20
	DefaultCommandTimeout = 2 * time.Minute
	DefaultName           = "autoresearch"
)

// Runner submits the train command as a SLURM batch job. It implements
// research.Trainer, and Reattach for a restarted bot. Its methods may be
// called from several goroutines (one per slot); set the fields before.
type Runner struct {
	Partition string   // --partition; "" = the cluster's default
	Account   string   // --account
	GRES      string   // --gres, e.g. gpu:1 or gpu:h100:1; "" = none
	ExtraArgs []string // more sbatch arguments, after the Runner's own (later ones win)
	Command   string   // the train command; default trainer.DefaultCommand
	Shell     string   // runs Command with -c on the node; default /bin/sh
	Name      string   // --job-name; default "autoresearch"; cmd sets autoresearch-SLOT
	Slot      string   // recorded with each job
	// SpoolDir holds the batch scripts, the jobs' output (job-ID.out) and
	// exit files (job-ID.exit). It must be shared with the compute nodes.
	// Default: a ".slurm-jobs" folder next to the working copy.
	SpoolDir string
	// Margin is added to the experiment's timeout for the job's --time: the
	// node may need a while to start (environment, data loading).
	Margin time.Duration
	// Poll is the interval of squeue calls; default 15s.
	Poll time.Duration
	// PendingLimit: a job pending longer is reported through OnPending,
	// again after each further PendingLimit; default 10m. Reasons that will
	// not clear by themselves (ReqNodeNotAvail, PartitionTimeLimit, ...) are
	// reported at once.
	PendingLimit time.Duration
	// MaxPollErrors is how many polls in a row may fail (slurmctld socket
	// timeouts) before Train gives up with ErrController; default 20.
	MaxPollErrors int
	// CommandTimeout bounds each SLURM command; default 2m.
	CommandTimeout time.Duration
	// Exec runs a SLURM command and returns its combined output. Default:
	// exec.CommandContext with the bot's environment minus secrets
	// (trainer.ScrubEnv), which sbatch --export=ALL hands to the job.
	Exec func(ctx context.Context, name string, args ...string) ([]byte, error)
	// OnSubmit, when set, gets the job id as soon as sbatch answered.
	OnSubmit func(jobID string, job research.TrainJob)
	// OnPending is told about a job that keeps pending, with squeue's reason
	// (Resources, Priority, QOSMaxJobsPerUserLimit, ...): the bot turns it
	// into a channel message. It must not block for long.
	OnPending func(jobID, reason string, waited time.Duration)
	// Detach decides, from the cause of ctx's cancellation
	// (context.Cause), that a job is to be left running rather than
	// cancelled: a bot restarting for an upgrade re-attaches to it later.
	// Train then returns Stopped and an error matching ErrDetached, and the
	// loop must leave the experiment running in the store. nil: always
	// cancel.
	Detach func(cause error) bool
	// Store records the jobs; nil records nothing (and Reattach finds none).
	Store  research.SlurmJobStore
	Logger *slog.Logger
	// Now is the clock for pending and running times; default time.Now.
	Now func() time.Time

	noAccounting atomic.Bool // sacct said accounting is disabled
}

var _ research.Trainer = (*Runner)(nil)

// Train submits the train command for job and follows it to its end.
//
// The job runs "cd job.Dir && COMMAND" with the bot's environment minus
// secrets plus job.Env, under timeout(1) with job.Timeout; its --time is
// job.Timeout + Margin. Output goes to SpoolDir/job-ID.out, which Train
// copies into job.LogPath and job.RunLogPath as it grows, reports progress
// from, and returns whole (its last 8 MiB) in Output.
//
// How it ends:
//   - COMPLETED: ExitCode 0, nil error; the loop parses the summary.
//   - the command ran out of job.Timeout: TimedOut, nil error.
//   - FAILED, OUT_OF_MEMORY, NODE_FAIL, TIMEOUT, CANCELLED by someone else,
//     PREEMPTED, ...: ExitCode non-zero and a *JobError whose Error() is
//     the crash reason ("slurm job 4242 OUT_OF_MEMORY on gpu-07").
//   - ctx cancelled: scancel of this job (and no other), Stopped, nil error.
//   - sbatch refused: a *SubmitError (errors.Is ErrConfig, ErrController
//     or ErrSubmit); nothing runs.
func (r *Runner) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	return r.train(ctx, 0, job)
}

// TrainExperiment is Train with the experiment the job is for, so that the
// store ties the job to it at once (Train ties it through job.LogPath).
func (r *Runner) TrainExperiment(ctx context.Context, e research.Experiment, job research.TrainJob) (research.TrainResult, error) {
	return r.train(ctx, e.ID, job)
}

func (r *Runner) train(ctx context.Context, expID int64, job research.TrainJob) (research.TrainResult, error) {
	if ctx.Err() != nil {
		return research.TrainResult{ExitCode: -1, Stopped: true}, nil
	}
	spool := r.spool(job)
	if err := os.MkdirAll(spool, 0o755); err != nil {
		return research.TrainResult{ExitCode: -1}, &SubmitError{Kind: ErrSubmit, Msg: fmt.Sprintf("spool directory: %v", err)}
	}
	script, err := r.writeScript(job, spool)
	if err != nil {
		return research.TrainResult{ExitCode: -1}, &SubmitError{Kind: ErrSubmit, Msg: fmt.Sprintf("writing the batch script: %v", err)}
	}
	out, err := r.run(ctx, "sbatch", r.sbatchArgs(job, spool, script)...)
	if err != nil {
		serr := classifySubmit(out, err)
		r.logger().Error("sbatch refused the job", "err", serr, "output", strings.TrimSpace(string(out)))
		return research.TrainResult{ExitCode: -1}, serr
	}
	id := parseJobID(out)
	if id == "" {
		return research.TrainResult{ExitCode: -1}, &SubmitError{Kind: ErrSubmit, Msg: fmt.Sprintf("no job id in sbatch's answer %q", strings.TrimSpace(string(out)))}
	}
	submitted := r.now()
	r.logger().Info("slurm job submitted", "job", id, "dir", job.Dir, "partition", r.Partition, "gres", r.GRES)
	rec := research.SlurmJob{JobID: id, Slot: r.Slot, LogPath: job.LogPath, OutPath: outPath(spool, id), Dir: job.Dir,
		State: "PENDING", SubmittedAt: submitted}
	r.save(expID, rec)
	if r.OnSubmit != nil {
		r.OnSubmit(id, job)
	}
	f := &follower{r: r, id: id, expID: expID, job: job, spool: spool, out: rec.OutPath, submitted: submitted, owned: true}
	return f.follow(ctx)
}

// Reattach follows the job recorded for experiment e (by its id, else by
// job.LogPath): it waits for a pending or running job as Train does, or
// reads a finished one once. ErrNoJob when none is recorded: the loop then
// records the experiment as interrupted, as for a local trainer. job must
// be the TrainJob the loop built for e (same LogPath, Dir and Timeout).
func (r *Runner) Reattach(ctx context.Context, e research.Experiment, job research.TrainJob) (research.TrainResult, error) {
	if r.Store == nil {
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w (no store)", ErrNoJob)
	}
	rec, err := r.Store.SlurmJobOf(ctx, e.ID)
	if errors.Is(err, research.ErrNotFound) && job.LogPath != "" {
		rec, err = r.Store.SlurmJobByLogPath(ctx, job.LogPath)
	}
	if errors.Is(err, research.ErrNotFound) {
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w: experiment %d", ErrNoJob, e.ID)
	}
	if err != nil {
		return research.TrainResult{ExitCode: -1}, err
	}
	if rec.ExperimentID == 0 {
		r.save(e.ID, research.SlurmJob{JobID: rec.JobID})
	}
	return r.reattach(ctx, e.ID, rec.JobID, job, &rec)
}

// ReattachJob follows the job jobID for job: pending or running, it is
// followed like a job Train submitted; finished, it is read once. A job of
// another user is refused with ErrNotOurs and never cancelled.
func (r *Runner) ReattachJob(ctx context.Context, jobID string, job research.TrainJob) (research.TrainResult, error) {
	return r.reattach(ctx, 0, jobID, job, nil)
}

func (r *Runner) reattach(ctx context.Context, expID int64, jobID string, job research.TrainJob, rec *research.SlurmJob) (research.TrainResult, error) {
	if strings.TrimSpace(jobID) == "" || strings.ContainsAny(jobID, " \t\n") {
		return research.TrainResult{ExitCode: -1}, fmt.Errorf("slurm: invalid job id %q", jobID)
	}
	spool := r.spool(job)
	f := &follower{r: r, id: jobID, expID: expID, job: job, spool: spool, out: outPath(spool, jobID), submitted: r.now(), reattached: true}
	if rec != nil {
		f.recorded = *rec
		if rec.OutPath != "" {
			f.out = rec.OutPath
		}
		if !rec.SubmittedAt.IsZero() {
			f.submitted = rec.SubmittedAt
		}
		f.owned = true // we submitted it: the store says so
	}
	info, known, err := f.scontrol(ctx)
	if err != nil && !isTransient(err) {
		return research.TrainResult{ExitCode: -1}, err
	}
	if known {
		if info.UserID >= 0 && info.UserID != os.Getuid() {
			return research.TrainResult{ExitCode: -1}, fmt.Errorf("%w: job %s is user %d's, the bot runs as %d", ErrNotOurs, jobID, info.UserID, os.Getuid())
		}
		if info.UserID >= 0 {
			f.owned = true
		}
		if info.OutPath != "" && rec == nil {
			f.out = strings.ReplaceAll(info.OutPath, "%j", jobID)
		}
		if !info.Submitted.IsZero() {
			f.submitted = info.Submitted
		}
	}
	r.logger().Info("re-attaching to a slurm job", "job", jobID, "known_to_controller", known, "output", f.out)
	return f.follow(ctx)
}

// sbatchArgs are the submission's arguments; the script comes last.
func (r *Runner) sbatchArgs(job research.TrainJob, spool, script string) []string {
	args := []string{"--parsable", "--job-name=" + r.name(), "--chdir=" + job.Dir,
		"--output=" + filepath.Join(spool, "job-%j.out"), "--export=ALL"}
	if job.Timeout > 0 {
		args = append(args, "--time="+formatLimit(job.Timeout+r.margin()))
	}
	if r.Partition != "" {
		args = append(args, "--partition="+r.Partition)
	}
	if r.Account != "" {
		args = append(args, "--account="+r.Account)
	}
	if r.GRES != "" {
		args = append(args, "--gres="+r.GRES)
	}
	args = append(args, r.ExtraArgs...)
	return append(args, script)
}

// parseJobID reads sbatch --parsable's "4242" or "4242;cluster", ignoring
// warning lines around it.
func parseJobID(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		id, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		if id != "" && strings.Trim(id, "0123456789_") == "" && id[0] != '_' {
			return id
		}
	}
	return ""
}

// run runs a SLURM command with its own time bound.
func (r *Runner) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.commandTimeout())
	defer cancel()
	if r.Exec != nil {
		return r.Exec(ctx, name, args...)
	}
	return defaultExec(ctx, name, args...)
}

func defaultExec(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = trainer.ScrubEnv(os.Environ())
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// save records what is known of a job; store errors are logged, not fatal:
// the job goes on whether or not the store heard of it.
func (r *Runner) save(expID int64, j research.SlurmJob) {
	if r.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Store.SaveSlurmJob(ctx, expID, j); err != nil {
		r.logger().Warn("recording the slurm job", "job", j.JobID, "err", err)
	}
}

func (r *Runner) spool(job research.TrainJob) string {
	if r.SpoolDir != "" {
		return r.SpoolDir
	}
	return filepath.Join(filepath.Dir(filepath.Clean(job.Dir)), ".slurm-jobs")
}

func (r *Runner) name() string {
	if r.Name == "" {
		return DefaultName
	}
	return r.Name
}

func (r *Runner) command() string {
	if r.Command == "" {
		return trainer.DefaultCommand
	}
	return r.Command
}

func (r *Runner) shell() string {
	if r.Shell == "" {
		return trainer.DefaultShell
	}
	return r.Shell
}

func (r *Runner) margin() time.Duration {
	if r.Margin <= 0 {
		return DefaultMargin
	}
	return r.Margin
}

func (r *Runner) poll() time.Duration {
	if r.Poll <= 0 {
		return DefaultPoll
	}
	return r.Poll
}

func (r *Runner) pendingLimit() time.Duration {
	if r.PendingLimit <= 0 {
		return DefaultPendingLimit
	}
	return r.PendingLimit
}

func (r *Runner) maxPollErrors() int {
	if r.MaxPollErrors <= 0 {
		return DefaultMaxPollErrors
	}
	return r.MaxPollErrors
}

func (r *Runner) commandTimeout() time.Duration {
	if r.CommandTimeout <= 0 {
		return DefaultCommandTimeout
	}
	return r.CommandTimeout
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default().With("component", "slurm")
	}
	return r.Logger
}

// Check asks the controller, without submitting anything, whether a job
// with the Runner's settings would be accepted (sbatch --test-only): a
// wrong partition, account or GRES is found at start, not at the first
// experiment. Errors are *SubmitError, as Train's.
func (r *Runner) Check(ctx context.Context, timeout time.Duration) error {
	args := []string{"--test-only", "--job-name=" + r.name(), "--output=/dev/null"}
	if timeout > 0 {
		args = append(args, "--time="+formatLimit(timeout+r.margin()))
	}
	if r.Partition != "" {
		args = append(args, "--partition="+r.Partition)
	}
	if r.Account != "" {
		args = append(args, "--account="+r.Account)
	}
	if r.GRES != "" {
		args = append(args, "--gres="+r.GRES)
	}
	args = append(args, r.ExtraArgs...)
	args = append(args, "--wrap=true")
	out, err := r.run(ctx, "sbatch", args...)
	if err != nil {
		return classifySubmit(out, err)
	}
	return nil
}
