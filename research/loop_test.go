package research_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
	"github.com/autoresearch/autoresearch/store"
)

// scripted is a proposer whose every proposal is a test function editing
// the worktree, so loop tests control exactly what each experiment changes.
type scripted struct {
	t     *testing.T
	mu    sync.Mutex
	steps []func(req research.ProposalRequest) (string, error)
	reqs  []research.ProposalRequest
}

func (s *scripted) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	if len(s.steps) == 0 {
		s.mu.Unlock()
		return research.Proposal{}, fmt.Errorf("script exhausted: %w", research.ErrExhausted)
	}
	step := s.steps[0]
	s.steps = s.steps[1:]
	s.mu.Unlock()
	desc, err := step(req)
	return research.Proposal{Description: desc, Usage: research.Usage{PromptTokens: 100, CompletionTokens: 10}}, err
}

func (s *scripted) requests() []research.ProposalRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]research.ProposalRequest(nil), s.reqs...)
}

// setConst returns a step that sets a train.py constant.
func setConst(t *testing.T, name, value, desc string) func(research.ProposalRequest) (string, error) {
	return func(req research.ProposalRequest) (string, error) {
		researchtest.SetConst(t, req.Dir, name, value)
		return desc, nil
	}
}

// recorder keeps every event the loop emitted.
type recorder struct {
	mu     sync.Mutex
	events []research.Event
}

