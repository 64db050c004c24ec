// Package bench is `autoresearch bench`: it runs the real loop on a
// simulated trainer and LLM and measures it. Run runs the scenarios
// (scenario_*.go: occupancy on one and several slots, conflicting
// proposals, history scaling, early stopping on a loss landscape, a big
// tree against the git CLI) and Report.Print shows them. The parts they
// are built from: a research repository with a simulated trainer and a
// uv-sized .venv, a fake OpenAI-compatible chat-completions server that
// edits train.py through the real tool protocol, a Trainer wrapper that
// records when every training process ran, and the figures computed from
// those records. The store, the terminal observer and the binary's own
// subcommands come from cmd through Wiring: this package links neither
// SQLite nor the chat side.
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Constants is how many tunable constants (K0..K7) the simulated train.py
// has; the fake model edits them round-robin. They are Spacing lines apart
// so that a change to one never touches the 3 context lines of a change to
// another: a pipelined proposal made before a keep re-applies cleanly.
const (
	Constants = 8
	Spacing   = 8
	// StampEnv names the file the simulated trainer writes its own start and
	// end times to (Unix seconds, "START END\n").
	StampEnv = "BENCH_STAMP"
	// Target is the value of every K at which val_bpb is lowest.
	Target = 3.0
	// Start is every K's value in the initial train.py.
	Start = 5.0
)

// TrainPy returns the simulated trainer: it records its start time first
// thing, sleeps trainSeconds while printing \r-joined progress lines, prints
// the summary block with val_bpb = 1 + 0.001*sum((K-3)^2) plus a small noise
// seeded by the constants (so the same train.py always gives the same
// result), and records its end time last thing.
func TrainPy(trainSeconds float64) string {
	return trainPy(RepoOptions{TrainSeconds: trainSeconds})
}

func trainPy(opts RepoOptions) string {
	trainSeconds := opts.TrainSeconds
	var b strings.Builder
	b.WriteString(`import os, sys, time
T0 = time.time()
SLEEP = ` + fmt.Sprintf("%.3f", trainSeconds) + `
STEPS = 10
TARGET = ` + fmt.Sprintf("%.1f", Target) + `
# The constants below are what the bench's fake model tunes.
`)
	for i := 0; i < Constants; i++ {
		fmt.Fprintf(&b, "K%d = %.4f\n", i, Start)
		for j := 1; j < Spacing; j++ {
			fmt.Fprintf(&b, "# (K%d spacing %d)\n", i, j)
		}
	}
	b.WriteString("KS = [" + kList() + `]

def evaluate_bpb(ks):
    seed = 0
    for i, k in enumerate(ks):
        seed = (seed * 1000003 + int(round(k * 10000)) + i) % 4294967296
    noise = ((seed * 2654435761) % 4294967296) / 4294967296.0 - 0.5
    return 1.0 + 0.001 * sum((k - TARGET) ** 2 for k in ks) + 0.0004 * noise

for step in range(1, STEPS + 1):
    time.sleep(SLEEP / STEPS)
    print("step %05d (%.1f%%) | loss: %.6f | remaining: %ds" % (step, 100.0 * step / STEPS, 3.0, int(SLEEP * (STEPS - step) / STEPS)), end="\r", flush=True)
print()
val_bpb = evaluate_bpb(KS)
RUNS = ` + pyString(opts.ImprovingRuns) + `
if RUNS:
    # Every run beats the one before it: each experiment is kept.
    run = int(open(RUNS).read()) + 1 if os.path.exists(RUNS) else 1
    with open(RUNS, "w") as f:
        f.write(str(run))
    val_bpb = 1.0 - 0.0005 * run
print("---")
print("val_bpb:          %.6f" % val_bpb)
print("training_seconds: %.1f" % SLEEP)
print("total_seconds:    %.1f" % (time.time() - T0))
print("peak_vram_mb:     1024.0")
print("mfu_percent:      0.00")
print("total_tokens_M:   1.0")
print("num_steps:        %d" % STEPS)
print("num_params_M:     1.0")
print("depth:            1")
sys.stdout.flush()
stamp = os.environ.get("` + StampEnv + `")
if stamp:
    with open(stamp, "w") as f:
        f.write("%.6f %.6f\n" % (T0, time.time()))
`)
	return b.String()
}

// pyString quotes s as a Python string literal (JSON's escapes are
// Python's for the paths it holds).
func pyString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func kList() string {
	names := make([]string, Constants)
	for i := range names {
		names[i] = fmt.Sprintf("K%d", i)
	}
	return strings.Join(names, ", ")
}

// PreparePy is the read-only file of the bench repository.
const PreparePy = "# read-only: data, tokenizer and evaluation live here upstream\nEVAL_TOKENS = 1000\n"

// ProgramMd is the research program of the bench repository.
const ProgramMd = "# program\nLower val_bpb by tuning the constants K0..K7 of train.py, one at a time.\n"

