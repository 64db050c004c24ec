package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/slacktest"
	"github.com/autoresearch/autoresearch/research"
)

// blockText decodes Block Kit JSON and joins every text in it.
func blockText(t *testing.T, raw string) string {
	t.Helper()
	var blocks []any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil || len(blocks) == 0 {
		t.Fatalf("blocks are not a list of blocks (%v): %s", err, raw)
	}
	text, _ := slacktest.BlockTexts(raw)
	return text
}

func slackTestExp(status string) research.Experiment {
	return research.Experiment{
		ID: 42, RunID: 7, Number: 3, Description: "raise LR to 0.04", Status: status,
		Diff: "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1,2 +1,2 @@\n-LR = 0.02\n+LR = 0.04\n",
	}
}

// deliver runs one outbox pass, as the worker would.
func deliver(t *testing.T, s *Bot) {
	t.Helper()
	s.worker.sleep = func(ctx context.Context, d time.Duration) error { return nil }
	s.worker.pass(context.Background())
}

func TestExperimentPostedThenUpdatedInPlace(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp,
		Ideas: []research.Idea{{ID: 1, Text: "try a higher LR", Author: "UALICE", Source: "slash"}}})
	deliver(t, s)
	post := f.WaitCalls("chat.postMessage", 1)[0]
	if post.Form.Get("channel") != slackTestChannel {
		t.Fatalf("posted to %q", post.Form.Get("channel"))
	}
	blocks := blockText(t, post.Form.Get("blocks"))
	for _, want := range []string{"#3", "raise LR to 0.04", "`train.py` +1 −1", "+LR = 0.04", "<@UALICE>", "training"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("experiment post lacks %q:\n%s", want, blocks)
		}
	}
	if !strings.Contains(post.Form.Get("text"), "#3") {
		t.Errorf("no plain-text fallback: %q", post.Form.Get("text"))
	}

	done := slackTestExp(research.StatusDiscard)
	done.Summary = research.Summary{ValBPB: 0.998, PeakVRAMMB: 45056}
	done.TrainSeconds = 302
	best := slackTestExp(research.StatusKeep)
	best.ID, best.Number, best.Summary.ValBPB = 40, 1, 0.990
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &done, Best: &best})
	deliver(t, s)
	up := f.WaitCalls("chat.update", 1)[0]
	if up.Form.Get("ts") != "1700000000.000001" || up.Form.Get("channel") != slackTestChannel {
		t.Fatalf("update went to ts %q channel %q, want the post's", up.Form.Get("ts"), up.Form.Get("channel"))
	}
	ub := blockText(t, up.Form.Get("blocks"))
	for _, want := range []string{"0.998000", "+0.008000 vs best #1", "44.0 GB", "5m02s", "discard", "<@UALICE>"} {
		if !strings.Contains(ub, want) {
			t.Errorf("updated message lacks %q:\n%s", want, ub)
		}
	}
	if n := len(f.CallsTo("chat.postMessage")); n != 1 {
		t.Fatalf("the finish posted a new message (%d posts) instead of updating", n)
	}
}

func TestProgressUpdatesAtMostOncePerMinute(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	clock := time.Date(2025, 3, 20, 1, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	progress := func(pct float64) {
		s.Event(research.Event{Kind: research.EventProgress, Experiment: &exp,
			Progress: &research.Progress{Percent: pct, Remaining: 177 * time.Second}})
	}
	clock = clock.Add(10 * time.Second)
	progress(5) // within the first minute: not shown
	clock = clock.Add(55 * time.Second)
	progress(41) // a minute after the post: shown
	clock = clock.Add(30 * time.Second)
	progress(60) // too soon after the last one

	updates := 0
	for _, m := range out.all() {
		if m.Kind == kindUpdate {
			updates++
			if p := out.payload(t, m.ID); !strings.Contains(string(p.Blocks), "41%") || !strings.Contains(string(p.Blocks), "2m57s left") {
				t.Errorf("progress update = %s", p.Blocks)
			}
		}
	}
	if updates != 1 {
		t.Fatalf("%d progress updates queued, want 1", updates)
	}

	// A progress report that arrives after the result must not replace it.
	done := slackTestExp(research.StatusKeep)
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &done})
	clock = clock.Add(time.Hour)
	progress(99)
	last := out.all()[len(out.all())-1]
	if p := out.payload(t, last.ID); !strings.Contains(string(p.Blocks), "keep") || strings.Contains(string(p.Blocks), "99%") {
		t.Fatalf("last update after the finish = %s", p.Blocks)
	}
}

