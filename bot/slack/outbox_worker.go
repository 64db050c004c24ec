package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/ctxsleep"
)

const (
	// outboxBatch bounds one read of the queue.
	outboxBatch = 100
	// outboxPoll re-reads the queue without a nudge: messages queued by
	// another process, permanent failures coming due again.
	outboxPoll = 5 * time.Second
	// permanentBackoff is how long a message Slack refused outright waits
	// before it is tried again. It is retried rather than dropped: the cause
	// (bot removed from the channel, revoked token) is often fixed by a person.
	permanentBackoff = time.Hour
	maxBackoff       = 5 * time.Minute
)

// outboxWorker delivers the outbox to Slack, one message at a time in ID
// order.
//
// Ordering: a 429 or a transient failure stops the pass and the same
// message is retried first (head-of-line), so nothing overtakes it. Its
// NextTry stays "now" in the store, for the same reason across restarts:
// PendingMessages hides messages that are not due, and a hidden message
// would be overtaken. Only a permanent refusal gets a NextTry in the
// future; what depends on it (updates of, replies to a message that was
// never posted) waits, since it needs the ts.
type outboxWorker struct {
	api     slackAPI
	out     Outbox
	log     *slog.Logger
	channel string
	teamURL func() string
	wake    chan struct{}
	now     func() time.Time
	// sleep waits d or until ctx is done; tests replace it to see the waits.
	sleep func(ctx context.Context, d time.Duration) error

	backoff time.Duration // current transient backoff, 0 after a success
	// bugRetry is how long delivery waits after a panic before it tries again.
	bugRetry time.Duration
}

func newOutboxWorker(api slackAPI, out Outbox, log *slog.Logger, channel string, teamURL func() string) *outboxWorker {
	return &outboxWorker{
		api: api, out: out, log: log, channel: channel, teamURL: teamURL,
		wake:     make(chan struct{}, 1),
		now:      time.Now,
		bugRetry: 30 * time.Second,
		sleep:    ctxsleep.Sleep,
	}
}

// nudge tells the worker there is something new; it never blocks.
func (w *outboxWorker) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run delivers until ctx is done, then makes one last pass with flushCtx
// (which should expire a couple of seconds later).
// runGuarded is run that survives a bug: a panic is logged and delivery
// starts again after a pause, so one bad message cannot stop the others
// for good.
func (w *outboxWorker) runGuarded(ctx, flushCtx context.Context) {
	for {
		if research.Catch(w.log, "outbox delivery", func() { w.run(ctx, flushCtx) }) == nil || ctx.Err() != nil {
			return
		}
		t := time.NewTimer(w.bugRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = research.Catch(w.log, "outbox flush", func() { w.flush(flushCtx) })
			return
		case <-t.C:
		}
	}
}

func (w *outboxWorker) run(ctx, flushCtx context.Context) {
	for {
		wait := w.pass(ctx)
		if ctx.Err() != nil {
			w.flush(flushCtx)
			return
		}
		if wait <= 0 {
			wait = outboxPoll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			w.flush(flushCtx)
			return
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// flush sends what it can before flushCtx expires; anything left stays
// queued for the next start.
func (w *outboxWorker) flush(ctx context.Context) {
	for ctx.Err() == nil {
		wait, progressed := w.passOnce(ctx)
		if !progressed || wait > 0 {
			break
		}
	}
	if n, err := w.out.OutboxBacklog(context.WithoutCancel(ctx)); err == nil && n > 0 {
		w.log.Info("slack outbox: messages left for the next start", "count", n)
	}
}

// pass delivers until the queue holds nothing deliverable, or a failure asks
// to wait; it returns how long to wait (0: nothing to do until nudged).
func (w *outboxWorker) pass(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		wait, progressed := w.passOnce(ctx)
		if wait > 0 {
			if err := w.sleep(ctx, wait); err != nil {
				return 0
			}
			continue
		}
		if !progressed {
			return 0
		}
	}
	return 0
}

// passOnce reads one batch and delivers it in order. It returns a wait when
// it stopped on a 429 or transient error, and whether anything was settled
// (sent or marked failed), so callers know if another batch may help.
func (w *outboxWorker) passOnce(ctx context.Context) (wait time.Duration, progressed bool) {
	msgs, err := w.out.PendingMessages(ctx, outboxBatch)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("slack outbox: reading the queue", "err", err)
		}
		return outboxPoll, false
	}
	for i, m := range msgs {
		if ctx.Err() != nil {
			return 0, progressed
		}
		if m.Kind == kindUpdate && supersededUpdate(m, msgs[i+1:]) {
			// A later update of the same message replaces this one: after a
			// backlog only the newest progress is worth a request.
			if err := w.out.MarkSent(ctx, m.ID, ""); err == nil {
				progressed = true
			}
			continue
		}
		ts, err := w.deliverThroughShutdown(ctx, m)
		var blocked *blockedError
		switch {
		case err == nil:
			w.backoff = 0
			// Recorded even when shutdown began meanwhile: the message was
			// sent, and an unrecorded one is sent again at the flush.
			if err := w.out.MarkSent(context.WithoutCancel(ctx), m.ID, ts); err != nil {
				// Sent but not recorded: it will be sent again. Better twice
				// than lost; say so.
				w.log.Error("slack outbox: recording a sent message", "id", m.ID, "err", err)
			}
			progressed = true
		case errors.As(err, &blocked):
			// Waits for the message it belongs to; try the rest.
			continue
		default:
			return w.failed(ctx, m, err), true
		}
	}
	return 0, progressed
}

