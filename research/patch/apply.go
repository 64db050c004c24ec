package patch

import (
	"fmt"
	"strings"
)

// hline is a hunk body line decoded: op is ' ', '-' or '+'; full is the
// line as it appears in the file (with "\n" unless it was followed by the
// NoNewline marker).
type hline struct {
	op   byte
	full string
}

// decodeHunk checks a hunk's body against its header and returns its lines,
// its old side (context and removed lines) and its new side (context and
// added lines).
func decodeHunk(h Hunk) (lines []hline, oldSide, newSide []string, err error) {
	lines = make([]hline, 0, len(h.Lines))
	for i, l := range h.Lines {
		if l == "" {
			return nil, nil, nil, fmt.Errorf("malformed hunk: body line %d is empty (want a ' ', '-' or '+' prefix)", i+1)
		}
		switch l[0] {
		case ' ', '-', '+':
			lines = append(lines, hline{op: l[0], full: l[1:] + "\n"})
		case '\\':
			if len(lines) == 0 || !strings.HasSuffix(lines[len(lines)-1].full, "\n") {
				return nil, nil, nil, fmt.Errorf("malformed hunk: %q at body line %d does not follow a line", l, i+1)
			}
			last := &lines[len(lines)-1]
			last.full = last.full[:len(last.full)-1]
		default:
			return nil, nil, nil, fmt.Errorf("malformed hunk: body line %d has prefix %q (want ' ', '-' or '+')", i+1, l[0])
		}
	}
	for _, l := range lines {
		if l.op != '+' {
			oldSide = append(oldSide, l.full)
		}
		if l.op != '-' {
			newSide = append(newSide, l.full)
		}
	}
	if len(oldSide) != h.OldLines || len(newSide) != h.NewLines {
		return nil, nil, nil, fmt.Errorf("malformed hunk: %s but the body has %d old and %d new lines", h.Header(), len(oldSide), len(newSide))
	}
	for _, side := range [][]string{oldSide, newSide} {
		for i, s := range side {
			if i < len(side)-1 && !strings.HasSuffix(s, "\n") {
				return nil, nil, nil, fmt.Errorf("malformed hunk: line %q without newline is not the last line of its side", s)
			}
		}
	}
	return lines, oldSide, newSide, nil
}

// Apply applies p's hunks, in order, to src and returns the result.
//
// Each hunk's old side (context and removed lines) must match src exactly:
// at the position its header gives, shifted by the offset at which the
// previous hunk was found; failing that, at the nearest position (searching
// outward, later positions first on ties) that starts after the previous
// hunk's lines. If a hunk cannot be placed, or the patch is malformed, Apply
// returns "" and a *ConflictError naming the hunk and the reason; src is
// never partially patched.
func Apply(src string, p FilePatch) (string, error) {
	lines := splitLines(src)
	type placed struct {
		at, n   int // old side occupies lines[at:at+n]
		newSide []string
	}
	places := make([]placed, 0, len(p.Hunks))
	minPos, offset := 0, 0
	for hi, h := range p.Hunks {
		conflict := func(format string, args ...any) error {
			return &ConflictError{Path: p.Path, Hunk: hi + 1, Reason: fmt.Sprintf(format, args...)}
		}
		_, oldSide, newSide, err := decodeHunk(h)
		if err != nil {
			return "", conflict("%v", err)
		}
		declared := h.OldStart - 1
		if h.OldLines == 0 {
			declared = h.OldStart
		}
		want := declared + offset
		var at int
		if len(oldSide) == 0 {
			// Pure insertion without context: only the position tells.
			if want < minPos || want > len(lines) {
				return "", conflict("insertion point after line %d is outside the file (%d lines, previous hunk ends at line %d)", want, len(lines), minPos)
			}
			at = want
		} else {
			at = findBlock(lines, oldSide, want, minPos)
			if at < 0 {
				return "", conflict("%s", explain(lines, oldSide, newSide, want, minPos))
			}
		}
		end := at + len(oldSide)
		if len(newSide) > 0 && !strings.HasSuffix(newSide[len(newSide)-1], "\n") && end < len(lines) {
			return "", conflict("hunk makes %q the last line (no newline at end of file) but the file continues after line %d", newSide[len(newSide)-1], end)
		}
		if len(oldSide) == 0 && at == len(lines) && at > 0 && !strings.HasSuffix(lines[at-1], "\n") && len(newSide) > 0 {
			return "", conflict("cannot add lines after the last line, which has no newline")
		}
		places = append(places, placed{at: at, n: len(oldSide), newSide: newSide})
		offset = at - declared
		minPos = end
	}

	var b strings.Builder
	b.Grow(len(src) + 256)
	pos := 0
	for _, pl := range places {
		for _, l := range lines[pos:pl.at] {
			b.WriteString(l)
		}
		for _, l := range pl.newSide {
			b.WriteString(l)
		}
		pos = pl.at + pl.n
	}
	for _, l := range lines[pos:] {
		b.WriteString(l)
	}
	return b.String(), nil
}

