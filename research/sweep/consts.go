package sweep

import (
	"regexp"
	"strconv"
	"strings"
)

// Const is one top-level numeric UPPER_CASE assignment found in the file.
type Const struct {
	Name  string
	Line  int    // 0-based line number
	Start int    // byte offset of the literal in the file
	End   int    // byte offset just past the literal
	Lit   string // the literal exactly as written
	Float bool   // a float literal (has '.' or an exponent)
	Value float64
}

// constLine matches `NAME = 1.5`, `NAME: int = 8`, `NAME = 3e-4  # comment`.
// Group 1 is the name, group 2 the literal. Only plain literals count:
// expressions such as `2**19` or `4 * 128` do not match, because editing a
// term of an expression would not mean what the description says.
var constLine = regexp.MustCompile(
	`^([A-Z][A-Z0-9_]*)[ \t]*(?::[ \t]*(?:int|float)[ \t]*)?=[ \t]*` +
		`([-+]?(?:\d(?:_?\d)*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))` +
		`[ \t]*(?:#.*)?$`)

// ParseConsts lists the numeric constants of a Python source file. A name
// assigned more than once yields its last assignment, the one Python keeps.
// Lines inside triple-quoted strings and indented lines are ignored.
func ParseConsts(src []byte) []Const {
	var out []Const
	index := map[string]int{} // name -> position in out
	inString := ""            // the open triple quote, if any
	off := 0
	lineNo := 0
	for off <= len(src) {
		end := len(src)
		if i := strings.IndexByte(string(src[off:]), '\n'); i >= 0 {
			end = off + i
		}
		line := strings.TrimSuffix(string(src[off:end]), "\r")
		wasInString := inString != ""
		inString = scanTripleQuotes(line, inString)
		if !wasInString && inString == "" {
			if c, ok := parseConstLine(line); ok {
				c.Line = lineNo
				c.Start += off
				c.End += off
				if i, seen := index[c.Name]; seen {
					out[i] = c
				} else {
					index[c.Name] = len(out)
					out = append(out, c)
				}
			}
		}
		if end == len(src) {
			break
		}
		off = end + 1
		lineNo++
	}
	return out
}

// scanTripleQuotes returns the triple-quote state after line. It is a rough
// scanner (it ignores ordinary strings and comments), enough to skip the
// bodies of docstrings, where `NAME = 1` is text rather than code.
func scanTripleQuotes(line, state string) string {
	for {
		if state != "" {
			i := strings.Index(line, state)
			if i < 0 {
				return state
			}
			line = line[i+3:]
			state = ""
			continue
		}
		d, s := strings.Index(line, `"""`), strings.Index(line, `'''`)
		switch {
		case d < 0 && s < 0:
			return ""
		case s < 0 || (d >= 0 && d < s):
			state, line = `"""`, line[d+3:]
		default:
			state, line = `'''`, line[s+3:]
		}
	}
}

func parseConstLine(line string) (Const, bool) {
	m := constLine.FindStringSubmatchIndex(line)
	if m == nil {
		return Const{}, false
	}
	lit := line[m[4]:m[5]]
	v, isFloat, ok := parseLiteral(lit)
	if !ok {
		return Const{}, false
	}
	return Const{
		Name:  line[m[2]:m[3]],
		Start: m[4],
		End:   m[5],
		Lit:   lit,
		Float: isFloat,
		Value: v,
	}, true
}

// parseLiteral reads a Python int or float literal (underscores allowed).
func parseLiteral(lit string) (v float64, isFloat, ok bool) {
	clean := strings.ReplaceAll(lit, "_", "")
	isFloat = strings.ContainsAny(clean, ".eE")
	if !isFloat {
		i, err := strconv.ParseInt(clean, 10, 64)
		// Keep ints exactly representable as float64 so steps stay exact.
		if err != nil || i > 1<<53 || i < -(1<<53) {
			return 0, false, false
		}
		return float64(i), false, true
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return 0, false, false
	}
	return f, true, true
}
