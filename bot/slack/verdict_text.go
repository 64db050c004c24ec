package slack

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// numbersLabel names the experiments a best value comes from: "#4", or
// "mean of #4, #5" when the judge compared with a mean.
func numbersLabel(nums []int) string {
	if len(nums) == 0 {
		return ""
	}
	refs := make([]string, 0, len(nums))
	for i, n := range nums {
		if i == 4 && len(nums) > 5 {
			refs = append(refs, "…", fmt.Sprintf("#%d", nums[len(nums)-1]))
			break
		}
		refs = append(refs, fmt.Sprintf("#%d", n))
	}
	if len(nums) == 1 {
		return refs[0]
	}
	return fmt.Sprintf("mean of %s", strings.Join(refs, ", "))
}

// againstLabel names the best the judge compared with.
func againstLabel(v research.Verdict, best *research.Experiment) string {
	if l := numbersLabel(v.AgainstNumbers); l != "" {
		return "best " + l
	}
	if best != nil && best.Summary.ValBPB == v.Against {
		return fmt.Sprintf("best #%d", best.Number)
	}
	return fmt.Sprintf("best %.6f", v.Against)
}

// sigmaText is a gain in noise units, e.g. " (2.4σ)", or "" when the
// noise floor is unknown.
func sigmaText(v research.Verdict) string {
	if v.Noise <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%.1fσ)", v.Sigmas())
}

// comparison is the delta shown for a judged experiment: against the same
// best the judge used, with the gain in noise units when known.
func comparison(v research.Verdict, best *research.Experiment) string {
	if v.NewBest {
		return fmt.Sprintf("🏆 *new best*, %+.6f vs %s%s", v.Value-v.Against, againstLabel(v, best), sigmaText(v))
	}
	return fmt.Sprintf("%+.6f vs %s", v.Value-v.Against, againstLabel(v, best))
}

// newBestText announces a new best in a notifying message: the value, the
// gain (in noise units when known), the change and whose idea it was.
func newBestText(e research.Experiment, v research.Verdict, best *research.Experiment, ideas []ideaRef) string {
	s := fmt.Sprintf("🏆 New best: #%d %s: val_bpb %.6f, %.6f better than %s%s",
		e.Number, mrkdwn.Escape(textclip.Bytes(research.OneLine(e.Description), 200)), v.Value, v.Gain(), againstLabel(v, best), sigmaText(v))
	var who []string
	seen := map[string]bool{}
	for _, i := range ideas {
		if i.Author != "" && !seen[i.Author] {
			seen[i.Author] = true
			who = append(who, mention(i.Author))
		}
	}
	if len(who) > 0 {
		s += "; idea from " + strings.Join(who, ", ")
	}
	return s
}

// stoppedEarlyText is the outcome of an experiment early stopping ended: no
// val_bpb to compare, the curves' comparison instead, and how to train it
// fully.
func stoppedEarlyText(e research.Experiment) string {
	s := "*discard*: " + mrkdwn.Escape(research.OneLine(e.Reason))
	if d := render.ExperimentDuration(e); d > 0 {
		s += " after " + render.FormatDuration(d)
	}
	return s + fmt.Sprintf(" (`retry %d` trains it to the end)", e.Number)
}
