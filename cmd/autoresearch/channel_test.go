package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestAQuietChannelPostsOneMessagePerExperiment measures what a 20-experiment
// run puts at the top of the channel by default: one message per experiment
// that tried something, the run header and the run's end. Baseline repeats
// live in the baseline's thread; new bests are broadcast from their own.
func TestAQuietChannelPostsOneMessagePerExperiment(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	f := newSlackServer(t)
	noHold := filepath.Join(t.TempDir(), "never-created")
	p := startBotInProcess(t, f, f.env("UALICE"), botArgs(dir, noHold, "--max-experiments", "20", "--baseline-repeats", "2")...)

	f.slash("s1", "UALICE", "start q20")
	// Twenty trainings take minutes on a loaded machine: wait for the end,
	// failing at once if the run pauses instead.
	deadline := time.Now().Add(10 * time.Minute)
	for done := false; !done; {
		for _, c := range f.Calls() {
			switch {
			case c.Method != "chat.postMessage":
			case strings.Contains(c.Text(), "Run q20 stopped"):
				done = true
			case strings.Contains(c.Text(), "Paused"):
				t.Fatalf("the run paused: %s\n%s", c.Text(), p.stderr)
			}
		}
		if !done && time.Now().After(deadline) {
			t.Fatalf("the run did not end within 10 minutes\n%s", p.stderr)
		}
		if !done {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := p.stop(); err != nil { // delivers what is still queued
		t.Fatalf("bot: %v\n%s", err, p.stderr)
	}

	db := openTestStore(t, dir)
	run, err := db.RunByTag(context.Background(), "q20")
	if err != nil {
		t.Fatal(err)
	}
	exps, _ := db.Experiments(context.Background(), run.ID)
	threaded := 0
	for _, e := range exps {
		if r := research.RoleOf(e); r == research.RoleBaselineRepeat || r == research.RoleConfirmation {
			threaded++
		}
	}
	var top, broadcasts, replies int
	var topTexts []string
	for _, c := range f.Calls() {
		if c.Method != "chat.postMessage" || c.Form.Get("channel") != botTestChannel {
			continue
		}
		switch {
		case c.Form.Get("thread_ts") == "":
			top++
			topTexts = append(topTexts, c.Text())
		case c.Form.Get("reply_broadcast") == "true":
			broadcasts++
		default:
			replies++
		}
	}
	t.Logf("%d experiments (%d threaded repeats/confirmations): %d top-level messages (%.2f per experiment), %d broadcast new bests, %d thread replies",
		len(exps), threaded, top, float64(top)/float64(len(exps)), broadcasts, replies)
	if len(exps) != 20 || threaded != 2 {
		t.Fatalf("%d experiments, %d threaded; want 20 and the 2 baseline repeats", len(exps), threaded)
	}
	// One per experiment that tried something, the run header, its end.
	if want := len(exps) - threaded + 2; top != want {
		t.Errorf("%d top-level messages, want %d:\n%s\nbot:\n%s", top, want, strings.Join(topTexts, "\n"), p.stderr)
	}
	if broadcasts == 0 {
		t.Error("no new best was broadcast")
	}
}
