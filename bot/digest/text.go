package digest

import (
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
)

// The digest's words: the headline message, the thread's messages and the
// small formatting helpers they share (Slack mrkdwn, readable as plain text).

// Text is the digest's headline message (Slack mrkdwn, readable as plain text).
func (d Digest) Text() string {
	var b strings.Builder
	b.WriteString("*Morning digest*")
	if d.Tag != "" {
		fmt.Fprintf(&b, " · run `%s`", digestEscape(d.Tag))
	}
	fmt.Fprintf(&b, " · %s → %s\n", digestTime(d.From), digestTime(d.To))
	if d.Empty {
		b.WriteString("No experiments finished since the last digest.")
		if d.BestValBPB > 0 {
			fmt.Fprintf(&b, "\nBest val_bpb so far: %.6f.", d.BestValBPB)
		}
		if n := len(d.OpenIdeas); n > 0 {
			fmt.Fprintf(&b, "\n%s waiting.", render.Plural(n, "open idea", "open ideas"))
		}
		if line := d.trainingLine(); line != "" {
			b.WriteString("\n" + line)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "*%s*: %d keep · %d discard · %d crash",
		render.Plural(d.Experiments, "experiment", "experiments"), d.Keep, d.Discard, d.Crash)
	if d.Repeats > 0 {
		b.WriteString(" · " + render.Plural(d.Repeats, "baseline repeat", "baseline repeats"))
	}
	b.WriteString("\n")
	if d.BestValBPB > 0 {
		fmt.Fprintf(&b, "Best val_bpb *%.6f*", d.BestValBPB)
		var parts []string
		if d.PrevBestValBPB > 0 {
			parts = append(parts, digestChange(d.ImprovementSinceLast)+" since the last digest")
		}
		if d.BaselineValBPB > 0 {
			parts = append(parts, fmt.Sprintf("%s since the baseline (%.6f)", digestChange(d.ImprovementSinceBaseline), d.BaselineValBPB))
		}
		if len(parts) > 0 {
			b.WriteString(": " + strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	} else {
		b.WriteString("No successful result yet.\n")
	}
	fmt.Fprintf(&b, "GPU time %.1f h · LLM tokens %s prompt + %s completion",
		d.GPUHours, digestCount(d.PromptTokens), digestCount(d.CompletionTokens))
	if d.CostUSD > 0 {
		fmt.Fprintf(&b, " ($%.2f)", d.CostUSD)
	}
	if d.NoiseFloor > 0 {
		fmt.Fprintf(&b, " · noise floor ±%.6f", d.NoiseFloor)
	}
	b.WriteString("\n")
	var thread []string
	if len(d.Kept) > 0 {
		thread = append(thread, render.Plural(len(d.Kept), "kept improvement", "kept improvements"))
	}
	if len(d.Crashes) > 0 {
		thread = append(thread, render.Plural(len(d.Crashes), "crash", "crashes"))
	}
	if len(d.OpenIdeas) > 0 {
		thread = append(thread, render.Plural(len(d.OpenIdeas), "open idea", "open ideas"))
	}
	if len(d.Chart) > 0 {
		thread = append(thread, "the progress chart")
	}
	if len(thread) > 0 {
		b.WriteString("In the thread: " + strings.Join(thread, ", ") + ".\n")
	}
	b.WriteString(d.trainingLine())
	return strings.TrimRight(b.String(), "\n")
}

// digestListLimit bounds the items of one thread message.
const digestListLimit = 25

// ThreadTexts are the messages for the digest's thread, in order: the kept
// improvements ranked by delta (each with its commit, and a link to its
// message when link gives one), the crashes with their reasons and the open
// ideas. Empty sections are left out (except the kept improvements of a
// night that ran experiments). link may be nil.
func (d Digest) ThreadTexts(link func(research.Experiment) string) []string {
	ref := func(e research.Experiment) string {
		if link != nil {
			if url := link(e); url != "" {
				return mrkdwn.Link(url, fmt.Sprintf("#%d", e.Number))
			}
		}
		return fmt.Sprintf("#%d", e.Number)
	}
	var out []string
	if !d.Empty {
		var b strings.Builder
		if len(d.Kept) == 0 {
			b.WriteString("*Kept improvements*: none in this window.")
		} else {
			b.WriteString("*Kept improvements*, best first:")
			for i, e := range d.Kept {
				if i == digestListLimit {
					fmt.Fprintf(&b, "\n… and %d more", len(d.Kept)-i)
					break
				}
				delta := 0.0
				if i < len(d.KeptDeltas) {
					delta = d.KeptDeltas[i]
				}
				fmt.Fprintf(&b, "\n%d. %s  %.6f  (−%.6f)  %s", i+1, ref(e), e.Summary.ValBPB, delta, digestEscape(digestShort(e.Description, 150)))
				if c := research.ShortCommit(e.Commit); c != "" {
					fmt.Fprintf(&b, " · `%s`", c)
				}
				if d.NoiseFloor > 0 && delta < d.NoiseFloor {
					b.WriteString("  _(within noise)_")
				}
			}
		}
		out = append(out, b.String())
	}
	if len(d.Crashes) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "*Crashes* (%d):", len(d.Crashes))
		for i, e := range d.Crashes {
			if i == digestListLimit {
				fmt.Fprintf(&b, "\n… and %d more", len(d.Crashes)-i)
				break
			}
			reason := e.Reason
			if reason == "" {
				reason = "no reason recorded"
			}
			fmt.Fprintf(&b, "\n• %s %s: %s", ref(e), digestEscape(digestShort(e.Description, 120)), digestEscape(digestShort(reason, 200)))
		}
		out = append(out, b.String())
	}
	if len(d.OpenIdeas) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "*Open ideas* (%d):", len(d.OpenIdeas))
		for i, idea := range d.OpenIdeas {
			if i == digestListLimit {
				fmt.Fprintf(&b, "\n… and %d more", len(d.OpenIdeas)-i)
				break
			}
			fmt.Fprintf(&b, "\n• [%d] %s", idea.ID, digestEscape(digestShort(idea.Text, 200)))
			if a := digestAuthor(idea.Author); a != "" {
				b.WriteString(" (" + a + ")")
			}
		}
		out = append(out, b.String())
	}
	return out
}

