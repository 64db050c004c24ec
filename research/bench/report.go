package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Print writes the report as the tables `autoresearch bench` shows: the
// loop runs, each scenario that ran, then every figure with its target and
// a summary line that names what missed.
func (rep Report) Print(w io.Writer) {
	p := rep.Params
	fmt.Fprintf(w, "\nautoresearch bench: T=%s per training run, LLM latency %s (%s on %d slots), %d experiments per 1-slot run, .venv of %d files, %s\n\n",
		p.Train, p.Latency, p.SlotsLatency, p.Slots, p.Experiments, p.VenvFiles, p.Python)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rep.Runs) == 0 {
		tw = tabwriter.NewWriter(io.Discard, 0, 0, 2, ' ', 0)
	}
	fmt.Fprintln(tw, "run\tslots\tpipeline\tLLM latency\texperiments\tkeep/discard/crash\twall\toccupancy (whole run)\texp/hour\tgap p50 / p95\tLLM requests")
	for _, r := range rep.Runs {
		f := r.Figures
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%d\t%d/%d/%d\t%s\t%.3f (%.3f)\t%.0f\t%s / %s\t%d\n",
			r.Name, r.Slots, r.Pipeline, r.Latency, f.Experiments, r.Keep, r.Discard, r.Crash,
			r.Wall.Round(100*time.Millisecond), f.Occupancy, f.RunOccupancy, f.ExpPerHour, fmtMS(f.ProcessGap.P50), fmtMS(f.ProcessGap.P95), r.LLM.Requests)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printHistory(w, rep.History)
	printLandscape(w, rep.Landscape)
	printBigTree(w, rep.BigTree)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmeasured\ttarget\tresult")
	for _, f := range rep.Figures {
		target := f.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Shown, target, f.Result)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if rep.Misses > 0 {
		var names []string
		for _, f := range rep.Figures {
			if f.Result == "MISS" {
				names = append(names, strings.TrimSpace(f.Name))
			}
		}
		fmt.Fprintf(w, "MISS: %d target(s) missed: %s\n", rep.Misses, strings.Join(names, "; "))
	} else {
		fmt.Fprintln(w, "all targets met")
	}
	if note := conflictNote(rep); note != "" {
		fmt.Fprintln(w, note)
	}
	fmt.Fprintln(w, "occupancy and exp/hour are the steady state: per slot, from its first experiment after the baseline to its last end, summed over slots (the whole-run figures include the baseline ramp-up); a gap is one trainer's end stamp to the next one's start stamp on the same slot, the transition out of the baseline excluded.")
}

// printHistory prints the per-size table of the history scenario.
func printHistory(w io.Writer, h HistoryReport) {
	if len(h.Stages) == 0 {
		return
	}
	fmt.Fprintf(w, "history scaling: a run resumed at each size does %d experiments (sweep proposer, instant trainer, sequential); filler rows inserted in %s\n",
		h.PerRun, h.Build.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "experiments\tran\tharness p50 / p95 per experiment\tresume\tstatus\tresults\tdigest\tVmRSS\tVmHWM")
	for _, st := range h.Stages {
		fmt.Fprintf(tw, "%d\t%d\t%s / %s\t%s\t%s\t%s\t%s\t%.1f MiB\t%.1f MiB\n", st.N, st.Ran, fmtMS(st.Cycle.P50), fmtMS(st.Cycle.P95),
			fmtMS(st.Resume), fmtMS(st.Status), fmtMS(st.Results), fmtMS(st.Digest),
			float64(st.Memory.RSSBytes)/(1<<20), float64(st.Memory.HWMBytes)/(1<<20))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printLandscape prints the early-stopping scenario's off/on table.
func printLandscape(w io.Writer, l *LandscapeReport) {
	if l == nil {
		return
	}
	kinds := []string{ShapeWorse, ShapeNeutral, ShapeBetter, ShapeLateBloomer}
	var mix []string
	for _, k := range kinds {
		mix = append(mix, fmt.Sprintf("%d %s", l.Kinds[k], k))
	}
	fmt.Fprintf(w, "landscape: %d simulated loss curves (%s), %d progress lines each\n", l.Shapes, strings.Join(mix, ", "), landscapeSteps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "early stop\texperiments\twall\texp/hour\ttraining s\tkeeps\tstopped (worse/neutral/better/late)\tmean stop at\twinners stopped")
	for _, r := range []LandscapeRun{l.Off, l.On} {
		fmt.Fprintf(tw, "%v\t%d\t%s\t%.0f\t%.1f\t%d\t%d/%d/%d/%d\t%.0f%%\t%d\n", r.EarlyStop, r.Experiments, r.Wall.Round(100*time.Millisecond),
			r.ExpPerHour, r.TrainSeconds, r.Keeps, r.Stopped[ShapeWorse], r.Stopped[ShapeNeutral], r.Stopped[ShapeBetter],
			r.Stopped[ShapeLateBloomer], r.MeanStopPct, r.WinnersStopped)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printBigTree prints the big-tree scenario's side-by-side table.
func printBigTree(w io.Writer, r BigTreeReport) {
	if r.Harness.Experiments == 0 {
		return
	}
	fmt.Fprintf(w, "big tree: %d tracked and %d untracked (unignored) files, built in %s; %d training runs of %s per loop, sequential\n",
		r.Params.Tracked, r.Params.Untracked, r.Build.Round(time.Millisecond), r.Params.Experiments, r.Params.Train)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "loop\truns\tkeep\twall\tgap p50 / p90\town share p50 / p90")
	for _, l := range []struct {
		name string
		g    LoopGaps
	}{{"harness", r.Harness}, {"git CLI (bash)", r.Shell}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s / %s\t%s / %s\n", l.name, l.g.Experiments, l.g.Keep, l.g.Wall.Round(100*time.Millisecond),
			fmtMS(l.g.Gap.P50), fmtMS(l.g.GapP90), fmtMS(l.g.Own.P50), fmtMS(l.g.OwnP90))
	}
	tw.Flush()
	fmt.Fprintln(w, "gap: one trainer's end stamp to the next one's start stamp (the interpreter's start included); own share: the training command returned to the next one called.")
	fmt.Fprintln(w)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtMS shows a duration in milliseconds, long ones in seconds.
func fmtMS(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%.0f ms", ms(d))
}
