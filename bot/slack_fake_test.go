package bot

import (
	"context"
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

	"github.com/autoresearch/autoresearch/research"
)

// fakeSlack is an httptest server speaking the Slack Web API as slack-go
// uses it (form-encoded or JSON requests, {"ok":...} answers, 429 with
// Retry-After), plus response_url, the file upload URL and a Socket Mode
// websocket endpoint.
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	calls  []apiCall
	script map[string][]scripted // per method, consumed before defaults
	ts     int
	notify chan struct{}

	// conversations.info
	member bool
	conns  chan *websocket.Conn
}

type apiCall struct {
	Method string
	Form   url.Values
	JSON   map[string]any
	Body   []byte
	Auth   string
}

// scripted is one canned answer.
type scripted struct {
	status int
	header map[string]string
	body   string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t, script: map[string][]scripted{}, member: true,
		notify: make(chan struct{}, 1), conns: make(chan *websocket.Conn, 4)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api" } // no trailing slash: the adapter adds it

// on queues a canned answer for method.
func (f *fakeSlack) on(method string, status int, body string, header ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	f.script[method] = append(f.script[method], scripted{status, h, body})
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			f.t.Errorf("websocket upgrade: %v", err)
			return
		}
		f.conns <- c
		return
	}
	body, _ := io.ReadAll(r.Body)
	call := apiCall{Body: body, Auth: r.Header.Get("Authorization")}
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

	for _, p := range payloadProblems(call.Method, call.Form, call.JSON) {
		f.t.Errorf("%s payload Slack would refuse or show wrong: %s\n%s", call.Method, p, body)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	var sc *scripted
	if q := f.script[call.Method]; len(q) > 0 {
		sc = &q[0]
		f.script[call.Method] = q[1:]
	}
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}

	if sc != nil {
		for k, v := range sc.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(sc.status)
		_, _ = io.WriteString(w, sc.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, f.defaultAnswer(call))
}

