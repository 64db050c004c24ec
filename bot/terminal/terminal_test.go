package terminal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

var t0 = time.Date(2026, 3, 20, 14, 2, 11, 0, time.UTC)

func newTerminal(c bot.Controller, out io.Writer) *Terminal {
	return &Terminal{Out: out, Controller: c, Now: func() time.Time { return t0 }}
}

func sampleController() *fakeController {
	base := baselineExp(exp(1, research.StatusKeep, 0.9978, 45056, 300, "baseline"))
	base.Diff = "(none)\n"
	second := exp(2, research.StatusDiscard, 1.0001, 45056, 301, "wider MLP")
	second.Diff = "-MLP = 4\n+MLP = 8\n"
	crash := exp(3, research.StatusCrash, 0, 0, 12, "flash attention")
	crash.Reason = "OOM"
	return &fakeController{
		status: research.Status{
			Run:    &research.Run{Tag: "mar20", Branch: "autoresearch/mar20"},
			Active: true, Phase: research.PhaseProposing, Proposing: 4,
			Best: &base, Baseline: &base, Counts: research.Counts{Keep: 1, Discard: 1, Crash: 1},
		},
		ideas:   []research.Idea{{ID: 5, Text: "try muon", Author: "terminal"}},
		program: "# program\nbe bold\n",
		exps:    []research.Experiment{base, second, crash},
		logs:    map[int]string{3: "start\nstep 1\rstep 2\nCUDA out of memory\n"},
		nextID:  10,
	}
}

func TestHandleCommands(t *testing.T) {
	cases := []struct {
		line  string
		calls string
		out   string
	}{
		{"start mar21 --from master", `Start mar21 from="master" by=alice`, "starting run mar21 on branch autoresearch/mar21\n"},
		{"stop", "Stop by=alice now=false", "stopping after the running experiment (\"stop now\" ends it at once)\n"},
		{"/autoresearch STOP now", "Stop by=alice now=true", "stopping now: the running experiment is ended and recorded as crash\n"},
		{"pause", "Pause by=alice", "pausing after the running experiment (\"resume\" continues)\n"},
		{"resume", "Resume by=alice", "resuming\n"},
		{"idea use a  cosine schedule", `AddIdea "use a  cosine schedule" by=alice source=terminal`,
			"pinned idea [11]: the next proposals will see it (\"unpin 11\" drops it)\n"},
		{"ideas", "Ideas", "[5] try muon  (by terminal)\n"},
		{"unpin 5", "Unpin 5 by=alice", "unpinned idea [5]\n"},
		{"unpin 9", "Unpin 9 by=alice", "error: there is no open idea [9] (see \"ideas\")\n"},
		{"program", "Program", "# program\nbe bold\n--- end of program.md; to add to it: program append TEXT\n"},
		{"program append Prefer small diffs.", `EditProgram append "Prefer small diffs." by=alice`,
			"queued program.md edit [11]: it is committed between experiments\n"},
		{"results", "Results 20", render.FormatResultsTable(sampleController().exps)},
		{"results 1", "Results 1", render.FormatResultsTable(sampleController().exps[2:])},
		{"results all", "Results 0", render.FormatResultsTable(sampleController().exps)},
		{"best", "Status\nExperiment 1", render.FormatExperiment(sampleController().exps[0])},
		{"show 2", "Experiment 2", render.FormatExperiment(sampleController().exps[1])},
		{"show 99", "Experiment 99", "error: there is no experiment #99 (see \"results\")\n"},
		{"log 3", "Experiment 3\nLog 3", "log of #3 (last 40 lines):\nstart\nstep 2\nCUDA out of memory\n"},
		{"log 2", "Experiment 2\nLog 2", "error: there is no experiment #2 (see \"results\")\n"},
		{"status", "Status", render.FormatStatus(sampleController().status)},
		{"help", "", command.HelpText()},
		{"", "", ""},
		{"   ", "", ""},
		{"stauts", "", "error: unknown command \"stauts\"; did you mean \"status\"?\nusage: type \"help\" for the list of commands\n"},
		{"start Bad/Tag", "", "error: tag \"Bad/Tag\" is invalid; " + research.TagRule + "\nusage: start TAG [--from REF]\n"},
		{"results abc", "", "error: \"abc\" is not a number; results takes how many experiments to list, or \"all\"\nusage: results [N|all]\n"},
		{"retry 2", "Retry 2 by=alice", "experiment #2 will be tried again\n"},
		{"digest", "Status\nResults 10", render.FormatStatus(sampleController().status) + "\nlast experiments:\n" + render.FormatResultsTable(sampleController().exps)},
	}
	for _, c := range cases {
		f := sampleController()
		var out bytes.Buffer
		newTerminal(f, &out).Handle(context.Background(), c.line, "alice")
		if got := joinCalls(f.Calls()); got != c.calls {
			t.Errorf("%q: calls\n got %q\nwant %q", c.line, got, c.calls)
		}
		if out.String() != c.out {
			t.Errorf("%q: output\n got %q\nwant %q", c.line, out.String(), c.out)
		}
	}
}

