package research

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSleeper starts `sleep 60` in its own process group with env added.
func startSleeper(t *testing.T, env ...string) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	return cmd, done
}

// sleeper is a process startSleeper started, named for messages.
type sleeper struct {
	cmd  *exec.Cmd
	done chan error
	what string
}

// expectAlive fails for each of ps that has exited (was killed).
func expectAlive(t *testing.T, ps ...sleeper) {
	t.Helper()
	for _, p := range ps {
		select {
		case err := <-p.done:
			t.Errorf("%s (%d) was killed: %v", p.what, p.cmd.Process.Pid, err)
		default:
		}
	}
}

// startEcho starts, in its own process group and without the marker, a
// shell that echoes one line; answer sends it one and returns the reply
// ("" if the shell died first).
func startEcho(t *testing.T) (cmd *exec.Cmd, answer func(string) string) {
	t.Helper()
	cmd = exec.Command("sh", "-c", `read line; echo "$line"; exec sleep 60`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, func(line string) string {
		if _, err := io.WriteString(stdin, line+"\n"); err != nil {
			return ""
		}
		reply, _ := bufio.NewReader(stdout).ReadString('\n')
		return strings.TrimSuffix(reply, "\n")
	}
}

func TestRestartKillsATrainerWhoseGroupWasNeverRecorded(t *testing.T) {
	t.Parallel()
	m := &Manager{Config: Config{StateDir: t.TempDir()}}
	other := &Manager{Config: Config{StateDir: t.TempDir()}}
	// Killed between starting the trainer and writing trainer-SLOT.pgid:
	// only the marker in its environment tells it apart.
	orphan, orphanDone := startSleeper(t, m.trainerEnv(nil)...)
	foreign, foreignDone := startSleeper(t, other.trainerEnv(nil)...)
	unmarked, unmarkedDone := startSleeper(t)
	m.killOrphanTrainer()
	select {
	case <-orphanDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("the unrecorded trainer %d survived the restart", orphan.Process.Pid)
	}
	expectAlive(t, sleeper{foreign, foreignDone, "another state dir's trainer"}, sleeper{unmarked, unmarkedDone, "an unrelated process"})
}

// A recorded process group is killed only while one of its processes still
// carries the marker: after a reboot or a long downtime the number in
// trainer-SLOT.pgid may name an unrelated group, which must survive.
func TestRestartKillsARecordedGroupOnlyWhileItIsATrainers(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc: recorded groups cannot be checked here and are killed as recorded")
	}
	var logs bytes.Buffer // killOrphanTrainer logs from the calling goroutine only
	m := &Manager{Config: Config{StateDir: t.TempDir()}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	trainer, trainerDone := startSleeper(t, m.trainerEnv(nil)...)
	reused, answer := startEcho(t) // what holds the recorded number by now
	record := func(slot string, cmd *exec.Cmd) string {
		// Setpgid: the sleeper leads its own group, numbered as its pid.
		path := filepath.Join(m.Config.StateDir, "trainer-"+slot+".pgid")
		if err := os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	files := []string{record("gpu0", trainer), record("gpu1", reused)}

	m.killOrphanTrainer()

	select {
	case <-trainerDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("the recorded trainer %d survived the restart", trainer.Process.Pid)
	}
	// A process with a SIGKILL pending never runs again: an answer now
	// proves it was not killed.
	if got := answer("still here"); got != "still here" {
		t.Fatalf("the unrelated group recorded under a reused number (%d) did not answer after the restart: %q", reused.Process.Pid, got)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there (err %v): a later restart would look at it again", filepath.Base(f), err)
		}
	}
	// What the log says about each group (a rescan for unrecorded trainers
	// may also see the dying trainer: only the recorded kill is required).
	var killedLogged, leftLogged bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Level, Msg string
			Pgid       int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec.Pgid {
		case trainer.Process.Pid:
			killedLogged = killedLogged || rec.Level == "WARN" && strings.Contains(rec.Msg, "killed a trainer left over")
		case reused.Process.Pid:
			if rec.Level != "INFO" || !strings.Contains(rec.Msg, "no longer a trainer") {
				t.Errorf("the unrelated group is logged as %s %q, want an Info that it was left alone", rec.Level, rec.Msg)
			}
			leftLogged = true
		}
	}
	if !killedLogged || !leftLogged {
		t.Errorf("log lacks the kill of %d (%v) or the note about %d (%v):\n%s", trainer.Process.Pid, killedLogged, reused.Process.Pid, leftLogged, logs.String())
	}
}

// A proposer agent a killed harness left running (it would go on editing
// the proposal workspace) is killed by the next start of the same state
// dir; other state dirs' agents, trainers and unrelated processes are not.
func TestStartKillsAProposerAgentLeftFromBeforeTheRestart(t *testing.T) {
	t.Parallel()
	m := &Manager{Config: Config{StateDir: t.TempDir()}}
	other := &Manager{Config: Config{StateDir: t.TempDir()}}
	orphan, orphanDone := startSleeper(t, m.proposerMarker())
	foreign, foreignDone := startSleeper(t, other.proposerMarker())
	trainer, trainerDone := startSleeper(t, m.trainerMarker())
	unmarked, unmarkedDone := startSleeper(t)
	m.killOrphanProposers()
	select {
	case <-orphanDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("the orphaned agent %d survived the start", orphan.Process.Pid)
	}
	expectAlive(t, sleeper{foreign, foreignDone, "another state dir's agent"},
		sleeper{trainer, trainerDone, "a trainer (its own recovery ends it)"}, sleeper{unmarked, unmarkedDone, "an unrelated process"})
}
