package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FakeLLM is an OpenAI-compatible chat-completions endpoint that answers
// every request after Latency with one assistant message of two tool calls:
// an edit_file that moves one constant K<i> of train.py (round-robin, by a
// seeded random step) and finish. It reads the constants' current values
// from the train.py the prompt embeds, plus the edits it already made in the
// same conversation, so its edits always apply.
type FakeLLM struct {
	Latency time.Duration
	// SameLine makes every edit move K0: each proposal prepared while a
	// kept one trained touches the line that keep changed (the conflict
	// scenario).
	SameLine bool

	mu            sync.Mutex
	rng           *rand.Rand
	requests      int
	conversations int // requests that opened a conversation (one per proposal)
	continued     int // requests after a refusal or a tool error
	bad           int // requests it could not answer (no train.py in the prompt)
}

// The usage every answer of the fake reports.
const (
	PromptTokens     = 2000
	CompletionTokens = 60
)

// NewFakeLLM returns a fake model answering after latency, with steps drawn
// from seed.
func NewFakeLLM(latency time.Duration, seed uint64) *FakeLLM {
	return &FakeLLM{Latency: latency, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// Serve starts the fake on 127.0.0.1; its base URL for the OpenAI client
// is srv.URL + "/v1".
func (f *FakeLLM) Serve() *httptest.Server { return httptest.NewServer(f) }

// FakeStats counts what the fake served.
type FakeStats struct {
	Requests      int `json:"requests"`
	Conversations int `json:"conversations"`
	Continued     int `json:"continued"`
	Unanswerable  int `json:"unanswerable"`
}

// Stats returns the counts so far.
func (f *FakeLLM) Stats() FakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FakeStats{Requests: f.requests, Conversations: f.conversations, Continued: f.continued, Unanswerable: f.bad}
}

type chatMessage struct {
	Role       string `json:"role"`
	Content    string `json:"content"`
	ToolCallID string `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

var constLine = regexp.MustCompile(`(?m)^K(\d+) = (-?[0-9]+(?:\.[0-9]+)?)$`)

func (f *FakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Model    string        `json:"model"`
		Messages []chatMessage `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(f.Latency):
	case <-r.Context().Done():
		return
	}
	consts, continued := currentConstants(req.Messages)
	f.mu.Lock()
	f.requests++
	if continued {
		f.continued++
	} else {
		f.conversations++
	}
	if len(consts) == 0 {
		f.bad++
		f.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"fake model: no K constants in the prompt's train.py","type":"invalid_request_error"}}`)
		return
	}
	n := f.requests
	k := (n - 1) % Constants
	if f.SameLine {
		k = 0
	}
	step := 0.05 + 0.95*f.rng.Float64()
	if f.rng.IntN(2) == 0 {
		step = -step
	}
	f.mu.Unlock()
	old, ok := consts[k]
	if !ok {
		for k, old = range consts {
			break
		}
	}
	cur, _ := strconv.ParseFloat(old, 64)
	next := strconv.FormatFloat(cur+step, 'f', 4, 64)
	if next == old {
		next = strconv.FormatFloat(cur+step+0.0001, 'f', 4, 64)
	}
	edit, _ := json.Marshal(map[string]string{"path": "train.py",
		"old_string": fmt.Sprintf("K%d = %s\n", k, old), "new_string": fmt.Sprintf("K%d = %s\n", k, next)})
	finish, _ := json.Marshal(map[string]string{"description": fmt.Sprintf("K%d %s -> %s", k, old, next)})
	call := func(id, name string, args []byte) map[string]any {
		return map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": string(args)}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls",
			"message": map[string]any{"role": "assistant", "content": nil,
				"tool_calls": []any{call(fmt.Sprintf("call_%d_edit", n), "edit_file", edit), call(fmt.Sprintf("call_%d_finish", n), "finish", finish)}}}},
		"usage": map[string]any{"prompt_tokens": PromptTokens, "completion_tokens": CompletionTokens, "total_tokens": PromptTokens + CompletionTokens},
	})
}

// currentConstants reads K<i> values from the train.py embedded in the
// first user message, then replays this conversation's successful
// edit_file calls. continued tells whether the model already answered in it.
func currentConstants(msgs []chatMessage) (map[int]string, bool) {
	consts := map[int]string{}
	continued := false
	results := map[string]string{}
	for _, m := range msgs {
		if m.Role == "tool" {
			results[m.ToolCallID] = m.Content
		}
	}
	for _, m := range msgs {
		switch {
		case m.Role == "user" && len(consts) == 0:
			text := m.Content
			if i := strings.Index(text, "### train.py"); i >= 0 {
				text = text[i:]
			}
			for _, match := range constLine.FindAllStringSubmatch(text, -1) {
				k, _ := strconv.Atoi(match[1])
				if _, seen := consts[k]; !seen {
					consts[k] = match[2]
				}
			}
		case m.Role == "assistant":
			continued = true
			for _, c := range m.ToolCalls {
				if c.Function.Name != "edit_file" || strings.HasPrefix(results[c.ID], "error") {
					continue
				}
				var a struct {
					NewString string `json:"new_string"`
				}
				if json.Unmarshal([]byte(c.Function.Arguments), &a) != nil {
					continue
				}
				if match := constLine.FindStringSubmatch(strings.TrimSpace(a.NewString)); match != nil {
					k, _ := strconv.Atoi(match[1])
					consts[k] = match[2]
				}
			}
		}
	}
	return consts, continued
}