func (f *fakeSlack) defaultAnswer(c apiCall) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch c.Method {
	case "auth.test":
		return `{"ok":true,"url":"https://team.slack.com/","team":"Team","user":"autoresearch","team_id":"T1","user_id":"UBOT","bot_id":"BBOT"}`
	case "conversations.info":
		return fmt.Sprintf(`{"ok":true,"channel":{"id":%q,"name":"research","is_member":%t}}`, c.Form.Get("channel"), f.member)
	case "chat.postMessage":
		f.ts++
		return fmt.Sprintf(`{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, c.Form.Get("channel"), f.ts)
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

// callsTo returns the calls made to method so far.
func (f *fakeSlack) callsTo(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSlack) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	return out
}

// waitCalls waits until method was called n times and returns the calls.
// The deadline only bounds a failing test; nothing is timed.
func (f *fakeSlack) waitCalls(method string, n int) []apiCall {
	f.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if c := f.callsTo(method); len(c) >= n {
			return c
		}
		select {
		case <-f.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			f.t.Fatalf("waited for %d calls to %s; calls so far: %v", n, method, f.methods())
		}
	}
}

// slackWaitFor polls cond until true; the deadline only bounds a failing test.
func slackWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slackFakeCtrl records what the front end asks of the research side.
type slackFakeCtrl struct {
	mu        sync.Mutex
	calls     []string
	ideas     []research.Idea
	edits     []research.ProgramEdit
	ideaEdits map[string]string
	program   string
	status    research.Status
	exps      map[int]research.Experiment
	logs      map[int]string
	startErr  error
	reviewing bool
	retried   []int
	// panicOn names controller methods that panic once each (a bug
	// injected behind a handler): "status", "idea", "program".
	panicOn map[string]bool
}

// maybePanic panics once for a method named in panicOn.
func (c *slackFakeCtrl) maybePanic(method string) {
	c.mu.Lock()
	bug := c.panicOn[method]
	delete(c.panicOn, method)
	c.mu.Unlock()
	if bug {
		panic("injected bug in " + method)
	}
}

func newSlackFakeCtrl() *slackFakeCtrl {
	return &slackFakeCtrl{ideaEdits: map[string]string{}, exps: map[int]research.Experiment{}, logs: map[int]string{},
		program: "# program\n\nbe good\n"}
}

func (c *slackFakeCtrl) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *slackFakeCtrl) called() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *slackFakeCtrl) has(call string) bool {
	for _, s := range c.called() {
		if s == call {
			return true
		}
	}
	return false
}

func (c *slackFakeCtrl) Start(_ context.Context, req research.StartRequest) (research.Run, error) {
	c.record("start " + req.Tag + " by " + req.By)
	if c.startErr != nil {
		return research.Run{}, c.startErr
	}
	return research.Run{ID: 1, Tag: req.Tag, Branch: "autoresearch/" + req.Tag, StartedBy: req.By}, nil
}
func (c *slackFakeCtrl) Stop(_ context.Context, by string, now bool) error {
	c.record(fmt.Sprintf("stop by %s now=%t", by, now))
	return nil
}
func (c *slackFakeCtrl) Retry(_ context.Context, n int, by string) error {
	c.record(fmt.Sprintf("retry %d by %s", n, by))
	c.mu.Lock()
	c.retried = append(c.retried, n)
	c.mu.Unlock()
	return nil
}

// retries is what was retried so far.
func (c *slackFakeCtrl) retries() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.retried...)
}
func (c *slackFakeCtrl) SetReview(_ context.Context, on bool, by string) error {
	c.record(fmt.Sprintf("review %v by %s", on, by))
	c.mu.Lock()
	c.reviewing = on
	c.mu.Unlock()
	return nil
}
func (c *slackFakeCtrl) Reviewing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reviewing
}
func (c *slackFakeCtrl) Pause(_ context.Context, by string) error {
	c.record("pause by " + by)
	return nil
}
func (c *slackFakeCtrl) Resume(_ context.Context, by string) error {
	c.record("resume by " + by)
	return nil
}
func (c *slackFakeCtrl) Status(context.Context) (research.Status, error) {
	c.maybePanic("status")
	c.record("status")
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, nil
}
func (c *slackFakeCtrl) AddIdea(_ context.Context, i research.Idea) (research.Idea, error) {
	c.maybePanic("idea")
	c.mu.Lock()
	i.ID = int64(len(c.ideas) + 1)
	c.ideas = append(c.ideas, i)
	c.mu.Unlock()
	c.record("idea " + i.Text)
	return i, nil
}
func (c *slackFakeCtrl) Ideas(context.Context) ([]research.Idea, error) {
	c.record("ideas")
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]research.Idea(nil), c.ideas...), nil
}
func (c *slackFakeCtrl) Unpin(_ context.Context, id int64, by string) error {
	c.record(fmt.Sprintf("unpin %d by %s", id, by))
	return nil
}
func (c *slackFakeCtrl) EditIdea(_ context.Context, ts, before, text string) error {
	c.mu.Lock()
	current, ok := c.ideaEdits[ts]
	for _, i := range c.ideas {
		if !ok && i.MessageTS == ts {
			current, ok = i.Text, true
		}
	}
	if ok && current != before {
		c.mu.Unlock() // as the Manager: an edit of a text changed since is refused
		return &research.InputError{Msg: fmt.Sprintf("idea was changed by someone else since (it now reads %q)", current), Err: research.ErrIdeaChanged}
	}
	c.ideaEdits[ts] = text
	c.mu.Unlock()
	c.record("edit idea " + ts)
	return nil
}
func (c *slackFakeCtrl) Program(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.program, nil
}
func (c *slackFakeCtrl) EditProgram(_ context.Context, e research.ProgramEdit) (research.ProgramEdit, error) {
	c.maybePanic("program")
	c.mu.Lock()
	if now := research.ProgramVersion(c.program); e.Kind == "replace" && e.BaseVersion != now {
		c.mu.Unlock() // as the Manager: a replace made on an older text is refused
		return research.ProgramEdit{}, &research.ProgramConflictError{BaseVersion: e.BaseVersion, CurrentVersion: now, CurrentText: c.program}
	}
	e.ID = int64(len(c.edits) + 1)
	c.edits = append(c.edits, e)
	c.mu.Unlock()
	c.record("program " + e.Kind + " by " + e.Author)
	return e, nil
}
func (c *slackFakeCtrl) Results(_ context.Context, n int) ([]research.Experiment, error) {
	c.record(fmt.Sprintf("results %d", n))
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []research.Experiment
	for i := 1; i <= len(c.exps); i++ {
		out = append(out, c.exps[i])
	}
	return out, nil
}
func (c *slackFakeCtrl) Experiment(_ context.Context, n int) (research.Experiment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.exps[n]
	if !ok {
		return e, fmt.Errorf("no experiment #%d", n)
	}
	return e, nil
}
func (c *slackFakeCtrl) Log(_ context.Context, n int) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs[n], nil
}

const slackTestChannel = "CRESEARCH"

// newTestSlack builds a Slack against the fake server.
func newTestSlack(t *testing.T, f *fakeSlack, ctrl Controller, out Outbox, mod func(*SlackConfig)) *Slack {
	t.Helper()
	cfg := SlackConfig{
		BotToken: "xoxb-test", SigningSecret: "secret", Channel: slackTestChannel,
		APIURL: f.apiURL(), HTTPAddr: "127.0.0.1:0",
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSlack(cfg, ctrl, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSlack runs s until the test ends and checks Run's result.
func runSlack(t *testing.T, s *Slack) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
