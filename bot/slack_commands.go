package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/autoresearch/autoresearch/research"
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
func (s *Slack) handleCommand(ctx context.Context, req slashRequest) {
	// Slack sends the text entity-encoded; decode it once, here.
	req.Text = decodeSlackText(req.Text)
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
		s.answer(ctx, req, "⚠️ "+escapeText(err.Error()))
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
		msg := escapeText(err.Error())
		var fe *mrkdwnError
		if errors.As(err, &fe) {
			msg = fe.msg
		}
		s.answer(ctx, req, "⚠️ "+msg)
	}
}

func steerWhat(c Command) string {
	switch c.Name {
	case CmdIdea:
		return "add ideas"
	case CmdUnpin:
		return "unpin ideas"
	case CmdProgram, CmdProgramAppend:
		return "edit program.md"
	}
	return string(c.Name) + " runs"
}

// runCommand carries out cmd; an error is shown to the person as is.
func (s *Slack) runCommand(ctx context.Context, req slashRequest, cmd Command) error {
	user := req.UserID
	switch cmd.Name {
	case CmdHelp:
		help := strings.Replace(HelpText(), "commands:", "usage: "+s.cfg.CommandName+" COMMAND", 1)
		s.answer(ctx, req, codeBlock(help))

	case CmdStart:
		run, err := s.ctrl.Start(ctx, research.StartRequest{Tag: cmd.Tag, From: cmd.From, By: user})
		if err != nil {
			return s.explainStartError(ctx, err)
		}
		from := ""
		if cmd.From != "" {
			from = " from `" + escapeText(cmd.From) + "`"
		}
		s.announce(ctx, req, fmt.Sprintf("▶️ %s started run *%s* on `%s`%s", mention(user), run.Tag, run.Branch, from),
			fmt.Sprintf("▶️ Run *%s* is starting on `%s`%s; its header follows in the channel.", run.Tag, run.Branch, from))

	case CmdStop:
		if err := s.ctrl.Stop(ctx, user, cmd.Now); err != nil {
			return err
		}
		how := "after the running experiment"
		if cmd.Now {
			how = "now"
		}
		if s.cfg.Verbosity.announcesCommands() {
			s.post(ctx, fmt.Sprintf("⏹️ %s stopped the run (%s)", mention(user), how), nil)
			break
		}
		// One message: "stopping" now, replaced by the run's end.
		key := fmt.Sprintf("stop:%d", s.now().UnixNano())
		s.mu.Lock()
		s.stopNotice = key
		s.mu.Unlock()
		_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: fmt.Sprintf("⏹️ %s is stopping the run (%s)", mention(user), how)})

	case CmdPause:
		if err := s.ctrl.Pause(ctx, user); err != nil {
			return err
		}
		s.announce(ctx, req, fmt.Sprintf("⏸️ %s paused the run (after the running experiment)", mention(user)),
			"⏸️ Paused: the running experiment finishes first; `"+s.cfg.CommandName+" resume` continues.")

	case CmdResume:
		if err := s.ctrl.Resume(ctx, user); err != nil {
			return err
		}
		s.announce(ctx, req, fmt.Sprintf("▶️ %s resumed the run", mention(user)), "▶️ Resumed.")

	case CmdStatus:
		st, err := s.ctrl.Status(ctx)
		if err != nil {
			return err
		}
		s.answer(ctx, req, codeBlock(FormatStatus(st)+s.telemetryStatus()))

	case CmdIdea:
		idea, err := s.ctrl.AddIdea(ctx, research.Idea{Text: cmd.Text, Author: user, Source: "slash"})
		if err != nil {
			return err
		}
		s.answer(ctx, req, fmt.Sprintf("💡 Pinned idea [%d]: %s", idea.ID, escapeText(oneLine(idea.Text))))

	case CmdIdeas:
		ideas, err := s.ctrl.Ideas(ctx)
		if err != nil {
			return err
		}
		s.answer(ctx, req, codeBlock(FormatIdeas(ideas)))

	case CmdUnpin:
		if err := s.ctrl.Unpin(ctx, cmd.ID, user); err != nil {
			return err
		}
		s.answer(ctx, req, fmt.Sprintf("Unpinned idea [%d].", cmd.ID))

	case CmdProgram:
		return s.openProgramEditor(ctx, req)

	case CmdProgramAppend:
		if _, err := s.ctrl.EditProgram(ctx, research.ProgramEdit{Kind: "append", Text: cmd.Text, Author: user}); err != nil {
			return err
		}
		s.announce(ctx, req, fmt.Sprintf("📝 %s queued an addition to program.md (committed between experiments):\n%s",
			mention(user), quote(truncate(cmd.Text, 2000))),
			"📝 Queued: your addition to program.md is committed between experiments, and the channel sees it then.")

	case CmdResults:
		exps, err := s.ctrl.Results(ctx, cmd.ResultsLimit())
		if err != nil {
			return err
		}
		table := FormatResultsTable(exps)
		if len(table) > ephemeralMax {
			table = "…\n" + table[len(table)-ephemeralMax:]
		}
		s.answer(ctx, req, codeBlock(table))

	case CmdBest:
		st, err := s.ctrl.Status(ctx)
		if err != nil {
			return err
		}
		if st.Best == nil {
			s.answer(ctx, req, "No successful experiment yet.")
			return nil
		}
		return s.showExperiment(ctx, req, *st.Best)

	case CmdShow:
		exp, err := s.ctrl.Experiment(ctx, cmd.N)
		if err != nil {
			return err
		}
		return s.showExperiment(ctx, req, exp)

	case CmdLog:
		exp, err := s.ctrl.Experiment(ctx, cmd.N)
		if err != nil {
			return err
		}
		text, err := s.ctrl.Log(ctx, cmd.N)
		if err != nil {
			return err
		}
		tail := FormatLogTail(text, 200)
		if strings.TrimSpace(tail) == "" {
			s.answer(ctx, req, fmt.Sprintf("The log of #%d is empty.", cmd.N))
			return nil
		}
		where := s.shareFile(ctx, exp, user, fmt.Sprintf("exp-%d-log.txt", exp.Number),
			fmt.Sprintf("Log tail of #%d", exp.Number), tail)
		s.answer(ctx, req, fmt.Sprintf("The log tail of #%d is being posted %s.", exp.Number, where))

	case CmdRetry:
		r, ok := s.ctrl.(Retrier)
		if !ok {
			s.answer(ctx, req, "`retry` is not available in this version of the bot.")
			return nil
		}
		if err := r.Retry(ctx, cmd.N, user); err != nil {
			return err
		}
		s.announce(ctx, req, fmt.Sprintf("🔁 %s asked to retry experiment #%d", mention(user), cmd.N),
			fmt.Sprintf("🔁 #%d is queued to train again; its message follows in the channel.", cmd.N))

	case CmdReview:
		if err := s.ctrl.SetReview(ctx, cmd.On, user); err != nil {
			return err
		}
		if cmd.On {
			s.post(ctx, fmt.Sprintf("🔎 %s turned the review gate on: each proposal waits here for *Approve* or *Reject* before it trains%s.",
				mention(user), s.reviewTimeoutNote()), nil)
		} else {
			s.post(ctx, fmt.Sprintf("🔎 %s turned the review gate off: proposals train without waiting.", mention(user)), nil)
		}

	case CmdDigest:
		if s.Digest == nil {
			s.answer(ctx, req, "The digest is not available in this version of the bot.")
			return nil
		}
		d, err := s.Digest(ctx)
		if err != nil {
			return err
		}
		if err := s.PostDigest(ctx, d); err != nil {
			return err
		}
		s.answer(ctx, req, "The digest is being posted in the channel.")

	default:
		return fmt.Errorf("%q is not supported in Slack", cmd.Name)
	}
	return nil
}

