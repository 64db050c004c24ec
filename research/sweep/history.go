package sweep

import (
	"fmt"
	"regexp"
)

// Descriptions are how the sweep remembers what it tried: the harness keeps
// them in the experiment history, and the sweep reads them back, so it needs
// no state of its own and survives restarts.
const descPrefix = "sweep: "

// describe writes the one-line description of a change.
func describe(name, from, to, note string) string {
	d := fmt.Sprintf("%s%s %s -> %s", descPrefix, name, from, to)
	if note != "" {
		d += " (" + note + ")"
	}
	return d
}

var descRe = regexp.MustCompile(`^sweep: ([A-Za-z_][A-Za-z0-9_]*) (\S+) -> (\S+)`)

// parseDescription reads back a description written by describe.
func parseDescription(d string) (name string, to float64, ok bool) {
	m := descRe.FindStringSubmatch(d)
	if m == nil {
		return "", 0, false
	}
	v, _, ok := parseLiteral(m[3])
	if !ok {
		return "", 0, false
	}
	return m[1], v, true
}

// tried records the (constant, value) pairs already tried from one base.
type tried map[string][]float64

func (t tried) add(name string, v float64) { t[name] = append(t[name], v) }

func (t tried) has(name string, v float64) bool {
	for _, w := range t[name] {
		if sameValue(v, w) {
			return true
		}
	}
	return false
}
