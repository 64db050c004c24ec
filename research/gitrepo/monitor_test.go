package gitrepo

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// monitorRepo builds a repo with tracked files in nested directories, a
// tracked file force-added inside an ignored directory, untracked clutter
// and a symlink, and opens it twice: with the change monitor and without
// it (full scans, the reference).
func monitorRepo(t *testing.T) (dir string, mon, scan *Repo) {
	t.Helper()
	isolateGit(t)
	dir = t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	for i := 0; i < 4; i++ {
		writeFile(t, dir, fmt.Sprintf("src/a/m%d.py", i), fmt.Sprintf("a = %d\n", i))
		writeFile(t, dir, fmt.Sprintf("src/b/deep/m%d.py", i), fmt.Sprintf("b = %d\n", i))
		writeFile(t, dir, fmt.Sprintf("docs/d%d.md", i), fmt.Sprintf("# doc %d\n", i))
	}
	writeFile(t, dir, "train.py", trainV1)
	writeFile(t, dir, ".gitignore", ".venv/\n*.tmp\n")
	writeFile(t, dir, ".venv/keep.txt", "force-added\n")
	if err := os.Symlink("train.py", filepath.Join(dir, "link.py")); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "add", "-f", ".venv/keep.txt")
	git(t, dir, "commit", "-q", "-m", "initial")
	writeFile(t, dir, "data/x/1.bin", "1")
	writeFile(t, dir, "data/y/2.bin", "2")
	writeFile(t, dir, ".venv/lib/junk.py", "ignored\n")
	mon, err := open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	mon.monitorFrom = 0 // a small tree, watched all the same
	scan, err = open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close(); scan.Close() })
	return dir, mon, scan
}

// sameStatus fails unless the monitored Repo answers Changes, DirtyTracked
// and Untracked exactly as the full scan does, asking in the order given
// (the monitor must be right whichever question comes first).
func sameStatus(t *testing.T, step string, mon, scan *Repo, order []int) {
	t.Helper()
	asks := []struct {
		name string
		f    func(*Repo) ([]string, error)
	}{
		{"Changes", (*Repo).Changes},
		{"DirtyTracked", (*Repo).DirtyTracked},
		{"Untracked", (*Repo).Untracked},
	}
	for _, i := range order {
		a := asks[i]
		got, err := a.f(mon)
		if err != nil {
			t.Fatalf("%s: monitored %s: %v", step, a.name, err)
		}
		want, err := a.f(scan)
		if err != nil {
			t.Fatalf("%s: scanned %s: %v", step, a.name, err)
		}
		if !equalStrings(got, want) {
			t.Fatalf("%s: %s with the monitor = %q\nfull scan = %q", step, a.name, got, want)
		}
		if !sort.StringsAreSorted(got) {
			t.Fatalf("%s: %s not sorted: %q", step, a.name, got)
		}
		if a.name == "Changes" {
			if cli := gitStatusPaths(t, mon.Root()); !equalStrings(got, cli) {
				t.Fatalf("%s: Changes = %q\ngit status paths = %q", step, got, cli)
			}
		}
	}
}

// gitStatusPaths are the paths `git status` lists, without letting it
// refresh the index (that would be one more index writer in the sequence).
func gitStatusPaths(t *testing.T, dir string) []string {
	t.Helper()
	out := git(t, dir, "--no-optional-locks", "-c", "status.renames=false", "status", "--porcelain", "-uall")
	set := map[string]bool{} // a staged deletion whose file is back is listed twice
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if len(l) > 3 {
			set[l[3:]] = true
		}
	}
	return sortedKeys(set)
}

// assertKeptSnapshot checks the snapshot Commit kept of its new commit
// against the commit's trees read back from the object store.
func assertKeptSnapshot(t *testing.T, dir string, r *Repo, commit string) {
	t.Helper()
	got, ok := r.cachedSnapshot(plumbing.NewHash(commit))
	if !ok {
		t.Fatalf("Commit kept no snapshot of %s", commit)
	}
	fresh, err := open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.commitSnapshot(plumbing.NewHash(commit))
	if err != nil {
		t.Fatal(err)
	}
	if got.tree != want.tree || !reflect.DeepEqual(got.files, want.files) || !reflect.DeepEqual(got.dirs, want.dirs) {
		t.Fatalf("kept snapshot of %s:\nfiles %v\ndirs %v\nread back:\nfiles %v\ndirs %v", commit, got.files, got.dirs, want.files, want.dirs)
	}
}