func TestHandleBestWithoutOne(t *testing.T) {
	f := sampleController()
	f.status.Best = nil
	var out bytes.Buffer
	newTerminal(f, &out).Handle(context.Background(), "best", "alice")
	if got, want := out.String(), "no successful experiment yet\n"; got != want {
		t.Errorf("best = %q, want %q", got, want)
	}
	if got := joinCalls(f.Calls()); got != "Status" {
		t.Errorf("calls = %q", got)
	}
}

func TestHandleControllerError(t *testing.T) {
	f := sampleController()
	f.err = errors.New("a run is already active: mar20 (stop it first)")
	var out bytes.Buffer
	newTerminal(f, &out).Handle(context.Background(), "start mar21", "alice")
	if got, want := out.String(), "error: a run is already active: mar20 (stop it first)\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestServeReadsUntilEOF(t *testing.T) {
	f := sampleController()
	var out bytes.Buffer
	term := newTerminal(f, &out)
	term.In = strings.NewReader("status\n\nidea more warmup\nbogus\r\nideas") // no final newline
	if err := term.Serve(context.Background(), "terminal"); err != nil {
		t.Fatalf("Serve = %v, want nil at EOF", err)
	}
	want := "Status\nAddIdea \"more warmup\" by=terminal source=terminal\nIdeas"
	if got := joinCalls(f.Calls()); got != want {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
	// EOF must not stop the run: no Stop call above, and the answers in order.
	for _, s := range []string{"run mar20 on autoresearch/mar20: proposing", "pinned idea [11]", `unknown command "bogus"`, "[5] try muon"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if i, j := strings.Index(out.String(), "pinned idea"), strings.Index(out.String(), "[5] try muon"); i > j {
		t.Errorf("answers out of order:\n%s", out.String())
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("tty gone") }

func TestServeReadError(t *testing.T) {
	term := newTerminal(sampleController(), io.Discard)
	term.In = failingReader{}
	if err := term.Serve(context.Background(), "terminal"); err == nil || err.Error() != "tty gone" {
		t.Errorf("Serve = %v, want the read error", err)
	}
}

func TestServeStopsOnContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	term := newTerminal(sampleController(), io.Discard)
	term.In = pr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- term.Serve(ctx, "terminal") }()
	// Serve is busy with input (or waiting for more) when ctx ends; it must
	// return without waiting for the pipe to close.
	if _, err := io.WriteString(pw, "status\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve = %v, want context.Canceled", err)
	}
}

