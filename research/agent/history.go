package agent

// The history part of the prompt: its budget, the classification of
// experiments and FormatHistory, which decides what goes in each section.
// How a section is fitted into its room is in history_fit.go.

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// Defaults of HistoryBudget.
const (
	DefaultHistoryTokens = 6000
	DefaultKeepRecent    = 30
)

// PromptBudgetTokens is the documented size, in EstimateTokens units, that
// BuildPrompt stays within with the default HistoryBudget, an editable
// train.py of up to 20 KB, a program.md of up to 8 KB and a handful of pinned
// ideas, whatever the number of experiments (a test checks it at 1,000 and
// 10,000). Larger editable files or programs grow the prompt by their size;
// the history part never grows past its budget.
const PromptBudgetTokens = 16000

// descCap bounds a description in one history line.
const descCap = 120

// lessonShare is the part of the history budget lessons may use (1/3);
// PlanConsolidate asks for a merge before they reach it.
const lessonShare = 3

// recentShare bounds the most-recent lines to 1/4 of the budget.
const recentShare = 4

// HistoryBudget bounds the history part of the prompt. Zero fields take the
// defaults.
type HistoryBudget struct {
	MaxTokens  int // EstimateTokens of the whole history part; default 6000
	KeepRecent int // most recent experiments always listed line by line; default 30
}

func (b HistoryBudget) withDefaults() HistoryBudget {
	if b.MaxTokens <= 0 {
		b.MaxTokens = DefaultHistoryTokens
	}
	if b.KeepRecent <= 0 {
		b.KeepRecent = DefaultKeepRecent
	}
	return b
}

// EstimateTokens is the cheap token estimate used for every budget here:
// bytes/4, rounded up. BPE tokenizers of current models average about four
// bytes per token on English and code; digit-heavy history lines come out
// at nearer three, so treat the budgets as approximate and leave headroom
// below the model's context window (the defaults are far below it).
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

// histEntry is one finished experiment with the facts the history needs.
type histEntry struct {
	e         research.Experiment
	line      string
	nearMiss  bool
	protected bool // keep or near miss: always listed
	covered   bool // inside a lesson's range
}

// classify renders a compact line per finished experiment, in history order:
//
//	#12 discard 0.993100 (+0.0012) increase LR to 0.04
//
// The delta is against the experiment's parent (the best commit it was made
// on); when no earlier result is known (the first successful experiment)
// it shows noParent ("base"). A discard within noise of the best at its time
// (0.1% of it when noise is 0) is a near miss.
func classify(hist []research.Experiment, noise float64, lessons []research.Lesson, noParent string) []histEntry {
	byCommit := map[string]float64{}
	var run research.History // the best at each experiment's time, as the judge saw it
	var out []histEntry
	for _, e := range hist {
		if e.Status == research.StatusRunning {
			continue
		}
		best := run.BestValue
		run.Add(e)
		h := histEntry{e: e, covered: coveredBy(e.Number, lessons)}
		fix := ""
		if e.Attempt > 0 {
			fix = fmt.Sprintf(" [fix %d]", e.Attempt)
		}
		desc := truncate(oneLine(e.Description), descCap)
		if e.Status == research.StatusCrash || e.Summary.ValBPB <= 0 {
			reason := ""
			if e.Reason != "" {
				reason = " (" + truncate(oneLine(e.Reason), 60) + ")"
			}
			status := research.StatusCrash
			if research.WasStoppedEarly(e) {
				status = e.Status // a discard with no val_bpb: its reason says why
			}
			h.line = fmt.Sprintf("#%d %s%s %s%s", e.Number, status, fix, desc, reason)
			out = append(out, h)
			continue
		}
		val := e.Summary.ValBPB
		parent, ok := byCommit[e.ParentCommit]
		if !ok && e.ParentCommit != "" {
			parent, ok = best, best > 0
		}
		delta := noParent
		if ok {
			delta = fmt.Sprintf("%+.4f", val-parent)
		}
		tag := ""
		if e.Status == research.StatusKeep {
			h.protected = true
		} else if best > 0 {
			tol := noise
			if tol <= 0 {
				tol = best * 0.001
			}
			if val-best <= tol {
				h.nearMiss, h.protected = true, true
				tag = " [near miss]"
			}
		}
		h.line = fmt.Sprintf("#%d %s%s%s %.6f (%s) %s", e.Number, e.Status, fix, tag, val, delta, desc)
		out = append(out, h)
		if e.Status == research.StatusKeep && e.Commit != "" {
			byCommit[e.Commit] = val
		}
	}
	return out
}

func coveredBy(n int, lessons []research.Lesson) bool {
	for _, l := range lessons {
		if n >= l.FromNum && n <= l.ToNum {
			return true
		}
	}
	return false
}

