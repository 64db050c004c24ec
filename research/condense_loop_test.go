package research_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// condenseOpenAI speaks chat completions for a whole run: every proposal
// request (one with tools) is answered in one reply that raises VAL a notch
// (a discard) and finishes; condensation requests (no tools) are answered
// with a tool call instead of text, a failure, until failCondense of them
// have failed, then with a lesson.
type condenseOpenAI struct {
	failCondense int

	mu        sync.Mutex
	proposals int   // proposal requests so far
	condense  []int // proposal requests seen before each condensation request
}

func (f *condenseOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string            `json:"model"`
		Tools []json.RawMessage `json:"tools"`
	}
	if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	var msg map[string]any
	finish := "tool_calls"
	if len(req.Tools) == 0 {
		f.condense = append(f.condense, f.proposals)
		if len(f.condense) <= f.failCondense {
			msg = toolCallMessage([2]string{"read_file", `{"path":"train.py"}`})
		} else {
			msg, finish = map[string]any{"role": "assistant", "content": "- raising VAL always hurt (#2-#4)"}, "stop"
		}
	} else {
		f.proposals++
		value := fmt.Sprintf("%.6f", 1.5+0.001*float64(f.proposals))
		msg = toolCallMessage(
			[2]string{"edit_file", editArgs("train.py", "VAL = 1.500000", "VAL = "+value)},
			[2]string{"finish", fmt.Sprintf(`{"description":"raise VAL to %s, a notch above the last try, to see whether the loss follows it"}`, value)},
		)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": finish, "message": msg}},
		"usage":   map[string]any{"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
	})
}

func toolCallMessage(calls ...[2]string) map[string]any {
	var tcs []map[string]any
	for i, c := range calls {
		tcs = append(tcs, map[string]any{"id": fmt.Sprintf("call_%d", i), "type": "function",
			"function": map[string]any{"name": c[0], "arguments": c[1]}})
	}
	return map[string]any{"role": "assistant", "content": nil, "tool_calls": tcs}
}

func (f *condenseOpenAI) requests() (proposals int, condense []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.proposals, slices.Clone(f.condense)
}

// llmCallLog is the store, also keeping the LLM calls it was asked to record.
type llmCallLog struct {
	research.Store
	mu    sync.Mutex
	calls []research.LLMCall
}

func (l *llmCallLog) AddLLMCall(ctx context.Context, c research.LLMCall) error {
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return l.Store.AddLLMCall(ctx, c)
}

func (l *llmCallLog) byPurpose(purpose string) []research.LLMCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []research.LLMCall
	for _, c := range l.calls {
		if c.Purpose == purpose {
			out = append(out, c)
		}
	}
	return out
}

// A model that answers the condensation request with a tool call instead of
// text is asked again only as the history grows by 1, 2, 4, 8 experiments,
// not before every proposal; the failure is logged at Warn once, the later
// ones at debug level, and the success that ends the streak at Info; every
// failed call is stored and counted in the run's tokens.
func TestFailingCondensationBacksOffIsCountedAndLoggedOnce(t *testing.T) {
	t.Parallel()
	fake := &condenseOpenAI{failCondense: 4}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir := researchtest.New(t)
	const proposals = 19
	h := newHarness(t, dir, research.Config{MaxExperiments: proposals + 1, FixAttempts: new(0)})
	logs := &logBuffer{}
	h.m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	calls := &llmCallLog{Store: h.db}
	h.m.Store = calls
	llm := agent.NewLLM(agent.LLMConfig{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "test-model"})
	llm.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	// A budget small enough that one discarded experiment before the two
	// most recent asks for condensing: from the 4th proposal on (history:
	// the baseline and three discards).
	llm.History = agent.HistoryBudget{MaxTokens: 50, KeepRecent: 2}
	h.m.Proposer = llm

	run := h.runToEnd(t, research.StartRequest{Tag: "condense", By: "tester"})

	made, condense := fake.requests()
	if made != proposals {
		t.Fatalf("%d proposal requests, want %d", made, proposals)
	}
	// Tried before proposals 4, 5, 7, 11 (failing: the waits are 1, 2, 4
	// and 8 experiments) and 19 (making the lesson), never in between.
	if want := []int{3, 4, 6, 10, 18}; !slices.Equal(condense, want) {
		t.Fatalf("condensation requested after %v proposals, want %v", condense, want)
	}
	exps := h.experiments(t, run)
	if len(exps) != proposals+1 || strings.Count(statuses(exps), "discard") != proposals {
		t.Fatalf("experiments: %s", statuses(exps))
	}

	var warns, debugs, infos int
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "condensing old experiments") {
			continue
		}
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec.Level {
		case "WARN":
			warns++
			if !strings.Contains(line, "no text") {
				t.Errorf("the warning does not say why: %s", line)
			}
		case "DEBUG":
			debugs++
		case "INFO":
			infos++
		}
	}
	if warns != 1 || debugs != 3 || infos != 1 {
		t.Errorf("condensation logged %d warnings, %d debug lines, %d infos; want 1, 3, 1:\n%s", warns, debugs, infos, logs.String())
	}

	stored := calls.byPurpose("condense")
	var failed int
	for _, c := range stored {
		if c.Failed {
			failed++
		}
		if c.PromptTokens != 1000 || c.CompletionTokens != 50 || c.RunID != run.ID {
			t.Errorf("stored condensation call %+v, want 1000/50 tokens of run %d", c, run.ID)
		}
	}
	if len(stored) != 5 || failed != 4 {
		t.Errorf("stored %d condensation calls, %d of them failed; want 5, 4", len(stored), failed)
	}
	prompt, completion, err := h.db.LLMTokens(context.Background(), run.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(proposals+5) * 1000; prompt != want || completion != int64(proposals+5)*50 {
		t.Errorf("run's LLM tokens = %d/%d, want %d/%d (failed condensations counted)", prompt, completion, want, int64(proposals+5)*50)
	}
	lessons, err := h.db.Lessons(context.Background(), run.ID)
	if err != nil || len(lessons) != 1 || !strings.Contains(lessons[0].Text, "raising VAL") {
		t.Errorf("lessons = %+v (err %v), want the one the fifth try made", lessons, err)
	}
}
