package agent

// The fitting of FormatHistory's sections into their share of the budget:
// dropping the oldest lines, keeping the best keeps, aggregating older
// experiments into one mechanical line. Apart from history.go, which
// decides what goes in each section and how much room it gets.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// linesWithin writes the entries' lines, dropping the oldest ones (with a
// note made from omitted) when they exceed budget bytes.
func linesWithin(es []histEntry, budget int, omitted string) string {
	total := 0
	for _, h := range es {
		total += len(h.line) + 1
	}
	start := 0
	for ; start < len(es) && total > budget-len(omitted)-8; start++ {
		total -= len(es[start].line) + 1
	}
	var b strings.Builder
	if start > 0 {
		fmt.Fprintf(&b, omitted, start)
	}
	for _, h := range es[start:] {
		b.WriteString(h.line + "\n")
	}
	return b.String()
}

// fitLessons keeps the newest lessons that fit budget bytes.
func fitLessons(ls []research.Lesson, budget int) string {
	texts := make([]string, len(ls))
	total := 0
	for i, l := range ls {
		texts[i] = lessonText(l)
		total += len(texts[i])
	}
	start := 0
	const note = "(%d older lessons, #%d-#%d, omitted for space)\n"
	for ; start < len(ls) && total > budget-len(note)-16; start++ {
		total -= len(texts[start])
	}
	var b strings.Builder
	if start > 0 {
		fmt.Fprintf(&b, note, start, ls[0].FromNum, ls[start-1].ToNum)
	}
	for _, t := range texts[start:] {
		b.WriteString(t)
	}
	return b.String()
}

// fitProtected lists keeps and near misses in history order; when they do
// not fit budget bytes, only the best of them by val_bpb.
func fitProtected(prot []histEntry, budget int) string {
	total := 0
	for _, h := range prot {
		total += len(h.line) + 1
	}
	var b strings.Builder
	if total <= budget {
		for _, h := range prot {
			b.WriteString(h.line + "\n")
		}
		return b.String()
	}
	const note = "(%d more kept experiments and near misses omitted for space; the best %d by val_bpb are shown)\n"
	order := make([]int, len(prot)) // indices of prot, best val_bpb first
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(prot[x].e.Summary.ValBPB, prot[y].e.Summary.ValBPB) })
	room := budget - len(note) - 16
	keep := make([]bool, len(prot))
	n := 0
	for _, i := range order {
		if room < len(prot[i].line)+1 {
			break
		}
		room -= len(prot[i].line) + 1
		keep[i] = true
		n++
	}
	fmt.Fprintf(&b, note, len(prot)-n, n)
	for i, h := range prot {
		if keep[i] {
			b.WriteString(h.line + "\n")
		}
	}
	return b.String()
}

// fitOlder lists older experiments one line each, aggregating the oldest
// into one mechanical summary line when they do not all fit budget bytes.
func fitOlder(older []histEntry, budget int) string {
	if budget <= 0 {
		return ""
	}
	total := 0
	for _, h := range older {
		total += len(h.line) + 1
	}
	if total <= budget {
		var b strings.Builder
		for _, h := range older {
			b.WriteString(h.line + "\n")
		}
		return b.String()
	}
	// Aggregate a prefix; keep the longest suffix that fits with it. The
	// aggregate line only grows a little with its prefix, so step forward
	// until both fit, updating its counts as it grows.
	var agg aggStats
	for cut := 1; cut <= len(older); cut++ {
		total -= len(older[cut-1].line) + 1
		agg.add(older[cut-1])
		line := agg.String()
		if len(line)+total <= budget {
			var b strings.Builder
			b.WriteString(line)
			for _, h := range older[cut:] {
				b.WriteString(h.line + "\n")
			}
			return b.String()
		}
	}
	if n := fmt.Sprintf("(%d older experiments omitted for space)\n", len(older)); len(n) <= budget {
		return n
	}
	return ""
}

// aggStats summarizes experiments mechanically in one line (String):
//
//	#31-#180: 120 discards (val_bpb 0.9931-1.0200), 30 crashes (most common reasons: timeout x12, exit status 1 x9)
type aggStats struct {
	from, to                 int
	discards, crashes, other int
	lo, hi                   float64
	reasons                  map[string]int
}

func (a *aggStats) add(h histEntry) {
	if a.reasons == nil {
		a.reasons = map[string]int{}
		a.from = h.e.Number
	}
	a.to = h.e.Number
	switch {
	case h.e.Status == research.StatusCrash || h.e.Summary.ValBPB <= 0:
		a.crashes++
		r := truncate(oneLine(h.e.Reason), 40)
		if r == "" {
			r = "unknown"
		}
		a.reasons[r]++
	case h.e.Status == research.StatusDiscard:
		a.discards++
		v := h.e.Summary.ValBPB
		if a.lo == 0 || v < a.lo {
			a.lo = v
		}
		a.hi = max(a.hi, v)
	default:
		a.other++
	}
}

func (a *aggStats) String() string {
	var parts []string
	if a.discards > 0 {
		parts = append(parts, fmt.Sprintf("%d %s (val_bpb %.4f-%.4f)", a.discards, plural(a.discards, "discard"), a.lo, a.hi))
	}
	if a.crashes > 0 {
		type rc struct {
			r string
			n int
		}
		var rs []rc
		for r, n := range a.reasons {
			rs = append(rs, rc{r, n})
		}
		slices.SortFunc(rs, func(x, y rc) int {
			if x.n != y.n {
				return y.n - x.n
			}
			return strings.Compare(x.r, y.r)
		})
		var top []string
		for _, x := range rs[:min(3, len(rs))] {
			top = append(top, fmt.Sprintf("%s x%d", x.r, x.n))
		}
		parts = append(parts, fmt.Sprintf("%d %s (most common reasons: %s)", a.crashes, plural(a.crashes, "crash"), strings.Join(top, ", ")))
	}
	if a.other > 0 {
		parts = append(parts, fmt.Sprintf("%d other", a.other))
	}
	return fmt.Sprintf("#%d-#%d: %s\n", a.from, a.to, strings.Join(parts, ", "))
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	if strings.HasSuffix(s, "sh") {
		return s + "es"
	}
	return s + "s"
}
