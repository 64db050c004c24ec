package agent

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
)

var finishStep = replyTools(call{"finish", map[string]string{"description": "ok"}})

func TestRetry429HonoursRetryAfterSeconds(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(http.StatusTooManyRequests, "Retry-After", "7"), finishStep)
	l, sleeps := newTestLLM(t, f)
	p, err := l.Propose(context.Background(), baseRequest(newRepo(t)))
	if err != nil {
		t.Fatal(err)
	}
	if got := sleeps.got(); len(got) != 1 || got[0] != 7*time.Second {
		t.Errorf("sleeps = %v, want [7s]", got)
	}
	// The retried request is the same conversation, and only the successful
	// call's usage counts.
	if a, b := f.request(0), f.request(1); string(a.Raw) != string(b.Raw) {
		t.Errorf("retry sent a different body:\n%s\n%s", a.Raw, b.Raw)
	}
	if p.Usage.PromptTokens != promptPerTurn {
		t.Errorf("usage = %+v", p.Usage)
	}
}

func TestRetry429HonoursRetryAfterDate(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Add(90 * time.Second).Format(http.TimeFormat)
	f := newFakeOpenAI(t, replyStatus(http.StatusTooManyRequests, "Retry-After", date), finishStep)
	l, sleeps := newTestLLM(t, f)
	l.Now = func() time.Time { return now }
	if _, err := l.Propose(context.Background(), baseRequest(newRepo(t))); err != nil {
		t.Fatal(err)
	}
	if got := sleeps.got(); len(got) != 1 || got[0] != 90*time.Second {
		t.Errorf("sleeps = %v, want [1m30s]", got)
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(http.StatusServiceUnavailable, "Retry-After", "86400"), finishStep)
	l, sleeps := newTestLLM(t, f)
	l.Retry.MaxRetryAfter = time.Minute
	if _, err := l.Propose(context.Background(), baseRequest(newRepo(t))); err != nil {
		t.Fatal(err)
	}
	if got := sleeps.got(); len(got) != 1 || got[0] != time.Minute {
		t.Errorf("sleeps = %v, want [1m]", got)
	}
}

func TestRetry500ThenSuccessBacksOff(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(http.StatusInternalServerError), replyStatus(http.StatusBadGateway), finishStep)
	l, sleeps := newTestLLM(t, f)
	l.Retry = RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Minute}
	p, err := l.Propose(context.Background(), baseRequest(newRepo(t)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "ok" {
		t.Errorf("description = %q", p.Description)
	}
	got := sleeps.got()
	if len(got) != 2 {
		t.Fatalf("sleeps = %v, want 2", got)
	}
	// Equal jitter: between half and all of 1s, then of 2s.
	for i, step := range []time.Duration{time.Second, 2 * time.Second} {
		if got[i] < step/2 || got[i] > step {
			t.Errorf("sleep %d = %v, want within [%v, %v]", i, got[i], step/2, step)
		}
	}
}

func TestRetryNetworkErrors(t *testing.T) {
	f := newFakeOpenAI(t, replyDrop(), replyHang(), finishStep)
	// A short per-attempt timeout ends the hanging attempt; the finishing
	// attempt still has ample time.
	l := NewLLM(LLMConfig{APIKey: "sk-test", BaseURL: f.srv.URL + "/v1", Model: "test-model", HTTPTimeout: time.Second})
	sleeps := &sleepRecorder{}
	l.Sleep = sleeps.sleep
	if _, err := l.Propose(context.Background(), baseRequest(newRepo(t))); err != nil {
		t.Fatal(err)
	}
	if n := len(sleeps.got()); n != 2 {
		t.Errorf("%d sleeps, want 2 (one per failed attempt)", n)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRetryExhaustedIsUnavailable(t *testing.T) {
	s500 := replyStatus(http.StatusInternalServerError)
	f := newFakeOpenAI(t, s500, s500, s500, s500, s500)
	l, sleeps := newTestLLM(t, f)
	_, err := l.Propose(context.Background(), baseRequest(newRepo(t)))
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnavailableError", err)
	}
	if ue.Consecutive != 5 {
		t.Errorf("Consecutive = %d, want 5", ue.Consecutive)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 || !strings.Contains(se.Body, "scripted 500") {
		t.Errorf("last error = %v, want the HTTP 500 with its body", ue.Last)
	}
	if !strings.HasPrefix(err.Error(), "LLM endpoint failing: 5 consecutive failures") {
		t.Errorf("message = %q", err.Error())
	}
	if n := len(sleeps.got()); n != 4 {
		t.Errorf("%d sleeps, want 4 (between 5 attempts)", n)
	}
	if n := len(f.requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
}

func TestNonRetryableStatusFailsAtOnce(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			f := newFakeOpenAI(t, replyStatus(code))
			l, sleeps := newTestLLM(t, f)
			_, err := l.Propose(context.Background(), baseRequest(newRepo(t)))
			var apiErr *openai.APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != code {
				t.Fatalf("err = %v, want *openai.APIError %d", err, code)
			}
			var ue *UnavailableError
			if errors.As(err, &ue) {
				t.Errorf("%d reported as endpoint outage", code)
			}
			if len(sleeps.got()) != 0 || len(f.requests()) != 1 {
				t.Errorf("retried: %d sleeps, %d requests", len(sleeps.got()), len(f.requests()))
			}
		})
	}
}

func TestCancelDuringBackoffIsNotUnavailable(t *testing.T) {
	f := newFakeOpenAI(t, replyStatus(http.StatusServiceUnavailable))
	l, _ := newTestLLM(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	l.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel() // the run is stopped while we wait
		<-ctx.Done()
		return ctx.Err()
	}
	_, err := l.Propose(ctx, baseRequest(newRepo(t)))
	var ue *UnavailableError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"1.5":                           1500 * time.Millisecond,
		"-1":                            0,
		"soon":                          0,
		"Wed, 01 Jan 2025 00:00:10 GMT": 10 * time.Second,
		"Tue, 31 Dec 2024 23:59:00 GMT": 0, // in the past
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	p := RetryPolicy{BaseDelay: time.Second, MaxDelay: 5 * time.Second}.withDefaults()
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 10: 5 * time.Second} {
		if got := p.backoff(attempt, 1); got != want {
			t.Errorf("backoff(%d, max jitter) = %v, want %v", attempt, got, want)
		}
		if got := p.backoff(attempt, 0); got != want/2 {
			t.Errorf("backoff(%d, no jitter) = %v, want %v", attempt, got, want/2)
		}
	}
}
