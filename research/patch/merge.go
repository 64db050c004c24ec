package patch

import (
	"fmt"
	"sort"
	"strings"
)

// edit replaces base lines [start, end) with repl.
type edit struct {
	start, end int
	repl       []string
}

// edits lists the changes that turn base into x, one per changed block.
func edits(base, x []string) []edit {
	ops := editScript(lineIDs(base, x))
	var out []edit
	i, j := 0, 0
	var cur *edit
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, op := range ops {
		switch op {
		case opEqual:
			flush()
			i++
			j++
		case opDelete:
			if cur == nil {
				cur = &edit{start: i, end: i}
			}
			cur.end = i + 1
			i++
		case opInsert:
			if cur == nil {
				cur = &edit{start: i, end: i}
			}
			cur.repl = append(cur.repl, x[j])
			j++
		}
	}
	flush()
	return out
}

func sameEdit(a, b edit) bool {
	if a.start != b.start || a.end != b.end || len(a.repl) != len(b.repl) {
		return false
	}
	for i := range a.repl {
		if a.repl[i] != b.repl[i] {
			return false
		}
	}
	return true
}

// clash tells whether two edits of the same base cannot both be applied:
// they change overlapping lines, or insert at the same place (or at the
// edge of the other's change), where their order would be a guess.
func clash(a, b edit) bool {
	if a.start < b.end && b.start < a.end {
		return true
	}
	if a.start == a.end && (a.start == b.start || a.start == b.end) {
		return true
	}
	if b.start == b.end && (b.start == a.start || b.start == a.end) {
		return true
	}
	return false
}

// Merge3 merges two changes of base, line by line, like diff3: the result
// holds both when they touch different lines (adjacent lines are fine);
// when they change the same lines differently it fails with a
// *ConflictError naming the first contested base line.
func Merge3(base, ours, theirs string) (string, error) {
	b := splitLines(base)
	mine, other := edits(b, splitLines(ours)), edits(b, splitLines(theirs))
	var all []edit
	for _, t := range other {
		dup := false
		for _, o := range mine {
			if sameEdit(o, t) {
				dup = true
				break
			}
			if clash(o, t) {
				line := ""
				if t.start < len(b) {
					line = strings.TrimRight(b[t.start], "\n")
				}
				return "", &ConflictError{Hunk: 1, Reason: fmt.Sprintf("both changes touch line %d `%s`", t.start+1, line)}
			}
		}
		if !dup {
			all = append(all, t)
		}
	}
	all = append(all, mine...)
	return apply(b, all), nil
}

// MergeKeepingOurs merges theirs' changes of base into ours like Merge3,
// except that a change of theirs touching lines ours changed too is left
// out instead of failing: the result is ours plus every part of theirs that
// does not contest it. skipped counts the changes left out.
func MergeKeepingOurs(base, ours, theirs string) (merged string, skipped int) {
	b := splitLines(base)
	mine, other := edits(b, splitLines(ours)), edits(b, splitLines(theirs))
	all := append([]edit(nil), mine...)
	for _, t := range other {
		keep := true
		for _, o := range mine {
			if sameEdit(o, t) || clash(o, t) {
				keep = false
				if !sameEdit(o, t) {
					skipped++
				}
				break
			}
		}
		if keep {
			all = append(all, t)
		}
	}
	return apply(b, all), skipped
}

// apply replaces the base lines b of every edit (which do not overlap) by
// its lines.
func apply(b []string, edits []edit) string {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out strings.Builder
	pos := 0
	for _, e := range edits {
		for ; pos < e.start; pos++ {
			out.WriteString(b[pos])
		}
		for _, l := range e.repl {
			out.WriteString(l)
		}
		pos = e.end
	}
	for ; pos < len(b); pos++ {
		out.WriteString(b[pos])
	}
	return out.String()
}
