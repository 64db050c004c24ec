package research_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// fakeOpenAI answers chat completions from a script of replies: each is a
// list of tool calls (name, JSON arguments) or an HTTP status to fail with.
type fakeOpenAI struct {
	mu       sync.Mutex
	replies  []fakeReply
	requests []map[string]any
}

type fakeReply struct {
	status int
	calls  [][2]string
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	if len(f.replies) == 0 {
		f.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"script exhausted","type":"server_error"}}`)
		return
	}
	reply := f.replies[0]
	f.replies = f.replies[1:]
	f.mu.Unlock()
	if reply.status != 0 {
		w.WriteHeader(reply.status)
		fmt.Fprintf(w, `{"error":{"message":"status %d","type":"server_error"}}`, reply.status)
		return
	}
	var calls []map[string]any
	for i, c := range reply.calls {
		calls = append(calls, map[string]any{"id": fmt.Sprintf("call_%d", i), "type": "function",
			"function": map[string]any{"name": c[0], "arguments": c[1]}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req["model"],
		"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls",
			"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": calls}}},
		"usage": map[string]any{"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
	})
}

// toolResults returns the tool messages the model was sent in request i.
func (f *fakeOpenAI) toolResults(i int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.requests[i]["messages"].([]any) {
		msg := m.(map[string]any)
		if msg["role"] == "tool" {
			out = append(out, fmt.Sprint(msg["content"]))
		}
	}
	return out
}

func editArgs(path, old, new string) string {
	b, _ := json.Marshal(map[string]string{"path": path, "old_string": old, "new_string": new})
	return string(b)
}

func TestLoopWithLLMProposerRefusesOutsideEditsAndPausesWhenTheEndpointFails(t *testing.T) {
	t.Parallel()
	fake := &fakeOpenAI{replies: []fakeReply{
		{calls: [][2]string{{"edit_file", editArgs("prepare.py", "EVAL_TOKENS = 1000", "EVAL_TOKENS = 1")}}},
		{calls: [][2]string{{"edit_file", editArgs("train.py", "VAL = 1.500000", "VAL = 1.400000")}}},
		{calls: [][2]string{{"finish", `{"description":"lower VAL to 1.4"}`}}},
		// The next proposal finds the endpoint down: 5 failures in a row.
		{status: 500}, {status: 500}, {status: 503}, {status: 500}, {status: 502},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir := researchtest.New(t)
	h := newHarness(t, dir, research.Config{})
	llm := agent.NewLLM(agent.LLMConfig{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "test-model"})
	llm.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	h.m.Proposer = llm

	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "llm"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(h.rec.kinds(research.EventPaused)) > 0 })
	paused := h.rec.kinds(research.EventPaused)[0]
	if !strings.Contains(paused.Text, "LLM endpoint failing") {
		t.Errorf("pause reason = %q", paused.Text)
	}
	if err := h.m.Stop(context.Background(), "tester", research.StopAfterRunning); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "llm")
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep" || exps[1].Description != "lower VAL to 1.4" {
		t.Fatalf("experiments: %s %v", got, exps)
	}
	if exps[1].PromptTokens != 3000 || exps[1].CompletionTokens != 150 {
		t.Errorf("tokens = %d/%d, want 3000/150", exps[1].PromptTokens, exps[1].CompletionTokens)
	}
	// The model was told why its edit of prepare.py was refused.
	if results := fake.toolResults(1); len(results) != 1 || !strings.Contains(results[0], "prepare.py") {
		t.Errorf("tool result for the prepare.py edit: %q", results)
	}
	if researchtest.Read(t, dir, "prepare.py") != researchtest.PreparePy {
		t.Error("prepare.py changed")
	}
	// The prompt carried the research program and the history.
	first := fmt.Sprint(fake.requests[0]["messages"])
	if !strings.Contains(first, "Lower val_bpb. Try one idea at a time.") || !strings.Contains(first, "baseline") {
		t.Errorf("first prompt lacks program.md or history: %.400s", first)
	}
}
