package patch

import "strings"

// splitLines splits s into lines, each keeping its "\n"; the last line has
// none when s does not end in a newline. "" has no lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := make([]string, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// opKind is one step of an edit script.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// differ computes a shortest edit script between a and b (line ids) with
// Myers' linear-space divide and conquer algorithm. Lines it deletes from a
// are flagged in delA, lines it inserts from b in insB.
type differ struct {
	a, b       []int
	delA, insB []bool
	v1, v2     []int // scratch for bisect
}

// editScript returns the operations that turn a into b: a shortest one,
// deletions before insertions within each changed block.
func editScript(a, b []int) []opKind {
	d := &differ{a: a, b: b, delA: make([]bool, len(a)), insB: make([]bool, len(b))}
	d.compare(0, len(a), 0, len(b))
	ops := make([]opKind, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && d.delA[i]:
			ops = append(ops, opDelete)
			i++
		case j < len(b) && d.insB[j]:
			ops = append(ops, opInsert)
			j++
		default:
			ops = append(ops, opEqual)
			i++
			j++
		}
	}
	return ops
}

func (d *differ) compare(aLo, aHi, bLo, bHi int) {
	for aLo < aHi && bLo < bHi && d.a[aLo] == d.b[bLo] {
		aLo++
		bLo++
	}
	for aLo < aHi && bLo < bHi && d.a[aHi-1] == d.b[bHi-1] {
		aHi--
		bHi--
	}
	switch {
	case aLo == aHi:
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return
	case bLo == bHi:
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		return
	}
	x, y, ok := d.bisect(aLo, aHi, bLo, bHi)
	if !ok || (x == aLo && y == bLo) || (x == aHi && y == bHi) {
		// No common line (or no progress possible): replace the block.
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return
	}
	d.compare(aLo, x, bLo, y)
	d.compare(x, aHi, y, bHi)
}

// bisect finds the middle snake of a[aLo:aHi] vs b[bLo:bHi] and returns the
// point (absolute indexes) where the forward path meets the reverse path; a
// shortest edit script passes through it.
func (d *differ) bisect(aLo, aHi, bLo, bHi int) (int, int, bool) {
	a, b := d.a[aLo:aHi], d.b[bLo:bHi]
	n, m := len(a), len(b)
	maxD := (n + m + 1) / 2
	off := maxD
	size := 2*maxD + 2
	if cap(d.v1) < size {
		d.v1 = make([]int, size)
		d.v2 = make([]int, size)
	}
	v1, v2 := d.v1[:size], d.v2[:size]
	for i := range v1 {
		v1[i] = -1
		v2[i] = -1
	}
	v1[off+1] = 0
	v2[off+1] = 0
	delta := n - m
	front := delta%2 != 0
	k1start, k1end, k2start, k2end := 0, 0, 0, 0
	for dd := 0; dd < maxD; dd++ {
		for k1 := -dd + k1start; k1 <= dd-k1end; k1 += 2 {
			k1off := off + k1
			var x1 int
			if k1 == -dd || (k1 != dd && v1[k1off-1] < v1[k1off+1]) {
				x1 = v1[k1off+1]
			} else {
				x1 = v1[k1off-1] + 1
			}
			y1 := x1 - k1
			for x1 < n && y1 < m && a[x1] == b[y1] {
				x1++
				y1++
			}
			v1[k1off] = x1
			switch {
			case x1 > n:
				k1end += 2
			case y1 > m:
				k1start += 2
			case front:
				k2off := off + delta - k1
				if k2off >= 0 && k2off < size && v2[k2off] != -1 {
					if x1 >= n-v2[k2off] {
						return aLo + x1, bLo + y1, true
					}
				}
			}
		}
		for k2 := -dd + k2start; k2 <= dd-k2end; k2 += 2 {
			k2off := off + k2
			var x2 int
			if k2 == -dd || (k2 != dd && v2[k2off-1] < v2[k2off+1]) {
				x2 = v2[k2off+1]
			} else {
				x2 = v2[k2off-1] + 1
			}
			y2 := x2 - k2
			for x2 < n && y2 < m && a[n-x2-1] == b[m-y2-1] {
				x2++
				y2++
			}
			v2[k2off] = x2
			switch {
			case x2 > n:
				k2end += 2
			case y2 > m:
				k2start += 2
			case !front:
				k1off := off + delta - k2
				if k1off >= 0 && k1off < size && v1[k1off] != -1 {
					x1 := v1[k1off]
					y1 := off + x1 - k1off
					if x1 >= n-x2 {
						return aLo + x1, bLo + y1, true
					}
				}
			}
		}
	}
	return 0, 0, false
}

// Diff returns the line-based changes from old to new as a FilePatch with
// `context` unchanged lines around each change (3 is diff -U3 / git diff);
// changes whose context would overlap or touch share a hunk. Identical
// texts give a patch without hunks. Apply(old, Diff(path, old, new, c))
// returns new byte for byte, for any c >= 0.
func Diff(path, old, new string, context int) FilePatch {
	if context < 0 {
		context = 0
	}
	p := FilePatch{Path: path}
	if old == new {
		return p
	}
	a, b := splitLines(old), splitLines(new)
	ops := editScript(lineIDs(a, b))

	// oldAt[k], newAt[k]: lines of old and new before ops[k].
	oldAt := make([]int, len(ops)+1)
	newAt := make([]int, len(ops)+1)
	for k, op := range ops {
		oldAt[k+1], newAt[k+1] = oldAt[k], newAt[k]
		if op != opInsert {
			oldAt[k+1]++
		}
		if op != opDelete {
			newAt[k+1]++
		}
	}

	for k := 0; k < len(ops); {
		if ops[k] == opEqual {
			k++
			continue
		}
		// A hunk starts at change k; extend it while the next change is
		// within 2*context equal lines.
		first, last := k, k
		for j := k + 1; j < len(ops); j++ {
			if ops[j] == opEqual {
				if j-last > 2*context {
					break
				}
				continue
			}
			last = j
		}
		lo := max(first-context, 0)
		hi := min(last+1+context, len(ops))
		p.Hunks = append(p.Hunks, makeHunk(ops[lo:hi], a, b, oldAt[lo], newAt[lo]))
		k = hi
	}
	return p
}

func makeHunk(ops []opKind, a, b []string, oi, ni int) Hunk {
	h := Hunk{OldStart: oi, NewStart: ni}
	h.Lines = make([]string, 0, len(ops)+1)
	add := func(prefix byte, line string) {
		if strings.HasSuffix(line, "\n") {
			h.Lines = append(h.Lines, string(prefix)+line[:len(line)-1])
		} else {
			h.Lines = append(h.Lines, string(prefix)+line, NoNewline)
		}
	}
	for _, op := range ops {
		switch op {
		case opEqual:
			add(' ', a[oi])
			oi++
			ni++
			h.OldLines++
			h.NewLines++
		case opDelete:
			add('-', a[oi])
			oi++
			h.OldLines++
		case opInsert:
			add('+', b[ni])
			ni++
			h.NewLines++
		}
	}
	if h.OldLines > 0 {
		h.OldStart++
	}
	if h.NewLines > 0 {
		h.NewStart++
	}
	return h
}

// lineIDs numbers the distinct lines of a and b, so the edit script
// compares integers instead of strings.
func lineIDs(a, b []string) ([]int, []int) {
	ids := make(map[string]int, len(a)+len(b))
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	ia := intern(a)
	return ia, intern(b)
}
