package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// homeEvery bounds how often a person's App Home is republished while
// results come in; the last change is always shown.
const homeEvery = 30 * time.Second

// homeMaxViewers bounds how many people's Home tabs are kept fresh.
const homeMaxViewers = 200

// homeViewers remembers who opened the App Home, so results refresh it.
type homeViewers struct {
	users   map[string]bool
	last    time.Time   // last refresh of everyone's Home
	pending *time.Timer // a refresh waiting for homeEvery to pass
	stopped bool        // the bot is stopping: no more refreshes
}

// homeOpened publishes the Home tab for user and keeps it fresh.
func (s *Bot) homeOpened(ctx context.Context, user string) {
	s.mu.Lock()
	if s.home.users == nil {
		s.home.users = map[string]bool{}
	}
	if len(s.home.users) < homeMaxViewers {
		s.home.users[user] = true
	}
	s.mu.Unlock()
	s.publishHome(ctx, user)
}

// stopHomeRefresh cancels a pending refresh and refuses new ones: the bot
// is stopping.
func (s *Bot) stopHomeRefresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.home.pending != nil {
		s.home.pending.Stop()
	}
	s.home.pending, s.home.stopped = nil, true
}

// homeChanged refreshes every open Home tab, at most once per homeEvery.
func (s *Bot) homeChanged() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.home.users) == 0 || s.home.pending != nil || s.home.stopped {
		return
	}
	wait := max(0, homeEvery-s.now().Sub(s.home.last))
	s.home.pending = time.AfterFunc(wait, func() {
		s.mu.Lock()
		if s.home.stopped {
			s.mu.Unlock()
			return
		}
		s.home.pending = nil
		s.home.last = s.now()
		users := make([]string, 0, len(s.home.users))
		for u := range s.home.users {
			users = append(users, u)
		}
		// Started under the lock, so a stopping bot either sees this task
		// in its wait or this callback sees it stopping.
		s.goTask(func(ctx context.Context) {
			for _, u := range users {
				s.publishHome(ctx, u)
			}
		})
		s.mu.Unlock()
	})
}

// publishHome renders the live view for user and publishes it.
func (s *Bot) publishHome(ctx context.Context, user string) {
	st, err := s.ctrl.Status(ctx)
	if err != nil {
		s.log.Warn("slack: App Home: reading the status", "err", err)
		return
	}
	var recent []research.Experiment
	if st.Run != nil {
		if recent, err = s.ctrl.Results(ctx, 10); err != nil {
			s.log.Warn("slack: App Home: reading results", "err", err)
		}
	}
	admin := s.auth.maySteer(user, "steer") == nil
	view := homeView(st, recent, admin, s.cfg.CommandName, s.now())
	if err := s.api.PublishView(ctx, user, view); err != nil {
		s.log.Warn("slack: App Home: views.publish failed", "user", user, "err", err)
	}
}

// homeView is the App Home: the run, what trains, best and baseline with
// the noise floor, the last experiments, open ideas, budget use, and for
// admins the run's buttons.
func homeView(st research.Status, recent []research.Experiment, admin bool, command string, now time.Time) json.RawMessage {
	bs := []slackBlock{headerBlock("🔬 autoresearch")}
	if st.Run == nil {
		bs = append(bs, sectionBlock(fmt.Sprintf("No run yet. Start one in the channel with `%s start TAG`.", command)))
		return homeJSON(bs)
	}
	r := st.Run
	bs = append(bs, sectionBlock(fmt.Sprintf("*Run* `%s` on `%s`: %s", mrkdwn.Escape(r.Tag), mrkdwn.Escape(r.Branch), mrkdwn.Escape(render.PhaseText(st)))))
	if st.Current != nil {
		line := fmt.Sprintf("⏳ *#%d* %s", st.Current.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(st.Current.Description), 200)))
		if st.Progress != nil {
			line += "\n`" + render.ProgressText(*st.Progress) + "`"
		}
		bs = append(bs, sectionBlock(line))
	}
	var facts []string
	bestVal, bestNote := render.ShownBest(st)
	baseVal, baseNote := render.ShownBaseline(st)
	if st.Best != nil {
		f := fmt.Sprintf("*Best* #%d %.6f%s", st.Best.Number, bestVal, bestNote)
		if st.Baseline != nil && baseVal > 0 && st.Baseline.Number != st.Best.Number {
			f += fmt.Sprintf(" (%+.6f vs baseline)", bestVal-baseVal)
		}
		facts = append(facts, f)
	}
	if st.Baseline != nil {
		f := fmt.Sprintf("*Baseline* #%d %.6f%s", st.Baseline.Number, baseVal, baseNote)
		if noise := render.ShownNoise(st); noise > 0 {
			f += fmt.Sprintf(", noise floor ±%.6f", noise)
		}
		facts = append(facts, f)
	}
	c := st.Counts
	count := fmt.Sprintf("*%d experiments*: %d keep · %d discard · %d crash", c.Total(), c.Keep, c.Discard, c.Crash)
	if c.Repeats > 0 {
		count += " · " + render.Plural(c.Repeats, "baseline repeat", "baseline repeats")
	}
	facts = append(facts, count)
	if st.Usage.PromptTokens+st.Usage.CompletionTokens > 0 {
		f := fmt.Sprintf("*LLM* %s prompt + %s completion tokens", render.HumanCount(st.Usage.PromptTokens), render.HumanCount(st.Usage.CompletionTokens))
		if st.CostUSD > 0 {
			f += fmt.Sprintf(" ($%.2f)", st.CostUSD)
		}
		facts = append(facts, f)
	}
	bs = append(bs, sectionBlock(strings.Join(facts, "\n")))
	if admin && st.Active {
		bs = append(bs, runButtons(*r))
	}

	bs = append(bs, slackBlock{"type": "divider"}, sectionBlock("*Last experiments*\n"+homeRecent(recent)))
	bs = append(bs, sectionBlock("*Open ideas*\n"+homeIdeas(st.OpenIdeas, command)))
	bs = append(bs, contextBlock("Updated "+now.UTC().Format("15:04 UTC")+"; refreshed as results come in."))
	return homeJSON(bs)
}

func homeRecent(exps []research.Experiment) string {
	if len(exps) == 0 {
		return "_none yet_"
	}
	var lines []string
	for i := len(exps) - 1; i >= 0; i-- { // newest first
		e := exps[i]
		emoji, word := statusLook(e)
		val := ""
		if e.Summary.ValBPB > 0 {
			val = fmt.Sprintf(" %.6f", e.Summary.ValBPB)
		}
		lines = append(lines, fmt.Sprintf("%s *#%d*%s %s · _%s_", emoji, e.Number, val, mrkdwn.Escape(textclip.Bytes(research.OneLine(e.Description), 80)), word))
	}
	return strings.Join(lines, "\n")
}

func homeIdeas(ideas []research.Idea, command string) string {
	if len(ideas) == 0 {
		return fmt.Sprintf("_none: reply in an experiment's thread, or_ `%s idea TEXT`", command)
	}
	var lines []string
	for i, idea := range ideas {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("_and %d more_", len(ideas)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("• [%d] %s (%s)", idea.ID, mrkdwn.Escape(textclip.Bytes(research.OneLine(idea.Text), 120)), mention(idea.Author)))
	}
	return strings.Join(lines, "\n")
}

func homeJSON(bs []slackBlock) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"type": "home", "blocks": bs})
	return raw
}
