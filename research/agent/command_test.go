package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCommandAgentEditsAndDescribes(t *testing.T) {
	dir := newRepo(t)
	got := filepath.Join(t.TempDir(), "stdin.txt")
	t.Setenv("AGENT_TEST_SECRET", "from-parent-env")
	c := &Command{CommandLine: `cat > '` + got + `'
sed 's/lr = 0.01/lr = 0.02/' train.py > train.tmp && mv train.tmp train.py
echo "thinking about it..."
echo "DESCRIPTION: double the LR ($AGENT_TEST_SECRET, $AUTORESEARCH_PROPOSER)"
echo "bye"
echo "log noise" >&2`}
	req := baseRequest(dir)
	req.Env = []string{"AUTORESEARCH_PROPOSER=token"} // the harness's marker reaches the agent
	p, err := c.Propose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "double the LR (from-parent-env, token)" {
		t.Errorf("description = %q", p.Description)
	}
	if p.Usage.PromptTokens != 0 || p.Usage.CompletionTokens != 0 {
		t.Errorf("usage = %+v, want zero", p.Usage)
	}
	if s := readFile(t, filepath.Join(dir, "train.py")); !strings.Contains(s, "lr = 0.02") {
		t.Errorf("train.py = %q", s)
	}
	stdin := readFile(t, got)
	for _, want := range []string{
		programMd,
		"lr = 0.01\nbatch = 32",
		"#2 discard 0.993100 (+0.0012) increase LR to 0.04",
		"idea 7 by U123",
		"edit the editable files\ndirectly in the current directory",
		"DESCRIPTION: <one line",
	} {
		if !strings.Contains(strings.ToLower(stdin), strings.ToLower(want)) {
			t.Errorf("agent stdin lacks %q", want)
		}
	}
}

func TestCommandAgentFails(t *testing.T) {
	c := &Command{CommandLine: `echo "partial work"; echo "Traceback: boom" >&2; exit 3`}
	_, err := c.Propose(context.Background(), baseRequest(newRepo(t)))
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CommandError", err)
	}
	if ce.ExitCode != 3 || ce.TimedOut {
		t.Errorf("error = %+v", ce)
	}
	if !strings.Contains(ce.Tail, "Traceback: boom") || !strings.Contains(err.Error(), "exited with code 3") {
		t.Errorf("error text = %q", err.Error())
	}
}

// TestCommandTimeoutKillsGroup starts an agent that leaves a background
// child; after the timeout both must be gone.
func TestCommandTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	c := &Command{
		CommandLine: `sleep 1000 & echo $! > '` + pidFile + `'; echo started; wait`,
		Timeout:     500 * time.Millisecond,
	}
	_, err := c.Propose(context.Background(), baseRequest(newRepo(t)))
	var ce *CommandError
	if !errors.As(err, &ce) || !ce.TimedOut {
		t.Fatalf("err = %v, want a timed-out *CommandError", err)
	}
	if !strings.Contains(ce.Tail, "started") {
		t.Errorf("tail = %q", ce.Tail)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
}

func TestCommandCancelKillsGroup(t *testing.T) {
	tmp := t.TempDir()
	pidFile := filepath.Join(tmp, "child.pid")
	c := &Command{CommandLine: `sleep 1000 & echo $! > '` + pidFile + `.tmp'; mv '` + pidFile + `.tmp' '` + pidFile + `'; wait`}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Propose(ctx, baseRequest(newRepo(t)))
		done <- err
	}()
	for { // wait for the agent to be up, then stop the run
		if _, err := os.Stat(pidFile); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	waitGone(t, pid)
}

// waitGone polls until pid has exited (gone, or a zombie nobody reaped).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("child %d survived the group kill", pid)
}

func TestCommandNoCommand(t *testing.T) {
	if _, err := (&Command{}).Propose(context.Background(), baseRequest(newRepo(t))); err == nil {
		t.Fatal("empty command line accepted")
	}
}

func TestParseDescription(t *testing.T) {
	long := strings.Repeat("é", 250)
	for out, want := range map[string]string{
		"DESCRIPTION: a\nDESCRIPTION: b\nmore\n": "b",
		"working\n  use SwiGLU  \n\n":            "use SwiGLU",
		"progress 10%\rprogress 100%\r":          "progress 100%",
		"DESCRIPTION:   \nfallback line\n":       "fallback line",
		"":                                       "agent change",
		" \n\t\n":                                "agent change",
		"DESCRIPTION: " + long:                   strings.Repeat("é", 200),
	} {
		if got := parseDescription(out); got != want {
			t.Errorf("parseDescription(%q) = %q, want %q", out, got, want)
		}
	}
}
