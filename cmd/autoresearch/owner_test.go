package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// repoState is everything a refused second process must leave as it was.
func repoState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(snapshot(t, dir))
	b.WriteString("\n" + researchtest.Git(t, dir, "rev-parse", "autoresearch/k9"))
	b.WriteString("\n" + researchtest.Read(t, dir, "results.tsv"))
	b.WriteString("\n" + researchtest.Read(t, dir, "train.py"))
	db, err := store.Open(filepath.Join(dir, ".autoresearch", "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.ListRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		exps, _ := db.Experiments(context.Background(), r.ID)
		b.WriteString("\nrun " + r.Tag + " " + string(r.State) + " " + r.BestCommit)
		for _, e := range exps {
			b.WriteString("\n  " + strconv.Itoa(e.Number) + " " + string(e.Status) + " " + e.Reason)
		}
	}
	return b.String()
}

func TestSecondProcessOnTheSameRepoIsRefusedNamingTheOwner(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	dbPath := filepath.Join(dir, ".autoresearch", "autoresearch.db")
	args := []string{"run", "--repo", dir, "--proposer", "sweep", "--train-cmd", "python3 train.py"}
	researchtest.Write(t, dir, "HANG_ON_RUN", "1") // the baseline trains until stopped
	first, out := startCLI(t, append(args, "--tag", "k9", "--max-experiments", "0")...)
	defer func() {
		// SIGTERM: the owner kills its trainer, records it and exits.
		first.Process.Signal(syscall.SIGTERM)
		first.Wait()
	}()
	waitForRunning(t, dbPath, 1, out)
	waitForTrainer(t, dir) // the trainer has started: it counted its run
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "runs.count")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the baseline's trainer never started:\n%s", out)
		}
	}
	before := repoState(t, dir)

	for _, second := range [][]string{
		append(args, "--tag", "k9", "--resume"),
		append(args, "--tag", "other"),
		append(args, "--tag", "k9"),
		{"bot", "--repo", dir, "--proposer", "sweep", "--http", "127.0.0.1:0"},
		{"demo", "--dir", dir},
	} {
		start := time.Now()
		cmd := exec.Command(os.Args[0], second...)
		cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1", "SLACK_BOT_TOKEN=xoxb-test",
			"SLACK_SIGNING_SECRET=secret", "SLACK_CHANNEL=C0RESEARCH", "SLACK_APP_TOKEN=", "SLACK_API_URL=http://127.0.0.1:9/")
		done := make(chan struct{})
		var msg []byte
		var err error
		go func() { msg, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second): // last guard only; it takes well under a second
			cmd.Process.Kill()
			t.Fatalf("%v did not exit", second)
		}
		t.Logf("%v: %s in %s", second[len(second)-2:], msg, time.Since(start).Round(time.Millisecond))
		if code := cmd.ProcessState.ExitCode(); code != exitUsage {
			t.Errorf("%v: exit %d (%v), want 2:\n%s", second, code, err, msg)
		}
		pid := strconv.Itoa(first.Process.Pid)
		for _, want := range []string{"another autoresearch process owns this repo", "pid " + pid,
			"--tag k9 --max-experiments 0", "run k9", "since ", "kill " + pid} {
			if !strings.Contains(string(msg), want) {
				t.Errorf("%v: the refusal lacks %q:\n%s", second, want, msg)
			}
		}
		if after := repoState(t, dir); after != before {
			t.Fatalf("%v changed the repo or the store:\nbefore:\n%s\nafter:\n%s", second, before, after)
		}
	}

	// Reads keep working while the lock is held.
	if code, res, stderr := runMain(t, "results", "--repo", dir); code != exitOK || !strings.Contains(res, "1") {
		t.Errorf("results while owned: %d %s %s", code, res, stderr)
	}
	var lines []string
	_, report, _ := runMain(t, "doctor", "--repo", dir, "--no-gpu") // other checks may fail here
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "ok    owner ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "pid "+strconv.Itoa(first.Process.Pid)) || !strings.Contains(lines[0], "run k9") {
		t.Errorf("doctor's owner line: %q", lines)
	}
	if first.ProcessState != nil {
		t.Fatalf("the owner died:\n%s", out)
	}
}
