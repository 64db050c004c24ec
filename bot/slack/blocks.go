package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// Block Kit in its wire form. Building the JSON here (instead of with the
// SDK's types) keeps messages in the outbox independent of the SDK.

type slackBlock = map[string]any

// Slack's limits: a section's text, a header's text.
const (
	sectionMax = 3000
	headerMax  = 150
	// diffLinesShown is how many changed lines an experiment message shows.
	diffLinesShown = 12
	// ideaLinesShown is how many of an experiment's ideas its message lists.
	ideaLinesShown = 3
	// inlineMax is the longest text sent inline; longer goes as a file.
	inlineMax = 2800
)

func mrkdwnText(text string) slackBlock { return slackBlock{"type": "mrkdwn", "text": text} }

func sectionBlock(text string) slackBlock {
	return slackBlock{"type": "section", "text": mrkdwnText(textclip.Bytes(text, sectionMax))}
}

func headerBlock(text string) slackBlock {
	return slackBlock{"type": "header", "text": slackBlock{"type": "plain_text", "text": textclip.Bytes(text, headerMax), "emoji": true}}
}

func contextBlock(texts ...string) slackBlock {
	var els []any
	for _, t := range texts {
		if t != "" {
			els = append(els, mrkdwnText(textclip.Bytes(t, sectionMax)))
		}
	}
	return slackBlock{"type": "context", "elements": els}
}

// blocksJSON encodes blocks without HTML escaping, so mentions stay
// readable (<@U1>) in the outbox and on the wire.
func blocksJSON(bs ...slackBlock) json.RawMessage { return blocksJSONValue(bs) }

func blocksJSONValue(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// codeBlock wraps text in a ``` block; a ``` inside would end it early.
func codeBlock(s string) string {
	return "```\n" + strings.ReplaceAll(mrkdwn.Escape(strings.TrimRight(s, "\n")), "```", "`\u200b``") + "\n```"
}

// fileStat is one file's share of a diff.
type fileStat struct {
	Name     string
	Add, Del int
}

// diffSummary reads a unified diff: per-file +/- counts and the first max
// changed lines; more tells how many changed lines were left out.
func diffSummary(diff string, maxLines int) (files []fileStat, lines []string, more int) {
	var cur *fileStat
	for _, l := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "diff --git "):
			files = append(files, fileStat{})
			cur = &files[len(files)-1]
			if i := strings.LastIndex(l, " b/"); i >= 0 {
				cur.Name = l[i+3:]
			}
		case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
			if cur == nil {
				files = append(files, fileStat{})
				cur = &files[len(files)-1]
			}
			if name := strings.TrimPrefix(strings.TrimPrefix(l[4:], "b/"), "a/"); cur.Name == "" && name != "/dev/null" {
				cur.Name = name
			}
		case cur != nil && (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")):
			if l[0] == '+' {
				cur.Add++
			} else {
				cur.Del++
			}
			if len(lines) < maxLines {
				lines = append(lines, l)
			} else {
				more++
			}
		}
	}
	return files, lines, more
}

// diffSection shows a diff's file stats and its first changed lines (up to
// max), saying how many more there are; nil for an empty diff.
func diffSection(diff string, max int, moreNote string) slackBlock {
	files, lines, more := diffSummary(diff, max)
	if len(files) == 0 {
		return nil
	}
	d := formatFileStats(files)
	if len(lines) > 0 {
		d += "\n" + codeBlock(strings.Join(lines, "\n"))
		if more > 0 {
			d += fmt.Sprintf("\n_…and %d more changed lines%s_", more, moreNote)
		}
	}
	return sectionBlock(d)
}

func formatFileStats(files []fileStat) string {
	var parts []string
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("`%s` +%d −%d", f.Name, f.Add, f.Del))
	}
	return strings.Join(parts, ", ")
}

// expView is everything an experiment message shows.
type expView struct {
	Exp      research.Experiment
	Best     *research.Experiment // best after the experiment ended
	Verdict  *research.Verdict    // how the judge compared it (nil: unknown)
	Ideas    []ideaRef            // the ideas it used
	Progress *research.Progress   // while training
	// Telemetry is the GPU's aggregates while it trained (nil: not watched).
	Telemetry *research.Telemetry
}

var statusEmoji = map[string]string{
	research.StatusRunning: "⏳",
	research.StatusKeep:    "✅",
	research.StatusDiscard: "↩️",
	research.StatusCrash:   "💥",
}

