package agent

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

var crashReasons = []string{"timeout after 10m0s", "exit status 1", "CUDA out of memory", "exit status 137"}

// synthHistory makes n finished experiments with seeded statuses and values:
// keeps experiments are kept (the baseline is #1), about 15% crash, the rest
// are discards 0.0005-0.03 above the best of their time. descLen pads
// descriptions to that many characters.
func synthHistory(seed uint64, n, keeps, descLen int) []research.Experiment {
	r := rand.New(rand.NewPCG(seed, 0))
	keepAt := map[int]bool{1: true}
	for len(keepAt) < keeps {
		keepAt[2+r.IntN(n-1)] = true
	}
	best, bestCommit := 1.0, ""
	var hist []research.Experiment
	for i := 1; i <= n; i++ {
		desc := fmt.Sprintf("idea %d: tweak %s", i, []string{"lr", "warmup", "depth", "width", "wd"}[r.IntN(5)])
		for len(desc) < descLen {
			desc += " and more words about it"
		}
		e := research.Experiment{
			Number: i, ParentCommit: bestCommit, Commit: fmt.Sprintf("%040x", i), Description: desc,
		}
		switch {
		case keepAt[i]:
			if i > 1 {
				best -= (0.0005 + r.Float64()*0.005) * 30 / float64(keeps) // ends near 0.9 whatever keeps
			}
			e.Status, e.Summary.ValBPB, bestCommit = research.StatusKeep, best, e.Commit
		case r.IntN(100) < 15:
			e.Status, e.Reason = research.StatusCrash, crashReasons[r.IntN(len(crashReasons))]
		default:
			e.Status, e.Summary.ValBPB = research.StatusDiscard, best+0.0005+r.Float64()*0.0295
		}
		hist = append(hist, e)
	}
	return hist
}

// nearMisses computes independently of the code under test which discards
// are within tol (0.1% of the best when tol is 0) of the best of their time.
func nearMisses(hist []research.Experiment, tol float64) []int {
	var out []int
	best := 0.0
	for _, e := range hist {
		switch {
		case e.Status == research.StatusKeep:
			if best == 0 || e.Summary.ValBPB < best {
				best = e.Summary.ValBPB
			}
		case e.Status == research.StatusDiscard && best > 0:
			t := tol
			if t == 0 {
				t = best * 0.001
			}
			if e.Summary.ValBPB-best <= t {
				out = append(out, e.Number)
			}
		}
	}
	return out
}

func hasLine(text string, n int, status string) bool {
	return strings.Contains("\n"+text, fmt.Sprintf("\n#%d %s", n, status))
}

var aggregateLine = regexp.MustCompile(`(?m)^#(\d+)-#(\d+): \d+ discards \(val_bpb [0-9.]+-[0-9.]+\), \d+ crash(es)? \(most common reasons: [^)]* x\d+[^)]*\)$`)

func TestFormatHistoryThousandExperimentsFitsBudget(t *testing.T) {
	hist := synthHistory(1, 1000, 30, 0)
	lessons := []research.Lesson{{RunID: 1, FromNum: 1, ToNum: 400, Text: "- lr above 0.04 diverges (#12, #80)\n- depth 12 OOMs"}}
	req := research.ProposalRequest{History: hist, Lessons: lessons}
	b := HistoryBudget{}
	got := FormatHistory(req, b)
	if n := EstimateTokens(got); n > DefaultHistoryTokens {
		t.Fatalf("history is %d tokens, budget %d", n, DefaultHistoryTokens)
	}
	t.Logf("history at 1,000 experiments: %d bytes, %d estimated tokens", len(got), EstimateTokens(got))
	if !strings.HasPrefix(got, "Lessons from experiments #1-#400:\n- lr above 0.04 diverges (#12, #80)\n- depth 12 OOMs\n") {
		t.Errorf("lessons not first:\n%.300s", got)
	}
	keeps := 0
	for _, e := range hist {
		if e.Status == research.StatusKeep {
			keeps++
			if !hasLine(got, e.Number, "keep ") {
				t.Errorf("kept #%d missing", e.Number)
			}
		}
	}
	if keeps != 30 {
		t.Fatalf("synthetic history has %d keeps", keeps)
	}
	nm := nearMisses(hist, 0)
	if len(nm) == 0 {
		t.Fatal("synthetic history has no near misses; the test would prove nothing")
	}
	for _, n := range nm {
		if !hasLine(got, n, "discard [near miss] ") {
			t.Errorf("near miss #%d missing", n)
		}
	}
	for _, e := range hist[len(hist)-DefaultKeepRecent:] {
		if !hasLine(got, e.Number, e.Status) {
			t.Errorf("recent #%d missing", e.Number)
		}
	}
	// Experiments covered by the lesson and not kept are not listed again.
	for _, e := range hist[:400] {
		if e.Status == research.StatusCrash && hasLine(got, e.Number, "crash") {
			t.Errorf("crash #%d is covered by a lesson but listed", e.Number)
		}
	}
	// The oldest uncovered ones are aggregated, starting right after the lesson.
	m := aggregateLine.FindStringSubmatch(got)
	if m == nil || m[1] != "401" {
		t.Errorf("no aggregate line starting at #401:\n%s", got)
	}
	// Order: lessons, keeps and near misses, other earlier, most recent.
	idx := func(s string) int { return strings.Index(got, s) }
	if !(idx("Lessons from") < idx("Kept improvements") && idx("Kept improvements") < idx("Other earlier") &&
		idx("Other earlier") < idx("Most recent experiments:")) {
		t.Errorf("sections out of order:\n%s", got)
	}
}

