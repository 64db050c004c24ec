package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoCommits returns the initial commit and one that changes train.py and
// run.sh, adds new.py and deletes program.md.
func twoCommits(t *testing.T) (dir string, r *Repo, c1, c2 string) {
	dir, r = researchRepo(t)
	c1, _ = r.Head()
	writeFile(t, dir, "train.py", trainV2)
	writeFile(t, dir, "lib/new.py", "z = 3\n")
	writeFile(t, dir, "run.sh", "#!/bin/sh\necho v2\n")
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "program.md")); err != nil {
		t.Fatal(err)
	}
	c2 = mustCommit(t, r, "v2", "train.py", "lib/new.py", "run.sh", "program.md")
	return dir, r, c1, c2
}

func TestResetToOlderCommit(t *testing.T) {
	dir, r, c1, c2 := twoCommits(t)
	writeFile(t, dir, "prepare.py", "# local edit, discarded by reset\n")
	writeFile(t, dir, "train.py", "# uncommitted proposal\n")
	if err := r.ResetTo(c1); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "train.py"); got != trainV1 {
		t.Errorf("train.py = %q, want v1", got)
	}
	if got := readFile(t, dir, "prepare.py"); got != "# read-only data prep\n" {
		t.Errorf("prepare.py = %q", got)
	}
	if got := readFile(t, dir, "program.md"); !strings.HasPrefix(got, "# program") {
		t.Errorf("program.md not restored: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "lib")); !os.IsNotExist(err) {
		t.Errorf("lib/new.py (and its now empty dir) should be gone: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "run.sh"))
	if err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("run.sh lost its executable bit: %v %v", fi.Mode(), err)
	}
	assertLeftovers(t, dir)
	assertOnlyUntracked(t, dir)
	if h := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD")); h != c1 {
		t.Errorf("HEAD = %s, want %s", h, c1)
	}
	if b := strings.TrimSpace(git(t, dir, "symbolic-ref", "--short", "HEAD")); b != "main" {
		t.Errorf("HEAD left branch main: %s", b)
	}
	if d, _ := r.DirtyTracked(); len(d) != 0 {
		t.Errorf("DirtyTracked after reset = %q", d)
	}
	// And forward again to the newer commit.
	if err := r.ResetTo(c2); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "train.py"); got != trainV2 {
		t.Errorf("train.py = %q, want v2", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "program.md")); !os.IsNotExist(err) {
		t.Errorf("program.md should be deleted at c2: %v", err)
	}
	assertLeftovers(t, dir)
	assertOnlyUntracked(t, dir)
	git(t, dir, "fsck", "--strict")
}

// Reset keeps untracked files even inside directories whose tracked files go.
func TestResetToKeepsUntrackedInRemovedDir(t *testing.T) {
	dir, r, c1, _ := twoCommits(t)
	writeFile(t, dir, "lib/notes.txt", "mine\n")
	if err := r.ResetTo(c1); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "lib/notes.txt"); got != "mine\n" {
		t.Errorf("untracked lib/notes.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "lib/new.py")); !os.IsNotExist(err) {
		t.Errorf("lib/new.py should be gone: %v", err)
	}
}

func TestRestoreFiles(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", "# broken proposal\n")
	writeFile(t, dir, "helpers/extra.py", "# new file from the proposal\n")
	if err := r.RestoreFiles([]string{"train.py", "helpers/extra.py"}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "train.py"); got != trainV1 {
		t.Errorf("train.py = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "helpers")); !os.IsNotExist(err) {
		t.Errorf("helpers/extra.py not deleted: %v", err)
	}
	assertLeftovers(t, dir)
	assertOnlyUntracked(t, dir)
	if d, _ := r.DirtyTracked(); len(d) != 0 {
		t.Errorf("DirtyTracked = %q", d)
	}
	// A staged new file is unstaged and deleted too.
	writeFile(t, dir, "staged.py", "s\n")
	git(t, dir, "add", "staged.py")
	if err := r.RestoreFiles([]string{"staged.py"}); err != nil {
		t.Fatal(err)
	}
	if p := porcelain(t, dir); contains(p, "A  staged.py") || fileExists(filepath.Join(dir, "staged.py")) {
		t.Errorf("staged.py survived: %q", p)
	}
	if err := r.RestoreFiles([]string{".venv"}); err == nil {
		t.Errorf("RestoreFiles of a directory should fail")
	}
	assertLeftovers(t, dir)
}

// Symlinks are committed as links (mode 120000) and restored as links.
func TestSymlinkRoundTrip(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := r.Head()
	if err := os.Symlink("prepare.py", filepath.Join(dir, "data.py")); err != nil {
		t.Fatal(err)
	}
	c2 := mustCommit(t, r, "link", "data.py")
	if got := git(t, dir, "ls-tree", c2, "data.py"); !strings.HasPrefix(got, "120000 ") {
		t.Errorf("data.py tree entry %q, want a symlink", got)
	}
	if err := r.ResetTo(c1); err != nil {
		t.Fatal(err)
	}
	if fileExists(filepath.Join(dir, "data.py")) {
		t.Errorf("data.py should be gone at c1")
	}
	if err := r.ResetTo(c2); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "data.py")); err != nil || target != "prepare.py" {
		t.Errorf("data.py = %q, %v; want a link to prepare.py", target, err)
	}
	assertOnlyUntracked(t, dir)
}
