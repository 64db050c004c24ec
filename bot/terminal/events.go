package terminal

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/textclip"
)

// Event prints one loop event. It implements research.Observer.
func (t *Terminal) Event(e research.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	when := e.Time
	if when.IsZero() {
		when = t.now()
	}
	stamp := t.paint(ansiDim, when.Format("15:04:05")) + " "

	if e.Kind == research.EventProgress {
		t.progressLocked(e, stamp)
		return
	}
	switch e.Kind {
	case research.EventExperimentStarted, research.EventExperimentFinished, research.EventRunStopped, research.EventRunStarted:
		// The bar belongs to the experiment that just began or ended.
		t.clearBarLocked()
		t.bar, t.barLen = "", 0
	}
	text := t.eventText(e)
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			b.WriteString(stamp + line + "\n")
		} else {
			b.WriteString("         " + line + "\n")
		}
	}
	t.printLocked(b.String())
}

// eventText renders an event (without timestamp); it also tracks the best
// val_bpb so finished experiments show their delta against what they beat.
func (t *Terminal) eventText(e research.Event) string {
	switch e.Kind {
	case research.EventRunStarted:
		r := e.Run
		verb := e.Text
		if verb == "" {
			verb = "started"
		}
		s := t.paint(ansiBold, fmt.Sprintf("run %s %s", r.Tag, verb)) + " on branch " + r.Branch
		if r.BestValBPB > 0 {
			t.best = r.BestValBPB
			s += fmt.Sprintf(", best %.6f at %s", r.BestValBPB, research.ShortCommit(r.BestCommit))
		} else if r.BaseCommit != "" {
			s += " from " + research.ShortCommit(r.BaseCommit)
		}
		var notes []string
		if r.Proposer != "" {
			notes = append(notes, "proposer "+strings.TrimSpace(r.Proposer+" "+r.Model))
		}
		if r.GPU != "" {
			notes = append(notes, "gpu "+r.GPU)
		}
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		return s

	case research.EventProposing:
		return fmt.Sprintf("proposing #%d", e.Number)

	case research.EventExperimentStarted:
		if e.Experiment == nil {
			return fmt.Sprintf("#%d training", e.Number)
		}
		x := e.Experiment
		s := fmt.Sprintf("#%d training", x.Number)
		if x.Attempt > 0 {
			s += fmt.Sprintf(" (fix attempt %d)", x.Attempt)
		}
		s += ": " + research.OneLine(x.Description)
		if st := research.OneLine(x.DiffStat); st != "" {
			s += "  (" + st + ")"
		}
		for _, i := range e.Ideas {
			s += fmt.Sprintf("\n  using idea [%d] %s", i.ID, research.OneLine(i.Text))
		}
		return s

	case research.EventExperimentFinished:
		if e.Experiment == nil {
			return fmt.Sprintf("#%d finished", e.Number)
		}
		x := *e.Experiment
		prev := t.best
		if prev == 0 && e.Best != nil && e.Best.Number != x.Number {
			prev = e.Best.Summary.ValBPB
		}
		line := render.FormatExperimentLine(x, prev)
		line = strings.Replace(line, x.Status, t.paint(statusColor(x.Status), x.Status), 1)
		if x.Status == research.StatusKeep && prev > 0 && e.Best != nil && e.Best.Number == x.Number {
			line += "  " + t.paint(ansiGreen, "new best")
		}
		switch {
		case e.Best != nil && e.Best.Summary.ValBPB > 0:
			t.best = e.Best.Summary.ValBPB
		case x.Status == research.StatusKeep && x.Summary.ValBPB > 0:
			t.best = x.Summary.ValBPB
		}
		if x.Notes != "" {
			line += "\n" + t.paint(ansiYellow, "warning") + ": " + research.OneLine(x.Notes)
		}
		return line

	case research.EventRefused:
		what := "proposal"
		if e.Number > 0 {
			what = fmt.Sprintf("proposal #%d", e.Number)
		}
		return t.paint(ansiYellow, what+" refused") + ": " + strings.TrimSpace(e.Text)

	case research.EventProgramEdited:
		pe := e.ProgramEdit
		if pe == nil {
			return "program.md edited"
		}
		who := ""
		if pe.Author != "" {
			who = " by " + pe.Author
		}
		if pe.Error != "" {
			return t.paint(ansiRed, "program.md "+pe.Kind+who+" could not be applied") + ": " + pe.Error
		}
		s := "program.md " + pe.Kind + who
		if pe.Commit != "" {
			s += " committed as " + research.ShortCommit(pe.Commit)
		}
		if pe.Kind == "append" && pe.Text != "" {
			s += ": " + textclip.Runes(research.OneLine(pe.Text), 80, "...")
		}
		return s

	case research.EventPaused:
		line := t.paint(ansiYellow, "paused") + byWhom(e.By) + reasonAfter(e.Text)
		if hint := t.resumeHint(e.Run); hint != "" {
			line += "\n" + hint
		}
		return line

	case research.EventResumed:
		return "resumed" + byWhom(e.By) + reasonAfter(e.Text)

	case research.EventNotice:
		return strings.TrimSpace(e.Text)

	case research.EventRunStopped:
		s := t.paint(ansiBold, "run "+e.Run.Tag+" stopped")
		if e.Run.Tag == "" {
			s = t.paint(ansiBold, "run stopped")
		}
		return s + byWhom(e.By) + reasonAfter(e.Text)
	}
	// A kind added after this front end: still say something.
	return strings.TrimSpace(string(e.Kind) + ": " + e.Text)
}

// progressLocked shows a progress report: redrawn in place on a terminal,
// else printed as a line every 10 %.
func (t *Terminal) progressLocked(e research.Event, stamp string) {
	if e.Progress == nil {
		return
	}
	n := e.Number
	if e.Experiment != nil {
		n = e.Experiment.Number
	}
	line := render.FormatProgress(n, *e.Progress)
	if !t.isTTY() {
		if t.gate.allow(n, e.Progress.Percent) {
			t.write(stamp + line + "\n")
		}
		return
	}
	pad := ""
	if w := len(line); w < t.barLen {
		pad = strings.Repeat(" ", t.barLen-w)
	}
	t.bar, t.barLen = line, len(line)
	t.write("\r" + line + pad)
}

func statusColor(status string) string {
	switch status {
	case research.StatusKeep:
		return ansiGreen
	case research.StatusDiscard:
		return ansiYellow
	case research.StatusCrash:
		return ansiRed
	}
	return ""
}

// byWhom names the person behind a pause, resume or stop at the terminal.
func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// reasonAfter appends an event's reason, if it has one.
func reasonAfter(text string) string {
	if t := strings.TrimSpace(text); t != "" {
		return ": " + t
	}
	return ""
}

// resumeHint says how to go on from a pause in this terminal: typing
// `resume` when commands are read here, and always how to continue the run
// from a fresh start, for a run nobody can type into.
func (t *Terminal) resumeHint(run research.Run) string {
	restart := ""
	if run.Tag != "" {
		repo := run.RepoDir
		if repo == "" || strings.ContainsAny(repo, " \t'\"") {
			repo = "DIR"
		}
		restart = fmt.Sprintf("autoresearch run --repo %s --tag %s --resume", repo, run.Tag)
	}
	switch {
	case t.In != nil && restart != "":
		return "to go on: type `resume`, or stop it and start again with `" + restart + "`"
	case t.In != nil:
		return "to go on: type `resume`"
	case restart != "":
		return "to go on: stop it (Ctrl-C or SIGTERM) and start again with `" + restart + "`"
	}
	return ""
}
