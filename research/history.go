package research

import (
	"context"
	"sort"
	"sync"

	"github.com/autoresearch/autoresearch/research/patch"
)

// promptWindow is how many of the most recent experiments a proposal's
// History always holds. Runs up to this size get their whole history, so
// the prompt of a small run is exactly what it was; longer runs get this
// window plus every kept experiment, near miss and experiment made on the
// proposal's base (see runHistory.forProposal).
const promptWindow = 400

// notableCap bounds the older kept experiments and near misses a proposal
// gets beyond the window: the prompt lists only the best that fit anyway.
const notableCap = 400

// nearFactor widens the near-miss tolerance when an experiment is filed as
// notable: the prompt builder decides near misses against the noise of the
// moment, so the session keeps a superset.
const nearFactor = 2

// runHistory is the session's in-memory view of the run's experiments: it
// is read from the store once when the session starts and then follows
// every start and finish, so that proposing and judging an experiment cost
// the same at the 10,000th experiment as at the 10th. Rows are brief: no
// diffs and no log tails (the repeat check keeps fingerprints instead).
type runHistory struct {
	mu      sync.Mutex
	runID   int64
	store   Store
	rows    []Experiment     // by Number, without Diff and LogTail
	pos     map[int]int      // Number -> index in rows
	facts   History          // baseline, best, noise and counts, in the order experiments finished
	notable []int            // indexes of keeps and near misses, oldest first
	onBase  map[string][]int // parent commit -> indexes of the experiments made on it
	// repeats indexes the normalized change of every experiment by its
	// base, loaded per base on first use (bases never asked about cost
	// nothing): base -> fingerprint -> Number of the first experiment.
	repeats map[string]map[string]int
}

// loadHistory reads the run's experiments once.
func loadHistory(ctx context.Context, st Store, runID int64, noise float64) (*runHistory, error) {
	h := &runHistory{runID: runID, store: st, pos: map[int]int{},
		onBase: map[string][]int{}, repeats: map[string]map[string]int{}}
	exps, err := st.ExperimentsBrief(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, e := range exps {
		h.add(e, noise)
	}
	return h, nil
}

// add files a new experiment (started or imported) at the end.
func (h *runHistory) add(e Experiment, noise float64) {
	if i, ok := h.pos[e.Number]; ok {
		h.update(i, e, noise)
		return
	}
	diff := e.Diff
	e.Diff, e.LogTail = "", ""
	i := len(h.rows)
	h.rows = append(h.rows, e)
	h.pos[e.Number] = i
	h.onBase[e.ParentCommit] = append(h.onBase[e.ParentCommit], i)
	h.facts.Add(e)
	h.file(i, noise)
	if fps, ok := h.repeats[e.ParentCommit]; ok {
		indexRepeat(fps, e.Number, e.Attempt, diff)
	}
}

// update replaces row i with its newer state (a finish).
func (h *runHistory) update(i int, e Experiment, noise float64) {
	e.Diff, e.LogTail = "", ""
	old := h.rows[i]
	h.rows[i] = e
	if old.Status != StatusRunning {
		// A finished row changed again: never seen in practice;
		// recompute rather than guess.
		h.facts = NewHistory(h.rows)
	} else {
		h.facts.Finish(old, e)
	}
	h.file(i, noise)
}

// file updates the notable list for row i (after facts has filed it):
// keeps, and discards near the best as the run's History has it.
func (h *runHistory) file(i int, noise float64) {
	e := h.rows[i]
	best := h.facts.BestValue
	switch {
	case e.Status == StatusKeep:
		h.notable = append(h.notable, i)
	case e.Status == StatusDiscard && e.Summary.ValBPB > 0 && best > 0:
		tol := noise
		if tol <= 0 {
			tol = best * 0.001
		}
		if e.Summary.ValBPB-best <= nearFactor*tol {
			h.notable = append(h.notable, i)
		}
	}
	if len(h.notable) > 2*notableCap {
		h.notable = append([]int(nil), h.notable[len(h.notable)-notableCap:]...)
	}
}

// Record files a started or finished experiment (with its diff, for the
// repeat check).
func (h *runHistory) Record(e Experiment, noise float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.add(e, noise)
}

// Best is the History's best experiment, or nil.
func (h *runHistory) Best() *Experiment {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.facts.Best == nil {
		return nil
	}
	b := *h.facts.Best
	return &b
}

// Counts are the run's experiments by outcome, as Status reports them.
func (h *runHistory) Counts() Counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.facts.Counts
}

