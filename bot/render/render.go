package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Plain-text rendering shared by the terminal and the Slack fallback text.
// Conventions: val_bpb with 6 decimals (as results.tsv), delta = val_bpb -
// best so negative is better, memory in GB of peak VRAM, experiments as #N.

// FormatDuration renders a duration compactly at second precision:
// "42s", "5m02s", "1h05m".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// FormatExperimentLine renders one experiment on one line, e.g.
//
//	#12 keep    0.993100 (-0.004700)  44.0 GB  5m02s  increase LR to 0.04
//	#13 crash   1m12s  add flash attention  (CUDA out of memory)
//
// best is the best val_bpb the experiment competed against; 0 leaves the
// delta out (the baseline has nothing to compare with).
func FormatExperimentLine(e research.Experiment, best float64) string {
	var parts []string
	early := research.WasStoppedEarly(e) // no val_bpb: the reason instead
	switch {
	case early:
	case e.Status == research.StatusKeep, e.Status == research.StatusDiscard:
		v := fmt.Sprintf("%.6f", e.Summary.ValBPB)
		if best > 0 {
			v += fmt.Sprintf(" (%+.6f)", e.Summary.ValBPB-best)
		}
		parts = append(parts, v)
		if gb := MemGB(e); gb > 0 {
			parts = append(parts, fmt.Sprintf("%.1f GB", gb))
		}
	}
	if d := ExperimentDuration(e); d > 0 {
		parts = append(parts, FormatDuration(d))
	}
	if desc := research.OneLine(e.Description); desc != "" {
		parts = append(parts, desc)
	}
	if (early || e.Status == research.StatusCrash) && e.Reason != "" {
		parts = append(parts, "("+research.OneLine(e.Reason)+")")
	}
	line := fmt.Sprintf("#%d %-7s", e.Number, e.Status)
	if len(parts) > 0 {
		line += " " + strings.Join(parts, "  ")
	}
	return line
}

// FormatExperiment renders everything `show N` tells about an experiment:
// its line, commit, reason, summary figures, and the diff.
func FormatExperiment(e research.Experiment) string {
	var b strings.Builder
	b.WriteString(FormatExperimentLine(e, 0) + "\n")
	if e.Commit != "" {
		fmt.Fprintf(&b, "commit:  %s", research.ShortCommit(e.Commit))
		if e.ParentCommit != "" {
			fmt.Fprintf(&b, " (on %s)", research.ShortCommit(e.ParentCommit))
		}
		b.WriteString("\n")
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, "reason:  %s\n", research.OneLine(e.Reason))
	}
	if e.Notes != "" {
		fmt.Fprintf(&b, "notes:   %s\n", research.OneLine(e.Notes))
	}
	if s := formatSummary(e.Summary); s != "" {
		fmt.Fprintf(&b, "summary: %s\n", s)
	}
	if e.ProposeSeconds > 0 || e.PromptTokens+e.CompletionTokens > 0 {
		fmt.Fprintf(&b, "propose: %s, %s prompt + %s completion tokens\n",
			FormatDuration(seconds(e.ProposeSeconds)), HumanCount(e.PromptTokens), HumanCount(e.CompletionTokens))
	}
	if !e.StartedAt.IsZero() {
		fmt.Fprintf(&b, "started: %s", e.StartedAt.Format("2006-01-02 15:04:05"))
		if e.GPU != "" {
			fmt.Fprintf(&b, " on gpu %s", e.GPU)
		}
		b.WriteString("\n")
	}
	if e.DiffStat != "" {
		b.WriteString(strings.TrimRight(e.DiffStat, "\n") + "\n")
	}
	if e.Diff != "" {
		b.WriteString("\n" + strings.TrimRight(e.Diff, "\n") + "\n")
	} else {
		b.WriteString("(no diff)\n")
	}
	return b.String()
}

func formatSummary(s research.Summary) string {
	var parts []string
	add := func(ok bool, format string, v any) {
		if ok {
			parts = append(parts, fmt.Sprintf(format, v))
		}
	}
	add(s.ValBPB > 0, "val_bpb %.6f", s.ValBPB)
	add(s.PeakVRAMMB > 0, "%.1f GB", s.PeakVRAMMB/1024)
	add(s.TrainingSeconds > 0, "trained %s", FormatDuration(seconds(s.TrainingSeconds)))
	add(s.MFUPercent > 0, "mfu %.1f%%", s.MFUPercent)
	add(s.TotalTokensM > 0, "%.1fM tokens", s.TotalTokensM)
	add(s.NumSteps > 0, "%d steps", s.NumSteps)
	add(s.NumParamsM > 0, "%.1fM params", s.NumParamsM)
	add(s.Depth > 0, "depth %d", s.Depth)
	return strings.Join(parts, ", ")
}

