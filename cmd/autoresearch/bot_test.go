package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// The store is the bot's outbox and digest records, the manager its
// controller: checked at compile time.
var (
	_ bot.Outbox        = (*store.DB)(nil)
	_ bot.DigestRecords = (*store.DB)(nil)
	_ bot.Controller    = (*research.Manager)(nil)
)

const botTestChannel = "CRESEARCH"

// slackCall is one request the fake Slack received.
type slackCall struct {
	Method string
	Form   url.Values
	JSON   map[string]any
	Status int    // the HTTP status answered
	Path   string // the request path (response_url answers end in the envelope ID)
	Body   []byte
}

func (c slackCall) text() string {
	if c.Form != nil {
		return c.Form.Get("text")
	}
	if s, ok := c.JSON["text"].(string); ok {
		return s
	}
	return ""
}

// slackServer is an httptest server that speaks the Slack Web API the way
// slack-go calls it (form posts, {"ok":...} answers), the response_url, the
// v2 file upload and a Socket Mode websocket. One server outlives several
// bot processes, like Slack does.
type slackServer struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	calls     []slackCall
	ts        int
	failPosts bool // chat.postMessage answers 500
	authError string
	member    bool
	changed   chan struct{}
	conns     chan *websocket.Conn

	conn *websocket.Conn // the current Socket Mode connection
	wmu  *sync.Mutex     // serializes writes to conn
	acks chan string     // envelope IDs the bot acknowledged
	gen  int
}

