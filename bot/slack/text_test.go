package slack

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
)

// pings reports the markup in a Slack text that would notify someone.
func pings(s string) []string {
	var out []string
	for _, m := range []string{"<!channel", "<!here", "<!everyone", "<!subteam^", "<@", "@channel", "@here", "@everyone"} {
		if strings.Contains(strings.ToLower(s), strings.ToLower(m)) {
			out = append(out, m)
		}
	}
	return out
}

func TestEscapeTextDefusesMentionsAndBroadcastWords(t *testing.T) {
	in := "hi <!channel> <!here|here> <!everyone> <!subteam^S123|@team> <@U999> @channel @Here a&b <https://evil|click>"
	got := mrkdwn.Escape(in)
	if p := pings(got); len(p) > 0 {
		t.Fatalf("escapeText(%q) = %q still pings %v", in, got, p)
	}
	for _, want := range []string{"&lt;!channel&gt;", "a&amp;b", "&lt;https://evil|click&gt;", "@\u2060channel", "@\u2060Here"} {
		if !strings.Contains(got, want) {
			t.Errorf("escapeText lacks %q: %q", want, got)
		}
	}
	if got := mrkdwn.Decode("a &lt;b&gt; &amp;lt; &amp;"); got != "a <b> &lt; &" {
		t.Errorf("decodeSlackText = %q (decoded more than once?)", got)
	}
}

func TestIntendedMentionsAndLinks(t *testing.T) {
	if got := mrkdwn.UserMention("UALICE1"); got != "<@UALICE1>" {
		t.Errorf("userMention = %q", got)
	}
	if got := mrkdwn.UserMention("<!channel>"); len(pings(got)) > 0 {
		t.Errorf("userMention of a non-ID = %q", got)
	}
	if got := mrkdwn.ChannelRef("C123"); got != "<#C123>" {
		t.Errorf("channelRef = %q", got)
	}
	if got := mrkdwn.Link("https://t.slack.com/archives/C1/p1", "#3 <!here>"); got != "<https://t.slack.com/archives/C1/p1|#3 &lt;!here&gt;>" {
		t.Errorf("slackLink = %q", got)
	}
	if got := mrkdwn.Link("javascript:x|<!channel>", "view"); got != "view" {
		t.Errorf("slackLink with a bad url = %q", got)
	}
	for in, want := range map[string]string{
		"exp-3-log.txt": "exp-3-log.txt", "../../etc/passwd": "etc_passwd", "<!channel>.txt": "channel_.txt",
		"": "file.txt", "résumé.log": "r_sum_.log",
	} {
		if got := safeFilename(in); got != want {
			t.Errorf("safeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// An LLM description with broadcast mentions reaches chat.postMessage and
// chat.update (text and blocks) without notifying anyone; the intended
// mention of the idea's author still works.
func TestChannelMentionInDescriptionNeverPings(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), nil)
	exp := slackTestExp(research.StatusRunning)
	exp.Description = "<!channel> <!here> <!everyone> <!subteam^S1> <@U0BOSS> @channel faster LR"
	exp.Reason = "crash: <!here> look"
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp,
		Ideas: []research.Idea{{ID: 1, Text: "<!channel> idea", Author: "UALICE", Source: "slash"}}})
	deliver(t, s)
	done := exp
	done.Status = research.StatusCrash
	done.LogTail = "Traceback\n<!channel> boom\n"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &done})
	deliver(t, s)

	post := f.WaitCalls("chat.postMessage", 2)
	up := f.WaitCalls("chat.update", 1)
	check := func(what string, form url.Values) {
		t.Helper()
		for _, field := range []string{"text", "blocks"} {
			v := form.Get(field)
			if field == "blocks" && v != "" {
				v = blockText(t, v)
			}
			v = strings.ReplaceAll(v, "<@UALICE>", "") // the one mention we mean
			if p := pings(v); len(p) > 0 {
				t.Errorf("%s %s pings %v: %q", what, field, p, v)
			}
		}
	}
	check("post", post[0].Form)
	check("log tail reply", post[1].Form)
	check("update", up[0].Form)
	if !strings.Contains(blockText(t, post[0].Form.Get("blocks")), "<@UALICE>") {
		t.Errorf("the idea author's mention is gone: %s", post[0].Form.Get("blocks"))
	}
	if !strings.Contains(post[0].Form.Get("text"), "&lt;!channel&gt;") {
		t.Errorf("the description is not shown escaped in the fallback text: %q", post[0].Form.Get("text"))
	}
}

