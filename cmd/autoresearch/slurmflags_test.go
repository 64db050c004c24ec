package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/slurm"
)

func parseLoopFlags(args ...string) (*loopFlags, error) {
	var f loopFlags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(append([]string{"--proposer", "sweep"}, args...)); err != nil {
		return nil, err
	}
	return &f, f.validate()
}

func TestSlurmFlagsValidate(t *testing.T) {
	t.Parallel()
	f, err := parseLoopFlags()
	if err != nil || f.slurm.runner != "local" || f.slurm.slots != 1 || f.slurm.gres != "gpu:1" ||
		f.slurm.poll != 15*time.Second || f.slurm.pendingLimit != 10*time.Minute {
		t.Fatalf("defaults: %+v, %v", f.slurm, err)
	}
	f, err = parseLoopFlags("--runner", "slurm", "--slots", "3", "--slurm-partition", "gpu", "--slurm-account", "ml",
		"--slurm-gres", "gpu:h100:1", "--slurm-args", "--qos=high --mem=64G", "--slurm-pending-limit", "5m", "--slurm-poll", "30s")
	if err != nil {
		t.Fatal(err)
	}
	if f.slurm.slots != 3 || f.slurm.partition != "gpu" || f.slurm.pendingLimit != 5*time.Minute || f.slurm.poll != 30*time.Second {
		t.Errorf("parsed %+v", f.slurm)
	}
	for _, bad := range [][]string{
		{"--runner", "k8s"},
		{"--slots", "2"},
		{"--runner", "slurm", "--slots", "0"},
		{"--runner", "slurm", "--gpus", "0,1"},
		{"--runner", "slurm", "--slurm-args", "qos=high"},
		{"--runner", "slurm", "--slurm-poll", "10ms"},
		{"--runner", "slurm", "--slurm-pending-limit", "0s"},
	} {
		var u *usageError
		if _, err := parseLoopFlags(bad...); !errors.As(err, &u) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

// fakeSbatchOnPath puts an sbatch on PATH that prints stderr and exits
// with code (0: a --test-only answer).
func fakeSbatchOnPath(t *testing.T, stderr string, code int) {
	t.Helper()
	bin := t.TempDir()
	script := "#!/bin/sh\nprintf '%s' '" + stderr + "' >&2\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

type events struct {
	mu   sync.Mutex
	list []research.Event
}

func (e *events) Event(ev research.Event) { e.mu.Lock(); e.list = append(e.list, ev); e.mu.Unlock() }

func TestRunnerSlurmMakesSlotsOnTheSharedWorkdir(t *testing.T) {
	fakeSbatchOnPath(t, "sbatch: Job 4 to start at 2026-11-26T13:53:10 using 1 processors on nodes vm in partition gpu\n", 0)
	repo := researchtest.New(t)
	workdir := filepath.Join(t.TempDir(), "shared")
	f, err := parseLoopFlags("--repo", repo, "--runner", "slurm", "--slots", "2", "--slurm-partition", "gpu",
		"--slurm-workdir", workdir, "--train-cmd", "python3 train.py")
	if err != nil {
		t.Fatal(err)
	}
	parts, err := openLoop(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer parts.Close()
	m := parts.manager
	if len(m.Config.Slots) != 2 {
		t.Fatalf("slots = %+v", m.Config.Slots)
	}
	for i, spec := range m.Config.Slots {
		r, ok := spec.Trainer.(*slurm.Runner)
		name := []string{"slurm1", "slurm2"}[i]
		if !ok || spec.Name != name || spec.GPU != -1 || r.Partition != "gpu" || r.GRES != "gpu:1" ||
			r.Command != "python3 train.py" || r.SpoolDir != filepath.Join(workdir, "jobs") || r.Name != "autoresearch-"+name || r.Store == nil {
			t.Errorf("slot %d = %+v, runner %+v", i, spec, r)
		}
	}
	head, err := parts.repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	wt, err := m.Worktree("slurm1", head)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(workdir, "worktrees", "slurm1"); wt.Root() != want {
		t.Errorf("worktree at %s, want %s on the shared workdir", wt.Root(), want)
	}

	// A job that keeps pending is told in the channel.
	var ev events
	m.Observer = &ev
	m.Config.Slots[1].Trainer.(*slurm.Runner).OnPending("4242", "Resources", 12*time.Minute)
	if len(ev.list) != 1 || ev.list[0].Kind != research.EventNotice ||
		ev.list[0].Text != "slurm2: SLURM job 4242 has been pending for 12m0s: waiting for resources (GPUs, memory or nodes) to free up (Resources)" {
		t.Errorf("events = %+v", ev.list)
	}
}

func TestRunnerSlurmRefusesSettingsTheClusterRefuses(t *testing.T) {
	fakeSbatchOnPath(t, "sbatch: error: invalid partition specified: gpux\nsbatch: error: Batch job submission failed: Invalid partition name specified\n", 1)
	repo := researchtest.New(t)
	f, err := parseLoopFlags("--repo", repo, "--runner", "slurm", "--slurm-partition", "gpux")
	if err != nil {
		t.Fatal(err)
	}
	_, err = openLoop(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var in *research.InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "invalid partition specified: gpux") {
		t.Fatalf("openLoop = %v, want an InputError naming the partition", err)
	}
}

func TestRunnerSlurmNeedsSbatch(t *testing.T) {
	repo := researchtest.New(t)
	t.Setenv("PATH", t.TempDir())
	f, err := parseLoopFlags("--repo", repo, "--runner", "slurm")
	if err != nil {
		t.Fatal(err)
	}
	_, err = openLoop(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "needs sbatch") {
		t.Fatalf("openLoop without sbatch = %v", err)
	}
}