func TestFormatHistoryTenThousandLongDescriptions(t *testing.T) {
	hist := synthHistory(7, 10000, 400, 600)
	req := research.ProposalRequest{History: hist, Noise: 0.004}
	got := FormatHistory(req, HistoryBudget{})
	if n := EstimateTokens(got); n > DefaultHistoryTokens {
		t.Fatalf("history is %d tokens, budget %d", n, DefaultHistoryTokens)
	}
	for _, line := range strings.Split(got, "\n") {
		if len(line) > 300 {
			t.Errorf("line of %d bytes: descriptions are not cut: %.80s...", len(line), line)
			break
		}
	}
	// 400 keeps plus many near misses (noise 0.004) cannot all fit: the best
	// are shown and the rest counted.
	re := regexp.MustCompile(`\((\d+) more kept experiments and near misses omitted for space; the best (\d+) by val_bpb are shown\)`)
	m := re.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no omission note:\n%.2000s", got)
	}
	var omitted, shown int
	fmt.Sscan(m[1], &omitted)
	fmt.Sscan(m[2], &shown)
	protected := 0
	recent := hist[len(hist)-DefaultKeepRecent:][0].Number
	nm := map[int]bool{}
	for _, n := range nearMisses(hist, 0.004) {
		nm[n] = true
	}
	for _, e := range hist {
		if e.Number < recent && (e.Status == research.StatusKeep || nm[e.Number]) {
			protected++
		}
	}
	if omitted+shown != protected || shown == 0 {
		t.Errorf("note says %d omitted + %d shown, want %d in all", omitted, shown, protected)
	}
	// The best experiment (the last keep) is always among those shown.
	var best research.Experiment
	for _, e := range hist {
		if e.Status == research.StatusKeep {
			best = e
		}
	}
	if !hasLine(got, best.Number, "keep ") {
		t.Errorf("best #%d missing", best.Number)
	}
	for _, e := range hist[len(hist)-DefaultKeepRecent:] {
		if !hasLine(got, e.Number, e.Status) {
			t.Errorf("recent #%d missing", e.Number)
		}
	}
}

func TestFormatHistoryFitsSmallBudgets(t *testing.T) {
	hist := synthHistory(3, 500, 40, 200)
	lessons := []research.Lesson{{FromNum: 1, ToNum: 100, Text: strings.Repeat("- a long lesson line\n", 200)}}
	for _, max := range []int{50, 300, 1000, 2500} {
		got := FormatHistory(research.ProposalRequest{History: hist, Lessons: lessons}, HistoryBudget{MaxTokens: max, KeepRecent: 10})
		if n := EstimateTokens(got); n > max {
			t.Errorf("budget %d: history is %d tokens", max, n)
		}
		if max >= 1000 && !hasLine(got, 500, hist[499].Status) {
			t.Errorf("budget %d: newest experiment missing:\n%s", max, got)
		}
	}
}

func TestFormatHistoryOlderLinesThenAggregate(t *testing.T) {
	var hist []research.Experiment
	hist = append(hist, research.Experiment{Number: 1, Commit: "k1", Status: research.StatusKeep, Description: "baseline", Summary: research.Summary{ValBPB: 1.0}})
	for i := 2; i <= 60; i++ {
		e := research.Experiment{Number: i, ParentCommit: "k1", Description: fmt.Sprintf("idea %d", i)}
		if i%3 == 0 {
			e.Status, e.Reason = research.StatusCrash, []string{"timeout after 10m0s", "exit status 1"}[i%2]
		} else {
			e.Status, e.Summary.ValBPB = research.StatusDiscard, 1.01+float64(i)/10000
		}
		hist = append(hist, e)
	}
	req := research.ProposalRequest{History: hist}
	// Roomy budget: every experiment on its own line, no aggregate.
	got := FormatHistory(req, HistoryBudget{MaxTokens: 6000, KeepRecent: 10})
	for _, e := range hist {
		if !hasLine(got, e.Number, e.Status) {
			t.Errorf("roomy budget: #%d missing:\n%s", e.Number, got)
			break
		}
	}
	if aggregateLine.MatchString(got) {
		t.Errorf("roomy budget aggregated:\n%s", got)
	}
	// Tight budget: the oldest are aggregated, the newer older ones listed.
	got = FormatHistory(req, HistoryBudget{MaxTokens: 450, KeepRecent: 10})
	if EstimateTokens(got) > 450 {
		t.Fatalf("%d tokens > 450", EstimateTokens(got))
	}
	m := aggregateLine.FindStringSubmatch(got)
	if m == nil || m[1] != "2" {
		t.Fatalf("want an aggregate from #2:\n%s", got)
	}
	var to int
	fmt.Sscan(m[2], &to)
	if to >= 50 || !hasLine(got, to+1, hist[to].Status) || hasLine(got, to, hist[to-1].Status) {
		t.Errorf("aggregate ends at #%d; #%d should be the first listed line:\n%s", to, to+1, got)
	}
	if !strings.Contains(got, "most common reasons: exit status 1 x") || !hasLine(got, 1, "keep") {
		t.Errorf("aggregate reasons or keep missing:\n%s", got)
	}
}

