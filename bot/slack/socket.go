package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/autoresearch/autoresearch/research"
)

// runSocketMode receives Slack's requests over a Socket Mode websocket
// until ctx is done. slack-go keeps the connection (reconnects, pings);
// this loop acknowledges every envelope first and works afterwards.
func (s *Bot) runSocketMode(ctx context.Context) error {
	api := newSlackGoAPI(s.cfg.BotToken, s.cfg.AppToken, s.cfg.APIURL)
	client := socketmode.New(api.c, socketmode.OptionLog(slogOutput{s.log}))
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	s.log.Info("slack: Socket Mode", "command", s.cfg.CommandName, "channel", s.cfg.Channel)
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return explainSocketError(err)
		case evt := <-client.Events:
			_ = research.Catch(s.log, "Socket Mode "+string(evt.Type), func() { s.socketEvent(ctx, client, evt) })
		}
	}
}

func (s *Bot) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		s.log.Debug("slack: connecting to Socket Mode")
	case socketmode.EventTypeConnected:
		s.log.Info("slack: connected (Socket Mode)")
	case socketmode.EventTypeConnectionError:
		s.log.Warn("slack: Socket Mode connection failed; retrying", "err", evt.Data)
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack: Socket Mode refused SLACK_APP_TOKEN")
	case socketmode.EventTypeErrorBadMessage, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		s.log.Warn("slack: Socket Mode message problem", "type", evt.Type, "data", evt.Data)

	case socketmode.EventTypeSlashCommand:
		// The work is started before the ack goes out (both take
		// microseconds), so whoever sees the ack can wait for the work.
		req := evt.Request
		defer s.ack(client, req, nil)
		var sr slashRequest
		if err := json.Unmarshal(req.Payload, &sr); err != nil {
			s.log.Warn("slack: unreadable slash command", "err", err)
			return
		}
		s.goTask(func(ctx context.Context) { s.handleCommand(ctx, sr) })

	case socketmode.EventTypeEventsAPI:
		req := evt.Request
		defer s.ack(client, req, nil)
		var env eventEnvelope
		if err := json.Unmarshal(req.Payload, &env); err != nil {
			s.log.Warn("slack: unreadable event", "err", err)
			return
		}
		// Slack resends an event whose ack it missed (retry_attempt > 0).
		if !s.seen.first(env.EventID) {
			s.log.Debug("slack: duplicate event ignored", "event_id", env.EventID, "retry", req.RetryAttempt)
			return
		}
		s.goTask(func(ctx context.Context) { s.handleEvent(ctx, env) })

	case socketmode.EventTypeInteractive:
		req := evt.Request
		// The answer to a modal submission is its ack, so it is computed
		// first; it only reads local state.
		s.ack(client, req, s.routeInteraction(ctx, req.Payload))
	}
}

func (s *Bot) ack(client *socketmode.Client, req *socketmode.Request, payload json.RawMessage) {
	if req == nil {
		return
	}
	var p any
	if payload != nil {
		p = payload
	}
	if err := client.Ack(*req, p); err != nil {
		s.log.Error("slack: acknowledging a request", "envelope_id", req.EnvelopeID, "err", err)
	}
}

// explainSocketError says what to fix when Socket Mode cannot connect.
func explainSocketError(err error) error {
	code := err.Error()
	if se, ok := errors.AsType[slackgo.SlackErrorResponse](err); ok {
		code = se.Err
	}
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		return &ConfigError{Var: "SLACK_APP_TOKEN", Problem: "Slack refused the app-level token (" + code + ")",
			Fix: "create an app-level token with the connections:write scope (Basic Information → App-Level Tokens) and enable Socket Mode"}
	}
	if strings.Contains(code, "404") {
		return &ConfigError{Var: "SLACK_APP_TOKEN", Problem: "Socket Mode is not available for this app",
			Fix: "enable Socket Mode in the app settings"}
	}
	return fmt.Errorf("slack socket mode: %w", err)
}

// slogOutput lets slack-go's logger write to slog, at debug level: it
// logs connection chatter the bot already reports.
type slogOutput struct{ log *slog.Logger }

func (o slogOutput) Output(_ int, s string) error {
	o.log.Debug(strings.TrimSpace(s), "source", "slack-go")
	return nil
}