func TestCrashPutsLogTailInThreadAsFileWhenLong(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	crash := slackTestExp(research.StatusCrash)
	crash.Reason = "CUDA out of memory"
	crash.LogTail = "Traceback:\nRuntimeError: CUDA out of memory\n"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &crash})
	deliver(t, s)

	posts := f.WaitCalls("chat.postMessage", 2)
	reply := posts[1]
	if reply.Form.Get("thread_ts") != "1700000000.000001" || !strings.Contains(reply.Form.Get("text"), "CUDA out of memory") {
		t.Fatalf("crash reply = %v, want the log tail in the experiment's thread", reply.Form)
	}

	// A long log goes as a file (the v2 upload flow) in the thread.
	exp2 := slackTestExp(research.StatusRunning)
	exp2.Number = 4
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp2})
	crash2 := exp2
	crash2.Status = research.StatusCrash
	crash2.LogTail = strings.Repeat("step 00001 | loss: 3.2 | something long here"+strings.Repeat(".", 80)+"\n", 200)
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &crash2})
	deliver(t, s)

	get := f.WaitCalls("files.getUploadURLExternal", 1)[0]
	if get.Form.Get("filename") != "exp-4-log.txt" || get.Form.Get("length") == "0" {
		t.Fatalf("getUploadURLExternal = %v", get.Form)
	}
	up := f.WaitCalls("upload", 1)[0]
	if !strings.Contains(string(up.Body), "something long here") {
		t.Fatal("the file's content was not uploaded")
	}
	done := f.WaitCalls("files.completeUploadExternal", 1)[0]
	if done.Form.Get("channel_id") != slackTestChannel || done.Form.Get("thread_ts") != "1700000000.000003" {
		t.Fatalf("completeUploadExternal = %v, want the file in #4's thread", done.Form)
	}
}

func TestThreadIdeaUsedGetsReplyInItsThreadWithLink(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	s.identity.URL = "https://team.slack.com/"

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp, Ideas: []research.Idea{
		{ID: 5, Text: "use GELU", Author: "UBOB", Source: "thread", ThreadTS: "1699999999.000100", MessageTS: "1699999999.000200"},
	}})
	deliver(t, s)
	posts := f.WaitCalls("chat.postMessage", 2)
	reply := posts[1]
	if reply.Form.Get("thread_ts") != "1699999999.000100" {
		t.Fatalf("pointer posted in thread %q, want the idea's", reply.Form.Get("thread_ts"))
	}
	text := reply.Form.Get("text")
	if !strings.Contains(text, "<@UBOB>") || !strings.Contains(text, "#3") ||
		!strings.Contains(text, "https://team.slack.com/archives/"+slackTestChannel+"/p1700000000000001") {
		t.Fatalf("pointer text = %q", text)
	}
}

func TestRunHeaderAndProgramEdit(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, func(c *Config) {
		c.TrainingBudget, c.TrainingBudgetFrom, c.Timeout = 5*time.Minute, "prepare.py", 10*time.Minute
	})
	s.Event(research.Event{Kind: research.EventRunStarted, Text: "started", Run: research.Run{
		ID: 7, Tag: "mar20", Branch: "autoresearch/mar20", GPU: "NVIDIA H100 80GB", Model: "gpt-5", StartedBy: "UALICE"}})
	s.Event(research.Event{Kind: research.EventProgramEdited, ProgramEdit: &research.ProgramEdit{
		ID: 1, Author: "UALICE", Kind: "append", Commit: "abcdef1234", Diff: "+ try wider MLPs\n"}})
	deliver(t, s)
	posts := f.WaitCalls("chat.postMessage", 2)
	header := blockText(t, posts[0].Form.Get("blocks"))
	for _, want := range []string{"mar20", "autoresearch/mar20", "NVIDIA H100 80GB", "gpt-5", "*training* 5m00s per experiment (TIME_BUDGET in prepare.py)", "*timeout* 10m00s", "<@UALICE>"} {
		if !strings.Contains(header, want) {
			t.Errorf("run header lacks %q: %s", want, header)
		}
	}
	// Quiet: the edit is one channel message; its diff is in the thread.
	posts = f.WaitCalls("chat.postMessage", 3)
	if txt := posts[1].Form.Get("text"); !strings.Contains(txt, "<@UALICE>") || !strings.Contains(txt, "the diff is in the thread") || !strings.Contains(txt, "abcdef1") {
		t.Errorf("program edit post = %q", txt)
	}
	if diff := posts[2]; diff.Form.Get("thread_ts") == "" || !strings.Contains(diff.Form.Get("text"), "try wider MLPs") {
		t.Errorf("program diff reply = %v", diff.Form)
	}
}

