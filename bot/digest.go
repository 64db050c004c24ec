package bot

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Digest sums up a window of the loop's work (normally the night before the
// morning digest). Build it with BuildDigest or DigestScheduler.Build; post
// Text as the channel message and ThreadTexts plus Chart in its thread.
type Digest struct {
	From, To time.Time

	Experiments, Keep, Discard, Crash int
	Repeats                           int // baseline repeats, not counted as discards

	// BestValBPB is the latest run's best val_bpb at To (0 when unknown).
	BestValBPB float64
	// ImprovementSinceLast is how much BestValBPB went down since the last
	// digest (PrevBestValBPB - BestValBPB; positive is better). When the run
	// had no result before From it equals ImprovementSinceBaseline.
	ImprovementSinceLast float64
	// ImprovementSinceBaseline is BaselineValBPB - BestValBPB.
	ImprovementSinceBaseline float64
	// BaselineValBPB is the latest run's baseline (the mean of its baseline
	// runs, research.History.BaselineValue; 0 = none).
	BaselineValBPB float64
	// PrevBestValBPB is the best val_bpb at From (0 = the run had none yet).
	PrevBestValBPB float64

	// GPUHours is the night's training time in hours (see BuildDigest).
	GPUHours float64

	PromptTokens, CompletionTokens int64
	// CostUSD prices those tokens when the model's price is known (0 otherwise).
	CostUSD float64

	// Kept are the night's kept improvements ranked by their delta, best
	// improvement first; KeptDeltas[i] is Kept[i]'s improvement over the best
	// before it (positive is better). A run's baseline is not an improvement
	// and is not listed (it is counted in Keep).
	Kept       []research.Experiment
	KeptDeltas []float64
	// Crashes are the night's crashed experiments in the order they ended.
	Crashes   []research.Experiment
	OpenIdeas []research.Idea

	// NoiseFloor is the run-to-run standard deviation of val_bpb (0 =
	// unknown); improvements below it are flagged as possibly noise.
	NoiseFloor float64
	// Tag is the latest run's tag, when known.
	Tag string

	// Chart is the latest run's progress chart (PNG), nil when there is
	// nothing to draw.
	Chart []byte

	// Empty is true when no experiment finished in the window.
	Empty bool

	// Training is what trains as the digest is made (one per busy slot),
	// with its progress and expected end.
	Training []DigestTraining
}

// DigestTraining is an experiment training when the digest is made.
type DigestTraining struct {
	Number      int
	Description string
	Percent     float64   // 0..100; 0 when no progress was reported yet
	ETA         time.Time // expected end (zero when unknown)
}

// TrainingNow lists what st says is training, with ETAs counted from now.
func TrainingNow(st research.Status, now time.Time) []DigestTraining {
	var out []DigestTraining
	add := func(e *research.Experiment, p *research.Progress) {
		if e == nil {
			return
		}
		t := DigestTraining{Number: e.Number, Description: e.Description}
		if p != nil {
			t.Percent = p.Percent
			if p.Remaining > 0 {
				t.ETA = now.Add(p.Remaining)
			}
		}
		out = append(out, t)
	}
	if len(st.Slots) > 0 {
		for _, sl := range st.Slots {
			add(sl.Current, sl.Progress)
		}
		return out
	}
	add(st.Current, st.Progress)
	return out
}

// Default size of the digest's progress chart.
const (
	DigestChartWidth  = 1200
	DigestChartHeight = 900
)

