package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestGPUType(t *testing.T) {
	for in, want := range map[string]string{
		"gpu:h100:1(IDX:0)": "h100",
		"cpu=8,mem=64G,node=1,gres/gpu=1,gres/gpu:a100=1": "a100",
		"cpu=1,node=1,billing=1,gres/gpu=2":               "gpu",
		"gres:gpu:1":                                      "gpu",
		"gres:gpu:l40s:2":                                 "l40s",
		"cpu=1,node=1,billing=1":                          "",
		"(null)":                                          "",
		"":                                                "",
	} {
		if got := gpuType(in); got != want {
			t.Errorf("gpuType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSacctTakesTheStepsPeakMemory(t *testing.T) {
	out := "COMPLETED|0:0|00:05:07||gpu-07\nCOMPLETED|0:0|00:05:07|31457280K|gpu-07\nCOMPLETED|0:0|00:05:08|1024K|gpu-07\n"
	info, ok := parseSacct([]byte(out))
	if !ok || info.State != "COMPLETED" || info.ExitCode != "0:0" || info.Elapsed != 5*time.Minute+7*time.Second ||
		info.Node != "gpu-07" || info.MaxRSSMB != 30720 {
		t.Errorf("parseSacct = %+v, %v", info, ok)
	}
	info, _ = parseSacct([]byte("CANCELLED by 1001|0:15|00:00:03||None assigned\n"))
	if info.State != "CANCELLED" || info.Node != "" {
		t.Errorf("parseSacct(cancelled) = %+v", info)
	}
	if _, ok := parseSacct(nil); ok {
		t.Error("parseSacct(empty) ok")
	}
}

func TestParseSqueue(t *testing.T) {
	info, ok := parseSqueue([]byte("PENDING|ReqNodeNotAvail, UnavailableNodes:gpu-[01-02]|\n"))
	if !ok || info.State != "PENDING" || info.Reason != "ReqNodeNotAvail, UnavailableNodes:gpu-[01-02]" || info.Node != "" {
		t.Errorf("parseSqueue = %+v, %v", info, ok)
	}
	info, ok = parseSqueue([]byte("RUNNING|None|gpu-07\n"))
	if !ok || info.State != "RUNNING" || info.Reason != "" || info.Node != "gpu-07" {
		t.Errorf("parseSqueue = %+v, %v", info, ok)
	}
	if _, ok := parseSqueue([]byte("")); ok {
		t.Error("parseSqueue(empty) ok")
	}
	if _, ok := parseSqueue([]byte("slurm_load_jobs error: Invalid job id specified\n")); ok {
		t.Error("parseSqueue(error) ok")
	}
}

func TestDurationsAndSizes(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"00:05:07": 5*time.Minute + 7*time.Second, "1-02:00:00": 26 * time.Hour, "05:07": 5*time.Minute + 7*time.Second, "42": 42 * time.Second,
	} {
		if got, ok := parseSlurmDuration(in); !ok || got != want {
			t.Errorf("parseSlurmDuration(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
	if _, ok := parseSlurmDuration("UNLIMITED"); ok {
		t.Error("parseSlurmDuration(UNLIMITED) ok")
	}
	for in, want := range map[time.Duration]string{
		12 * time.Minute: "0-00:12:00", 10*time.Minute + time.Second: "0-00:11:00", 30 * time.Second: "0-00:01:00",
		25 * time.Hour: "1-01:00:00",
	} {
		if got := formatLimit(in); got != want {
			t.Errorf("formatLimit(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]float64{"2048K": 2, "1.5G": 1536, "300M": 300, "1048576": 1, "": 0, "x": 0} {
		if got := parseMemMB(in); got != want {
			t.Errorf("parseMemMB(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]string{"4242\n": "4242", "sbatch: warning: x\n4243;cluster\n": "4243", "junk": "", "": ""} {
		if got := parseJobID([]byte(in)); got != want {
			t.Errorf("parseJobID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeReason(t *testing.T) {
	if got := DescribeReason("Resources"); !strings.Contains(got, "resources") {
		t.Errorf("DescribeReason(Resources) = %q", got)
	}
	if got := DescribeReason("SomethingNew"); got != "SomethingNew" {
		t.Errorf("DescribeReason(unknown) = %q, want it as is", got)
	}
}

// The batch script refuses to train when the working copy moved to another
// commit between submission and start (a restarted bot resets worktrees).
func TestBatchScriptRefusesAnotherCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	spool := t.TempDir()
	r := &Runner{Command: "echo trained"}
	job := research.TrainJob{Dir: dir, Timeout: time.Minute}
	run := func(commit string) (string, int) {
		path := filepath.Join(spool, "s.sh")
		os.WriteFile(path, []byte(r.batchScript(job, spool, commit)), 0o755)
		cmd := exec.Command("sh", path)
		cmd.Env = append(os.Environ(), "SLURM_JOB_ID=1")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run("0123456789012345678901234567890123456789")
	if code != exitWrongCommit || !strings.Contains(out, "not at the experiment's commit") || strings.Contains(out, "trained") {
		t.Errorf("moved working copy: exit %d, %q", code, out)
	}
	out, code = run(gitHead(dir))
	if code != 0 || !strings.Contains(out, "trained") {
		t.Errorf("right commit: exit %d, %q", code, out)
	}
	if c, _, ok := readExitFile(exitPath(spool, "1")); !ok || c != 0 {
		t.Errorf("exit file: %d %v", c, ok)
	}
	// A working copy missing on the node.
	job.Dir = filepath.Join(dir, "missing")
	out, code = run("")
	if code != exitNoDir || !strings.Contains(out, "--slurm-workdir") {
		t.Errorf("missing dir: exit %d, %q", code, out)
	}
}
