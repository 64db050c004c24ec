package trainer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research/proctree"
)

// Isolation is how far the training process is kept from the harness.
// train.py is code a model wrote: it must not read the environment or the
// memory of the harness (Slack and LLM tokens) or of the harness's
// ancestors (in Docker, PID 1 holds every --env-file secret), nor leave
// processes behind.
type Isolation string

const (
	// IsolationNamespaces: the command runs in new PID and mount namespaces
	// (and a user namespace when not root) under a shim that is their PID 1,
	// with a fresh /proc: no process of the host, ours included, is visible,
	// and when the shim ends the kernel ends everything inside. Device nodes
	// (/dev/nvidia*) and the file system are the same as outside.
	IsolationNamespaces Isolation = "namespaces"
	// IsolationReaper: the command runs under a shim that is a child
	// subreaper, so orphans (setsid, double fork) stay below it and end with
	// the experiment. The harness is non-dumpable, so the trainer cannot
	// read its /proc/PID/environ or memory; the harness's ancestors stay
	// readable to a process of the same user.
	IsolationReaper Isolation = "reaper"
	// IsolationNone: the command runs directly in its own process group;
	// only the harness's non-dumpable flag protects it.
	IsolationNone Isolation = "none"
)

// ProbeResult says which isolation this host allows, and when it is not the
// strongest, why not and how to get it.
type ProbeResult struct {
	Mode Isolation
	Why  string // why namespaces are not available ("" when they are)
	Hint string // what to change to get namespaces ("" when in effect)
}

// String is one line for the run header and doctor.
func (p ProbeResult) String() string {
	switch p.Mode {
	case IsolationNamespaces:
		return "namespaces: the trainer runs in its own PID and mount namespaces with a fresh /proc; it cannot see the harness or its ancestors"
	case IsolationReaper:
		return fmt.Sprintf("reaper: no namespaces (%s); the harness is non-dumpable and every descendant of the trainer is ended with it, but processes above the harness (e.g. a container's PID 1) stay readable to it. %s", p.Why, p.Hint)
	default:
		return fmt.Sprintf("none: %s; only the harness's non-dumpable flag keeps the trainer from its secrets. %s", p.Why, p.Hint)
	}
}

var (
	probeOnce   sync.Once
	probeResult ProbeResult
)

// Probe finds the strongest isolation this host allows, once per process:
// it starts the shim in new namespaces, which mounts a fresh /proc and
// exits. It takes a few milliseconds.
func Probe() ProbeResult {
	probeOnce.Do(func() { probeResult = probe() })
	return probeResult
}

func probe() ProbeResult {
	if !shimHooked.Load() {
		return ProbeResult{Mode: IsolationNone, Why: "this program does not start the trainer shim (trainer.RunShimIfRequested is not called first in main)"}
	}
	exe, err := os.Executable()
	if err != nil {
		return ProbeResult{Mode: IsolationNone, Why: "cannot find our own executable: " + err.Error()}
	}
	why := probeNamespaces(exe)
	if why == "" {
		return ProbeResult{Mode: IsolationNamespaces}
	}
	hint := namespaceHint()
	if _, err := proctree.All(); err != nil {
		return ProbeResult{Mode: IsolationNone, Why: why + "; " + err.Error(), Hint: hint}
	}
	return ProbeResult{Mode: IsolationReaper, Why: why, Hint: hint}
}

// probeNamespaces starts the shim in probe mode inside new namespaces; ""
// means it worked.
func probeNamespaces(exe string) string {
	cmd := exec.Command(exe)
	cmd.Args = []string{shimArg0}
	cmd.Env = []string{shimEnv + "=" + shimProbe}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = shimAttr(IsolationNamespaces)
	if cmd.SysProcAttr == nil {
		return "namespaces need Linux"
	}
	if err := startCmd(cmd); err != nil {
		return "creating namespaces: " + err.Error()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return msg
		}
		return ""
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return "the namespace probe did not answer within 10s"
	}
}

// namespaceHint says what typically keeps namespaces from working here.
func namespaceHint() string {
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return strings.TrimSpace(string(b))
	}
	switch {
	case inContainer():
		return "For namespaces in Docker run the container with " + DockerNamespaceOpts +
			" (Docker's default seccomp profile refuses new user namespaces, its AppArmor profile refuses mount, and its masked /proc paths forbid mounting a fresh /proc)."
	case read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
		return "For namespaces allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 (or run as root)."
	case read("/proc/sys/user/max_user_namespaces") == "0":
		return "For namespaces allow user namespaces: sysctl user.max_user_namespaces=15000 (or run as root)."
	case read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
		return "For namespaces lift AppArmor's user-namespace restriction: sysctl kernel.apparmor_restrict_unprivileged_userns=0, or give the binary an AppArmor profile with `userns,` (or run as root)."
	default:
		return "For namespaces allow unprivileged user namespaces (or run as root)."
	}
}

// DockerNamespaceOpts are the docker run options that let the trainer get
// its own namespaces inside a container.
const DockerNamespaceOpts = "--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined"

func inContainer() bool {
	if _, err := os.Stat("/.dockerenv"); err == nil {
		return true
	}
	if _, err := os.Stat("/run/.containerenv"); err == nil {
		return true
	}
	b, _ := os.ReadFile("/proc/1/cgroup")
	return bytes.Contains(b, []byte("docker")) || bytes.Contains(b, []byte("containerd")) || bytes.Contains(b, []byte("kubepods"))
}

// ProtectHarness makes this process non-dumpable, so a training process of
// the same user cannot read /proc/OURPID/environ (the Slack and LLM tokens)
// or our memory, whatever the isolation. Call it early in main; core dumps
// of the harness are off from then on.
func ProtectHarness() error {
	return proctree.SetNotDumpable()
}
