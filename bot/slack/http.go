package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// maxRequestBody bounds what the HTTP endpoints read; a modal submission
// with a long program.md is the largest legitimate request.
const maxRequestBody = 4 << 20

// Handler serves Slack's HTTP mode: /slack/commands, /slack/events and
// /slack/interactive. Every request must carry a valid signature; a forged
// or stale one gets a bare 401.
func (s *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", s.signed(s.serveCommand))
	mux.HandleFunc("POST /slack/events", s.signed(s.serveEvents))
	mux.HandleFunc("POST /slack/interactive", s.signed(s.serveInteractive))
	return s.recovering(mux)
}

// recovering answers 500 to a request whose handler panicked (logged with
// its stack) instead of letting net/http drop the connection.
func (s *Bot) recovering(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer research.Recover(s.log, "HTTP "+r.URL.Path, func(*research.PanicError) {
			w.WriteHeader(http.StatusInternalServerError)
		})
		next.ServeHTTP(w, r)
	})
}

// signed reads the body and checks Slack's signature before next sees it.
func (s *Bot) signed(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			s.log.Warn("slack http: unreadable request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		now := s.now()
		if err := verifySignature(s.cfg.SigningSecret, r.Header, body, now); err != nil {
			s.log.Warn("slack http: request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		first, full := s.replays.first(r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp"), now)
		switch {
		case full:
			// Slack retries a request that got no 2xx; a replay must not pass.
			s.log.Warn("slack http: too many requests in the signature window to tell replays; refused", "path", r.URL.Path)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case !first:
			// Answered already: a replay (or a proxy resending) gets an
			// empty 200 and does nothing.
			s.log.Warn("slack http: replayed request ignored", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.WriteHeader(http.StatusOK)
			return
		}
		next(w, r, body)
	}
}

// serveCommand acknowledges at once and does the work afterwards: Slack
// gives up on a command after 3 seconds.
func (s *Bot) serveCommand(w http.ResponseWriter, _ *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	req := slashFromForm(form)
	w.WriteHeader(http.StatusOK)
	s.goTask(func(ctx context.Context) { s.handleCommand(ctx, req) })
}

func (s *Bot) serveEvents(w http.ResponseWriter, _ *http.Request, body []byte) {
	var env eventEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch env.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": env.Challenge})
		return
	case "event_callback":
	default:
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusOK)
	if !s.seen.first(env.EventID) {
		s.log.Debug("slack http: duplicate event ignored", "event_id", env.EventID)
		return
	}
	s.goTask(func(ctx context.Context) { s.handleEvent(ctx, env) })
}

func (s *Bot) serveInteractive(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	resp := s.routeInteraction(r.Context(), []byte(form.Get("payload")))
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(resp)
}

// runHTTP serves Handler on HTTPAddr until ctx is done.
func (s *Bot) runHTTP(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("slack http: listen on %s: %w", s.cfg.HTTPAddr, err)
	}
	s.log.Info("slack: HTTP mode", "addr", ln.Addr().String(), "routes", "/slack/commands /slack/events /slack/interactive")
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("slack http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
