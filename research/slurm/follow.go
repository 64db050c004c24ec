package slurm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// follower watches one job to its end.
type follower struct {
	r          *Runner
	id         string
	expID      int64
	job        research.TrainJob
	spool      string
	out        string // the job's output file
	submitted  time.Time
	owned      bool // ours to cancel: submitted by us, or the controller says it is our user's
	reattached bool
	recorded   research.SlurmJob // what the store knew, on re-attach

	info       jobInfo
	started    time.Time // when the controller says it started (else when we saw it run)
	seen       time.Time // when we saw it run, by our clock
	notified   int       // OnPending calls so far
	hopeless   string    // the pending reason already reported at once
	lastState  string
	lastReason string
}

// transientError is a poll that failed because the controller is busy or
// unreachable; the next poll tries again.
type transientError struct{ msg string }

func (e *transientError) Error() string { return e.msg }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

func (f *follower) follow(ctx context.Context) (research.TrainResult, error) {
	r := f.r
	log := newLogCopy(f.out, f.job)
	defer log.close()
	failures := 0
	var lastErr error
	for {
		info, known, err := f.squeue(ctx)
		if err == nil && !known {
			info, known, err = f.scontrol(ctx)
		}
		log.read()
		if ctx.Err() != nil {
			return f.stop(ctx, log)
		}
		if err != nil {
			failures++
			lastErr = err
			r.logger().Warn("polling the slurm job failed; trying again", "job", f.id, "failures", failures, "err", err)
			if failures >= r.maxPollErrors() {
				res := f.result(log, -1)
				return res, fmt.Errorf("%w: job %s: %d polls in a row failed, the last with: %v (the job may still be on the cluster: scancel %s)",
					ErrController, f.id, failures, lastErr, f.id)
			}
		} else {
			failures = 0
			if !known {
				return f.gone(ctx, log)
			}
			f.info.merge(info)
			switch {
			case isTerminal(info.State):
				return f.finish(ctx, log)
			case isPending(info.State):
				f.pending(info)
			default:
				if done, res, err := f.running(ctx, log); done {
					return res, err
				}
			}
			f.lastState = info.State
		}
		t := time.NewTimer(r.poll())
		select {
		case <-ctx.Done():
			t.Stop()
			log.read()
			return f.stop(ctx, log)
		case <-t.C:
		}
	}
}

// squeue asks for the job's state; known is false when the controller has
// no such job (any more).
func (f *follower) squeue(ctx context.Context) (jobInfo, bool, error) {
	out, err := f.r.run(context.WithoutCancel(ctx), "squeue", "-h", "-t", "all", "-j", f.id, "-o", "%T|%r|%N")
	if err != nil {
		return jobInfo{UserID: -1}, false, queryError("squeue", out, err)
	}
	info, ok := parseSqueue(out)
	return info, ok, nil
}

// scontrol asks for the job's details: node, GPU, times, exit code, owner.
func (f *follower) scontrol(ctx context.Context) (jobInfo, bool, error) {
	out, err := f.r.run(context.WithoutCancel(ctx), "scontrol", "show", "job", "-d", f.id)
	if err != nil {
		return jobInfo{UserID: -1}, false, queryError("scontrol", out, err)
	}
	info, ok := parseScontrol(out)
	return info, ok, nil
}

// sacct asks the accounting database, when the cluster has one.
func (f *follower) sacct(ctx context.Context) (jobInfo, bool) {
	if f.r.noAccounting.Load() {
		return jobInfo{UserID: -1}, false
	}
	out, err := f.r.run(context.WithoutCancel(ctx), "sacct", "-n", "-P", "-j", f.id, "-o", "State,ExitCode,Elapsed,MaxRSS,NodeList")
	if err != nil {
		if strings.Contains(strings.ToLower(string(out)), "accounting storage is disabled") {
			f.r.noAccounting.Store(true)
		}
		return jobInfo{UserID: -1}, false
	}
	return parseSacct(out)
}