// BuildDigest computes the digest of the window [from, to).
//
// history holds the experiments of the run(s) the night's experiments belong
// to (normally the whole latest run): it gives the baseline, the best before
// the night and each kept experiment's delta against the best before it.
// Several runs may be mixed; the latest run (the run of the last experiment
// to finish in the night, or of history when the night is empty) gives the
// best, the baseline and the chart. night holds the experiments that finished
// in [from, to); running ones are ignored.
//
// prevBest, when positive, is the best val_bpb at the last digest; otherwise
// it is taken from history (the latest run's best kept result that finished
// before from).
//
// GPU hours sum each experiment's TrainSeconds (the time it held the GPU),
// or TotalSeconds when TrainSeconds was not recorded.
//
// BuildDigest is pure: it reads nothing but its arguments.
func BuildDigest(history []research.Experiment, night []research.Experiment, ideas []research.Idea, prevBest float64, from, to time.Time) Digest {
	d := Digest{From: from, To: to, OpenIdeas: openIdeasOnly(ideas)}

	finished := make([]research.Experiment, 0, len(night))
	for _, e := range night {
		if e.Status == research.StatusRunning {
			continue
		}
		finished = append(finished, e)
	}
	byEnd := func(i, j int) bool { return finished[i].FinishedAt.Before(finished[j].FinishedAt) }
	if !sort.SliceIsSorted(finished, byEnd) {
		sort.SliceStable(finished, byEnd)
	}

	// The latest run: the run of the last experiment to finish.
	latest := int64(0)
	latestSet := false
	if len(finished) > 0 {
		latest, latestSet = finished[len(finished)-1].RunID, true
	} else {
		for _, e := range history {
			if !latestSet || e.RunID > latest {
				latest, latestSet = e.RunID, true
			}
		}
	}

	// Every experiment we know of, per run, ordered by number; the night's
	// copies win over history's (they are the fresher rows).
	runs := digestByRun(history, finished)

	for _, e := range finished {
		d.Experiments++
		switch e.Status {
		case research.StatusKeep:
			d.Keep++
		case research.StatusDiscard:
			if research.RoleOf(e) == research.RoleBaselineRepeat {
				d.Repeats++
			} else {
				d.Discard++
			}
		case research.StatusCrash:
			d.Crash++
			d.Crashes = append(d.Crashes, e)
		}
		d.GPUHours += digestGPUSeconds(e) / 3600
		d.PromptTokens += e.PromptTokens
		d.CompletionTokens += e.CompletionTokens
	}
	d.Empty = d.Experiments == 0

	// Each run's History, read in one pass: the baseline, the best at any
	// moment and what each keep was judged against.
	hists := make(map[int64]*research.History, len(runs))
	for id, exps := range runs {
		h := research.NewHistory(exps)
		hists[id] = &h
	}

	// Kept improvements: delta against the best of the same run before it.
	type ranked struct {
		e     research.Experiment
		delta float64
	}
	keeps := map[int64]map[int]research.Keep{}
	var kept []ranked
	for _, e := range finished {
		if e.Status != research.StatusKeep || !digestHasValue(e) {
			continue
		}
		byNumber, ok := keeps[e.RunID]
		if !ok {
			byNumber = map[int]research.Keep{}
			for _, k := range hists[e.RunID].Kept {
				byNumber[k.Number] = k
			}
			keeps[e.RunID] = byNumber
		}
		k, ok := byNumber[e.Number]
		if !ok || k.Before == 0 {
			continue // the baseline (or first result): nothing to improve on
		}
		kept = append(kept, ranked{e, k.Delta()})
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].delta > kept[j].delta })
	for _, k := range kept {
		d.Kept = append(d.Kept, k.e)
		d.KeptDeltas = append(d.KeptDeltas, k.delta)
	}

	// Best, baseline and the best at the last digest, for the latest run.
	if latestSet {
		exps, h := runs[latest], hists[latest]
		if h == nil {
			h = &research.History{}
		}
		d.BaselineValBPB = h.BaselineValue
		d.BestValBPB = h.BestBefore(to)
		if prevBest > 0 {
			d.PrevBestValBPB = prevBest
		} else {
			d.PrevBestValBPB = h.BestBefore(from)
		}
		if d.BestValBPB > 0 && d.BaselineValBPB > 0 {
			d.ImprovementSinceBaseline = d.BaselineValBPB - d.BestValBPB
		}
		switch {
		case d.BestValBPB > 0 && d.PrevBestValBPB > 0:
			d.ImprovementSinceLast = d.PrevBestValBPB - d.BestValBPB
		default:
			d.ImprovementSinceLast = d.ImprovementSinceBaseline
		}
		if !d.Empty {
			upTo := make([]research.Experiment, 0, len(exps))
			for _, e := range exps {
				if e.Status != research.StatusRunning && e.FinishedAt.Before(to) {
					upTo = append(upTo, e)
				}
			}
			if png, err := RenderProgressChart(upTo, DigestChartWidth, DigestChartHeight); err == nil {
				d.Chart = png
			}
		}
	}
	return d
}

// digestGPUSeconds is the time an experiment held the GPU.
func digestGPUSeconds(e research.Experiment) float64 {
	if e.TrainSeconds > 0 {
		return e.TrainSeconds
	}
	if e.TotalSeconds > 0 {
		return e.TotalSeconds
	}
	return 0
}

func digestHasValue(e research.Experiment) bool {
	return e.Summary.ValBPB > 0 && !math.IsNaN(e.Summary.ValBPB) && !math.IsInf(e.Summary.ValBPB, 0)
}

func openIdeasOnly(ideas []research.Idea) []research.Idea {
	var out []research.Idea
	for _, i := range ideas {
		if i.ConsumedBy == 0 && !i.Unpinned {
			out = append(out, i)
		}
	}
	return out
}

