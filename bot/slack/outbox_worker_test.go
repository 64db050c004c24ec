package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
	"github.com/autoresearch/autoresearch/research"
)

// outboxTestWorker delivers to the fake Slack through the real slack-go adapter;
// its waits are recorded instead of slept.
func outboxTestWorker(f *fakeSlack, out Outbox) (*outboxWorker, *[]time.Duration) {
	w := newOutboxWorker(newSlackGoAPI("xoxb-test", "", apiURLOf(f)), out, slog.New(slog.DiscardHandler), slackTestChannel,
		func() string { return "https://team.slack.com/" })
	var waits []time.Duration
	w.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return w, &waits
}

func outboxEnqueueText(t *testing.T, out Outbox, kind, key, threadKey, text string) research.OutboxMessage {
	t.Helper()
	raw, _ := json.Marshal(outPayload{Text: text})
	m, err := out.Enqueue(context.Background(), research.OutboxMessage{Kind: kind, Key: key, ThreadKey: threadKey, Channel: slackTestChannel, Payload: raw})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func slackPostedTexts(f *fakeSlack, method string) []string {
	var out []string
	for _, c := range f.CallsTo(method) {
		out = append(out, c.Form.Get("text"))
	}
	return out
}

func TestOutboxRateLimitWaitsRetryAfterAndKeepsOrder(t *testing.T) {
	f := newFakeSlack(t)
	f.On("chat.postMessage", 429, `{"ok":false,"error":"ratelimited"}`, "Retry-After", "7")
	out := newMemOutbox()
	a := outboxEnqueueText(t, out, kindPost, "", "", "first")
	b := outboxEnqueueText(t, out, kindPost, "", "", "second")
	w, waits := outboxTestWorker(f, out)

	w.pass(context.Background())

	if got := slackPostedTexts(f, "chat.postMessage"); strings.Join(got, ",") != "first,first,second" {
		t.Fatalf("postMessage texts = %q, want the 429'd message retried before the next", got)
	}
	if len(*waits) != 1 || (*waits)[0] != 7*time.Second {
		t.Fatalf("waits = %v, want exactly Retry-After (7s)", *waits)
	}
	for _, m := range []research.OutboxMessage{a, b} {
		if got := out.get(m.ID); got.SentAt.IsZero() || got.TS == "" {
			t.Fatalf("message %d not recorded as sent: %+v", m.ID, got)
		}
	}
	if out.get(a.ID).Attempts != 1 {
		t.Fatalf("the 429 should count as one failed attempt, got %d", out.get(a.ID).Attempts)
	}
}

func TestOutbox5xxKeptAndResentInOrderAfterRestart(t *testing.T) {
	f := newFakeSlack(t)
	f.On("chat.postMessage", 500, `<html>oops</html>`)
	out := newMemOutbox()
	a := outboxEnqueueText(t, out, kindPost, "", "", "first")
	b := outboxEnqueueText(t, out, kindPost, "", "", "second")

	// The first worker is "killed" while it backs off after the 500.
	w1, _ := outboxTestWorker(f, out)
	ctx, cancel := context.WithCancel(context.Background())
	w1.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	w1.pass(ctx)

	if got := out.get(a.ID); !got.SentAt.IsZero() || got.Attempts != 1 || !strings.Contains(got.LastError, "500") {
		t.Fatalf("after a 500 the message must stay queued with the error: %+v", got)
	}
	if got := out.get(b.ID); !got.SentAt.IsZero() {
		t.Fatal("the second message overtook the failed first one")
	}

	// A new worker (a restart) on the same outbox delivers both, in order.
	w2, _ := outboxTestWorker(f, out)
	w2.pass(context.Background())
	if got := slackPostedTexts(f, "chat.postMessage"); strings.Join(got, ",") != "first,first,second" {
		t.Fatalf("postMessage texts = %q", got)
	}
	if out.backlog() != 0 {
		t.Fatalf("backlog = %d after the restart's pass", out.backlog())
	}
}

func TestOutboxTransientBackoffGrows(t *testing.T) {
	f := newFakeSlack(t)
	for range 3 {
		f.On("chat.postMessage", 503, `unavailable`)
	}
	out := newMemOutbox()
	outboxEnqueueText(t, out, kindPost, "", "", "hello")
	w, waits := outboxTestWorker(f, out)
	w.pass(context.Background())
	if len(*waits) != 3 || !((*waits)[0] < (*waits)[1] && (*waits)[1] < (*waits)[2]) {
		t.Fatalf("waits = %v, want 3 growing backoffs", *waits)
	}
	if out.backlog() != 0 {
		t.Fatal("message not delivered after the 503s")
	}
}

func TestOutboxPermanentErrorKeptWithLongBackoffAndOthersContinue(t *testing.T) {
	f := newFakeSlack(t)
	f.On("chat.postMessage", 200, `{"ok":false,"error":"invalid_blocks"}`)
	out := newMemOutbox()
	bad := outboxEnqueueText(t, out, kindPost, "", "", "bad")
	good := outboxEnqueueText(t, out, kindPost, "", "", "good")
	w, waits := outboxTestWorker(f, out)
	before := time.Now()
	w.pass(context.Background())

	got := out.get(bad.ID)
	if !got.SentAt.IsZero() || !strings.Contains(got.LastError, "invalid_blocks") {
		t.Fatalf("refused message must be kept with its error: %+v", got)
	}
	if got.NextTry.Before(before.Add(30 * time.Minute)) {
		t.Fatalf("refused message retried too soon: next try %v", got.NextTry)
	}
	if out.get(good.ID).SentAt.IsZero() {
		t.Fatal("a refused message must not block the ones after it")
	}
	if len(*waits) != 0 {
		t.Fatalf("no wait expected for a permanent error, got %v", *waits)
	}
}

func TestOutboxUpdateWaitsForItsPostAndUsesItsTS(t *testing.T) {
	f := newFakeSlack(t)
	f.On("chat.postMessage", 200, `{"ok":false,"error":"channel_not_found"}`)
	out := newMemOutbox()
	post := outboxEnqueueText(t, out, kindPost, "exp:1:1", "", "running")
	upd := outboxEnqueueText(t, out, kindUpdate, "", "exp:1:1", "done")
	w, _ := outboxTestWorker(f, out)
	w.pass(context.Background())

	if len(f.CallsTo("chat.update")) != 0 || !out.get(upd.ID).SentAt.IsZero() {
		t.Fatal("the update was sent before its post")
	}
	// The channel problem is fixed and the post comes due again.
	out.mu.Lock()
	out.find(post.ID).NextTry = time.Now().Add(-time.Second)
	out.mu.Unlock()
	w.pass(context.Background())

	ts := out.get(post.ID).TS
	up := f.WaitCalls("chat.update", 1)
	if ts == "" || up[0].Form.Get("ts") != ts || up[0].Form.Get("channel") != slackTestChannel || up[0].Form.Get("text") != "done" {
		t.Fatalf("update = %v, want ts %q in %s", up[0].Form, ts, slackTestChannel)
	}
}

func TestOutboxCoalescesQueuedUpdates(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	outboxEnqueueText(t, out, kindPost, "exp:1:2", "", "running")
	outboxEnqueueText(t, out, kindUpdate, "", "exp:1:2", "40%")
	outboxEnqueueText(t, out, kindUpdate, "", "exp:1:2", "80%")
	outboxEnqueueText(t, out, kindUpdate, "", "exp:1:2", "done")
	w, _ := outboxTestWorker(f, out)
	w.pass(context.Background())
	if got := slackPostedTexts(f, "chat.update"); strings.Join(got, ",") != "done" {
		t.Fatalf("updates sent = %q, want only the newest", got)
	}
	if out.backlog() != 0 {
		t.Fatal("superseded updates left in the queue")
	}
}

func TestOutboxReactionAlreadyReactedCountsAsSent(t *testing.T) {
	f := newFakeSlack(t)
	f.On("reactions.add", 200, `{"ok":false,"error":"already_reacted"}`)
	out := newMemOutbox()
	raw, _ := json.Marshal(outPayload{Reaction: "bulb", TargetTS: "1.2"})
	m, _ := out.Enqueue(context.Background(), research.OutboxMessage{Kind: kindReaction, Channel: slackTestChannel, Payload: raw})
	w, _ := outboxTestWorker(f, out)
	w.pass(context.Background())
	c := f.WaitCalls("reactions.add", 1)[0]
	if c.Form.Get("name") != "bulb" || c.Form.Get("timestamp") != "1.2" || c.Form.Get("channel") != slackTestChannel {
		t.Fatalf("reactions.add = %v", c.Form)
	}
	if out.get(m.ID).SentAt.IsZero() {
		t.Fatal("already_reacted must settle the reaction")
	}
}

func TestOutboxFlushStopsAtDeadline(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	outboxEnqueueText(t, out, kindPost, "", "", "a")
	w, _ := outboxTestWorker(f, out)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the flush window is already over
	w.flush(ctx)
	if out.backlog() != 1 || len(f.CallsTo("chat.postMessage")) != 0 {
		t.Fatal("flush after its deadline must leave the queue for the next start")
	}
	w.flush(context.Background())
	if out.backlog() != 0 {
		t.Fatal("flush did not deliver")
	}
}

// panicOnceAPI is a Slack client with a bug that strikes the first post.
type panicOnceAPI struct {
	slackAPI
	mu     sync.Mutex
	struck bool
}

func (p *panicOnceAPI) PostMessage(ctx context.Context, channel string, m chatMessage) (string, error) {
	p.mu.Lock()
	first := !p.struck
	p.struck = true
	p.mu.Unlock()
	if first {
		panic("delivery bug")
	}
	return p.slackAPI.PostMessage(ctx, channel, m)
}

// A bug while delivering is logged and delivery starts again: the message
// stays queued and is sent on the next try.
func TestOutboxDeliverySurvivesAPanic(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	w, _ := outboxTestWorker(f, out)
	w.api = &panicOnceAPI{slackAPI: w.api}
	logs := &bottest.LockedLog{}
	w.log = slog.New(slog.NewJSONHandler(logs, nil))
	w.bugRetry = 10 * time.Millisecond
	outboxEnqueueText(t, out, kindPost, "m1", "", "after the bug")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.runGuarded(ctx, ctx)
	}()
	f.WaitCalls("chat.postMessage", 1)
	cancel()
	<-done
	if got := slackPostedTexts(f, "chat.postMessage"); len(got) != 1 || got[0] != "after the bug" {
		t.Fatalf("posted %q", got)
	}
	if recs := logs.Panics(); len(recs) != 1 || !strings.Contains(recs[0], "delivery bug") {
		t.Fatalf("panic records = %q", recs)
	}
}
