package gitrepo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The big-tree benchmarks measure what issue 14 point 5 is about: a repo
// with bigTracked tracked files in subdirectories and bigUntracked
// untracked, unignored files, where every status used to stat every
// tracked entry. Each runs with and without the change monitor.
const (
	bigTracked   = 5000
	bigUntracked = 20000
	bigPerDir    = 100
)

var bigTree struct {
	once sync.Once
	dir  string
	base string // the commit the tree starts at
	err  error
}

// sharedBigTree builds the big tree once per test binary (writing 25,000
// files takes seconds); TestMain removes it. Benchmarks that move HEAD
// reset it to base first.
func sharedBigTree(b *testing.B) (dir, base string) {
	b.Helper()
	bigTree.once.Do(func() {
		bigTree.dir, bigTree.base, bigTree.err = buildBigTree()
	})
	if bigTree.err != nil {
		b.Fatal(bigTree.err)
	}
	return bigTree.dir, bigTree.base
}

func buildBigTree() (dir, base string, err error) {
	dir, err = os.MkdirTemp("", "gitrepo-bigtree-")
	if err != nil {
		return "", "", err
	}
	home := filepath.Join(dir, ".home")
	run := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = filepath.Join(dir, "repo")
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
			"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %v: %v: %s", args, err, out)
		}
		return string(out), nil
	}
	repo := filepath.Join(dir, "repo")
	write := func(rel, content string) error {
		p := filepath.Join(repo, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return "", "", err
	}
	files := map[string]string{"train.py": trainV1, "prepare.py": "# prep\n", "program.md": "# program\n", ".gitignore": ".venv/\n"}
	for i := 0; i < bigTracked; i++ {
		files[fmt.Sprintf("src/lib%04d/mod%02d.py", i/bigPerDir, i%bigPerDir)] = fmt.Sprintf("x = %d\n", i)
	}
	for rel, c := range files {
		if err := write(rel, c); err != nil {
			return "", "", err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "initial"}} {
		if _, err := run(args...); err != nil {
			return "", "", err
		}
	}
	kinds := []string{"data/shard%04d/f%02d.bin", "checkpoints/step%04d/f%02d.pt", "logs/run%04d/f%02d.log"}
	for i := 0; i < bigUntracked; i++ {
		k := i % len(kinds)
		j := i / len(kinds)
		if err := write(fmt.Sprintf(kinds[k], j/bigPerDir, j%bigPerDir), "u"); err != nil {
			return "", "", err
		}
	}
	out, err := run("rev-parse", "HEAD")
	if err != nil {
		return "", "", err
	}
	return repo, out[:40], nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigTree.dir != "" {
		os.RemoveAll(filepath.Dir(bigTree.dir))
	}
	os.Exit(code)
}

// bigRepo opens the shared big tree at its base commit, with or without
// the monitor, and runs one status so both start warm.
func bigRepo(b *testing.B, monitor bool) (string, *Repo) {
	b.Helper()
	isolateGit(b)
	dir, base := sharedBigTree(b)
	r, err := open(dir, monitor)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if err := r.ResetTo(base); err != nil {
		b.Fatal(err)
	}
	writeFile(b, dir, "train.py", trainV1)
	if _, err := r.Changes(); err != nil {
		b.Fatal(err)
	}
	return dir, r
}

func benchBoth(b *testing.B, f func(b *testing.B, monitor bool)) {
	b.Run("scan", func(b *testing.B) { f(b, false) })
	b.Run("monitor", func(b *testing.B) { f(b, true) })
}

func BenchmarkBigDirtyTracked(b *testing.B) {
	benchBoth(b, func(b *testing.B, monitor bool) {
		dir, r := bigRepo(b, monitor)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			writeFile(b, dir, "train.py", fmt.Sprintf("%s# %d\n", trainV1, i))
			if d, err := r.DirtyTracked(); err != nil || len(d) != 1 {
				b.Fatalf("DirtyTracked = %q, %v", d, err)
			}
		}
	})
}

func BenchmarkBigChanges(b *testing.B) {
	benchBoth(b, func(b *testing.B, monitor bool) {
		dir, r := bigRepo(b, monitor)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			writeFile(b, dir, "train.py", fmt.Sprintf("%s# %d\n", trainV1, i))
			if c, err := r.Changes(); err != nil || len(c) != bigUntracked+1 {
				b.Fatalf("Changes = %d paths, %v", len(c), err)
			}
		}
	})
}

func BenchmarkBigUntracked(b *testing.B) {
	benchBoth(b, func(b *testing.B, monitor bool) {
		dir, r := bigRepo(b, monitor)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			writeFile(b, dir, "run.log", fmt.Sprintf("step %d\n", i))
			if u, err := r.Untracked(); err != nil || len(u) != bigUntracked+1 {
				b.Fatalf("Untracked = %d paths, %v", len(u), err)
			}
		}
		os.Remove(filepath.Join(dir, "run.log"))
	})
}

// BenchmarkBigResetTo alternates between two commits that differ in
// train.py, as keep/discard does.
func BenchmarkBigResetTo(b *testing.B) {
	benchBoth(b, func(b *testing.B, monitor bool) {
		dir, r := bigRepo(b, monitor)
		benchResetTo(b, dir, r)
	})
}

func BenchmarkBigCommit(b *testing.B) {
	benchBoth(b, func(b *testing.B, monitor bool) {
		dir, r := bigRepo(b, monitor)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			writeFile(b, dir, "train.py", fmt.Sprintf("%s# experiment %d\n", trainV1, i))
			mustCommit(b, r, "exp", "train.py")
		}
	})
}
