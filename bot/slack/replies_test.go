package slack

import (
	"testing"

	"github.com/autoresearch/autoresearch/bot/command"
)

// Every command the parser knows is worded for Slack by one reply, so no
// command answers with nothing (the dispatcher checks its handlers so).
func TestEveryCommandHasASlackReply(t *testing.T) {
	names := command.Names()
	for _, name := range names {
		if slashReplies[name] == nil {
			t.Errorf("no Slack reply for %q", name)
		}
	}
	if len(slashReplies) != len(names) {
		t.Errorf("%d Slack replies for %d commands", len(slashReplies), len(names))
	}
}