// fsOps are the random steps: each changes the work tree or the index the
// way the harness, a training script or a user at a shell might.
type fsOps struct {
	t         *testing.T
	rnd       *rand.Rand
	dir       string
	mon, scan *Repo
	commits   []string
	n         int
}

func (o *fsOps) abs(rel string) string { return filepath.Join(o.dir, filepath.FromSlash(rel)) }

// pick returns a random element of list ("" when empty).
func (o *fsOps) pick(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[o.rnd.Intn(len(list))]
}

// tracked lists the paths in HEAD's tree plus those on disk, as the git CLI
// sees them.
func (o *fsOps) tracked() []string {
	return strings.Fields(git(o.t, o.dir, "ls-files"))
}

func (o *fsOps) repo() *Repo {
	if o.rnd.Intn(2) == 0 {
		return o.mon
	}
	return o.scan
}

var opDirs = []string{"", "src/a", "src/b/deep", "docs", "data/x", "data/y", "data/new", "src/a/sub", ".venv"}

// step runs one random operation and says what it did.
func (o *fsOps) step() string {
	t := o.t
	o.n++
	switch k := o.rnd.Intn(17); k {
	case 0, 1: // rewrite a tracked file, often keeping its size
		p := o.pick(o.tracked())
		if p == "" || p == "link.py" {
			return "nothing"
		}
		content := fmt.Sprintf("v = %04d\n", o.rnd.Intn(10000))
		if err := os.WriteFile(o.abs(p), []byte(content), 0o644); err != nil && !os.IsNotExist(err) {
			return "write " + p + " failed: " + err.Error()
		}
		return "rewrite " + p
	case 2: // a new file anywhere (.tmp ones are ignored)
		ext := []string{".py", ".bin", ".tmp"}[o.rnd.Intn(3)]
		p := filepath.ToSlash(filepath.Join(o.pick(opDirs), fmt.Sprintf("n%d%s", o.n, ext)))
		writeFile(t, o.dir, p, "new\n")
		return "create " + p
	case 3: // delete a file, tracked or not
		p := o.pick(o.files())
		if p == "" {
			return "nothing"
		}
		os.Remove(o.abs(p))
		return "delete " + p
	case 4: // flip the executable bit
		p := o.pick(o.files())
		if p == "" {
			return "nothing"
		}
		fi, err := os.Lstat(o.abs(p))
		if err != nil || !fi.Mode().IsRegular() {
			return "nothing"
		}
		os.Chmod(o.abs(p), fi.Mode().Perm()^0o111)
		return "chmod " + p
	case 5: // rename a directory away and back later, or to a new name
		d := o.pick([]string{"src/a", "src/b", "docs", "data/x", "src/b/deep"})
		to := d + "-moved"
		if _, err := os.Stat(o.abs(to)); err == nil {
			d, to = to, d
		}
		if err := os.Rename(o.abs(d), o.abs(to)); err != nil {
			return "rename " + d + " failed"
		}
		return "rename " + d + " -> " + to
	case 6: // remove a whole directory
		d := o.pick([]string{"data/y", "data/new", "src/a/sub", "docs", "src/b/deep"})
		os.RemoveAll(o.abs(d))
		return "rm -r " + d
	case 7: // a file where a tracked file was a directory, or the reverse
		p := o.pick(o.tracked())
		if p == "" {
			return "nothing"
		}
		if fi, err := os.Lstat(o.abs(p)); err == nil && fi.IsDir() {
			os.RemoveAll(o.abs(p))
			writeFile(t, o.dir, p, "back to a file\n")
			return "dir -> file " + p
		}
		os.Remove(o.abs(p))
		writeFile(t, o.dir, p+"/inside.py", "now a directory\n")
		return "file -> dir " + p
	case 8: // commit some of what changed
		ch, err := o.mon.Changes()
		if err != nil || len(ch) == 0 {
			return "nothing to commit"
		}
		var files []string
		for i := 0; i < 1+o.rnd.Intn(3); i++ {
			files = append(files, o.pick(ch))
		}
		r := o.repo()
		h, err := r.Commit(fmt.Sprintf("step %d", o.n), files, testAuthor)
		if err != nil {
			return fmt.Sprintf("commit %q: %v", files, err)
		}
		o.commits = append(o.commits, h)
		assertKeptSnapshot(t, o.dir, r, h)
		return fmt.Sprintf("commit %q", files)
	case 9: // reset to a recent commit
		c := o.pick(o.commits)
		if err := o.repo().ResetTo(c); err != nil {
			return "reset failed: " + err.Error()
		}
		return "reset " + c[:7]
	case 10: // restore what DirtyTracked lists
		d, err := o.mon.DirtyTracked()
		if err != nil || len(d) == 0 {
			return "nothing to restore"
		}
		p := o.pick(d)
		if err := o.repo().RestoreFiles([]string{p}); err != nil {
			return "restore " + p + ": " + err.Error()
		}
		return "restore " + p
	case 11: // the git CLI changes the index
		switch o.rnd.Intn(5) {
		case 3:
			git(t, o.dir, "commit", "-q", "--allow-empty", "-am", fmt.Sprintf("cli %d", o.n))
			head := strings.TrimSpace(git(t, o.dir, "rev-parse", "HEAD"))
			o.commits = append(o.commits, head)
			return "git commit -a"
		case 4:
			if len(o.commits) < 2 {
				return "nothing"
			}
			git(t, o.dir, "reset", "-q", o.commits[len(o.commits)-2])
			return "git reset (mixed) to the commit before"
		case 0:
			git(t, o.dir, "add", "-A", "src")
			return "git add -A src"
		case 1:
			git(t, o.dir, "reset", "-q")
			return "git reset -q"
		default:
			git(t, o.dir, "status", "--porcelain") // refreshes the index
			return "git status"
		}
	case 12: // the git CLI changes the work tree and the index
		git(t, o.dir, "checkout", "-q", "--", ".")
		return "git checkout -- ."
	case 13: // ignore rules change
		g := o.pick([]string{".gitignore", "data/.gitignore", "src/.gitignore"})
		content := o.pick([]string{"*.bin\n", "x/\n", ".venv/\n*.tmp\n", ""})
		os.MkdirAll(filepath.Dir(o.abs(g)), 0o755)
		if err := os.WriteFile(o.abs(g), []byte(content), 0o644); err != nil {
			return "write " + g + " failed"
		}
		return fmt.Sprintf("%s = %q", g, content)
	case 14: // touch: new mtime, same content
		p := o.pick(o.files())
		if p == "" {
			return "nothing"
		}
		fi, err := os.Lstat(o.abs(p))
		if err != nil || !fi.Mode().IsRegular() {
			return "nothing"
		}
		os.Chtimes(o.abs(p), fi.ModTime(), fi.ModTime().Add(1))
		return "touch " + p
	case 15: // a new nested directory full of files
		d := fmt.Sprintf("%s/new%d/inner", o.pick([]string{"data", "src", "src/a"}), o.n)
		for i := 0; i < 3; i++ {
			writeFile(t, o.dir, fmt.Sprintf("%s/f%d.py", d, i), "x\n")
		}
		return "mkdir -p " + d
	default: // a file moved between directories
		p := o.pick(o.files())
		if p == "" {
			return "nothing"
		}
		to := filepath.ToSlash(filepath.Join(o.pick(opDirs), fmt.Sprintf("mv%d", o.n)))
		os.MkdirAll(filepath.Dir(o.abs(to)), 0o755)
		if os.Rename(o.abs(p), o.abs(to)) != nil {
			return "nothing"
		}
		return "mv " + p + " " + to
	}
}

