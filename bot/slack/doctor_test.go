package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// doctor's Slack check says what works, that Slack is optional when no
// token is set, and what to fix when the bot is not in the channel.
func TestCheckSetup(t *testing.T) {
	f := newFakeSlack(t)
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_CHANNEL": "C0RESEARCH", "SLACK_API_URL": apiURLOf(f)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()

	f.SetMember(true)
	msg, err := CheckSetup(ctx, getenv)
	if err != nil || msg != "token works: bot UBOT in team Team; channel #research (C0RESEARCH), the bot is a member" {
		t.Fatalf("CheckSetup = %q, %v", msg, err)
	}
	f.SetMember(false)
	var ce *ConfigError
	if _, err := CheckSetup(ctx, getenv); !errors.As(err, &ce) || ce.Var != "SLACK_CHANNEL" || !strings.Contains(err.Error(), "/invite") {
		t.Fatalf("bot not in the channel: err = %v", err)
	}
	delete(env, "SLACK_BOT_TOKEN")
	n := len(f.Calls())
	if _, err := CheckSetup(ctx, getenv); !errors.Is(err, ErrNotConfigured) || len(f.Calls()) != n {
		t.Fatalf("no token: err = %v, %d calls to Slack", err, len(f.Calls())-n)
	}
}
