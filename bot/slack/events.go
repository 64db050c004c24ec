package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// crashTailLines is how much of a crashed experiment's log goes to its thread.
const crashTailLines = 40

// Event implements research.Observer. It only renders and queues (a local
// store write); delivery happens in the outbox worker, so the loop never
// waits on Slack.
func (s *Bot) Event(e research.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch e.Kind {
	case research.EventRunStarted, research.EventExperimentStarted, research.EventExperimentFinished,
		research.EventPaused, research.EventResumed, research.EventRunStopped:
		s.homeChanged()
	}
	switch e.Kind {
	case research.EventRunStarted:
		text, blocks := runHeader(e.Run, e.Text, s.limits(), s.cfg.CommandName)
		_ = s.enqueue(ctx, kindPost, runKey(e.Run.ID), "", outPayload{Text: text, Blocks: blocks})

	case research.EventExperimentStarted:
		if e.Experiment == nil {
			return
		}
		s.experimentStarted(ctx, *e.Experiment, e.Ideas)

	case research.EventProgress:
		if e.Experiment == nil || e.Progress == nil {
			return
		}
		key := expKey(*e.Experiment)
		if s.finished.has(key) {
			return
		}
		now := s.now()
		s.mu.Lock()
		last, seen := s.lastProgress[key]
		due := !seen || now.Sub(last) >= progressEvery
		if due {
			s.lastProgress[key] = now
		}
		ideas := s.expIdeas[key]
		s.mu.Unlock()
		if !due {
			return
		}
		text, blocks := expView{Exp: *e.Experiment, Ideas: ideas, Progress: e.Progress}.render()
		_ = s.enqueue(ctx, kindUpdate, "", key, outPayload{Text: text, Blocks: blocks})

	case research.EventExperimentFinished:
		if e.Experiment == nil {
			return
		}
		s.experimentFinished(ctx, *e.Experiment, e.Best, e.Verdict, e.Telemetry)

	case research.EventProgramEdited:
		if e.ProgramEdit != nil {
			s.programEdited(ctx, *e.ProgramEdit)
		}

	case research.EventPaused:
		s.post(ctx, "⏸️ Paused"+byMention(e.By)+reasonSuffix(e.Text)+"\nResume with `"+s.cfg.CommandName+" resume`.", nil)
	case research.EventResumed:
		s.post(ctx, "▶️ Resumed"+byMention(e.By)+reasonSuffix(e.Text), nil)
	case research.EventRunStopped:
		text := fmt.Sprintf("⏹️ Run %s stopped%s%s", e.Run.Tag, byMention(e.By), reasonSuffix(e.Text))
		s.mu.Lock()
		notice := s.stopNotice
		s.stopNotice = ""
		s.mu.Unlock()
		if notice != "" {
			// The "stopping" message a person's stop posted becomes this one.
			_ = s.enqueue(ctx, kindUpdate, "", notice, outPayload{Text: text})
			return
		}
		s.post(ctx, text, nil)
	case research.EventPlateau:
		// Its own key, so replies in its thread become ideas like replies
		// under an experiment.
		text := "🧭 Plateau"
		if t := strings.TrimSpace(e.Text); t != "" {
			text += ": " + mrkdwn.Escape(t)
		}
		_ = s.enqueue(ctx, kindPost, plateauKey(e.Run.ID, e.Number), "", outPayload{Text: text})
	case research.EventNotice:
		switch {
		case strings.TrimSpace(e.Text) == "":
		case e.Experiment != nil && research.WasImplausible(*e.Experiment):
			// Always in the channel, whatever the verbosity: a person
			// should look at the change.
			s.post(ctx, "⚠️ "+mrkdwn.Escape(e.Text), nil)
		default:
			s.notice(ctx, e.Run, "ℹ️ "+mrkdwn.Escape(e.Text))
		}
	case research.EventRefused, research.EventProposing:
		// Refused proposals are retried by the loop at once and can come in
		// bursts; the channel hears about experiments, not attempts.
		s.log.Debug("slack: not posted", "kind", e.Kind, "text", e.Text)
	default:
		// Kinds added to the loop later (a plateau notice, ...) are still
		// told, as their text.
		if strings.TrimSpace(e.Text) != "" {
			s.post(ctx, "ℹ️ "+mrkdwn.Escape(e.Text), nil)
		}
	}
}

// byMention names the person behind a pause, resume or stop as a mention.
func byMention(by string) string {
	if by == "" {
		return ""
	}
	return " by " + mention(by)
}

func reasonSuffix(text string) string {
	if t := strings.TrimSpace(text); t != "" {
		return ": " + mrkdwn.Escape(research.OneLine(t))
	}
	return ""
}

