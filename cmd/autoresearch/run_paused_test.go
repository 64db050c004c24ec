package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/bot/terminal"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestLoopWithoutInputEndsWhenPausedAndSaysHowToContinue: the demo's loop
// (no terminal input left) whose baseline crashes pauses, and as nobody
// can type resume it is stopped and returns the reason and the command
// that continues the run, instead of waiting for ever; the run resumes
// with that command.
func TestLoopWithoutInputEndsWhenPausedAndSaysHowToContinue(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.SetConst(t, dir, "CRASH", "1")
	researchtest.Git(t, dir, "commit", "-qam", "a train.py that crashes")
	var out, errOut bytes.Buffer
	streams := IO{In: strings.NewReader(""), Out: &out, Err: &errOut}
	fs := newFlagSet("run", streams)
	var f loopFlags
	f.register(fs)
	if err := parseFlags(fs, []string{"--repo", dir, "--proposer", "sweep", "--train-cmd", "python3 train.py",
		"--baseline-repeats", "0", "--fix-attempts", "0"}); err != nil {
		t.Fatal(err)
	}
	err := runLoop(&f, research.StartRequest{Tag: "nopause", By: "test"}, streams, loopOptions{endPausedWithoutInput: true})
	var paused *terminal.PausedError
	if !errors.As(err, &paused) {
		t.Fatalf("runLoop = %v, want a PausedError\n%s", err, out.String())
	}
	if paused.Reason == "" || !strings.Contains(paused.Resume, "--tag nopause --resume") || !strings.Contains(paused.Resume, dir) {
		t.Errorf("PausedError = %+v", paused)
	}
	if !strings.Contains(out.String(), "paused") {
		t.Errorf("the terminal did not show the pause:\n%s", out.String())
	}

	// The command it names continues the run (and the fixed train.py trains).
	researchtest.SetConst(t, dir, "CRASH", "0")
	researchtest.Git(t, dir, "commit", "-qam", "fixed")
	code, stdout, stderr := runMain(t, "run", "--repo", dir, "--tag", "nopause", "--resume", "--proposer", "sweep",
		"--train-cmd", "python3 train.py", "--baseline-repeats", "0", "--max-experiments", "2")
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
