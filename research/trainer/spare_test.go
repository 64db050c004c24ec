package trainer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// waitSpares waits until l keeps n spare shims (started in the background
// after a training), failing after a last-guard minute.
func waitSpares(t *testing.T, l *Local, n int) *spare {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for l.spares.count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d spare shims after a minute, want %d", l.spares.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n == 0 {
		return nil
	}
	l.spares.mu.Lock()
	defer l.spares.mu.Unlock()
	return l.spares.idle[0]
}

// The next training runs on a spare shim started after the previous one,
// with its own directory and environment (secrets scrubbed, as always); a
// spare that died while idle is replaced by a new start; Close ends spares.
func TestSpareShimRunsTheNextTraining(t *testing.T) {
	mode := Probe().Mode
	if mode == IsolationNone {
		t.Skip("no isolation on this host: no shim, no spares")
	}
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-spare-secret")
	l := &Local{Command: `echo "mark=$MARK dir=$(pwd) token=${SLACK_BOT_TOKEN:-none} init=$(tr -d '\000' < /proc/1/cmdline)"`, Isolation: mode, Logger: testLogger(t)}
	t.Cleanup(func() { l.Close() })
	train := func(dir, mark string) (research.TrainResult, int) {
		t.Helper()
		var pgid int
		res, err := l.Train(context.Background(), research.TrainJob{Dir: dir, Env: []string{"MARK=" + mark},
			LogPath: filepath.Join(t.TempDir(), "x.log"), OnStart: func(p int) { pgid = p }})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("train %s: %v %+v", mark, err, res)
		}
		return res, pgid
	}
	d1, d2 := t.TempDir(), t.TempDir()
	if res, _ := train(d1, "a"); !strings.Contains(string(res.Output), "mark=a dir="+d1+" token=none") {
		t.Fatalf("first training printed %q", res.Output)
	}

	sp := waitSpares(t, l, 1)
	res, pgid := train(d2, "b")
	if pgid != sp.cmd.Process.Pid {
		t.Errorf("the second training ran on %d, not on the spare %d", pgid, sp.cmd.Process.Pid)
	}
	if out := string(res.Output); !strings.Contains(out, "mark=b dir="+d2+" token=none") {
		t.Errorf("the spare ran the training with the wrong directory or environment: %q", out)
	}
	if mode == IsolationNamespaces && !strings.Contains(string(res.Output), "init="+shimArg0) {
		t.Errorf("the spare's command does not see the shim as the first process of its PID namespace: %q", res.Output)
	}

	// A spare that dies while idle is not used.
	dead := waitSpares(t, l, 1)
	if err := dead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-dead.exited
	if _, pgid := train(d1, "c"); pgid == dead.cmd.Process.Pid {
		t.Errorf("the training ran on the dead spare %d", pgid)
	}

	// Close ends the spare (EOF on its spec pipe) and waits for it.
	last := waitSpares(t, l, 1)
	l.Close()
	select {
	case <-last.exited:
	default:
		t.Errorf("the spare %d outlived Close", last.cmd.Process.Pid)
	}
	if err := syscall.Kill(last.cmd.Process.Pid, 0); err == nil {
		t.Errorf("the spare %d is still there after Close", last.cmd.Process.Pid)
	}
}

// A spare gives up when no spec comes within its idle time, and when its
// pipe closes: it runs nothing either way.
func TestSpareWithoutSpecGivesUp(t *testing.T) {
	for _, closeIt := range []bool{false, true} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		fd, err := syscall.Dup(int(r.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if closeIt {
			w.Close()
		} else {
			defer w.Close()
		}
		if spec, ok := awaitSpec(fd, 50*time.Millisecond); ok {
			t.Errorf("closed=%v: got a spec %+v from nothing", closeIt, spec)
		}
	}
	// And takes a whole one.
	r, w, _ := os.Pipe()
	fd, _ := syscall.Dup(int(r.Fd()))
	r.Close()
	go func() {
		w.WriteString(`{"argv":["sh","-c","true"],"env":["A=1"],"dir":"/"}`)
		w.Close()
	}()
	spec, ok := awaitSpec(fd, time.Minute)
	if !ok || strings.Join(spec.Argv, " ") != "sh -c true" || spec.Dir != "/" || spec.Env[0] != "A=1" {
		t.Errorf("awaitSpec = %+v %v", spec, ok)
	}
}
