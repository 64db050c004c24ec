package gitrepo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// runBranch makes autoresearch/t with two commits on it and returns them.
func runBranch(t *testing.T, dir string, r *Repo) (c1, c2 string) {
	t.Helper()
	if err := r.CreateBranch("autoresearch/t", "HEAD"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "train.py", trainV1+"# one\n")
	c1 = mustCommit(t, r, "one", "train.py")
	writeFile(t, dir, "train.py", trainV1+"# two\n")
	c2 = mustCommit(t, r, "two", "train.py")
	return c1, c2
}

// assertGitHappy runs what a person would run after a restart: status, log
// and fsck must all succeed, and no lock file may be left.
func assertGitHappy(t *testing.T, dir string) {
	t.Helper()
	assertOnlyUntracked(t, dir)
	git(t, dir, "log", "--oneline", "-n", "3")
	if out, err := exec.Command("git", "-C", dir, "fsck", "--no-dangling").CombinedOutput(); err != nil || strings.Contains(string(out), "error") {
		t.Errorf("git fsck: %v\n%s", err, out)
	}
	locks, _ := filepath.Glob(filepath.Join(dir, ".git", "*.lock"))
	refLocks, _ := filepath.Glob(filepath.Join(dir, ".git", "refs", "heads", "autoresearch", "*.lock"))
	if len(locks)+len(refLocks) > 0 {
		t.Errorf("lock files left: %v %v", locks, refLocks)
	}
}

func TestRefUpdatesAreLoggedAndLeaveNoLock(t *testing.T) {
	dir, r := researchRepo(t)
	_, c2 := runBranch(t, dir, r)
	if err := r.ResetTo("HEAD~1"); err != nil {
		t.Fatal(err)
	}
	log := git(t, dir, "reflog", "show", "--format=%H %gs", "autoresearch/t")
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "reset: moving to") || !strings.HasPrefix(lines[1], c2+" commit: two") ||
		!strings.Contains(lines[3], "branch: Created from HEAD") {
		t.Errorf("reflog of the run branch:\n%s", log)
	}
	if head := git(t, dir, "reflog", "show", "--format=%gs", "HEAD"); !strings.Contains(head, "checkout: moving from main to autoresearch/t") {
		t.Errorf("HEAD's reflog:\n%s", head)
	}
	assertGitHappy(t, dir)
}

func TestRefLockHeldByAnotherGitRefusesAndChangesNothing(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := runBranch(t, dir, r)
	lock := filepath.Join(dir, ".git", "refs", "heads", "autoresearch", "t.lock")
	writeFile(t, dir, ".git/refs/heads/autoresearch/t.lock", "")
	before := git(t, dir, "rev-parse", "autoresearch/t")
	if err := r.ResetTo(c1); !errors.Is(err, ErrRefLocked) {
		t.Fatalf("ResetTo with the ref locked = %v, want ErrRefLocked", err)
	}
	if after := git(t, dir, "rev-parse", "autoresearch/t"); after != before {
		t.Errorf("the branch moved from %s to %s", before, after)
	}
	if !fileExists(lock) {
		t.Error("someone else's lock was removed")
	}
}

