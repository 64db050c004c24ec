package trainer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/proctree"
)

// Environment of the helper process: a harness of its own (this test
// binary again), so that the secrets are in its real, initial environment,
// which is what /proc/PID/environ shows (t.Setenv does not change that).
const (
	helperMode    = "TRAINER_HELPER_MODE"
	helperCmd     = "TRAINER_HELPER_CMD"
	helperLog     = "TRAINER_HELPER_LOG"
	helperProcs   = "TRAINER_HELPER_PROCS"
	helperProtect = "TRAINER_HELPER_PROTECT"
)

// TestHarnessHelper is not a test: it is the harness process other tests
// start. It protects itself as main does (unless told not to) and trains
// once.
func TestHarnessHelper(t *testing.T) {
	mode := os.Getenv(helperMode)
	if mode == "" {
		t.Skip("only runs as another test's harness process")
	}
	if os.Getenv(helperProtect) == "1" {
		if err := ProtectHarness(); err != nil {
			t.Fatal(err)
		}
	}
	l := &Local{Isolation: Isolation(mode), Command: os.Getenv(helperCmd), Grace: time.Second}
	res, err := l.Train(context.Background(), research.TrainJob{
		Dir: filepath.Dir(os.Getenv(helperLog)), LogPath: os.Getenv(helperLog),
		ProcsPath: os.Getenv(helperProcs), Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("helper: exit %d\n", res.ExitCode)
}

// helper returns the command that runs TestHarnessHelper.
func helper(t *testing.T, mode Isolation, command, logPath string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHarnessHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperMode+"="+string(mode), helperCmd+"="+command, helperLog+"="+logPath)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// isolations lists the modes this host can test; namespaces only where
// Probe finds them.
func isolations(t *testing.T) []Isolation {
	p := Probe()
	t.Logf("isolation here: %s", p)
	if p.Mode == IsolationNamespaces {
		return []Isolation{IsolationNamespaces, IsolationReaper}
	}
	if p.Mode == IsolationReaper {
		return []Isolation{IsolationReaper}
	}
	t.Skip("no /proc: nothing to test")
	return nil
}

func TestProbeFindsAnIsolation(t *testing.T) {
	p := Probe()
	t.Logf("%s", p)
	if p.Mode == "" || (p.Mode != IsolationNamespaces && (p.Why == "" || p.Hint == "")) {
		t.Fatalf("probe %+v: a weaker mode must say why and how to get namespaces", p)
	}
	if p != Probe() {
		t.Fatal("a second probe answered differently")
	}
}

// A train.py that reads /proc/PPID/environ and its ancestors' (and every
// process it sees) and prints what it finds must never print a secret of
// the harness; with namespaces, not one of the harness's ancestors either.
// Run as root, the harness is also tried as an unprivileged user (nobody):
// that is where the fallback's non-dumpable flag is what protects it, and
// where namespaces need a user namespace.
func TestHostileTrainerCannotReadSecretsThroughProc(t *testing.T) {
	py := python(t)
	script, err := filepath.Abs("testdata/read_parent_environ.py")
	if err != nil {
		t.Fatal(err)
	}
	harnessSecret := fmt.Sprintf("xoxb-harness-%d", time.Now().UnixNano())
	ancestorSecret := fmt.Sprintf("hf-ancestor-%d", time.Now().UnixNano())
	type setup struct {
		mode                         Isolation
		protect, viaAncestor, nobody bool
	}
	run := func(t *testing.T, s setup) string {
		dir := t.TempDir()
		bin, command := os.Args[0], py+" "+script
		if s.nobody {
			bin, command = nobodyCopies(t, dir, script)
		}
		logPath := filepath.Join(dir, "train.log")
		cmd := helper(t, s.mode, command, logPath, "SLACK_BOT_TOKEN="+harnessSecret)
		cmd.Path, cmd.Args[0] = bin, bin
		if s.protect {
			cmd.Env = append(cmd.Env, helperProtect+"=1")
		}
		if s.viaAncestor {
			// A shell that stays the helper's parent and holds a secret of
			// its own, as tini holds --env-file secrets in Docker.
			args := append([]string{"sh", "-c", `"$@"; echo ancestor done`, "sh"}, cmd.Args...)
			cmd = &exec.Cmd{Path: "/bin/sh", Args: args, Env: append(cmd.Env, "HF_TOKEN="+ancestorSecret)}
		}
		if s.nobody {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("harness: %v\n%s", err, out)
		}
		log, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(log), "environ of ancestor-0") || !strings.Contains(string(log), "hostile scan done") {
			t.Fatalf("the hostile script did not run its scan:\n%s", log)
		}
		return string(log)
	}
	check := func(t *testing.T, log string, ancestorsToo bool) {
		t.Logf("what the hostile script saw:\n%s", firstLines(log, 12))
		if strings.Contains(log, harnessSecret) {
			t.Errorf("the harness's secret reached the log")
		}
		if ancestorsToo && strings.Contains(log, ancestorSecret) {
			t.Errorf("an ancestor's secret reached the log")
		}
	}
	root := os.Geteuid() == 0
	for _, mode := range isolations(t) {
		// Only namespaces hide the ancestors; the other modes protect the
		// harness itself, and only from a trainer that is not root.
		ns := mode == IsolationNamespaces
		if ns || !root {
			t.Run(string(mode), func(t *testing.T) {
				check(t, run(t, setup{mode: mode, protect: true, viaAncestor: ns}), ns)
			})
		}
		if root {
			t.Run(string(mode)+"/unprivileged", func(t *testing.T) {
				check(t, run(t, setup{mode: mode, protect: true, viaAncestor: ns, nobody: true}), ns)
			})
		}
	}
	// The same script against a harness that is not protected: it must
	// find the secret, or the tests above prove nothing.
	t.Run("control: unprotected harness", func(t *testing.T) {
		log := run(t, setup{mode: IsolationNone, nobody: root})
		if !strings.Contains(log, harnessSecret) {
			t.Fatalf("the hostile script cannot even read an unprotected harness:\n%s", firstLines(log, 12))
		}
	})
}

// nobodyCopies puts copies of this test binary and of script where the
// user nobody can run them (dir, made world-writable for the log) and
// returns the binary and the train command.
func nobodyCopies(t *testing.T, dir, script string) (bin, command string) {
	t.Helper()
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no system python3 that nobody can run")
	}
	bin = nobodyBinary(t, dir)
	copyFile(t, script, filepath.Join(dir, "train.py"), 0o644)
	return bin, py + " " + filepath.Join(dir, "train.py")
}

