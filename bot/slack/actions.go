package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// Buttons on experiment messages and the run header, and the message
// shortcut. Each does what the matching command does, under the same
// authorization, and pressing twice does one thing.
const (
	actionDiff   = "exp_diff"   // value "RUN:N": the full diff in the thread
	actionLog    = "exp_log"    // value "RUN:N": the log tail in the thread
	actionRetry  = "exp_retry"  // value "RUN:N": train it again on the best
	actionIdea   = "exp_idea"   // value "RUN:N": a one-field modal for a follow-up idea
	actionStop   = "exp_stop"   // value "RUN:N": stop now (while it trains)
	actionPause  = "run_pause"  // value "RUN"
	actionResume = "run_resume" // value "RUN"
	actionEnd    = "run_stop"   // value "RUN": stop after the running experiment

	pinIdeaCallbackID     = "pin_idea"
	suggestIdeaCallbackID = "suggest_idea" // the message shortcut
	pinIdeaBlock          = "idea"
	pinIdeaAction         = "text"
	// ideaMaxChars bounds an idea typed into the modal or taken from a message.
	ideaMaxChars = 2000
)

// actionPayload is what the bot reads of block_actions, message_action
// (a message shortcut) and view_submission payloads.
type actionPayload struct {
	Type       string `json:"type"`
	CallbackID string `json:"callback_id"`
	TriggerID  string `json:"trigger_id"`
	User       struct {
		ID string `json:"id"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Message struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
		Text     string `json:"text"`
		User     string `json:"user"`
		BotID    string `json:"bot_id"`
	} `json:"message"`
	Actions []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTS string `json:"action_ts"`
	} `json:"actions"`
	View submittedView `json:"view"`
}

// routeInteraction answers every interactive payload: buttons and the
// shortcut here, the program editor's submission in handleInteraction.
// The return value is the synchronous answer (the acknowledgement).
func (s *Bot) routeInteraction(ctx context.Context, payload []byte) (answer json.RawMessage) {
	var p actionPayload
	defer research.Recover(s.log, "interaction", func(bug *research.PanicError) {
		if p.Type == "view_submission" && p.View.CallbackID == pinIdeaCallbackID {
			answer = viewErrors(map[string]string{pinIdeaBlock: bugText(bug) + " The idea was not pinned."})
		}
	})
	if err := json.Unmarshal(payload, &p); err != nil {
		s.log.Warn("slack: unreadable interactive payload", "err", err)
		return nil
	}
	switch {
	case p.Type == "block_actions":
		s.goTask(func(ctx context.Context) { s.handleActions(ctx, p) })
		return nil
	case p.Type == "message_action" && p.CallbackID == suggestIdeaCallbackID:
		s.goTask(func(ctx context.Context) { s.suggestIdea(ctx, p) })
		return nil
	case p.Type == "view_submission" && p.View.CallbackID == pinIdeaCallbackID:
		return s.pinIdeaSubmitted(ctx, p)
	case p.Type == "view_submission" && p.View.CallbackID == reviewCallbackID:
		return s.reviewIdeaSubmitted(ctx, p)
	}
	return s.handleInteraction(ctx, payload)
}

// tell answers the person who pressed, privately.
func (s *Bot) tell(ctx context.Context, p actionPayload, text string) {
	channel := p.Channel.ID
	if channel == "" {
		channel = s.cfg.Channel
	}
	if err := s.api.PostEphemeral(ctx, channel, p.User.ID, chatMessage{Text: text}); err != nil {
		s.log.Error("slack: answering a button", "user", p.User.ID, "err", err)
	}
}

// actionTarget reads "RUN:N" (or "RUN") from a button's value.
func actionTarget(value string) (run int64, number int, err error) {
	r, n, hasN := strings.Cut(value, ":")
	if run, err = strconv.ParseInt(r, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad button value %q", value)
	}
	if hasN {
		if number, err = strconv.Atoi(n); err != nil {
			return 0, 0, fmt.Errorf("bad button value %q", value)
		}
	}
	return run, number, nil
}

func (s *Bot) handleActions(ctx context.Context, p actionPayload) {
	defer research.Recover(s.log, "button", func(bug *research.PanicError) { s.tell(ctx, p, "🐞 "+bugText(bug)) })
	for _, a := range p.Actions {
		if !s.seen.first("action:" + a.ActionID + ":" + a.Value + ":" + a.ActionTS) {
			continue // Slack delivered the same press twice
		}
		if err := s.handleAction(ctx, p, a.ActionID, a.Value); err != nil {
			s.log.Info("slack: button refused or failed", "user", p.User.ID, "action", a.ActionID, "err", err)
			s.tell(ctx, p, s.errorText(err))
		}
	}
}

// steer checks that the person may do what a button does.
func (s *Bot) steer(p actionPayload, what string) error {
	// A button in the App Home has no channel; elsewhere it must be ours.
	if p.Channel.ID != "" {
		if err := s.auth.inChannel(p.User.ID, p.Channel.ID); err != nil {
			return err
		}
	}
	if err := s.auth.maySteer(p.User.ID, what); err != nil {
		return &mrkdwnError{"🚫 " + err.Error()}
	}
	return nil
}

func (s *Bot) handleAction(ctx context.Context, p actionPayload, id, value string) error {
	switch id {
	case actionApprove, actionReject, actionEditIdea:
		return s.reviewAction(ctx, p, id, value)
	}
	runID, n, err := actionTarget(value)
	if err != nil {
		return err
	}
	user := p.User.ID
	switch id {
	case actionPause, actionResume, actionEnd:
		what := map[string]string{actionPause: "pause runs", actionResume: "resume runs", actionEnd: "stop runs"}[id]
		if err := s.steer(p, what); err != nil {
			return err
		}
		if err := s.currentRun(ctx, runID); err != nil {
			return err
		}
		cmd := map[string]command.Name{actionPause: command.Pause, actionResume: command.Resume, actionEnd: command.Stop}[id]
		_, err := s.do(ctx, user, command.Command{Name: cmd})
		return err
	}

	shown, err := s.do(ctx, user, command.Command{Name: command.Show, N: n})
	if err != nil {
		return err
	}
	exp := *shown.Experiment
	if exp.RunID != runID {
		return fmt.Errorf("#%d of that run is no longer the current run's; the buttons work on the current run", n)
	}
	thread := p.Message.ThreadTS // a threaded experiment answers in its parent's thread
	if thread == "" {
		thread = p.Message.TS
	}
	switch id {
	case actionDiff, actionLog:
		key := fmt.Sprintf("%s:%d:%d", strings.TrimPrefix(id, "exp_"), runID, n)
		if s.exists(ctx, key) {
			s.tell(ctx, p, fmt.Sprintf("That is already in the thread of #%d.", n))
			return nil
		}
		title, body, file := fmt.Sprintf("Diff of #%d", n), exp.Diff, fmt.Sprintf("exp-%d.diff", n)
		if id == actionLog {
			logged, err := s.do(ctx, user, command.Command{Name: command.Log, N: n})
			if err != nil {
				return err
			}
			title, body, file = fmt.Sprintf("Log tail of #%d", n), render.FormatLogTail(logged.Log, 200), fmt.Sprintf("exp-%d-log.txt", n)
		}
		if strings.TrimSpace(body) == "" {
			s.tell(ctx, p, fmt.Sprintf("#%d has no %s.", n, map[string]string{actionDiff: "diff", actionLog: "log"}[id]))
			return nil
		}
		s.postInThread(ctx, key, thread, title, body, file)
		return nil

	case actionRetry:
		if err := s.steer(p, "retry runs"); err != nil {
			return err
		}
		if !s.seen.first(fmt.Sprintf("retry:%d:%d", runID, n)) {
			s.tell(ctx, p, fmt.Sprintf("#%d is already queued to train again.", n))
			return nil
		}
		if _, err := s.do(ctx, user, command.Command{Name: command.Retry, N: n}); err != nil {
			return err
		}
		s.tell(ctx, p, fmt.Sprintf("🔁 #%d is queued to train again on the best.", n))
		return nil

	case actionStop:
		if err := s.steer(p, "stop runs"); err != nil {
			return err
		}
		if exp.Status != research.StatusRunning {
			s.tell(ctx, p, fmt.Sprintf("#%d is not training any more.", n))
			return nil
		}
		_, err := s.do(ctx, user, command.Command{Name: command.Stop, Now: true})
		return err

	case actionIdea:
		if err := s.steer(p, "add ideas"); err != nil {
			return err
		}
		return s.api.OpenView(ctx, p.TriggerID, pinIdeaView(runID, n, thread, exp.ID))
	}
	return fmt.Errorf("unknown button %q", id)
}

// do carries out a button's command through the dispatcher, as by.
func (s *Bot) do(ctx context.Context, by string, cmd command.Command) (bot.Reply, error) {
	return s.dispatcher().Do(ctx, bot.Request{Command: cmd, By: by})
}

// currentRun refuses a run header's button when its run is not the one
// the loop works on.
func (s *Bot) currentRun(ctx context.Context, runID int64) error {
	st, err := s.ctrl.Status(ctx)
	if err != nil {
		return err
	}
	if st.Run == nil || st.Run.ID != runID {
		return fmt.Errorf("that run is over; the buttons work on the current run")
	}
	return nil
}

// postInThread posts body under thread ts, inline or as a file.
func (s *Bot) postInThread(ctx context.Context, key, threadTS, title, body, filename string) {
	if len(body) <= inlineMax {
		_ = s.enqueue(ctx, kindPost, key, "", outPayload{Text: title + ":\n" + codeBlock(body), ThreadTS: threadTS})
		return
	}
	_ = s.enqueue(ctx, kindFile, key, "", outPayload{Text: title + " (attached)", Filename: filename, Title: title,
		Content: []byte(body), ThreadTS: threadTS})
}