func (r *recorder) Event(e research.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds(kind research.EventKind) []research.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []research.Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

type harness struct {
	dir  string
	db   *store.DB
	m    *research.Manager
	rec  *recorder
	prop *scripted
}

func newHarness(t *testing.T, dir string, cfg research.Config, steps ...func(research.ProposalRequest) (string, error)) *harness {
	t.Helper()
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaselineRepeats == nil {
		cfg.BaselineRepeats = new(0) // one baseline run unless a test asks for the noise estimate
	}
	// The fake trainer's gains (1.5 -> 1.4) are far above the implausibility
	// bounds; only the tests about those bounds set them.
	if cfg.ImplausibleGain == nil {
		cfg.ImplausibleGain = new(0.0)
	}
	if cfg.ImplausibleSigma == nil {
		cfg.ImplausibleSigma = new(0.0)
	}
	cfg = cfg.WithDefaults(dir)
	db, err := store.Open(filepath.Join(cfg.StateDir, "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{dir: dir, db: db, rec: &recorder{}, prop: &scripted{t: t, steps: steps}}
	h.m = &research.Manager{
		Repo: repo, Store: db, Proposer: h.prop, Observer: h.rec, Config: cfg,
		Trainer: &trainer.Local{Command: "python3 train.py", Grace: time.Second},
	}
	return h
}

func (h *harness) runToEnd(t *testing.T, req research.StartRequest) research.Run {
	t.Helper()
	if _, err := h.m.Start(context.Background(), req); err != nil {
		t.Fatalf("start: %v", err)
	}
	h.waitUnpaused(t)
	run, err := h.db.RunByTag(context.Background(), req.Tag)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// waitUnpaused waits for the run to end and fails at once, with the reason,
// if it pauses instead: a paused run would otherwise wait for a person.
func (h *harness) waitUnpaused(t *testing.T) {
	t.Helper()
	paused := len(h.rec.kinds(research.EventPaused))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.m.Wait(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("wait: %v", err)
			}
			return
		case <-tick.C:
			if p := h.rec.kinds(research.EventPaused); len(p) > paused {
				t.Fatalf("the run paused unexpectedly: %s", p[len(p)-1].Text)
			}
		}
	}
}

func (h *harness) experiments(t *testing.T, run research.Run) []research.Experiment {
	t.Helper()
	exps, err := h.db.Experiments(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return exps
}

func statuses(exps []research.Experiment) string {
	var s []string
	for _, e := range exps {
		s = append(s, e.Status)
	}
	return strings.Join(s, ",")
}

// kinds lists what each experiment was for, as stored.
func kinds(exps []research.Experiment) string {
	var s []string
	for _, e := range exps {
		s = append(s, string(e.Kind))
	}
	return strings.Join(s, ",")
}

func TestLoopKeepsDiscardsAndCrashes(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, FixAttempts: new(0), RunLog: true},
		setConst(t, "VAL", "1.400000", "lower val"),
		setConst(t, "VAL", "1.600000", "higher val"),
		setConst(t, "CRASH", "1", "crash it"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "t1", By: "tester"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,discard,crash" {
		t.Fatalf("statuses = %s", got)
	}
	if exps[0].Description != "baseline" || exps[0].Summary.ValBPB != 1.5 {
		t.Errorf("baseline = %+v", exps[0])
	}
	if run.BestValBPB != 1.4 || run.BestCommit != exps[1].Commit {
		t.Errorf("best = %v %s, want 1.4 at %s", run.BestValBPB, run.BestCommit, exps[1].Commit)
	}
	if run.State != research.RunStopped {
		t.Errorf("run state = %s", run.State)
	}
	// The branch sits at the best commit with its train.py in the worktree.
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/t1"); tip != exps[1].Commit {
		t.Errorf("branch at %s, want %s", tip, exps[1].Commit)
	}
	if src := researchtest.Read(t, dir, "train.py"); !strings.Contains(src, "VAL = 1.400000") || strings.Contains(src, "CRASH = 1") {
		t.Errorf("train.py is not the best version:\n%s", src)
	}
	// Figures, diffs and reasons are recorded.
	e := exps[2]
	if e.Summary.PeakVRAMMB != 45060.2 || e.Summary.NumSteps != 953 || !strings.Contains(e.Diff, "+VAL = 1.600000") || !strings.Contains(e.DiffStat, "train.py") {
		t.Errorf("discarded experiment not fully recorded: %+v", e)
	}
	if exps[3].Reason != "out of memory on the GPU: RuntimeError: CUDA out of memory (fake) (exit status 1)" || !strings.Contains(exps[3].LogTail, "CUDA out of memory") {
		t.Errorf("crash reason %q tail %q", exps[3].Reason, exps[3].LogTail)
	}
	if e.PromptTokens != 100 || e.CompletionTokens != 10 {
		t.Errorf("tokens = %d/%d", e.PromptTokens, e.CompletionTokens)
	}
	// results.tsv in upstream's exact format, byte for byte.
	want := research.ResultsHeader +
		exps[0].Commit[:7] + "\t1.500000\t44.0\tkeep\tbaseline\n" +
		exps[1].Commit[:7] + "\t1.400000\t44.0\tkeep\tlower val\n" +
		exps[2].Commit[:7] + "\t1.600000\t44.0\tdiscard\thigher val\n" +
		exps[3].Commit[:7] + "\t0.000000\t0.0\tcrash\tcrash it\n"
	if got := researchtest.Read(t, dir, "results.tsv"); got != want {
		t.Errorf("results.tsv =\n%s\nwant\n%s", got, want)
	}
	// Untracked and ignored files survived every reset; only notes.txt shows.
	if researchtest.Read(t, dir, "notes.txt") != "untracked notes\n" || researchtest.Read(t, dir, ".venv/lib/pkg1.py") != "x = 1\n" {
		t.Error("untracked or ignored files were touched")
	}
	if st := researchtest.Git(t, dir, "status", "--porcelain"); st != "?? notes.txt" {
		t.Errorf("git status = %q", st)
	}
	if !strings.Contains(researchtest.Read(t, dir, "run.log"), "CUDA out of memory") { // the last experiment crashed
		t.Error("run.log was not written")
	}
	logData, err := os.ReadFile(exps[2].LogPath)
	if err != nil || !strings.Contains(string(logData), "val_bpb:          1.600000") {
		t.Errorf("per-experiment log %s: %v", exps[2].LogPath, err)
	}
	if n := len(h.rec.kinds(research.EventExperimentFinished)); n != 4 {
		t.Errorf("%d finished events", n)
	}
	if len(h.rec.kinds(research.EventProgress)) == 0 {
		t.Error("no progress events")
	}
}

func TestCrashedIdeaGetsFixAttempts(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var fixSources []string
	h := newHarness(t, dir, research.Config{MaxExperiments: 4, FixAttempts: new(2)},
		setConst(t, "CRASH", "1", "bold idea"),
		func(req research.ProposalRequest) (string, error) {
			fixSources = append(fixSources, researchtest.Read(t, req.Dir, "train.py"))
			researchtest.SetConst(t, req.Dir, "VAL", "1.450000") // still crashes: CRASH stays 1
			return "bold idea, fix 1", nil
		},
		func(req research.ProposalRequest) (string, error) {
			fixSources = append(fixSources, researchtest.Read(t, req.Dir, "train.py"))
			researchtest.SetConst(t, req.Dir, "CRASH", "0")
			return "bold idea, fix 2", nil
		},
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "fix"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash,crash,keep" {
		t.Fatalf("statuses = %s", got)
	}
	if got := kinds(exps); got != "baseline,proposal,fix,fix" {
		t.Errorf("kinds = %s", got)
	}
	for i, want := range []int{0, 0, 1, 2} {
		if exps[i].Attempt != want {
			t.Errorf("experiment %d attempt = %d, want %d", i+1, exps[i].Attempt, want)
		}
	}
	reqs := h.prop.requests()
	if reqs[0].Fix != nil || reqs[1].Fix == nil || reqs[2].Fix == nil {
		t.Fatalf("fix requests: %v %v %v", reqs[0].Fix, reqs[1].Fix, reqs[2].Fix)
	}
	if !strings.Contains(reqs[1].Fix.LogTail, "CUDA out of memory") || reqs[1].Fix.Experiment.Number != 2 {
		t.Errorf("fix request = %+v", reqs[1].Fix)
	}
	// The repair starts from the crashed change, not from scratch.
	if !strings.Contains(fixSources[0], "CRASH = 1") || !strings.Contains(fixSources[1], "VAL = 1.450000") {
		t.Errorf("fix attempts did not start from the crashed change")
	}
	if run.BestValBPB != 1.45 {
		t.Errorf("best = %v", run.BestValBPB)
	}
}

func TestRefusedProposalsAreExplainedAndUndone(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 2},
		func(req research.ProposalRequest) (string, error) {
			researchtest.Write(t, req.Dir, "prepare.py", "EVAL_TOKENS = 1\n")
			return "cheat on eval", nil
		},
		func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.300000")
			researchtest.Write(t, req.Dir, "helper.py", "X = 1\n")
			return "extra file", nil
		},
		func(req research.ProposalRequest) (string, error) {
			researchtest.Write(t, req.Dir, "train.py", researchtest.Read(t, req.Dir, "train.py")+"def broken(:\n")
			return "syntax error", nil
		},
		func(req research.ProposalRequest) (string, error) { return "nothing", nil },
		setConst(t, "VAL", "1.300000", "valid"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "refuse"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep" || exps[1].Description != "valid" {
		t.Fatalf("statuses = %s (%v)", got, exps)
	}
	reqs := h.prop.requests()
	wantFeedback := []string{"", "prepare.py is read-only", "only train.py may be changed; the proposal also changed helper.py", ""}
	for i, want := range wantFeedback {
		if !strings.Contains(reqs[i].Feedback, want) || (want == "" && reqs[i].Feedback != "") {
			t.Errorf("request %d feedback = %q, want %q", i, reqs[i].Feedback, want)
		}
	}
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 4 || !strings.Contains(refused[2].Text, "does not parse as Python") || !strings.Contains(refused[3].Text, "changed nothing") {
		t.Errorf("refusals: %+v", refused)
	}
	if researchtest.Read(t, dir, "prepare.py") != researchtest.PreparePy {
		t.Error("prepare.py was left changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "helper.py")); !os.IsNotExist(err) {
		t.Error("helper.py was left behind")
	}
	if strings.Contains(exps[1].Diff, "prepare.py") || strings.Contains(exps[1].Diff, "helper.py") {
		t.Errorf("experiment diff includes refused files:\n%s", exps[1].Diff)
	}
}

