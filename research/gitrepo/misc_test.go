package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestExcludeIdempotent(t *testing.T) {
	dir, r := researchRepo(t)
	ex := filepath.Join(dir, ".git", "info", "exclude")
	if err := os.Remove(ex); err != nil && !os.IsNotExist(err) { // must be created
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := r.Exclude(".autoresearch/", "results.tsv", "run.log", "results.tsv"); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, dir, ".git/info/exclude"); got != ".autoresearch/\nresults.tsv\nrun.log\n" {
		t.Errorf("exclude = %q", got)
	}
	// A file without a final newline gets one before the appended line.
	if err := os.WriteFile(ex, []byte("*.bak"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Exclude("*.bak", "run.log"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, ".git/info/exclude"); got != "*.bak\nrun.log\n" {
		t.Errorf("exclude = %q", got)
	}
	if err := r.Exclude(".autoresearch/", "results.tsv"); err != nil {
		t.Fatal(err)
	}
	if p := porcelain(t, dir); len(p) != 0 {
		t.Errorf("git status after excluding run files = %q", p)
	}
	if ch, _ := r.Changes(); len(ch) != 0 {
		t.Errorf("Changes after excluding run files = %q", ch)
	}
}

func TestResolveRef(t *testing.T) {
	dir, r, c1, c2 := twoCommits(t)
	git(t, dir, "tag", "-a", "-m", "baseline", "baseline", c1)
	git(t, dir, "tag", "light", c2)
	git(t, dir, "branch", "side", c1)
	for ref, want := range map[string]string{
		"main": c2, "side": c1, "HEAD": c2, "baseline": c1, "light": c2,
		c1: c1, c1[:7]: c1, c2[:10]: c2, "refs/heads/side": c1,
	} {
		got, err := r.ResolveRef(ref)
		if err != nil || got != want {
			t.Errorf("ResolveRef(%q) = %s, %v; want %s", ref, got, err, want)
		}
	}
	for _, ref := range []string{"", "nope", strings.Repeat("ab", 20), "zz"} {
		if _, err := r.ResolveRef(ref); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("ResolveRef(%q): %v, want ErrUnknownRevision", ref, err)
		}
	}
}

// Methods may be called from several goroutines; the race detector checks
// the mutex, git fsck the result.
func TestConcurrentUse(t *testing.T) {
	dir, r := researchRepo(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := r.DirtyTracked(); err != nil {
					t.Error(err)
				}
				if _, err := r.Changes(); err != nil {
					t.Error(err)
				}
				if _, err := r.Head(); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	for j := 0; j < 5; j++ {
		writeFile(t, dir, "train.py", trainV1+strings.Repeat("#", j+1)+"\n")
		mustCommit(t, r, "edit", "train.py")
	}
	wg.Wait()
	git(t, dir, "fsck", "--strict")
	if n := strings.Count(git(t, dir, "log", "--format=%H"), "\n"); n != 6 {
		t.Errorf("%d commits, want 6", n)
	}
}