func TestRepairEmptyRunBranchFromTheStoresBest(t *testing.T) {
	dir, r := researchRepo(t)
	c1, _ := runBranch(t, dir, r)
	writeFile(t, dir, ".git/refs/heads/autoresearch/t", "") // go-git's truncate, then kill -9
	done, err := r.Repair(research.RepairRequest{Branch: "autoresearch/t", Known: []string{c1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || !strings.Contains(done[0], "is empty") {
		t.Errorf("Repair said %q", done)
	}
	if tip := strings.TrimSpace(git(t, dir, "rev-parse", "autoresearch/t")); tip != c1 {
		t.Errorf("branch at %s, want the known best %s", tip, c1)
	}
	if err := r.ResetTo(c1); err != nil { // what resume does next
		t.Fatal(err)
	}
	assertGitHappy(t, dir)
	assertLeftovers(t, dir)
}

func TestRepairTornRunBranchFromItsReflog(t *testing.T) {
	dir, r := researchRepo(t)
	_, c2 := runBranch(t, dir, r)
	writeFile(t, dir, ".git/refs/heads/autoresearch/t", c2[:11]) // half written
	done, err := r.Repair(research.RepairRequest{Branch: "autoresearch/t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || !strings.Contains(done[0], "is torn") {
		t.Errorf("Repair said %q", done)
	}
	if tip := strings.TrimSpace(git(t, dir, "rev-parse", "autoresearch/t")); tip != c2 {
		t.Errorf("branch at %s, want the reflog's newest %s", tip, c2)
	}
	assertGitHappy(t, dir)
	// Nothing left to do the second time.
	if done, err := r.Repair(research.RepairRequest{Branch: "autoresearch/t"}); err != nil || len(done) != 0 {
		t.Errorf("second Repair: %q %v", done, err)
	}
}

func TestRepairRecreatesAMissingBranchOnlyWhenAsked(t *testing.T) {
	dir, r := researchRepo(t)
	head := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD"))
	req := research.RepairRequest{Branch: "autoresearch/gone", Known: []string{head}}
	if done, err := r.Repair(req); err != nil || len(done) != 0 {
		t.Fatalf("a branch a person deleted was touched: %q %v", done, err)
	}
	if ok, _ := r.BranchExists("autoresearch/gone"); ok {
		t.Fatal("recreated without Recreate")
	}
	req.Recreate = true
	if _, err := r.Repair(req); err != nil {
		t.Fatal(err)
	}
	if tip := strings.TrimSpace(git(t, dir, "rev-parse", "autoresearch/gone")); tip != head {
		t.Errorf("recreated at %s, want %s", tip, head)
	}
}

func TestRepairRemovesTheHarnesssStaleIndexLock(t *testing.T) {
	dir, r := researchRepo(t)
	runBranch(t, dir, r)
	writeFile(t, dir, ".git/index.lock", "DIRC half an index")
	writeFile(t, dir, "train.py", trainV1+"# a proposal the kill interrupted\n")
	if err := r.ResetTo("HEAD"); !errors.Is(err, ErrIndexLocked) {
		t.Fatalf("ResetTo with a stale lock = %v", err)
	}
	done, err := r.Repair(research.RepairRequest{Branch: "autoresearch/t"})
	if err != nil || len(done) != 1 || !strings.Contains(done[0], "index.lock") {
		t.Fatalf("Repair = %q %v", done, err)
	}
	if err := r.ResetTo("HEAD"); err != nil {
		t.Fatal(err)
	}
	assertGitHappy(t, dir)
	assertLeftovers(t, dir)
}

func TestRepairLeavesTheIndexLockOfARunningGit(t *testing.T) {
	dir, r := researchRepo(t)
	// `git commit -a` waiting for its editor holds index.lock the whole time.
	writeFile(t, dir, "train.py", trainV1+"# a person's edit\n")
	cmd := exec.Command("git", "commit", "-a")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_EDITOR=sleep 60;:")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lock := filepath.Join(dir, ".git", "index.lock")
	for deadline := time.Now().Add(30 * time.Second); !fileExists(lock); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("git commit never took index.lock")
		}
	}
	done, err := r.Repair(research.RepairRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !fileExists(lock) {
		t.Fatal("Repair removed the index.lock of a running git commit")
	}
	if len(done) != 1 || !strings.Contains(done[0], "a git process is running") {
		t.Errorf("Repair said %q", done)
	}
}

func TestRepairRebuildsAWorktreeWithAnEmptyHead(t *testing.T) {
	dir, r := researchRepo(t)
	runBranch(t, dir, r)
	wts := filepath.Join(dir, ".autoresearch", "worktrees")
	wt := filepath.Join(wts, "propose")
	if _, err := AddWorktree(dir, wt, "HEAD~1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ".git/worktrees/propose/HEAD", "") // kill -9 inside go-git's ref write
	writeFile(t, dir, ".git/worktrees/propose/index.lock", "")
	if _, err := AddWorktree(dir, wt, "HEAD"); err == nil {
		t.Fatal("the damaged worktree should not open")
	}
	done, err := r.Repair(research.RepairRequest{WorktreesDir: wts})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || !strings.Contains(done[1], "damaged worktree") {
		t.Errorf("Repair said %q", done)
	}
	w, err := AddWorktree(dir, wt, "HEAD")
	if err != nil {
		t.Fatalf("rebuilding: %v", err)
	}
	if h, _ := w.Head(); h != strings.TrimSpace(git(t, dir, "rev-parse", "HEAD")) {
		t.Errorf("rebuilt worktree at %s", h)
	}
	if list := git(t, dir, "worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 2 || strings.Contains(list, "prunable") {
		t.Errorf("worktree list:\n%s", list)
	}
	assertGitHappy(t, dir)
}

func TestRepairLeavesAPersonsWorktreeAlone(t *testing.T) {
	dir, r := researchRepo(t)
	mine := filepath.Join(t.TempDir(), "mine")
	git(t, dir, "worktree", "add", "-q", "--detach", mine)
	writeFile(t, mine, "scratch.txt", "mine\n")
	if done, err := r.Repair(research.RepairRequest{WorktreesDir: filepath.Join(dir, ".autoresearch", "worktrees")}); err != nil || len(done) != 0 {
		t.Fatalf("Repair = %q %v", done, err)
	}
	if readFile(t, mine, "scratch.txt") != "mine\n" || !strings.Contains(git(t, dir, "worktree", "list"), mine) {
		t.Error("a person's worktree was touched")
	}
}

func TestRepairOfACopiedRepoRebuildsItsWorktreesInTheCopy(t *testing.T) {
	dir, r := researchRepo(t)
	runBranch(t, dir, r)
	rel := filepath.Join(".autoresearch", "worktrees", "propose")
	if _, err := AddWorktree(dir, filepath.Join(dir, rel), "HEAD"); err != nil {
		t.Fatal(err)
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, copyDir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v %s", err, out)
	}
	cr, err := Open(copyDir)
	if err != nil {
		t.Fatal(err)
	}
	done, err := cr.Repair(research.RepairRequest{WorktreesDir: filepath.Join(copyDir, ".autoresearch", "worktrees")})
	if err != nil || len(done) != 2 {
		t.Fatalf("Repair = %q %v", done, err)
	}
	w, err := AddWorktree(copyDir, filepath.Join(copyDir, rel), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w.Root(), "train.py", trainV1+"# in the copy\n")
	c := mustCommit(t, w, "in the copy", "train.py")
	if _, err := exec.Command("git", "-C", dir, "cat-file", "-e", c).CombinedOutput(); err == nil {
		t.Error("the copy's worktree committed into the original")
	}
	git(t, copyDir, "cat-file", "-e", c)
	if list := git(t, copyDir, "worktree", "list"); strings.Contains(list, dir+"/") {
		t.Errorf("the copy still lists the original's worktree:\n%s", list)
	}
	if list := git(t, dir, "worktree", "list"); !strings.Contains(list, filepath.Join(dir, rel)) {
		t.Errorf("the original lost its worktree:\n%s", list)
	}
	assertGitHappy(t, copyDir)
	assertGitHappy(t, dir)
}
