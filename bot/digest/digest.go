package digest

import (
	"sort"
	"time"

	"github.com/autoresearch/autoresearch/bot/chart"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// Digest sums up a window of the loop's work (normally the night before the
// morning digest). Build it with Build or Scheduler.Build; post
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

	// GPUHours is the night's training time in hours (see Build).
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
	Training []Training
}

// Training is an experiment training when the digest is made.
type Training struct {
	Number      int
	Description string
	Percent     float64   // 0..100; 0 when no progress was reported yet
	ETA         time.Time // expected end (zero when unknown)
}

// TrainingNow lists what st says is training, with ETAs counted from now.
func TrainingNow(st research.Status, now time.Time) []Training {
	var out []Training
	add := func(e *research.Experiment, p *research.Progress) {
		if e == nil {
			return
		}
		t := Training{Number: e.Number, Description: e.Description}
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

// Build computes the digest of the window [from, to).
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
// Build is pure: it reads nothing but its arguments.
func Build(history []research.Experiment, night []research.Experiment, ideas []research.Idea, prevBest float64, from, to time.Time) Digest {
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
		if e.Status != research.StatusKeep || !render.HasValue(e) {
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
			if png, err := chart.Render(upTo, chart.Width, chart.Height); err == nil {
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
