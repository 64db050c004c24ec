package slack

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotConfigured is CheckSetup's answer when SLACK_BOT_TOKEN is not
// set: Slack is needed only by `autoresearch bot`.
//
//lint:ignore ST1005 "Slack" is a proper noun and doctor prints this line as is
var ErrNotConfigured = errors.New("Slack not configured (SLACK_BOT_TOKEN not set): needed only for `autoresearch bot`")

// CheckSetup is doctor's Slack check, from the SLACK_* variables read
// through getenv and without the rest of the bot: the token works, the
// channel exists and the bot is a member of it. It returns the line that
// says so, or ErrNotConfigured, or a *ConfigError that says what to fix.
func CheckSetup(ctx context.Context, getenv func(string) string) (string, error) {
	token := getenv("SLACK_BOT_TOKEN")
	if token == "" {
		return "", ErrNotConfigured
	}
	channel := getenv("SLACK_CHANNEL")
	id, info, err := checkCredentials(ctx, newSlackGoAPI(token, "", getenv("SLACK_API_URL")), channel)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("token works: bot %s in team %s; channel #%s (%s), the bot is a member", id.UserID, id.Team, info.Name, channel), nil
}