// matchAt reports whether block matches lines starting at i.
func matchAt(lines, block []string, i int) bool {
	if i < 0 || i+len(block) > len(lines) {
		return false
	}
	for k, l := range block {
		if lines[i+k] != l {
			return false
		}
	}
	return true
}

// findBlock returns the start of the match of block nearest to want among
// starts >= minPos, or -1.
func findBlock(lines, block []string, want, minPos int) int {
	last := len(lines) - len(block)
	if last < minPos {
		return -1
	}
	want = min(max(want, minPos), last)
	for d := 0; want+d <= last || want-d >= minPos; d++ {
		if i := want + d; i <= last && matchAt(lines, block, i) {
			return i
		}
		if i := want - d; d > 0 && i >= minPos && matchAt(lines, block, i) {
			return i
		}
	}
	return -1
}

// explain says why the old side of a hunk could not be placed.
func explain(lines, oldSide, newSide []string, want, minPos int) string {
	if len(newSide) > 0 {
		if at := findBlock(lines, newSide, want, minPos); at >= 0 {
			return fmt.Sprintf("context not found; the hunk's result is already present at line %d (already applied?)", at+1)
		}
	}
	if at := findBlock(lines, oldSide, want, 0); at >= 0 {
		return fmt.Sprintf("context found only at line %d, before the end of the previous hunk (line %d)", at+1, minPos)
	}
	present := make(map[string]bool, len(lines))
	for _, l := range lines[minPos:] {
		present[strings.TrimSuffix(l, "\n")] = true
	}
	for _, l := range oldSide {
		if !present[strings.TrimSuffix(l, "\n")] {
			return fmt.Sprintf("context not found: `%s`", strings.TrimSuffix(l, "\n"))
		}
	}
	// Every line exists somewhere but never as one block: show the first
	// difference at the expected position.
	at := min(max(want, minPos), max(len(lines)-len(oldSide), minPos))
	for k, l := range oldSide {
		if at+k >= len(lines) {
			return fmt.Sprintf("context not found: `%s` (file ends at line %d)", showLine(l), len(lines))
		}
		if lines[at+k] != l {
			return fmt.Sprintf("context does not match at line %d: want `%s`, have `%s`", at+k+1, showLine(l), showLine(lines[at+k]))
		}
	}
	return "context not found"
}

func showLine(l string) string {
	if strings.HasSuffix(l, "\n") {
		return l[:len(l)-1]
	}
	return l + " (no newline at end of file)"
}

// Rebase re-applies the change from base to proposed onto newBase, which
// changed base meanwhile: a three-way line merge (Merge3), so changes to
// neighbouring lines (one hyperparameter kept, the next proposed) combine,
// and only changes to the same lines conflict.
func Rebase(base, proposed, newBase string) (string, error) {
	return Merge3(base, newBase, proposed)
}
