package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/slacktest"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gpu"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// fakeGPU is a monitor with a fixed inventory and preflight answer.
type fakeGPU struct {
	inv       research.Inventory
	preflight error
}

func (g *fakeGPU) Inventory() research.Inventory { return g.inv }
func (g *fakeGPU) Preflight(ctx context.Context, index int) error {
	if index >= len(g.inv.GPUs) {
		return &research.PreflightError{GPU: index, Reason: "no GPU 3 on this host (1 found)"}
	}
	return g.preflight
}
func (g *fakeGPU) Watch(context.Context, int, time.Duration) func() research.Telemetry {
	return func() research.Telemetry { return research.Telemetry{} }
}

func h100Inventory() research.Inventory {
	return research.Inventory{Available: true, DriverVersion: "550.54.15", CUDAVersion: "12.4",
		GPUs: []research.GPUInfo{{Index: 0, Name: "NVIDIA H100 80GB HBM3", UUID: "GPU-1", MemoryTotalMB: 81920}}}
}

// fakeLLM answers GET /v1/models.
type fakeLLM struct {
	status int
	models []string
	auth   string
}

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.auth = r.Header.Get("Authorization")
	if r.URL.Path != "/v1/models" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	if f.status != 0 && f.status != 200 {
		w.WriteHeader(f.status)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided"}}`)
		return
	}
	var data []map[string]string
	for _, m := range f.models {
		data = append(data, map[string]string{"id": m, "object": "model"})
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}

type doctorFixture struct {
	d     *doctorParts
	dir   string
	env   map[string]string
	slack *slacktest.Server
	llm   *fakeLLM
	gpu   *fakeGPU
}

const upstreamPrepare = "import os\nCACHE_DIR = os.path.join(os.path.expanduser(\"~\"), \".cache\", \"autoresearch\")\nEVAL_TOKENS = 1000\n"

// newDoctorFixture is a setup where every check passes: an upstream-like
// repo, a filled data cache, a GPU, Slack and an LLM endpoint that answer.
func newDoctorFixture(t *testing.T) *doctorFixture {
	t.Helper()
	dir := researchtest.New(t)
	researchtest.Write(t, dir, "prepare.py", upstreamPrepare)
	researchtest.Git(t, dir, "commit", "-q", "-am", "upstream-like prepare.py")
	home := t.TempDir()
	for _, f := range []string{"data/shard_00000.parquet", "data/shard_06542.parquet", "tokenizer/tokenizer.pkl", "tokenizer/token_bytes.pt"} {
		researchtest.Write(t, filepath.Join(home, ".cache", "autoresearch"), f, "x")
	}
	fx := &doctorFixture{dir: dir,
		slack: slacktest.New(t),
		llm:   &fakeLLM{models: []string{"gpt-4.1", "gpt-4.1-mini"}},
		gpu:   &fakeGPU{inv: h100Inventory()},
	}
	fx.slack.Always("auth.test", 200, `{"ok":true,"user":"autoresearch","team":"Lab","user_id":"U1","team_id":"T1"}`)
	fx.slackChannel(nil)
	llmSrv := httptest.NewServer(fx.llm)
	t.Cleanup(llmSrv.Close)
	fx.env = map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_CHANNEL": "C0RESEARCH", "SLACK_API_URL": fx.slack.APIURL(),
		"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": llmSrv.URL + "/v1",
	}
	var f loopFlags
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse([]string{"--repo", dir, "--train-cmd", "uv run train.py"}); err != nil {
		t.Fatal(err)
	}
	fx.d = &doctorParts{
		flags:    &f,
		getenv:   func(k string) string { return fx.env[k] },
		lookPath: func(name string) (string, error) { return "/usr/local/bin/" + name, nil },
		openGPU:  func() research.GPUMonitor { return fx.gpu },
		client:   &http.Client{Timeout: 10 * time.Second},
		home:     home,
		probe:    func() trainer.ProbeResult { return trainer.ProbeResult{Mode: trainer.IsolationNamespaces} },
		diskWarn: 1, diskFail: 0,
	}
	return fx
}

