package terminal

// progressGate throttles progress output where lines cannot be redrawn
// (pipes, log files): one line per experiment per 10 % step, so a 5-minute
// run writes about 11 lines instead of hundreds.
type progressGate struct {
	number int
	decile int // last decile printed for number; -1 = none yet
}

// allow reports whether a report for experiment number at pct is due.
func (g *progressGate) allow(number int, pct float64) bool {
	if number != g.number {
		g.number, g.decile = number, -1
	}
	d := int(min(max(pct, 0), 100) / 10)
	if d <= g.decile {
		return false
	}
	g.decile = d
	return true
}
