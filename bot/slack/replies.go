package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// slashReply words a command's reply for Slack: an ephemeral answer to the
// person, an announcement in the channel, a file or a modal. The work was
// done by the dispatcher; these only render.
type slashReply func(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, r bot.Reply) error

// slashReplies has an entry for every command (TestEveryCommandHasAHandler).
var slashReplies = map[command.Name]slashReply{
	command.Help: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		s.answer(ctx, req, codeBlock(strings.Replace(r.Text, "commands:", "usage: "+s.cfg.CommandName+" COMMAND", 1)))
		return nil
	},
	command.Start:  slashStarted,
	command.Stop:   slashStopping,
	command.Pause:  slashPaused,
	command.Resume: slashResumed,
	command.Status: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		s.answer(ctx, req, codeBlock(r.Text+s.telemetryStatus()))
		return nil
	},
	command.Idea: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		s.answer(ctx, req, fmt.Sprintf("💡 Pinned idea [%d]: %s", r.Idea.ID, mrkdwn.Escape(research.OneLine(r.Idea.Text))))
		return nil
	},
	command.Ideas: answerCode,
	command.Unpin: func(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, _ bot.Reply) error {
		s.answer(ctx, req, fmt.Sprintf("Unpinned idea [%d].", cmd.ID))
		return nil
	},
	command.Program: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		return s.openProgramEditor(ctx, req, r.Program)
	},
	command.ProgramAppend: slashAppended,
	command.Results: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		table := r.Text
		if len(table) > ephemeralMax {
			table = "…\n" + table[len(table)-ephemeralMax:]
		}
		s.answer(ctx, req, codeBlock(table))
		return nil
	},
	command.Best: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		if r.Experiment == nil {
			s.answer(ctx, req, "No successful experiment yet.")
			return nil
		}
		s.showExperiment(ctx, req, *r.Experiment)
		return nil
	},
	command.Show: func(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
		s.showExperiment(ctx, req, *r.Experiment)
		return nil
	},
	command.Log:    slashLog,
	command.Retry:  slashRetried,
	command.Review: slashReviewSet,
	command.Digest: slashDigest,
}

func answerCode(ctx context.Context, s *Bot, req slashRequest, _ command.Command, r bot.Reply) error {
	s.answer(ctx, req, codeBlock(r.Text))
	return nil
}

func slashStarted(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, r bot.Reply) error {
	from := ""
	if cmd.From != "" {
		from = " from `" + mrkdwn.Escape(cmd.From) + "`"
	}
	s.announce(ctx, req, fmt.Sprintf("▶️ %s started run *%s* on `%s`%s", mention(req.UserID), r.Run.Tag, r.Run.Branch, from),
		fmt.Sprintf("▶️ Run *%s* is starting on `%s`%s; its header follows in the channel.", r.Run.Tag, r.Run.Branch, from))
	return nil
}

func slashStopping(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, _ bot.Reply) error {
	how := "after the running experiment"
	if cmd.Now {
		how = "now"
	}
	if s.cfg.Verbosity.announcesCommands() {
		s.post(ctx, fmt.Sprintf("⏹️ %s stopped the run (%s)", mention(req.UserID), how), nil)
		return nil
	}
	// One message: "stopping" now, replaced by the run's end.
	key := fmt.Sprintf("stop:%d", s.now().UnixNano())
	s.mu.Lock()
	s.stopNotice = key
	s.mu.Unlock()
	_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: fmt.Sprintf("⏹️ %s is stopping the run (%s)", mention(req.UserID), how)})
	return nil
}

func slashPaused(ctx context.Context, s *Bot, req slashRequest, _ command.Command, _ bot.Reply) error {
	s.announce(ctx, req, fmt.Sprintf("⏸️ %s paused the run (after the running experiment)", mention(req.UserID)),
		"⏸️ Paused: the running experiment finishes first; `"+s.cfg.CommandName+" resume` continues.")
	return nil
}

func slashResumed(ctx context.Context, s *Bot, req slashRequest, _ command.Command, _ bot.Reply) error {
	s.announce(ctx, req, fmt.Sprintf("▶️ %s resumed the run", mention(req.UserID)), "▶️ Resumed.")
	return nil
}

func slashAppended(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, _ bot.Reply) error {
	s.announce(ctx, req, fmt.Sprintf("📝 %s queued an addition to program.md (committed between experiments):\n%s",
		mention(req.UserID), quote(textclip.Bytes(cmd.Text, 2000))),
		"📝 Queued: your addition to program.md is committed between experiments, and the channel sees it then.")
	return nil
}

func slashLog(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, r bot.Reply) error {
	tail := render.FormatLogTail(r.Log, 200)
	if strings.TrimSpace(tail) == "" {
		s.answer(ctx, req, fmt.Sprintf("The log of #%d is empty.", cmd.N))
		return nil
	}
	exp := *r.Experiment
	where := s.shareFile(ctx, exp, req.UserID, fmt.Sprintf("exp-%d-log.txt", exp.Number),
		fmt.Sprintf("Log tail of #%d", exp.Number), tail)
	s.answer(ctx, req, fmt.Sprintf("The log tail of #%d is being posted %s.", exp.Number, where))
	return nil
}

func slashRetried(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, _ bot.Reply) error {
	s.announce(ctx, req, fmt.Sprintf("🔁 %s asked to retry experiment #%d", mention(req.UserID), cmd.N),
		fmt.Sprintf("🔁 #%d is queued to train again; its message follows in the channel.", cmd.N))
	return nil
}

func slashReviewSet(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, _ bot.Reply) error {
	if cmd.On {
		s.post(ctx, fmt.Sprintf("🔎 %s turned the review gate on: each proposal waits here for *Approve* or *Reject* before it trains%s.",
			mention(req.UserID), s.reviewTimeoutNote()), nil)
	} else {
		s.post(ctx, fmt.Sprintf("🔎 %s turned the review gate off: proposals train without waiting.", mention(req.UserID)), nil)
	}
	return nil
}

// slashDigest posts the digest in the channel; without a digest hook the
// reply is the status and latest results, answered like `status`.
func slashDigest(ctx context.Context, s *Bot, req slashRequest, cmd command.Command, r bot.Reply) error {
	if r.Digest == nil {
		return answerCode(ctx, s, req, cmd, r)
	}
	if err := s.PostDigest(ctx, *r.Digest); err != nil {
		return err
	}
	s.answer(ctx, req, "The digest is being posted in the channel.")
	return nil
}
