// Package slacktest is the one fake Slack every test that needs Slack
// shares: an httptest server speaking the Web API the way slack-go calls it
// (form-encoded or JSON requests, {"ok":...} answers, scripted failures
// such as 429 with Retry-After), the response_url, the v2 file upload and a
// Socket Mode websocket. It records every request so tests can wait for
// what the bot did; it knows nothing of the bot.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Patience bounds every wait of a failing test; nothing is timed by it.
// A loaded machine is slow, so it is generous.
const Patience = 3 * time.Minute

// TeamURL is the workspace URL auth.test answers, for permalinks.
const TeamURL = "https://team.slack.com/"

// Call is one request the fake received.
type Call struct {
	Method string // Web API method, or "response_url" and "upload"
	Path   string // the request path (response_url answers end in its ID)
	Status int    // the HTTP status answered
	TS     string // chat.postMessage: the ts answered
	Form   url.Values
	JSON   map[string]any
	Body   []byte
	Auth   string // the Authorization header
}

// Text is the message text of a call, form-encoded or JSON.
func (c Call) Text() string {
	if c.Form != nil {
		return c.Form.Get("text")
	}
	s, _ := c.JSON["text"].(string)
	return s
}

// scripted is one canned answer.
type scripted struct {
	status int
	header map[string]string
	body   string
}

// Server is the fake Slack. Its zero value is not usable; call New.
type Server struct {
	// Check, when set before the first request, lists what real Slack
	// would refuse or show wrongly in a call's payload; each problem fails
	// the test.
	Check func(method string, form url.Values, json map[string]any) []string

	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	script    map[string][]scripted // per method, consumed before defaults
	always    map[string]scripted   // per method, after the script, before defaults
	ts        int
	member    bool // conversations.info: the bot is in the channel
	failPosts bool // chat.postMessage answers 500
	authError string
	changed   chan struct{}
	conns     chan *websocket.Conn
	socket    socket
}

// New starts a fake Slack that lives as long as the test.
func New(t testing.TB) *Server {
	f := &Server{t: t, script: map[string][]scripted{}, always: map[string]scripted{}, member: true,
		changed: make(chan struct{}, 1), conns: make(chan *websocket.Conn, 4)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.closeSocket()
		f.srv.Close()
	})
	return f
}

// URL is the server's base URL (response_url and upload URLs live under it).
func (f *Server) URL() string { return f.srv.URL }

// APIURL is the Web API base URL, with its trailing slash.
func (f *Server) APIURL() string { return f.srv.URL + "/api/" }

// On queues a canned answer for method: status, body and header pairs.
func (f *Server) On(method string, status int, body string, header ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	f.script[method] = append(f.script[method], scripted{status, h, body})
}

// Always makes method answer status and body from now on, where On
// answers once (a workspace whose auth.test or channel differs).
func (f *Server) Always(method string, status int, body string) {
	f.set(func() { f.always[method] = scripted{status: status, body: body} })
}

// SetMember says whether conversations.info finds the bot in the channel.
func (f *Server) SetMember(v bool) { f.set(func() { f.member = v }) }

// SetFailPosts makes chat.postMessage answer 500 (internal_error) or not.
func (f *Server) SetFailPosts(v bool) { f.set(func() { f.failPosts = v }) }

// SetAuthError makes auth.test fail with this Slack error code ("" = not).
func (f *Server) SetAuthError(code string) { f.set(func() { f.authError = code }) }

func (f *Server) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		f.upgrade(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	call := Call{Status: http.StatusOK, Path: r.URL.Path, Body: body, Auth: r.Header.Get("Authorization")}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		call.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/respond/"):
		call.Method = "response_url"
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		call.Method = "upload"
	default:
		http.NotFound(w, r)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		_ = json.Unmarshal(body, &call.JSON)
	case "application/x-www-form-urlencoded":
		call.Form, _ = url.ParseQuery(string(body))
	}
	if f.Check != nil {
		for _, p := range f.Check(call.Method, call.Form, call.JSON) {
			f.t.Errorf("%s payload Slack would refuse or show wrong: %s\n%s", call.Method, p, body)
		}
	}

	f.mu.Lock()
	header, answer := map[string]string{}, ""
	if q := f.script[call.Method]; len(q) > 0 {
		call.Status, header, answer = q[0].status, q[0].header, q[0].body
		f.script[call.Method] = q[1:]
	} else if a, ok := f.always[call.Method]; ok {
		call.Status, answer = a.status, a.body
	} else {
		answer = f.defaultAnswerLocked(&call)
	}
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(call.Status)
	_, _ = io.WriteString(w, answer)
}