// files lists the files on disk outside .git.
func (o *fsOps) files() []string {
	var out []string
	filepath.WalkDir(o.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(o.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// TestMonitorAnswersAsAFullScan applies random sequences of work-tree,
// index and history changes and after each one compares the monitored
// Repo's answers with a full scan's.
func TestMonitorAnswersAsAFullScan(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			dir, mon, scan := monitorRepo(t)
			head, _ := mon.Head()
			o := &fsOps{t: t, rnd: rand.New(rand.NewSource(seed)), dir: dir, mon: mon, scan: scan, commits: []string{head}}
			sameStatus(t, "start", mon, scan, []int{0, 1, 2})
			var log []string
			for i := 0; i < 70; i++ {
				what := o.step()
				log = append(log, what)
				step := fmt.Sprintf("step %d (%s; before: %q)", i, what, log[max(0, len(log)-6):len(log)-1])
				sameStatus(t, step, mon, scan, o.rnd.Perm(3))
			}
			if runtime.GOOS == "linux" && !mon.mon.live() {
				t.Fatal("the monitor turned off: the test compared two full scans")
			}
		})
	}
}

// TestMonitorLooksOnlyAtChangedDirectories checks that the monitor does
// what it is for: after one file changes, status re-checks only the tracked
// files of that directory and reads no directory for the untracked walk
// but the one whose names changed.
func TestMonitorLooksOnlyAtChangedDirectories(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the change monitor is Linux only")
	}
	dir, mon, _ := monitorRepo(t)
	if _, err := mon.Changes(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "src/a/m1.py", "a = 100\n")
	if d, err := mon.DirtyTracked(); err != nil || !equalStrings(d, []string{"src/a/m1.py"}) {
		t.Fatalf("DirtyTracked = %q, %v", d, err)
	}
	if mon.lastChecked != 4 {
		t.Errorf("DirtyTracked looked at %d entries, want the 4 of src/a", mon.lastChecked)
	}
	var walked []string
	walkHook = func(rel string) { walked = append(walked, rel) }
	defer func() { walkHook = nil }()
	writeFile(t, dir, "data/x/3.bin", "3")
	if _, err := mon.Changes(); err != nil {
		t.Fatal(err)
	}
	if !equalStrings(walked, []string{"data/x"}) {
		t.Errorf("the walk read %q, want only data/x", walked)
	}
	if mon.lastChecked != 1 {
		t.Errorf("Changes looked at %d entries, want only the dirty src/a/m1.py", mon.lastChecked)
	}
}

