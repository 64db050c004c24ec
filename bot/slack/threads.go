package slack

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
)

// ideaReaction acknowledges a thread reply that became an idea.
const ideaReaction = "bulb"

// eventEnvelope is an Events API callback (HTTP body, or Socket Mode
// events_api payload).
type eventEnvelope struct {
	Type      string          `json:"type"` // event_callback, url_verification
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

// messageEvent is a `message` event; edits (subtype message_changed) carry
// the new version in Message.
type messageEvent struct {
	Type     string        `json:"type"`
	Subtype  string        `json:"subtype"`
	Channel  string        `json:"channel"`
	User     string        `json:"user"`
	BotID    string        `json:"bot_id"`
	Text     string        `json:"text"`
	TS       string        `json:"ts"`
	ThreadTS string        `json:"thread_ts"`
	Message  *messageEvent `json:"message"`
	// PreviousMessage is an edit's version before the change.
	PreviousMessage *messageEvent `json:"previous_message"`
}

// handleEvent handles one Events API event (already acknowledged and
// de-duplicated).
func (s *Bot) handleEvent(ctx context.Context, env eventEnvelope) {
	defer research.Recover(s.log, "event "+env.EventID, nil) // handleMessage tells the person
	var ev messageEvent
	if err := json.Unmarshal(env.Event, &ev); err != nil {
		s.log.Warn("slack: unreadable event", "event_id", env.EventID, "err", err)
		return
	}
	if ev.Type == "app_home_opened" {
		s.homeOpened(ctx, ev.User)
		return
	}
	if ev.Type != "message" {
		s.log.Debug("slack: event ignored", "type", ev.Type)
		return
	}
	s.handleMessage(ctx, ev)
}

// handleMessage turns a person's reply in an experiment's thread into an
// idea (or updates the idea when the reply is edited). Everything else is
// ignored: other channels, top-level messages, other threads, bots.
func (s *Bot) handleMessage(ctx context.Context, ev messageEvent) {
	if ev.Channel != s.cfg.Channel {
		s.log.Debug("slack: message outside the channel ignored", "channel", ev.Channel)
		return
	}
	defer research.Recover(s.log, "message event", func(p *research.PanicError) {
		if ev.User != "" && ev.Channel != "" {
			_ = s.api.PostEphemeral(ctx, ev.Channel, ev.User, chatMessage{Text: "🐞 " + bugText(p), ThreadTS: ev.ThreadTS})
		}
	})
	edited, before := false, ""
	switch ev.Subtype {
	case "", "thread_broadcast", "file_share": // a reply with an attachment still has its text
	case "message_changed":
		if ev.Message == nil {
			return
		}
		edited = true
		if ev.PreviousMessage != nil {
			before = strings.TrimSpace(mrkdwn.Decode(ev.PreviousMessage.Text))
		}
		inner := *ev.Message
		inner.Channel = ev.Channel
		// Slack also sends message_changed when it adds a link preview:
		// the text is the same, and the idea must not be touched.
		if prev := ev.PreviousMessage; prev != nil &&
			strings.TrimSpace(mrkdwn.Decode(prev.Text)) == strings.TrimSpace(mrkdwn.Decode(inner.Text)) {
			return
		}
		ev = inner
	default:
		// bot_message, message_deleted, channel_join, file_share without text...
		return
	}
	me := s.botUser()
	if ev.BotID != "" || ev.Subtype == "bot_message" || ev.User == "" || ev.User == me.UserID {
		return
	}
	if ev.ThreadTS == "" || ev.ThreadTS == ev.TS {
		return // not a reply
	}
	// Slack sends the text entity-encoded; decode it once, here.
	text := strings.TrimSpace(mrkdwn.Decode(ev.Text))
	if text == "" {
		return
	}
	key, err := s.out.KeyForTS(ctx, ev.ThreadTS)
	if err != nil {
		if !errors.Is(err, research.ErrNotFound) {
			s.log.Error("slack: looking up a thread", "ts", ev.ThreadTS, "err", err)
		}
		return
	}
	runID, number, ok := parseIdeaThreadKey(key)
	if !ok {
		return // a thread under another bot message (run header, digest...)
	}
	log := s.log.With("user", ev.User, "experiment", number, "ts", ev.TS)
	if err := s.auth.maySteer(ev.User, "add ideas"); err != nil {
		log.Warn("slack: thread idea refused: not an admin")
		if perr := s.api.PostEphemeral(ctx, ev.Channel, ev.User, chatMessage{
			// A RefusalError: its mentions are built with userMention.
			Text: "🚫 " + err.Error() + " Your reply was not taken as an idea.", ThreadTS: ev.ThreadTS,
		}); perr != nil {
			log.Error("slack: telling a person their idea was refused", "err", perr)
		}
		return
	}
	if edited {
		if before == text {
			return // an unfurl or attachment change, not the words
		}
		if err := s.ctrl.EditIdea(ctx, ev.TS, before, text); err != nil {
			if errors.Is(err, research.ErrNotFound) {
				return // the reply was not taken as an idea
			}
			log.Warn("slack: updating an idea from an edited reply", "err", err)
			if perr := s.api.PostEphemeral(ctx, ev.Channel, ev.User, chatMessage{
				Text: "⚠️ Your edit did not change the idea: " + mrkdwn.Escape(err.Error()), ThreadTS: ev.ThreadTS,
			}); perr != nil {
				log.Error("slack: telling a person their idea edit failed", "err", perr)
			}
			return
		}
		log.Info("slack: idea updated from an edited reply")
		return
	}
	from := research.Idea{Source: "thread", ThreadTS: ev.ThreadTS, MessageTS: ev.TS}
	if exp, err := s.ctrl.Experiment(ctx, number); err == nil && exp.RunID == runID {
		from.FromExp = exp.ID
	}
	added, err := s.pinIdea(ctx, ev.User, text, from)
	if err != nil {
		log.Warn("slack: adding a thread idea", "err", err)
		msg := "⚠️ Your reply could not be pinned as an idea: " + mrkdwn.Escape(err.Error())
		var bug *research.PanicError
		if errors.As(err, &bug) {
			msg = "🐞 " + bugText(bug)
		}
		if perr := s.api.PostEphemeral(ctx, ev.Channel, ev.User, chatMessage{Text: msg, ThreadTS: ev.ThreadTS}); perr != nil {
			log.Error("slack: telling a person their idea failed", "err", perr)
		}
		return
	}
	log.Info("slack: thread reply pinned as an idea", "idea", added.ID)
	_ = s.enqueue(ctx, kindReaction, "", "", outPayload{Reaction: ideaReaction, TargetTS: ev.TS})
}