// RepoOptions shape NewRepo.
type RepoOptions struct {
	TrainSeconds float64 // how long each simulated training run sleeps
	VenvFiles    int     // files in the ignored .venv
	// Python is the interpreter the .venv runs: its bin/python links to it
	// and the simulated trainer runs as `.venv/bin/python train.py`, as
	// `uv run train.py` does. Empty: the .venv has no interpreter.
	Python string
	// ImprovingRuns, when set, is a file (outside the repository) the
	// trainer counts its runs in; val_bpb then falls with every run, so
	// every experiment is kept (the conflict scenario).
	ImprovingRuns string
}

// NewRepo creates a research repository in dir (which must be empty or
// absent): prepare.py, program.md and the simulated train.py committed on
// branch main, and an ignored .venv holding opts.VenvFiles small files laid
// out like a uv environment, with opts.Python as its interpreter.
func NewRepo(dir string, opts RepoOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"train.py":   trainPy(opts),
		"prepare.py": PreparePy,
		"program.md": ProgramMd,
		".gitignore": ".venv/\n__pycache__/\n",
	}
	if err := commitInitial(dir, files); err != nil {
		return err
	}
	return MakeVenv(filepath.Join(dir, ".venv"), opts.VenvFiles, opts.Python)
}

// commitInitial writes files into dir and commits them as the first
// commit of branch main.
func commitInitial(dir string, files map[string]string) error {
	names := make([]string, 0, len(files))
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		append([]string{"add", "--"}, names...),
		{"commit", "-q", "-m", "initial"},
	} {
		if err := git(dir, args...); err != nil {
			return err
		}
	}
	return nil
}

// inParallel calls f(0) .. f(n-1) on four goroutines and returns the first
// error (the others still run to the end).
func inParallel(n int, f func(i int) error) error {
	jobs := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// Git runs git in dir with a fixed identity (no system config).
func Git(dir string, args ...string) error { return git(dir, args...) }

func git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@localhost",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@localhost", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// venvPerDir is how many files go into one package directory of the .venv.
const venvPerDir = 100

// MakeVenv creates a virtual environment in dir as uv lays one out:
// pyvenv.cfg, bin/python linked to python (when given), and n small files
// in all (pyvenv.cfg included) under lib/pythonX.Y/site-packages/pkgNNNN/,
// written by a few writers at once.
//
// A real environment matters to the figures: its interpreter does not read
// the base installation's site-packages, whose .pth files can cost a
// hundred milliseconds per start on a developer's machine, and a GPU host
// trains with the project's environment, not the system's python3.
func MakeVenv(dir string, n int, python string) error {
	if n <= 0 && python == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return err
	}
	home, version, xy := "/usr/bin", "3.12.0", "3.12"
	if python != "" {
		var err error
		if version, xy, err = pythonVersion(python); err != nil {
			return err
		}
		home = filepath.Dir(python)
		for _, name := range []string{"python", "python3"} {
			if err := os.Symlink(python, filepath.Join(dir, "bin", name)); err != nil {
				return err
			}
		}
	}
	cfg := fmt.Sprintf("home = %s\ninclude-system-site-packages = false\nversion = %s\n", home, version)
	if err := os.WriteFile(filepath.Join(dir, "pyvenv.cfg"), []byte(cfg), 0o644); err != nil {
		return err
	}
	site := filepath.Join(dir, "lib", "python"+xy, "site-packages")
	if err := os.MkdirAll(site, 0o755); err != nil {
		return err
	}
	n-- // pyvenv.cfg is one of the n
	dirs := (n + venvPerDir - 1) / venvPerDir
	return inParallel(max(dirs, 0), func(d int) error {
		return writePackage(site, d, min(venvPerDir, n-d*venvPerDir))
	})
}

// VenvPython is the interpreter of repo's .venv (MakeVenv with a python).
func VenvPython(repo string) string { return filepath.Join(repo, ".venv", "bin", "python") }

// pythonVersion asks python for its version: "3.11.7" and "3.11".
func pythonVersion(python string) (full, xy string, err error) {
	out, err := exec.Command(python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		return "", "", fmt.Errorf("asking %s for its version: %w", python, err)
	}
	full = strings.TrimSpace(string(out))
	parts := strings.Split(full, ".")
	if len(parts) != 3 {
		return "", "", fmt.Errorf("%s says its version is %q", python, full)
	}
	return full, parts[0] + "." + parts[1], nil
}

func writePackage(site string, d, files int) error {
	pkg := filepath.Join(site, fmt.Sprintf("pkg%04d", d))
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		return err
	}
	content := []byte(fmt.Sprintf("# package %d\nVALUE = %d\n", d, d))
	for f := 0; f < files; f++ {
		if err := os.WriteFile(filepath.Join(pkg, fmt.Sprintf("mod%02d.py", f)), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CountFiles counts the regular files under dir (for checks of MakeVenv).
func CountFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n, err
}
