package agent

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// promptFileCap bounds each editable file embedded in the prompt.
const promptFileCap = 200 << 10

// commandInstructions tells an external agent (which has no tools from us)
// how to hand its change back.
const commandInstructions = `## How to work (external agent)
You run as a command inside the research repository. Edit the editable files
directly in the current directory; change nothing else, create no files, and
do not run git or the training (the harness commits, trains and records the
result). When done, print one final line:
DESCRIPTION: <one line, at most 200 characters, saying what this experiment tries>
`

// commandPreamble gives an external agent the essentials of program.md
// (the tool descriptions there do not apply to it).
const commandPreamble = `You are an autonomous ML researcher. Make ONE change to the editable files
that may lower val_bpb (validation bits per byte, lower is better) of a model
that trains for a fixed time budget. Only the editable files may change; the
read-only files (prepare.py: data, tokenizer, evaluation) must never change;
add no packages. Prefer simple changes; do not repeat discarded ideas
unchanged; consider pinned ideas first.
`

// BuildPrompt renders everything a proposer needs to know about the next
// experiment as one text: the research program, the editable files, the
// history, pinned ideas, harness feedback and a crash to fix. The LLM
// proposer sends it as the first user message; the command proposer prepends
// commandPreamble, appends commandInstructions and passes it on stdin.
//
// The history part is FormatHistory with the default HistoryBudget, so the
// prompt stays within PromptBudgetTokens at any number of experiments (for
// editable files and program.md of the sizes documented there).
func BuildPrompt(req research.ProposalRequest) string {
	return BuildPromptBudget(req, HistoryBudget{})
}

// BuildPromptBudget is BuildPrompt with the history bounded by hb.
func BuildPromptBudget(req research.ProposalRequest, hb HistoryBudget) string {
	var b strings.Builder
	section := func(title string) { fmt.Fprintf(&b, "\n## %s\n", title) }

	b.WriteString("# Next experiment\n")
	section("Research program (program.md of the research repository)")
	if strings.TrimSpace(req.Program) == "" {
		b.WriteString("(empty)\n")
	} else {
		b.WriteString(strings.TrimRight(req.Program, "\n") + "\n")
	}

	section("Files")
	fmt.Fprintf(&b, "Editable (you may change only these): %s\n", strings.Join(req.Editable, ", "))
	if len(req.ReadOnly) > 0 {
		fmt.Fprintf(&b, "Read-only (must never change): %s\n", strings.Join(req.ReadOnly, ", "))
	}
	if names := listRepo(req.Dir); len(names) > 0 {
		fmt.Fprintf(&b, "Repository root: %s\n", strings.Join(names, " "))
	}
	ws := newWorkspace(req.Dir, req.Editable, promptFileCap)
	for _, e := range req.Editable {
		fmt.Fprintf(&b, "\n### %s (current content)\n", e)
		b.WriteString(fence(editableContent(ws, e)))
	}

	section("Results so far (experiment, status, val_bpb, change vs. its parent, description)")
	b.WriteString(FormatHistory(req, hb))
	if req.Best != nil {
		fmt.Fprintf(&b, "Best so far: #%d val_bpb %.6f%s (%s) %s\n",
			req.Best.Number, req.Best.Summary.ValBPB, bestMean(req), short(req.Best.Commit), req.Best.Description)
	}

	if plateau(req) {
		section("Plateau")
		fmt.Fprintf(&b, "%d experiments without an improvement: propose a structurally different idea "+
			"(architecture, optimizer, schedule, data order), not another small tweak of a constant already tried.\n",
			req.SinceKeep)
	}

	if len(req.Ideas) > 0 {
		section("Pinned ideas from the team (consider these first)")
		for _, id := range req.Ideas {
			fmt.Fprintf(&b, "- idea %d by %s: %s\n", id.ID, orDash(id.Author), oneLine(id.Text))
		}
	}

	if strings.TrimSpace(req.Feedback) != "" {
		section("Your previous proposal was refused")
		b.WriteString(strings.TrimRight(req.Feedback, "\n") + "\n")
		b.WriteString("Address this in your new proposal.\n")
	}

	if f := req.Fix; f != nil {
		section(fmt.Sprintf("Crash to fix (fix attempt %d)", f.Attempt))
		fmt.Fprintf(&b, "Experiment #%d %q crashed", f.Experiment.Number, f.Experiment.Description)
		if f.Experiment.Reason != "" {
			fmt.Fprintf(&b, " (%s)", f.Experiment.Reason)
		}
		b.WriteString(". The files above already contain that crashed change.\n")
		b.WriteString("Fix this same idea so it runs; do not switch to a different idea. ")
		b.WriteString("Describe it as the same idea with the fix, e.g. \"<idea> (fix: ...)\".\n")
		b.WriteString("Tail of the training log:\n")
		b.WriteString(fence(f.LogTail))
	}
	return b.String()
}

// plateau tells whether the run has gone PlateauAfter experiments without a
// keep. A crash fix is exempt: it must repair the same idea.
func plateau(req research.ProposalRequest) bool {
	return req.PlateauAfter > 0 && req.SinceKeep >= req.PlateauAfter && req.Fix == nil
}

// CommandPrompt is the stdin text of an external agent command.
func CommandPrompt(req research.ProposalRequest) string {
	return commandPreamble + "\n" + BuildPrompt(req) + "\n" + commandInstructions
}

// editableContent reads an editable file for the prompt through the same
// path rules as the tools, so a symlinked train.py is not followed.
func editableContent(ws *workspace, name string) string {
	rel, abs, err := ws.resolve(name)
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	data, size, err := ws.readCapped(rel, abs)
	if err != nil {
		return "(does not exist yet)"
	}
	s := string(data)
	if int64(len(data)) < size {
		s += fmt.Sprintf("\n[truncated: %d of %d bytes shown; use read_file for the rest]", len(data), size)
	}
	return s
}

// listRepo names the top-level entries (directories with a trailing slash),
// so the model knows what it may read without guessing.
func listRepo(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if n == ".git" || strings.HasPrefix(n, ".agent-write-") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// fence wraps text in a code fence long enough not to be closed by the text.
func fence(s string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return f + "\n" + s + f + "\n"
}

// The domain's text helpers, under the names this package uses.
var (
	oneLine = research.OneLine
	short   = research.ShortCommit
)

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bestMean notes the mean the judge compares with when the best is one
// (the baseline with its repeats, a confirmed keep): "" otherwise.
func bestMean(req research.ProposalRequest) string {
	if req.BestValue <= 0 || len(req.BestNumbers) < 2 || req.BestValue == req.Best.Summary.ValBPB {
		return ""
	}
	nums := make([]string, len(req.BestNumbers))
	for i, n := range req.BestNumbers {
		nums[i] = fmt.Sprintf("#%d", n)
	}
	return fmt.Sprintf(", judged as %.6f, the mean of %s", req.BestValue, strings.Join(nums, ", "))
}
