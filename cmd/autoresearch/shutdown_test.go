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
	"github.com/autoresearch/autoresearch/research/proctree"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// exitWithin is what docker stop and systemd give a process after SIGTERM
// before they SIGKILL it.
const exitWithin = 10 * time.Second

// hostileTrainCmd is a train command that ignores SIGTERM and leaves a
// setsid child that ignores it too; marker finds both.
func hostileTrainCmd(t *testing.T) (cmd, marker string) {
	t.Helper()
	script, err := filepath.Abs("testdata/ignore_sigterm.py")
	if err != nil {
		t.Fatal(err)
	}
	// The interpreter itself: a pyenv shim (a bash script) would die of
	// SIGTERM before python installed its handler.
	real, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skip("python3 not available")
	}
	py := strings.TrimSpace(string(real))
	marker = fmt.Sprintf("sigterm-ignorer-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		for _, pid := range processesWith(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return py + " " + script + " " + marker, marker
}

// processesWith lists the live processes whose command line holds marker.
func processesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), marker) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitProcesses waits until the trainer's child runs: the trainer ignored
// SIGTERM before it forked it. (The harness and the shim have the marker
// in their command lines too.)
func waitProcesses(t *testing.T, marker string) {
	t.Helper()
	end := time.Now().Add(60 * time.Second)
	for time.Now().Before(end) {
		if len(processesWith(marker+"-child")) == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the hostile trainer never started its child: %v", processesWith(marker))
}

// sigtermAndWait sends SIGTERM and returns how long the process took to
// exit (a last guard ends a hung process and fails).
func sigtermAndWait(t *testing.T, cmd *exec.Cmd, out fmt.Stringer) time.Duration {
	t.Helper()
	exited := make(chan error, 1)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(began)
		t.Logf("exited %v after SIGTERM (%v)", took.Round(time.Millisecond), err)
		return took
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no exit within a minute of SIGTERM:\n%s", out)
		return 0
	}
}

// checkStopped: the experiment is recorded as crash "stopped" and no
// process of the trainer is left.
func checkStopped(t *testing.T, dir, tag string, took time.Duration, out fmt.Stringer) {
	t.Helper()
	if took >= exitWithin {
		t.Errorf("took %v to exit after SIGTERM, want under %v", took.Round(time.Millisecond), exitWithin)
	}
	db := openTestStore(t, dir)
	ctx := context.Background()
	run, err := db.RunByTag(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	exps, _ := db.Experiments(ctx, run.ID)
	if len(exps) != 1 || exps[0].Status != research.StatusCrash || exps[0].Reason != "stopped" {
		t.Errorf("experiments %+v; want #1 crash stopped\n%s", exps, out)
	}
}

func checkNoneLeft(t *testing.T, marker string) {
	t.Helper()
	if left := processesWith(marker); len(left) > 0 {
		t.Errorf("processes of the trainer outlived the harness: %v", left)
	}
}

// `run` with a trainer that ignores SIGTERM exits within 10 s of SIGTERM,
// the experiment stored as stopped, the trainer and its setsid child gone,
// whatever the isolation.
func TestRunSIGTERMWithTrainerIgnoringIt(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"auto", "reaper", "none"} {
		t.Run(iso, func(t *testing.T) { runSIGTERM(t, iso) })
	}
}

func runSIGTERM(t *testing.T, iso string) {
	dir := researchtest.New(t)
	train, marker := hostileTrainCmd(t)
	cmd, out := startCLI(t, "run", "--repo", dir, "--tag", "shut", "--proposer", "sweep", "--isolation", iso,
		"--train-cmd", train, "--baseline-repeats", "0", "--fix-attempts", "0")
	waitForRunning(t, filepath.Join(dir, ".autoresearch", "autoresearch.db"), 1, out)
	waitProcesses(t, marker)
	took := sigtermAndWait(t, cmd, out)
	checkNoneLeft(t, marker)
	checkStopped(t, dir, "shut", took, out)
	if !strings.Contains(out.String(), "trainer isolation: ") {
		t.Errorf("the run did not say how the trainer is isolated:\n%s", out)
	}
}

// `bot` likewise, and the stop reaches the channel before the exit.
func TestBotSIGTERMWithTrainerIgnoringIt(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	train, marker := hostileTrainCmd(t)
	f := newSlackServer(t)
	cmd, out := startBotCLI(t, f, f.env("UALICE"), "--repo", dir, "--proposer", "sweep", "--train-cmd", train,
		"--pipeline=false", "--baseline-repeats", "0", "--digest-at", "08:00", "--tz", "UTC")
	f.slash("s1", "UALICE", "start shut")
	exp1 := f.WaitPost("#1 running")
	waitProcesses(t, marker)
	took := sigtermAndWait(t, cmd, out)
	checkNoneLeft(t, marker)
	checkStopped(t, dir, "shut", took, out)
	f.WaitFor("experiment 1's stop", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp1.TS && strings.Contains(c.Text(), "stopped")
	})
}

// kill -9 of `run` leaves the trainer and its setsid child running; the
// next start finds them in the record of the experiment's processes and
// ends them before it trains again. Without namespaces only the record
// finds the child: the shim that held it is killed with the group.
func TestRestartAfterKill9EndsTheSetsidChild(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"auto", "reaper"} {
		t.Run(iso, func(t *testing.T) { restartAfterKill9(t, iso) })
	}
}

func restartAfterKill9(t *testing.T, iso string) {
	dir := researchtest.New(t)
	train, marker := hostileTrainCmd(t)
	args := []string{"run", "--repo", dir, "--tag", "k9", "--proposer", "sweep", "--isolation", iso,
		"--train-cmd", train, "--baseline-repeats", "0", "--fix-attempts", "0"}
	first, out := startCLI(t, args...)
	waitForRunning(t, filepath.Join(dir, ".autoresearch", "autoresearch.db"), 1, out)
	waitProcesses(t, marker)
	old := processesWith(marker + "-child")[0]
	oldChild, err := proctree.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	// The record lists the child once the trainer's next scan ran.
	recorded := false
	for end := time.Now().Add(3 * time.Minute); !recorded; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the trainer's child %d was never recorded\n%s", old, out)
		}
		recs, _ := filepath.Glob(filepath.Join(dir, ".autoresearch", "trainer-*.procs"))
		if len(recs) == 1 {
			data, _ := os.ReadFile(recs[0])
			recorded = strings.Contains(string(data), fmt.Sprintf("\n%d ", old))
		}
	}
	_ = first.Process.Kill()
	_ = first.Wait() // the harness is gone; what it left behind is checked at once
	if !proctree.Alive(oldChild) {
		t.Fatalf("the child died with the harness: this test proves nothing here\n%s", out)
	}

	second, out2 := startCLI(t, append(args, "--resume")...)
	end := time.Now().Add(30 * time.Second)
	for proctree.Alive(oldChild) && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
	if proctree.Alive(oldChild) {
		t.Fatalf("the setsid child %d of the killed run survived the restart\n%s", old, out2)
	}
	waitProcesses(t, marker) // the resumed run trains again
	sigtermAndWait(t, second, out2)
	checkNoneLeft(t, marker)
}