// Facts is a copy of the run's History.
func (h *runHistory) Facts() History {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.facts.clone()
}

// Len is the number of experiments of the run.
func (h *runHistory) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rows)
}

// BaselineValues are the val_bpb of the successful baseline runs, in order
// (as the former scan of every row found them).
func (h *runHistory) BaselineValues() []float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]float64(nil), h.facts.BaselineValues...)
}

// restartCounts are what a restarted session counts on: the number of
// experiments, the streak without a keep at the end, and the baseline runs
// that did not crash (running ones included).
func (h *runHistory) restartCounts() (n, sinceKeep, baselines int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.rows {
		if e.Status == StatusKeep {
			sinceKeep = 0
		} else {
			sinceKeep++
		}
		if e.Kind.IsBaseline() && e.Status != StatusCrash {
			baselines++
		}
	}
	return len(h.rows), sinceKeep, baselines
}

// withRows calls f with every row, oldest first, under the lock: f must
// neither keep nor change them.
func (h *runHistory) withRows(f func([]Experiment) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return f(h.rows)
}

// Snapshot is every row, oldest first (a copy).
func (h *runHistory) Snapshot() []Experiment {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Experiment(nil), h.rows...)
}

// ForProposal is the History of a proposal made on base: the whole run
// while it has at most promptWindow experiments; after that the
// promptWindow most recent, the latest kept experiments and near misses
// (notableCap at most) and every experiment made on base, in run order.
// omitted counts the experiments left out.
func (h *runHistory) ForProposal(base string) (hist []Experiment, omitted int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.rows)
	if n <= promptWindow {
		return append([]Experiment(nil), h.rows...), 0
	}
	from := n - promptWindow
	var pick []int
	notable := h.notable
	if len(notable) > notableCap {
		notable = notable[len(notable)-notableCap:]
	}
	for _, i := range notable {
		if i < from {
			pick = append(pick, i)
		}
	}
	for _, i := range h.onBase[base] {
		if i < from {
			pick = append(pick, i)
		}
	}
	sort.Ints(pick)
	hist = make([]Experiment, 0, len(pick)+promptWindow)
	last := -1
	for _, i := range pick {
		if i != last {
			hist = append(hist, h.rows[i])
			last = i
		}
	}
	hist = append(hist, h.rows[from:]...)
	return hist, n - len(hist)
}

// Repeat is the first experiment whose change, made on base, has the
// fingerprint fp (attempts that fix a crash excluded), if any.
func (h *runHistory) Repeat(ctx context.Context, base, fp string) (*Experiment, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fps, ok := h.repeats[base]
	if !ok {
		var err error
		if fps, err = h.loadRepeats(ctx, base); err != nil {
			return nil, err
		}
		h.repeats[base] = fps
	}
	n, ok := fps[fp]
	if !ok {
		return nil, nil
	}
	i, ok := h.pos[n]
	if !ok {
		return nil, nil
	}
	e := h.rows[i]
	return &e, nil
}

// loadRepeats fingerprints the stored changes made on base: an indexed
// query of that base's rows, diffs included, read once per base.
func (h *runHistory) loadRepeats(ctx context.Context, base string) (map[string]int, error) {
	fps := map[string]int{}
	diffs, err := h.store.ExperimentDiffsOn(ctx, h.runID, base)
	if err != nil {
		return nil, err
	}
	for _, d := range diffs {
		indexRepeat(fps, d.Number, d.Attempt, d.Diff)
	}
	return fps, nil
}

// indexRepeat files one change under its fingerprint, keeping the first
// experiment that made it (checkRepeat's former scan in Number order).
func indexRepeat(fps map[string]int, number, attempt int, diff string) {
	if diff == "" || attempt > 0 {
		return
	}
	patches, err := patch.Parse(diff)
	if err != nil {
		return
	}
	fp := patch.Fingerprint(patches)
	if old, ok := fps[fp]; !ok || number < old {
		fps[fp] = number
	}
}