func TestEventLines(t *testing.T) {
	run := research.Run{Tag: "mar20", Branch: "autoresearch/mar20", BaseCommit: "0123456789ab", Proposer: "llm", Model: "gpt-x", GPU: "H100"}
	resumed := run
	resumed.BestValBPB, resumed.BestCommit = 0.9931, "fedcba9876"
	running := exp(13, research.StatusRunning, 0, 0, 0, "increase LR to 0.04")
	running.DiffStat = " train.py | 2 +-\n 1 file changed\n"
	fix := running
	fix.Attempt = 1
	kept := exp(13, research.StatusKeep, 0.9901, 45056, 302, "increase LR to 0.04")
	discarded := exp(14, research.StatusDiscard, 0.9950, 45056, 300, "wider")
	crashed := exp(15, research.StatusCrash, 0, 0, 600, "deeper")
	crashed.Reason = "timeout after 10m0s"
	at := t0.Add(time.Hour)

	cases := []struct {
		e    research.Event
		want string
	}{
		{research.Event{Kind: research.EventRunStarted, Run: run, Text: "started"},
			"14:02:11 run mar20 started on branch autoresearch/mar20 from 0123456 (proposer llm gpt-x, gpu H100)\n"},
		{research.Event{Kind: research.EventRunStarted, Run: resumed, Text: "resumed", Time: at},
			"15:02:11 run mar20 resumed on branch autoresearch/mar20, best 0.993100 at fedcba9 (proposer llm gpt-x, gpu H100)\n"},
		{research.Event{Kind: research.EventProposing, Number: 13}, "14:02:11 proposing #13\n"},
		{research.Event{Kind: research.EventExperimentStarted, Experiment: &running,
			Ideas: []research.Idea{{ID: 5, Text: "higher\nLR"}}},
			"14:02:11 #13 training: increase LR to 0.04  (train.py | 2 +- 1 file changed)\n           using idea [5] higher LR\n"},
		{research.Event{Kind: research.EventExperimentStarted, Experiment: &fix},
			"14:02:11 #13 training (fix attempt 1): increase LR to 0.04  (train.py | 2 +- 1 file changed)\n"},
		{research.Event{Kind: research.EventExperimentFinished, Experiment: &kept, Best: &kept},
			"14:02:11 #13 keep    0.990100 (-0.003000)  44.0 GB  5m02s  increase LR to 0.04  new best\n"},
		{research.Event{Kind: research.EventExperimentFinished, Experiment: &discarded, Best: &kept},
			"14:02:11 #14 discard 0.995000 (+0.004900)  44.0 GB  5m00s  wider\n"},
		{research.Event{Kind: research.EventExperimentFinished, Experiment: &crashed, Best: &kept},
			"14:02:11 #15 crash   10m00s  deeper  (timeout after 10m0s)\n"},
		{research.Event{Kind: research.EventRefused, Number: 16, Text: "edits prepare.py, which is read-only"},
			"14:02:11 proposal #16 refused: edits prepare.py, which is read-only\n"},
		{research.Event{Kind: research.EventProgramEdited, ProgramEdit: &research.ProgramEdit{Kind: "append", Author: "U1", Commit: "abcdef123", Text: "Prefer\nsmall diffs."}},
			"14:02:11 program.md append by U1 committed as abcdef1: Prefer small diffs.\n"},
		{research.Event{Kind: research.EventProgramEdited, ProgramEdit: &research.ProgramEdit{Kind: "replace", Author: "U1", Error: "merge conflict"}},
			"14:02:11 program.md replace by U1 could not be applied: merge conflict\n"},
		{research.Event{Kind: research.EventPaused, Text: "GPU busy", Run: run},
			"14:02:11 paused: GPU busy\n         to go on: stop it (Ctrl-C or SIGTERM) and start again with `autoresearch run --repo DIR --tag mar20 --resume`\n"},
		{research.Event{Kind: research.EventResumed}, "14:02:11 resumed\n"},
		{research.Event{Kind: research.EventPaused, By: "terminal"}, "14:02:11 paused by terminal\n"},
		{research.Event{Kind: research.EventResumed, By: "U1"}, "14:02:11 resumed by U1\n"},
		{research.Event{Kind: research.EventNotice, Text: "3 crashes in a row\nskipping idea"},
			"14:02:11 3 crashes in a row\n         skipping idea\n"},
		{research.Event{Kind: research.EventRunStopped, Run: run, By: "terminal"},
			"14:02:11 run mar20 stopped by terminal\n"},
		{research.Event{Kind: "future_kind", Text: "hello"}, "14:02:11 future_kind: hello\n"},
	}
	// One terminal for all: the finished lines rely on the best it tracked
	// from the resumed run (0.9931) and then from #13.
	var out bytes.Buffer
	term := newTerminal(sampleController(), &out)
	for _, c := range cases {
		out.Reset()
		term.Event(c.e)
		if out.String() != c.want {
			t.Errorf("%s event\n got %q\nwant %q", c.e.Kind, out.String(), c.want)
		}
	}
}

