package gitrepo

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestDirtyTrackedClean(t *testing.T) {
	dir, r := researchRepo(t)
	walkHook = func(rel string) { t.Errorf("DirtyTracked read directory %q", rel) }
	defer func() { walkHook = nil }()
	d, err := r.DirtyTracked()
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 0 {
		t.Errorf("DirtyTracked on a clean tree with untracked and ignored files = %q", d)
	}
	assertOnlyUntracked(t, dir)
}

func TestDirtyTrackedModifiedAndDeleted(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", trainV2)
	if err := os.Remove(filepath.Join(dir, "program.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o644); err != nil { // mode-only change
		t.Fatal(err)
	}
	d, err := r.DirtyTracked()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"program.md", "run.sh", "train.py"}; !equalStrings(d, want) {
		t.Errorf("DirtyTracked = %q, want %q", d, want)
	}
}

// Staged-only changes (index differs from HEAD, worktree equals index) count.
func TestDirtyTrackedStagedOnly(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", trainV2)
	writeFile(t, dir, "added.py", "x = 1\n")
	git(t, dir, "add", "train.py", "added.py")
	git(t, dir, "rm", "-q", "--cached", "prepare.py") // staged deletion, file kept
	d, err := r.DirtyTracked()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"added.py", "prepare.py", "train.py"}; !equalStrings(d, want) {
		t.Errorf("DirtyTracked = %q, want %q", d, want)
	}
}

// A same-size edit within the timestamp tick of the index write ("racy
// git") must still be seen, and must stay seen after the index is rewritten.
func TestDirtyTrackedRacySameSizeEdit(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", trainV2)
	mustCommit(t, r, "v2", "train.py")
	st, err := r.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	e := st.entries["train.py"]
	edited := strings.Replace(trainV2, "0.02", "0.03", 1) // same size
	writeFile(t, dir, "train.py", edited)
	// Make the edit indistinguishable by stat: same mtime as the entry, and
	// the index written in that same tick.
	for _, p := range []string{filepath.Join(dir, "train.py"), r.indexPath()} {
		if err := os.Chtimes(p, e.ModifiedAt, e.ModifiedAt); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := r.DirtyTracked(); !equalStrings(d, []string{"train.py"}) {
		t.Fatalf("racy edit missed: DirtyTracked = %q", d)
	}
	// Rewriting the index later (a commit of another file) must smudge the
	// racy entry rather than vouch for it with the new, later index mtime.
	time.Sleep(20 * time.Millisecond) // let the clock pass the tick; not a timing assertion
	writeFile(t, dir, "program.md", "# program v2\n")
	mustCommit(t, r, "program", "program.md")
	if d, _ := r.DirtyTracked(); !equalStrings(d, []string{"train.py"}) {
		t.Errorf("after index rewrite: DirtyTracked = %q, want [train.py]", d)
	}
	if p := porcelain(t, dir); !contains(p, " M train.py") {
		t.Errorf("git status = %q, want train.py modified", p)
	}
}

func TestChanges(t *testing.T) {
	dir, r := researchRepo(t)
	writeFile(t, dir, "train.py", trainV2)
	if err := os.Remove(filepath.Join(dir, "program.md")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "notes.txt", "idea\n")
	writeFile(t, dir, "sub/deep/new.py", "y = 2\n")
	writeFile(t, dir, "sub/.gitignore", "*.tmp\n")
	writeFile(t, dir, "sub/scratch.tmp", "ignored by the nested .gitignore\n")
	writeFile(t, dir, "__pycache__/train.cpython-312.pyc", "bytecode")
	writeFile(t, dir, ".venv/lib/more.py", "still ignored\n")
	if err := r.Exclude(".autoresearch/"); err != nil {
		t.Fatal(err)
	}
	var walked []string
	walkHook = func(rel string) { walked = append(walked, rel) }
	defer func() { walkHook = nil }()
	got, err := r.Changes()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(walked)
	// Ignored and excluded directories are never read, not even listed.
	if want := []string{"", "sub", "sub/deep"}; !equalStrings(walked, want) {
		t.Errorf("walked %q, want %q", walked, want)
	}
	want := []string{"notes.txt", "program.md", "results.tsv", "run.log", "sub/.gitignore", "sub/deep/new.py", "train.py"}
	if !equalStrings(got, want) {
		t.Errorf("Changes = %q\nwant      %q", got, want)
	}
	// Cross-check: the git CLI sees the same set of paths.
	var cli []string
	for _, l := range porcelain(t, dir) {
		cli = append(cli, l[3:])
	}
	sort.Strings(cli)
	if !equalStrings(got, cli) {
		t.Errorf("Changes = %q, git status paths = %q", got, cli)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