// failed records a delivery failure and says how long to wait before the
// next pass (0: go on with the next message).
func (w *outboxWorker) failed(ctx context.Context, m research.OutboxMessage, err error) time.Duration {
	var rl *RateLimitError
	var api *APIError
	switch {
	case errors.As(err, &rl):
		w.log.Warn("slack outbox: rate limited; waiting", "id", m.ID, "retry_after", rl.RetryAfter)
		_ = w.out.MarkFailed(ctx, m.ID, err.Error(), w.now())
		return max(rl.RetryAfter, time.Second)
	case errors.As(err, &api):
		next := w.now().Add(permanentBackoff)
		w.log.Error("slack outbox: Slack refused a message; retrying in an hour",
			"id", m.ID, "kind", m.Kind, "key", m.Key, "error", api.Code, "hint", errorHint(api.Code))
		if err := w.out.MarkFailed(ctx, m.ID, err.Error(), next); err != nil {
			// Unrecorded, the message would be tried again at once: pause.
			w.log.Error("slack outbox: recording a failure", "id", m.ID, "err", err)
			return outboxPoll
		}
		return 0
	default:
		w.backoff = min(max(2*w.backoff, time.Second), maxBackoff)
		w.log.Warn("slack outbox: delivery failed; will retry", "id", m.ID, "err", err, "backoff", w.backoff)
		_ = w.out.MarkFailed(ctx, m.ID, err.Error(), w.now())
		return w.backoff
	}
}

func supersededUpdate(m research.OutboxMessage, later []research.OutboxMessage) bool {
	for _, l := range later {
		if l.Kind == kindUpdate && l.ThreadKey == m.ThreadKey && l.Channel == m.Channel {
			return true
		}
	}
	return false
}

// inFlightGrace is how long a request already on its way to Slack may go
// on after shutdown began: cut off, Slack may have posted it without the
// bot knowing, and the flush would post it a second time.
const inFlightGrace = 2 * time.Second

// deliverThroughShutdown delivers m; a request in flight when ctx ends gets
// inFlightGrace to finish.
func (w *outboxWorker) deliverThroughShutdown(ctx context.Context, m research.OutboxMessage) (string, error) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(inFlightGrace, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	defer stop()
	return w.deliver(dctx, m)
}

// blockedError: the message needs the ts of a message not sent yet.
type blockedError struct{ key string }

func (e *blockedError) Error() string { return "waiting for message " + e.key }

func (w *outboxWorker) deliver(ctx context.Context, m research.OutboxMessage) (string, error) {
	var p outPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return "", &APIError{Method: "outbox", Code: "bad_payload"}
	}
	channel := m.Channel
	if channel == "" {
		channel = w.channel
	}
	var parentTS string
	if m.ThreadKey != "" {
		ts, err := w.out.SentTS(ctx, m.ThreadKey)
		if errors.Is(err, research.ErrNotFound) {
			return "", &blockedError{m.ThreadKey}
		}
		if err != nil {
			return "", &TransientError{Method: "outbox", Err: err}
		}
		parentTS = ts
	}
	text := p.Text
	if p.LinkKey != "" {
		if ts, err := w.out.SentTS(ctx, p.LinkKey); err == nil {
			if link := permalink(w.teamURL(), channel, ts); link != "" {
				text += " " + mrkdwn.Link(link, "view")
			}
		}
	}
	msg := chatMessage{Text: text, Blocks: p.Blocks, ThreadTS: p.ThreadTS}
	if parentTS != "" {
		msg.ThreadTS = parentTS
	}
	msg.Broadcast = p.Broadcast && msg.ThreadTS != ""
	switch m.Kind {
	case kindPost, "reply", "":
		return w.api.PostMessage(ctx, channel, msg)
	case kindUpdate:
		if parentTS == "" {
			return "", &APIError{Method: "outbox", Code: "update_without_target"}
		}
		msg.ThreadTS = ""
		return parentTS, w.api.UpdateMessage(ctx, channel, parentTS, msg)
	case kindReaction:
		err := w.api.AddReaction(ctx, channel, p.TargetTS, p.Reaction)
		var api *APIError
		if errors.As(err, &api) && api.Code == "already_reacted" {
			err = nil // sent before a restart, recorded too late
		}
		return p.TargetTS, err
	case kindFile:
		return "", w.api.UploadFile(ctx, fileUpload{
			Channel: channel, ThreadTS: msg.ThreadTS, Filename: p.Filename,
			Title: p.Title, Comment: text, Content: p.Content,
		})
	}
	return "", &APIError{Method: "outbox", Code: "unknown_kind_" + m.Kind}
}

// permalink builds a message link from the workspace URL auth.test gave.
func permalink(teamURL, channel, ts string) string {
	if teamURL == "" || ts == "" {
		return ""
	}
	if !strings.HasSuffix(teamURL, "/") {
		teamURL += "/"
	}
	return teamURL + "archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
}

// errorHint says what a person can do about a Slack error code.
func errorHint(code string) string {
	switch code {
	case "channel_not_found":
		return "SLACK_CHANNEL is not a channel the bot can see: check the ID; invite the bot to private channels"
	case "not_in_channel":
		return "invite the bot to the channel: /invite @<bot name>"
	case "is_archived":
		return "the channel is archived: unarchive it or set SLACK_CHANNEL to another"
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		return "SLACK_BOT_TOKEN was refused: reinstall the app and copy the Bot User OAuth Token (xoxb-...)"
	case "missing_scope":
		return "the app lacks a scope: add it in the app's OAuth settings (see the manifest) and reinstall"
	case "invalid_blocks", "invalid_blocks_format", "msg_too_long":
		return "the message is malformed (a bug): please report it with the log line"
	}
	return ""
}
