package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// slashRequest is a slash command invocation, in both transports' field
// names (form fields over HTTP, JSON keys in Socket Mode).
type slashRequest struct {
	Command     string `json:"command"`
	Text        string `json:"text"`
	UserID      string `json:"user_id"`
	ChannelID   string `json:"channel_id"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
}

func slashFromForm(v url.Values) slashRequest {
	return slashRequest{
		Command: v.Get("command"), Text: v.Get("text"), UserID: v.Get("user_id"),
		ChannelID: v.Get("channel_id"), ResponseURL: v.Get("response_url"), TriggerID: v.Get("trigger_id"),
	}
}

// ephemeralMax keeps an answer under Slack's 40k message limit.
const ephemeralMax = 38000

// handleCommand does the work of a slash command. The request was already
// acknowledged; answers go to the person (ephemeral), announcements of
// state changes to the channel.
func (s *Bot) handleCommand(ctx context.Context, req slashRequest) {
	// Slack sends the text entity-encoded; decode it once, here.
	req.Text = mrkdwn.Decode(req.Text)
	log := s.log.With("user", req.UserID, "channel", req.ChannelID, "text", req.Text)
	defer research.Recover(log, "slash command "+req.Text, func(p *research.PanicError) {
		s.answer(ctx, req, "🐞 "+bugText(p))
	})
	if err := s.auth.inChannel(req.UserID, req.ChannelID); err != nil {
		log.Warn("slack: command refused: wrong channel")
		s.answer(ctx, req, "🚫 "+err.Error()) // a RefusalError: built with channelRef
		return
	}
	cmd, err := s.parser.Parse(req.Text)
	if err != nil {
		log.Info("slack: bad command", "err", err)
		s.answer(ctx, req, "⚠️ "+mrkdwn.Escape(err.Error()))
		return
	}
	if cmd.ChangesState() {
		if err := s.auth.maySteer(req.UserID, steerWhat(cmd)); err != nil {
			log.Warn("slack: command refused: not an admin", "command", cmd.Name)
			s.answer(ctx, req, "🚫 "+err.Error())
			return
		}
	}
	log.Info("slack: command", "command", cmd.Name)
	if err := s.runCommand(ctx, req, cmd); err != nil {
		log.Warn("slack: command failed", "command", cmd.Name, "err", err)
		s.answer(ctx, req, s.errorText(err))
	}
}

// errorText words a failed command or button for the person: a bug
// apologizes, a refused start says whose run is in the way, an answer
// already formatted for Slack is shown as is, anything else escaped.
func (s *Bot) errorText(err error) string {
	var (
		bug    *research.PanicError
		active *bot.ActiveRunError
		fe     *mrkdwnError
	)
	switch {
	case errors.As(err, &bug):
		return "🐞 " + bugText(bug)
	case errors.As(err, &active):
		r := active.Run
		return fmt.Sprintf("⚠️ A run is already active: *%s* on `%s`, started by %s at %s. Stop it first (`%s stop`).",
			r.Tag, r.Branch, mention(r.StartedBy), r.CreatedAt.Format("2006-01-02 15:04 MST"), s.cfg.CommandName)
	case errors.As(err, &fe):
		return "⚠️ " + fe.msg
	}
	return "⚠️ " + mrkdwn.Escape(err.Error())
}

func steerWhat(c command.Command) string {
	switch c.Name {
	case command.Idea:
		return "add ideas"
	case command.Unpin:
		return "unpin ideas"
	case command.Program, command.ProgramAppend:
		return "edit program.md"
	}
	return string(c.Name) + " runs"
}

// runCommand carries out cmd through the dispatcher and words its reply
// for Slack; an error is shown to the person as is.
func (s *Bot) runCommand(ctx context.Context, req slashRequest, cmd command.Command) error {
	reply, err := s.dispatcher().Do(ctx, bot.Request{Command: cmd, By: req.UserID, Idea: research.Idea{Source: "slash"}})
	if err != nil {
		return err
	}
	return slashReplies[cmd.Name](ctx, s, req, cmd, reply)
}

// dispatcher is the one command dispatcher, with the digest Slack posts.
func (s *Bot) dispatcher() *bot.Dispatcher {
	return &bot.Dispatcher{Controller: s.ctrl, Digest: s.Digest, Logger: s.log}
}

// announce tells the channel about a command when every command is
// announced; otherwise the loop's own message is the announcement, and the
// person gets an ephemeral answer.
func (s *Bot) announce(ctx context.Context, req slashRequest, channel, private string) {
	if s.cfg.Verbosity.announcesCommands() {
		s.post(ctx, channel, nil)
		return
	}
	s.answer(ctx, req, private)
}

// mrkdwnError is an answer already formatted for Slack (mentions, bold),
// shown without escaping.
type mrkdwnError struct{ msg string }

func (e *mrkdwnError) Error() string { return e.msg }

// showExperiment answers with the experiment's figures and diff; a diff
// too long for a message goes as a file in the experiment's thread.
func (s *Bot) showExperiment(ctx context.Context, req slashRequest, exp research.Experiment) {
	full := render.FormatExperiment(exp)
	if len(full) <= inlineMax {
		s.answer(ctx, req, codeBlock(full))
		return
	}
	head := exp
	head.Diff = ""
	summary := strings.TrimSuffix(render.FormatExperiment(head), "(no diff)\n")
	where := s.shareFile(ctx, exp, req.UserID, fmt.Sprintf("exp-%d.diff", exp.Number),
		fmt.Sprintf("Diff of #%d", exp.Number), exp.Diff)
	s.answer(ctx, req, codeBlock(textclip.Bytes(summary, inlineMax))+fmt.Sprintf("\nThe full diff is being posted %s.", where))
}

// shareFile queues content as a file in the experiment's thread (files
// cannot be ephemeral) and says where it will appear.
func (s *Bot) shareFile(ctx context.Context, exp research.Experiment, user, filename, title, content string) string {
	p := outPayload{
		Text:     fmt.Sprintf("%s for %s", title, mention(user)),
		Filename: filename, Title: title, Content: []byte(content),
	}
	where := "in the channel"
	if ts, err := s.out.SentTS(ctx, expKey(exp)); err == nil {
		p.ThreadTS = ts
		where = fmt.Sprintf("in the thread of #%d", exp.Number)
		if link := permalink(s.teamURL(), s.cfg.Channel, ts); link != "" {
			where = "in " + mrkdwn.Link(link, fmt.Sprintf("the thread of #%d", exp.Number))
		}
	}
	if err := s.enqueue(ctx, kindFile, "", "", p); err != nil {
		return "nowhere: queueing it failed (see the bot's log)"
	}
	return where
}

// answer tells the person who gave the command, and only them.
func (s *Bot) answer(ctx context.Context, req slashRequest, text string) {
	if len(text) > ephemeralMax {
		text = textclip.Bytes(text, ephemeralMax)
	}
	msg := chatMessage{Text: text}
	if req.ResponseURL != "" {
		err := s.api.Respond(ctx, req.ResponseURL, msg, false)
		if err == nil {
			return
		}
		s.log.Warn("slack: answering through response_url failed; trying chat.postEphemeral", "err", err)
	}
	if err := s.api.PostEphemeral(ctx, req.ChannelID, req.UserID, msg); err != nil {
		var api *APIError
		hint := ""
		if errors.As(err, &api) {
			hint = errorHint(api.Code)
		}
		s.log.Error("slack: could not answer a command", "user", req.UserID, "err", err, "hint", hint)
	}
}

func quote(s string) string {
	lines := strings.Split(strings.TrimRight(mrkdwn.Escape(s), "\n"), "\n")
	return "> " + strings.Join(lines, "\n> ")
}

// telemetryStatus is the status line about the GPU of the latest finished
// experiment ("" when none was watched since the bot started).
func (s *Bot) telemetryStatus() string {
	s.mu.Lock()
	t := s.lastTelemetry
	s.mu.Unlock()
	if t == nil {
		return ""
	}
	return fmt.Sprintf("last gpu:  #%d %s\n", t.Number, render.FormatTelemetry(t.Telemetry))
}