func newSlackServer(t *testing.T) *slackServer {
	f := &slackServer{t: t, member: true, changed: make(chan struct{}, 1), conns: make(chan *websocket.Conn, 4)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	go func() {
		for c := range f.conns {
			f.takeOver(c)
		}
	}()
	t.Cleanup(func() {
		f.mu.Lock()
		if f.conn != nil {
			f.conn.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

func (f *slackServer) env(admins string) map[string]string {
	return map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test", "SLACK_CHANNEL": botTestChannel,
		"SLACK_API_URL": f.srv.URL + "/api/", "AUTORESEARCH_ADMINS": admins,
	}
}

func (f *slackServer) serve(w http.ResponseWriter, r *http.Request) {
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
	call := slackCall{Status: 200, Path: r.URL.Path, Body: body}
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
	f.mu.Lock()
	answer := ""
	switch call.Method {
	case "auth.test":
		answer = `{"ok":true,"url":"https://lab.slack.com/","team":"Lab","user":"autoresearch","team_id":"T1","user_id":"UBOT","bot_id":"BBOT"}`
		if f.authError != "" {
			answer = fmt.Sprintf(`{"ok":false,"error":%q}`, f.authError)
		}
	case "conversations.info":
		answer = fmt.Sprintf(`{"ok":true,"channel":{"id":%q,"name":"research","is_member":%t}}`, call.Form.Get("channel"), f.member)
	case "chat.postMessage":
		if f.failPosts {
			call.Status = http.StatusInternalServerError
			answer = `{"ok":false,"error":"internal_error"}`
			break
		}
		f.ts++
		answer = fmt.Sprintf(`{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, call.Form.Get("channel"), f.ts)
		call.Form.Set("_ts", fmt.Sprintf("1700000000.%06d", f.ts))
	case "chat.update":
		answer = fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q,"text":""}`, call.Form.Get("channel"), call.Form.Get("ts"))
	case "chat.postEphemeral":
		answer = `{"ok":true,"message_ts":"1700000000.999999"}`
	case "files.getUploadURLExternal":
		answer = fmt.Sprintf(`{"ok":true,"upload_url":%q,"file_id":"F1"}`, f.srv.URL+"/upload/F1")
	case "files.completeUploadExternal":
		answer = `{"ok":true,"files":[{"id":"F1","title":"f"}]}`
	case "apps.connections.open":
		answer = fmt.Sprintf(`{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws")
	case "upload", "response_url":
		answer = "ok"
	default:
		answer = `{"ok":true}`
	}
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(call.Status)
	_, _ = io.WriteString(w, answer)
}

func (f *slackServer) setFailPosts(v bool) {
	f.mu.Lock()
	f.failPosts = v
	f.mu.Unlock()
}

func (f *slackServer) snapshot() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackCall(nil), f.calls...)
}

// waitFor waits until a call to method satisfies match and returns it. The
// deadline only bounds a failing test; nothing is timed.
func (f *slackServer) waitFor(what, method string, match func(slackCall) bool) slackCall {
	f.t.Helper()
	deadline := time.After(3 * time.Minute) // a last guard: a loaded machine is slow
	for {
		for _, c := range f.snapshot() {
			if c.Method == method && match(c) {
				return c
			}
		}
		select {
		case <-f.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			var seen []string
			for _, c := range f.snapshot() {
				seen = append(seen, fmt.Sprintf("%s %d %q", c.Method, c.Status, oneLineOf(c.text())))
			}
			f.t.Fatalf("gave up waiting for %s; calls:\n%s", what, strings.Join(seen, "\n"))
		}
	}
}

func oneLineOf(s string) string { return strings.Join(strings.Fields(s), " ") }

// blocks decodes the Block Kit JSON of a message and joins its texts.
func (c slackCall) blocks() string {
	var v any
	if c.Form == nil || json.Unmarshal([]byte(c.Form.Get("blocks")), &v) != nil {
		return ""
	}
	var texts []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "text" {
					texts = append(texts, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(texts, "\n")
}

// waitPost waits for a delivered channel message whose text contains sub.
func (f *slackServer) waitPost(sub string) slackCall {
	f.t.Helper()
	return f.waitFor("a post saying "+sub, "chat.postMessage", func(c slackCall) bool {
		return c.Status == http.StatusOK && strings.Contains(c.text(), sub)
	})
}

// generation counts the Socket Mode connections taken over so far.
func (f *slackServer) generation() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen
}

// acceptAfter waits until a connection newer than generation gen is live
// (every connection, reconnects included, is taken over in the background
// and greeted, so envelopes always go to the live one).
func (f *slackServer) acceptAfter(gen int) {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for f.generation() <= gen {
		if time.Now().After(deadline) {
			f.t.Fatal("the bot never opened a Socket Mode connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *slackServer) takeOver(c *websocket.Conn) {
	f.mu.Lock()
	if f.acks == nil {
		f.acks = make(chan string, 256)
	}
	acks := f.acks
	f.conn = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.gen++
		f.mu.Unlock()
	}()
	var wmu sync.Mutex
	f.mu.Lock()
	f.wmu = &wmu
	f.mu.Unlock()
	go func() {
		for {
			var a struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := c.ReadJSON(&a); err != nil {
				return
			}
			if a.EnvelopeID != "" {
				acks <- a.EnvelopeID
			}
		}
	}()
	// Slack pings; slack-go reconnects when it hears nothing for a while.
	go func() {
		for {
			time.Sleep(2 * time.Second)
			wmu.Lock()
			err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			wmu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	wmu.Lock()
	_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
	wmu.Unlock()
}

func (f *slackServer) send(v any) {
	f.t.Helper()
	f.mu.Lock()
	c, wmu := f.conn, f.wmu
	f.mu.Unlock()
	wmu.Lock()
	err := c.WriteJSON(v)
	wmu.Unlock()
	if err != nil {
		f.t.Fatalf("websocket write: %v", err)
	}
}

// envelope sends a Socket Mode envelope and waits for its ack.
func (f *slackServer) envelope(typ, id string, payload any) {
	f.t.Helper()
	f.send(map[string]any{"type": typ, "envelope_id": id, "payload": payload, "accepts_response_payload": typ != "events_api"})
	f.mu.Lock()
	acks := f.acks
	f.mu.Unlock()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case got := <-acks:
			if got == id {
				return
			}
		case <-deadline:
			f.t.Fatalf("envelope %s was never acknowledged", id)
		}
	}
}

// slash sends `/autoresearch TEXT` as user in the channel; it returns the
// response_url path its answer goes to.
func (f *slackServer) slash(id, user, text string) string {
	f.t.Helper()
	f.envelope("slash_commands", id, map[string]any{
		"command": "/autoresearch", "text": text, "user_id": user, "channel_id": botTestChannel,
		"response_url": f.srv.URL + "/respond/" + id, "trigger_id": "trig-" + id,
	})
	return id
}

// answer waits for the ephemeral answer to slash command id.
func (f *slackServer) answer(id string) string {
	f.t.Helper()
	c := f.waitFor("the answer to "+id, "response_url", func(c slackCall) bool { return c.Path == "/respond/"+id })
	text, _ := c.JSON["text"].(string)
	return text
}

// reply sends a person's thread reply as an Events API message event.
func (f *slackServer) reply(eventID, user, text, ts, threadTS string) {
	f.t.Helper()
	f.envelope("events_api", "env-"+eventID, map[string]any{
		"type": "event_callback", "event_id": eventID,
		"event": map[string]any{"type": "message", "channel": botTestChannel, "user": user,
			"text": text, "ts": ts, "thread_ts": threadTS},
	})
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// botProcess is an in-process `autoresearch bot`; stop plays SIGTERM.
type botProcess struct {
	t      *testing.T
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startBotInProcess(t *testing.T, f *slackServer, env map[string]string, args ...string) *botProcess {
	t.Helper()
	stderr := &syncBuffer{}
	streams := IO{In: strings.NewReader(""), Out: io.Discard, Err: stderr}
	opts, err := parseBotArgs(args, streams, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("bot flags: %v", err)
	}
	gen := f.generation()
	ctx, cancel := context.WithCancel(context.Background())
	p := &botProcess{t: t, stderr: stderr, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- serveBot(ctx, opts, streams) }()
	t.Cleanup(func() { p.stop() })
	f.acceptAfter(gen)
	return p
}

// stop ends the bot as SIGTERM does and returns serveBot's result.
func (p *botProcess) stop() error {
	p.cancel()
	select {
	case err, ok := <-p.done:
		if ok {
			close(p.done)
		}
		return err
	case <-time.After(60 * time.Second):
		p.t.Fatalf("the bot did not stop; stderr:\n%s", p.stderr)
		return nil
	}
}

// gatedTrainCmd trains only while the file hold does not exist, so a test
// decides when an experiment ends.
func gatedTrainCmd(hold string) string {
	return fmt.Sprintf("while [ -e '%s' ]; do sleep 0.02; done; python3 train.py", hold)
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func botArgs(dir, hold string, extra ...string) []string {
	return append([]string{"--repo", dir, "--proposer", "sweep", "--train-cmd", gatedTrainCmd(hold),
		"--pipeline=false", "--baseline-repeats", "0", "--digest-at", "08:00", "--tz", "UTC",
		// The sweep's fake gains are large on purpose (it halves VAL, down
		// past 0.1): not implausible here.
		"--implausible-gain", "0", "--implausible-sigma", "0", "--plausible-bpb", "1e-9..1e9"}, extra...)
}

func openTestStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, ".autoresearch", "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The whole bot against fake Slack: a slash command starts a run, the
// experiments are posted and updated in place, a thread reply becomes an
// idea that the next experiment uses (and says so in that thread), and
// `stop` ends the run.
func TestBotEndToEnd(t *testing.T) {
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	touch(t, hold)
	f := newSlackServer(t)
	p := startBotInProcess(t, f, f.env("UALICE"), botArgs(dir, hold)...)

	if len(f.snapshot()) == 0 || f.snapshot()[0].Method != "auth.test" {
		t.Fatalf("the bot did not check its token first: %+v", f.snapshot())
	}
	f.waitFor("the channel check", "conversations.info", func(c slackCall) bool { return c.Form.Get("channel") == botTestChannel })
	if strings.Contains(p.stderr.String(), "WARNING") {
		t.Errorf("warned although admins are set:\n%s", p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.tsv")); err == nil {
		t.Fatal("the bot started a run on its own")
	}

	// Someone who is not an admin cannot start a run.
	f.slash("s0", "UBOB", "start t1")
	if a := f.answer("s0"); !strings.Contains(a, "only the run's admins") {
		t.Fatalf("non-admin start answered %q", a)
	}

	// A quiet channel: the command is answered privately, and the run's
	// header (naming who started it) is the one announcement.
	f.slash("s1", "UALICE", "start t1")
	if a := f.answer("s1"); !strings.Contains(a, "Run *t1* is starting") {
		t.Errorf("start answered %q", a)
	}
	header := f.waitPost("Run t1 started")
	if !strings.Contains(header.blocks(), "<@UALICE>") {
		t.Errorf("the run header does not name who started it: %s", header.blocks())
	}
	exp1 := f.waitPost("#1 running: baseline")
	exp1TS := exp1.Form.Get("_ts")

	// Pause while the baseline trains: the loop holds after it.
	f.slash("s2", "UALICE", "pause")
	f.waitPost("⏸️ Paused by <@UALICE>")
	os.Remove(hold)
	upd := f.waitFor("the baseline's result", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp1TS && strings.Contains(c.text(), "keep")
	})
	if !strings.Contains(upd.text(), "val_bpb 1.500000") {
		t.Errorf("baseline update = %q", upd.text())
	}
	touch(t, hold)

	// A reply in the baseline's thread: an admin's becomes an idea (bulb),
	// a non-admin's is refused privately.
	f.reply("Ev1", "UALICE", "BONUS=0.25 might help", "1700000100.000001", exp1TS)
	f.waitFor("the idea's reaction", "reactions.add", func(c slackCall) bool {
		return c.Form.Get("timestamp") == "1700000100.000001" && c.Form.Get("name") == "bulb"
	})
	f.reply("Ev2", "UBOB", "SEED=3", "1700000101.000001", exp1TS)
	f.waitFor("the refusal of a non-admin's idea", "chat.postEphemeral", func(c slackCall) bool {
		return c.Form.Get("user") == "UBOB" && strings.Contains(c.text(), "not taken as an idea")
	})

	f.slash("s3", "UALICE", "resume")
	f.waitPost("▶️ Resumed by <@UALICE>")
	exp2 := f.waitFor("experiment 2 with the idea", "chat.postMessage", func(c slackCall) bool {
		return strings.HasPrefix(c.text(), "#2 running") && strings.Contains(c.blocks(), "idea from <@UALICE>")
	})
	if !strings.Contains(exp2.text(), "BONUS") {
		t.Errorf("experiment 2 does not apply the idea: %q", exp2.text())
	}
	f.waitFor("the reply in the idea's thread", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == exp1TS && strings.Contains(c.text(), "your idea is being tried in experiment #2")
	})
	os.Remove(hold)
	upd = f.waitFor("experiment 2's result", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp2.Form.Get("_ts") && !strings.Contains(c.text(), "running")
	})
	if !strings.Contains(upd.text(), "val_bpb 1.250000") || !strings.Contains(upd.text(), "new best") {
		t.Errorf("experiment 2 update = %q", upd.text())
	}
	// An update notifies nobody: the new best is broadcast from its thread.
	f.waitFor("the new best's broadcast", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == exp2.Form.Get("_ts") && c.Form.Get("reply_broadcast") == "true" &&
			strings.Contains(c.text(), "New best: #2") && strings.Contains(c.text(), "idea from <@UALICE>")
	})

	f.slash("s4", "UBOB", "status")
	if a := f.answer("s4"); !strings.Contains(a, "run t1 on autoresearch/t1") || !strings.Contains(a, "1.250000") {
		t.Errorf("status = %q", a)
	}
	f.slash("s5", "UALICE", "stop")
	stopping := f.waitPost("<@UALICE> is stopping the run")
	f.waitFor("the stop notice turned into the run's end", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == stopping.Form.Get("_ts") && strings.Contains(c.text(), "Run t1 stopped by <@UALICE>")
	})

	// `digest` posts the numbers now, with the kept improvement and the
	// progress chart (a PNG uploaded into the digest's thread).
	f.slash("s6", "UBOB", "digest")
	if a := f.answer("s6"); !strings.Contains(a, "being posted") {
		t.Errorf("digest answer = %q", a)
	}
	digest := f.waitPost("Morning digest")
	if !strings.Contains(digest.text(), "run `t1`") || !strings.Contains(digest.text(), "since the baseline (1.500000)") {
		t.Errorf("digest = %q", digest.text())
	}
	// The kept improvement links to experiment 2's message.
	exp2Link := "<https://lab.slack.com/archives/" + botTestChannel + "/p" + strings.Replace(exp2.Form.Get("_ts"), ".", "", 1) + "|#2>  1.250000"
	f.waitFor("the kept improvements in the digest's thread, linked", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == digest.Form.Get("_ts") && strings.Contains(c.text(), exp2Link)
	})
	f.waitFor("the chart in the digest's thread", "files.completeUploadExternal", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == digest.Form.Get("_ts") && c.Form.Get("channel_id") == botTestChannel
	})
	up := f.waitFor("the chart upload", "upload", func(c slackCall) bool { return len(c.Body) > 0 })
	if !bytes.Contains(up.Body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the uploaded chart is not a PNG (%d bytes)", len(up.Body))
	}
	if err := p.stop(); err != nil {
		t.Fatalf("bot: %v\n%s", err, p.stderr)
	}

	db := openTestStore(t, dir)
	ctx := context.Background()
	run, err := db.RunByTag(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != research.RunStopped || run.StartedBy != "UALICE" {
		t.Errorf("run = %+v", run)
	}
	exps, _ := db.Experiments(ctx, run.ID)
	if len(exps) < 2 || exps[1].Summary.ValBPB != 1.25 {
		t.Fatalf("experiments = %+v", exps)
	}
	idea, err := db.IdeaByMessageTS(ctx, "1700000100.000001")
	if err != nil || idea.ConsumedBy != exps[1].ID || idea.ThreadTS != exp1TS || idea.FromExp != exps[0].ID {
		t.Errorf("idea = %+v, %v; want consumed by #2 (%d), from #1", idea, err, exps[1].ID)
	}
	if _, err := db.IdeaByMessageTS(ctx, "1700000101.000001"); err == nil {
		t.Error("a non-admin's reply became an idea")
	}
	if n, _ := db.OutboxBacklog(ctx); n != 0 {
		t.Errorf("%d messages were left undelivered", n)
	}
}

// startBotCLI runs `autoresearch bot` as a real process (this test binary,
// see TestMain), so it can be killed with signals.
func startBotCLI(t *testing.T, f *slackServer, env map[string]string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"bot"}, args...)...)
	cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	gen := f.generation()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	f.acceptAfter(gen)
	return cmd, out
}

// waitTrainerPGID waits for the trainer's process group file and returns the group.
func waitTrainerPGID(t *testing.T, dir string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, ".autoresearch", "trainer-*.pgid"))
		if len(files) == 1 {
			data, err := os.ReadFile(files[0])
			var pgid int
			if err == nil {
				if _, err := fmt.Sscan(string(data), &pgid); err == nil && pgid > 1 {
					return pgid
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the trainer never started")
	return 0
}

// kill -9 in the middle of an experiment, restart: the bot resumes the run
// and says so; SIGTERM then kills the experiment, records it as stopped,
// delivers that and exits, leaving the run resumable.
func TestBotKill9ResumesAndSIGTERMStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bot as processes")
	}
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	touch(t, hold) // no experiment ever finishes training
	f := newSlackServer(t)
	env := f.env("UALICE")
	args := botArgs(dir, hold)

	first, out := startBotCLI(t, f, env, args...)
	f.slash("k1", "UALICE", "start k9")
	f.waitPost("#1 running: baseline")
	pgid := waitTrainerPGID(t, dir)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	t.Logf("first bot:\n%s", out)

	second, out := startBotCLI(t, f, env, args...)
	f.waitPost("Run k9 resumed")
	if alive(pgid) {
		t.Errorf("the trainer orphaned by kill -9 (group %d) survived the restart", pgid)
	}
	exp2 := f.waitPost("#2 running")
	waitTrainerPGID(t, dir)
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	began := time.Now()
	go func() { exited <- second.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the bot failed on SIGTERM: %v\n%s", err, out)
		}
		t.Logf("exited %v after SIGTERM", time.Since(began).Round(time.Millisecond))
	case <-time.After(60 * time.Second):
		t.Fatalf("the bot did not exit after SIGTERM:\n%s", out)
	}
	if !strings.Contains(out.String(), "the run resumes at the next start") {
		t.Errorf("SIGTERM was not explained:\n%s", out)
	}
	// The stop was delivered before the exit, in place of the start post.
	f.waitFor("experiment 2's stop", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp2.Form.Get("_ts") && strings.Contains(c.text(), "stopped")
	})

	db := openTestStore(t, dir)
	ctx := context.Background()
	run, err := db.RunByTag(ctx, "k9")
	if err != nil {
		t.Fatal(err)
	}
	if run.State == research.RunStopped {
		t.Error("SIGTERM marked the run stopped: it would not resume")
	}
	exps, _ := db.Experiments(ctx, run.ID)
	var reasons []string
	for _, e := range exps {
		reasons = append(reasons, fmt.Sprintf("#%d %s %s", e.Number, e.Status, e.Reason))
	}
	if len(exps) != 2 || exps[0].Reason != "interrupted" || exps[1].Status != research.StatusCrash || exps[1].Reason != "stopped" {
		t.Errorf("experiments: %v; want #1 interrupted, #2 crash stopped", reasons)
	}
	if head := researchtest.Git(t, dir, "rev-parse", "HEAD"); head != run.BestCommit {
		t.Errorf("HEAD %s is not the best commit %s", head, run.BestCommit)
	}
	if n, _ := db.OutboxBacklog(ctx); n != 0 {
		t.Errorf("%d messages were not delivered before the exit", n)
	}
}

// A message Slack answered with 500 stays in the store's outbox and is
// delivered, with its thread in order, by the next bot process.
func TestBotResendsFailedMessagesAfterRestart(t *testing.T) {
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	f := newSlackServer(t)
	f.setFailPosts(true)
	p := startBotInProcess(t, f, f.env(""), botArgs(dir, hold)...)
	if !strings.Contains(p.stderr.String(), "WARNING: AUTORESEARCH_ADMINS is not set") {
		t.Errorf("no loud warning about missing admins:\n%s", p.stderr)
	}
	f.slash("i1", "UBOB", "idea try a wider MLP")
	if a := f.answer("i1"); !strings.Contains(a, "Pinned idea [1]") {
		t.Fatalf("idea answer = %q", a)
	}
	f.slash("d1", "UBOB", "digest")
	if a := f.answer("d1"); !strings.Contains(a, "being posted") {
		t.Fatalf("digest answer = %q", a)
	}
	f.waitFor("a refused digest post", "chat.postMessage", func(c slackCall) bool {
		return c.Status == http.StatusInternalServerError && strings.Contains(c.text(), "digest")
	})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	db := openTestStore(t, dir)
	if n, err := db.OutboxBacklog(context.Background()); err != nil || n < 2 {
		t.Fatalf("backlog after the failed delivery = %d, %v; want the digest and its thread", n, err)
	}

	f.setFailPosts(false)
	p = startBotInProcess(t, f, f.env(""), botArgs(dir, hold)...)
	digest := f.waitPost("No experiments finished since the last digest")
	f.waitFor("the digest's thread", "chat.postMessage", func(c slackCall) bool {
		return c.Status == http.StatusOK && c.Form.Get("thread_ts") == digest.Form.Get("_ts") &&
			strings.Contains(c.text(), "Open ideas") && strings.Contains(c.text(), "try a wider MLP")
	})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.OutboxBacklog(context.Background()); n != 0 {
		t.Errorf("backlog after the restart = %d", n)
	}
}

// Bad flags and Slack settings are refused with exit status 2, a specific
// message, and nothing created in the repository.
func TestBotRefusesBadInput(t *testing.T) {
	good := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_CHANNEL": "C123",
		"SLACK_SIGNING_SECRET": "", "SLACK_API_URL": "http://127.0.0.1:1/api/", "AUTORESEARCH_ADMINS": "UALICE"}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"digest time", nil, []string{"--digest-at", "25:00"}, `--digest-at "25:00"`},
		{"time zone", nil, []string{"--tz", "Mars/Olympus"}, `--tz "Mars/Olympus" is not a known time zone`},
		{"verbosity", nil, []string{"--channel-verbosity", "loud"}, `--channel-verbosity "loud": want quiet (the default), normal or all`},
		{"command name", nil, []string{"--command-name", "/Auto Research"}, "--command-name"},
		{"no bot token", map[string]string{"SLACK_BOT_TOKEN": ""}, nil, "SLACK_BOT_TOKEN: not set"},
		{"user token", map[string]string{"SLACK_BOT_TOKEN": "xoxp-1"}, nil, "is a user token (xoxp-), not a bot token"},
		{"channel name", map[string]string{"SLACK_CHANNEL": "#research"}, nil, `"#research" is not a channel ID`},
		{"admin name", map[string]string{"AUTORESEARCH_ADMINS": "UALICE, alice"}, nil, `AUTORESEARCH_ADMINS: "alice" is not a Slack user ID`},
		{"http without secret", nil, []string{"--http", "127.0.0.1:0"}, "SLACK_SIGNING_SECRET: not set"},
		{"bad loop flag", nil, []string{"--timeout", "0s"}, "--timeout must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := researchtest.New(t)
			for k, v := range good {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			before := snapshot(t, dir)
			code, _, stderr := runMain(t, append([]string{"bot", "--repo", dir, "--proposer", "sweep"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the refusal changed the repo:\n%s\nvs\n%s", before, after)
			}
		})
	}
}

// The start-up check says exactly what is wrong with the token or channel.
func TestBotStartupCheckFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*slackServer)
		want   string
	}{
		{"revoked token", func(f *slackServer) { f.authError = "token_revoked" }, "SLACK_BOT_TOKEN: Slack refused the token (token_revoked)"},
		{"not in channel", func(f *slackServer) { f.member = false }, "the bot is not a member of #research (CRESEARCH)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := researchtest.New(t)
			f := newSlackServer(t)
			tc.modify(f)
			for k, v := range f.env("UALICE") {
				t.Setenv(k, v)
			}
			code, _, stderr := runMain(t, "bot", "--repo", dir, "--proposer", "sweep")
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", code, stderr, tc.want)
			}
			for _, c := range f.snapshot() {
				if c.Method == "apps.connections.open" || c.Method == "chat.postMessage" {
					t.Errorf("the bot went on after a failed check: %s", c.Method)
				}
			}
		})
	}
}

func TestDigestCommandPrintsTheWindowAndWritesTheChart(t *testing.T) {
	dir := researchtest.New(t)
	code, _, stderr := runMain(t, "run", "--repo", dir, "--tag", "d1", "--proposer", "sweep", "--train-cmd", "python3 train.py",
		"--max-experiments", "3", "--baseline-repeats", "0")
	if code != exitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	chart := filepath.Join(t.TempDir(), "progress.png")
	code, out, stderr := runMain(t, "digest", "--repo", dir, "--hours", "1", "--chart", chart)
	if code != exitOK {
		t.Fatalf("digest: %d %s", code, stderr)
	}
	for _, want := range []string{"run `d1`", "*3 experiments*", "since the baseline (1.500000)", "*Kept improvements*"} {
		if !strings.Contains(out, want) {
			t.Errorf("digest lacks %q:\n%s", want, out)
		}
	}
	png, err := os.ReadFile(chart)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("chart: %v, %d bytes", err, len(png))
	}
	if code, _, stderr := runMain(t, "digest", "--repo", dir, "--hours", "0"); code != exitUsage || !strings.Contains(stderr, "--hours") {
		t.Errorf("--hours 0: %d %s", code, stderr)
	}
	if code, _, stderr := runMain(t, "digest", "--repo", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "no runs recorded") {
		t.Errorf("digest without a store: %d %s", code, stderr)
	}
}

// The checked-in slack-manifest.json is what `slack-manifest` prints.
func TestSlackManifestFileIsCurrent(t *testing.T) {
	code, out, stderr := runMain(t, "slack-manifest")
	if code != exitOK {
		t.Fatalf("slack-manifest: %d %s", code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if settings := m["settings"].(map[string]any); settings["socket_mode_enabled"] != true {
		t.Errorf("the default manifest is not Socket Mode: %v", settings)
	}
	file, err := os.ReadFile(filepath.Join("..", "..", "slack-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != out {
		t.Errorf("slack-manifest.json is stale; regenerate it: go run ./cmd/autoresearch slack-manifest > slack-manifest.json")
	}
	code, out, _ = runMain(t, "slack-manifest", "--http-url", "https://bot.example.com", "--command-name", "/research")
	if code != exitOK || !strings.Contains(out, "https://bot.example.com/slack/events") || !strings.Contains(out, `"/research"`) {
		t.Errorf("HTTP manifest: %d\n%s", code, out)
	}
	if code, _, stderr := runMain(t, "slack-manifest", "--http-url", "http://insecure"); code != exitUsage || !strings.Contains(stderr, "https://") {
		t.Errorf("http URL: %d %s", code, stderr)
	}
}