// slackChannel sets what conversations.info says of the channel: a
// channel the bot is a member of, as change leaves it.
func (fx *doctorFixture) slackChannel(change func(channel map[string]any)) {
	channel := map[string]any{"id": "C0RESEARCH", "name": "research", "is_member": true}
	if change != nil {
		change(channel)
	}
	body, _ := json.Marshal(map[string]any{"ok": true, "channel": channel})
	fx.slack.Always("conversations.info", 200, string(body))
}

// check runs the doctor and returns the line of the named check (the last
// one when a check prints several) and the whole output.
func (fx *doctorFixture) check(t *testing.T, name string) (checkResult, string, error) {
	t.Helper()
	var out bytes.Buffer
	err := fx.d.report(context.Background(), &out)
	var found *checkResult
	for _, r := range fx.d.run(context.Background()) {
		if r.Name == name {
			r := r
			if found == nil || r.Level != checkOK {
				found = &r
			}
		}
	}
	if found == nil {
		t.Fatalf("no %s check in:\n%s", name, out.String())
	}
	return *found, out.String(), err
}

func TestDoctorAllGood(t *testing.T) {
	t.Parallel()
	fx := newDoctorFixture(t)
	var out bytes.Buffer
	if err := fx.d.report(context.Background(), &out); err != nil {
		t.Fatalf("doctor failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"ok    git        on branch main, tracked files clean",
		"ok    owner      no process owns ",
		"ok    files      train.py, prepare.py, program.md present",
		"ok    uv         /usr/local/bin/uv",
		"ok    data       ", ": 2 shards and the tokenizer",
		"ok    gpu        1x NVIDIA H100 80GB HBM3 (driver 550.54.15, CUDA 12.4); 0: NVIDIA H100 80GB HBM3 81920 MiB GPU-1",
		"ok    gpu        GPU 0 is free for experiments",
		"ok    slack      token works: bot U1 in team Lab; channel #research (C0RESEARCH), the bot is a member",
		"ok    llm        " + fx.env["OPENAI_BASE_URL"] + " answers (model gpt-4.1)",
		"ok    disk       ",
		"ok    isolation  namespaces: the trainer runs in its own PID and mount namespaces",
		"all 11 checks passed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if fx.llm.auth != "Bearer sk-test" {
		t.Errorf("LLM request authorization %q", fx.llm.auth)
	}
	if calls := fx.slack.Calls(); len(calls) < 2 || calls[0].Method != "auth.test" || calls[1].Form.Get("channel") != "C0RESEARCH" {
		t.Errorf("Slack calls: %v", fx.slack.Methods())
	}
}

// Without namespaces doctor warns, says why and what to change.
func TestDoctorIsolationWithoutNamespaces(t *testing.T) {
	t.Parallel()
	fx := newDoctorFixture(t)
	fx.d.probe = func() trainer.ProbeResult {
		return trainer.ProbeResult{Mode: trainer.IsolationReaper, Why: "creating namespaces: operation not permitted",
			Hint: "For namespaces in Docker run the container with " + trainer.DockerNamespaceOpts}
	}
	var out bytes.Buffer
	if err := fx.d.report(context.Background(), &out); err != nil {
		t.Fatalf("a warning failed doctor: %v\n%s", err, out.String())
	}
	for _, want := range []string{"warn  isolation  reaper: no namespaces (creating namespaces: operation not permitted)",
		"--security-opt seccomp=unconfined"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDoctorFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, check, level, want string
		setup                    func(t *testing.T, fx *doctorFixture)
	}{
		{"not a repo", "git", checkFail, "is not a git repository: run `git init", func(t *testing.T, fx *doctorFixture) {
			fx.d.flags.repo = t.TempDir()
		}},
		{"dirty", "git", checkFail, "on branch main, but tracked files have uncommitted changes (train.py): commit or stash them", func(t *testing.T, fx *doctorFixture) {
			researchtest.Write(t, fx.dir, "train.py", "VAL = 2\n")
		}},
		{"missing program.md", "files", checkFail, "program.md missing in ", func(t *testing.T, fx *doctorFixture) {
			os.Remove(filepath.Join(fx.dir, "program.md"))
		}},
		{"no uv", "uv", checkFail, "--train-cmd starts with uv, but uv is not on PATH: install it", func(t *testing.T, fx *doctorFixture) {
			fx.d.lookPath = func(string) (string, error) { return "", errors.New("not found") }
		}},
		{"empty cache", "data", checkFail, "holds no data shards and no tokenizer: run `uv run prepare.py` in the repo", func(t *testing.T, fx *doctorFixture) {
			fx.d.home = t.TempDir()
		}},
		{"no tokenizer", "data", checkFail, "has 2 shards but lacks tokenizer/token_bytes.pt: run `uv run prepare.py`", func(t *testing.T, fx *doctorFixture) {
			os.Remove(filepath.Join(fx.d.home, ".cache", "autoresearch", "tokenizer", "token_bytes.pt"))
		}},
		{"cache unused by this prepare.py", "data", checkWarn, "does not seem to use it", func(t *testing.T, fx *doctorFixture) {
			fx.d.home = t.TempDir()
			researchtest.Write(t, fx.dir, "prepare.py", researchtest.PreparePy)
			researchtest.Git(t, fx.dir, "commit", "-q", "-am", "own prepare")
		}},
		{"no driver", "gpu", checkFail, "GPU telemetry unavailable: no driver here: install the NVIDIA driver, or start the container with --gpus all", func(t *testing.T, fx *doctorFixture) {
			fx.d.openGPU = func() research.GPUMonitor { return gpu.Unavailable("no driver here", nil) }
		}},
		{"no driver, CPU training", "gpu", checkWarn, "GPU telemetry unavailable: no driver here", func(t *testing.T, fx *doctorFixture) {
			fx.d.openGPU = func() research.GPUMonitor { return gpu.Unavailable("no driver here", nil) }
			fx.d.noGPU = true
		}},
		{"wrong index", "gpu", checkFail, "GPU 3: no GPU 3 on this host (1 found): pick one with --gpu-index", func(t *testing.T, fx *doctorFixture) {
			fx.d.flags.gpu.index = 3
		}},
		{"busy GPU", "gpu", checkWarn, "GPU 0: foreign compute process pid 4242 (python3) is using it: the run would pause until it is free", func(t *testing.T, fx *doctorFixture) {
			fx.gpu.preflight = &research.PreflightError{GPU: 0, Reason: "foreign compute process pid 4242 (python3) is using it"}
		}},
		{"no Slack", "slack", checkWarn, "Slack not configured (SLACK_BOT_TOKEN not set)", func(t *testing.T, fx *doctorFixture) {
			delete(fx.env, "SLACK_BOT_TOKEN")
		}},
		{"Slack required", "slack", checkFail, "Slack not configured", func(t *testing.T, fx *doctorFixture) {
			delete(fx.env, "SLACK_BOT_TOKEN")
			fx.d.requireSlack = true
		}},
		{"bad token", "slack", checkFail, "SLACK_BOT_TOKEN: Slack refused the token (invalid_auth) — reinstall the app", func(t *testing.T, fx *doctorFixture) {
			fx.slack.Always("auth.test", 200, `{"ok":false,"error":"invalid_auth"}`)
		}},
		{"no channel", "slack", checkFail, "SLACK_CHANNEL: not set — set it to the channel's ID", func(t *testing.T, fx *doctorFixture) {
			delete(fx.env, "SLACK_CHANNEL")
		}},
		{"unknown channel", "slack", checkFail, "SLACK_CHANNEL: channel C0RESEARCH not found — check the ID", func(t *testing.T, fx *doctorFixture) {
			fx.slack.Always("conversations.info", 200, `{"ok":false,"error":"channel_not_found"}`)
		}},
		{"not a member", "slack", checkFail, "SLACK_CHANNEL: the bot is not a member of #research (C0RESEARCH) — invite it", func(t *testing.T, fx *doctorFixture) {
			fx.slackChannel(func(c map[string]any) { c["is_member"] = false })
		}},
		{"archived", "slack", checkFail, "SLACK_CHANNEL: #research (C0RESEARCH) is archived", func(t *testing.T, fx *doctorFixture) {
			fx.slackChannel(func(c map[string]any) { c["is_archived"] = true })
		}},
		{"LLM key refused", "llm", checkFail, "401 Unauthorized: the endpoint refused OPENAI_API_KEY", func(t *testing.T, fx *doctorFixture) {
			fx.llm.status = http.StatusUnauthorized
		}},
		{"LLM wrong base URL", "llm", checkFail, "404 Not Found", func(t *testing.T, fx *doctorFixture) {
			fx.env["OPENAI_BASE_URL"] = strings.TrimSuffix(fx.env["OPENAI_BASE_URL"], "/v1")
		}},
		{"LLM unreachable", "llm", checkFail, "cannot reach http://127.0.0.1:1/v1/models", func(t *testing.T, fx *doctorFixture) {
			fx.env["OPENAI_BASE_URL"] = "http://127.0.0.1:1/v1"
		}},
		{"model not served", "llm", checkWarn, `does not list model "o9-huge"`, func(t *testing.T, fx *doctorFixture) {
			fx.d.flags.model = "o9-huge"
		}},
		{"LLM not configured", "llm", checkFail, "--proposer llm needs OPENAI_API_KEY", func(t *testing.T, fx *doctorFixture) {
			delete(fx.env, "OPENAI_API_KEY")
			delete(fx.env, "OPENAI_BASE_URL")
		}},
		{"disk nearly full", "disk", checkFail, "GiB free on the filesystem of", func(t *testing.T, fx *doctorFixture) {
			fx.d.diskFail = 1 << 62
		}},
		{"disk low", "disk", checkWarn, "a night of runs may need more", func(t *testing.T, fx *doctorFixture) {
			fx.d.diskWarn = 1 << 62
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own repo, home and fakes
			fx := newDoctorFixture(t)
			c.setup(t, fx)
			r, out, err := fx.check(t, c.check)
			if r.Level != c.level || !strings.Contains(r.Msg, c.want) {
				t.Errorf("%s check = %s %q\nwant %s containing %q\n%s", c.check, r.Level, r.Msg, c.level, c.want, out)
			}
			if (c.level == checkFail) != (err != nil) {
				t.Errorf("report error = %v for a %s", err, c.level)
			}
		})
	}
}

// The real command line: exit 1 when a check fails, 0 otherwise.
func TestDoctorCommandExitStatus(t *testing.T) {
	dir := researchtest.New(t)
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"SLACK_BOT_TOKEN", "OPENAI_API_KEY", "OPENAI_BASE_URL"} {
		t.Setenv(k, "")
	}
	code, out, errOut := runMain(t, "doctor", "--repo", dir, "--proposer", "sweep", "--train-cmd", "python3 train.py", "--no-gpu")
	if code != exitOK || !strings.Contains(out, "ok    git        on branch main") || !strings.Contains(out, "warn  slack      Slack not configured") {
		t.Errorf("doctor on a good CPU repo: exit %d\n%s%s", code, out, errOut)
	}
	os.Remove(filepath.Join(dir, "train.py"))
	code, out, errOut = runMain(t, "doctor", "--repo", dir, "--proposer", "sweep", "--train-cmd", "python3 train.py", "--no-gpu")
	if code != exitError || !strings.Contains(out, "FAIL  files      train.py missing") || !strings.Contains(errOut, "checks failed") {
		t.Errorf("doctor without train.py: exit %d\n%s%s", code, out, errOut)
	}
}