// statusLook is the emoji and word an experiment is shown with: its
// status, except that baseline repeats and stopped runs say what they are.
func statusLook(e research.Experiment) (emoji, word string) {
	switch {
	case research.WasStopped(e):
		return "⏹️", "stopped"
	case research.RoleOf(e) == research.RoleBaselineRepeat && e.Status != research.StatusCrash && e.Status != research.StatusRunning:
		return "🔁", "baseline repeat"
	}
	return statusEmoji[e.Status], e.Status
}

// render builds the experiment message: the same layout when posted at the
// start and updated with progress and the outcome, so it changes in place.
func (v expView) render() (text string, blocks json.RawMessage) {
	e := v.Exp
	emoji, word := statusLook(e)
	title := fmt.Sprintf("%s *#%d* %s", emoji, e.Number, mrkdwn.Escape(research.OneLine(e.Description)))
	if e.Attempt > 0 {
		title += fmt.Sprintf(" _(fix attempt %d)_", e.Attempt)
	}
	bs := []slackBlock{sectionBlock(title)}

	if d := diffSection(e.Diff, diffLinesShown, ""); d != nil {
		bs = append(bs, d)
	}
	for n, i := range v.Ideas {
		if n == ideaLinesShown {
			bs = append(bs, contextBlock(fmt.Sprintf("💡 and %d more ideas", len(v.Ideas)-n)))
			break
		}
		bs = append(bs, contextBlock(fmt.Sprintf("💡 idea from %s: %s", mention(i.Author), mrkdwn.Escape(textclip.Bytes(research.OneLine(i.Text), 300)))))
	}

	outcome := v.outcome()
	bs = append(bs, contextBlock(outcome))
	if line := implausibleLine(e); line != "" {
		bs = append(bs, contextBlock(line))
	}
	if e.Notes != "" {
		// What the training did to files outside git (a deleted .venv):
		// one short line, the record has the same.
		bs = append(bs, contextBlock("⚠️ "+mrkdwn.Escape(textclip.Bytes(research.OneLine(e.Notes), 300))))
	}
	// The fallback is what a phone notification shows: no bold markers.
	text = fmt.Sprintf("#%d %s: %s — %s", e.Number, word, mrkdwn.Plain(e.Description), strings.ReplaceAll(outcome, "*", ""))
	if e.Notes != "" {
		text += " — ⚠️ " + mrkdwn.Plain(textclip.Bytes(e.Notes, 300))
	}
	if v.Telemetry != nil {
		gpu := render.FormatTelemetry(*v.Telemetry)
		bs = append(bs, contextBlock("🖥️ "+mrkdwn.Escape(gpu)))
		text += " — " + mrkdwn.Escape(gpu)
	}
	if e.RunID != 0 {
		bs = append(bs, experimentButtons(e))
	}
	return textclip.Bytes(text, 3000), blocksJSON(bs...)
}

// implausibleLine asks a person to look at a result that was too good to
// keep on one run ("" for others).
func implausibleLine(e research.Experiment) string {
	switch {
	case !research.WasImplausible(e):
		return ""
	case e.Status == research.StatusKeep:
		return "⚠️ *implausible* gain, confirmed by a rerun: worth a human look at this change"
	default:
		return "⚠️ *implausible* result, not kept on one run: worth a human look at this change"
	}
}

