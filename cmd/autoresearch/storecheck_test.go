package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
)

// listTree names every file under dir with its size, to prove nothing
// under it changed.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, fmt.Sprintf("%s %d", rel, info.Size()))
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// firstRun makes a repository that has had a run: branch autoresearch/t1,
// logs and a store.
func firstRun(t *testing.T) (dir, dbPath string) {
	t.Helper()
	dir = researchtest.New(t)
	code, _, stderr := runMain(t, "run", "--repo", dir, "--tag", "t1", "--proposer", "sweep",
		"--train-cmd", "python3 train.py", "--max-experiments", "1", "--baseline-repeats", "0")
	if code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	return dir, filepath.Join(dir, ".autoresearch", "autoresearch.db")
}

// A store truncated to 0 bytes in a repository with run branches and logs
// is refused (it is damaged, not new): exit status 2, what was found and
// what to do; the store, the logs, the branches and the tree are untouched.
func TestZeroByteStoreWithRunBranchesRefused(t *testing.T) {
	t.Parallel()
	dir, dbPath := firstRun(t)
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
		os.Remove(p)
	}
	if err := os.WriteFile(dbPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	logsBefore := listTree(t, filepath.Join(dir, ".autoresearch", "logs"))

	for _, args := range [][]string{
		{"run", "--repo", dir, "--tag", "t2", "--proposer", "sweep", "--train-cmd", "python3 train.py", "--max-experiments", "1"},
		{"results", "--repo", dir},
	} {
		code, _, stderr := runMain(t, args...)
		if code != exitUsage {
			t.Fatalf("%s: exit %d, want 2; stderr: %s", args[0], code, stderr)
		}
		for _, want := range []string{dbPath, "0 bytes", "autoresearch/t1", "training logs", "Restore it from a backup", "nothing was changed"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, stderr)
			}
		}
	}
	if info, err := os.Stat(dbPath); err != nil || info.Size() != 0 {
		t.Fatalf("the store was changed: %v %v", info, err)
	}
	for _, p := range []string{dbPath + "-wal", dbPath + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("the repo changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if after := listTree(t, filepath.Join(dir, ".autoresearch", "logs")); after != logsBefore {
		t.Errorf("the logs changed:\n%s\n->\n%s", logsBefore, after)
	}

	// A 0-byte store in a repository that never ran is simply new.
	fresh := researchtest.New(t)
	if err := os.MkdirAll(filepath.Join(fresh, ".autoresearch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, ".autoresearch", "autoresearch.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runMain(t, "run", "--repo", fresh, "--tag", "t1", "--proposer", "sweep",
		"--train-cmd", "python3 train.py", "--max-experiments", "1", "--baseline-repeats", "0"); code != 0 {
		t.Fatalf("fresh repo with a 0-byte store: exit %d: %s", code, stderr)
	}
}

// A store that is not SQLite is refused by run and results with the file's
// name and how to recover, and is left as it was.
func TestGarbageStoreRefusedWithItsName(t *testing.T) {
	t.Parallel()
	dir, dbPath := firstRun(t)
	for _, p := range []string{dbPath + "-wal", dbPath + "-shm"} {
		os.Remove(p)
	}
	garbage := []byte("PK\x03\x04 definitely a zip file, not a store\n")
	if err := os.WriteFile(dbPath, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--repo", dir, "--tag", "t2", "--proposer", "sweep", "--train-cmd", "python3 train.py"},
		{"results", "--repo", dir},
	} {
		code, _, stderr := runMain(t, args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want 2; stderr: %s", args[0], code, stderr)
		}
		for _, want := range []string{dbPath, "not an SQLite database", "Restore it from a backup"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, stderr)
			}
		}
	}
	if data, _ := os.ReadFile(dbPath); string(data) != string(garbage) {
		t.Fatal("the damaged store was changed")
	}
}