// FormatStatus renders a status snapshot for `status`.
func FormatStatus(s research.Status) string {
	if s.Run == nil {
		return "no run yet; start one with \"start TAG\"\n"
	}
	r := s.Run
	var b strings.Builder
	fmt.Fprintf(&b, "run %s on %s: %s\n", r.Tag, r.Branch, PhaseText(s))
	if s.Current != nil {
		fmt.Fprintf(&b, "training:  #%d %s\n", s.Current.Number, research.OneLine(s.Current.Description))
		if s.Progress != nil {
			fmt.Fprintf(&b, "progress:  %s\n", ProgressText(*s.Progress))
		}
	}
	bestVal, bestNote := ShownBest(s)
	baseVal, baseNote := ShownBaseline(s)
	if s.Best != nil {
		fmt.Fprintf(&b, "best:      #%d %.6f%s", s.Best.Number, bestVal, bestNote)
		if s.Baseline != nil && baseVal > 0 && s.Baseline.Number != s.Best.Number {
			fmt.Fprintf(&b, " (%+.6f vs baseline)", bestVal-baseVal)
		}
		if s.Best.Commit != "" {
			fmt.Fprintf(&b, "  %s", research.ShortCommit(s.Best.Commit))
		}
		if d := research.OneLine(s.Best.Description); d != "" {
			fmt.Fprintf(&b, "  %s", d)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("best:      none yet\n")
	}
	if s.Baseline != nil {
		fmt.Fprintf(&b, "baseline:  #%d %.6f%s", s.Baseline.Number, baseVal, baseNote)
		if noise := ShownNoise(s); noise > 0 {
			fmt.Fprintf(&b, "  (noise ±%.6f)", noise)
		}
		b.WriteString("\n")
	}
	c := s.Counts
	fmt.Fprintf(&b, "experiments: %d (%d keep, %d discard, %d crash", c.Total(), c.Keep, c.Discard, c.Crash)
	if c.Repeats > 0 {
		fmt.Fprintf(&b, ", %s", Plural(c.Repeats, "baseline repeat", "baseline repeats"))
	}
	if c.Running > 0 {
		fmt.Fprintf(&b, ", %d running", c.Running)
	}
	b.WriteString(")\n")
	if s.Usage.PromptTokens+s.Usage.CompletionTokens > 0 {
		fmt.Fprintf(&b, "tokens:    %s prompt + %s completion", HumanCount(s.Usage.PromptTokens), HumanCount(s.Usage.CompletionTokens))
		if s.CostUSD > 0 {
			fmt.Fprintf(&b, " ($%.2f)", s.CostUSD)
		}
		b.WriteString("\n")
	}
	if s.LastTelemetry != nil {
		fmt.Fprintf(&b, "last GPU:  %s\n", FormatTelemetry(*s.LastTelemetry))
	}
	if r.GPU != "" {
		fmt.Fprintf(&b, "gpu:       %s\n", r.GPU)
	}
	if len(s.Slots) > 1 {
		fmt.Fprintf(&b, "slots (%d):\n", len(s.Slots))
		for _, sl := range s.Slots {
			fmt.Fprintf(&b, "  %-8s %s\n", sl.Name, slotText(sl))
		}
	}
	if len(s.OpenIdeas) == 0 {
		b.WriteString("open ideas: none\n")
	} else {
		fmt.Fprintf(&b, "open ideas (%d):\n", len(s.OpenIdeas))
		for _, i := range s.OpenIdeas {
			b.WriteString("  " + ideaLine(i) + "\n")
		}
	}
	return b.String()
}

// slotText is what one slot does: its experiment and progress, or idle.
func slotText(sl research.SlotStatus) string {
	if sl.Current == nil {
		return "idle"
	}
	t := fmt.Sprintf("#%d %s", sl.Current.Number, research.OneLine(sl.Current.Description))
	if sl.Progress != nil {
		t += "  (" + ProgressText(*sl.Progress) + ")"
	}
	return t
}

// FormatTelemetry renders an experiment's GPU aggregates on one line, e.g.
// "GPU util 97% · peak 44.0 GB · max 71°C · 612 W", followed by why the
// result is not comparable when the GPU throttled or was shared.
func FormatTelemetry(t research.Telemetry) string {
	var parts []string
	if t.Samples > 0 || t.MeanUtilPct > 0 {
		parts = append(parts, fmt.Sprintf("util %.0f%%", t.MeanUtilPct))
	}
	if t.PeakMemoryMB > 0 {
		parts = append(parts, fmt.Sprintf("peak %.1f GB", t.PeakMemoryMB/1024))
	}
	if t.MaxTempC > 0 {
		parts = append(parts, fmt.Sprintf("max %.0f°C", t.MaxTempC))
	}
	if t.MeanPowerW > 0 {
		parts = append(parts, fmt.Sprintf("%.0f W", t.MeanPowerW))
	}
	s := "GPU " + strings.Join(parts, " · ")
	if len(parts) == 0 {
		s = "GPU: no samples"
	}
	if t.Comparable() {
		return s
	}
	var why []string
	if t.Throttled {
		w := "throttled"
		if len(t.ThrottleReason) > 0 {
			w += " (" + strings.Join(t.ThrottleReason, ", ") + ")"
		}
		why = append(why, w)
	}
	if t.Shared {
		w := "shared"
		if len(t.SharedBy) > 0 {
			w += " with " + strings.Join(t.SharedBy, ", ")
		}
		why = append(why, w)
	}
	return s + " · NOT COMPARABLE: " + strings.Join(why, "; ")
}

func PhaseText(s research.Status) string {
	switch {
	case !s.Active:
		if s.Run.State != "" {
			return "not running (" + s.Run.State + ")"
		}
		return "not running"
	case s.Phase == research.PhasePaused && s.PauseReason != "":
		return "paused (" + research.OneLine(s.PauseReason) + ")"
	case s.Phase == research.PhaseStopping:
		return "stopping after the running experiment"
	case s.Current != nil:
		// One phase: with pipelining the next proposal is prepared while
		// this one trains, which is part of training, not a second phase.
		if s.Proposing > 0 {
			return fmt.Sprintf("training #%d, preparing #%d", s.Current.Number, s.Proposing)
		}
		return fmt.Sprintf("training #%d", s.Current.Number)
	case s.Phase == research.PhaseProposing && s.Proposing > 0:
		return fmt.Sprintf("proposing #%d", s.Proposing)
	case s.Phase == "":
		return "active"
	}
	return string(s.Phase)
}

// FormatResultsTable renders experiments (oldest first) as an aligned
// table. The delta is against the best kept val_bpb before each row, so it
// is "-" until the table has seen a kept experiment.
func FormatResultsTable(exps []research.Experiment) string {
	if len(exps) == 0 {
		return "no experiments yet\n"
	}
	rows := [][]string{{"#", "commit", "val_bpb", "delta", "mem GB", "status", "time", "description"}}
	best := 0.0
	for _, e := range exps {
		val, delta, mem, dur := "-", "-", "-", "-"
		ok := (e.Status == research.StatusKeep || e.Status == research.StatusDiscard) && e.Summary.ValBPB > 0
		if ok {
			val = fmt.Sprintf("%.6f", e.Summary.ValBPB)
			if best > 0 {
				delta = fmt.Sprintf("%+.6f", e.Summary.ValBPB-best)
			}
			mem = fmt.Sprintf("%.1f", MemGB(e))
		}
		if d := ExperimentDuration(e); d > 0 {
			dur = FormatDuration(d)
		}
		desc := research.OneLine(e.Description)
		if (e.Status == research.StatusCrash || research.WasStoppedEarly(e)) && e.Reason != "" {
			desc += " (" + research.OneLine(e.Reason) + ")"
		}
		commit := research.ShortCommit(e.Commit)
		if commit == "" {
			commit = "-"
		}
		rows = append(rows, []string{fmt.Sprint(e.Number), commit, val, delta, mem, e.Status, dur, desc})
		if ok && e.Status == research.StatusKeep {
			best = e.Summary.ValBPB
		}
	}
	return alignTable(rows, []bool{true, false, true, true, true, false, true, false})
}

// alignTable pads columns to equal width, right-aligning where right[i],
// and never pads the last column (no trailing spaces).
func alignTable(rows [][]string, right []bool) string {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			switch {
			case right[i]:
				line.WriteString(pad + c)
			case i == len(r)-1:
				line.WriteString(c)
			default:
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

// FormatIdeas lists ideas, one per line, as "[ID] text  (by AUTHOR)".
func FormatIdeas(ideas []research.Idea) string {
	if len(ideas) == 0 {
		return "no open ideas; add one with \"idea TEXT\"\n"
	}
	var b strings.Builder
	for _, i := range ideas {
		b.WriteString(ideaLine(i) + "\n")
	}
	return b.String()
}

func ideaLine(i research.Idea) string {
	notes := []string{}
	if i.Author != "" {
		notes = append(notes, "by "+i.Author)
	}
	if i.ConsumedBy != 0 {
		notes = append(notes, "used")
	}
	if i.Unpinned {
		notes = append(notes, "unpinned")
	}
	line := fmt.Sprintf("[%d] %s", i.ID, research.OneLine(i.Text))
	if len(notes) > 0 {
		line += "  (" + strings.Join(notes, ", ") + ")"
	}
	return line
}

// FormatLogTail returns the last n lines of a training log. Progress
// updates are joined by \r in the log (a terminal shows only the latest), so
// each line is reduced to its last \r-separated segment.
func FormatLogTail(log string, n int) string {
	tail := research.Tail([]byte(log), n)
	if tail == "" {
		return ""
	}
	return tail + "\n"
}
