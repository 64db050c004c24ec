package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// fakeTrain prints upstream's output: '\r'-joined progress, then the summary.
const fakeTrain = `
import sys, time
for i in range(1, 11):
    print(f"\rstep {i:05d} ({i*10:.1f}%) | loss: {5.0 - i*0.1:.6f} | lrm: 1.00 | dt: 30ms | tok/sec: 1,234,567 | mfu: 39.8% | epoch: 1 | remaining: {10-i}s    ", end="", flush=True)
    time.sleep(0.01)
print()
print("a warning on stderr", file=sys.stderr, flush=True)
print("---")
print("val_bpb:          0.997900")
print("training_seconds: 300.1")
print("peak_vram_mb:     45060.2")
print("num_steps:        10")
`

// hostPids is the isolation of tests that read pids the command wrote
// ($$, $!): inside a PID namespace those would be the namespace's own.
const hostPids = IsolationReaper

func TestTrainSuccess(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.py", fakeTrain)
	logPath := filepath.Join(t.TempDir(), "state", "logs", "exp1.log") // dirs do not exist yet
	runLog := filepath.Join(dir, "run.log")
	writeFile(t, dir, "run.log", "stale content from the previous run\n")

	var (
		mu       sync.Mutex
		seen     []research.Progress
		returned bool
		late     bool
	)
	job := research.TrainJob{
		Dir: dir, LogPath: logPath, RunLogPath: runLog, Timeout: time.Minute,
		OnProgress: func(p research.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if returned {
				late = true
			}
			seen = append(seen, p)
		},
	}
	l := &Local{Command: python(t) + " train.py", Logger: testLogger(t)}
	res, err := l.Train(context.Background(), job)
	mu.Lock()
	returned = true
	mu.Unlock()
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	if res.ExitCode != 0 || res.TimedOut || res.Stopped {
		t.Fatalf("result %+v, output:\n%s", res, res.Output)
	}
	if res.Duration <= 0 {
		t.Fatalf("Duration = %v", res.Duration)
	}
	s, err := research.ParseSummary(res.Output)
	if err != nil || s.ValBPB != 0.9979 || s.NumSteps != 10 {
		t.Fatalf("summary %+v, %v", s, err)
	}
	if !bytes.Contains(res.Output, []byte("a warning on stderr")) {
		t.Fatalf("stderr missing from output:\n%s", res.Output)
	}
	for _, p := range []string{logPath, runLog} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, res.Output) {
			t.Fatalf("%s differs from Output:\n%q\nvs\n%q", p, b, res.Output)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if late {
		t.Fatal("OnProgress was called after Train returned")
	}
	if len(seen) == 0 {
		t.Fatal("OnProgress never called")
	}
	for i, p := range seen {
		if i > 0 && p.Percent < seen[i-1].Percent {
			t.Fatalf("progress went backwards: %+v", seen)
		}
		if !strings.HasPrefix(p.Line, "step ") {
			t.Fatalf("Line %q", p.Line)
		}
	}
	// Throttling may drop reports in between, never the last one.
	last := seen[len(seen)-1]
	if last.Percent != 100 || last.Step != 10 || last.Remaining != 0 || last.Loss != 4.0 {
		t.Fatalf("last progress %+v, want step 10 at 100%%", last)
	}
}

func TestTrainNonZeroExit(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Command: "echo starting; echo 'RuntimeError: boom' >&2; exit 3", Logger: testLogger(t)}
	res, err := l.Train(context.Background(), research.TrainJob{Dir: dir, LogPath: filepath.Join(dir, "x.log")})
	if err != nil {
		t.Fatalf("a failing command is not a Train error: %v", err)
	}
	if res.ExitCode != 3 || res.TimedOut || res.Stopped {
		t.Fatalf("result %+v", res)
	}
	if got := research.Tail(res.Output, 1); got != "RuntimeError: boom" {
		t.Fatalf("Tail = %q", got)
	}
	if _, err := research.ParseSummary(res.Output); !errors.Is(err, research.ErrNoSummary) {
		t.Fatalf("ParseSummary err = %v", err)
	}
}

