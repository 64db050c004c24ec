package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

var testAuthor = research.Signature{Name: "Auto Researcher", Email: "bot@example.com"}

// isolateGit keeps the user's git config (global excludes, hooks, signing)
// out of the tests, for both the git CLI and our own global-excludes lookup.
func isolateGit(t testing.TB) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_AUTHOR_NAME", "Tester")
	t.Setenv("GIT_AUTHOR_EMAIL", "tester@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "Tester")
	t.Setenv("GIT_COMMITTER_EMAIL", "tester@example.com")
}

// git runs the git CLI in dir and returns its stdout; failure ends the test.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

func writeFile(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	trainV1 = "import torch\nlr = 0.01\ndepth = 8\nprint('train')\n"
	trainV2 = "import torch\nlr = 0.02\ndepth = 12\nprint('train')\n"
)

// researchRepo builds a repository shaped like Karpathy's autoresearch: the
// tracked prepare.py, train.py, program.md, an executable run.sh and a
// .gitignore for .venv/, plus the files a run leaves around it: untracked
// results.tsv and run.log, ignored .venv files and the state dir.
func researchRepo(t testing.TB) (string, *Repo) {
	t.Helper()
	isolateGit(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "prepare.py", "# read-only data prep\n")
	writeFile(t, dir, "train.py", trainV1)
	writeFile(t, dir, "program.md", "# program\nmake val_bpb small\n")
	writeFile(t, dir, "run.sh", "#!/bin/sh\nuv run train.py\n")
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ".gitignore", ".venv/\n__pycache__/\n")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "initial")
	writeFile(t, dir, "results.tsv", "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n")
	writeFile(t, dir, "run.log", "step 00001 (1.0%)\n")
	writeFile(t, dir, ".venv/lib/python3.12/site-packages/torch/__init__.py", "# torch\n")
	writeFile(t, dir, ".venv/bin/python", "#!python\n")
	writeFile(t, dir, ".autoresearch/state.db", "sqlite")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}

// porcelain returns `git status --porcelain -uall` lines, sorted.
func porcelain(t testing.TB, dir string) []string {
	t.Helper()
	out := strings.TrimRight(git(t, dir, "status", "--porcelain", "-uall"), "\n")
	if out == "" {
		return nil
	}
	lines := strings.Split(out, "\n")
	sort.Strings(lines)
	return lines
}

// assertOnlyUntracked fails unless git status shows nothing but untracked
// (??) entries: every tracked file matches HEAD.
func assertOnlyUntracked(t testing.TB, dir string) {
	t.Helper()
	for _, l := range porcelain(t, dir) {
		if !strings.HasPrefix(l, "??") {
			t.Errorf("git status shows a tracked change: %q (all: %q)", l, porcelain(t, dir))
		}
	}
}

// runLeftovers are the untracked and ignored files researchRepo creates;
// every operation must leave them byte for byte.
var runLeftovers = map[string]string{
	"results.tsv": "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n",
	"run.log":     "step 00001 (1.0%)\n",
	".venv/lib/python3.12/site-packages/torch/__init__.py": "# torch\n",
	".venv/bin/python":       "#!python\n",
	".autoresearch/state.db": "sqlite",
}

func assertLeftovers(t testing.TB, dir string) {
	t.Helper()
	for rel, want := range runLeftovers {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("%s lost: %v", rel, err)
			continue
		}
		if string(b) != want {
			t.Errorf("%s changed: %q", rel, b)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mustCommit commits files with the test author.
func mustCommit(t testing.TB, r *Repo, msg string, files ...string) string {
	t.Helper()
	h, err := r.Commit(msg, files, testAuthor)
	if err != nil {
		t.Fatalf("Commit(%q): %v", msg, err)
	}
	return h
}