// digestByRun groups experiments by run, ordered by number; night rows
// replace history rows of the same run and number.
func digestByRun(history, night []research.Experiment) map[int64][]research.Experiment {
	type key struct {
		run int64
		num int
	}
	idx := make(map[key]int, len(history))
	all := make([]research.Experiment, 0, len(history)+len(night))
	add := func(e research.Experiment) {
		if e.Number > 0 {
			k := key{e.RunID, e.Number}
			if i, ok := idx[k]; ok {
				all[i] = e
				return
			}
			idx[k] = len(all)
		}
		all = append(all, e)
	}
	for _, e := range history {
		add(e)
	}
	for _, e := range night {
		add(e)
	}
	out := map[int64][]research.Experiment{}
	for _, e := range all {
		out[e.RunID] = append(out[e.RunID], e)
	}
	for _, exps := range out {
		// The store's rows come in order: sorting 10,000 large rows that
		// are sorted already moved megabytes for nothing.
		before := func(i, j int) bool { return digestBefore(exps[i], exps[j]) }
		if !sort.SliceIsSorted(exps, before) {
			sort.SliceStable(exps, before)
		}
	}
	return out
}

// digestBefore orders experiments of one run: by number, then by finish time.
func digestBefore(a, b research.Experiment) bool {
	if a.Number != b.Number && a.Number > 0 && b.Number > 0 {
		return a.Number < b.Number
	}
	return a.FinishedAt.Before(b.FinishedAt)
}

// Text is the digest's headline message (Slack mrkdwn, readable as plain text).
func (d Digest) Text() string {
	var b strings.Builder
	b.WriteString("*Morning digest*")
	if d.Tag != "" {
		fmt.Fprintf(&b, " · run `%s`", digestEscape(d.Tag))
	}
	fmt.Fprintf(&b, " · %s → %s\n", digestTime(d.From), digestTime(d.To))
	if d.Empty {
		b.WriteString("No experiments finished since the last digest.")
		if d.BestValBPB > 0 {
			fmt.Fprintf(&b, "\nBest val_bpb so far: %.6f.", d.BestValBPB)
		}
		if n := len(d.OpenIdeas); n > 0 {
			fmt.Fprintf(&b, "\n%s waiting.", digestPlural(n, "open idea", "open ideas"))
		}
		if line := d.trainingLine(); line != "" {
			b.WriteString("\n" + line)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "*%s*: %d keep · %d discard · %d crash",
		digestPlural(d.Experiments, "experiment", "experiments"), d.Keep, d.Discard, d.Crash)
	if d.Repeats > 0 {
		b.WriteString(" · " + digestPlural(d.Repeats, "baseline repeat", "baseline repeats"))
	}
	b.WriteString("\n")
	if d.BestValBPB > 0 {
		fmt.Fprintf(&b, "Best val_bpb *%.6f*", d.BestValBPB)
		var parts []string
		if d.PrevBestValBPB > 0 {
			parts = append(parts, digestChange(d.ImprovementSinceLast)+" since the last digest")
		}
		if d.BaselineValBPB > 0 {
			parts = append(parts, fmt.Sprintf("%s since the baseline (%.6f)", digestChange(d.ImprovementSinceBaseline), d.BaselineValBPB))
		}
		if len(parts) > 0 {
			b.WriteString(": " + strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	} else {
		b.WriteString("No successful result yet.\n")
	}
	fmt.Fprintf(&b, "GPU time %.1f h · LLM tokens %s prompt + %s completion",
		d.GPUHours, digestCount(d.PromptTokens), digestCount(d.CompletionTokens))
	if d.CostUSD > 0 {
		fmt.Fprintf(&b, " ($%.2f)", d.CostUSD)
	}
	if d.NoiseFloor > 0 {
		fmt.Fprintf(&b, " · noise floor ±%.6f", d.NoiseFloor)
	}
	b.WriteString("\n")
	var thread []string
	if len(d.Kept) > 0 {
		thread = append(thread, digestPlural(len(d.Kept), "kept improvement", "kept improvements"))
	}
	if len(d.Crashes) > 0 {
		thread = append(thread, digestPlural(len(d.Crashes), "crash", "crashes"))
	}
	if len(d.OpenIdeas) > 0 {
		thread = append(thread, digestPlural(len(d.OpenIdeas), "open idea", "open ideas"))
	}
	if len(d.Chart) > 0 {
		thread = append(thread, "the progress chart")
	}
	if len(thread) > 0 {
		b.WriteString("In the thread: " + strings.Join(thread, ", ") + ".\n")
	}
	b.WriteString(d.trainingLine())
	return strings.TrimRight(b.String(), "\n")
}

// digestListLimit bounds the items of one thread message.
const digestListLimit = 25

// ThreadTexts are the messages for the digest's thread, in order: the kept
// improvements ranked by delta (each with its commit, and a link to its
// message when link gives one), the crashes with their reasons and the open
// ideas. Empty sections are left out (except the kept improvements of a
// night that ran experiments). link may be nil.
func (d Digest) ThreadTexts(link func(research.Experiment) string) []string {
	ref := func(e research.Experiment) string {
		if link != nil {
			if url := link(e); url != "" {
				return slackLink(url, fmt.Sprintf("#%d", e.Number))
			}
		}
		return fmt.Sprintf("#%d", e.Number)
	}
	var out []string
	if !d.Empty {
		var b strings.Builder
		if len(d.Kept) == 0 {
			b.WriteString("*Kept improvements*: none in this window.")
		} else {
			b.WriteString("*Kept improvements*, best first:")
			for i, e := range d.Kept {
				if i == digestListLimit {
					fmt.Fprintf(&b, "\n… and %d more", len(d.Kept)-i)
					break
				}
				delta := 0.0
				if i < len(d.KeptDeltas) {
					delta = d.KeptDeltas[i]
				}
				fmt.Fprintf(&b, "\n%d. %s  %.6f  (−%.6f)  %s", i+1, ref(e), e.Summary.ValBPB, delta, digestEscape(digestShort(e.Description, 150)))
				if c := short(e.Commit); c != "" {
					fmt.Fprintf(&b, " · `%s`", c)
				}
				if d.NoiseFloor > 0 && delta < d.NoiseFloor {
					b.WriteString("  _(within noise)_")
				}
			}
		}
		out = append(out, b.String())
	}
	if len(d.Crashes) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "*Crashes* (%d):", len(d.Crashes))
		for i, e := range d.Crashes {
			if i == digestListLimit {
				fmt.Fprintf(&b, "\n… and %d more", len(d.Crashes)-i)
				break
			}
			reason := e.Reason
			if reason == "" {
				reason = "no reason recorded"
			}
			fmt.Fprintf(&b, "\n• %s %s: %s", ref(e), digestEscape(digestShort(e.Description, 120)), digestEscape(digestShort(reason, 200)))
		}
		out = append(out, b.String())
	}
	if len(d.OpenIdeas) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "*Open ideas* (%d):", len(d.OpenIdeas))
		for i, idea := range d.OpenIdeas {
			if i == digestListLimit {
				fmt.Fprintf(&b, "\n… and %d more", len(d.OpenIdeas)-i)
				break
			}
			fmt.Fprintf(&b, "\n• [%d] %s", idea.ID, digestEscape(digestShort(idea.Text, 200)))
			if a := digestAuthor(idea.Author); a != "" {
				b.WriteString(" (" + a + ")")
			}
		}
		out = append(out, b.String())
	}
	return out
}