// announce tells the channel about a command when every command is
// announced; otherwise the loop's own message is the announcement, and the
// person gets an ephemeral answer.
func (s *Slack) announce(ctx context.Context, req slashRequest, channel, private string) {
	if s.cfg.Verbosity.announcesCommands() {
		s.post(ctx, channel, nil)
		return
	}
	s.answer(ctx, req, private)
}

// explainStartError answers "one run at a time" with who runs what since when.
func (s *Slack) explainStartError(ctx context.Context, err error) error {
	st, serr := s.ctrl.Status(ctx)
	if serr != nil || !st.Active || st.Run == nil {
		return err
	}
	r := st.Run
	return &mrkdwnError{fmt.Sprintf("A run is already active: *%s* on `%s`, started by %s at %s. Stop it first (`%s stop`).",
		r.Tag, r.Branch, mention(r.StartedBy), r.CreatedAt.Format("2006-01-02 15:04 MST"), s.cfg.CommandName)}
}

// mrkdwnError is an answer already formatted for Slack (mentions, bold),
// shown without escaping.
type mrkdwnError struct{ msg string }

func (e *mrkdwnError) Error() string { return e.msg }

// showExperiment answers with the experiment's figures and diff; a diff
// too long for a message goes as a file in the experiment's thread.
func (s *Slack) showExperiment(ctx context.Context, req slashRequest, exp research.Experiment) error {
	full := FormatExperiment(exp)
	if len(full) <= inlineMax {
		s.answer(ctx, req, codeBlock(full))
		return nil
	}
	head := exp
	head.Diff = ""
	summary := strings.TrimSuffix(FormatExperiment(head), "(no diff)\n")
	where := s.shareFile(ctx, exp, req.UserID, fmt.Sprintf("exp-%d.diff", exp.Number),
		fmt.Sprintf("Diff of #%d", exp.Number), exp.Diff)
	s.answer(ctx, req, codeBlock(truncate(summary, inlineMax))+fmt.Sprintf("\nThe full diff is being posted %s.", where))
	return nil
}