func TestCurrentLessonsAndLessonOverflow(t *testing.T) {
	ls := []research.Lesson{
		{ID: 1, FromNum: 1, ToNum: 100, Text: "old A"},
		{ID: 2, FromNum: 101, ToNum: 200, Text: "old B"},
		{ID: 3, FromNum: 1, ToNum: 200, Text: "merged A+B"},
		{ID: 4, FromNum: 201, ToNum: 300, Text: "C"},
	}
	cur := CurrentLessons(ls)
	if len(cur) != 2 || cur[0].ID != 3 || cur[1].ID != 4 {
		t.Errorf("CurrentLessons = %+v", cur)
	}
	got := FormatHistory(research.ProposalRequest{Lessons: ls}, HistoryBudget{})
	if strings.Contains(got, "old A") || !strings.Contains(got, "Lessons from experiments #1-#200:\nmerged A+B\n") {
		t.Errorf("superseded lessons shown:\n%s", got)
	}

	// Lessons beyond a third of the budget: the newest are kept.
	var many []research.Lesson
	for i := 0; i < 40; i++ {
		many = append(many, research.Lesson{FromNum: i*100 + 1, ToNum: i*100 + 100, Text: fmt.Sprintf("lesson %d ", i) + strings.Repeat("x", 600)})
	}
	got = FormatHistory(research.ProposalRequest{Lessons: many}, HistoryBudget{})
	if EstimateTokens(got) > DefaultHistoryTokens/lessonShare+10 {
		t.Errorf("lessons use %d tokens", EstimateTokens(got))
	}
	if !strings.Contains(got, "lesson 39 ") || strings.Contains(got, "lesson 0 ") ||
		!regexp.MustCompile(`\(\d+ older lessons, #1-#\d+00, omitted for space\)`).MatchString(got) {
		t.Errorf("lesson overflow wrong:\n%.400s", got)
	}
}

func TestBuildPromptWithinBudgetAtThousandExperiments(t *testing.T) {
	dir := newRepo(t)
	var train strings.Builder
	for i := 0; train.Len() < 20<<10; i++ {
		fmt.Fprintf(&train, "x_%d = torch.nn.Linear(768, 768)  # layer %d of the model, with a comment\n", i, i)
	}
	must(t, os.WriteFile(filepath.Join(dir, "train.py"), []byte(train.String()), 0o644))
	program := strings.Repeat("Try simple changes first; keep the code readable; report val_bpb.\n", 8<<10/67)
	req := baseRequest(dir)
	req.Program = program
	req.History = synthHistory(11, 1000, 30, 300)
	req.Best = &req.History[0]
	req.Lessons = []research.Lesson{{FromNum: 1, ToNum: 500, Text: strings.Repeat("- lesson about what helped and what hurt\n", 50)}}
	req.SinceKeep, req.PlateauAfter = 20, 15
	for i := 0; i < 5; i++ {
		req.Ideas = append(req.Ideas, research.Idea{ID: int64(i), Author: "U1", Text: "try a cosine schedule with warmup of 5% of steps"})
	}
	got := BuildPrompt(req)
	n := EstimateTokens(got)
	t.Logf("whole prompt at 1,000 experiments with a 20 KB train.py and 8 KB program.md: %d bytes, %d estimated tokens (budget %d)", len(got), n, PromptBudgetTokens)
	if n > PromptBudgetTokens {
		t.Errorf("prompt is %d tokens, budget %d", n, PromptBudgetTokens)
	}
	if !strings.Contains(got, train.String()[:1000]) || !strings.Contains(got, "## Plateau") || !strings.Contains(got, "Lessons from experiments #1-#500") {
		t.Errorf("prompt lacks train.py, the plateau or the lessons")
	}
	req.History = synthHistory(12, 10000, 300, 1000)
	if n := EstimateTokens(BuildPrompt(req)); n > PromptBudgetTokens {
		t.Errorf("prompt at 10,000 experiments is %d tokens, budget %d", n, PromptBudgetTokens)
	}
}
