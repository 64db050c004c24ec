package slurm

import (
	"errors"
	"fmt"
	"strings"
)

// Errors the Runner returns; match them with errors.Is.
var (
	// ErrConfig: SLURM refused the submission for a reason that will not go
	// away by itself (no such partition, account or QOS, invalid GRES, a
	// time limit over the partition's). Fix the flags; every job would fail.
	ErrConfig = errors.New("slurm: the cluster refused the job's settings")
	// ErrController: slurmctld could not be reached (socket timeout,
	// connection refused). sbatch is not retried: the job may have been
	// accepted all the same, and a second submission would run it twice.
	ErrController = errors.New("slurm: the controller (slurmctld) did not answer")
	// ErrSubmit: sbatch failed for any other reason, or its output had no
	// job id.
	ErrSubmit = errors.New("slurm: sbatch failed")
	// ErrNoJob: Reattach found no job recorded for the experiment. It has
	// a method NoJob() bool, so that the loop can tell it without
	// importing this package.
	ErrNoJob error = &markedError{msg: "slurm: no job recorded for this experiment", noJob: true}
	// ErrNotOurs: the job id belongs to another user; it is neither followed
	// nor cancelled.
	ErrNotOurs = errors.New("slurm: the job belongs to another user")
	// ErrDetached: the run was stopped with a cause Runner.Detach accepts;
	// the job was left running on the cluster for a later Reattach.
	// It has a method Detached() bool, for the loop, as ErrNoJob.
	ErrDetached error = &markedError{msg: "slurm: job left running for a later re-attach", detached: true}
	// ErrLost: the controller no longer knows the job and nothing says how
	// it ended (no accounting, no exit file).
	ErrLost = errors.New("slurm: the job is gone and its end is unknown")
)

// SubmitError is a failed sbatch: Kind is ErrConfig, ErrController or
// ErrSubmit, Msg is sbatch's own error line.
type SubmitError struct {
	Kind error
	Msg  string
}

func (e *SubmitError) Error() string {
	return "sbatch: " + e.Msg
}

// Unwrap makes errors.Is(err, ErrConfig) and friends work.
func (e *SubmitError) Unwrap() error { return e.Kind }

// JobError is a job that ended in any state but COMPLETED (and was not
// cancelled by the Runner itself). Its Error() is the crash reason the
// research loop records, e.g. "slurm job 4242 OUT_OF_MEMORY on gpu-07".
type JobError struct {
	JobID    string
	State    string // FAILED, OUT_OF_MEMORY, NODE_FAIL, TIMEOUT, CANCELLED, PREEMPTED, ...
	Reason   string // scontrol's Reason, "exit code 3", "cancelled by uid 1001", ...
	ExitCode string // "exit:signal"
	Node     string
}

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "slurm job %s %s", e.JobID, e.State)
	if e.Node != "" {
		fmt.Fprintf(&b, " on %s", e.Node)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	return b.String()
}

// Is lets errors.Is(err, ErrLost) match a job that vanished.
func (e *JobError) Is(target error) bool {
	return target == ErrLost && e.State == stateLost
}

// stateLost is the JobError state of a job nothing more is known about.
const stateLost = "LOST"

// classifySubmit turns sbatch's output into a SubmitError.
func classifySubmit(out []byte, err error) *SubmitError {
	msg := errorLine(out)
	if msg == "" && err != nil {
		msg = err.Error()
	}
	lower := strings.ToLower(string(out))
	kind := ErrSubmit
	switch {
	case isControllerTrouble(lower):
		kind = ErrController
	case strings.Contains(lower, "invalid partition"),
		strings.Contains(lower, "invalid generic resource"),
		strings.Contains(lower, "invalid gres"),
		strings.Contains(lower, "invalid account"),
		strings.Contains(lower, "invalid qos"),
		strings.Contains(lower, "requested time limit is invalid"),
		strings.Contains(lower, "requested node configuration is not available"),
		strings.Contains(lower, "invalid feature specification"),
		strings.Contains(lower, "unrecognized option"),
		strings.Contains(lower, "invalid option"),
		strings.Contains(lower, "unknown option"):
		kind = ErrConfig
	}
	return &SubmitError{Kind: kind, Msg: msg}
}

// errorLine picks the most telling line of a SLURM command's output: the
// first "error:" line that says more than "Batch job submission failed"
// without detail, else the first non-empty line.
func errorLine(out []byte) string {
	var first, errLine string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if first == "" {
			first = line
		}
		if _, after, ok := strings.Cut(line, "error:"); ok && errLine == "" {
			errLine = strings.TrimSpace(after)
		}
	}
	if errLine != "" {
		return errLine
	}
	return first
}

// isControllerTrouble tells the messages of an unreachable or busy
// slurmctld, which are worth retrying (for queries) or reporting as such.
func isControllerTrouble(lower string) bool {
	for _, s := range []string{
		"socket timed out",
		"unable to contact slurm controller",
		"connection refused",
		"zero bytes were transmitted or received",
		"slurm backup controller in standby mode",
		"communication connection failure",
		"transport endpoint is not connected",
		"resource temporarily unavailable",
		"slurmctld not responding",
	} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// markedError is a sentinel the research loop recognises by method, with
// errors.As on an interface, since it cannot import this package.
type markedError struct {
	msg             string
	noJob, detached bool
}

func (e *markedError) Error() string { return e.msg }

// NoJob reports whether there was no job to re-attach to.
func (e *markedError) NoJob() bool { return e.noJob }

// Detached reports whether the job was left running on purpose.
func (e *markedError) Detached() bool { return e.detached }
