package sweep

import (
	"math"
	"strconv"
	"strings"
)

// floatFactors are the multiplicative moves tried on float constants: two
// gentle ones and two bold ones in each direction.
var floatFactors = []float64{0.5, 0.8, 1.25, 2}

// candidates lists the new values tried for c, as literals in c's style.
func candidates(c Const) []string {
	var vals []float64
	if c.Float {
		if c.Value == 0 {
			return nil // scaling zero changes nothing
		}
		for _, f := range floatFactors {
			vals = append(vals, c.Value*f)
		}
	} else {
		vals = intSteps(int64(c.Value))
	}
	var out []string
	seen := map[string]bool{c.Lit: true}
	for _, v := range vals {
		lit := formatLike(c, v)
		nv, _, ok := parseLiteral(lit)
		if !ok || sameValue(nv, c.Value) || seen[lit] {
			continue
		}
		seen[lit] = true
		out = append(out, lit)
	}
	return out
}

// intSteps steps an int: powers of two from 8 up are sizes (widths, batch
// sizes) that move by doubling or halving; other ints move by one. A step
// never reaches zero or flips the sign: zero is usually "off" and a negative
// count is nonsense. Only an original 0 moves (to 1).
func intSteps(v int64) []float64 {
	switch {
	case v == 0:
		return []float64{1}
	case v >= 8 && v&(v-1) == 0:
		return []float64{float64(v / 2), float64(v * 2)}
	case v > 0:
		if v == 1 {
			return []float64{2}
		}
		return []float64{float64(v - 1), float64(v + 1)}
	default:
		if v == -1 {
			return []float64{-2}
		}
		return []float64{float64(v - 1), float64(v + 1)}
	}
}

// formatLike writes v as a literal in the style of c: ints as ints (with
// underscore grouping when c used it), floats in scientific notation when c
// did, otherwise as decimals. Floats are rounded to 6 significant digits so
// that 0.1*0.8 reads 0.08, not 0.08000000000000002.
func formatLike(c Const, v float64) string {
	if !c.Float {
		s := strconv.FormatInt(int64(math.Round(v)), 10)
		if strings.Contains(c.Lit, "_") {
			s = groupThousands(s)
		}
		return s
	}
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if i := strings.IndexAny(c.Lit, "eE"); i >= 0 {
		s := strconv.FormatFloat(v, 'e', -1, 64) // "3.75e-04"
		j := strings.IndexByte(s, 'e')
		mant, exp := s[:j], s[j+1:]
		n, _ := strconv.Atoi(exp)
		if strings.Contains(c.Lit[:i], ".") && !strings.Contains(mant, ".") {
			mant += ".0"
		}
		return mant + string(c.Lit[i]) + strconv.Itoa(n)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// sameValue compares literal values with a relative tolerance, so "3e-4" and
// "0.0003" are the same value.
func sameValue(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
