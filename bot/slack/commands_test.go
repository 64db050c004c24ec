package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/research"
)

// cmdHarness runs commands straight through handleCommand, answering
// through the fake response_url.
type cmdHarness struct {
	*httpHarness
	answers int
}

func newCmdHarness(t *testing.T, admins ...string) *cmdHarness {
	return &cmdHarness{httpHarness: newHTTPHarness(t, admins...)}
}

// run gives a command as user in the channel and returns the ephemeral answer.
func (h *cmdHarness) run(user, text string) string {
	h.t.Helper()
	h.s.handleCommand(context.Background(), slashRequest{Command: "/autoresearch", Text: text, UserID: user,
		ChannelID: slackTestChannel, ResponseURL: h.f.URL() + "/respond/1", TriggerID: "trig"})
	calls := h.f.CallsTo("response_url")
	if len(calls) == h.answers {
		return ""
	}
	h.answers = len(calls)
	return calls[len(calls)-1].JSON["text"].(string)
}

// channelPosts delivers the outbox and returns the channel messages' texts.
func (h *cmdHarness) channelPosts() []string {
	deliver(h.t, h.s)
	return slackPostedTexts(h.f, "chat.postMessage")
}

func TestCommandsAnswerEphemerallyOrAnnounce(t *testing.T) {
	h := newCmdHarness(t)
	h.ctrl.exps[1] = research.Experiment{ID: 1, RunID: 7, Number: 1, Kind: research.KindBaseline, Status: "keep", Description: "baseline",
		Summary: research.Summary{ValBPB: 0.997900, PeakVRAMMB: 45060}, TrainSeconds: 300, Commit: "abc1234def"}
	h.ctrl.exps[2] = research.Experiment{ID: 2, RunID: 7, Number: 2, Status: "discard", Description: "wider MLP",
		Summary: research.Summary{ValBPB: 0.999}, Diff: "diff --git a/train.py b/train.py\n+x = 1\n"}
	h.ctrl.logs[2] = "step 1\rstep 2\nval_bpb: 0.999\n"

	if a := h.run("UBOB", "help"); !strings.Contains(a, "start TAG [--from REF]") || !strings.Contains(a, "/autoresearch COMMAND") {
		t.Errorf("help = %q", a)
	}
	if a := h.run("UBOB", "results"); !strings.Contains(a, "0.997900") || !strings.Contains(a, "wider MLP") || !h.ctrl.has("results 20") {
		t.Errorf("results = %q (calls %v)", a, h.ctrl.called())
	}
	if h.run("UBOB", "results all"); !h.ctrl.has("results 0") {
		t.Errorf("results all asked for %v", h.ctrl.called())
	}
	if a := h.run("UBOB", "show 2"); !strings.Contains(a, "wider MLP") || !strings.Contains(a, "+x = 1") {
		t.Errorf("show = %q", a)
	}
	if a := h.run("UBOB", "show 9"); !strings.Contains(a, "no experiment #9") {
		t.Errorf("show of a missing experiment = %q", a)
	}
	if a := h.run("UBOB", "idea try rotary embeddings"); !strings.Contains(a, "Pinned idea [1]") {
		t.Errorf("idea = %q", a)
	}
	if a := h.run("UBOB", "ideas"); !strings.Contains(a, "try rotary embeddings") {
		t.Errorf("ideas = %q", a)
	}
	if a := h.run("UBOB", "unpin 1"); !strings.Contains(a, "Unpinned idea [1]") || !h.ctrl.has("unpin 1 by UBOB") {
		t.Errorf("unpin = %q", a)
	}
	if a := h.run("UBOB", "frobnicate"); !strings.Contains(a, `unknown command "frobnicate"`) {
		t.Errorf("unknown = %q", a)
	}
	if a := h.run("UBOB", "show"); !strings.Contains(a, "usage: show N") {
		t.Errorf("show without N = %q", a)
	}

	// Quiet (the default): the loop's own message is the announcement, so
	// the person gets an ephemeral answer; a stop says "stopping" at once
	// (the run's end replaces that message).
	answers := []string{
		h.run("UBOB", "start mar20 --from master"),
		h.run("UBOB", "resume"),
		h.run("UBOB", "program append Prefer simple changes."),
	}
	for i, want := range []string{"Run *mar20* is starting", "Resumed", "Queued"} {
		if !strings.Contains(answers[i], want) {
			t.Errorf("answer %d = %q, want %q", i, answers[i], want)
		}
	}
	h.run("UBOB", "stop now")
	if posts := h.channelPosts(); len(posts) != 1 || !strings.Contains(posts[0], "<@UBOB> is stopping the run (now)") {
		t.Errorf("quiet channel posts = %q, want only the stop notice", posts)
	}
	if !h.ctrl.has("start mar20 by UBOB") || !h.ctrl.has("stop by UBOB now=true") || !h.ctrl.has("program append by UBOB") {
		t.Errorf("controller calls = %v", h.ctrl.called())
	}
}

func TestEveryCommandIsAnnouncedWhenTheChannelWantsAll(t *testing.T) {
	h := newCmdHarness(t)
	h.s.cfg.Verbosity = VerbosityAll
	h.run("UBOB", "start mar20 --from master")
	h.run("UBOB", "stop now")
	h.run("UBOB", "resume")
	h.run("UBOB", "program append Prefer simple changes.")
	posts := strings.Join(h.channelPosts(), "\n")
	for _, want := range []string{"<@UBOB> started run *mar20*", "from `master`", "<@UBOB> stopped the run (now)", "<@UBOB> resumed", "Prefer simple changes."} {
		if !strings.Contains(posts, want) {
			t.Errorf("channel lacks %q:\n%s", want, posts)
		}
	}
}