func TestUnknownEventKindsAreToldByTheirText(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	s.Event(research.Event{Kind: "plateau", Text: "10 experiments without a keep: ideas welcome"})
	s.Event(research.Event{Kind: research.EventRefused, Text: "edit outside train.py"})
	deliver(t, s)
	if got := slackPostedTexts(f, "chat.postMessage"); len(got) != 1 || !strings.Contains(got[0], "ideas welcome") {
		t.Fatalf("posts = %q", got)
	}
}

// An experiment message lists at most three of its ideas, then says how
// many more there are (so many ideas never break the 50-block limit).
func TestExperimentMessageCapsItsIdeaLines(t *testing.T) {
	var ideas []ideaRef
	for i := range 48 {
		ideas = append(ideas, ideaRef{ID: int64(i + 1), Text: fmt.Sprintf("idea %d", i+1), Author: "UBOB"})
	}
	_, raw := expView{Exp: slackTestExp(research.StatusRunning), Ideas: ideas}.render()
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if n := strings.Count(s, "idea from"); n != 3 || !strings.Contains(s, "and 45 more ideas") || len(blocks) > 12 {
		t.Errorf("%d idea lines, %d blocks:\n%s", n, len(blocks), s)
	}
}

// An experiment a person stopped reads as stopped, not as a crash, and gets
// no log tail: nothing about the change failed.
func TestStoppedExperimentReadsAsStopped(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	stopped := slackTestExp(research.StatusCrash)
	stopped.Reason = research.ReasonStopped
	stopped.LogTail = "step 00003 (40.0%) | loss: 3.1\n"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &stopped})
	deliver(t, s)

	upd := f.WaitCalls("chat.update", 1)[0]
	text, blocks := upd.Form.Get("text"), upd.Form.Get("blocks")
	if !strings.Contains(blocks, "⏹️") || !strings.Contains(blocks, "*stopped*") || strings.Contains(blocks, "crash") || strings.Contains(text, "crash") ||
		!strings.Contains(blocks, "retry 3") || strings.Contains(blocks, "💥") {
		t.Errorf("stopped experiment rendered as:\ntext %s\nblocks %s", text, blocks)
	}
	if n := len(f.CallsTo("chat.postMessage")); n != 1 {
		t.Errorf("%d messages posted, want only the experiment's (no log tail for a stop)", n)
	}
}

func TestPauseResumeAndStopNameThePersonAsAMention(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	run := research.Run{ID: 1, Tag: "mar20"}
	s.Event(research.Event{Kind: research.EventPaused, Run: run, By: "U0ADMIN"})
	s.Event(research.Event{Kind: research.EventResumed, Run: run, By: "U0ADMIN"})
	s.Event(research.Event{Kind: research.EventPaused, Run: run, Text: "the proposer keeps failing <3 times>"})
	s.Event(research.Event{Kind: research.EventRunStopped, Run: run, By: "terminal"})
	deliver(t, s)
	posts := f.WaitCalls("chat.postMessage", 4)
	want := []string{
		"⏸️ Paused by <@U0ADMIN>\nResume with `/autoresearch resume`.",
		"▶️ Resumed by <@U0ADMIN>",
		"⏸️ Paused: the proposer keeps failing &lt;3 times&gt;\nResume with `/autoresearch resume`.",
		"⏹️ Run mar20 stopped by someone at the terminal",
	}
	for i, w := range want {
		if got := posts[i].Form.Get("text"); got != w {
			t.Errorf("post %d = %q, want %q", i, got, w)
		}
	}
}