// TestMonitorSeesIndexOnlyChanges: another process rewriting the index
// (git add, git reset) changes no file, so no event says so; the entries
// are new and must be checked again.
func TestMonitorSeesIndexOnlyChanges(t *testing.T) {
	dir, mon, scan := monitorRepo(t)
	all := []int{1, 0, 2}
	sameStatus(t, "start", mon, scan, all)
	writeFile(t, dir, "src/a/m1.py", "a = 100\n")
	sameStatus(t, "modified", mon, scan, all)
	git(t, dir, "add", "src/a/m1.py")
	sameStatus(t, "git add", mon, scan, all)
	git(t, dir, "reset", "-q")
	sameStatus(t, "git reset", mon, scan, all)
	git(t, dir, "add", "src/a/m1.py")
	sameStatus(t, "git add again", mon, scan, all)
	git(t, dir, "commit", "-q", "-m", "cli commit")
	sameStatus(t, "git commit", mon, scan, all)
	git(t, dir, "reset", "-q", "HEAD~1")
	sameStatus(t, "git reset HEAD~1", mon, scan, all)
	// Our own index writes, through the other Repo.
	if err := scan.ResetTo("HEAD"); err != nil {
		t.Fatal(err)
	}
	sameStatus(t, "ResetTo by the other Repo", mon, scan, all)
	git(t, dir, "rm", "-q", "--cached", "docs/d1.md")
	sameStatus(t, "git rm --cached", mon, scan, all)
	git(t, dir, "update-index", "--chmod=+x", "docs/d2.md")
	sameStatus(t, "git update-index --chmod", mon, scan, all)
}

// TestMonitorSeesExcludeChanges: info/exclude lies outside the watched
// tree; the walk kept by the monitor must not outlive a change to it.
func TestMonitorSeesExcludeChanges(t *testing.T) {
	dir, mon, scan := monitorRepo(t)
	all := []int{0, 2, 1}
	sameStatus(t, "start", mon, scan, all)
	if err := mon.Exclude("data/"); err != nil {
		t.Fatal(err)
	}
	sameStatus(t, "data/ excluded", mon, scan, all)
	if u, _ := mon.Untracked(); len(u) != 0 {
		t.Fatalf("Untracked after excluding data/ = %q", u)
	}
	writeFile(t, dir, ".git/info/exclude", "")
	sameStatus(t, "exclude emptied", mon, scan, all)
}
