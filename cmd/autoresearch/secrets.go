package main

import (
	"io"
	"os"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// publicSettings are variables of the families kept from the trainer
// (SLACK_*, OPENAI_*, AUTORESEARCH_*) that are settings, not secrets: their
// values appear in messages on purpose (the channel ID in links, the model
// in run headers, admins' mentions), so redacting them would break those.
var publicSettings = map[string]bool{
	"SLACK_CHANNEL": true, "SLACK_API_URL": true,
	"OPENAI_BASE_URL": true, "OPENAI_API_BASE": true,
	"AUTORESEARCH_MODEL": true, "AUTORESEARCH_ADMINS": true,
}

// newRedactor builds the process's Redactor: the value of every variable
// the trainer's environment scrub removes (trainer.IsSecretEnv), except the
// public settings, and the extra secrets the caller read elsewhere (Slack
// tokens and signing secret, the LLM key), name -> value.
func newRedactor(environ []string, extra map[string]string) *research.Redactor {
	secrets := map[string]string{}
	for _, kv := range environ {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" || publicSettings[strings.ToUpper(key)] || !trainer.IsSecretEnv(key) {
			continue
		}
		secrets[key] = value
	}
	for k, v := range extra {
		secrets[k] = v
	}
	return research.NewRedactor(secrets)
}

// redactor is the process's Redactor, built once from the environment and
// the flags' secrets.
func (f *loopFlags) redactor() *research.Redactor {
	if !f.redactorBuilt {
		f.red, f.redactorBuilt = newRedactor(os.Environ(), f.secrets), true
	}
	return f.red
}

// redactWriter redacts what is written through it. slog's handlers write a
// record in one Write, so no secret is split between two.
type redactWriter struct {
	w io.Writer
	r *research.Redactor
}

func (rw redactWriter) Write(p []byte) (int, error) {
	if _, err := rw.w.Write(rw.r.RedactBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redacting wraps w when there is something to redact.
func redacting(w io.Writer, r *research.Redactor) io.Writer {
	if r == nil || w == nil {
		return w
	}
	return redactWriter{w: w, r: r}
}
