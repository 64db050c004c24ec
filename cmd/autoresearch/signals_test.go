package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// interruptDuringExperiment2 runs the CLI, sends SIGINT n times while the
// second experiment trains and returns the run's experiments afterwards.
func interruptDuringExperiment2(t *testing.T, n int) (string, []research.Experiment, string) {
	t.Helper()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "HANG_ON_RUN", "2")
	dbPath := filepath.Join(dir, ".autoresearch", "autoresearch.db")
	cmd, out := startCLI(t, "run", "--repo", dir, "--tag", "sig", "--proposer", "sweep",
		"--train-cmd", "python3 train.py", "--baseline-repeats", "0", "--fix-attempts", "0")
	waitForRunning(t, dbPath, 2, out)
	pgid := waitForTrainer(t, dir)
	waitForFile(t, filepath.Join(dir, "HANGING")) // python reached the hang in train.py
	notices := []string{"stopping after the running experiment", "stopping now"}
	for i := 0; i < n; i++ {
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		// The next Ctrl-C counts only once this one was heard.
		waitForOutput(t, out, notices[min(i, len(notices)-1)])
	}
	if n == 1 {
		// The first Ctrl-C waits for the experiment to end by itself: end
		// the hanging trainer from outside, as a crash the bot did not cause.
		if err := syscall.Kill(-pgid, 0); err != nil {
			t.Fatalf("the first Ctrl-C ended the trainer: %v\n%s", err, out)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, out)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the process did not exit:\n%s", out)
	}
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, _ := db.RunByTag(context.Background(), "sig")
	exps, _ := db.Experiments(context.Background(), run.ID)
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != run.BestCommit {
		t.Errorf("HEAD %s, best %s", head, run.BestCommit)
	}
	if run.State != research.RunStopped {
		t.Errorf("run state %s", run.State)
	}
	return dir, exps, out.String()
}

func TestFirstCtrlCStopsAfterTheRunningExperiment(t *testing.T) {
	t.Parallel()
	_, exps, out := interruptDuringExperiment2(t, 1)
	// Still training a second after Ctrl-C, and not recorded as stopped.
	if len(exps) != 2 || exps[1].Reason == "stopped" || exps[1].Status != research.StatusCrash {
		t.Fatalf("experiments: %d, #2 %s %q\n%s", len(exps), exps[len(exps)-1].Status, exps[len(exps)-1].Reason, out)
	}
	if !strings.Contains(out, "stopping after the running experiment") {
		t.Errorf("no notice:\n%s", out)
	}
}

func TestSecondCtrlCStopsAtOnce(t *testing.T) {
	t.Parallel()
	_, exps, out := interruptDuringExperiment2(t, 2)
	if len(exps) != 2 || exps[1].Status != research.StatusCrash || exps[1].Reason != "stopped" {
		t.Fatalf("experiments: %d, last %+v\n%s", len(exps), exps[len(exps)-1], out)
	}
	if !strings.Contains(out, "stopping now") {
		t.Errorf("no notice:\n%s", out)
	}
}

// waitForFile waits until path exists.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

// waitForOutput waits until the process has printed want.
func waitForOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never printed %q:\n%s", want, out)
}

// waitForTrainer waits until a trainer's process group is recorded and
// returns it.
func waitForTrainer(t *testing.T, dir string) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, ".autoresearch", "trainer-*.pgid"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if pg, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pg > 1 {
				return pg
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no trainer started")
	return 0
}
