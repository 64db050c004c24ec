package slack

import (
	"context"
	"encoding/json"
)

// safeSlackAPI is the last stop before Slack: every text, block, view,
// file name and file it sends passes guardText (secrets redacted, broadcast
// mentions defused) or safeFilename. Escaping at the source (escapeText)
// stays the rule; this catches what a future message forgets, and secrets
// that reached a message through a log or a person.
type safeSlackAPI struct {
	slackAPI
	redact func(string) string // nil: nothing to redact
}

func newSafeSlackAPI(api slackAPI, redact func(string) string) *safeSlackAPI {
	return &safeSlackAPI{slackAPI: api, redact: redact}
}

func (a *safeSlackAPI) guard(m chatMessage) chatMessage {
	m.Text = guardText(m.Text, a.redact)
	m.Blocks = guardJSON(m.Blocks, a.redact)
	return m
}

func (a *safeSlackAPI) PostMessage(ctx context.Context, channel string, m chatMessage) (string, error) {
	return a.slackAPI.PostMessage(ctx, channel, a.guard(m))
}

func (a *safeSlackAPI) UpdateMessage(ctx context.Context, channel, ts string, m chatMessage) error {
	return a.slackAPI.UpdateMessage(ctx, channel, ts, a.guard(m))
}

func (a *safeSlackAPI) PostEphemeral(ctx context.Context, channel, user string, m chatMessage) error {
	return a.slackAPI.PostEphemeral(ctx, channel, user, a.guard(m))
}

func (a *safeSlackAPI) Respond(ctx context.Context, responseURL string, m chatMessage, inChannel bool) error {
	return a.slackAPI.Respond(ctx, responseURL, a.guard(m), inChannel)
}

// OpenView only redacts: a modal notifies nobody, and its inputs hold
// program.md as it is, which must come back unchanged when submitted.
func (a *safeSlackAPI) OpenView(ctx context.Context, triggerID string, view json.RawMessage) error {
	if a.redact != nil {
		view = redactJSON(view, a.redact)
	}
	return a.slackAPI.OpenView(ctx, triggerID, view)
}

func (a *safeSlackAPI) UploadFile(ctx context.Context, f fileUpload) error {
	f.Filename = safeFilename(f.Filename)
	f.Title = guardText(f.Title, a.redact)
	f.Comment = guardText(f.Comment, a.redact)
	if a.redact != nil && len(f.Content) > 0 {
		f.Content = []byte(a.redact(string(f.Content)))
	}
	return a.slackAPI.UploadFile(ctx, f)
}
