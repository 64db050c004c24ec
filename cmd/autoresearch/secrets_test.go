package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The redactor takes every scrubbed variable's value but the public
// settings, which messages show on purpose (channel ID, admins, model).
func TestNewRedactorSkipsPublicSettings(t *testing.T) {
	t.Parallel()
	r := newRedactor([]string{
		"HF_TOKEN=hf_abcdefghijkl", "AWS_SECRET_ACCESS_KEY=aws/secret/value/1234",
		"SLACK_CHANNEL=C0123456789", "AUTORESEARCH_ADMINS=U0123456789", "AUTORESEARCH_MODEL=gpt-4.1-mini",
		"OPENAI_BASE_URL=https://llm.example/v1", "PATH=/usr/local/bin:/usr/bin",
	}, map[string]string{"SLACK_BOT_TOKEN": "xoxb-from-the-flags-1"})
	in := "hf_abcdefghijkl aws/secret/value/1234 xoxb-from-the-flags-1 C0123456789 U0123456789 gpt-4.1-mini https://llm.example/v1 /usr/local/bin:/usr/bin"
	want := "[redacted HF_TOKEN] [redacted AWS_SECRET_ACCESS_KEY] [redacted SLACK_BOT_TOKEN] C0123456789 U0123456789 gpt-4.1-mini https://llm.example/v1 /usr/local/bin:/usr/bin"
	if got := r.Redact(in); got != want {
		t.Fatalf("Redact =\n %q\nwant\n %q", got, want)
	}
}

// The bot's own log goes through the redactor too.
func TestLogIsRedacted(t *testing.T) {
	t.Parallel()
	r := newRedactor(nil, map[string]string{"SLACK_BOT_TOKEN": "xoxb-in-an-error-123"})
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(redacting(&b, r), nil)).Error("slack said", "err", "invalid_auth for xoxb-in-an-error-123")
	if strings.Contains(b.String(), "xoxb-in-an-error-123") || !strings.Contains(b.String(), "[redacted SLACK_BOT_TOKEN]") {
		t.Fatalf("log line = %q", b.String())
	}
}