// queryError tells an unknown job (nil: known is false) from a controller
// that did not answer (transient) and anything else.
func queryError(cmd string, out []byte, err error) error {
	lower := strings.ToLower(string(out))
	switch {
	case strings.Contains(lower, "invalid job id"):
		return nil
	case isControllerTrouble(lower):
		return &transientError{msg: cmd + ": " + errorLine(out)}
	}
	msg := errorLine(out)
	if msg == "" {
		msg = err.Error()
	}
	return &transientError{msg: cmd + ": " + msg}
}

// pending reports a job that keeps waiting; never a silent wait.
func (f *follower) pending(info jobInfo) {
	r := f.r
	waited := r.now().Sub(f.submitted)
	if waited < 0 {
		waited = 0
	}
	if info.State != f.lastState || info.Reason != f.lastReason {
		f.lastReason = info.Reason
		r.save(f.expID, research.SlurmJob{JobID: f.id, State: info.State, Reason: info.Reason})
	}
	if hopelessReason(info.Reason) && f.hopeless != info.Reason {
		f.hopeless = info.Reason
		f.notify(info.Reason, waited)
		return
	}
	if waited >= time.Duration(f.notified+1)*r.pendingLimit() {
		f.notify(info.Reason, waited)
	}
}

func (f *follower) notify(reason string, waited time.Duration) {
	f.notified = int(waited / f.r.pendingLimit())
	if f.notified < 1 {
		f.notified = 1
	}
	f.r.logger().Warn("slurm job still pending", "job", f.id, "reason", reason, "waited", waited.Round(time.Second))
	if f.r.OnPending != nil {
		f.r.OnPending(f.id, reason, waited)
	}
}

// running records the start once and enforces the time limit should SLURM
// not (done: the job was cancelled for running too long).
func (f *follower) running(ctx context.Context, log *logCopy) (done bool, res research.TrainResult, err error) {
	r := f.r
	if f.seen.IsZero() {
		f.seen = r.now()
		f.started = f.seen
		submitted := f.submitted
		if d, known, err := f.scontrol(ctx); err == nil && known {
			f.info.merge(d)
			if !d.Started.IsZero() && !d.Submitted.IsZero() {
				// Both by the controller's clock.
				f.started, submitted = d.Started, d.Submitted
			}
		}
		pending := f.started.Sub(submitted)
		if pending < 0 {
			pending = 0
		}
		r.logger().Info("slurm job running", "job", f.id, "node", f.info.Node, "gpu", f.info.GPUType, "pending", pending.Round(time.Second))
		r.save(f.expID, research.SlurmJob{JobID: f.id, State: "RUNNING", Node: f.info.Node, GPUType: f.info.GPUType,
			Pending: pending, StartedAt: f.started})
	}
	if f.job.Timeout <= 0 {
		return false, res, nil
	}
	// SLURM ends the job at --time; this is the backstop for a controller
	// that does not (OverTimeLimit=UNLIMITED, a clock that drifts).
	limit := f.job.Timeout + r.margin() + 2*r.poll() + time.Minute
	if r.now().Sub(f.seen) < limit {
		return false, res, nil
	}
	r.logger().Error("slurm job ran past its time limit; cancelling it", "job", f.id, "limit", limit)
	f.cancel()
	log.read()
	res = f.result(log, -1)
	res.TimedOut = true
	jerr := &JobError{JobID: f.id, State: "TIMEOUT", Reason: fmt.Sprintf("still running %s after it started; cancelled", limit.Round(time.Second)), Node: f.info.Node}
	f.record("TIMEOUT", jerr.Reason, res)
	return true, res, jerr
}

// stop cancels the job (the run was stopped) and returns at once: the
// loop must exit within seconds, and scancel is enough for SLURM to end it.
func (f *follower) stop(ctx context.Context, log *logCopy) (research.TrainResult, error) {
	if f.r.Detach != nil && f.r.Detach(context.Cause(ctx)) {
		res := f.result(log, -1)
		res.Stopped = true
		f.r.logger().Info("leaving the slurm job running for a later re-attach", "job", f.id)
		return res, fmt.Errorf("%w: job %s", ErrDetached, f.id)
	}
	f.cancel()
	res := f.result(log, -1)
	res.Stopped = true
	f.record("CANCELLED", "stopped by autoresearch", res)
	return res, nil
}