// Whatever a message forgets to escape, the last stop defuses broadcast
// mentions and redacts secrets, in text, blocks, file names and contents.
func TestSafeSlackAPIGuardsEverythingSent(t *testing.T) {
	f := newFakeSlack(t)
	red := research.NewRedactor(map[string]string{"HF_TOKEN": "hf_supersecret123"})
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), func(c *Config) { c.Redactor = red })
	ctx := context.Background()
	if _, err := s.api.PostMessage(ctx, slackTestChannel, chatMessage{Text: "raw <!channel> hf_supersecret123",
		Blocks: blocksJSON(sectionBlock("raw <!here|here> and hf_supersecret123"))}); err != nil {
		t.Fatal(err)
	}
	p := f.WaitCalls("chat.postMessage", 1)[0].Form
	for _, v := range []string{p.Get("text"), p.Get("blocks")} {
		if strings.Contains(v, "<!") || strings.Contains(v, "hf_supersecret123") {
			t.Errorf("sent unguarded: %q", v)
		}
		if !strings.Contains(v, "[redacted HF_TOKEN]") {
			t.Errorf("secret not marked as redacted: %q", v)
		}
	}
}

// A crash's log tail with a secret in it is redacted before it is queued
// (the outbox is stored) and in the file uploaded when it is long.
func TestSecretsRedactedInTheOutboxAndUploads(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	red := research.NewRedactor(map[string]string{"AWS_SECRET_ACCESS_KEY": "aws-Secret/Value+0123"})
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, func(c *Config) { c.Redactor = red })
	exp := slackTestExp(research.StatusRunning)
	s.Event(research.Event{Kind: research.EventExperimentStarted, Experiment: &exp})
	deliver(t, s)
	done := exp
	done.Status = research.StatusCrash
	done.LogTail = "Traceback\n" + "key=aws-Secret/Value+0123\n"
	s.Event(research.Event{Kind: research.EventExperimentFinished, Experiment: &done})
	out.mu.Lock()
	for _, m := range out.msgs {
		if strings.Contains(string(m.Payload), "aws-Secret/Value+0123") {
			t.Errorf("queued %s message holds the secret", m.Kind)
		}
	}
	out.mu.Unlock()
	deliver(t, s)
	tail := f.WaitCalls("chat.postMessage", 2)[1].Form.Get("text")
	if strings.Contains(tail, "aws-Secret/Value+0123") || !strings.Contains(tail, "[redacted AWS_SECRET_ACCESS_KEY]") {
		t.Errorf("log tail post not redacted: %q", tail)
	}
	// Files: content redacted, name made safe.
	if err := s.api.UploadFile(context.Background(), fileUpload{Channel: slackTestChannel, Filename: "../<!here>.log",
		Content: []byte("key=aws-Secret/Value+0123\n")}); err != nil {
		t.Fatal(err)
	}
	up := f.WaitCalls("upload", 1)[0]
	if strings.Contains(string(up.Body), "aws-Secret/Value+0123") || !strings.Contains(string(up.Body), "[redacted AWS_SECRET_ACCESS_KEY]") {
		t.Errorf("uploaded file not redacted: %q", up.Body)
	}
	urls := f.CallsTo("files.getUploadURLExternal")
	if len(urls) == 0 {
		t.Fatalf("no files.getUploadURLExternal call: %v", f.Methods())
	}
	for _, c := range urls {
		if name := c.Form.Get("filename"); name != "here_.log" {
			t.Errorf("uploaded file name = %q", name)
		}
	}
}

// An edited thread reply updates its idea with the decoded text; an edit
// that only added a link preview (same text) leaves the idea alone.
func TestEditedReplyDecodedAndUnfurlEditsIgnored(t *testing.T) {
	h := newHTTPHarness(t)
	sentExpPost(t, h.out, "exp:7:3", "1700000000.000001")
	edit := func(id, before, after string) {
		h.event(id, map[string]any{"type": "message", "subtype": "message_changed", "channel": slackTestChannel,
			"message":          map[string]any{"user": "UALICE", "text": after, "ts": "1700000001.000001", "thread_ts": "1700000000.000001"},
			"previous_message": map[string]any{"user": "UALICE", "text": before, "ts": "1700000001.000001", "thread_ts": "1700000000.000001"}})
		h.s.tasks.Wait()
	}
	edit("Ev1", "use lr &lt; 0.01", "use lr &lt; 0.01")
	if h.ctrl.has("edit idea 1700000001.000001") {
		t.Fatal("an edit that changed nothing (a link preview) updated the idea")
	}
	edit("Ev2", "use lr &lt; 0.01", "use lr &lt; 0.02 &amp; warmup")
	h.ctrl.mu.Lock()
	got := h.ctrl.ideaEdits["1700000001.000001"]
	h.ctrl.mu.Unlock()
	if got != "use lr < 0.02 & warmup" {
		t.Fatalf("edited idea text = %q", got)
	}
}
