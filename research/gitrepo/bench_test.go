package gitrepo

import (
	"fmt"
	"testing"
)

// venvFiles is the size of the ignored .venv in the benchmark repo, about
// what `uv sync` leaves for a torch project.
const venvFiles = 20000

// benchRepo is researchRepo plus venvFiles ignored files under .venv/.
func benchRepo(b *testing.B) (string, *Repo) {
	b.Helper()
	dir, r := researchRepo(b)
	for i := 0; i < venvFiles; i++ {
		writeFile(b, dir, fmt.Sprintf(".venv/lib/python3.12/site-packages/pkg%03d/mod%03d.py", i/100, i%100), "x = 1\n")
	}
	return dir, r
}

func BenchmarkDirtyTracked(b *testing.B) {
	dir, r := benchRepo(b)
	writeFile(b, dir, "train.py", trainV2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d, err := r.DirtyTracked(); err != nil || len(d) != 1 {
			b.Fatalf("DirtyTracked = %q, %v", d, err)
		}
	}
}

func BenchmarkChanges(b *testing.B) {
	dir, r := benchRepo(b)
	writeFile(b, dir, "train.py", trainV2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// train.py, results.tsv, run.log, .autoresearch/state.db
		if c, err := r.Changes(); err != nil || len(c) != 4 {
			b.Fatalf("Changes = %q, %v", c, err)
		}
	}
}

func BenchmarkCommit(b *testing.B) {
	dir, r := benchRepo(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		writeFile(b, dir, "train.py", fmt.Sprintf("%s# experiment %d\n", trainV1, i))
		mustCommit(b, r, "exp", "train.py")
	}
}

// BenchmarkResetTo alternates between two commits that differ in train.py,
// as keep/discard does.
func BenchmarkResetTo(b *testing.B) {
	dir, r := benchRepo(b)
	benchResetTo(b, dir, r)
}

// benchResetTo commits a second version of train.py in r and times resets
// alternating between it and HEAD, as keep and discard do.
func benchResetTo(b *testing.B, dir string, r *Repo) {
	c1, _ := r.Head()
	writeFile(b, dir, "train.py", trainV2)
	c2 := mustCommit(b, r, "v2", "train.py")
	targets := [2]string{c1, c2}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.ResetTo(targets[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoGitStatus is the baseline this package avoids: go-git's
// Worktree.Status reads every file of the ignored .venv.
func BenchmarkGoGitStatus(b *testing.B) {
	dir, r := benchRepo(b)
	writeFile(b, dir, "train.py", trainV2)
	wt, err := r.repo.Worktree()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := wt.Status(); err != nil {
			b.Fatal(err)
		}
	}
}
