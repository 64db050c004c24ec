package main

import "testing"

// The redactor takes every scrubbed variable's value but the public
// settings, which messages show on purpose (channel ID, admins, model).
func TestNewRedactorSkipsPublicSettings(t *testing.T) {
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
