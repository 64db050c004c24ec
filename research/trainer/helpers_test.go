package trainer

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	pythonOnce sync.Once
	pythonPath string
)

// python returns the real interpreter behind "python3" (pyenv shims start a
// bash script first, which would dominate the tests' run time), or skips.
func python(t testing.TB) string {
	t.Helper()
	pythonOnce.Do(func() {
		if _, err := exec.LookPath("python3"); err != nil {
			return
		}
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err == nil {
			pythonPath = strings.TrimSpace(string(out))
		}
	})
	if pythonPath == "" {
		t.Skip("python3 not available")
	}
	return pythonPath
}

// writeFile writes content into dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// testLogger sends the trainer's log lines to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// alive reports whether pid is a live process; zombies count as dead (in a
// container nobody may reap orphans). It deliberately does not use the
// package's own /proc code, so a bug there cannot hide here.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// readPid reads a pid file a test trainer wrote, or fails.
func readPid(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("trainer did not write %s before it was killed (machine overloaded?): %v", filepath.Base(path), err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("bad pid file %s: %q", path, b)
	}
	return pid
}

// killAtCleanup makes sure a process a test expected dead does not outlive
// the test when the expectation fails.
func killAtCleanup(t testing.TB, pid int) {
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// deadline runs f and fails the test if it has not returned after a
// generous bound; it guards against hangs, it does not measure speed.
func deadline(t testing.TB, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("Train did not return")
	}
}