func TestANewBestIsBroadcastOnceAndDeltasAreThoseTheJudgeUsed(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)

	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp,
		Ideas: []research.Idea{{ID: 1, Text: "try a higher LR", Author: "UALICE", Source: "slash"}}})
	deliver(t, s)
	f.WaitCalls("chat.postMessage", 1)

	kept := slackTestExp(research.StatusKeep)
	kept.Summary.ValBPB = 0.990
	kept.Reason = "improved by 0.008000"
	verdict := research.Verdict{Value: 0.990, Against: 0.998, AgainstNumbers: []int{1, 2, 3}, Noise: 0.002, NewBest: true}
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &kept, Best: &kept, Verdict: &verdict})
	deliver(t, s)
	up := f.WaitCalls("chat.update", 1)[0]
	if ub := blockText(t, up.Form.Get("blocks")); !strings.Contains(ub, "new best") || !strings.Contains(ub, "-0.008000 vs best mean of #1, #2, #3 (4.0σ)") {
		t.Errorf("the kept message does not compare with the judge's best:\n%s", ub)
	}
	posts := f.WaitCalls("chat.postMessage", 2)
	news := posts[1]
	if news.Form.Get("thread_ts") != up.Form.Get("ts") || news.Form.Get("reply_broadcast") != "true" {
		t.Fatalf("the new best was not a broadcast reply in the experiment's thread: thread_ts %q (post %q), reply_broadcast %q",
			news.Form.Get("thread_ts"), up.Form.Get("ts"), news.Form.Get("reply_broadcast"))
	}
	want := "🏆 New best: #3 raise LR to 0.04: val_bpb 0.990000, 0.008000 better than best mean of #1, #2, #3 (4.0σ); idea from <@UALICE>"
	if got := news.Form.Get("text"); got != want {
		t.Errorf("new best text\n got %q\nwant %q", got, want)
	}

	// A discard and a baseline repeat: no broadcast; the repeat says what it is.
	next := slackTestExp(research.StatusRunning)
	next.ID, next.Number = 43, 4
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &next})
	repeat := slackTestExp(research.StatusRunning)
	repeat.ID, repeat.Number, repeat.Kind, repeat.Description, repeat.Diff = 44, 5, research.KindBaselineRepeat, "baseline (repeat 1/2)", ""
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &repeat})
	next.Status, next.Summary.ValBPB = research.StatusDiscard, 0.995
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &next, Best: &kept,
		Verdict: &research.Verdict{Value: 0.995, Against: 0.990, AgainstNumbers: []int{3}, Noise: 0.002}})
	repeat.Status, repeat.Summary.ValBPB, repeat.Reason = research.StatusDiscard, 0.999, "baseline repeat, for the noise estimate"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &repeat, Best: &kept,
		Verdict: &research.Verdict{Value: 0.999, Against: 0.990, AgainstNumbers: []int{3}}})
	deliver(t, s)
	ups := f.WaitCalls("chat.update", 3)
	if txt := ups[1].Form.Get("text"); !strings.Contains(txt, "#4 discard") || !strings.Contains(txt, "+0.005000 vs best #3") {
		t.Errorf("discard text = %q", txt)
	}
	if txt := ups[2].Form.Get("text"); !strings.Contains(txt, "#5 baseline repeat") || strings.Contains(txt, "discard") || strings.Contains(txt, "vs best") {
		t.Errorf("baseline repeat text = %q", txt)
	}
	if n := len(f.CallsTo("chat.postMessage")); n != 4 {
		t.Errorf("%d posts, want three starts and one new-best broadcast", n)
	}
}

