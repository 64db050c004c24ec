package statelock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets a test run this binary as a helper process that takes the
// lock and then waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("STATELOCK_HOLD"); dir != "" {
		l, err := Acquire(dir, Owner{Command: "autoresearch run --tag held", Tag: "held"})
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdInChild starts a process that holds dir's lock and returns once it
// said so.
func holdInChild(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STATELOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("the helper did not take the lock: %q %v", buf, err)
	}
	return cmd
}

func TestSecondAcquireIsRefusedAndNamesTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	child := holdInChild(t, dir)
	_, err := Acquire(dir, Owner{Command: "second"})
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire = %v, want a HeldError", err)
	}
	pid := strconv.Itoa(child.Process.Pid)
	for _, want := range []string{"pid " + pid, "autoresearch run --tag held", "run held", "since ", "kill " + pid} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	if o, ok, err := Holder(dir); err != nil || !ok || o.PID != child.Process.Pid || o.Tag != "held" {
		t.Errorf("Holder = %+v %v %v", o, ok, err)
	}
	if err := Probe(dir); !errors.As(err, &he) {
		t.Errorf("Probe = %v, want HeldError", err)
	}
}

func TestLockOfAKilledProcessNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	child := holdInChild(t, dir)
	child.Process.Kill()
	child.Wait()
	if _, err := os.Stat(filepath.Join(dir, OwnerFile)); err != nil {
		t.Fatalf("a killed holder should leave its owner.json: %v", err)
	}
	if _, ok, err := Holder(dir); ok || err != nil {
		t.Errorf("Holder after kill -9 = %v %v, want nobody", ok, err)
	}
	l, err := Acquire(dir, Owner{Command: "restart", Tag: "t"})
	if err != nil {
		t.Fatalf("Acquire after kill -9: %v", err)
	}
	if o := l.Owner(); o.PID != os.Getpid() || o.Hostname == "" || o.Since.IsZero() {
		t.Errorf("owner not filled in: %+v", o)
	}
	if err := l.SetTag("t2"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, OwnerFile))
	if !strings.Contains(string(data), `"tag": "t2"`) {
		t.Errorf("owner.json = %s", data)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, OwnerFile)); !os.IsNotExist(err) {
		t.Errorf("owner.json stays after Release: %v", err)
	}
	l2, err := Acquire(dir, Owner{Command: "again"})
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestProbeChangesNothingWhenNobodyHoldsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	if err := Probe(dir); err != nil {
		t.Fatalf("Probe of a missing dir: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Probe created %s", dir)
	}
}

// A lock whose holder names nobody is waited for: here a child inherited the
// ended owner's open lock file (as a child forked by another goroutine does
// until its exec), and leaves only after the short window a named owner gets.
func TestAcquireWaitsForAnUnnamedHolderToLeave(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir, Owner{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("cat")
	child.ExtraFiles = []*os.File{first.f}
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	first.Release()

	// The long window is stretched so that a loaded machine cannot make cat
	// outlive it; what is tested is that Acquire waits past the short one.
	saved := retryUnnamed
	retryUnnamed = time.Minute
	refused := 0
	onBusy = func() {
		if refused++; refused == int(retryNamed/retryEvery)+2 {
			stdin.Close() // cat ends, and the inherited lock with it
		}
	}
	t.Cleanup(func() { onBusy = nil; retryUnnamed = saved })
	l, err := Acquire(dir, Owner{Command: "second"})
	if err != nil {
		t.Fatalf("Acquire while an unnamed holder leaves: %v", err)
	}
	l.Release()
	if refused < int(retryNamed/retryEvery)+2 {
		t.Fatalf("Acquire was refused %d times: the inherited lock did not hold it", refused)
	}
}

// A named live owner is reported after the short window: five waits at most.
func TestNamedOwnerIsReportedAfterTheShortWindow(t *testing.T) {
	dir := t.TempDir()
	holdInChild(t, dir)
	tries := 0
	onBusy = func() { tries++ }
	t.Cleanup(func() { onBusy = nil })
	if _, err := Acquire(dir, Owner{Command: "second"}); !errors.Is(err, ErrHeld) {
		t.Fatalf("Acquire = %v, want ErrHeld", err)
	}
	if max := int(retryNamed/retryEvery) + 1; tries > max {
		t.Errorf("%d tries before reporting a named owner, want at most %d", tries, max)
	}
}