// cancel runs scancel on this job, and only when it is ours.
func (f *follower) cancel() {
	if !f.owned {
		f.r.logger().Warn("not cancelling a slurm job that is not known to be ours", "job", f.id)
		return
	}
	out, err := f.r.run(context.Background(), "scancel", f.id)
	if err != nil {
		f.r.logger().Error("scancel failed", "job", f.id, "err", err, "output", strings.TrimSpace(string(out)))
		return
	}
	f.r.logger().Info("slurm job cancelled", "job", f.id)
}

// finish reads the end of a job the controller reports as ended.
func (f *follower) finish(ctx context.Context, log *logCopy) (research.TrainResult, error) {
	if d, known, err := f.scontrol(ctx); err == nil && known {
		f.info.merge(d)
	}
	if a, ok := f.sacct(ctx); ok {
		f.info.merge(a)
	}
	return f.conclude(log)
}

// gone handles a job the controller no longer knows: accounting, else the
// exit file the batch script left, else what the store recorded.
func (f *follower) gone(ctx context.Context, log *logCopy) (research.TrainResult, error) {
	if a, ok := f.sacct(ctx); ok && isTerminal(a.State) {
		f.info.merge(a)
		return f.conclude(log)
	}
	if code, timedOut, ok := readExitFile(exitPath(f.spool, f.id)); ok {
		f.info.State = "COMPLETED"
		if code != 0 {
			f.info.State = "FAILED"
		}
		f.info.ExitCode = fmt.Sprintf("%d:0", code)
		if timedOut {
			f.info.Reason = "timeout"
		}
		return f.conclude(log)
	}
	if isTerminal(f.recorded.State) {
		f.info.State, f.info.ExitCode, f.info.Node = f.recorded.State, f.recorded.ExitCode, f.recorded.Node
		return f.conclude(log)
	}
	log.read()
	res := f.result(log, -1)
	jerr := &JobError{JobID: f.id, State: stateLost, Reason: "the controller no longer knows it and it left no exit status", Node: f.info.Node}
	f.record(stateLost, jerr.Reason, res)
	return res, jerr
}

// conclude maps the final state to a result.
func (f *follower) conclude(log *logCopy) (research.TrainResult, error) {
	log.read()
	info := f.info
	exit, signal := exitStatus(info.ExitCode)
	// The exit file knows whether timeout(1) ended the command.
	fileCode, timedOut, haveFile := readExitFile(exitPath(f.spool, f.id))
	if haveFile && info.ExitCode == "" {
		exit = fileCode
	}
	res := f.result(log, exit)
	var err error
	switch {
	case info.State == "COMPLETED" && exit == 0:
		res.ExitCode = 0
	case (info.State == "FAILED" || info.State == "COMPLETED") && (timedOut || info.Reason == "timeout") && (exit == exitTimeout || exit == 137):
		// Our own budget, as the local trainer keeps it: the loop says
		// "timeout after 10m".
		res.TimedOut = true
	default:
		if res.ExitCode == 0 {
			res.ExitCode = 1
		}
		jerr := &JobError{JobID: f.id, State: info.State, ExitCode: info.ExitCode, Node: info.Node}
		switch {
		case info.State == "FAILED" && exit == exitWrongCommit:
			jerr.Reason = "the working copy moved to another commit before the job started"
		case info.State == "FAILED" && exit == exitNoDir:
			jerr.Reason = "the working copy is not on the node (is --slurm-workdir shared?)"
		case info.State == "FAILED" && exit != 0:
			jerr.Reason = fmt.Sprintf("exit code %d", exit)
		case signal != 0:
			jerr.Reason = fmt.Sprintf("signal %d", signal)
		case info.State == "CANCELLED":
			jerr.Reason = "cancelled outside autoresearch"
		case info.Reason != "" && info.Reason != "NonZeroExitCode":
			jerr.Reason = info.Reason
		}
		if info.State == "TIMEOUT" {
			res.TimedOut = true
			jerr.Reason = "SLURM's time limit"
		}
		err = jerr
	}
	reason := ""
	if err != nil {
		reason = err.(*JobError).Reason
	}
	f.record(info.State, reason, res)
	f.r.logger().Info("slurm job ended", "job", f.id, "state", info.State, "exit", info.ExitCode, "node", info.Node,
		"duration", res.Duration.Round(time.Second))
	return res, err
}