func TestAQuietChannelThreadsRepeatsConfirmationsAndNotices(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	run := research.Run{ID: 7, Tag: "mar20", Branch: "autoresearch/mar20"}
	exp := func(n int, kind research.Kind, desc string) research.Experiment {
		return research.Experiment{ID: int64(100 + n), RunID: 7, Number: n, Kind: kind, Description: desc, Status: research.StatusRunning}
	}
	finish := func(e research.Experiment, status string, val float64, v *research.Verdict) {
		e.Status, e.Summary.ValBPB = status, val
		s.Event(research.Event{Kind: research.EventExperimentFinished, Run: run, Experiment: &e, Verdict: v})
	}
	s.Event(research.Event{Kind: research.EventRunStarted, Run: run, Text: "started"})
	base, repeat, change, confirm := exp(1, research.KindBaseline, "baseline"), exp(2, research.KindBaselineRepeat, "baseline (repeat 1/1)"),
		exp(3, research.KindProposal, "depth 8 to 10"), exp(4, research.KindConfirmation, "confirm #3: depth 8 to 10")
	for _, step := range []func(){
		func() { s.Event(research.Event{Kind: research.EventExperimentStarted, Run: run, Experiment: &base}) },
		func() { finish(base, research.StatusKeep, 1.0, nil) },
		func() { s.Event(research.Event{Kind: research.EventExperimentStarted, Run: run, Experiment: &repeat}) },
		func() { finish(repeat, research.StatusDiscard, 1.002, &research.Verdict{Value: 1.002, Against: 1.0}) },
		func() {
			s.Event(research.Event{Kind: research.EventNotice, Run: run, Text: "noise floor: val_bpb varies by 0.001"})
		},
		func() { s.Event(research.Event{Kind: research.EventExperimentStarted, Run: run, Experiment: &change}) },
		func() {
			finish(change, research.StatusDiscard, 0.999, &research.Verdict{Value: 0.999, Against: 1.001, AgainstNumbers: []int{1, 2}, Noise: 0.001})
		},
		func() { s.Event(research.Event{Kind: research.EventExperimentStarted, Run: run, Experiment: &confirm}) },
		func() {
			finish(confirm, research.StatusKeep, 0.998, &research.Verdict{Value: 0.9985, Against: 1.001, AgainstNumbers: []int{1, 2}, Noise: 0.001, NewBest: true})
		},
	} {
		step()
		deliver(t, s) // Slack answers in order; each parent is sent before its replies
	}
	var top, replies []string
	parentOf := map[string]string{}
	for _, c := range f.CallsTo("chat.postMessage") {
		text := c.Form.Get("text")
		if th := c.Form.Get("thread_ts"); th != "" {
			replies = append(replies, text)
			parentOf[text] = th
			continue
		}
		top = append(top, text)
	}
	if len(top) != 3 || !strings.Contains(top[0], "Run mar20 started") || !strings.HasPrefix(top[1], "#1 ") || !strings.HasPrefix(top[2], "#3 ") {
		t.Fatalf("top-level messages = %q, want the run header, #1 and #3", top)
	}
	want := []string{"#2 ", "ℹ️ noise floor", "#4 ", "🏆 New best: #4"}
	if len(replies) != len(want) {
		t.Fatalf("replies = %q", replies)
	}
	for i, w := range want {
		if !strings.HasPrefix(replies[i], w) {
			t.Errorf("reply %d = %q, want %q…", i, replies[i], w)
		}
	}
	// A message's ts is where its result was written (chat.update).
	tsOf := func(prefix string) string {
		for _, c := range f.CallsTo("chat.update") {
			if strings.HasPrefix(c.Form.Get("text"), prefix) {
				return c.Form.Get("ts")
			}
		}
		return "none"
	}
	if parentOf[replies[0]] != tsOf("#1 ") || parentOf[replies[2]] != tsOf("#3 ") || parentOf[replies[3]] != tsOf("#3 ") {
		t.Errorf("threads: repeat under %q (#1 is %q), confirmation under %q and new best under %q (#3 is %q)",
			parentOf[replies[0]], tsOf("#1 "), parentOf[replies[2]], parentOf[replies[3]], tsOf("#3 "))
	}
	if b := f.CallsTo("chat.postMessage")[len(f.CallsTo("chat.postMessage"))-1]; b.Form.Get("reply_broadcast") != "true" {
		t.Errorf("the new best is not broadcast: %v", b.Form)
	}
}

// An implausible result is flagged in its message and in the channel, so a
// person looks at the change.
func TestImplausibleResultIsFlagged(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	held := slackTestExp(research.StatusDiscard)
	held.Summary.ValBPB = 1e-30
	held.Reason = "implausible: val_bpb 1e-30 is below the plausible range 0.1..20; rerunning to confirm before it can be kept"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &held})
	s.Event(research.Event{Kind: research.EventNotice, Experiment: &held, Text: "#3 " + held.Reason})
	deliver(t, s)

	upd := f.WaitCalls("chat.update", 1)[0]
	if blocks := upd.Form.Get("blocks"); !strings.Contains(blocks, "*implausible* result, not kept on one run") {
		t.Errorf("experiment message lacks the implausible line:\n%s", blocks)
	}
	posts := slackPostedTexts(f, "chat.postMessage")
	if len(posts) != 2 || !strings.HasPrefix(posts[1], "⚠️ #3 implausible: val_bpb 1e-30") {
		t.Errorf("posts = %q", posts)
	}
}

// What a training did to files outside git is one short warning line in
// the experiment message (blocks and text), escaped like everything else.
func TestExperimentMessageShowsWhatTheTrainingDamaged(t *testing.T) {
	e := slackTestExp(research.StatusDiscard)
	e.Notes = "train.py deleted .venv/ (3 paths); rewrote <!channel>.txt"
	text, raw := expView{Exp: e}.render()
	want := "⚠️ train.py deleted .venv/ (3 paths); rewrote &lt;!channel&gt;.txt"
	if !strings.Contains(string(raw), want) || !strings.Contains(text, want) {
		t.Fatalf("text %q\nblocks %s", text, raw)
	}
	e.Notes = ""
	if text, raw := (expView{Exp: e}).render(); strings.Contains(text+string(raw), "⚠️") {
		t.Errorf("a warning without notes: %q", text)
	}
}
