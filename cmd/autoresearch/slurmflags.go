package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/slurm"
)

// slurmFlags choose where experiments run: here (local) or as SLURM batch
// jobs, several at once.
type slurmFlags struct {
	runner       string
	slots        int
	partition    string
	account      string
	gres         string
	args         string
	workdir      string
	pendingLimit time.Duration
	poll         time.Duration
	margin       time.Duration
}

func (s *slurmFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.runner, "runner", "local", "where experiments train: local (this host) or slurm (sbatch jobs)")
	fs.IntVar(&s.slots, "slots", 1, "experiments in flight at once with --runner slurm (each in its own working copy)")
	fs.StringVar(&s.partition, "slurm-partition", "", "sbatch --partition (default: the cluster's default partition)")
	fs.StringVar(&s.account, "slurm-account", "", "sbatch --account")
	fs.StringVar(&s.gres, "slurm-gres", "gpu:1", "sbatch --gres per job, e.g. gpu:1 or gpu:h100:1 (\"\" = none)")
	fs.StringVar(&s.args, "slurm-args", "", "more sbatch options, space-separated, e.g. '--qos=high --mem=64G' (no quoting)")
	fs.StringVar(&s.workdir, "slurm-workdir", "", "a folder on a filesystem the compute nodes share: the slots' working copies and the jobs' output live there (default: the state dir)")
	fs.DurationVar(&s.pendingLimit, "slurm-pending-limit", slurm.DefaultPendingLimit, "tell the channel when a job pends longer than this (and again after each further period)")
	fs.DurationVar(&s.poll, "slurm-poll", slurm.DefaultPoll, "how often squeue is asked about each job")
	fs.DurationVar(&s.margin, "slurm-margin", slurm.DefaultMargin, "added to --timeout for the jobs' --time (startup, environment, data)")
}

func (s *slurmFlags) validate(gpus string) error {
	switch s.runner {
	case "local":
		if s.slots != 1 {
			return usagef("--slots is for --runner slurm; on this host, train on several GPUs with --gpus")
		}
		return nil
	case "slurm":
	default:
		return usagef("--runner must be local or slurm, not %q", s.runner)
	}
	if strings.TrimSpace(gpus) != "" {
		return usagef("--gpus picks GPUs of this host; with --runner slurm the cluster picks them (--slurm-gres)")
	}
	if s.slots < 1 {
		return usagef("--slots must be 1 or more")
	}
	if s.poll < time.Second {
		return usagef("--slurm-poll must be at least 1s (each poll asks slurmctld)")
	}
	if s.pendingLimit <= 0 {
		return usagef("--slurm-pending-limit must be positive, e.g. 10m")
	}
	if s.margin < 0 {
		return usagef("--slurm-margin must be 0 or more")
	}
	for _, a := range strings.Fields(s.args) {
		if !strings.HasPrefix(a, "-") {
			return usagef("--slurm-args %q: %q is not an sbatch option (they start with -, e.g. --qos=high)", s.args, a)
		}
	}
	return nil
}

// workDir is where the slots' working copies and the jobs' files go.
func (s *slurmFlags) workDir(stateDir string) (string, error) {
	dir := s.workdir
	if dir == "" {
		dir = stateDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", &research.InputError{Msg: fmt.Sprintf("--slurm-workdir %s: %v", abs, err)}
	}
	return abs, nil
}

// runners makes one Runner per slot (slurm1..N), each naming its jobs
// after its slot.
func (s *slurmFlags) runners(trainCmd, workdir string, jobs research.SlurmJobStore, logger *slog.Logger,
	onPending func(slot, jobID, reason string, waited time.Duration)) []*slurm.Runner {
	var out []*slurm.Runner
	for i := 1; i <= s.slots; i++ {
		name := fmt.Sprintf("slurm%d", i)
		r := &slurm.Runner{
			Partition: s.partition, Account: s.account, GRES: s.gres, ExtraArgs: strings.Fields(s.args),
			Command: trainCmd, Name: "autoresearch-" + name, Slot: name,
			SpoolDir: filepath.Join(workdir, "jobs"),
			Margin:   s.margin, Poll: s.poll, PendingLimit: s.pendingLimit,
			Store: jobs, Logger: logger.With("component", "slurm", "slot", name),
			// A bot shutting down leaves its jobs on the cluster; the next
			// start follows them again. A person's stop cancels them.
			Detach: func(cause error) bool { return errors.Is(cause, research.ErrShutdown) },
		}
		if onPending != nil {
			r.OnPending = func(jobID, reason string, waited time.Duration) { onPending(name, jobID, reason, waited) }
		}
		out = append(out, r)
	}
	return out
}

// pendingText is the channel's message about a job that keeps waiting.
func pendingText(slot, jobID, reason string, waited time.Duration) string {
	text := fmt.Sprintf("%s: SLURM job %s has been pending for %s: %s", slot, jobID, waited.Round(time.Second), slurm.DescribeReason(reason))
	if reason != "" && slurm.DescribeReason(reason) != reason {
		text += " (" + reason + ")"
	}
	return text
}

// wireSlurm turns --runner slurm --slots N into N slots that train as SLURM
// jobs, with their working copies under --slurm-workdir.
func (p *loopParts) wireSlurm(f *loopFlags, logger *slog.Logger) error {
	s := &f.slurm
	if s.runner != "slurm" {
		return nil
	}
	m := p.manager
	if _, err := exec.LookPath("sbatch"); err != nil {
		return &research.InputError{Msg: "--runner slurm needs sbatch, squeue, scontrol and scancel on PATH: run the bot on a login node of the cluster", Err: err}
	}
	workdir, err := s.workDir(m.Config.StateDir)
	if err != nil {
		return err
	}
	m.Worktree = worktrees(p.repo.Root(), workdir)
	notify := func(slot, jobID, reason string, waited time.Duration) {
		if o := m.Observer; o != nil {
			o.Event(research.Event{Kind: research.EventNotice, Text: pendingText(slot, jobID, reason, waited)})
		}
	}
	runners := s.runners(f.trainCmd, workdir, p.db, logger, notify)
	// A wrong partition, account or GRES is refused now, not at the first
	// experiment; an unreachable controller is only a warning.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runners[0].Check(ctx, m.Config.TrainTimeout); err != nil {
		if errors.Is(err, slurm.ErrConfig) {
			return &research.InputError{Msg: fmt.Sprintf("--runner slurm: the cluster refuses the job settings: %v (check --slurm-partition, --slurm-account, --slurm-gres, --slurm-args)", err), Err: err}
		}
		logger.Warn("could not check the SLURM settings; going on", "err", err)
	}
	specs := make([]research.SlotSpec, 0, len(runners))
	for _, r := range runners {
		specs = append(specs, research.SlotSpec{Name: r.Slot, Trainer: r, GPU: -1})
	}
	m.Config.Slots = specs
	return nil
}