// shareFile queues content as a file in the experiment's thread (files
// cannot be ephemeral) and says where it will appear.
func (s *Slack) shareFile(ctx context.Context, exp research.Experiment, user, filename, title, content string) string {
	p := outPayload{
		Text:     fmt.Sprintf("%s for %s", title, mention(user)),
		Filename: filename, Title: title, Content: []byte(content),
	}
	where := "in the channel"
	if ts, err := s.out.SentTS(ctx, expKey(exp)); err == nil {
		p.ThreadTS = ts
		where = fmt.Sprintf("in the thread of #%d", exp.Number)
		if link := permalink(s.teamURL(), s.cfg.Channel, ts); link != "" {
			where = "in " + slackLink(link, fmt.Sprintf("the thread of #%d", exp.Number))
		}
	}
	if err := s.enqueue(ctx, kindFile, "", "", p); err != nil {
		return "nowhere: queueing it failed (see the bot's log)"
	}
	return where
}

// answer tells the person who gave the command, and only them.
func (s *Slack) answer(ctx context.Context, req slashRequest, text string) {
	if len(text) > ephemeralMax {
		text = truncate(text, ephemeralMax)
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
	lines := strings.Split(strings.TrimRight(escapeText(s), "\n"), "\n")
	return "> " + strings.Join(lines, "\n> ")
}

// telemetryStatus is the status line about the GPU of the latest finished
// experiment ("" when none was watched since the bot started).
func (s *Slack) telemetryStatus() string {
	s.mu.Lock()
	t := s.lastTelemetry
	s.mu.Unlock()
	if t == nil {
		return ""
	}
	return fmt.Sprintf("last gpu:  #%d %s\n", t.Number, FormatTelemetry(t.Telemetry))
}
