package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// scriptedOpenAI is an OpenAI chat-completions endpoint answering from a
// script of tool calls; it keeps every request body.
type scriptedOpenAI struct {
	mu      sync.Mutex
	replies [][][2]string // per request: tool calls (name, JSON arguments)
	bodies  []string
	seen    chan struct{}
}

func (f *scriptedOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model string `json:"model"`
	}
	if r.URL.Path != "/v1/chat/completions" || json.Unmarshal(body, &req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	var calls [][2]string
	if len(f.replies) > 0 {
		calls, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	select {
	case f.seen <- struct{}{}:
	default:
	}
	if calls == nil {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"script exhausted","type":"server_error"}}`)
		return
	}
	var tc []map[string]any
	for i, c := range calls {
		tc = append(tc, map[string]any{"id": fmt.Sprintf("call_%d", i), "type": "function",
			"function": map[string]any{"name": c[0], "arguments": c[1]}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls",
			"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": tc}}},
		"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
	})
}

func (f *scriptedOpenAI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func toolArgs(v map[string]string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A train.py that got hold of a secret (here from a file; in the wild from
// /proc) prints it and crashes. The secret is a value of the parent's
// environment that the trainer's scrub removes (HF_TOKEN), and of the
// Slack settings: none of them is in the store's log tail or crash reason,
// the log on disk, any Slack request, or the crash-fix prompt sent to the
// model; the redaction marker is. The proposal's description holds
// <!channel>, <!here> and a user mention: no Slack request notifies anyone.
func TestSecretsPrintedByTrainPyAreRedactedEverywhere(t *testing.T) {
	const hfSecret = "hf_TopSecretValue0123456789"
	const signing = "signing-secret-abcdef0123"
	secretFile := filepath.Join(t.TempDir(), "stolen")
	if err := os.WriteFile(secretFile, []byte(hfSecret+" "+signing+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ai := &scriptedOpenAI{seen: make(chan struct{}, 1), replies: [][][2]string{
		{{"edit_file", toolArgs(map[string]string{"path": "train.py", "old_string": "CRASH = 0",
			"new_string": fmt.Sprintf("CRASH = 1\nprint('stolen:', open(%q).read().strip(), flush=True)", secretFile)})}},
		// A hostile description: broadcast mentions and a user mention.
		{{"finish", `{"description":"<!channel> <!here|here> <@U0BOSS> look around @everyone"}`}},
		// The crash-fix proposal: its prompt carries the log tail.
		{{"finish", `{"description":"give up"}`}},
	}}
	aiSrv := httptest.NewServer(ai)
	defer aiSrv.Close()
	t.Setenv("HF_TOKEN", hfSecret)
	t.Setenv("OPENAI_API_KEY", "sk-test-key-0123456789")
	t.Setenv("OPENAI_BASE_URL", aiSrv.URL+"/v1")

	dir := researchtest.New(t)
	f := newSlackServer(t)
	env := f.env("UALICE")
	env["SLACK_SIGNING_SECRET"] = signing
	p := startBotInProcess(t, f, env, "--repo", dir, "--proposer", "llm", "--train-cmd", "python3 train.py",
		"--pipeline=false", "--baseline-repeats", "0", "--fix-attempts", "1", "--digest-at", "08:00", "--tz", "UTC")
	f.WaitFor("the channel check", "conversations.info", func(c slackCall) bool { return true })

	f.slash("s1", "UALICE", "start leak")
	if p2 := f.WaitPost("#2 running"); !strings.Contains(p2.Text(), "&lt;!channel&gt;") {
		t.Errorf("the description is not shown escaped: %q", p2.Text())
	}
	tail := f.WaitPost("Log tail of #2")
	if !strings.Contains(tail.Text(), "[redacted HF_TOKEN]") || !strings.Contains(tail.Text(), "[redacted SLACK_SIGNING_SECRET]") {
		t.Errorf("the log tail post does not show the redaction: %q", tail.Text())
	}
	deadline := time.After(60 * time.Second)
	for len(ai.requests()) < 3 {
		select {
		case <-ai.seen:
		case <-deadline:
			t.Fatalf("the crash-fix request never came; %d requests\n%s", len(ai.requests()), p.stderr)
		}
	}
	if err := p.stop(); err != nil {
		t.Fatalf("bot: %v\n%s", err, p.stderr)
	}

	leaks := func(where, s string) {
		t.Helper()
		for _, secret := range []string{hfSecret, signing} {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds the secret %q", where, secret)
			}
		}
	}
	fix := ai.requests()[2]
	if !strings.Contains(fix, "[redacted HF_TOKEN]") {
		t.Errorf("the crash-fix prompt lacks the log tail with the redaction:\n%.2000s", fix)
	}
	for i, body := range ai.requests() {
		leaks(fmt.Sprintf("LLM request %d", i), body)
	}
	for _, c := range f.Calls() {
		dec, _ := url.QueryUnescape(string(c.Body))
		leaks("Slack "+c.Method, string(c.Body)+dec)
		// The model's description never notifies anyone (the only mention
		// the bot makes here is of the person who started the run).
		for _, v := range []string{c.Text(), c.Form.Get("blocks"), c.Form.Get("initial_comment")} {
			v = strings.ReplaceAll(v, "<@UALICE>", "")
			for _, ping := range []string{"<!channel", "<!here", "<!everyone", "<@", "@everyone", "@channel", "@here"} {
				if strings.Contains(v, ping) {
					t.Errorf("Slack %s would notify (%s): %q", c.Method, ping, v)
				}
			}
		}
	}
	db := openTestStore(t, dir)
	run, err := db.RunByTag(context.Background(), "leak")
	if err != nil {
		t.Fatal(err)
	}
	exps, _ := db.Experiments(context.Background(), run.ID)
	if len(exps) < 2 || exps[1].Status != "crash" {
		t.Fatalf("experiments = %+v", exps)
	}
	for _, e := range exps {
		leaks(fmt.Sprintf("#%d log tail", e.Number), e.LogTail)
		leaks(fmt.Sprintf("#%d reason", e.Number), e.Reason)
		if e.LogPath != "" {
			data, err := os.ReadFile(e.LogPath)
			if err != nil {
				t.Fatal(err)
			}
			leaks(e.LogPath, string(data))
		}
	}
	if !strings.Contains(exps[1].LogTail, "[redacted HF_TOKEN]") {
		t.Errorf("#2 log tail = %q", exps[1].LogTail)
	}
	for _, p := range []string{filepath.Join(dir, "run.log"), filepath.Join(dir, ".autoresearch", "autoresearch.log")} {
		if data, err := os.ReadFile(p); err == nil {
			leaks(p, string(data))
		}
	}
}