func (v expView) outcome() string {
	e := v.Exp
	switch e.Status {
	case research.StatusRunning:
		if v.Progress != nil {
			p := *v.Progress
			s := fmt.Sprintf("training %.0f%%", min(max(p.Percent, 0), 100))
			if p.Remaining > 0 {
				s += ", " + render.FormatDuration(p.Remaining) + " left"
			}
			if p.Loss > 0 {
				s += fmt.Sprintf(", loss %.3f", p.Loss)
			}
			return s
		}
		return "training…"
	case research.StatusCrash:
		if research.WasStopped(e) {
			s := "*stopped*"
			if d := render.ExperimentDuration(e); d > 0 {
				s += " after " + render.FormatDuration(d)
			}
			return s + fmt.Sprintf(" (not a failure of the change: `retry %d` trains it again)", e.Number)
		}
		s := "*crash*"
		if e.Reason != "" {
			s += ": " + mrkdwn.Escape(research.OneLine(e.Reason))
		}
		if d := render.ExperimentDuration(e); d > 0 {
			s += " after " + render.FormatDuration(d)
		}
		return s + " (log tail in the thread)"
	}
	if research.WasStoppedEarly(e) {
		return stoppedEarlyText(e)
	}
	_, word := statusLook(e)
	role := research.RoleOf(e)
	val := fmt.Sprintf("val_bpb *%.6f*", e.Summary.ValBPB)
	if v.Verdict != nil && role == research.RoleConfirmation {
		val += fmt.Sprintf(" (mean of 2 runs %.6f)", v.Verdict.Value)
	}
	parts := []string{val}
	if role == research.RoleBaselineRepeat && e.Status == research.StatusDiscard {
		// The reference itself: no delta, and its reason is the noise
		// estimate so far.
		if r := strings.TrimPrefix(e.Reason, "baseline repeat: "); r != "" && r != e.Reason {
			parts = append(parts, mrkdwn.Escape(research.OneLine(r)))
		}
		return strings.Join(parts, " · ")
	}
	switch {
	case role == research.RoleBaseline:
		// The reference itself: no delta to show.
	case v.Verdict != nil && v.Verdict.Against > 0:
		parts = append(parts, comparison(*v.Verdict, v.Best))
	case v.Best != nil && v.Best.ID == e.ID && e.Status == research.StatusKeep:
		parts = append(parts, "new best")
	case v.Best != nil && v.Best.Summary.ValBPB > 0:
		parts = append(parts, fmt.Sprintf("%+.6f vs best #%d", e.Summary.ValBPB-v.Best.Summary.ValBPB, v.Best.Number))
	}
	if gb := render.MemGB(e); gb > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GB", gb))
	}
	if d := render.ExperimentDuration(e); d > 0 {
		parts = append(parts, render.FormatDuration(d))
	}
	parts = append(parts, "*"+word+"*")
	if e.Reason != "" && !(v.Verdict != nil && restatesDelta(e.Reason)) {
		parts = append(parts, mrkdwn.Escape(research.OneLine(e.Reason)))
	}
	return strings.Join(parts, " · ")
}

// restatesDelta tells a judge's reason that only repeats the delta the
// message already shows against the same best.
func restatesDelta(reason string) bool {
	return strings.HasPrefix(reason, "improved by ") && !strings.Contains(reason, "(") ||
		strings.HasPrefix(reason, "no improvement (")
}

// limits is the run header's line on how long an experiment trains.
type limits struct {
	budget     time.Duration // the repo's TIME_BUDGET
	budgetFrom string        // the file that declares it
	timeout    time.Duration // the harness's guard
}

func (l limits) facts() []string {
	var facts []string
	if l.budget > 0 {
		f := "*training* " + render.FormatDuration(l.budget) + " per experiment"
		if l.budgetFrom != "" {
			f += " (TIME_BUDGET in " + mrkdwn.Escape(l.budgetFrom) + ")"
		}
		facts = append(facts, f)
	}
	if l.timeout > 0 {
		facts = append(facts, "*timeout* "+render.FormatDuration(l.timeout))
	}
	return facts
}

// runHeader is the message that opens a run.
func runHeader(r research.Run, how string, lim limits, command string) (string, json.RawMessage) {
	if how == "" {
		how = "started"
	}
	title := fmt.Sprintf("Run %s %s", mrkdwn.Escape(r.Tag), mrkdwn.Escape(how))
	var facts []string
	facts = append(facts, fmt.Sprintf("*branch* `%s`", mrkdwn.Escape(r.Branch)))
	if r.StartedBy != "" {
		facts = append(facts, "*by* "+mention(r.StartedBy))
	}
	if r.GPU != "" {
		facts = append(facts, "*GPU* "+mrkdwn.Escape(r.GPU))
	}
	model := r.Model
	if model == "" {
		model = r.Proposer
	}
	if model != "" {
		facts = append(facts, "*model* "+mrkdwn.Escape(model))
	}
	facts = append(facts, lim.facts()...)
	if r.BestValBPB > 0 {
		facts = append(facts, fmt.Sprintf("*best so far* %.6f", r.BestValBPB))
	}
	if r.Noise > 0 {
		facts = append(facts, fmt.Sprintf("*noise floor* ±%.6f (1σ)", r.Noise))
	}
	body := strings.Join(facts, "  ·  ")
	text := fmt.Sprintf("🚀 %s: branch %s", title, mrkdwn.Escape(r.Branch))
	return text, blocksJSON(headerBlock("🚀 "+title), sectionBlock(body),
		contextBlock("Reply in an experiment's thread to suggest an idea; `"+command+" help` for commands."),
		runButtons(r))
}