func TestEventFinishedWithoutTrackedBest(t *testing.T) {
	// A terminal attached mid-run has seen no best: it uses the event's.
	best := exp(9, research.StatusKeep, 0.99, 45056, 300, "best")
	disc := exp(10, research.StatusDiscard, 0.995, 45056, 300, "x")
	var out bytes.Buffer
	newTerminal(nil, &out).Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &disc, Best: &best})
	if got, want := out.String(), "14:02:11 #10 discard 0.995000 (+0.005000)  44.0 GB  5m00s  x\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEventColor(t *testing.T) {
	kept := exp(2, research.StatusKeep, 0.99, 0, 0, "x")
	var out bytes.Buffer
	term := newTerminal(nil, &out)
	term.Color = true
	term.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &kept})
	if got, want := out.String(), "\x1b[2m14:02:11\x1b[0m #2 \x1b[32mkeep\x1b[0m    0.990000  x\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func progressEvent(n int, pct float64) research.Event {
	e := exp(n, research.StatusRunning, 0, 0, 0, "")
	return research.Event{Kind: research.EventProgress, Experiment: &e,
		Progress: &research.Progress{Percent: pct, Loss: 3.5, Remaining: time.Duration(100-pct) * time.Second}}
}

func TestProgressThrottledWithoutTTY(t *testing.T) {
	var out bytes.Buffer
	term := newTerminal(nil, &out)
	for pct := 0.0; pct <= 100; pct += 2.5 {
		term.Event(progressEvent(1, pct))
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 11 {
		t.Fatalf("got %d progress lines, want 11 (one per 10 %%):\n%s", len(lines), out.String())
	}
	if want := "14:02:11 #1 [##########..........] 50%  loss 3.500  50s left"; lines[5] != want {
		t.Errorf("line 5 = %q, want %q", lines[5], want)
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("non-terminal output contains \\r redraws: %q", out.String())
	}
}

func TestProgressRedrawnOnTTY(t *testing.T) {
	var out bytes.Buffer
	term := newTerminal(nil, &out)
	term.TTY = true
	term.Event(progressEvent(1, 41))
	term.Event(progressEvent(1, 42))
	term.Event(research.Event{Kind: research.EventNotice, Text: "hi"})
	term.Handle(context.Background(), "bogus", "t")
	fin := exp(1, research.StatusDiscard, 1, 0, 0, "")
	term.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &fin})
	term.Event(research.Event{Kind: research.EventNotice, Text: "after"})

	bar41 := "#1 [########............] 41%  loss 3.500  59s left"
	bar42 := "#1 [########............] 42%  loss 3.500  58s left"
	blank := "\r" + strings.Repeat(" ", len(bar42)) + "\r"
	want := "\r" + bar41 + "\r" + bar42 +
		blank + "14:02:11 hi\n" + bar42 + // cleared, line printed, bar back
		blank + "error: unknown command \"bogus\"\nusage: type \"help\" for the list of commands\n" + bar42 +
		blank + "14:02:11 #1 discard 1.000000\n" + // the bar ends with its experiment
		"14:02:11 after\n"
	if got := out.String(); got != want {
		t.Errorf("tty output\n got %q\nwant %q", got, want)
	}
}

