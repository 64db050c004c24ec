package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// pinIdeaMeta travels in the modal's private_metadata: which experiment
// the follow-up idea is about and the thread to answer in.
type pinIdeaMeta struct {
	Run    int64  `json:"run"`
	Number int    `json:"n"`
	Exp    int64  `json:"exp"`
	Thread string `json:"thread"`
}

// pinIdeaView is the one-field modal of *Pin follow-up idea*.
func pinIdeaView(run int64, n int, thread string, expID int64) json.RawMessage {
	meta, _ := json.Marshal(pinIdeaMeta{Run: run, Number: n, Exp: expID, Thread: thread})
	view := map[string]any{
		"type":             "modal",
		"callback_id":      pinIdeaCallbackID,
		"private_metadata": string(meta),
		"title":            map[string]any{"type": "plain_text", "text": fmt.Sprintf("Idea after #%d", n)},
		"submit":           map[string]any{"type": "plain_text", "text": "Pin idea"},
		"close":            map[string]any{"type": "plain_text", "text": "Cancel"},
		"blocks": []any{map[string]any{
			"type": "input", "block_id": pinIdeaBlock,
			"label": map[string]any{"type": "plain_text", "text": "What should a next experiment try?"},
			"element": map[string]any{"type": "plain_text_input", "action_id": pinIdeaAction, "multiline": true,
				"max_length": ideaMaxChars},
		}},
	}
	raw, _ := json.Marshal(view)
	return raw
}

// pinIdeaSubmitted pins the modal's idea, or keeps the modal open with
// what is wrong under the field.
func (s *Bot) pinIdeaSubmitted(ctx context.Context, p actionPayload) json.RawMessage {
	if err := s.auth.maySteer(p.User.ID, "add ideas"); err != nil {
		return viewErrors(map[string]string{pinIdeaBlock: err.Error()})
	}
	var meta pinIdeaMeta
	_ = json.Unmarshal([]byte(p.View.PrivateMetadata), &meta)
	text := strings.TrimSpace(p.View.State.Values[pinIdeaBlock][pinIdeaAction].Value)
	switch {
	case text == "":
		return viewErrors(map[string]string{pinIdeaBlock: "Write the idea, or cancel."})
	case utf8.RuneCountInString(text) > ideaMaxChars:
		return viewErrors(map[string]string{pinIdeaBlock: fmt.Sprintf("An idea is at most %d characters.", ideaMaxChars)})
	}
	idea, err := s.pinIdea(ctx, p.User.ID, text, research.Idea{Source: "button", ThreadTS: meta.Thread, FromExp: meta.Exp})
	var bug *research.PanicError
	switch {
	case errors.As(err, &bug):
		return viewErrors(map[string]string{pinIdeaBlock: bugText(bug) + " The idea was not pinned."})
	case err != nil:
		return viewErrors(map[string]string{pinIdeaBlock: "Not pinned: " + err.Error()})
	}
	s.log.Info("slack: idea pinned from a button", "user", p.User.ID, "id", idea.ID, "after", meta.Number)
	if meta.Thread != "" {
		_ = s.enqueue(ctx, kindPost, "", "", outPayload{ThreadTS: meta.Thread,
			Text: fmt.Sprintf("💡 %s pinned idea [%d] after #%d: %s", mention(p.User.ID), idea.ID, meta.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(idea.Text), 300)))})
	}
	return nil
}

// suggestIdea is the *Suggest as idea* message shortcut: the message's
// text becomes a pinned idea credited to whoever wrote it.
func (s *Bot) suggestIdea(ctx context.Context, p actionPayload) {
	defer research.Recover(s.log, "suggest as idea", func(bug *research.PanicError) { s.tell(ctx, p, "🐞 "+bugText(bug)) })
	if err := s.steer(p, "add ideas"); err != nil {
		s.tell(ctx, p, "⚠️ "+err.Error())
		return
	}
	text := strings.TrimSpace(mrkdwn.Decode(p.Message.Text))
	if text == "" {
		s.tell(ctx, p, "⚠️ That message has no text to take as an idea.")
		return
	}
	if utf8.RuneCountInString(text) > ideaMaxChars {
		s.tell(ctx, p, fmt.Sprintf("⚠️ That message is longer than an idea may be (%d characters); pin a shorter summary with `%s idea TEXT`.", ideaMaxChars, s.cfg.CommandName))
		return
	}
	if !s.seen.first("suggest:" + p.Message.TS) {
		s.tell(ctx, p, "That message is already a pinned idea.")
		return
	}
	author := p.Message.User
	if author == "" || p.Message.BotID != "" {
		author = p.User.ID // a bot's message is credited to who picked it
	}
	idea, err := s.pinIdea(ctx, author, text, research.Idea{Source: "shortcut", ThreadTS: p.Message.ThreadTS, MessageTS: p.Message.TS})
	var bug *research.PanicError
	switch {
	case errors.As(err, &bug):
		s.tell(ctx, p, "🐞 "+bugText(bug))
		return
	case err != nil:
		s.tell(ctx, p, "⚠️ Not pinned: "+mrkdwn.Escape(err.Error()))
		return
	}
	_ = s.enqueue(ctx, kindReaction, "", "", outPayload{Reaction: "bulb", TargetTS: p.Message.TS})
	s.tell(ctx, p, fmt.Sprintf("💡 Pinned idea [%d] from %s: %s", idea.ID, mention(author), mrkdwn.Escape(textclip.Bytes(research.OneLine(idea.Text), 300))))
}

// pinIdea pins text as by's idea through the dispatcher, with what Slack
// knows of where it came from (source, thread, message, experiment).
func (s *Bot) pinIdea(ctx context.Context, by, text string, from research.Idea) (research.Idea, error) {
	r, err := s.dispatcher().Do(ctx, bot.Request{Command: command.Command{Name: command.Idea, Text: text}, By: by, Idea: from})
	if err != nil {
		return research.Idea{}, err
	}
	return *r.Idea, nil
}