// defaultAnswerLocked is what Slack answers a call nothing was scripted for.
func (f *Server) defaultAnswerLocked(c *Call) string {
	switch c.Method {
	case "auth.test":
		if f.authError != "" {
			return fmt.Sprintf(`{"ok":false,"error":%q}`, f.authError)
		}
		return fmt.Sprintf(`{"ok":true,"url":%q,"team":"Team","user":"autoresearch","team_id":"T1","user_id":"UBOT","bot_id":"BBOT"}`, TeamURL)
	case "conversations.info":
		return fmt.Sprintf(`{"ok":true,"channel":{"id":%q,"name":"research","is_member":%t}}`, c.Form.Get("channel"), f.member)
	case "chat.postMessage":
		if f.failPosts {
			c.Status = http.StatusInternalServerError
			return `{"ok":false,"error":"internal_error"}`
		}
		f.ts++
		c.TS = fmt.Sprintf("1700000000.%06d", f.ts)
		return fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q}`, c.Form.Get("channel"), c.TS)
	case "chat.update":
		return fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q,"text":""}`, c.Form.Get("channel"), c.Form.Get("ts"))
	case "chat.postEphemeral":
		return `{"ok":true,"message_ts":"1700000000.999999"}`
	case "views.open", "views.publish":
		return `{"ok":true,"view":{"id":"V1"}}`
	case "files.getUploadURLExternal":
		return fmt.Sprintf(`{"ok":true,"upload_url":%q,"file_id":"F1"}`, f.srv.URL+"/upload/F1")
	case "files.completeUploadExternal":
		return `{"ok":true,"files":[{"id":"F1","title":"f"}]}`
	case "apps.connections.open":
		return fmt.Sprintf(`{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws")
	case "upload", "response_url":
		return `ok`
	}
	return `{"ok":true}`
}

// Calls returns every call so far, in order.
func (f *Server) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// CallsTo returns the calls made to method so far.
func (f *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Methods lists the methods called so far, in order.
func (f *Server) Methods() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Method)
	}
	return out
}

// WaitCalls waits until method was called n times and returns the calls.
func (f *Server) WaitCalls(method string, n int) []Call {
	f.t.Helper()
	var got []Call
	f.waitUntil(fmt.Sprintf("%d calls to %s", n, method), func() bool {
		got = f.CallsTo(method)
		return len(got) >= n
	})
	return got
}

// WaitFor waits until a call to method satisfies match and returns it.
func (f *Server) WaitFor(what, method string, match func(Call) bool) Call {
	f.t.Helper()
	var found Call
	f.waitUntil(what, func() bool {
		for _, c := range f.CallsTo(method) {
			if match(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// WaitPost waits for a delivered channel message whose text contains sub.
func (f *Server) WaitPost(sub string) Call {
	f.t.Helper()
	return f.WaitFor("a post saying "+sub, "chat.postMessage", func(c Call) bool {
		return c.Status == http.StatusOK && strings.Contains(c.Text(), sub)
	})
}

// waitUntil checks cond after every call (and every 20 ms) until it
// holds; after Patience the test fails with the calls seen.
func (f *Server) waitUntil(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.After(Patience)
	for !cond() {
		select {
		case <-f.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			var seen []string
			for _, c := range f.Calls() {
				seen = append(seen, fmt.Sprintf("%s %d %q", c.Method, c.Status, strings.Join(strings.Fields(c.Text()), " ")))
			}
			f.t.Fatalf("gave up waiting for %s; calls:\n%s", what, strings.Join(seen, "\n"))
		}
	}
}