func TestTrainerGetsNoSecretsAndTimeoutIsACrash(t *testing.T) {
	dir := researchtest.New(t)
	dump := filepath.Join(t.TempDir(), "env.txt")
	t.Setenv("ENV_DUMP", dump)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-secret")
	t.Setenv("OPENAI_API_KEY", "sk-secret")
	researchtest.SetConst(t, dir, "SLEEP", "0")
	// The timeout must let the baseline start python on a loaded machine;
	// the slow experiment sleeps far longer than it.
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, TrainTimeout: 6 * time.Second, FixAttempts: new(0)},
		setConst(t, "SLEEP", "60", "very slow"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "env"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash" {
		t.Fatalf("statuses = %s", got)
	}
	if !strings.HasPrefix(exps[1].Reason, "timeout after 6s") {
		t.Errorf("reason = %q", exps[1].Reason)
	}
	env := researchtest.Read(t, "/", dump)
	for _, secret := range []string{"SLACK_BOT_TOKEN", "OPENAI_API_KEY"} {
		if strings.Contains(env, secret+"\n") {
			t.Errorf("trainer saw %s", secret)
		}
	}
	if !strings.Contains(env, "PATH\n") {
		t.Error("trainer lost PATH")
	}
}

func TestStopNowRecordsStoppedCrashAndResets(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{FixAttempts: new(0)}, setConst(t, "SLEEP", "60", "slow"))
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "stop"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, _ := h.m.Status(context.Background())
		return st.Current != nil && st.Current.Number == 2 && st.Phase == research.PhaseTraining
	})
	if err := h.m.Stop(context.Background(), "tester", research.StopNow); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "stop")
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash" || exps[1].Reason != "stopped" {
		t.Fatalf("statuses = %s, reason %q", got, exps[1].Reason)
	}
	if run.State != research.RunStopped {
		t.Errorf("state = %s", run.State)
	}
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != exps[0].Commit {
		t.Errorf("HEAD %s, want best %s", head, exps[0].Commit)
	}
	if strings.Contains(researchtest.Read(t, dir, "train.py"), "SLEEP = 60") {
		t.Error("train.py still holds the stopped change")
	}
}

