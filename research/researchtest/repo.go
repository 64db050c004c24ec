// Package researchtest builds small research repositories laid out like
// karpathy/autoresearch for tests: real git, a python3 train.py that prints
// the upstream summary, an ignored .venv and untracked files.
package researchtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TrainPy is a fake trainer: it prints \r-joined progress and the summary
// with val_bpb = VAL - BONUS (plus the Nth number of a file OFFSETS on its
// Nth run, for seeded noise); CRASH != 0 makes it fail; SLEEP seconds slow it down;
// NAN != 0 prints nan; WAIT_FOR and ALSO_WAIT_FOR name files (in the control dir) it waits for
// before printing its result, so tests order trainings by events, not sleeps; a file BROKEN makes every run fail (a broken setup); a file HANG_ON_RUN holding N makes the Nth and later runs hang for 2 minutes, after writing their pid to HANGING. It writes its environment to $ENV_DUMP when set.
const TrainPy = `import os, sys, time
from prepare import EVAL_TOKENS
WAIT_FOR = ""
VAL = 1.500000
BONUS = 0.0
SEED = 0
CRASH = 0
SLEEP = 0
NAN = 0
STEPS = 4
if os.environ.get("ENV_DUMP"):
    with open(os.environ["ENV_DUMP"], "w") as f:
        for k in sorted(os.environ):
            f.write(k + "\n")
ALSO_WAIT_FOR = ""
# Control files live in the repo, or in $RESEARCHTEST_DIR when the trainer
# runs in a worker's worktree.
ctl = os.environ.get("RESEARCHTEST_DIR", ".")
hang, offs, count = (os.path.join(ctl, n) for n in ("HANG_ON_RUN", "OFFSETS", "runs.count"))
if os.path.exists(os.path.join(ctl, "BROKEN")):
    print("FileNotFoundError: ~/.cache/autoresearch/data (fake)", file=sys.stderr)
    sys.exit(3)
run_number = 0
if os.path.exists(hang) or os.path.exists(offs):
    run_number = int(open(count).read()) + 1 if os.path.exists(count) else 1
    open(count, "w").write(str(run_number))
if os.path.exists(hang) and run_number >= int(open(hang).read()):
    open(os.path.join(ctl, "HANGING"), "w").write(str(os.getpid()))
    time.sleep(120)
offset = 0.0
if os.path.exists(offs):
    offsets = [float(x) for x in open(offs).read().split()]
    offset = offsets[(run_number - 1) % len(offsets)]
result = VAL - BONUS + offset
for i in range(1, STEPS + 1):
    print("step %05d (%.1f%%) | loss: %.6f | remaining: %ds" % (i, 100.0 * i / STEPS, VAL + 1, STEPS - i), end="\r", flush=True)
    time.sleep(SLEEP / STEPS)
print()
for gate in (WAIT_FOR, ALSO_WAIT_FOR):
    waited = 0
    while gate and not os.path.exists(os.path.join(ctl, gate)) and waited < 6000:
        time.sleep(0.02)
        waited += 1
if CRASH:
    print("Traceback (most recent call last):\nRuntimeError: CUDA out of memory (fake)", file=sys.stderr)
    sys.exit(1)
print("---")
print("val_bpb:          %s" % ("nan" if NAN else "%.6f" % result))
print("training_seconds: 300.1")
print("total_seconds:    325.9")
print("peak_vram_mb:     45060.2")
print("mfu_percent:      39.80")
print("total_tokens_M:   499.6")
print("num_steps:        953")
print("num_params_M:     50.3")
print("depth:            8")
`

// PreparePy is the read-only module train.py imports.
const PreparePy = "EVAL_TOKENS = 1000\n"

// ProgramMd is the human's research instructions.
const ProgramMd = "# program\nLower val_bpb. Try one idea at a time.\n"

// New creates a committed research repo on branch main, with an ignored
// .venv holding a few files and an untracked notes.txt.
func New(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"train.py":   TrainPy,
		"prepare.py": PreparePy,
		"program.md": ProgramMd,
		".gitignore": ".venv/\n__pycache__/\n",
	}
	for name, content := range files {
		Write(t, dir, name, content)
	}
	Git(t, dir, "init", "-q", "-b", "main")
	Git(t, dir, "add", ".")
	Git(t, dir, "commit", "-q", "-m", "initial")
	for i := 0; i < 3; i++ {
		Write(t, dir, fmt.Sprintf(".venv/lib/pkg%d.py", i), "x = 1\n")
	}
	Write(t, dir, "notes.txt", "untracked notes\n")
	return dir
}

// Write writes a file under dir, creating parent directories.
func Write(t testing.TB, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Read returns a file's content under dir.
func Read(t testing.TB, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Git runs the git CLI in dir and returns its trimmed output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

var constLine = regexp.MustCompile(`(?m)^([A-Z_]+) = .*$`)

// SetConst rewrites `NAME = ...` in train.py under dir.
func SetConst(t testing.TB, dir, name, value string) {
	t.Helper()
	src := Read(t, dir, "train.py")
	found := false
	out := constLine.ReplaceAllStringFunc(src, func(line string) string {
		if strings.HasPrefix(line, name+" = ") {
			found = true
			return name + " = " + value
		}
		return line
	})
	if !found {
		t.Fatalf("train.py has no constant %s", name)
	}
	Write(t, dir, "train.py", out)
}
