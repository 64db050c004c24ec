package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/bot/slack"
	"github.com/autoresearch/autoresearch/bot/slacktest"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// The store is the bot's outbox and digest records, the manager its
// controller: checked at compile time.
var (
	_ slack.Outbox   = (*store.DB)(nil)
	_ digest.Records = (*store.DB)(nil)
	_ bot.Controller = (*research.Manager)(nil)
)

const botTestChannel = "CRESEARCH"

// slackServer is the shared fake Slack (bot/slacktest), serving every
// Socket Mode connection itself; one server outlives several bot
// processes, like Slack does.
type slackServer struct{ *slacktest.Server }

type slackCall = slacktest.Call

func newSlackServer(t *testing.T) *slackServer {
	f := slacktest.New(t)
	f.TakeOverSockets()
	return &slackServer{f}
}

// env points a bot process at the fake.
func (f *slackServer) env(admins string) map[string]string {
	return map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test", "SLACK_CHANNEL": botTestChannel,
		"SLACK_API_URL": f.APIURL(), "AUTORESEARCH_ADMINS": admins,
	}
}

// slash sends `/autoresearch TEXT` as user in the bot's channel.
func (f *slackServer) slash(id, user, text string) { f.Slash(id, user, botTestChannel, text) }

// reply sends a person's thread reply in the bot's channel.
func (f *slackServer) reply(eventID, user, text, ts, threadTS string) {
	f.Reply(eventID, botTestChannel, user, text, ts, threadTS)
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
	gen := f.Generation()
	ctx, cancel := context.WithCancel(context.Background())
	p := &botProcess{t: t, stderr: stderr, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- serveBot(ctx, opts, streams) }()
	t.Cleanup(func() { p.stop() })
	f.AcceptAfter(gen)
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
	t.Parallel()
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	touch(t, hold)
	f := newSlackServer(t)
	p := startBotInProcess(t, f, f.env("UALICE"), botArgs(dir, hold)...)

	if len(f.Calls()) == 0 || f.Calls()[0].Method != "auth.test" {
		t.Fatalf("the bot did not check its token first: %+v", f.Calls())
	}
	f.WaitFor("the channel check", "conversations.info", func(c slackCall) bool { return c.Form.Get("channel") == botTestChannel })
	if strings.Contains(p.stderr.String(), "WARNING") {
		t.Errorf("warned although admins are set:\n%s", p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.tsv")); err == nil {
		t.Fatal("the bot started a run on its own")
	}

	// Someone who is not an admin cannot start a run.
	f.slash("s0", "UBOB", "start t1")
	if a := f.Answer("s0"); !strings.Contains(a, "only the run's admins") {
		t.Fatalf("non-admin start answered %q", a)
	}

	// A quiet channel: the command is answered privately, and the run's
	// header (naming who started it) is the one announcement.
	f.slash("s1", "UALICE", "start t1")
	if a := f.Answer("s1"); !strings.Contains(a, "Run *t1* is starting") {
		t.Errorf("start answered %q", a)
	}
	header := f.WaitPost("Run t1 started")
	if !strings.Contains(header.BlockTexts(), "<@UALICE>") {
		t.Errorf("the run header does not name who started it: %s", header.BlockTexts())
	}
	exp1 := f.WaitPost("#1 running: baseline")
	exp1TS := exp1.TS

	// Pause while the baseline trains: the loop holds after it.
	f.slash("s2", "UALICE", "pause")
	f.WaitPost("⏸️ Paused by <@UALICE>")
	os.Remove(hold)
	upd := f.WaitFor("the baseline's result", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp1TS && strings.Contains(c.Text(), "keep")
	})
	if !strings.Contains(upd.Text(), "val_bpb 1.500000") {
		t.Errorf("baseline update = %q", upd.Text())
	}
	touch(t, hold)

	// A reply in the baseline's thread: an admin's becomes an idea (bulb),
	// a non-admin's is refused privately.
	f.reply("Ev1", "UALICE", "BONUS=0.25 might help", "1700000100.000001", exp1TS)
	f.WaitFor("the idea's reaction", "reactions.add", func(c slackCall) bool {
		return c.Form.Get("timestamp") == "1700000100.000001" && c.Form.Get("name") == "bulb"
	})
	f.reply("Ev2", "UBOB", "SEED=3", "1700000101.000001", exp1TS)
	f.WaitFor("the refusal of a non-admin's idea", "chat.postEphemeral", func(c slackCall) bool {
		return c.Form.Get("user") == "UBOB" && strings.Contains(c.Text(), "not taken as an idea")
	})

	f.slash("s3", "UALICE", "resume")
	f.WaitPost("▶️ Resumed by <@UALICE>")
	exp2 := f.WaitFor("experiment 2 with the idea", "chat.postMessage", func(c slackCall) bool {
		return strings.HasPrefix(c.Text(), "#2 running") && strings.Contains(c.BlockTexts(), "idea from <@UALICE>")
	})
	if !strings.Contains(exp2.Text(), "BONUS") {
		t.Errorf("experiment 2 does not apply the idea: %q", exp2.Text())
	}
	f.WaitFor("the reply in the idea's thread", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == exp1TS && strings.Contains(c.Text(), "your idea is being tried in experiment #2")
	})
	os.Remove(hold)
	upd = f.WaitFor("experiment 2's result", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp2.TS && !strings.Contains(c.Text(), "running")
	})
	if !strings.Contains(upd.Text(), "val_bpb 1.250000") || !strings.Contains(upd.Text(), "new best") {
		t.Errorf("experiment 2 update = %q", upd.Text())
	}
	// An update notifies nobody: the new best is broadcast from its thread.
	f.WaitFor("the new best's broadcast", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == exp2.TS && c.Form.Get("reply_broadcast") == "true" &&
			strings.Contains(c.Text(), "New best: #2") && strings.Contains(c.Text(), "idea from <@UALICE>")
	})

	f.slash("s4", "UBOB", "status")
	if a := f.Answer("s4"); !strings.Contains(a, "run t1 on autoresearch/t1") || !strings.Contains(a, "1.250000") {
		t.Errorf("status = %q", a)
	}
	f.slash("s5", "UALICE", "stop")
	stopping := f.WaitPost("<@UALICE> is stopping the run")
	f.WaitFor("the stop notice turned into the run's end", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == stopping.TS && strings.Contains(c.Text(), "Run t1 stopped by <@UALICE>")
	})

	// `digest` posts the numbers now, with the kept improvement and the
	// progress chart (a PNG uploaded into the digest's thread).
	f.slash("s6", "UBOB", "digest")
	if a := f.Answer("s6"); !strings.Contains(a, "being posted") {
		t.Errorf("digest answer = %q", a)
	}
	digest := f.WaitPost("Morning digest")
	if !strings.Contains(digest.Text(), "run `t1`") || !strings.Contains(digest.Text(), "since the baseline (1.500000)") {
		t.Errorf("digest = %q", digest.Text())
	}
	// The kept improvement links to experiment 2's message.
	exp2Link := "<https://team.slack.com/archives/" + botTestChannel + "/p" + strings.Replace(exp2.TS, ".", "", 1) + "|#2>  1.250000"
	f.WaitFor("the kept improvements in the digest's thread, linked", "chat.postMessage", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == digest.TS && strings.Contains(c.Text(), exp2Link)
	})
	f.WaitFor("the chart in the digest's thread", "files.completeUploadExternal", func(c slackCall) bool {
		return c.Form.Get("thread_ts") == digest.TS && c.Form.Get("channel_id") == botTestChannel
	})
	up := f.WaitFor("the chart upload", "upload", func(c slackCall) bool { return len(c.Body) > 0 })
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
	gen := f.Generation()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	f.AcceptAfter(gen)
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
	t.Parallel()
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
	f.WaitPost("#1 running: baseline")
	pgid := waitTrainerPGID(t, dir)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	t.Logf("first bot:\n%s", out)

	second, out := startBotCLI(t, f, env, args...)
	f.WaitPost("Run k9 resumed")
	if alive(pgid) {
		t.Errorf("the trainer orphaned by kill -9 (group %d) survived the restart", pgid)
	}
	exp2 := f.WaitPost("#2 running")
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
	f.WaitFor("experiment 2's stop", "chat.update", func(c slackCall) bool {
		return c.Form.Get("ts") == exp2.TS && strings.Contains(c.Text(), "stopped")
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
	t.Parallel()
	dir := researchtest.New(t)
	hold := filepath.Join(t.TempDir(), "hold")
	f := newSlackServer(t)
	f.SetFailPosts(true)
	p := startBotInProcess(t, f, f.env(""), botArgs(dir, hold)...)
	if !strings.Contains(p.stderr.String(), "WARNING: AUTORESEARCH_ADMINS is not set") {
		t.Errorf("no loud warning about missing admins:\n%s", p.stderr)
	}
	f.slash("i1", "UBOB", "idea try a wider MLP")
	if a := f.Answer("i1"); !strings.Contains(a, "Pinned idea [1]") {
		t.Fatalf("idea answer = %q", a)
	}
	f.slash("d1", "UBOB", "digest")
	if a := f.Answer("d1"); !strings.Contains(a, "being posted") {
		t.Fatalf("digest answer = %q", a)
	}
	f.WaitFor("a refused digest post", "chat.postMessage", func(c slackCall) bool {
		return c.Status == http.StatusInternalServerError && strings.Contains(c.Text(), "digest")
	})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	db := openTestStore(t, dir)
	if n, err := db.OutboxBacklog(context.Background()); err != nil || n < 2 {
		t.Fatalf("backlog after the failed delivery = %d, %v; want the digest and its thread", n, err)
	}

	f.SetFailPosts(false)
	p = startBotInProcess(t, f, f.env(""), botArgs(dir, hold)...)
	digest := f.WaitPost("No experiments finished since the last digest")
	f.WaitFor("the digest's thread", "chat.postMessage", func(c slackCall) bool {
		return c.Status == http.StatusOK && c.Form.Get("thread_ts") == digest.TS &&
			strings.Contains(c.Text(), "Open ideas") && strings.Contains(c.Text(), "try a wider MLP")
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
		{"revoked token", func(f *slackServer) { f.SetAuthError("token_revoked") }, "SLACK_BOT_TOKEN: Slack refused the token (token_revoked)"},
		{"not in channel", func(f *slackServer) { f.SetMember(false) }, "the bot is not a member of #research (CRESEARCH)"},
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
			for _, c := range f.Calls() {
				if c.Method == "apps.connections.open" || c.Method == "chat.postMessage" {
					t.Errorf("the bot went on after a failed check: %s", c.Method)
				}
			}
		})
	}
}

func TestDigestCommandPrintsTheWindowAndWritesTheChart(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
