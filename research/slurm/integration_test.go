package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

// The integration tests run against a real SLURM on this host: slurmctld
// and slurmd, munge, no accounting, no GPU; scripts/slurm-setup.sh sets it
// up (.ci/run does). Without it they skip, saying why.

// requireSlurm skips unless a SLURM controller answers and a node is up.
func requireSlurm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	for _, cmd := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("integration: %s is not on PATH; run scripts/slurm-setup.sh (as root) for a single-node SLURM", cmd)
		}
	}
	out, err := exec.Command("scontrol", "ping").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "UP") {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		t.Skipf("integration: slurmctld is not up (scontrol ping: %v: %s); run scripts/slurm-setup.sh (as root)", err, first)
	}
	out, err = exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput()
	if err != nil || !(strings.Contains(string(out), "idle") ||
		strings.Contains(string(out), "mix") || strings.Contains(string(out), "alloc")) {
		t.Skipf("integration: no SLURM node is up (sinfo: %v %s); run scripts/slurm-setup.sh", err, strings.TrimSpace(string(out)))
	}
}

type cluster struct {
	db    *store.DB
	run   research.Run
	dir   string
	spool string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Logger = quiet
	t.Cleanup(func() { db.Close() })
	run, err := db.CreateRun(bg, research.Run{Tag: "it", Branch: "autoresearch/it", RepoDir: "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	shared := t.TempDir()
	// The job runs as this user on the node: make the folders reachable
	// (t.TempDir is 0700 under a root-owned parent when run as root).
	os.Chmod(shared, 0o755)
	dir := filepath.Join(shared, "worktrees", "slurm1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &cluster{db: db, run: run, dir: dir, spool: filepath.Join(shared, "jobs")}
}

func (c *cluster) runner(command string) *Runner {
	return &Runner{Command: command, Name: "autoresearch-it", Slot: "slurm1", SpoolDir: c.spool,
		Poll: 200 * time.Millisecond, Store: c.db, Logger: quiet, Margin: time.Minute}
}

func (c *cluster) experiment(t *testing.T) (research.Experiment, research.TrainJob) {
	t.Helper()
	e, err := c.db.StartExperiment(bg, research.Experiment{RunID: c.run.ID, Kind: research.KindProposal, ParentCommit: "abc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, research.TrainJob{Dir: c.dir, LogPath: filepath.Join(filepath.Dir(c.spool), "logs", fmt.Sprintf("%04d.log", e.Number)),
		Timeout: 5 * time.Minute, Env: []string{"AR_SLOT=slurm1"}}
}

// deadline bounds a test that would otherwise hang on a broken cluster; it
// is a guard, not an assertion about time.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(bg, d)
	t.Cleanup(cancel)
	return ctx
}

// squeueState is what the real squeue says of a job now.
func squeueState(id string) string {
	out, _ := exec.Command("squeue", "-h", "-t", "all", "-j", id, "-o", "%T").CombinedOutput()
	return strings.TrimSpace(string(out))
}

func TestIntegration(t *testing.T) {
	requireSlurm(t)
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	// A secret in the bot's environment must not reach the jobs. (os.Setenv:
	// t.Setenv forbids the parallel subtests; no other test runs meanwhile.)
	old, had := os.LookupEnv("SLACK_BOT_TOKEN")
	os.Setenv("SLACK_BOT_TOKEN", "xoxb-integration")
	t.Cleanup(func() {
		if had {
			os.Setenv("SLACK_BOT_TOKEN", old)
		} else {
			os.Unsetenv("SLACK_BOT_TOKEN")
		}
	})

	t.Run("refused settings", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		if err := c.runner("true").Check(deadline(t, time.Minute), time.Minute); err != nil {
			t.Fatalf("Check of the default settings: %v", err)
		}
		bad := c.runner("true")
		bad.Partition = "gpux"
		_, job := c.experiment(t)
		_, err := bad.Train(deadline(t, time.Minute), job)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "gpux") {
			t.Errorf("Train on partition gpux = %v, want ErrConfig naming it", err)
		}
		bad = c.runner("true")
		bad.GRES = "gpu:1" // this cluster has no GPU
		if err := bad.Check(deadline(t, time.Minute), time.Minute); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "gres") {
			t.Errorf("Check with --gres=gpu:1 = %v, want ErrConfig about the GRES", err)
		}
	})

	t.Run("completes", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		e, job := c.experiment(t)
		var mu sync.Mutex
		var progress []research.Progress
		job.OnProgress = func(p research.Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }
		r := c.runner(`printf 'step 00001 (50.0%%) | loss: 3.5 | remaining: 1s\r'; sleep 1
printf 'step 00002 (100.0%%) | loss: 3.0 | remaining: 0s\n'
echo "slot=$AR_SLOT token=${SLACK_BOT_TOKEN:-absent}"
printf -- '---\nval_bpb:          0.997900\npeak_vram_mb:     0.0\n'`)
		res, err := r.TrainExperiment(deadline(t, 3*time.Minute), e, job)
		if err != nil {
			t.Fatalf("Train: %v", err)
		}
		sum, perr := research.ParseSummary(res.Output)
		if res.ExitCode != 0 || perr != nil || sum.ValBPB != 0.9979 {
			t.Fatalf("result = %+v (%v) output:\n%s", res, perr, res.Output)
		}
		if !strings.Contains(string(res.Output), "slot=slurm1 token=absent") {
			t.Errorf("the job's environment is wrong:\n%s", res.Output)
		}
		if data, _ := os.ReadFile(job.LogPath); string(data) != string(res.Output) {
			t.Errorf("log file = %q", data)
		}
		mu.Lock()
		n := len(progress)
		mu.Unlock()
		if n == 0 {
			t.Error("no progress reported")
		}
		j, err := c.db.SlurmJobOf(bg, e.ID)
		if err != nil || j.State != "COMPLETED" || j.Node == "" || j.GPUType != "" || j.StartedAt.IsZero() {
			t.Errorf("recorded %+v, %v (node %s expected)", j, err, host)
		}
	})

	t.Run("fails", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		_, job := c.experiment(t)
		res, err := c.runner("echo about to fail; exit 3").Train(deadline(t, 3*time.Minute), job)
		var jerr *JobError
		if !errors.As(err, &jerr) || jerr.State != "FAILED" || jerr.Reason != "exit code 3" {
			t.Fatalf("Train = %v, want FAILED with exit code 3", err)
		}
		if res.ExitCode != 3 || !strings.Contains(string(res.Output), "about to fail") {
			t.Errorf("result = %+v %q", res, res.Output)
		}
	})

	t.Run("times out", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		_, job := c.experiment(t)
		job.Timeout = 2 * time.Second
		res, err := c.runner("echo started; sleep 120").Train(deadline(t, 3*time.Minute), job)
		if err != nil || !res.TimedOut {
			t.Fatalf("Train = %+v, %v; want TimedOut (the experiment's budget)", res, err)
		}
	})

	t.Run("SLURM time limit", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		_, job := c.experiment(t)
		r := c.runner("echo started; sleep 600")
		r.ExtraArgs = []string{"--time=1"} // the cluster's limit, shorter than the budget
		res, err := r.Train(deadline(t, 4*time.Minute), job)
		var jerr *JobError
		if !errors.As(err, &jerr) || jerr.State != "TIMEOUT" || !res.TimedOut {
			t.Fatalf("Train = %+v, %v; want the TIMEOUT state", res, err)
		}
	})

	t.Run("stop cancels", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		_, job := c.experiment(t)
		ctx, cancel := context.WithCancel(deadline(t, 3*time.Minute))
		job.OnProgress = func(research.Progress) { cancel() }
		var id string
		r := c.runner(`printf 'step 00001 (1.0%%) | loss: 3.5\n'; sleep 300`)
		r.OnSubmit = func(jobID string, _ research.TrainJob) { id = jobID }
		res, err := r.Train(ctx, job)
		if err != nil || !res.Stopped {
			t.Fatalf("Train = %+v, %v; want Stopped", res, err)
		}
		guard := time.Now().Add(time.Minute)
		for state := squeueState(id); state != "CANCELLED"; state = squeueState(id) {
			if time.Now().After(guard) || state == "" || state == "COMPLETED" || state == "FAILED" {
				t.Fatalf("job %s is %q after the stop, want CANCELLED", id, state)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("restart re-attaches", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t)
		e, job := c.experiment(t)
		command := `printf 'step 00001 (10.0%%) | loss: 3.5\n'; sleep 3; printf -- '---\nval_bpb:          0.990000\n'`
		// The first bot dies (kill -9) right after submitting: it never
		// cancels, its job goes on.
		first := c.runner(command)
		ctx, die := context.WithCancel(deadline(t, 3*time.Minute))
		first.OnSubmit = func(string, research.TrainJob) { die() }
		first.Exec = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			if name == "scancel" {
				return nil, nil
			}
			return defaultExec(ctx, name, args...)
		}
		if _, err := first.TrainExperiment(ctx, e, job); err != nil {
			t.Fatal(err)
		}
		rec, err := c.db.SlurmJobOf(bg, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The restarted bot finds the job in the store and follows it.
		second := c.runner(command)
		res, err := second.Reattach(deadline(t, 3*time.Minute), e, job)
		if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Output), "val_bpb:          0.990000") {
			t.Fatalf("Reattach = %+v, %v", res, err)
		}
		// Finished: a second re-attach reads it once more, nothing runs again.
		res, err = second.Reattach(deadline(t, time.Minute), e, job)
		if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Output), "val_bpb") {
			t.Fatalf("Reattach after the end = %+v, %v", res, err)
		}
		j, _ := c.db.SlurmJobOf(bg, e.ID)
		if j.JobID != rec.JobID || j.State != "COMPLETED" {
			t.Errorf("recorded %+v, want job %s COMPLETED", j, rec.JobID)
		}
	})
}
