package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// ageDirs sets the mtime of every directory of the work tree (not .git) to
// the same moment long ago, so that the untracked walk may keep their
// listings.
func ageDirs(t *testing.T, dir string) {
	t.Helper()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.Chtimes(p, old, old)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// changesAsGitSees checks Changes against the paths of git status.
func changesAsGitSees(t *testing.T, dir string, r *Repo) []string {
	t.Helper()
	got, err := r.Changes()
	if err != nil {
		t.Fatal(err)
	}
	var cli []string
	for _, l := range porcelain(t, dir) {
		cli = append(cli, l[3:])
	}
	sort.Strings(cli)
	if !equalStrings(got, cli) {
		t.Fatalf("Changes = %q\ngit status paths = %q", got, cli)
	}
	return got
}

func TestChangesKeepsListingsOfUnchangedDirectoriesOnly(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "data/a/1.bin", "1")
	writeFile(t, dir, "data/a/2.bin", "2")
	writeFile(t, dir, "data/b/1.bin", "1")
	writeFile(t, dir, "data/.gitignore", "*.tmp\n")
	writeFile(t, dir, "data/b/x.tmp", "ignored")
	if err := r.Exclude(".autoresearch/"); err != nil {
		t.Fatal(err)
	}
	ageDirs(t, dir)
	changesAsGitSees(t, dir, r) // reads every directory and keeps the listings

	var walked []string
	walkHook = func(rel string) { walked = append(walked, rel) }
	defer func() { walkHook = nil }()
	changesAsGitSees(t, dir, r)
	if len(walked) != 0 {
		t.Errorf("unchanged directories were read again: %q", walked)
	}

	// A file made, one deleted: only their directories are read again.
	writeFile(t, dir, "data/a/3.bin", "3")
	if err := os.Remove(filepath.Join(dir, "data", "b", "1.bin")); err != nil {
		t.Fatal(err)
	}
	walked = nil
	got := changesAsGitSees(t, dir, r)
	sort.Strings(walked)
	if want := []string{"data/a", "data/b"}; !equalStrings(walked, want) {
		t.Errorf("read %q, want %q", walked, want)
	}
	if !contains(got, "data/a/3.bin") || contains(got, "data/b/1.bin") {
		t.Errorf("Changes = %q", got)
	}

	// A .gitignore edited in place (its directory's mtime put back): the
	// rules changed, so its directory and those below are read again.
	ageDirs(t, dir)
	changesAsGitSees(t, dir, r)
	writeFile(t, dir, "data/.gitignore", "*.bin\n")
	ageDirs(t, dir)
	walked = nil
	got = changesAsGitSees(t, dir, r)
	if contains(got, "data/a/1.bin") || !contains(got, "data/b/x.tmp") {
		t.Errorf("after the .gitignore edit: Changes = %q", got)
	}
	sort.Strings(walked)
	if want := []string{"data", "data/a", "data/b"}; !equalStrings(walked, want) {
		t.Errorf("read %q, want %q", walked, want)
	}

	// info/exclude too.
	if err := r.Exclude("data/"); err != nil {
		t.Fatal(err)
	}
	if got := changesAsGitSees(t, dir, r); contains(got, "data/.gitignore") {
		t.Errorf("excluded data/ still listed: %q", got)
	}

	// The index, changed by the git CLI: a file added is no longer untracked.
	git(t, dir, "add", "-f", "data/a/2.bin")
	if got := changesAsGitSees(t, dir, r); !contains(got, "data/a/2.bin") {
		t.Errorf("a staged file should be listed as changed: %q", got)
	}
	if d, err := r.DirtyTracked(); err != nil || !contains(d, "data/a/2.bin") {
		t.Errorf("DirtyTracked after git add = %q, %v", d, err)
	}
}

func TestResetToACleanTreeLeavesTheIndexAlone(t *testing.T) {
	dir, r := researchRepo(t)
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	// One reset writes an index of our own (the one git wrote has
	// extensions); from then on a clean tree is not written again.
	if err := r.ResetTo(head); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, ".git", "index")
	before, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ResetTo(head); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(index); err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a reset of a clean tree rewrote the index")
	}
	// A changed file is still put back.
	writeFile(t, dir, "train.py", trainV2)
	if err := r.ResetTo(head); err != nil {
		t.Fatal(err)
	}
	if readFile(t, dir, "train.py") != trainV1 {
		t.Error("train.py not reset")
	}
	assertOnlyUntracked(t, dir)
}

// TestIndexCacheFollowsTheGitCLI: an index another program replaced is read
// again.
func TestIndexCacheFollowsTheGitCLI(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", trainV2)
	if d, err := r.DirtyTracked(); err != nil || !equalStrings(d, []string{"train.py"}) {
		t.Fatalf("DirtyTracked = %q, %v", d, err)
	}
	git(t, dir, "commit", "-q", "-am", "by hand")
	if d, err := r.DirtyTracked(); err != nil || len(d) != 0 {
		t.Errorf("after git commit: DirtyTracked = %q, %v", d, err)
	}
	git(t, dir, "rm", "-q", "--cached", "program.md")
	if d, err := r.DirtyTracked(); err != nil || !equalStrings(d, []string{"program.md"}) {
		t.Errorf("after git rm --cached: DirtyTracked = %q, %v", d, err)
	}
}

func TestUntrackedIsChangesWithoutTrackedFiles(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "notes.txt", "mine\n")
	writeFile(t, dir, "train.py", trainV2)
	got, err := r.Untracked()
	if err != nil {
		t.Fatal(err)
	}
	all := changesAsGitSees(t, dir, r)
	var want []string
	for _, p := range all {
		if p != "train.py" {
			want = append(want, p)
		}
	}
	if !equalStrings(got, want) {
		t.Errorf("Untracked = %q, want %q", got, want)
	}
}

// TestChangesSeesDirectoriesSwappedByRenames: two directories with the same
// mtime swapped by renames keep their mtimes; the listing of each name must
// not be reused for the other directory.
func TestChangesSeesDirectoriesSwappedByRenames(t *testing.T) {
	for _, monitor := range []bool{false, true} {
		t.Run(fmt.Sprint("monitor=", monitor), func(t *testing.T) {
			dir, r := researchRepo(t)
			r.monitorOff, r.monitorFrom = !monitor, 0
			writeFile(t, dir, "data/a/only-in-a.bin", "a")
			writeFile(t, dir, "data/b/only-in-b.bin", "b")
			ageDirs(t, dir)
			changesAsGitSees(t, dir, r)
			for _, mv := range [][2]string{{"data/a", "data/tmp"}, {"data/b", "data/a"}, {"data/tmp", "data/b"}} {
				if err := os.Rename(filepath.Join(dir, mv[0]), filepath.Join(dir, mv[1])); err != nil {
					t.Fatal(err)
				}
			}
			changesAsGitSees(t, dir, r)
		})
	}
}
