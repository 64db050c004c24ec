package research_test

import (
	"context"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
)

// TestConflictingPreparedProposalTrainsOnItsBaseWhileTheModelReproposes:
// pipelined, a proposal prepared while the experiment before it was kept
// touches the same line and no longer applies to the new best. It trains
// on the commit it was written for while the model is asked for the next
// change (the gates make each wait for the other), is judged as a stale
// candidate (a winner adopted and the part of the best it lacks that does
// not set the same lines retried on top, a loser discarded), and the store
// and results.tsv hold every experiment once.
func TestConflictingPreparedProposalTrainsOnItsBaseWhileTheModelReproposes(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	// The gates live outside the repository, seen by every trainer (the
	// proposal worktree's too): a file appearing in a working copy while a
	// trainer runs there would be taken for the trainer's own.
	gates := t.TempDir()
	var h *harness
	started := func(number int) research.Experiment {
		var got research.Experiment
		waitFor(t, func() bool {
			for _, e := range h.rec.kinds(research.EventExperimentStarted) {
				if e.Number == number {
					got = *e.Experiment
					return true
				}
			}
			return false
		})
		return got
	}
	var during research.Status // what trained while the model re-proposed
	h = newHarness(t, dir, research.Config{MaxExperiments: 6, Pipeline: true, TrainEnv: []string{"RESEARCHTEST_DIR=" + gates}},
		// #2, prepared while the baseline trains; it trains until the next
		// proposal is made (on the baseline, as #2 is not judged yet).
		func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.400000")
			researchtest.SetConst(t, req.Dir, "WAIT_FOR", `"p2.made"`)
			researchtest.SetConst(t, req.Dir, "STEPS", "5") // a line no other change sets
			return "lower", nil
		},
		// Made on the baseline while #2 trains; #2's keep touches the same
		// line. It finishes only once the model was asked again.
		func(req research.ProposalRequest) (string, error) {
			researchtest.SetConst(t, req.Dir, "VAL", "1.300000")
			researchtest.SetConst(t, req.Dir, "ALSO_WAIT_FOR", `"reproposed"`)
			researchtest.Write(t, gates, "p2.made", "")
			return "even lower", nil
		},
		// The re-proposal, on #2, while "even lower" trains on the
		// baseline: first the very train.py that trains there (refused),
		func(req research.ProposalRequest) (string, error) {
			started(3)
			during, _ = h.m.Status(context.Background())
			researchtest.SetConst(t, req.Dir, "VAL", "1.300000")
			researchtest.SetConst(t, req.Dir, "WAIT_FOR", `""`)
			researchtest.SetConst(t, req.Dir, "ALSO_WAIT_FOR", `"reproposed"`)
			researchtest.SetConst(t, req.Dir, "STEPS", "4")
			return "same code as even lower", nil
		},
		// then a change of the same line again: it conflicts with "even
		// lower", the adopted best, and loses on #2.
		func(req research.ProposalRequest) (string, error) {
			researchtest.Write(t, gates, "reproposed", "")
			researchtest.SetConst(t, req.Dir, "VAL", "1.350000")
			return "a bit lower", nil
		},
		// Made on "even lower" while "a bit lower" trains (after the
		// retry of STEPS): applies.
		setConst(t, "BONUS", "0.05", "bonus"),
	)
	withWorktrees(h)
	run := h.runToEnd(t, research.StartRequest{Tag: "stale"})
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,keep,discard,discard,keep" {
		t.Fatalf("statuses %s (%s)", got, reasons(exps))
	}
	base, lower, even, part, bit, bonus := exps[0], exps[1], exps[2], exps[3], exps[4], exps[5]
	if lower.Description != "lower" || even.Description != "even lower" || bit.Description != "a bit lower" || bonus.Description != "bonus" ||
		!strings.HasPrefix(part.Description, "retry of the improvement "+lower.Commit[:7]) {
		t.Fatalf("experiments: %s", reasons(exps))
	}

	// "even lower" trained on the baseline, its own base, while the
	// model was asked again.
	if during.Current == nil || during.Current.Number != 3 || during.Current.ParentCommit != base.Commit {
		t.Fatalf("while the model re-proposed, the slot trained %+v, want #3 on the baseline %s", during.Current, base.Commit)
	}
	reqs := h.prop.requests()
	if len(reqs) != 5 || reqs[1].BaseCommit != base.Commit || reqs[2].BaseCommit != lower.Commit || reqs[4].BaseCommit != even.Commit {
		t.Fatalf("proposal bases: %d requests", len(reqs))
	}
	// Judged as a stale candidate: adopted over #2; of #2's change it
	// lacks, what does not set the same lines is retried on top.
	if even.ParentCommit != base.Commit || !strings.Contains(even.Reason, "adopted over a newer best; the parts of "+lower.Commit[:7]+"'s change that do not set its lines are retried on top") || even.Summary.ValBPB != 1.3 {
		t.Errorf("even lower: parent %s, %q, %v", even.ParentCommit, even.Reason, even.Summary.ValBPB)
	}
	if !strings.Contains(even.Diff, "-VAL = 1.500000") || !strings.Contains(even.Diff, "+VAL = 1.300000") {
		t.Errorf("even lower's diff is not against its base:\n%s", even.Diff)
	}
	if part.ParentCommit != even.Commit || !strings.Contains(part.Diff, "+STEPS = 5") || strings.Contains(part.Diff, "VAL") || strings.Contains(part.Diff, "WAIT_FOR") {
		t.Errorf("the retried part: parent %s (want %s), diff:\n%s", part.ParentCommit, even.Commit, part.Diff)
	}
	// The loser trained on #2 and was judged against "even lower".
	if bit.ParentCommit != lower.Commit || !strings.Contains(bit.Reason, "no improvement") {
		t.Errorf("a bit lower: parent %s, %q", bit.ParentCommit, bit.Reason)
	}
	if bonus.ParentCommit != even.Commit || run.BestCommit != bonus.Commit {
		t.Errorf("bonus on %s (want %s); best %s", bonus.ParentCommit, even.Commit, run.BestCommit)
	}
	var conflicts, dropped []string
	for _, e := range h.rec.kinds(research.EventNotice) {
		switch {
		case strings.Contains(e.Text, "conflicts with the new best"):
			conflicts = append(conflicts, e.Text)
		case strings.Contains(e.Text, "no longer applies"):
			dropped = append(dropped, e.Text)
		}
	}
	if len(conflicts) != 2 || !strings.Contains(conflicts[0], `"even lower"`) || !strings.Contains(conflicts[1], `"a bit lower"`) {
		t.Errorf("conflict notices: %q", conflicts)
	}
	if len(dropped) != 0 {
		t.Errorf("dropped: %q", dropped)
	}
	// The same code as the stale candidate in flight was refused.
	refused := h.rec.kinds(research.EventRefused)
	if len(refused) != 1 || !strings.Contains(refused[0].Text, "experiment #3") || !strings.Contains(refused[0].Text, "older commit") {
		t.Errorf("refusals: %+v", refused)
	}

	// Nothing lost or doubled: numbers 1..6 once, every commit in
	// results.tsv once, in the store's order.
	tsv := strings.Split(strings.TrimSpace(researchtest.Read(t, dir, "results.tsv")), "\n")
	if len(tsv) != 1+len(exps) {
		t.Fatalf("results.tsv has %d rows for %d experiments:\n%s", len(tsv)-1, len(exps), strings.Join(tsv, "\n"))
	}
	seen := map[string]bool{}
	for i, e := range exps {
		if e.Number != i+1 || e.Status == research.StatusRunning || seen[e.Commit] {
			t.Errorf("experiment %d: #%d %s %s", i, e.Number, e.Status, e.Commit)
		}
		seen[e.Commit] = true
		if cols := strings.Split(tsv[i+1], "\t"); cols[0] != e.Commit[:7] || cols[3] != e.Status || !strings.HasPrefix(cols[4], e.Description) {
			t.Errorf("results.tsv row %d = %q, store #%d %s %s %q", i+1, tsv[i+1], e.Number, e.Commit[:7], e.Status, e.Description)
		}
	}
	if tip := researchtest.Git(t, dir, "rev-parse", "autoresearch/stale"); tip != run.BestCommit {
		t.Errorf("branch at %s, best %s", tip, run.BestCommit)
	}
	if st := researchtest.Git(t, dir, "status", "--porcelain"); st != "?? notes.txt" { // untracked files stay
		t.Errorf("main worktree status = %q", st)
	}
	if src := researchtest.Git(t, dir, "show", run.BestCommit+":train.py"); !strings.Contains(src, "VAL = 1.300000") || !strings.Contains(src, "BONUS = 0.05") {
		t.Errorf("the best does not hold even lower + bonus:\n%s", src)
	}
	// No extra model call: one conversation per proposal, the refused try
	// included.
	if n := len(reqs); n != 5 {
		t.Errorf("%d proposal requests", n)
	}
}
