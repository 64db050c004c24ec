package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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

// startCLI runs this test binary as the autoresearch command line.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	return startCLIEnv(t, nil, args...)
}

// startCLIEnv is startCLI with extra environment for the process (and its
// trainers), so a test needs no t.Setenv and can run in parallel.
func startCLIEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1"), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// waitForRunning waits until experiment number (or a later one) trains.
// With out, it fails at once when the run says it paused, instead of
// waiting for the guard.
func waitForRunning(t *testing.T, dbPath string, number int, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if out != nil {
			if text := out.String(); strings.Contains(text, "paused:") {
				t.Fatalf("waiting for experiment %d, the run stopped early:\n%s", number, text)
			}
		}
		if _, err := os.Stat(dbPath); err == nil {
			db, err := store.Open(dbPath)
			if err == nil {
				run, err := db.LatestRun(context.Background())
				if err == nil {
					running, _ := db.RunningExperiments(context.Background(), run.ID)
					db.Close()
					if len(running) == 1 && running[0].Number >= number {
						return
					}
				} else {
					db.Close()
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("experiment %d never started training", number)
}

func TestKillDashNineWhileTrainingThenRestartRecovers(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	dbPath := filepath.Join(dir, ".autoresearch", "autoresearch.db")
	args := []string{"run", "--repo", dir, "--tag", "k9", "--proposer", "sweep", "--train-cmd", "python3 train.py", "--read-only", "prepare.py"}

	researchtest.Write(t, dir, "HANG_ON_RUN", "2") // the second training hangs
	cmd, out := startCLI(t, append(args, "--max-experiments", "0")...)
	waitForRunning(t, dbPath, 2, out)
	var pidFiles []string
	for deadline := time.Now().Add(3 * time.Minute); len(pidFiles) != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("trainer process group files: %v", pidFiles)
		}
		pidFiles, _ = filepath.Glob(filepath.Join(dir, ".autoresearch", "trainer-*.pgid"))
	}
	pgidText, err := os.ReadFile(pidFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	pgid, _ := strconv.Atoi(string(pgidText))
	waitForFile(t, filepath.Join(dir, "HANGING")) // train.py reached its hang
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("first run:\n%s", out)
	if !alive(pgid) {
		t.Fatalf("the orphaned trainer should still be alive before the restart")
	}
	os.Remove(filepath.Join(dir, "HANG_ON_RUN"))

	// The same command again (bounded this time) resumes the run.
	cmd, out = startCLI(t, append(args, "--max-experiments", "4")...)
	if err := waitCLI(t, cmd, out, 3*time.Minute); err != nil {
		t.Fatalf("second run failed: %v\n%s", err, out)
	}
	if alive(pgid) {
		t.Errorf("the orphaned trainer (pid %d) survived the restart", pgid)
	}
	if !strings.Contains(out.String(), "resumed") {
		t.Errorf("the restart did not say it resumed:\n%s", out)
	}

	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.RunByTag(context.Background(), "k9")
	if err != nil {
		t.Fatal(err)
	}
	exps, err := db.Experiments(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for i, e := range exps {
		if e.Number != i+1 {
			t.Errorf("experiment numbers are not 1..n: %d at %d", e.Number, i)
		}
		if e.Status == research.StatusRunning {
			t.Errorf("experiment %d is still running", e.Number)
		}
		if e.Reason == "interrupted" {
			interrupted++
		}
	}
	if interrupted != 1 || len(exps) != 4 {
		t.Fatalf("%d experiments, %d interrupted; want 4 and 1", len(exps), interrupted)
	}
	tsv := researchtest.Read(t, dir, "results.tsv")
	lines := strings.Split(strings.TrimSpace(tsv), "\n")
	if len(lines) != 1+len(exps) {
		t.Errorf("results.tsv has %d rows for %d experiments:\n%s", len(lines)-1, len(exps), tsv)
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		if seen[l] {
			t.Errorf("duplicate row %q", l)
		}
		seen[l] = true
	}
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != run.BestCommit {
		t.Errorf("HEAD %s, best %s", head, run.BestCommit)
	}
	if researchtest.Read(t, dir, "notes.txt") != "untracked notes\n" {
		t.Error("untracked notes were touched")
	}
	// HANGING and runs.count are the test trainer's own control files.
	if st := researchtest.Git(t, dir, "status", "--porcelain"); st != "?? HANGING\n?? notes.txt\n?? runs.count" {
		t.Errorf("git status = %q", st)
	}
}

func TestDemoRunsTheLoopAndPrintsResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real training")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	if os.Getenv("OPENAI_API_KEY") != "" {
		t.Setenv("OPENAI_API_KEY", "") // the demo would ask a real model
	} else {
		t.Parallel()
	}
	code, out, stderr := runMain(t, "demo", "--dir", dir, "--experiments", "3")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"baseline", "sweep: ", "results.tsv", "autoresearch/demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	tsv := researchtest.Read(t, dir, "results.tsv")
	if rows := strings.Count(tsv, "\n"); rows != 4 {
		t.Errorf("results.tsv has %d lines:\n%s", rows, tsv)
	}
	code, out, _ = runMain(t, "results", "--repo", dir, "--json")
	if code != exitOK || !strings.Contains(out, `"tag": "demo"`) || strings.Count(out, `"number"`) != 3 {
		t.Errorf("results --json: %d\n%s", code, out)
	}
	code, out, _ = runMain(t, "results", "--repo", dir, "--tsv")
	if code != exitOK || out != tsv {
		t.Errorf("results --tsv does not rebuild results.tsv:\n%s\nvs\n%s", out, tsv)
	}
	code, _, stderr = runMain(t, "demo", "--dir", dir)
	if code != exitUsage || !strings.Contains(stderr, "is not empty") {
		t.Errorf("demo into a full dir: %d %s", code, stderr)
	}
}

// alive tells whether pid runs (a zombie nobody reaped yet counts as dead).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func TestKillDashNineWithSeveralWorkersThenRestartRecovers(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	dbPath := filepath.Join(dir, ".autoresearch", "autoresearch.db")
	args := []string{"run", "--repo", dir, "--tag", "multi", "--proposer", "sweep", "--train-cmd", "python3 train.py",
		"--gpus", "0,1", "--baseline-repeats", "0"}
	researchtest.Write(t, dir, "HANG_ON_RUN", "2") // every training after the baseline hangs
	ctl := []string{"RESEARCHTEST_DIR=" + dir}     // also in the workers' worktrees
	cmd, out := startCLIEnv(t, ctl, append(args, "--max-experiments", "0")...)
	// Both workers are training hung experiments: two running rows and two
	// trainers' process groups (a finished baseline's file may linger a
	// moment, so the rows count too).
	var pgids []int
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		pgids = livePgids(dir)
		if len(pgids) == 2 && runningCount(dbPath) == 2 {
			break
		}
		if strings.Contains(out.String(), "paused:") {
			cmd.Process.Kill()
			t.Fatalf("the run paused before two workers trained:\n%s", out)
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("two workers never trained at once:\n%s", out)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	os.Remove(filepath.Join(dir, "HANG_ON_RUN"))

	cmd, out = startCLIEnv(t, ctl, append(args, "--max-experiments", "5")...)
	if err := waitCLI(t, cmd, out, 3*time.Minute); err != nil {
		t.Fatalf("restart failed: %v\n%s", err, out)
	}
	for _, p := range pgids {
		if alive(p) {
			t.Errorf("orphaned trainer %d survived the restart", p)
		}
	}
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, _ := db.RunByTag(context.Background(), "multi")
	exps, _ := db.Experiments(context.Background(), run.ID)
	interrupted := 0
	for i, e := range exps {
		if e.Number != i+1 || e.Status == research.StatusRunning {
			t.Errorf("experiment %d: number %d status %s", i, e.Number, e.Status)
		}
		if e.Reason == "interrupted" {
			interrupted++
		}
	}
	if len(exps) != 5 || interrupted != 2 {
		t.Fatalf("%d experiments, %d interrupted; want 5 and 2\n%s", len(exps), interrupted, out)
	}
	tsv := researchtest.Read(t, dir, "results.tsv")
	if rows := strings.Count(tsv, "\n") - 1; rows != len(exps) {
		t.Errorf("results.tsv has %d rows for %d experiments:\n%s", rows, len(exps), tsv)
	}
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/multi"); tip != run.BestCommit {
		t.Errorf("branch at %s, best %s", tip, run.BestCommit)
	}
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != run.BestCommit {
		t.Errorf("main worktree at %s, best %s", head, run.BestCommit)
	}
}

// livePgids are the recorded trainers' process groups that still run.
func livePgids(dir string) []int {
	var out []int
	files, _ := filepath.Glob(filepath.Join(dir, ".autoresearch", "trainer-*.pgid"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && alive(n) {
			out = append(out, n)
		}
	}
	return out
}

// runningCount is the number of experiments the latest run has in flight.
func runningCount(dbPath string) int {
	if _, err := os.Stat(dbPath); err != nil {
		return 0
	}
	db, err := store.Open(dbPath)
	if err != nil {
		return 0
	}
	defer db.Close()
	run, err := db.LatestRun(context.Background())
	if err != nil {
		return 0
	}
	running, _ := db.RunningExperiments(context.Background(), run.ID)
	return len(running)
}
