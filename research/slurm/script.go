package slurm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Exit codes of the batch script itself, before the train command runs.
const (
	exitNoDir       = 96 // the working copy is not there on the node
	exitWrongCommit = 97 // the working copy moved to another commit before the job started
	// exitTimeout is timeout(1)'s status when it ended the command.
	exitTimeout = 124
)

// killAfter is how long timeout(1) waits after SIGTERM before SIGKILL.
const killAfter = 10 * time.Second

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quote makes s one shell word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exitPath is where the batch script writes the train command's status;
// it tells how a job ended when the controller has forgotten it and there
// is no accounting.
func exitPath(spool, jobID string) string {
	return filepath.Join(spool, "job-"+jobID+".exit")
}

func outPath(spool, jobID string) string {
	return filepath.Join(spool, "job-"+jobID+".out")
}

// batchScript is the script sbatch runs on the compute node: into the
// working copy, refuse to train another commit than the experiment's,
// export the slot's environment (secrets dropped), run the command under
// timeout(1) so the experiment's budget holds as it does locally, and
// leave the exit status next to the output.
func (r *Runner) batchScript(job research.TrainJob, spool, commit string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# Written by autoresearch (research/slurm) for one experiment. SLURM runs it\n")
	b.WriteString("# on the compute node; its output is the experiment's training log.\n")
	fmt.Fprintf(&b, "cd %s || { echo \"autoresearch: cannot enter %s on $(uname -n): is it on a filesystem the node shares? (--slurm-workdir)\"; exit %d; }\n",
		quote(job.Dir), job.Dir, exitNoDir)
	fmt.Fprintf(&b, "expected=%s\n", quote(commit))
	b.WriteString(`if [ -n "$expected" ] && command -v git >/dev/null 2>&1; then
  head=$(git rev-parse HEAD 2>/dev/null || true)
  if [ -n "$head" ] && [ "$head" != "$expected" ]; then
    echo "autoresearch: the working copy is at $head, not at the experiment's commit $expected; not training"
`)
	fmt.Fprintf(&b, "    exit %d\n  fi\nfi\n", exitWrongCommit)
	b.WriteString("export PYTHONUNBUFFERED=1\n")
	for _, kv := range trainer.ScrubEnv(job.Env) {
		k, v, _ := strings.Cut(kv, "=")
		if !envKeyRE.MatchString(k) {
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", k, quote(v))
	}
	fmt.Fprintf(&b, "exitfile=%s'/job-'\"$SLURM_JOB_ID\"'.exit'\n", quote(spool))
	secs := int64(job.Timeout / time.Second)
	if job.Timeout > 0 && secs == 0 {
		secs = 1
	}
	cmd := quote(r.command())
	fmt.Fprintf(&b, "limit=%d\n", secs)
	b.WriteString("start=$(date +%s)\n")
	b.WriteString(`if [ "$limit" -gt 0 ] && command -v timeout >/dev/null 2>&1; then` + "\n")
	fmt.Fprintf(&b, "  timeout --kill-after=%d \"$limit\" %s -c %s\n", int(killAfter/time.Second), quote(r.shell()), cmd)
	b.WriteString("else\n")
	fmt.Fprintf(&b, "  %s -c %s\n", quote(r.shell()), cmd)
	b.WriteString("fi\n")
	b.WriteString(`code=$?
note=""
if [ "$limit" -gt 0 ] && { [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; } && [ $(( $(date +%s) - start )) -ge "$limit" ]; then
  note=" timeout"
fi
echo "$code$note" > "$exitfile"
exit "$code"
`)
	return b.String()
}

// writeScript writes the batch script into the spool directory.
func (r *Runner) writeScript(job research.TrainJob, spool string) (string, error) {
	commit := gitHead(job.Dir)
	f, err := os.CreateTemp(spool, "submit-*.sh")
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(r.batchScript(job, spool, commit)); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Chmod(0o755); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// gitHead is the commit the working copy is at, "" when it is not a git
// working copy (the script then skips its check).
func gitHead(dir string) string {
	out, err := exec.Command("git", "-c", "core.hooksPath=/dev/null", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// readExitFile reads what the batch script left: the exit status and
// whether timeout(1) ended the command. ok is false when there is no file.
func readExitFile(path string) (code int, timedOut, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false, false
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, false, false
	}
	code, err = strconv.Atoi(fields[0])
	if err != nil {
		return 0, false, false
	}
	return code, len(fields) > 1 && fields[1] == "timeout", true
}
