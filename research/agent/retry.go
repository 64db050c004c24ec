package agent

import (
	"bytes"
	"fmt"
	"github.com/autoresearch/autoresearch/research"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retries are done below go-openai, in an openai.HTTPDoer that wraps an
// *http.Client, rather than around CreateChatCompletion, because:
//   - go-openai's errors carry the status code but not the Retry-After
//     header, which only the HTTP layer sees;
//   - http.Client.Timeout then bounds each attempt (including reading the
//     body), not the whole retry sequence with its back-off sleeps;
//   - the response body is read inside the attempt, so a connection dropped
//     mid-body is retried like any other network failure.
// The request body is buffered once and replayed on each attempt.

// RetryPolicy bounds the retries of one chat-completion call.
type RetryPolicy struct {
	Attempts      int           // tries per call, the first included (default 5)
	BaseDelay     time.Duration // back-off before the second try (default 2s), doubled each time
	MaxDelay      time.Duration // cap of the exponential back-off (default 60s)
	MaxRetryAfter time.Duration // cap on a server's Retry-After (default 5m)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 2 * time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 60 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 5 * time.Minute
	}
	return p
}

// backoff is the wait after failed try number attempt (1-based): exponential,
// capped, with "equal jitter" (between half and all of the step) so that
// several bots hitting the same endpoint do not retry in lockstep.
func (p RetryPolicy) backoff(attempt int, jitter float64) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + time.Duration(jitter*float64(d/2))
}

// UnavailableError means the endpoint kept failing with transient errors
// (429, 5xx, timeouts, network) until the retries of one call ran out. The
// loop pauses the run on it rather than counting it as a bad proposal.
type UnavailableError struct {
	Consecutive int   // failed tries in a row
	Last        error // the last failure
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("LLM endpoint failing: %d consecutive failures, last: %v", e.Consecutive, e.Last)
}

func (e *UnavailableError) Unwrap() error { return e.Last }

// Is makes the loop's errors.Is(err, research.ErrUnavailable) see it, so the
// run pauses with the reason.
func (e *UnavailableError) Is(target error) bool { return target == research.ErrUnavailable }

// StatusError is a transient HTTP failure status (429, 5xx).
type StatusError struct {
	StatusCode int
	Body       string // start of the response body
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Body)
}

// retryDoer is the openai.HTTPDoer that retries transient failures.
type retryDoer struct {
	client *http.Client
	llm    *LLM // read at call time, so tests and callers may set Sleep/Retry after NewLLM
}

// maxResponseBytes guards against a misbehaving server streaming forever.
const maxResponseBytes = 64 << 20

func (d *retryDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("agent: buffering request body: %w", err)
		}
	}
	p := d.llm.Retry.withDefaults()
	log := d.llm.logger()
	for attempt := 1; ; attempt++ {
		resp, retryAfter, failure := d.try(req, body)
		if failure == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			// The caller gave up (stop, shutdown): not an endpoint outage.
			return nil, ctx.Err()
		}
		if attempt >= p.Attempts {
			return nil, &UnavailableError{Consecutive: attempt, Last: failure}
		}
		wait := p.backoff(attempt, rand.Float64())
		if retryAfter > 0 {
			wait = min(retryAfter, p.MaxRetryAfter)
		}
		log.Warn("llm call failed, retrying", "attempt", attempt, "of", p.Attempts, "wait", wait, "err", failure)
		if err := d.llm.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// try makes one attempt. A nil failure means resp is final (success or a
// non-retryable status, which go-openai turns into an *openai.APIError).
func (d *retryDoer) try(req *http.Request, body []byte) (resp *http.Response, retryAfter time.Duration, failure error) {
	r := req.Clone(req.Context())
	if req.Body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	resp, err := d.client.Do(r)
	if err != nil {
		return nil, 0, fmt.Errorf("request failed: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	resp.Body.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("reading response (HTTP %d): %w", resp.StatusCode, err)
	}
	if transientStatus(resp.StatusCode) {
		return nil, parseRetryAfter(resp.Header.Get("Retry-After"), d.llm.now()),
			&StatusError{StatusCode: resp.StatusCode, Body: snippet(data)}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	return resp, 0, nil
}

// transientStatus: rate limits, request timeouts and server errors are worth
// retrying; other 4xx (bad request, auth, unknown model) will not get better.
func transientStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date; zero
// when absent or unparsable (the caller then uses its own back-off).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