// CurrentLessons drops the lessons superseded by a later one whose range
// contains theirs (a consolidation, see PlanConsolidate), keeping order.
func CurrentLessons(lessons []research.Lesson) []research.Lesson {
	var out []research.Lesson
	for i, l := range lessons {
		superseded := false
		for _, m := range lessons[i+1:] {
			if m.FromNum <= l.FromNum && m.ToNum >= l.ToNum {
				superseded = true
				break
			}
		}
		if !superseded {
			out = append(out, l)
		}
	}
	return out
}

func lessonText(l research.Lesson) string {
	return fmt.Sprintf("Lessons from experiments #%d-#%d:\n%s\n", l.FromNum, l.ToNum, strings.TrimSpace(l.Text))
}

// FormatHistory renders the results so far within b.MaxTokens (by
// EstimateTokens), however long the run:
//
//  1. lessons (req.Lessons, condensed by the model from older experiments),
//     newest kept when they exceed a third of the budget;
//  2. every kept experiment and every near miss (a discard within req.Noise
//     of the best at its time, or within 0.1% of it when Noise is 0) before
//     the most recent ones, one line each, never covered by a lesson; if they
//     alone do not fit, the best of them by val_bpb, with the number omitted;
//  3. other older experiments not covered by a lesson: one line each while
//     they fit, the oldest aggregated mechanically into one line otherwise
//     ("#31-#180: 120 discards (val_bpb ...), 30 crashes (most common
//     reasons: timeout after 10m0s x12, exit status 1 x9)");
//  4. the b.KeepRecent most recent experiments, one line each (keeps and
//     near misses among them included).
//
// Room is handed out in this order: the recent lines (at most a quarter of
// the budget), lessons (at most a third), keeps and near misses (the rest,
// less a little for the aggregate line), then older lines. Descriptions are
// cut to 120 characters. A budget too small for the fixed text drops the
// older, then the lesson section, then the oldest lines.
func FormatHistory(req research.ProposalRequest, b HistoryBudget) string {
	b = b.withDefaults()
	lessons := CurrentLessons(req.Lessons)
	entries := classify(req.History, req.Noise, lessons, "base")
	if len(entries) == 0 && len(lessons) == 0 {
		return "(none yet: this is the first experiment)\n"
	}
	budget := b.MaxTokens * 4 // bytes, so that EstimateTokens(out) <= MaxTokens
	const slack = 8           // rounding of the final estimate, per section
	used := 0

	// Sections are built from the most to the least important, then written
	// in reading order.
	recentFrom := max(0, len(entries)-b.KeepRecent)
	recent := linesWithin(entries[recentFrom:], budget/recentShare, "(%d earlier of the recent experiments omitted for space)\n")
	recentText := recent
	if recentFrom > 0 || len(lessons) > 0 || req.HistoryOmitted > 0 {
		recentText = "Most recent experiments:\n" + recent
	}
	used += len(recentText) + slack

	lessonsText := fitLessons(lessons, min(budget/lessonShare, budget-used))
	used += len(lessonsText) + slack

	var prot []histEntry
	for _, h := range entries[:recentFrom] {
		if h.protected {
			prot = append(prot, h)
		}
	}
	protText := ""
	if len(prot) > 0 {
		const head = "Kept improvements and near misses (always listed):\n"
		protText = head + fitProtected(prot, budget-used-len(head)-slack-200)
	}
	used += len(protText) + slack

	var older []histEntry
	for _, h := range entries[:recentFrom] {
		if !h.protected && !h.covered {
			older = append(older, h)
		}
	}
	olderText := ""
	// A long run's history comes windowed (req.HistoryOmitted): say how
	// many earlier experiments the harness left out.
	omitted := ""
	if req.HistoryOmitted > 0 {
		omitted = fmt.Sprintf("(%d more earlier experiments, neither kept nor near misses, not listed)\n", req.HistoryOmitted)
	}
	if len(older) > 0 || omitted != "" {
		const head = "Other earlier experiments:\n"
		if body := fitOlder(older, budget-used-len(head)-len(omitted)-slack); body != "" || omitted != "" {
			olderText = head + omitted + body
		}
	}

	join := func(parts ...string) string {
		var out strings.Builder
		for _, s := range parts {
			if s == "" {
				continue
			}
			if out.Len() > 0 {
				out.WriteString("\n")
			}
			out.WriteString(s)
		}
		return out.String()
	}
	out := join(lessonsText, protText, olderText, recentText)
	if EstimateTokens(out) <= b.MaxTokens {
		return out
	}
	// Only a budget too small for the sections' fixed text gets here: drop
	// the least important parts, then keep the newest lines that fit.
	out = join(lessonsText, protText, recentText)
	if EstimateTokens(out) > b.MaxTokens {
		out = join(protText, recentText)
	}
	for EstimateTokens(out) > b.MaxTokens {
		i := strings.IndexByte(out, '\n')
		if i < 0 {
			return ""
		}
		out = out[i+1:]
	}
	return out
}
