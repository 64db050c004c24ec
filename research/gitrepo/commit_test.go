package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestCommitCrossCheckedWithGit(t *testing.T) {
	dir, r := researchRepo(t)
	parent, _ := r.Head()
	writeFile(t, dir, "train.py", trainV2)
	writeFile(t, dir, "models/deep/block.py", "class Block: pass\n")
	if err := os.Remove(filepath.Join(dir, "program.md")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "prepare.py", "# edited but not committed\n")

	h, err := r.Commit("exp: lr 0.02", []string{"train.py", "models/deep/block.py", "program.md"}, testAuthor)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 40 {
		t.Errorf("hash %q is not a full hash", h)
	}
	git(t, dir, "fsck", "--strict", "--no-dangling")
	log := git(t, dir, "log", "-1", "--format=%H%n%P%n%an <%ae>%n%cn <%ce>%n%B")
	want := h + "\n" + parent + "\nAuto Researcher <bot@example.com>\nAuto Researcher <bot@example.com>\nexp: lr 0.02\n"
	if !strings.HasPrefix(log, want) {
		t.Errorf("git log:\n%s\nwant prefix:\n%s", log, want)
	}
	if b := strings.TrimSpace(git(t, dir, "rev-parse", "main")); b != h {
		t.Errorf("main = %s, want %s", b, h)
	}
	files := git(t, dir, "ls-tree", "-r", "--name-only", h)
	if want := ".gitignore\nmodels/deep/block.py\nprepare.py\nrun.sh\ntrain.py\n"; files != want {
		t.Errorf("tree files:\n%s\nwant:\n%s", files, want)
	}
	if got := git(t, dir, "show", h+":train.py"); got != trainV2 {
		t.Errorf("committed train.py = %q", got)
	}
	if got := git(t, dir, "show", h+":prepare.py"); got != "# read-only data prep\n" {
		t.Errorf("prepare.py was committed although not listed: %q", got)
	}
	// Only the unlisted edit remains; the committed paths are clean for git.
	var tracked []string
	for _, l := range porcelain(t, dir) {
		if !strings.HasPrefix(l, "??") {
			tracked = append(tracked, l)
		}
	}
	if !equalStrings(tracked, []string{" M prepare.py"}) {
		t.Errorf("git status tracked entries = %q, want only prepare.py modified", tracked)
	}
	if d, _ := r.DirtyTracked(); !equalStrings(d, []string{"prepare.py"}) {
		t.Errorf("DirtyTracked = %q", d)
	}
	assertLeftovers(t, dir)
}

func TestCommitKeepsExecutableBit(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "run.sh", "#!/bin/sh\nuv run train.py --fast\n")
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := mustCommit(t, r, "faster", "run.sh")
	if got := git(t, dir, "ls-tree", h, "run.sh"); !strings.HasPrefix(got, "100755 ") {
		t.Errorf("run.sh mode: %q", got)
	}
}

func TestCommitErrors(t *testing.T) {
	dir, r := researchRepo(t)
	before, _ := r.Head()
	if _, err := r.Commit("noop", []string{"train.py"}, testAuthor); !errors.Is(err, ErrNothingToCommit) {
		t.Errorf("unchanged file: %v, want ErrNothingToCommit", err)
	}
	if _, err := r.Commit("ghost", []string{"ghost.py"}, testAuthor); !errors.Is(err, ErrPathNotFound) {
		t.Errorf("missing file: %v, want ErrPathNotFound", err)
	}
	if _, err := r.Commit("dir", []string{".venv"}, testAuthor); !errors.Is(err, ErrNotAFile) {
		t.Errorf("directory: %v, want ErrNotAFile", err)
	}
	writeFile(t, dir, "train.py", trainV2)
	for _, p := range []string{"../outside.py", "/etc/passwd", ".git/config"} {
		if _, err := r.Commit("bad", []string{p}, testAuthor); !errors.Is(err, ErrBadPath) {
			t.Errorf("path %q: %v, want ErrBadPath", p, err)
		}
	}
	for _, a := range []research.Signature{{Name: "", Email: "a@b"}, {Name: "x>y", Email: "a@b"}} {
		if _, err := r.Commit("bad", []string{"train.py"}, a); !errors.Is(err, ErrBadSignature) {
			t.Errorf("author %+v: %v, want ErrBadSignature", a, err)
		}
	}
	if after, _ := r.Head(); after != before {
		t.Errorf("a failed commit moved HEAD")
	}
	if _, err := os.Stat(r.indexPath() + ".lock"); !os.IsNotExist(err) {
		t.Errorf("index.lock left behind: %v", err)
	}
	// A lock held by someone else is reported, not ignored.
	if err := os.WriteFile(r.indexPath()+".lock", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit("locked", []string{"train.py"}, testAuthor); !errors.Is(err, ErrIndexLocked) {
		t.Errorf("with index.lock: %v, want ErrIndexLocked", err)
	}
}

// Keeping other staged changes out of the commit (git commit --only).
func TestCommitLeavesOtherStagedChanges(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "program.md", "# staged by a human\n")
	git(t, dir, "add", "program.md")
	writeFile(t, dir, "train.py", trainV2)
	h := mustCommit(t, r, "train only", "train.py")
	if got := git(t, dir, "diff", "--name-only", h+"~1", h); got != "train.py\n" {
		t.Errorf("commit changed %q, want only train.py", got)
	}
	if got := git(t, dir, "diff", "--cached", "--name-only"); got != "program.md\n" {
		t.Errorf("still staged: %q, want program.md", got)
	}
}