func TestStartWhileActiveNamesTheActiveRun(t *testing.T) {
	h := newCmdHarness(t)
	h.ctrl.startErr = errors.New("a run is already active")
	h.ctrl.status = research.Status{Active: true, Run: &research.Run{Tag: "mar19", Branch: "autoresearch/mar19",
		StartedBy: "UALICE", CreatedAt: time.Date(2025, 3, 19, 22, 0, 0, 0, time.UTC)}}
	a := h.run("UBOB", "start mar20")
	for _, want := range []string{"mar19", "<@UALICE>", "2025-03-19 22:00"} {
		if !strings.Contains(a, want) {
			t.Errorf("answer lacks %q: %q", want, a)
		}
	}
	if posts := h.channelPosts(); len(posts) != 0 {
		t.Fatalf("a refused start was announced: %q", posts)
	}
}

func TestLongDiffAndLogGoAsFilesInTheExperimentThread(t *testing.T) {
	h := newCmdHarness(t)
	long := "diff --git a/train.py b/train.py\n" + strings.Repeat("+a line of a long change\n", 300)
	h.ctrl.exps[4] = research.Experiment{ID: 4, RunID: 7, Number: 4, Status: "keep", Description: "big change", Diff: long}
	h.ctrl.logs[4] = strings.Repeat("training output line\n", 500)
	sentExpPost(t, h.out, "exp:7:4", "1700000000.000004")

	a := h.run("UBOB", "show 4")
	if !strings.Contains(a, "big change") || strings.Contains(a, "+a line of a long change") || !strings.Contains(a, "thread of #4") {
		t.Fatalf("show with a long diff = %q", a)
	}
	a = h.run("UBOB", "log 4")
	if !strings.Contains(a, "log tail of #4") {
		t.Fatalf("log = %q", a)
	}
	deliver(t, h.s)
	done := h.f.WaitCalls("files.completeUploadExternal", 2)
	names := ""
	for _, c := range h.f.CallsTo("files.getUploadURLExternal") {
		names += c.Form.Get("filename") + " "
	}
	if names != "exp-4.diff exp-4-log.txt " {
		t.Fatalf("uploaded %q", names)
	}
	for _, d := range done {
		if d.Form.Get("thread_ts") != "1700000000.000004" || !strings.Contains(d.Form.Get("initial_comment"), "<@UBOB>") {
			t.Fatalf("file shared as %v", d.Form)
		}
	}
	uploads := h.f.CallsTo("upload")
	if !strings.Contains(string(uploads[0].Body), "+a line of a long change") || !strings.Contains(string(uploads[1].Body), "training output line") {
		t.Fatal("file contents not uploaded")
	}
}

func TestRetryAndDigestHooks(t *testing.T) {
	f := newFakeSlack(t)
	ctrl := newSlackFakeCtrl()
	out := newMemOutbox()
	s := newTestSlack(t, f, ctrl, out, nil)
	s.Digest = func(context.Context) (digest.Message, error) {
		return digest.Message{Text: "Night: 12 experiments", Thread: []digest.Reply{
			{Text: "kept: #3 -0.004"},
			{Text: "progress", File: &digest.File{Name: "progress.png", Title: "Progress", Content: []byte("\x89PNG fake")}},
		}}, nil
	}
	h := &cmdHarness{httpHarness: &httpHarness{t: t, f: f, ctrl: ctrl, out: out, s: s}}
	h.run("UBOB", "retry 3")
	if r := ctrl.retries(); len(r) != 1 || r[0] != 3 {
		t.Fatalf("retried = %v", r)
	}
	if a := h.run("UBOB", "digest"); !strings.Contains(a, "digest is being posted") {
		t.Fatalf("digest answer = %q", a)
	}
	deliver(t, s)
	posts := f.CallsTo("chat.postMessage")
	var digestTS string
	for _, p := range posts {
		if p.Form.Get("text") == "Night: 12 experiments" {
			digestTS = "found"
		}
	}
	if digestTS == "" {
		t.Fatalf("digest not posted: %v", slackPostedTexts(f, "chat.postMessage"))
	}
	last := posts[len(posts)-1]
	if last.Form.Get("text") != "kept: #3 -0.004" || last.Form.Get("thread_ts") == "" {
		t.Fatalf("digest thread reply = %v", last.Form)
	}
	up := f.WaitCalls("files.completeUploadExternal", 1)[0]
	if up.Form.Get("thread_ts") != last.Form.Get("thread_ts") {
		t.Fatalf("chart not in the digest's thread: %v", up.Form)
	}
}

func TestProgramCommandOpensModalOnlyForAdmins(t *testing.T) {
	h := newCmdHarness(t, "UALICE")
	if a := h.run("UBOB", "program"); !strings.Contains(a, "only the run's admins can edit program.md") {
		t.Fatalf("non-admin program = %q", a)
	}
	if n := len(h.f.CallsTo("views.open")); n != 0 {
		t.Fatal("the editor opened for a non-admin")
	}
	h.run("UALICE", "program")
	if n := len(h.f.CallsTo("views.open")); n != 1 {
		t.Fatal("the editor did not open for an admin")
	}
}
