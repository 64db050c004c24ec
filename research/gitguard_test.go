package research_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// hostile returns a proposal step that splices testdata/hostile/NAME into
// train.py after its imports and makes a real improvement (BONUS), so only
// the snippet's damage can make it fail.
func hostile(t *testing.T, name, bonus string) func(research.ProposalRequest) (string, error) {
	snippet, err := os.ReadFile(filepath.Join("testdata", "hostile", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(req research.ProposalRequest) (string, error) {
		src := researchtest.Read(t, req.Dir, "train.py")
		const anchor = "from prepare import EVAL_TOKENS\n"
		if !strings.Contains(src, anchor) {
			t.Fatalf("train.py lacks %q", anchor)
		}
		researchtest.Write(t, req.Dir, "train.py", strings.Replace(src, anchor, anchor+string(snippet), 1))
		researchtest.SetConst(t, req.Dir, "BONUS", bonus)
		return "hostile " + name, nil
	}
}

func TestTrainerThatChangesGitStateIsACrashAndUndone(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Git(t, dir, "branch", "master")
	researchtest.Git(t, dir, "branch", "keepme")
	researchtest.Git(t, dir, "tag", "v1")
	initial := researchtest.Git(t, dir, "rev-parse", "main")
	configBefore := researchtest.Read(t, dir, ".git/config")
	h := newHarness(t, dir, research.Config{MaxExperiments: 6, FixAttempts: new(0)},
		hostile(t, "git_checkout.py", "0.01"),
		hostile(t, "git_hook.py", "0.01"),
		hostile(t, "git_config.py", "0.01"),
		hostile(t, "git_branch_tag.py", "0.01"),
		setConst(t, "VAL", "1.490000", "honest change"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "g"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,crash,crash,crash,crash,keep" {
		for _, e := range exps {
			t.Logf("#%d %s %s", e.Number, e.Status, e.Reason)
		}
		t.Fatalf("statuses = %s", got)
	}
	wantReasons := []string{
		"train.py changed git state: checked out master",
		"train.py changed git state: installed hook post-commit (removed)",
		"train.py changed git state: edited .git/config",
		"train.py changed git state: created branch evil; deleted branch keepme; moved tag v1 from " + initial[:7],
	}
	for i, want := range wantReasons {
		if got := exps[i+1].Reason; !strings.HasPrefix(got, want) {
			t.Errorf("experiment %d reason = %q, want prefix %q", i+2, got, want)
		}
	}
	// The user's branches and tags are as they were; the run's branch holds
	// the honest keep and is checked out.
	for _, ref := range []string{"master", "main", "keepme", "v1"} {
		if got := researchtest.Git(t, dir, "rev-parse", ref); got != initial {
			t.Errorf("%s at %s, want %s", ref, got, initial)
		}
	}
	if out := researchtest.Git(t, dir, "branch", "--list", "evil"); out != "" {
		t.Errorf("branch evil survived: %q", out)
	}
	if got := researchtest.Git(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/autoresearch/g" {
		t.Errorf("HEAD -> %s", got)
	}
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/g"); tip != exps[5].Commit || run.BestCommit != exps[5].Commit {
		t.Errorf("run branch at %s, best %s, want %s", tip, run.BestCommit, exps[5].Commit)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "hooks", "post-commit")); !os.IsNotExist(err) {
		t.Errorf("post-commit hook still there: %v", err)
	}
	if got := researchtest.Read(t, dir, ".git/config"); got != configBefore {
		t.Errorf(".git/config not restored:\n%s", got)
	}
	if st := researchtest.Git(t, dir, "status", "--porcelain"); st != "?? notes.txt\n?? results.tsv" && st != "?? notes.txt" {
		t.Errorf("git status = %q", st)
	}
}

// A proposer that runs commands (--agent-cmd) can check out another branch
// too: the proposal is refused with the reason, git is put back, and the
// next proposal trains on the run's branch; master never moves.
func TestProposalThatChangesGitStateIsRefused(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	researchtest.Git(t, dir, "branch", "master")
	initial := researchtest.Git(t, dir, "rev-parse", "main")
	h := newHarness(t, dir, research.Config{MaxExperiments: 2, FixAttempts: new(0)},
		func(req research.ProposalRequest) (string, error) {
			researchtest.Git(t, req.Dir, "checkout", "-q", "master")
			researchtest.SetConst(t, req.Dir, "VAL", "1.490000")
			return "checks out master", nil
		},
		setConst(t, "VAL", "1.480000", "honest"),
	)
	run := h.runToEnd(t, research.StartRequest{Tag: "wb"})
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 1 || !strings.HasPrefix(refused[0].Text, "the proposal changed git state: checked out master (restored)") {
		t.Fatalf("refusals: %v", refused)
	}
	if reqs := h.prop.requests(); len(reqs) != 2 || !strings.Contains(reqs[1].Feedback, "never run git") {
		t.Errorf("the model was not told: %+v", reqs)
	}
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep" || exps[1].Description != "honest" {
		t.Fatalf("statuses = %s", got)
	}
	if got := researchtest.Git(t, dir, "rev-parse", "master"); got != initial {
		t.Errorf("master moved to %s", got)
	}
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/wb"); tip != exps[1].Commit {
		t.Errorf("run branch at %s, want %s", tip, exps[1].Commit)
	}
	if got := researchtest.Git(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/autoresearch/wb" {
		t.Errorf("HEAD -> %s", got)
	}
}
