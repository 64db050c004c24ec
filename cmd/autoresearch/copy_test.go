package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// waitCLI waits for a command started by startCLI, with a last guard.
// waitCLI waits for a started command line to end and returns its exit
// error. A run that pauses waits for a person forever: it fails at once,
// with the output, instead of at the last guard.
func waitCLI(t *testing.T, cmd *exec.Cmd, out fmt.Stringer, guard time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	last := time.After(guard)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if strings.Contains(out.String(), "paused:") {
				cmd.Process.Kill()
				<-done
				t.Fatalf("%v paused instead of ending:\n%s", cmd.Args[1:], out)
			}
		case <-last:
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v did not end within %s:\n%s", cmd.Args[1:], guard, out)
			return nil
		}
	}
}

func experimentsOf(t *testing.T, stateDir, tag string) (research.Run, []research.Experiment) {
	t.Helper()
	db, err := store.Open(filepath.Join(stateDir, "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.RunByTag(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := db.Experiments(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run, exps
}

func TestACopiedRepoResumesWhereItWas(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	args := func(repo string, n string) []string {
		return []string{"run", "--repo", repo, "--tag", "cp", "--proposer", "sweep", "--train-cmd", "python3 train.py",
			"--baseline-repeats", "0", "--max-experiments", n}
	}
	cmd, out := startCLI(t, args(dir, "3")...)
	if err := waitCLI(t, cmd, out, 3*time.Minute); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	origRun, origExps := experimentsOf(t, filepath.Join(dir, ".autoresearch"), "cp")
	origTSV := researchtest.Read(t, dir, "results.tsv")
	origTip := researchtest.Git(t, dir, "rev-parse", "autoresearch/cp")
	// The pipelined proposer's worktree exists and links to the original.
	if list := researchtest.Git(t, dir, "worktree", "list"); !strings.Contains(list, filepath.Join(dir, ".autoresearch", "worktrees")) {
		t.Fatalf("no worktree under the state dir to copy:\n%s", list)
	}

	copyDir := filepath.Join(t.TempDir(), "copied")
	if b, err := exec.Command("cp", "-a", dir, copyDir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v %s", err, b)
	}
	cmd, out = startCLI(t, append(args(copyDir, "6"), "--resume")...)
	if err := waitCLI(t, cmd, out, 3*time.Minute); err != nil {
		t.Fatalf("resuming the copy: %v\n%s", err, out)
	}
	if strings.Contains(out.String(), "paused") || strings.Contains(out.String(), "unknown revision") {
		t.Errorf("the copy paused:\n%s", out)
	}
	run, exps := experimentsOf(t, filepath.Join(copyDir, ".autoresearch"), "cp")
	if len(exps) != 6 || len(origExps) != 3 {
		t.Fatalf("the copy has %d experiments (want 6), the original %d (want 3):\n%s", len(exps), len(origExps), out)
	}
	for i, e := range exps {
		if e.Number != i+1 || e.Status == "running" {
			t.Errorf("experiment %d: number %d, %s", i, e.Number, e.Status)
		}
		if e.Status == "crash" && (e.Reason == "interrupted" || strings.Contains(e.Reason, "revision") || strings.Contains(e.Reason, "worktree")) {
			t.Errorf("experiment %d crashed in the copy: %s", e.Number, e.Reason) // the sweep's own NaN and OOM trials crash by design
		}
	}
	if tip := researchtest.Git(t, copyDir, "rev-parse", "autoresearch/cp"); tip != run.BestCommit {
		t.Errorf("the copy's branch at %s, best %s", tip, run.BestCommit)
	}
	if tsv := researchtest.Read(t, copyDir, "results.tsv"); strings.Count(tsv, "\n") != 7 {
		t.Errorf("the copy's results.tsv:\n%s", tsv)
	}
	// The copy is on its own: its worktrees are its own, the original is as it was.
	if list := researchtest.Git(t, copyDir, "worktree", "list"); strings.Contains(list, dir+"/") {
		t.Errorf("the copy's worktrees still name the original:\n%s", list)
	}
	researchtest.Git(t, copyDir, "fsck", "--no-dangling")
	if st := researchtest.Git(t, copyDir, "status", "--porcelain"); st != "?? notes.txt\n?? runs.count" && st != "?? notes.txt" {
		t.Errorf("the copy's git status = %q", st)
	}
	r2, e2 := experimentsOf(t, filepath.Join(dir, ".autoresearch"), "cp")
	if len(e2) != 3 || r2.BestCommit != origRun.BestCommit || researchtest.Read(t, dir, "results.tsv") != origTSV ||
		researchtest.Git(t, dir, "rev-parse", "autoresearch/cp") != origTip {
		t.Error("resuming the copy changed the original")
	}
}
