package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*Config)
		script func(*fakeSlack)
		want   []string // in the error, in order of importance
		varr   string
	}{
		{name: "ok"},
		{name: "invalid_auth", script: func(f *fakeSlack) { f.On("auth.test", 200, `{"ok":false,"error":"invalid_auth"}`) },
			want: []string{"SLACK_BOT_TOKEN", "invalid_auth", "xoxb-"}, varr: "SLACK_BOT_TOKEN"},
		{name: "user token", mod: func(c *Config) { c.BotToken = "xoxp-123" },
			want: []string{"SLACK_BOT_TOKEN", "user token (xoxp-)", "xoxb-"}, varr: "SLACK_BOT_TOKEN"},
		{name: "missing bot token", mod: func(c *Config) { c.BotToken = "" },
			want: []string{"SLACK_BOT_TOKEN: not set"}, varr: "SLACK_BOT_TOKEN"},
		{name: "bot token as app token", mod: func(c *Config) { c.AppToken = "xoxb-oops" },
			want: []string{"SLACK_APP_TOKEN", "bot token (xoxb-)", "xapp-"}, varr: "SLACK_APP_TOKEN"},
		{name: "no transport", mod: func(c *Config) { c.HTTPAddr = "" },
			want: []string{"SLACK_APP_TOKEN", "--http"}, varr: "SLACK_APP_TOKEN"},
		{name: "http without secret", mod: func(c *Config) { c.SigningSecret = "" },
			want: []string{"SLACK_SIGNING_SECRET"}, varr: "SLACK_SIGNING_SECRET"},
		{name: "channel name", mod: func(c *Config) { c.Channel = "#research" },
			want: []string{"SLACK_CHANNEL", "not a channel ID"}, varr: "SLACK_CHANNEL"},
		{name: "channel_not_found", script: func(f *fakeSlack) { f.On("conversations.info", 200, `{"ok":false,"error":"channel_not_found"}`) },
			want: []string{"SLACK_CHANNEL", "not found", "invite"}, varr: "SLACK_CHANNEL"},
		{name: "not_in_channel error", script: func(f *fakeSlack) { f.On("conversations.info", 200, `{"ok":false,"error":"not_in_channel"}`) },
			want: []string{"not a member", "/invite"}, varr: "SLACK_CHANNEL"},
		{name: "not a member", script: func(f *fakeSlack) { f.SetMember(false) },
			want: []string{"not a member of #research", "/invite"}, varr: "SLACK_CHANNEL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSlack(t)
			if c.script != nil {
				c.script(f)
			}
			s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), c.mod)
			err := s.Check(context.Background())
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if s.botUser().UserID != "UBOT" {
					t.Fatalf("Check did not learn the bot's user: %+v", s.botUser())
				}
				return
			}
			if err == nil {
				t.Fatal("Check passed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Var != c.varr {
				t.Errorf("error %v is not a ConfigError about %s", err, c.varr)
			}
		})
	}
}

func TestRunRefusesRevokedAppToken(t *testing.T) {
	f := newFakeSlack(t)
	f.On("apps.connections.open", 200, `{"ok":false,"error":"invalid_auth"}`)
	s := newTestSlack(t, f, newSlackFakeCtrl(), newMemOutbox(), func(c *Config) { c.AppToken = "xapp-revoked" })
	err := s.Run(context.Background())
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Var != "SLACK_APP_TOKEN" {
		t.Fatalf("Run = %v, want a ConfigError about SLACK_APP_TOKEN", err)
	}
}

func TestRunHTTPModeStopsAndFlushes(t *testing.T) {
	f := newFakeSlack(t)
	out := newMemOutbox()
	s := newTestSlack(t, f, newSlackFakeCtrl(), out, nil)
	s.post(context.Background(), "queued before the start", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	f.WaitCalls("chat.postMessage", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.backlog() != 0 {
		t.Fatal("queued message not delivered")
	}
}

func TestSplitProgram(t *testing.T) {
	long := strings.Repeat("é", 2000) // 4000 bytes on one line
	var para strings.Builder
	for i := range 400 {
		para.WriteString(strings.Repeat("w", i%70) + "\n")
	}
	for name, text := range map[string]string{
		"short":     "# program\n\nbe good\n",
		"many":      para.String(),
		"long line": "head\n" + long + "\ntail\n",
		"no eol":    "one line, no newline",
	} {
		chunks := splitProgram(text, 3000)
		for i, c := range chunks {
			if len(c.Text) > 3000 || !utf8.ValidString(c.Text) {
				t.Fatalf("%s: chunk %d is %d bytes (valid UTF-8: %t)", name, i, len(c.Text), utf8.ValidString(c.Text))
			}
		}
		if got := joinProgram(chunks); got != normalizeProgram(text) {
			t.Fatalf("%s: round trip differs:\n%q\n%q", name, got, normalizeProgram(text))
		}
		if name == "many" && len(chunks) < 4 {
			t.Fatalf("many: %d chunks", len(chunks))
		}
	}
	if joinProgram([]programChunk{{Text: ""}, {Text: ""}}) != "" {
		t.Fatal("emptied inputs must join to an empty program")
	}
	if _, err := programView(strings.Repeat(strings.Repeat("x", 2999)+"\n", 100)); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("an oversized program.md must be refused: %v", err)
	}
}

func TestDedupeForgetsOldest(t *testing.T) {
	d := newDedupe(2)
	if !d.first("a") || !d.first("b") || d.first("a") {
		t.Fatal("first sighting / repeat not told apart")
	}
	d.first("c") // evicts a
	if !d.first("a") {
		t.Fatal("the oldest ID should have been forgotten")
	}
	if d.first("c") {
		t.Fatal("a recent ID was forgotten")
	}
	for range 2 { // asked twice: the second is no duplicate either
		if !d.first("") {
			t.Fatal("an event without an ID cannot be a duplicate")
		}
	}
}

func TestVerifySignatureRejectsTamperedBody(t *testing.T) {
	h := newHTTPHarness(t)
	ts := "1700000000"
	body := []byte("text=status")
	hdr := map[string][]string{"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {slackSign("secret", ts, body)}}
	if err := verifySignature("secret", hdr, body, h.now); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	if err := verifySignature("secret", hdr, []byte("text=stop"), h.now); err == nil {
		t.Fatal("a tampered body passed")
	}
}
