package gitrepo

import (
	"errors"
	"strings"
	"testing"
)

func TestCreateAndCheckoutBranch(t *testing.T) {
	dir, r, c1, c2 := twoCommits(t)
	writeFile(t, dir, "prepare.py", "# local edit carried across branches\n")
	if err := r.CreateBranch("autoresearch/mar5", c1); err != nil {
		t.Fatal(err)
	}
	if b, _ := r.CurrentBranch(); b != "autoresearch/mar5" {
		t.Errorf("CurrentBranch = %q", b)
	}
	if s := strings.TrimSpace(git(t, dir, "symbolic-ref", "HEAD")); s != "refs/heads/autoresearch/mar5" {
		t.Errorf("HEAD -> %s", s)
	}
	if h := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD")); h != c1 {
		t.Errorf("HEAD = %s, want %s", h, c1)
	}
	if got := readFile(t, dir, "train.py"); got != trainV1 {
		t.Errorf("train.py = %q, want v1", got)
	}
	if got := readFile(t, dir, "prepare.py"); got != "# local edit carried across branches\n" {
		t.Errorf("local edit of a path equal on both branches was lost: %q", got)
	}
	assertLeftovers(t, dir)
	if p := porcelain(t, dir); contains(p, " M train.py") || !contains(p, " M prepare.py") {
		t.Errorf("git status = %q", p)
	}
	if ok, err := r.BranchExists("autoresearch/mar5"); !ok || err != nil {
		t.Errorf("BranchExists = %v, %v", ok, err)
	}
	if ok, _ := r.BranchExists("nope"); ok {
		t.Errorf("BranchExists(nope) = true")
	}
	if err := r.CreateBranch("autoresearch/mar5", c2); !errors.Is(err, ErrBranchExists) {
		t.Errorf("second CreateBranch: %v, want ErrBranchExists", err)
	}
	if err := r.CreateBranch("bad..name", c2); !errors.Is(err, ErrInvalidBranchName) {
		t.Errorf("bad name: %v, want ErrInvalidBranchName", err)
	}

	if err := r.CheckoutBranch("main"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "train.py"); got != trainV2 {
		t.Errorf("train.py on main = %q", got)
	}
	if !fileExists(dir+"/lib/new.py") || fileExists(dir+"/program.md") {
		t.Errorf("main's files not checked out")
	}
	assertLeftovers(t, dir)
	if err := r.CheckoutBranch("missing"); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("CheckoutBranch(missing): %v", err)
	}
	git(t, dir, "fsck", "--strict")
}

// A switch that would overwrite an uncommitted edit refuses and changes nothing.
func TestCheckoutRefusesToOverwrite(t *testing.T) {
	dir, r, c1, _ := twoCommits(t)
	if err := r.CreateBranch("old", c1); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "train.py", "# precious uncommitted work\n")
	err := r.CheckoutBranch("main")
	var ow *OverwriteError
	if !errors.As(err, &ow) || !errors.Is(err, ErrWouldOverwrite) || !equalStrings(ow.Paths, []string{"train.py"}) {
		t.Fatalf("CheckoutBranch: %v, want OverwriteError for train.py", err)
	}
	if got := readFile(t, dir, "train.py"); got != "# precious uncommitted work\n" {
		t.Errorf("edit lost: %q", got)
	}
	if b, _ := r.CurrentBranch(); b != "old" {
		t.Errorf("branch changed to %q", b)
	}
	if fileExists(dir + "/lib/new.py") {
		t.Errorf("a refused checkout wrote files")
	}
	// An untracked file where the target has a tracked one is refused too.
	writeFile(t, dir, "train.py", trainV1)
	writeFile(t, dir, "lib/new.py", "# untracked, in the way\n")
	if err := r.CheckoutBranch("main"); !errors.Is(err, ErrWouldOverwrite) {
		t.Errorf("untracked in the way: %v", err)
	}
}

func TestDeleteBranch(t *testing.T) {
	dir, r, c1, _ := twoCommits(t)
	if err := r.DeleteBranch("main"); !errors.Is(err, ErrCurrentBranch) {
		t.Errorf("delete current: %v", err)
	}
	if err := r.DeleteBranch("ghost"); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	git(t, dir, "branch", "side", c1)
	git(t, dir, "pack-refs", "--all") // packed refs must be deletable too
	if err := r.DeleteBranch("side"); err != nil {
		t.Fatal(err)
	}
	if out := git(t, dir, "branch", "--list", "side"); out != "" {
		t.Errorf("side still listed: %q", out)
	}
	if ok, _ := r.BranchExists("main"); !ok {
		t.Errorf("main vanished")
	}
}
