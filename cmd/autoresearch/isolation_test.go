package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// The whole command line with a train.py that reads /proc/PPID/environ and
// its ancestors': the bot's secrets reach neither the experiment's log nor
// its stored log tail.
func TestHostileTrainerFindsNoSecretOfRun(t *testing.T) {
	t.Parallel()
	// The same hostile script the trainer package tests with.
	script, err := filepath.Abs("../../research/trainer/testdata/read_parent_environ.py")
	if err != nil {
		t.Fatal(err)
	}
	real, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skip("python3 not available")
	}
	dir := researchtest.New(t)
	secret := fmt.Sprintf("xoxb-run-secret-%d", time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "run", "--repo", dir, "--tag", "hostile", "--proposer", "sweep",
		"--train-cmd", strings.TrimSpace(string(real))+" "+script, "--max-experiments", "1", "--baseline-repeats", "0")
	cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1", "SLACK_BOT_TOKEN="+secret, "HF_TOKEN="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, ".autoresearch", "logs", "hostile", "*.log"))
	if len(logs) != 1 {
		t.Fatalf("logs %v\n%s", logs, out)
	}
	log, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "hostile scan done") {
		t.Fatalf("the hostile script did not run its scan:\n%s", log)
	}
	if strings.Contains(string(log), secret) {
		t.Errorf("the secret reached the experiment's log")
	}
	db := openTestStore(t, dir)
	run, err := db.RunByTag(context.Background(), "hostile")
	if err != nil {
		t.Fatal(err)
	}
	exps, _ := db.Experiments(context.Background(), run.ID)
	for _, e := range exps {
		if strings.Contains(e.LogTail, secret) {
			t.Errorf("the secret reached #%d's stored log tail", e.Number)
		}
	}
	t.Logf("isolation line: %s", firstLine(string(out), "trainer isolation:"))
}

func firstLine(s, prefix string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
