package slack

import (
	"fmt"

	"github.com/autoresearch/autoresearch/research"
)

// button is a Block Kit button; style is "", "primary" or "danger".
func button(text, actionID, value, style string) slackBlock {
	b := slackBlock{"type": "button", "action_id": actionID, "value": value,
		"text": slackBlock{"type": "plain_text", "text": text, "emoji": true}}
	if style != "" {
		b["style"] = style
	}
	return b
}

// confirmed asks before a button does something that cannot be undone.
func confirmed(b slackBlock, title, text, yes string) slackBlock {
	b["confirm"] = slackBlock{
		"title":   slackBlock{"type": "plain_text", "text": title},
		"text":    mrkdwnText(text),
		"confirm": slackBlock{"type": "plain_text", "text": yes},
		"deny":    slackBlock{"type": "plain_text", "text": "Cancel"},
	}
	return b
}

func actionsBlock(blockID string, buttons ...slackBlock) slackBlock {
	els := make([]any, len(buttons))
	for i, b := range buttons {
		els[i] = b
	}
	return slackBlock{"type": "actions", "block_id": blockID, "elements": els}
}

// experimentButtons are what a person can do from an experiment's message:
// see its diff or log in the thread, and, once it ended, retry it on the
// best or pin a follow-up idea; while it trains, stop it.
func experimentButtons(e research.Experiment) slackBlock {
	value := fmt.Sprintf("%d:%d", e.RunID, e.Number)
	var bs []slackBlock
	if e.Diff != "" {
		bs = append(bs, button("Diff", actionDiff, value, ""))
	}
	bs = append(bs, button("Log", actionLog, value, ""))
	if e.Status == research.StatusRunning {
		bs = append(bs, confirmed(button("Stop now", actionStop, value, "danger"),
			"Stop now?", fmt.Sprintf("#%d is ended and recorded as stopped; the run stops.", e.Number), "Stop now"))
	} else {
		if research.RoleOf(e) == research.RoleChange && e.Diff != "" {
			bs = append(bs, button("Retry on best", actionRetry, value, ""))
		}
		bs = append(bs, button("Follow-up idea", actionIdea, value, "primary"))
	}
	return actionsBlock(fmt.Sprintf("exp_actions_%d_%d", e.RunID, e.Number), bs...)
}

// runButtons steer the run from its header.
func runButtons(r research.Run) slackBlock {
	value := fmt.Sprint(r.ID)
	return actionsBlock(fmt.Sprintf("run_actions_%d", r.ID),
		button("Pause", actionPause, value, ""),
		button("Resume", actionResume, value, ""),
		confirmed(button("Stop", actionEnd, value, "danger"),
			"Stop the run?", "The running experiment finishes first; the run can be resumed with `start TAG` later.", "Stop"))
}
