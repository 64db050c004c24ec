package slack

import (
	"encoding/json"
	"testing"
)

func TestSlackManifest(t *testing.T) {
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command string `json:"command"`
				URL     string `json:"url"`
			} `json:"slash_commands"`
		} `json:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Events struct {
				BotEvents  []string `json:"bot_events"`
				RequestURL string   `json:"request_url"`
			} `json:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `json:"is_enabled"`
			} `json:"interactivity"`
			SocketMode bool `json:"socket_mode_enabled"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(Manifest("research", ""), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/research" {
		t.Fatalf("slash commands = %+v", m.Features.SlashCommands)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Fatal("Socket Mode and interactivity (the program.md modal) must be on")
	}
	have := map[string]bool{}
	for _, s := range m.OAuth.Scopes.Bot {
		have[s] = true
	}
	for _, s := range []string{"commands", "chat:write", "reactions:write", "files:write", "channels:read", "channels:history"} {
		if !have[s] {
			t.Errorf("scope %s missing", s)
		}
	}
	if len(m.Settings.Events.BotEvents) == 0 {
		t.Error("no message events: thread ideas would never arrive")
	}

	if err := json.Unmarshal(Manifest("", "https://bot.example.com/"), &m); err != nil {
		t.Fatal(err)
	}
	if m.Settings.SocketMode || m.Features.SlashCommands[0].URL != "https://bot.example.com/slack/commands" ||
		m.Settings.Events.RequestURL != "https://bot.example.com/slack/events" {
		t.Fatalf("HTTP mode manifest = %+v", m)
	}
}
