package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// wireRequest is a chat-completions request as it arrives on the wire,
// decoded independently of go-openai so the tests check the real JSON.
type wireRequest struct {
	Model       string          `json:"model"`
	Temperature *float64        `json:"temperature"`
	Messages    []wireMessage   `json:"messages"`
	Tools       []wireTool      `json:"tools"`
	Raw         json.RawMessage `json:"-"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	ToolCallID string         `json:"tool_call_id"`
	ToolCalls  []wireToolCall `json:"tool_calls"`
}

func (m wireMessage) text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// step answers one HTTP request of the scripted conversation.
type step func(w http.ResponseWriter, r *http.Request, req wireRequest)

// fakeOpenAI is an httptest server speaking the chat-completions API, scripted
// turn by turn. Every request (also failed ones) is recorded.
type fakeOpenAI struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	steps []step
	reqs  []wireRequest
}

func newFakeOpenAI(t *testing.T, steps ...step) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{t: t, steps: steps}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		f.t.Errorf("Authorization = %q", got)
	}
	body, _ := io.ReadAll(r.Body)
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("request body is not JSON: %v\n%s", err, body)
	}
	req.Raw = body
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	var s step
	if n < len(f.steps) {
		s = f.steps[n]
	}
	f.mu.Unlock()
	if s == nil {
		f.t.Errorf("unexpected request #%d (script has %d steps)", n+1, len(f.steps))
		// 400 is not retried, so a runaway client stops here.
		writeJSON(w, http.StatusBadRequest, `{"error":{"message":"script exhausted","type":"invalid_request_error"}}`)
		return
	}
	s(w, r, req)
}

func (f *fakeOpenAI) requests() []wireRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wireRequest(nil), f.reqs...)
}

// request returns the i-th request (0-based), failing the test if missing.
func (f *fakeOpenAI) request(i int) wireRequest {
	f.t.Helper()
	reqs := f.requests()
	if i >= len(reqs) {
		f.t.Fatalf("want request #%d, server got %d", i+1, len(reqs))
	}
	return reqs[i]
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// call is one scripted tool call.
type call struct {
	name string
	args any // marshalled to JSON, or a string sent verbatim
}

// usagePerTurn is what every scripted success reports.
const promptPerTurn, completionPerTurn = 100, 10

// replyTools answers with an assistant message making tool calls.
func replyTools(calls ...call) step {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		var tcs []map[string]any
		for i, c := range calls {
			args, ok := c.args.(string)
			if !ok {
				b, _ := json.Marshal(c.args)
				args = string(b)
			}
			tcs = append(tcs, map[string]any{
				"id": fmt.Sprintf("call_%d_%d", len(req.Messages), i), "type": "function",
				"function": map[string]any{"name": c.name, "arguments": args},
			})
		}
		writeCompletion(w, map[string]any{"role": "assistant", "content": nil, "tool_calls": tcs}, "tool_calls")
	}
}

// replyText answers with a prose-only assistant message.
func replyText(text string) step {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		writeCompletion(w, map[string]any{"role": "assistant", "content": text}, "stop")
	}
}

func writeCompletion(w http.ResponseWriter, msg map[string]any, finish string) {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000, "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage": map[string]any{
			"prompt_tokens": promptPerTurn, "completion_tokens": completionPerTurn,
			"total_tokens": promptPerTurn + completionPerTurn,
		},
	})
	writeJSON(w, http.StatusOK, string(b))
}

// replyStatus answers with an OpenAI-style error body and optional headers.
func replyStatus(code int, headers ...string) step {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeJSON(w, code, fmt.Sprintf(`{"error":{"message":"scripted %d","type":"server_error"}}`, code))
	}
}

// replyDrop closes the connection without an answer (a network failure).
func replyDrop() step {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	}
}

// replyHang never answers; it returns when the client gives up.
func replyHang() step {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest) {
		<-r.Context().Done()
	}
}

// lastTool returns the content of the tool message answering callIdx of the
// previous assistant turn, checking it is wired to the right tool_call_id.
func lastToolResults(t *testing.T, req wireRequest) []string {
	t.Helper()
	var asst *wireMessage
	var out []string
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "assistant" {
			asst = &req.Messages[i]
			for _, m := range req.Messages[i+1:] {
				if m.Role == "tool" {
					out = append(out, m.text())
				}
			}
			break
		}
	}
	if asst == nil {
		t.Fatalf("no assistant message in request")
	}
	if len(out) != len(asst.ToolCalls) {
		t.Fatalf("%d tool results for %d tool calls", len(out), len(asst.ToolCalls))
	}
	for i, m := range req.Messages[len(req.Messages)-len(out):] {
		if m.ToolCallID != asst.ToolCalls[i].ID {
			t.Errorf("tool result %d answers %q, want %q", i, m.ToolCallID, asst.ToolCalls[i].ID)
		}
	}
	return out
}

// sleepRecorder replaces LLM.Sleep: it records the waits and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func newTestLLM(t *testing.T, f *fakeOpenAI) (*LLM, *sleepRecorder) {
	t.Helper()
	l := NewLLM(LLMConfig{APIKey: "sk-test", BaseURL: f.srv.URL + "/v1", Model: "test-model"})
	rec := &sleepRecorder{}
	l.Sleep = rec.sleep
	return l, rec
}

const (
	trainPy   = "import torch\nlr = 0.01\nbatch = 32\nprint('val_bpb:', 1.0)\n"
	preparePy = "# read-only\nVOCAB = 8192\n"
	programMd = "Research program: try to beat the baseline with simple changes.\n"
)

// newRepo makes a research working copy with train.py, prepare.py and
// program.md, inside a parent directory that also holds an "outside" file.
func newRepo(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "repo")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "train.py"), []byte(trainPy), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "prepare.py"), []byte(preparePy), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "program.md"), []byte(programMd), 0o644))
	must(t, os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("secret outside"), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