// digestAuthor mentions a Slack user ID and names other authors as they are.
func digestAuthor(a string) string {
	switch {
	case a == "":
		return ""
	case digestIsSlackUser(a):
		return userMention(a)
	default:
		return digestEscape(a)
	}
}

func digestIsSlackUser(a string) bool {
	if len(a) < 2 || (a[0] != 'U' && a[0] != 'W') {
		return false
	}
	for _, r := range a {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// digestChange words a val_bpb improvement (positive = lower = better).
func digestChange(imp float64) string {
	switch {
	case imp > 0:
		return fmt.Sprintf("−%.6f", imp)
	case imp < 0:
		return fmt.Sprintf("+%.6f", -imp)
	default:
		return "unchanged"
	}
}

func digestTime(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

func digestPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// digestCount writes a token count compactly: 950, 12.3k, 4.56M.
func digestCount(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	default:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
}

// digestShort keeps the first line of s, at most n runes.
func digestShort(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// digestEscape escapes text from the loop, the model or a person for the
// digest's mrkdwn (see escapeText).
func digestEscape(s string) string { return escapeText(s) }

// trainingLine says what is training now and when it should end ("" when
// nothing is).
func (d Digest) trainingLine() string {
	var parts []string
	for _, t := range d.Training {
		s := fmt.Sprintf("#%d %s", t.Number, digestEscape(digestShort(t.Description, 80)))
		switch {
		case t.Percent > 0 && !t.ETA.IsZero():
			s += fmt.Sprintf(" (%.0f%%, done about %s)", t.Percent, t.ETA.In(d.To.Location()).Format("15:04"))
		case t.Percent > 0:
			s += fmt.Sprintf(" (%.0f%%)", t.Percent)
		default:
			s += " (starting)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Training now: " + strings.Join(parts, "; ")
}
