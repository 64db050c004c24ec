package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ConfigError is a Slack setting that is missing or wrong, with what to do
// about it.
type ConfigError struct {
	Var     string // the environment variable or flag, e.g. SLACK_BOT_TOKEN
	Problem string
	Fix     string
}

func (e *ConfigError) Error() string {
	msg := e.Var + ": " + e.Problem
	if e.Fix != "" {
		msg += " — " + e.Fix
	}
	return msg
}

// Validate checks the configuration without asking Slack (tokens' shapes,
// the channel ID, Socket Mode or HTTP mode), reporting every problem at once
// as *ConfigError values.
func (c Config) Validate() error { return c.validate() }

// validate checks what can be checked without Slack: presence and the
// shape of tokens and IDs. All problems are reported at once.
func (c Config) validate() error {
	var errs []error
	switch {
	case c.BotToken == "":
		errs = append(errs, &ConfigError{Var: "SLACK_BOT_TOKEN", Problem: "not set",
			Fix: "install the app and copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions"})
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		errs = append(errs, &ConfigError{Var: "SLACK_BOT_TOKEN", Problem: "is a " + tokenKind(c.BotToken) + ", not a bot token",
			Fix: "use the Bot User OAuth Token, which starts with xoxb-"})
	}
	switch {
	case c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-"):
		errs = append(errs, &ConfigError{Var: "SLACK_APP_TOKEN", Problem: "is a " + tokenKind(c.AppToken) + ", not an app-level token",
			Fix: "Socket Mode needs an app-level token (xapp-...) with connections:write, from Basic Information → App-Level Tokens"})
	case c.AppToken == "" && c.HTTPAddr == "":
		errs = append(errs, &ConfigError{Var: "SLACK_APP_TOKEN", Problem: "not set, and no --http address either",
			Fix: "set SLACK_APP_TOKEN (xapp-...) for Socket Mode, or serve HTTP with --http ADDR and SLACK_SIGNING_SECRET"})
	case c.AppToken == "" && c.SigningSecret == "":
		errs = append(errs, &ConfigError{Var: "SLACK_SIGNING_SECRET", Problem: "not set, but HTTP mode needs it to verify Slack's requests",
			Fix: "copy the Signing Secret from the app's Basic Information page"})
	}
	switch {
	case c.Channel == "":
		errs = append(errs, &ConfigError{Var: "SLACK_CHANNEL", Problem: "not set",
			Fix: "set it to the channel's ID (C0123...; in Slack: channel details → About, at the bottom)"})
	case strings.HasPrefix(c.Channel, "#") || !isChannelID(c.Channel):
		errs = append(errs, &ConfigError{Var: "SLACK_CHANNEL", Problem: fmt.Sprintf("%q is not a channel ID", c.Channel),
			Fix: "use the ID (C0123... or G0123...), not the name: channel details → About, at the bottom"})
	}
	return errors.Join(errs...)
}

func isChannelID(s string) bool {
	if len(s) < 2 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func tokenKind(tok string) string {
	switch {
	case strings.HasPrefix(tok, "xoxb-"):
		return "bot token (xoxb-)"
	case strings.HasPrefix(tok, "xoxp-"):
		return "user token (xoxp-)"
	case strings.HasPrefix(tok, "xapp-"):
		return "app-level token (xapp-)"
	case strings.HasPrefix(tok, "xoxe"):
		return "configuration/refresh token (xoxe)"
	}
	return "value that is not a Slack token"
}

// Check asks Slack whether the bot token works and the bot can post in the
// channel, and says exactly what to fix when not. Run does not need it, but
// starting without it means finding out from the first failed message.
func (s *Bot) Check(ctx context.Context) error {
	if err := s.cfg.validate(); err != nil {
		return err
	}
	id, info, err := checkCredentials(ctx, s.api, s.cfg.Channel)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.identity = id
	s.mu.Unlock()
	s.log.Info("slack: credentials and channel OK", "bot", id.UserID, "team", id.Team, "channel", info.Name)
	return nil
}

// checkCredentials is auth.test and conversations.info, each failure turned
// into a *ConfigError that says what to fix.
func checkCredentials(ctx context.Context, api slackAPI, channel string) (slackIdentity, channelInfo, error) {
	id, err := api.AuthTest(ctx)
	if err != nil {
		return id, channelInfo{}, explainAuthError(err)
	}
	if channel == "" {
		return id, channelInfo{}, &ConfigError{Var: "SLACK_CHANNEL", Problem: "not set",
			Fix: "set it to the channel's ID (C0123...; in Slack: channel details → About, at the bottom)"}
	}
	info, err := api.ConversationInfo(ctx, channel)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			switch apiErr.Code {
			case "channel_not_found":
				return id, info, &ConfigError{Var: "SLACK_CHANNEL", Problem: fmt.Sprintf("channel %s not found", channel),
					Fix: "check the ID; for a private channel, invite the bot first (/invite @<bot>)"}
			case "not_in_channel":
				return id, info, notMember(channel)
			case "missing_scope":
				return id, info, &ConfigError{Var: "SLACK_BOT_TOKEN", Problem: "the app lacks the scope to read the channel (channels:read / groups:read)",
					Fix: "add the scopes from the manifest and reinstall the app"}
			}
			return id, info, &ConfigError{Var: "SLACK_CHANNEL", Problem: "conversations.info failed: " + apiErr.Code, Fix: errorHint(apiErr.Code)}
		}
		return id, info, fmt.Errorf("slack: checking the channel: %w", err)
	}
	if info.IsArchived {
		return id, info, &ConfigError{Var: "SLACK_CHANNEL", Problem: fmt.Sprintf("#%s (%s) is archived", info.Name, channel),
			Fix: "unarchive it or choose another channel"}
	}
	if !info.IsMember {
		return id, info, notMember(fmt.Sprintf("#%s (%s)", info.Name, channel))
	}
	return id, info, nil
}

func notMember(channel string) error {
	return &ConfigError{Var: "SLACK_CHANNEL", Problem: "the bot is not a member of " + channel,
		Fix: "invite it: type /invite @<bot name> in the channel"}
}

// explainAuthError turns an auth.test failure into what to fix.
func explainAuthError(err error) error {
	var api *APIError
	if errors.As(err, &api) {
		switch api.Code {
		case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired":
			return &ConfigError{Var: "SLACK_BOT_TOKEN", Problem: "Slack refused the token (" + api.Code + ")",
				Fix: "reinstall the app to the workspace and copy the current Bot User OAuth Token (xoxb-...)"}
		}
		return &ConfigError{Var: "SLACK_BOT_TOKEN", Problem: "auth.test failed: " + api.Code, Fix: errorHint(api.Code)}
	}
	return fmt.Errorf("slack: auth.test: %w (is SLACK_API_URL right, and is Slack reachable?)", err)
}