// digestAuthor mentions a Slack user ID and names other authors as they are.
func digestAuthor(a string) string {
	switch {
	case a == "":
		return ""
	case digestIsSlackUser(a):
		return mrkdwn.UserMention(a)
	default:
		return digestEscape(a)
	}
}

func digestIsSlackUser(a string) bool {
	if len(a) < 2 || (a[0] != 'U' && a[0] != 'W') {
		return false
	}
	for _, r := range a {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// digestChange words a val_bpb improvement (positive = lower = better).
func digestChange(imp float64) string {
	switch {
	case imp > 0:
		return fmt.Sprintf("−%.6f", imp)
	case imp < 0:
		return fmt.Sprintf("+%.6f", -imp)
	default:
		return "unchanged"
	}
}

func digestTime(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

// digestCount writes a token count compactly: 950, 12.3k, 4.56M.
func digestCount(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	default:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
}

// digestShort keeps the first line of s, at most n runes.
func digestShort(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// digestEscape escapes text from the loop, the model or a person for the
// digest's mrkdwn (see escapeText).
func digestEscape(s string) string { return mrkdwn.Escape(s) }

// trainingLine says what is training now and when it should end ("" when
// nothing is).
func (d Digest) trainingLine() string {
	var parts []string
	for _, t := range d.Training {
		s := fmt.Sprintf("#%d %s", t.Number, digestEscape(digestShort(t.Description, 80)))
		switch {
		case t.Percent > 0 && !t.ETA.IsZero():
			s += fmt.Sprintf(" (%.0f%%, done about %s)", t.Percent, t.ETA.In(d.To.Location()).Format("15:04"))
		case t.Percent > 0:
			s += fmt.Sprintf(" (%.0f%%)", t.Percent)
		default:
			s += " (starting)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Training now: " + strings.Join(parts, "; ")
}
