package research

import (
	"os"
	"os/exec"
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
	for _, p := range []struct {
		cmd  *exec.Cmd
		done chan error
		what string
	}{{foreign, foreignDone, "another state dir's trainer"}, {unmarked, unmarkedDone, "an unrelated process"}} {
		select {
		case err := <-p.done:
			t.Errorf("%s (%d) was killed: %v", p.what, p.cmd.Process.Pid, err)
		default:
		}
	}
}
