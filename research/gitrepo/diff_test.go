package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := r.Head()
	writeFile(t, dir, "train.py", trainV2)
	c2 := mustCommit(t, r, "v2", "train.py")
	patch, stat, err := r.Diff(c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"diff --git a/train.py b/train.py", "-lr = 0.01", "+lr = 0.02", "-depth = 8", "+depth = 12"} {
		if !strings.Contains(patch, want) {
			t.Errorf("patch lacks %q:\n%s", want, patch)
		}
	}
	const wantStat = " train.py | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)\n"
	if stat != wantStat {
		t.Errorf("stat = %q, want %q", stat, wantStat)
	}
	if cli := git(t, dir, "diff", "--stat", c1, c2); cli != wantStat {
		t.Errorf("git diff --stat = %q (our stat %q)", cli, stat)
	}
	// The patch is one git accepts: it applies in reverse onto c2.
	pf := filepath.Join(t.TempDir(), "p.diff")
	if err := os.WriteFile(pf, []byte(patch), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "apply", "--check", "-R", pf)

	if p, s, err := r.Diff(c2, c2); err != nil || p != "" || s != "" {
		t.Errorf("Diff(c2, c2) = %q, %q, %v; want empty", p, s, err)
	}
	if _, _, err := r.Diff(c1, "nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("unknown rev: %v", err)
	}
}

func TestStatSummary(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := r.Head()
	writeFile(t, dir, "a.py", "1\n2\n3\n")
	c2 := mustCommit(t, r, "add", "a.py")
	_, stat, err := r.Diff(c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	if cli := git(t, dir, "diff", "--stat", c1, c2); stat != cli {
		t.Errorf("stat = %q, git = %q", stat, cli)
	}
}

func TestFileAt(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := r.Head()
	writeFile(t, dir, "train.py", trainV2)
	mustCommit(t, r, "v2", "train.py")
	b, err := r.FileAt(c1, "train.py")
	if err != nil || string(b) != trainV1 {
		t.Errorf("FileAt(c1) = %q, %v", b, err)
	}
	b, err = r.FileAt("HEAD", "train.py")
	if err != nil || string(b) != trainV2 {
		t.Errorf("FileAt(HEAD) = %q, %v", b, err)
	}
	if _, err := r.FileAt(c1, "results.tsv"); !errors.Is(err, ErrPathNotFound) {
		t.Errorf("untracked file: %v", err)
	}
	if _, err := r.FileAt("deadbeef", "train.py"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("bad rev: %v", err)
	}
}