// nobodyBinary copies this test binary into dir, opened to everyone.
func nobodyBinary(t *testing.T, dir string) string {
	t.Helper()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if d == os.TempDir() {
			break
		}
		_ = os.Chmod(d, 0o777|os.ModeSticky)
	}
	bin := filepath.Join(dir, "harness.test")
	copyFile(t, os.Args[0], bin, 0o755)
	return bin
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// markerPids finds, in this process's /proc (outside any namespace of the
// trainer), the live grandchildren of setsid_grandchild.py started with
// marker.
func markerPids(marker string) []int {
	marker += "-grandchild"
	var pids []int
	procs, _ := proctree.All()
	for _, p := range procs {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
		if err == nil && !p.Dead() && strings.Contains(string(b), marker) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

func newMarker(t *testing.T) string {
	marker := fmt.Sprintf("escapee-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		for _, pid := range markerPids(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return marker
}

// A grandchild that called setsid (it left the trainer's process group
// and session) ends with the experiment: when the trainer exits, and when
// the experiment is stopped.
func TestSetsidGrandchildEndsWithExperiment(t *testing.T) {
	py := python(t)
	script, _ := filepath.Abs("testdata/setsid_grandchild.py")
	for _, mode := range isolations(t) {
		for _, then := range []string{"exit", "hang"} {
			t.Run(string(mode)+"/"+then, func(t *testing.T) {
				marker := newMarker(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var sawEscapee bool
				l := &Local{Isolation: mode, Command: py + " " + script + " " + marker + " " + then,
					Grace: time.Second, StopGrace: time.Second, Logger: testLogger(t)}
				var res research.TrainResult
				var err error
				deadline(t, func() {
					res, err = l.Train(ctx, research.TrainJob{Dir: t.TempDir(), Timeout: time.Minute,
						OnProgress: func(research.Progress) {
							sawEscapee = len(markerPids(marker)) > 0
							if then == "hang" {
								cancel()
							}
						}})
				})
				if err != nil {
					t.Fatal(err)
				}
				if !sawEscapee {
					t.Fatalf("the grandchild never ran; output:\n%s", res.Output)
				}
				if left := markerPids(marker); len(left) > 0 {
					t.Fatalf("the setsid grandchild %v outlived the experiment (%+v)\n%s", left, res, res.Output)
				}
				t.Logf("%s: Train returned after %v, escapee gone", then, res.Duration.Round(time.Millisecond))
			})
		}
	}
}

// After kill -9 of the harness the experiment's processes run on; the
// record of their pids and start times lets the next start end them all,
// the setsid grandchild included.
func TestSetsidGrandchildEndedAfterRestart(t *testing.T) {
	py := python(t)
	script, _ := filepath.Abs("testdata/setsid_grandchild.py")
	for _, mode := range isolations(t) {
		t.Run(string(mode), func(t *testing.T) {
			marker := newMarker(t)
			dir := t.TempDir()
			procsPath := filepath.Join(dir, "trainer-gpu0.procs")
			cmd := helper(t, mode, py+" "+script+" "+marker+" hang", filepath.Join(dir, "train.log"), helperProcs+"="+procsPath)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			escapee := waitRecorded(t, marker, procsPath)
			// kill -9 of the harness: nobody ends the experiment now.
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if !proctree.Alive(escapee) {
				t.Fatal("the escapee died with the harness: this test proves nothing here")
			}
			began := time.Now()
			killed, err := proctree.EndRecorded(procsPath, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if left := markerPids(marker); len(left) > 0 {
				t.Fatalf("the setsid grandchild %v survived the restart's cleanup (killed %v)", left, killed)
			}
			if _, err := os.Stat(procsPath); err == nil {
				t.Error("the record was not removed")
			}
			t.Logf("restart ended %d processes in %v", len(killed), time.Since(began).Round(time.Millisecond))
		})
	}
}

// waitRecorded waits until the process with marker runs and is listed in
// the record, and returns it.
func waitRecorded(t *testing.T, marker, procsPath string) proctree.Proc {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		recorded, _ := proctree.ReadRecord(procsPath)
		for _, pid := range markerPids(marker) {
			for _, r := range recorded {
				if r.PID == pid {
					if p, err := proctree.Stat(pid); err == nil && p.StartTime == r.StartTime {
						return p
					}
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the escapee never showed up in %s", procsPath)
	return proctree.Proc{}
}

// On a GPU host the trainer in its own namespaces still sees and uses the
// GPU: the device nodes are the host's, and the fresh /proc has the
// driver's entries. As root, also as an unprivileged user (user namespace).
func TestGPUVisibleInNamespaces(t *testing.T) {
	if _, err := os.Stat("/dev/nvidiactl"); err != nil {
		t.Skip("no NVIDIA GPU here")
	}
	if p := Probe(); p.Mode != IsolationNamespaces {
		t.Skipf("no namespaces here: %s", p)
	}
	smi, err := exec.LookPath("nvidia-smi")
	if err != nil {
		t.Skip("no nvidia-smi")
	}
	command := "ls /dev/nvidia*; cat /proc/driver/nvidia/version; " + smi + " -L; echo processes seen: $(ls /proc | grep -c '^[0-9]')"
	check := func(t *testing.T, out string) {
		t.Logf("inside the namespaces:\n%s", out)
		if !strings.Contains(out, "/dev/nvidiactl") || !strings.Contains(out, "GPU 0:") {
			t.Fatalf("the GPU is not usable inside the namespaces")
		}
	}
	t.Run("as this user", func(t *testing.T) {
		l := &Local{Isolation: IsolationNamespaces, Command: command, Logger: testLogger(t)}
		res, err := l.Train(context.Background(), research.TrainJob{Dir: t.TempDir(), Timeout: time.Minute})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v %+v\n%s", err, res, res.Output)
		}
		check(t, string(res.Output))
	})
	if os.Geteuid() != 0 {
		return
	}
	t.Run("as nobody", func(t *testing.T) {
		dir := t.TempDir()
		bin := nobodyBinary(t, dir)
		logPath := filepath.Join(dir, "train.log")
		cmd := helper(t, IsolationNamespaces, command, logPath)
		cmd.Path, cmd.Args[0] = bin, bin
		cmd.Env = append(cmd.Env, helperProtect+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("harness: %v\n%s", err, out)
		}
		log, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		check(t, string(log))
	})
}