func TestProgressShorterLineBlanksTail(t *testing.T) {
	var out bytes.Buffer
	term := newTerminal(nil, &out)
	term.TTY = true
	long := progressEvent(1, 10)
	long.Progress.Remaining = time.Hour
	short := progressEvent(1, 11)
	short.Progress.Remaining = 0
	term.Event(long)
	term.Event(short)
	l1 := render.FormatProgress(1, *long.Progress)
	l2 := render.FormatProgress(1, *short.Progress)
	if want := "\r" + l1 + "\r" + l2 + strings.Repeat(" ", len(l1)-len(l2)); out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers, so the race
// detector checks the Terminal's own locking rather than the buffer's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestTerminalConcurrentUse(t *testing.T) {
	var out syncBuffer
	term := newTerminal(sampleController(), &out)
	term.TTY = true
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 50 {
				term.Event(progressEvent(g+1, float64(i*2)))
				term.Event(research.Event{Kind: research.EventNotice, Text: fmt.Sprintf("n%d-%d", g, i)})
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				term.Handle(context.Background(), "ideas", "t")
			}
		}()
	}
	wg.Wait()
	s := out.b.String()
	if got := strings.Count(s, "[5] try muon  (by terminal)\n"); got != 80 {
		t.Errorf("%d ideas answers, want 80", got)
	}
	// Every notice line is whole: the mutex kept redraws from splitting it.
	for g := range 4 {
		for i := range 50 {
			if !strings.Contains(s, fmt.Sprintf("14:02:11 n%d-%d\n", g, i)) {
				t.Fatalf("notice n%d-%d missing or torn", g, i)
			}
		}
	}
}

func TestPauseSaysHowToGoOnFromWhereTheRunIsDriven(t *testing.T) {
	run := research.Run{Tag: "mar20", RepoDir: "/srv/research"}
	var out bytes.Buffer
	term := newTerminal(sampleController(), &out)
	term.In = strings.NewReader("")
	term.Event(research.Event{Kind: research.EventPaused, Run: run, Text: "the proposer has nothing left to try"})
	want := "14:02:11 paused: the proposer has nothing left to try\n" +
		"         to go on: type `resume`, or stop it and start again with `autoresearch run --repo /srv/research --tag mar20 --resume`\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestFinishedLineWarnsAboutDamagedUntrackedFiles(t *testing.T) {
	var out bytes.Buffer
	term := newTerminal(sampleController(), &out)
	e := exp(4, research.StatusDiscard, 1.0, 45056, 300, "tidies up")
	e.Notes = "train.py deleted .venv/ (3 paths)"
	term.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &e})
	if !strings.Contains(out.String(), "\n         warning: train.py deleted .venv/ (3 paths)\n") {
		t.Fatalf("got %q", out.String())
	}
}

// panicTerminalCtrl is a controller with a bug in Status.
type panicTerminalCtrl struct{ *fakeController }

func (panicTerminalCtrl) Status(context.Context) (research.Status, error) { panic("status bug") }

// The terminal answers a command that hit a bug and reads the next one.
func TestTerminalCommandPanicIsReported(t *testing.T) {
	var out bytes.Buffer
	term := &Terminal{In: strings.NewReader("status\nideas\n"), Out: &out, Controller: panicTerminalCtrl{&fakeController{}}}
	if err := term.Serve(context.Background(), "terminal"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), research.BugMessage) || !strings.Contains(out.String(), "status bug") {
		t.Fatalf("terminal output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "no open ideas") {
		t.Fatalf("the next command was not answered:\n%s", out.String())
	}
}

func TestProgressGate(t *testing.T) {
	var g progressGate
	steps := []struct {
		n    int
		pct  float64
		want bool
	}{
		{1, 0.5, true}, {1, 3, false}, {1, 9.9, false}, {1, 10, true}, {1, 10.1, false},
		{1, 35, true}, {1, 36, false}, {1, 20, false}, // backwards never reprints
		{1, 100, true}, {1, 100, false},
		{2, 55, true}, {2, 59, false}, {2, 60, true}, // a new experiment starts over
		{1, 5, true}, // and so does going back to another number
	}
	for i, s := range steps {
		if got := g.allow(s.n, s.pct); got != s.want {
			t.Errorf("step %d: allow(%d, %v) = %v, want %v", i, s.n, s.pct, got, s.want)
		}
	}
}