// result gathers the output and the running time.
func (f *follower) result(log *logCopy, exit int) research.TrainResult {
	log.finish()
	res := research.TrainResult{Output: log.output(), ExitCode: exit, Summary: log.summary.Scanned()}
	switch {
	case f.info.Elapsed > 0:
		res.Duration = f.info.Elapsed
	case !f.info.Started.IsZero() && !f.info.Ended.IsZero():
		res.Duration = f.info.Ended.Sub(f.info.Started)
	case !f.seen.IsZero():
		res.Duration = f.r.now().Sub(f.seen)
	}
	if res.Duration < 0 {
		res.Duration = 0
	}
	return res
}

// record saves the job's end.
func (f *follower) record(state, reason string, res research.TrainResult) {
	j := research.SlurmJob{JobID: f.id, State: state, Reason: reason, ExitCode: f.info.ExitCode, Node: f.info.Node,
		GPUType: f.info.GPUType, Elapsed: res.Duration, MaxRSSMB: f.info.MaxRSSMB, FinishedAt: f.r.now()}
	if !f.info.Started.IsZero() {
		j.StartedAt = f.info.Started
		submitted := f.submitted
		if !f.info.Submitted.IsZero() {
			submitted = f.info.Submitted
		}
		if p := f.info.Started.Sub(submitted); p > 0 {
			j.Pending = p
		}
	}
	if !f.info.Ended.IsZero() {
		j.FinishedAt = f.info.Ended
	}
	f.r.save(f.expID, j)
}

// hopelessReason tells pending reasons that do not clear by waiting: the
// request does not fit the partition, the account or the nodes.
func hopelessReason(reason string) bool {
	switch reason {
	case "PartitionTimeLimit", "PartitionNodeLimit", "PartitionConfig", "PartitionDown", "PartitionInactive",
		"BadConstraints", "InvalidAccount", "InvalidQOS", "ReqNodeNotAvail", "JobHeldAdmin", "JobHeldUser",
		"AssocMaxWallDurationPerJobLimit", "QOSMaxWallDurationPerJobLimit", "NodeDown", "DependencyNeverSatisfied":
		return true
	}
	return strings.HasPrefix(reason, "ReqNodeNotAvail")
}

// DescribeReason says in words what a pending reason means, for the channel.
func DescribeReason(reason string) string {
	switch {
	case reason == "" || reason == "None":
		return "no reason given yet"
	case reason == "Resources":
		return "waiting for resources (GPUs, memory or nodes) to free up"
	case reason == "Priority":
		return "other jobs have higher priority"
	case reason == "BeginTime":
		return "its start time has not come yet"
	case reason == "Dependency":
		return "waiting for a job it depends on"
	case reason == "DependencyNeverSatisfied":
		return "a job it depends on failed; it will never start"
	case strings.HasPrefix(reason, "ReqNodeNotAvail"):
		return "the nodes it needs are unavailable (down, drained or reserved)"
	case reason == "PartitionTimeLimit":
		return "its time limit is over the partition's: lower --timeout or pick another partition"
	case reason == "PartitionNodeLimit", reason == "PartitionConfig", reason == "BadConstraints":
		return "the request does not fit the partition: check --slurm-gres and --slurm-args"
	case reason == "PartitionDown", reason == "PartitionInactive", reason == "NodeDown":
		return "the partition or its nodes are down"
	case reason == "InvalidAccount", reason == "InvalidQOS":
		return "the account or QOS is not valid: check --slurm-account and --slurm-args"
	case reason == "JobHeldAdmin":
		return "an administrator holds it"
	case reason == "JobHeldUser":
		return "it is held (scontrol release to let it run)"
	case strings.HasPrefix(reason, "QOS"), strings.HasPrefix(reason, "Assoc"):
		return "a limit of the account or QOS is reached (" + reason + ")"
	}
	return reason
}
