package slack

import (
	"encoding/json"
	"strings"
)

// slackBotScopes are the OAuth scopes of the calls the bot makes; keep in
// step with slackAPI.
var slackBotScopes = []string{
	"commands",         // the slash command
	"chat:write",       // chat.postMessage, chat.update, chat.postEphemeral
	"reactions:write",  // reactions.add on thread ideas
	"files:write",      // files.getUploadURLExternal / completeUploadExternal
	"channels:read",    // conversations.info (public channel)
	"groups:read",      // conversations.info (private channel)
	"channels:history", // message events: thread replies (public channel)
	"groups:history",   // message events: thread replies (private channel)
}

// Manifest returns a Slack app manifest (JSON, which Slack's "create
// from manifest" accepts) for the bot. command is the slash command
// ("/autoresearch" when empty). baseURL empty means Socket Mode; otherwise
// HTTP mode with the routes under baseURL (e.g. "https://bot.example.com").
func Manifest(command, baseURL string) []byte {
	if command == "" {
		command = DefaultSlashCommand
	}
	if !strings.HasPrefix(command, "/") {
		command = "/" + command
	}
	baseURL = strings.TrimRight(baseURL, "/")
	slash := map[string]any{
		"command":       command,
		"description":   "Steer the autoresearch loop: start, stop, ideas, program.md, results",
		"usage_hint":    "help | status | start TAG | idea TEXT | program | results [N]",
		"should_escape": false,
	}
	events := map[string]any{"bot_events": []string{"message.channels", "message.groups", "app_home_opened"}}
	interactivity := map[string]any{"is_enabled": true}
	if baseURL != "" {
		slash["url"] = baseURL + "/slack/commands"
		events["request_url"] = baseURL + "/slack/events"
		interactivity["request_url"] = baseURL + "/slack/interactive"
	}
	m := map[string]any{
		"display_information": map[string]any{
			"name":        "autoresearch",
			"description": "Runs autonomous training experiments and reports them here.",
		},
		"features": map[string]any{
			"bot_user":       map[string]any{"display_name": "autoresearch", "always_online": true},
			"app_home":       map[string]any{"home_tab_enabled": true, "messages_tab_enabled": false},
			"slash_commands": []any{slash},
			"shortcuts": []any{map[string]any{
				"name": "Suggest as idea", "type": "message", "callback_id": suggestIdeaCallbackID,
				"description": "Pin this message as an idea for the next experiments",
			}},
		},
		"oauth_config": map[string]any{"scopes": map[string]any{"bot": slackBotScopes}},
		"settings": map[string]any{
			"event_subscriptions":    events,
			"interactivity":          interactivity,
			"org_deploy_enabled":     false,
			"socket_mode_enabled":    baseURL == "",
			"token_rotation_enabled": false,
		},
	}
	raw, _ := json.MarshalIndent(m, "", "  ")
	return append(raw, '\n')
}