// The trainer's child spawns a grandchild; a timeout must take all of them.
func TestTrainTimeoutKillsGrandchildren(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.sh", `
sh -c 'sleep 1000 & echo $! > grandchild.pid; wait' &
echo $! > child.pid
echo "step 1 (1.0%)"
wait
`)
	l := &Local{Isolation: hostPids, Command: "sh train.sh", Grace: 5 * time.Second, Logger: testLogger(t)}
	var res research.TrainResult
	var err error
	deadline(t, func() {
		res, err = l.Train(context.Background(), research.TrainJob{Dir: dir, LogPath: filepath.Join(dir, "x.log"), Timeout: 3 * time.Second})
	})
	if err != nil {
		t.Fatal(err)
	}
	child, grandchild := readPid(t, filepath.Join(dir, "child.pid")), readPid(t, filepath.Join(dir, "grandchild.pid"))
	killAtCleanup(t, child)
	killAtCleanup(t, grandchild)
	if !res.TimedOut || res.Stopped || res.ExitCode != -1 {
		t.Fatalf("result %+v", res)
	}
	if alive(child) || alive(grandchild) {
		t.Fatalf("still alive after Train returned: child %d %v, grandchild %d %v", child, alive(child), grandchild, alive(grandchild))
	}
}

// termIgnorer installs a SIGTERM handler that only reports, then says it is
// ready with a progress line; the test stops it on that line.
const termIgnorer = `
import os, signal, time
def on_term(*_):
    print("TERM ignored", flush=True)
signal.signal(signal.SIGTERM, on_term)
open("trainer.pid", "w").write(str(os.getpid()))
print("step 1 (1.0%) | loss: 9.0", flush=True)
while True:
    time.sleep(1000)
`

func TestTrainSIGKILLAfterGrace(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.py", termIgnorer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &Local{Isolation: hostPids, Command: "exec " + python(t) + " train.py", Grace: 200 * time.Millisecond, Logger: testLogger(t)}
	var res research.TrainResult
	var err error
	deadline(t, func() {
		res, err = l.Train(ctx, research.TrainJob{
			Dir: dir, LogPath: filepath.Join(dir, "x.log"), Timeout: time.Hour,
			OnProgress: func(research.Progress) { cancel() },
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(dir, "trainer.pid"))
	killAtCleanup(t, pid)
	if !res.Stopped || res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("result %+v\n%s", res, res.Output)
	}
	// The handler ran (SIGTERM came first) and yet the process is gone:
	// only SIGKILL can have ended it.
	if !bytes.Contains(res.Output, []byte("TERM ignored")) {
		t.Fatalf("SIGTERM was not delivered first; output:\n%s", res.Output)
	}
	if alive(pid) {
		t.Fatalf("trainer %d survived", pid)
	}
}

func TestTrainContextCancelStops(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &Local{Isolation: hostPids, Command: `echo $$ > trainer.pid; echo "step 3 (2.0%) | loss: 4.5"; exec sleep 1000`, Logger: testLogger(t)}
	var res research.TrainResult
	var err error
	deadline(t, func() {
		res, err = l.Train(ctx, research.TrainJob{
			Dir: dir, Timeout: time.Hour,
			OnProgress: func(research.Progress) { cancel() },
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(dir, "trainer.pid"))
	killAtCleanup(t, pid)
	if !res.Stopped || res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("result %+v", res)
	}
	if alive(pid) {
		t.Fatalf("trainer %d survived the stop", pid)
	}
}

func TestTrainAlreadyCancelledRunsNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := &Local{Command: "touch ran", Logger: testLogger(t)}
	res, err := l.Train(ctx, research.TrainJob{Dir: dir})
	if err != nil || !res.Stopped {
		t.Fatalf("result %+v, err %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Fatal("the command ran although the context was already cancelled")
	}
}

// A trainer that exits but leaves a background process behind (a dataloader
// worker, a forgotten "&") must not leave it running: it could hold the GPU.
func TestTrainKillsStraysAfterNormalExit(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Isolation: hostPids, Command: `sleep 1000 & echo $! > stray.pid; echo done`, Logger: testLogger(t)}
	var res research.TrainResult
	var err error
	deadline(t, func() {
		res, err = l.Train(context.Background(), research.TrainJob{Dir: dir, Timeout: time.Hour})
	})
	if err != nil {
		t.Fatal(err)
	}
	stray := readPid(t, filepath.Join(dir, "stray.pid"))
	killAtCleanup(t, stray)
	if res.ExitCode != 0 || res.TimedOut || res.Stopped || !bytes.Contains(res.Output, []byte("done")) {
		t.Fatalf("result %+v", res)
	}
	if alive(stray) {
		t.Fatalf("stray %d still running", stray)
	}
}

// A process that left the group (setsid) cannot be killed through it and
// keeps the output pipe open; Train must still return with the output.
func TestTrainDoesNotWaitForEscapedPipeHolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.py", `
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    open("escaped.pid", "w").write(str(os.getpid()))
    time.sleep(120)
    os._exit(0)
while not os.path.exists("escaped.pid"):
    time.sleep(0.01)
print("parent done", flush=True)
`)
	l := &Local{Isolation: hostPids, Command: python(t) + " train.py", Logger: testLogger(t)}
	var res research.TrainResult
	var err error
	deadline(t, func() {
		res, err = l.Train(context.Background(), research.TrainJob{Dir: dir, Timeout: time.Hour})
	})
	escaped := readPid(t, filepath.Join(dir, "escaped.pid"))
	killAtCleanup(t, escaped)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || !bytes.Contains(res.Output, []byte("parent done")) {
		t.Fatalf("result %+v", res)
	}
}

func TestTrainEnvironment(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-secret")
	t.Setenv("OPENAI_API_KEY", "sk-secret")
	t.Setenv("MY_SECRET_TOKEN", "secret")
	t.Setenv("AUTORESEARCH_ADMINS", "U1")
	t.Setenv("db_password", "secret")
	t.Setenv("HF_TOKEN", "hf-secret")
	t.Setenv("HARMLESS_SETTING", "kept")
	t.Setenv("CUDA_VISIBLE_DEVICES", "0,1") // the job's value must win

	run := func(t *testing.T, l *Local) map[string]string {
		t.Helper()
		l.Command, l.Logger = "env", testLogger(t)
		res, err := l.Train(context.Background(), research.TrainJob{Dir: t.TempDir(), Env: []string{"CUDA_VISIBLE_DEVICES=3"}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("env failed: %v %+v", err, res)
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(res.Output), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		return env
	}

	t.Run("default", func(t *testing.T) {
		env := run(t, &Local{})
		for _, k := range []string{"SLACK_BOT_TOKEN", "OPENAI_API_KEY", "MY_SECRET_TOKEN", "AUTORESEARCH_ADMINS", "db_password", "HF_TOKEN"} {
			if v, ok := env[k]; ok {
				t.Errorf("%s leaked to the trainer: %q", k, v)
			}
		}
		if env["HARMLESS_SETTING"] != "kept" || env["PATH"] == "" {
			t.Errorf("harmless variables lost: HARMLESS_SETTING=%q PATH=%q", env["HARMLESS_SETTING"], env["PATH"])
		}
		if env["CUDA_VISIBLE_DEVICES"] != "3" {
			t.Errorf("CUDA_VISIBLE_DEVICES = %q, want the job's 3", env["CUDA_VISIBLE_DEVICES"])
		}
	})
	t.Run("KeepEnv override", func(t *testing.T) {
		env := run(t, &Local{KeepEnv: func(k string) bool { return k == "HF_TOKEN" || !IsSecretEnv(k) }})
		if env["HF_TOKEN"] != "hf-secret" {
			t.Errorf("HF_TOKEN = %q, want it kept by KeepEnv", env["HF_TOKEN"])
		}
		if _, ok := env["SLACK_BOT_TOKEN"]; ok {
			t.Error("SLACK_BOT_TOKEN leaked")
		}
	})
}

func TestTrainStartErrors(t *testing.T) {
	dir := t.TempDir()
	notADir := writeFile(t, dir, "file", "")
	tests := []struct {
		name string
		l    *Local
		job  research.TrainJob
	}{
		{"missing dir", &Local{Command: "true"}, research.TrainJob{Dir: filepath.Join(dir, "nope")}},
		{"missing shell", &Local{Command: "true", Shell: filepath.Join(dir, "no-shell")}, research.TrainJob{Dir: dir}},
		{"log dir is a file", &Local{Command: "true"}, research.TrainJob{Dir: dir, LogPath: filepath.Join(notADir, "x.log")}},
		{"run.log dir is a file", &Local{Command: "true"}, research.TrainJob{Dir: dir, RunLogPath: filepath.Join(notADir, "run.log")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.Logger = testLogger(t)
			_, err := tc.l.Train(context.Background(), tc.job)
			if !errors.Is(err, ErrStart) {
				t.Fatalf("err = %v, want ErrStart", err)
			}
		})
	}
}

// A log that cannot be written is reported, but the run and its in-memory
// output are not lost.
func TestTrainLogWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	l := &Local{Command: "echo hello", Logger: testLogger(t)}
	res, err := l.Train(context.Background(), research.TrainJob{Dir: t.TempDir(), LogPath: "/dev/full"})
	if !errors.Is(err, ErrLog) {
		t.Fatalf("err = %v, want ErrLog", err)
	}
	if res.ExitCode != 0 || string(res.Output) != "hello\n" {
		t.Fatalf("result %+v", res)
	}
}

// Output keeps the tail when the log is larger than the cap; the file keeps
// everything.
func TestTrainOutputCapped(t *testing.T) {
	dir := t.TempDir()
	const lines = 100_000 // 100 bytes each: ~10 MiB, over the 8 MiB cap
	writeFile(t, dir, "train.py", fmt.Sprintf(`
import sys
line = "x" * 99 + "\n"
for _ in range(%d):
    sys.stdout.write(line)
print("---")
print("val_bpb: 1.5")
`, lines))
	logPath := filepath.Join(dir, "x.log")
	l := &Local{Command: python(t) + " train.py", Logger: testLogger(t)}
	res, err := l.Train(context.Background(), research.TrainJob{Dir: dir, LogPath: logPath})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%v %+v", err, res.ExitCode)
	}
	if len(res.Output) != maxOutput {
		t.Fatalf("len(Output) = %d, want the cap %d", len(res.Output), maxOutput)
	}
	if s, err := research.ParseSummary(res.Output); err != nil || s.ValBPB != 1.5 {
		t.Fatalf("summary lost from the tail: %+v %v", s, err)
	}
	fi, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(lines*100 + len("---\nval_bpb: 1.5\n")); fi.Size() != want {
		t.Fatalf("log file has %d bytes, want all %d", fi.Size(), want)
	}
}

// OnStart hands out the process group id: the group the shell runs in
// (the shim's, or the shell's own without one). Recovery after kill -9
// relies on it.
func TestTrainOnStartGetsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	var got []int
	l := &Local{Isolation: hostPids, Command: `echo $$ > shell.pid; ps -o pgid= -p $$ > shell.pgid 2>/dev/null || true`, Logger: testLogger(t)}
	res, err := l.Train(context.Background(), research.TrainJob{Dir: dir, OnStart: func(pgid int) { got = append(got, pgid) }})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if len(got) != 1 {
		t.Fatalf("OnStart calls %v, want exactly one", got)
	}
	shell := readPid(t, filepath.Join(dir, "shell.pid"))
	// Where ps is available, confirm the shell really leads its own group.
	if b, err := os.ReadFile(filepath.Join(dir, "shell.pgid")); err == nil && strings.TrimSpace(string(b)) != "" {
		if pgid := strings.TrimSpace(string(b)); pgid != fmt.Sprint(got[0]) {
			t.Fatalf("shell %d runs in group %s, not in %d", shell, pgid, got[0])
		}
	}
}

// A fake summary printed after 9 MiB of padding is seen next to the real
// one, although Output keeps only the last 8 MiB; the log on disk keeps its
// head and tail and says how much it cut.
func TestTrainSummaryScannedPastPaddingAndLogCapped(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.py", `
import sys
print("---")
print("val_bpb: 1.5")
for _ in range(9 * 1024):
    sys.stdout.write("x" * 1023 + "\n")
print("---")
print("val_bpb: 0.123456")
`)
	logPath := filepath.Join(dir, "x.log")
	l := &Local{Command: python(t) + " train.py", Logger: testLogger(t), LogHead: 1024}
	res, err := l.Train(context.Background(), research.TrainJob{Dir: dir, LogPath: logPath})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%v %+v", err, res.ExitCode)
	}
	if s, err := research.ParseSummary(res.Output); err != nil || s.ValBPB != 0.123456 {
		t.Fatalf("the tail alone holds only the fake summary: %+v %v", s, err)
	}
	if res.Summary == nil || !errors.Is(res.Summary.Err, research.ErrSummaryRepeated) {
		t.Fatalf("scanned summary = %+v, want ErrSummaryRepeated", res.Summary)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	total := len("---\nval_bpb: 1.5\n") + 9*1024*1024 + len("---\nval_bpb: 0.123456\n")
	cut := total - 1024 - maxOutput
	marker := fmt.Sprintf("[autoresearch: %d bytes of output cut here; this log keeps the first 1024 and the last %d bytes of %d]", cut, maxOutput, total)
	if !bytes.HasPrefix(data, []byte("---\nval_bpb: 1.5\n")) || !bytes.HasSuffix(data, []byte("---\nval_bpb: 0.123456\n")) {
		t.Errorf("log lost its head or tail: %q ... %q", data[:40], data[len(data)-40:])
	}
	if !bytes.Contains(data, []byte(marker)) {
		t.Errorf("log does not say what was cut (want %q)", marker)
	}
	if len(data) > 1024+maxOutput+200 {
		t.Errorf("log has %d bytes, over its cap", len(data))
	}
}
