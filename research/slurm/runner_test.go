package slurm

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

// trainScript prints what upstream's train.py prints: progress joined by
// '\r', then the summary block.
const trainScript = `printf 'step 00001 (10.0%%) | loss: 4.000000 | remaining: 9s\r'
printf 'step 00005 (50.0%%) | loss: 3.500000 | remaining: 5s\r'
printf 'step 00010 (100.0%%) | loss: 3.000000 | remaining: 0s\n'
echo "cuda=${CUDA_VISIBLE_DEVICES:-unset} token=${SLACK_BOT_TOKEN:-absent}"
echo '---'
echo 'val_bpb:          0.997900'
echo 'peak_vram_mb:     45060.2'
`

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	c     *fakeCluster
	db    *store.DB
	e     research.Experiment
	r     *Runner
	job   research.TrainJob
	mu    sync.Mutex
	progs []research.Progress
	pend  []string
}

func setup(t *testing.T) *env {
	t.Helper()
	c := newFakeCluster(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Logger = quiet
	run, err := db.CreateRun(bg, research.Run{Tag: "hpc", Branch: "autoresearch/hpc", RepoDir: "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := db.StartExperiment(bg, research.Experiment{RunID: run.ID, Kind: research.KindProposal, ParentCommit: "abc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	shared := t.TempDir()
	dir := filepath.Join(shared, "worktrees", "slurm1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	v := &env{c: c, db: db, e: e}
	v.r = &Runner{
		Partition: "gpu", Account: "ml", GRES: "gpu:1", ExtraArgs: []string{"--qos=normal"},
		Command: trainScript, Name: "autoresearch-slurm1", Slot: "slurm1",
		SpoolDir: filepath.Join(shared, "jobs"), Poll: time.Millisecond, Store: db, Logger: quiet,
		Now: (&stepClock{t: time.Date(2026, 11, 26, 13, 53, 9, 0, time.Local), step: time.Second}).Now,
		OnPending: func(id, reason string, waited time.Duration) {
			v.mu.Lock()
			v.pend = append(v.pend, id+" "+reason+" "+waited.String())
			v.mu.Unlock()
		},
	}
	v.job = research.TrainJob{
		Dir: dir, LogPath: filepath.Join(t.TempDir(), "logs", "hpc", "0001.log"),
		RunLogPath: filepath.Join(dir, "run.log"), Timeout: 10 * time.Minute,
		Env: []string{"CUDA_VISIBLE_DEVICES=0", "HF_TOKEN=hf_secret"},
		OnProgress: func(p research.Progress) {
			v.mu.Lock()
			v.progs = append(v.progs, p)
			v.mu.Unlock()
		},
	}
	return v
}

func (v *env) pending() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.pend)
}

func TestTrainCompletedRunsTheScriptAndRecordsTheJob(t *testing.T) {
	v := setup(t)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-secret")
	t.Setenv("OPENAI_API_KEY", "sk-secret")
	v.c.set("run", "")
	v.c.squeue("PENDING|Priority|", "RUNNING|None|gpu-07", "RUNNING|None|gpu-07", "COMPLETED|None|gpu-07")

	res, err := v.r.Train(bg, v.job)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	if res.ExitCode != 0 || res.Stopped || res.TimedOut {
		t.Fatalf("result = %+v, want a clean exit", res)
	}
	out := string(res.Output)
	for _, want := range []string{"val_bpb:          0.997900", "cuda=0 token=absent", "step 00010"} {
		if !strings.Contains(out, want) {
			t.Errorf("Output lacks %q:\n%s", want, out)
		}
	}
	sum, perr := research.ParseSummary(res.Output)
	if perr != nil || sum.ValBPB != 0.9979 {
		t.Errorf("ParseSummary = %+v, %v", sum, perr)
	}
	for _, p := range []string{v.job.LogPath, v.job.RunLogPath} {
		if data, err := os.ReadFile(p); err != nil || string(data) != out {
			t.Errorf("%s = %q, %v; want the whole output", p, data, err)
		}
	}
	if res.Duration != 5*time.Minute+7*time.Second {
		t.Errorf("Duration = %s, want scontrol's RunTime 5m7s", res.Duration)
	}
	v.mu.Lock()
	last := v.progs[len(v.progs)-1]
	v.mu.Unlock()
	if last.Step != 10 || last.Percent != 100 {
		t.Errorf("last progress = %+v, want step 10 at 100%%", last)
	}

	// The submission: our settings, the time limit, the script last.
	sb := v.c.calls("sbatch")
	if len(sb) != 1 {
		t.Fatalf("sbatch calls = %q", sb)
	}
	for _, want := range []string{"--parsable", "--job-name=autoresearch-slurm1", "--chdir=" + v.job.Dir,
		"--output=" + filepath.Join(v.r.SpoolDir, "job-%j.out"), "--export=ALL", "--time=0-00:12:00",
		"--partition=gpu", "--account=ml", "--gres=gpu:1", "--qos=normal"} {
		if !strings.Contains(sb[0], " "+want+" ") {
			t.Errorf("sbatch call lacks %s: %s", want, sb[0])
		}
	}
	// Secrets never reach sbatch's environment (which --export=ALL hands
	// to the job), nor the script.
	sbEnv := v.c.read("sbatch.env")
	for _, secret := range []string{"xoxb-secret", "sk-secret"} {
		if strings.Contains(sbEnv, secret) {
			t.Errorf("sbatch's environment holds %s", secret)
		}
	}
	script := v.c.read("script.sh")
	if strings.Contains(script, "hf_secret") || !strings.Contains(script, "export CUDA_VISIBLE_DEVICES='0'") {
		t.Errorf("script exports the wrong environment:\n%s", script)
	}
	if len(v.c.calls("scancel")) != 0 {
		t.Errorf("scancel called for a completed job: %q", v.c.calls("scancel"))
	}
	if len(v.pending()) != 0 {
		t.Errorf("OnPending for a short wait: %q", v.pending())
	}

	// Recorded: id, node, GPU type, pending time; tied by the log path.
	j, err := v.db.SlurmJobByLogPath(bg, v.job.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if j.JobID != "4242" || j.State != "COMPLETED" || j.Node != "gpu-07" || j.GPUType != "h100" ||
		j.Slot != "slurm1" || j.Pending != 90*time.Second || j.OutPath != filepath.Join(v.r.SpoolDir, "job-4242.out") ||
		j.FinishedAt.IsZero() || j.ExitCode != "0:0" {
		t.Errorf("recorded %+v", j)
	}
	// No accounting: sacct was asked once and is not asked again.
	if _, err := v.r.Train(bg, v.job); err != nil {
		t.Fatal(err)
	}
	if n := len(v.c.calls("sacct")); n != 1 {
		t.Errorf("sacct calls = %d, want 1 (accounting is disabled)", n)
	}
}

func TestEndStatesAreCrashesNamedByTheState(t *testing.T) {
	cases := []struct {
		state, exit, reason string
		timedOut            bool
	}{
		{"FAILED", "3:0", "exit code 3", false},
		{"OUT_OF_MEMORY", "0:125", "signal 125", false},
		{"NODE_FAIL", "0:0", "", false},
		{"TIMEOUT", "0:15", "SLURM's time limit", true},
		{"CANCELLED", "0:0", "cancelled outside autoresearch", false},
		{"PREEMPTED", "0:0", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.state, func(t *testing.T) {
			v := setup(t)
			v.c.set("exitcode", tc.exit)
			v.c.squeue("RUNNING|None|gpu-07", tc.state+"|None|gpu-07")
			res, err := v.r.Train(bg, v.job)
			var jerr *JobError
			if !errors.As(err, &jerr) {
				t.Fatalf("Train error = %v, want a *JobError", err)
			}
			if jerr.State != tc.state || jerr.JobID != "4242" || jerr.Node != "gpu-07" || jerr.Reason != tc.reason {
				t.Errorf("JobError = %+v", jerr)
			}
			if !strings.HasPrefix(err.Error(), "slurm job 4242 "+tc.state+" on gpu-07") {
				t.Errorf("crash reason = %q", err.Error())
			}
			if res.ExitCode == 0 || res.Stopped || res.TimedOut != tc.timedOut {
				t.Errorf("result = %+v", res)
			}
			if calls := v.c.calls("scancel"); len(calls) != 0 {
				t.Errorf("scancel called: %q", calls)
			}
			j, _ := v.db.SlurmJobByLogPath(bg, v.job.LogPath)
			if j.State != tc.state || j.FinishedAt.IsZero() {
				t.Errorf("recorded %+v", j)
			}
		})
	}
}

func TestSubmitErrorsAreTyped(t *testing.T) {
	cases := []struct {
		stderr string
		kind   error
		msg    string
	}{
		{"sbatch: error: invalid partition specified: gpux\nsbatch: error: Batch job submission failed: Invalid partition name specified\n",
			ErrConfig, "invalid partition specified: gpux"},
		{"sbatch: error: Batch job submission failed: Invalid generic resource (gres) specification\n",
			ErrConfig, "Batch job submission failed: Invalid generic resource (gres) specification"},
		{"sbatch: error: Invalid generic resource (gres) specification\n", ErrConfig, "Invalid generic resource (gres) specification"},
		{"sbatch: error: Batch job submission failed: Socket timed out on send/recv operation\n",
			ErrController, "Batch job submission failed: Socket timed out on send/recv operation"},
		{"sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
			ErrController, "Batch job submission failed: Unable to contact slurm controller (connect failure)"},
		{"sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)\n",
			ErrSubmit, "Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)"},
	}
	for _, tc := range cases {
		t.Run(tc.msg, func(t *testing.T) {
			v := setup(t)
			v.c.set("sbatch.err", tc.stderr)
			res, err := v.r.Train(bg, v.job)
			var serr *SubmitError
			if !errors.As(err, &serr) || !errors.Is(err, tc.kind) {
				t.Fatalf("Train error = %#v, want a *SubmitError of %v", err, tc.kind)
			}
			if serr.Msg != tc.msg || err.Error() != "sbatch: "+tc.msg {
				t.Errorf("message = %q", err.Error())
			}
			if res.ExitCode == 0 {
				t.Errorf("ExitCode = 0 after a refused submission")
			}
			if calls := v.c.calls("squeue"); len(calls) != 0 {
				t.Errorf("followed a job that was never submitted: %q", calls)
			}
			if _, err := v.db.SlurmJobByLogPath(bg, v.job.LogPath); !errors.Is(err, research.ErrNotFound) {
				t.Errorf("a refused job was recorded: %v", err)
			}
		})
	}
}

func TestLongPendingIsReportedWithItsReason(t *testing.T) {
	v := setup(t)
	v.r.PendingLimit = 10 * time.Minute
	v.r.Now = (&stepClock{t: time.Now(), step: time.Minute}).Now
	lines := []string{}
	for range 25 {
		lines = append(lines, "PENDING|Resources|")
	}
	v.c.squeue(append(lines, "RUNNING|None|gpu-07", "COMPLETED|None|gpu-07")...)
	if _, err := v.r.Train(bg, v.job); err != nil {
		t.Fatal(err)
	}
	got := v.pending()
	if len(got) == 0 {
		t.Fatal("a job pending for more than 20 minutes was never reported")
	}
	for _, p := range got {
		f := strings.Fields(p)
		waited, _ := time.ParseDuration(f[2])
		if f[0] != "4242" || f[1] != "Resources" || waited < 10*time.Minute {
			t.Errorf("OnPending(%s): want job 4242, Resources, at least 10m", p)
		}
	}
	j, _ := v.db.SlurmJobByLogPath(bg, v.job.LogPath)
	if j.Reason != "Resources" || j.Pending <= 0 {
		t.Errorf("recorded %+v: want the pending reason and time", j)
	}
}

func TestHopelessPendingIsReportedAtOnce(t *testing.T) {
	v := setup(t)
	v.c.squeue("PENDING|PartitionTimeLimit|", "PENDING|PartitionTimeLimit|", "CANCELLED|PartitionTimeLimit|")
	_, err := v.r.Train(bg, v.job)
	var jerr *JobError
	if !errors.As(err, &jerr) || jerr.State != "CANCELLED" {
		t.Fatalf("Train error = %v, want the CANCELLED job", err)
	}
	if got := v.pending(); len(got) != 1 || !strings.HasPrefix(got[0], "4242 PartitionTimeLimit ") {
		t.Errorf("OnPending calls = %q, want one at once for PartitionTimeLimit", got)
	}
}

func TestStopCancelsOurJobOnly(t *testing.T) {
	v := setup(t)
	v.c.set("jobid", "777")
	v.c.set("run", "")
	v.c.squeue("RUNNING|None|gpu-07")
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	polls := 0
	v.r.Exec = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if name == "squeue" {
			if polls++; polls == 3 {
				cancel()
			}
		}
		return defaultExec(ctx, name, args...)
	}
	res, err := v.r.Train(ctx, v.job)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	if !res.Stopped || res.ExitCode == 0 {
		t.Errorf("result = %+v, want Stopped", res)
	}
	if calls := v.c.calls("scancel"); !slices.Equal(calls, []string{"scancel 777"}) {
		t.Errorf("scancel calls = %q, want exactly our job 777", calls)
	}
	if !strings.Contains(string(res.Output), "step 00010") {
		t.Errorf("the output so far is lost: %q", res.Output)
	}
	j, _ := v.db.SlurmJob(bg, "777")
	if j.State != "CANCELLED" || j.Reason != "stopped by autoresearch" {
		t.Errorf("recorded %+v", j)
	}
}

func TestStopBeforeSubmitSubmitsNothing(t *testing.T) {
	v := setup(t)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	res, err := v.r.Train(ctx, v.job)
	if err != nil || !res.Stopped {
		t.Fatalf("Train = %+v, %v; want Stopped", res, err)
	}
	if calls := v.c.calls("sbatch"); len(calls) != 0 {
		t.Errorf("sbatch called after stop: %q", calls)
	}
}

func TestControllerTimeoutsWhilePollingAreRetried(t *testing.T) {
	v := setup(t)
	timeout := "ERR:slurm_load_jobs error: Socket timed out on send/recv operation"
	v.c.squeue("RUNNING|None|gpu-07", timeout, timeout, timeout, "COMPLETED|None|gpu-07")
	if _, err := v.r.Train(bg, v.job); err != nil {
		t.Fatalf("Train after three socket timeouts: %v", err)
	}

	v = setup(t)
	v.r.MaxPollErrors = 3
	v.c.squeue("RUNNING|None|gpu-07", timeout)
	_, err := v.r.Train(bg, v.job)
	if !errors.Is(err, ErrController) || !strings.Contains(err.Error(), "Socket timed out") {
		t.Fatalf("Train with the controller gone = %v, want ErrController naming the socket timeout", err)
	}
	if calls := v.c.calls("scancel"); len(calls) != 0 {
		t.Errorf("scancel while the controller is unreachable: %q", calls)
	}
	if n := len(v.c.calls("squeue")); n != 4 {
		t.Errorf("squeue calls = %d, want 1 + 3 failures", n)
	}
}

func TestInnerTimeoutIsTheExperimentsTimeout(t *testing.T) {
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("no timeout(1) here")
	}
	v := setup(t)
	v.r.Command = "echo started; sleep 30"
	v.job.Timeout = time.Second
	v.c.set("run", "")
	v.c.set("exitcode", "124:0")
	v.c.squeue("RUNNING|None|gpu-07", "FAILED|NonZeroExitCode|gpu-07")
	res, err := v.r.Train(bg, v.job)
	if err != nil {
		t.Fatalf("Train: %v (want a plain timeout, as the local trainer reports)", err)
	}
	if !res.TimedOut || res.ExitCode != 124 {
		t.Errorf("result = %+v, want TimedOut with exit 124", res)
	}
	if code, timedOut, ok := readExitFile(exitPath(v.r.SpoolDir, "4242")); !ok || code != 124 || !timedOut {
		t.Errorf("exit file: %d %v %v", code, timedOut, ok)
	}
}

func TestReattachFollowsARunningJob(t *testing.T) {
	v := setup(t)
	// The bot submitted job 5150 before it died; the store knows it by the
	// log path only.
	out := filepath.Join(v.r.SpoolDir, "job-5150.out")
	if err := os.MkdirAll(v.r.SpoolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("step 00003 (30.0%) | loss: 3.9\r"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := v.db.SaveSlurmJob(bg, 0, research.SlurmJob{JobID: "5150", LogPath: v.job.LogPath, OutPath: out,
		State: "RUNNING", SubmittedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	polls := 0
	v.r.Exec = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if name == "squeue" {
			polls++
			if polls == 2 { // the job writes the rest while we follow it
				f, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString("step 00010 (100.0%) | loss: 3.0\n---\nval_bpb: 0.990000\n")
				f.Close()
			}
		}
		return defaultExec(ctx, name, args...)
	}
	v.c.squeue("RUNNING|None|gpu-07", "RUNNING|None|gpu-07", "COMPLETED|None|gpu-07")
	res, err := v.r.Reattach(bg, v.e, v.job)
	if err != nil {
		t.Fatalf("Reattach: %v", err)
	}
	if res.ExitCode != 0 || !strings.HasPrefix(string(res.Output), "step 00003") || !strings.Contains(string(res.Output), "val_bpb: 0.990000") {
		t.Errorf("result = %+v %q", res, res.Output)
	}
	if calls := v.c.calls("sbatch"); len(calls) != 0 {
		t.Errorf("re-attach resubmitted: %q", calls)
	}
	j, err := v.db.SlurmJobOf(bg, v.e.ID)
	if err != nil || j.JobID != "5150" || j.ExperimentID != v.e.ID || j.State != "COMPLETED" {
		t.Errorf("recorded %+v, %v: want job 5150 tied to experiment %d", j, err, v.e.ID)
	}
	if data, _ := os.ReadFile(v.job.LogPath); string(data) != string(res.Output) {
		t.Errorf("log file = %q", data)
	}
}

func TestReattachReadsAFinishedJobOnce(t *testing.T) {
	v := setup(t)
	if err := os.MkdirAll(v.r.SpoolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(outPath(v.r.SpoolDir, "6000"), []byte("---\nval_bpb: 0.980000\n"), 0o644)
	os.WriteFile(exitPath(v.r.SpoolDir, "6000"), []byte("0\n"), 0o644)
	if err := v.db.SaveSlurmJob(bg, v.e.ID, research.SlurmJob{JobID: "6000", LogPath: v.job.LogPath,
		OutPath: outPath(v.r.SpoolDir, "6000"), State: "RUNNING"}); err != nil {
		t.Fatal(err)
	}
	// The controller forgot it (MinJobAge passed) and there is no accounting.
	v.c.squeue("GONE")
	v.c.set("scontrol.gone", "")
	res, err := v.r.Reattach(bg, v.e, v.job)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Output), "val_bpb: 0.980000") {
		t.Fatalf("Reattach = %+v, %v", res, err)
	}
	if n := len(v.c.calls("squeue")); n != 1 {
		t.Errorf("squeue calls = %d, want one look", n)
	}

	// Without the exit file nothing tells how it ended: lost, a crash.
	os.Remove(exitPath(v.r.SpoolDir, "6000"))
	if err := v.db.SaveSlurmJob(bg, v.e.ID, research.SlurmJob{JobID: "6001", LogPath: v.job.LogPath, State: "RUNNING",
		SubmittedAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err = v.r.Reattach(bg, v.e, v.job)
	if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "slurm job 6001 LOST") {
		t.Fatalf("Reattach of a vanished job = %v, want ErrLost", err)
	}
}

func TestReattachWithoutARecordedJob(t *testing.T) {
	v := setup(t)
	_, err := v.r.Reattach(bg, v.e, v.job)
	if !errors.Is(err, ErrNoJob) {
		t.Fatalf("Reattach = %v, want ErrNoJob", err)
	}
	// The loop, which cannot import this package, tells it by method.
	var nj interface{ NoJob() bool }
	if !errors.As(err, &nj) || !nj.NoJob() {
		t.Errorf("Reattach's error %v has no NoJob() true", err)
	}
	if calls := v.c.read("calls"); calls != "" {
		t.Errorf("SLURM asked about no job: %q", calls)
	}
}

func TestReattachRefusesAnotherUsersJob(t *testing.T) {
	v := setup(t)
	other := "1234"
	if uid() == other {
		other = "1235"
	}
	v.c.set("uid", other)
	v.c.squeue("RUNNING|None|gpu-07")
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := v.r.ReattachJob(ctx, "9999", v.job)
	if !errors.Is(err, ErrNotOurs) {
		t.Fatalf("ReattachJob = %v, want ErrNotOurs", err)
	}
	if calls := v.c.calls("scancel"); len(calls) != 0 {
		t.Errorf("cancelled another user's job: %q", calls)
	}
}

func TestReattachJobOfOursCancelsOnStop(t *testing.T) {
	v := setup(t)
	v.c.squeue("PENDING|Priority|")
	v.c.set("state", "PENDING")
	ctx, cancel := context.WithCancel(bg)
	polls := 0
	v.r.Exec = func(c context.Context, name string, args ...string) ([]byte, error) {
		if name == "squeue" {
			if polls++; polls == 2 {
				cancel()
			}
		}
		return defaultExec(c, name, args...)
	}
	res, err := v.r.ReattachJob(ctx, "8080", v.job)
	if err != nil || !res.Stopped {
		t.Fatalf("ReattachJob = %+v, %v; want Stopped", res, err)
	}
	if calls := v.c.calls("scancel"); !slices.Equal(calls, []string{"scancel 8080"}) {
		t.Errorf("scancel calls = %q", calls)
	}
}

func TestCheckSubmitsNothingAndTellsConfigErrors(t *testing.T) {
	v := setup(t)
	if err := v.r.Check(bg, 10*time.Minute); err != nil {
		t.Fatalf("Check: %v", err)
	}
	sb := v.c.calls("sbatch")
	if len(sb) != 1 || !strings.Contains(sb[0], " --test-only ") || !strings.Contains(sb[0], " --partition=gpu ") ||
		!strings.Contains(sb[0], " --gres=gpu:1 ") || !strings.HasSuffix(sb[0], " --wrap=true") {
		t.Errorf("sbatch calls = %q", sb)
	}
	v.c.set("sbatch.err", "sbatch: error: invalid partition specified: gpux\nsbatch: error: Batch job submission failed: Invalid partition name specified\n")
	if err := v.r.Check(bg, 10*time.Minute); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "gpux") {
		t.Errorf("Check with a bad partition = %v, want ErrConfig naming it", err)
	}
}

func TestDetachLeavesTheJobRunning(t *testing.T) {
	v := setup(t)
	shutdown := errors.New("bot restarting")
	v.r.Detach = func(cause error) bool { return errors.Is(cause, shutdown) }
	v.c.squeue("RUNNING|None|gpu-07")
	ctx, cancel := context.WithCancelCause(bg)
	defer cancel(nil)
	polls := 0
	v.r.Exec = func(c context.Context, name string, args ...string) ([]byte, error) {
		if name == "squeue" {
			if polls++; polls == 2 {
				cancel(shutdown)
			}
		}
		return defaultExec(c, name, args...)
	}
	res, err := v.r.Train(ctx, v.job)
	if !errors.Is(err, ErrDetached) || !res.Stopped {
		t.Fatalf("Train = %+v, %v; want Stopped and ErrDetached", res, err)
	}
	var d interface{ Detached() bool }
	if !errors.As(err, &d) || !d.Detached() {
		t.Errorf("Train's error %v has no Detached() true", err)
	}
	var nj interface{ NoJob() bool }
	if errors.As(err, &nj) && nj.NoJob() {
		t.Errorf("a detached job says NoJob")
	}
	if calls := v.c.calls("scancel"); len(calls) != 0 {
		t.Errorf("a detached job was cancelled: %q", calls)
	}
	if j, _ := v.db.SlurmJob(bg, "4242"); !j.FinishedAt.IsZero() || j.State != "RUNNING" {
		t.Errorf("recorded %+v: want it still running, for Reattach", j)
	}
}
