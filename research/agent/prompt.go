package agent

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// maxHistoryLines bounds the history section: a long run has hundreds of
// experiments and the oldest say little the recent ones do not.
const maxHistoryLines = 300

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
func BuildPrompt(req research.ProposalRequest) string {
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
	b.WriteString(formatHistory(req.History))
	if req.Best != nil {
		fmt.Fprintf(&b, "Best so far: #%d val_bpb %.6f (%s) %s\n",
			req.Best.Number, req.Best.Summary.ValBPB, short(req.Best.Commit), req.Best.Description)
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

// CommandPrompt is the stdin text of an external agent command.
func CommandPrompt(req research.ProposalRequest) string {
	return commandPreamble + "\n" + BuildPrompt(req) + "\n" + commandInstructions
}

// formatHistory renders one compact line per finished experiment:
//
//	#12 discard 0.993100 (+0.0012) increase LR to 0.04
//
// The delta is against the experiment's parent (the best commit it was made
// on); the first successful experiment shows "base", crashes show "crash".
func formatHistory(hist []research.Experiment) string {
	if len(hist) == 0 {
		return "(none yet: this is the first experiment)\n"
	}
	byCommit := map[string]float64{}
	var b strings.Builder
	var lines []string
	var best float64 // running best, for parents not found by commit
	for _, e := range hist {
		if e.Status == research.StatusRunning {
			continue
		}
		fix := ""
		if e.Attempt > 0 {
			fix = fmt.Sprintf(" [fix %d]", e.Attempt)
		}
		desc := oneLine(e.Description)
		switch {
		case e.Status == research.StatusCrash || e.Summary.ValBPB <= 0:
			reason := ""
			if e.Reason != "" {
				reason = " (" + oneLine(e.Reason) + ")"
			}
			lines = append(lines, fmt.Sprintf("#%d crash%s %s%s", e.Number, fix, desc, reason))
			continue
		}
		parent, ok := byCommit[e.ParentCommit]
		if !ok && e.ParentCommit != "" {
			parent, ok = best, best > 0
		}
		delta := "base"
		if ok {
			delta = fmt.Sprintf("%+.4f", e.Summary.ValBPB-parent)
		}
		lines = append(lines, fmt.Sprintf("#%d %s%s %.6f (%s) %s", e.Number, e.Status, fix, e.Summary.ValBPB, delta, desc))
		if e.Status == research.StatusKeep {
			if e.Commit != "" {
				byCommit[e.Commit] = e.Summary.ValBPB
			}
			if best == 0 || e.Summary.ValBPB < best {
				best = e.Summary.ValBPB
			}
		}
	}
	if n := len(lines) - maxHistoryLines; n > 0 {
		fmt.Fprintf(&b, "(%d earlier experiments omitted)\n", n)
		lines = lines[n:]
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
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

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func short(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