func TestIdeasAreConsumedByTheNextExperiment(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{MaxExperiments: 3},
		setConst(t, "VAL", "1.400000", "uses the idea"),
		setConst(t, "VAL", "1.450000", "no idea left"),
	)
	idea, err := h.m.AddIdea(context.Background(), research.Idea{Text: "try VAL 1.4", Author: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.AddIdea(context.Background(), research.Idea{Text: "   "}); !research.IsInputError(err) {
		t.Errorf("empty idea: %v", err)
	}
	run := h.runToEnd(t, research.StartRequest{Tag: "ideas"})
	reqs := h.prop.requests()
	if len(reqs[0].Ideas) != 1 || reqs[0].Ideas[0].ID != idea.ID || len(reqs[1].Ideas) != 0 {
		t.Fatalf("ideas given: %v then %v", reqs[0].Ideas, reqs[1].Ideas)
	}
	exps := h.experiments(t, run)
	used, _ := h.db.IdeasConsumedBy(context.Background(), exps[1].ID)
	if len(used) != 1 || used[0].ID != idea.ID {
		t.Errorf("idea consumed by %v", used)
	}
	started := h.rec.kinds(research.EventExperimentStarted)
	if len(started[1].Ideas) != 1 {
		t.Errorf("started event ideas = %v", started[1].Ideas)
	}
}

func TestProgramAppendGetsItsOwnCommitBetweenExperiments(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	var h *harness
	h = newHarness(t, dir, research.Config{MaxExperiments: 3},
		func(req research.ProposalRequest) (string, error) {
			// A person appends to program.md while this proposal is made.
			if _, err := h.m.EditProgram(context.Background(), research.ProgramEdit{Kind: "append", Text: "Focus on the optimizer.", Author: "U2"}); err != nil {
				return "", err
			}
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			return "lower", nil
		},
		func(req research.ProposalRequest) (string, error) {
			if !strings.Contains(req.Program, "Focus on the optimizer.") {
				return "", errors.New("program edit did not reach the proposal")
			}
			researchtest.SetConst(t, req.Dir, "VAL", "1.600000")
			return "higher", nil
		},
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "prog"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,discard" {
		t.Fatalf("statuses = %s", got)
	}
	for _, e := range exps[1:] {
		if strings.Contains(e.Diff, "program.md") {
			t.Errorf("experiment %d's commit touched program.md", e.Number)
		}
	}
	log := researchtest.Git(t, dir, "log", "--format=%an %s", "autoresearch/prog")
	if !strings.Contains(log, "U2 program.md: append by U2") {
		t.Errorf("no program commit by U2:\n%s", log)
	}
	if !strings.Contains(researchtest.Read(t, dir, "program.md"), "Focus on the optimizer.") {
		t.Error("program.md lost the edit after the discard")
	}
	if n := len(h.rec.kinds(research.EventProgramEdited)); n != 1 {
		t.Errorf("%d program edit events", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 3 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