func (s *Bot) experimentStarted(ctx context.Context, exp research.Experiment, ideas []research.Idea) {
	key := expKey(exp)
	refs := make([]ideaRef, 0, len(ideas))
	for _, i := range ideas {
		refs = append(refs, ideaRef{ID: i.ID, Author: i.Author, Text: i.Text})
	}
	s.mu.Lock()
	s.expIdeas[key] = refs
	// The start post counts as the first progress display.
	s.lastProgress[key] = s.now()
	s.mu.Unlock()

	parent := ""
	if s.cfg.Verbosity.threadsDetails() {
		s.mu.Lock()
		if research.RoleOf(exp) == research.RoleBaseline && s.baselineKey[exp.RunID] == "" {
			s.baselineKey[exp.RunID] = key
		}
		baseline := s.baselineKey[exp.RunID]
		if baseline == "" {
			baseline = expKey(research.Experiment{RunID: exp.RunID, Number: 1})
		}
		parent = parentKey(exp, baseline)
		s.mu.Unlock()
		if !s.exists(ctx, parent) {
			parent = "" // its parent was never posted here: top level
		}
		if parent != "" {
			s.mu.Lock()
			s.threadOf[key] = parent
			s.mu.Unlock()
		}
	}
	text, blocks := expView{Exp: exp, Ideas: refs}.render()
	_ = s.enqueue(ctx, kindPost, key, parent, outPayload{Text: text, Blocks: blocks})

	// Tell whoever suggested an idea in a thread that it is being tried,
	// in that thread, with a link to the experiment.
	for _, i := range ideas {
		if i.ThreadTS == "" {
			continue
		}
		msg := fmt.Sprintf("%s your idea is being tried in experiment #%d: %s",
			mention(i.Author), exp.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(exp.Description), 200)))
		_ = s.enqueue(ctx, kindPost, "", "", outPayload{Text: msg, ThreadTS: i.ThreadTS, LinkKey: key})
	}
}

func (s *Bot) experimentFinished(ctx context.Context, exp research.Experiment, best *research.Experiment, verdict *research.Verdict, tel *research.Telemetry) {
	key := expKey(exp)
	s.finished.first(key)
	s.mu.Lock()
	ideas := s.expIdeas[key]
	delete(s.expIdeas, key)
	// A threaded experiment's replies go in its parent's thread: a reply
	// cannot have a thread of its own.
	thread := key
	if root := s.threadOf[key]; root != "" {
		thread = root
	}
	delete(s.threadOf, key)
	delete(s.lastProgress, key)
	if tel != nil {
		t := *tel
		s.lastTelemetry = &expTelemetry{Number: exp.Number, Telemetry: t}
	}
	s.mu.Unlock()

	text, blocks := expView{Exp: exp, Best: best, Verdict: verdict, Ideas: ideas, Telemetry: tel}.render()
	_ = s.enqueue(ctx, kindUpdate, "", key, outPayload{Text: text, Blocks: blocks})
	if verdict != nil && verdict.NewBest {
		// An update notifies nobody: a new best is also said in the
		// experiment's thread (its parent's, for a confirmation) and
		// broadcast to the channel, once.
		_ = s.enqueue(ctx, kindPost, "", thread, outPayload{Text: newBestText(exp, *verdict, best, ideas), Broadcast: true})
	}

	if exp.Status == research.StatusCrash && !research.WasStopped(exp) {
		tail := render.FormatLogTail(exp.LogTail, crashTailLines)
		if strings.TrimSpace(tail) == "" {
			tail = "(the log is empty)"
		}
		s.replyLong(ctx, thread, fmt.Sprintf("Log tail of #%d", exp.Number), tail,
			fmt.Sprintf("exp-%d-log.txt", exp.Number))
	}
}

// replyLong puts text in the thread of the message with key: inline when
// short, else as a file.
func (s *Bot) replyLong(ctx context.Context, threadKey, title, body, filename string) {
	if len(body) <= inlineMax {
		_ = s.enqueue(ctx, kindPost, "", threadKey, outPayload{Text: title + ":\n" + codeBlock(body)})
		return
	}
	_ = s.enqueue(ctx, kindFile, "", threadKey, outPayload{
		Text: title + " (attached)", Filename: filename, Title: title, Content: []byte(body),
	})
}

func (s *Bot) programEdited(ctx context.Context, pe research.ProgramEdit) {
	if pe.Error != "" {
		s.post(ctx, fmt.Sprintf("⚠️ The program.md edit by %s could not be applied: %s", mention(pe.Author), mrkdwn.Escape(pe.Error)), nil)
		return
	}
	key := "program:" + fmt.Sprint(pe.ID)
	head := fmt.Sprintf("📝 program.md edited by %s (%s)", mention(pe.Author), pe.Kind)
	if pe.Commit != "" {
		head += ", commit `" + research.ShortCommit(pe.Commit) + "`"
	}
	if pe.Diff == "" {
		_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: head})
		return
	}
	if s.cfg.Verbosity.threadsDetails() {
		_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: head + "; the diff is in the thread"})
		s.replyLong(ctx, key, "program.md diff", pe.Diff, "program-md.diff")
		return
	}
	if len(pe.Diff) <= inlineMax {
		_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: head + "\n" + codeBlock(pe.Diff)})
		return
	}
	_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: head + "; the diff is in the thread"})
	s.replyLong(ctx, key, "program.md diff", pe.Diff, "program-md.diff")
}

// notice tells the channel something the loop noticed: in the run
// header's thread when the channel is quiet, else at the top level.
func (s *Bot) notice(ctx context.Context, run research.Run, text string) {
	if s.cfg.Verbosity.threadsNotices() && run.ID != 0 && s.exists(ctx, runKey(run.ID)) {
		_ = s.enqueue(ctx, kindPost, "", runKey(run.ID), outPayload{Text: text})
		return
	}
	s.post(ctx, text, nil)
}
