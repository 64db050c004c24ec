package gpu

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The real /proc: a child of this test is ours, an orphaned grandchild
// (reparented away from us) is not, and both are named from comm.
func TestProcTableOnRealProcesses(t *testing.T) {
	p := procTable{root: "/proc", self: os.Getpid()}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if ours, visible := p.owner(child.Process.Pid); !ours || !visible {
		t.Errorf("our child: ours=%v visible=%v", ours, visible)
	}
	if got := p.describe(child.Process.Pid); got != "pid "+strconv.Itoa(child.Process.Pid)+" (sleep)" {
		t.Errorf("describe(child) = %q", got)
	}

	out, err := exec.Command("sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(orphan, syscall.SIGKILL) })
	if ours, visible := p.owner(orphan); ours || !visible {
		t.Errorf("orphaned grandchild: ours=%v visible=%v", ours, visible)
	}
	if ours, visible := p.owner(1 << 22); ours || visible {
		t.Errorf("a pid that does not exist: ours=%v visible=%v", ours, visible)
	}
}
