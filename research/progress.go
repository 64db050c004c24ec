package research

import (
	"strconv"
	"strings"
	"time"
)

// ParseProgress reads one training progress line such as
//
//	step 00123 (41.0%) | loss: 3.212345 | lrm: 1.00 | dt: 312ms | tok/sec: 1,234,567 | mfu: 39.8% | epoch: 1 | remaining: 177s
//
// It is liberal because train.py is the agent's to edit: only the leading
// "step N" is required; "(P%)" and the "key: value" fields after it are each
// optional and may come in any order; unknown fields are ignored. "step N/M"
// gives the percent when no "(P%)" does. Carriage returns and padding (upstream
// pads each line with spaces before the next '\r') are trimmed.
func ParseProgress(line string) (Progress, bool) {
	line = strings.TrimSpace(strings.Trim(line, "\r\n"))
	head, fields, _ := strings.Cut(line, "|")
	p := Progress{Line: line}
	if !parseStepHead(strings.TrimSpace(head), &p) {
		return Progress{}, false
	}
	for _, f := range strings.Split(fields, "|") {
		key, value, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "loss":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				p.Loss = v
			}
		case "remaining", "eta":
			if d, ok := parseSeconds(value); ok {
				p.Remaining = d
			}
		}
	}
	return p, true
}

// parseStepHead parses "step 00123", "step 00123 (41.0%)", "step 12/500".
func parseStepHead(head string, p *Progress) bool {
	rest, ok := strings.CutPrefix(head, "step")
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return false
	}
	rest = strings.TrimSpace(rest)
	end := strings.IndexFunc(rest, func(r rune) bool { return r != '/' && (r < '0' || r > '9') })
	if end < 0 {
		end = len(rest)
	}
	num, after := rest[:end], rest[end:]
	num, total, hasTotal := strings.Cut(num, "/")
	step, err := strconv.ParseInt(num, 10, 64)
	if err != nil || step < 0 {
		return false
	}
	p.Step = step
	if hasTotal {
		if t, err := strconv.ParseInt(total, 10, 64); err == nil && t > 0 {
			p.Percent = clampPercent(100 * float64(step) / float64(t))
		}
	}
	after = strings.TrimSpace(after)
	if inner, ok := strings.CutPrefix(after, "("); ok {
		inner, _, _ = strings.Cut(inner, ")")
		inner = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(inner), "%"))
		if v, err := strconv.ParseFloat(inner, 64); err == nil {
			p.Percent = clampPercent(v)
		}
	}
	return true
}

// parseSeconds reads "177s", "177", "2.5s" or a Go-style "2m57s".
func parseSeconds(value string) (time.Duration, bool) {
	if v, err := strconv.ParseFloat(strings.TrimSuffix(value, "s"), 64); err == nil {
		if v < 0 || v > 1e9 {
			return 0, false
		}
		return time.Duration(v * float64(time.Second)), true
	}
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// clampPercent keeps a percent in 0..100; NaN (from a broken print) becomes 0.
func clampPercent(v float64) float64 {
	switch {
	case !(v >= 0): // also catches NaN
		return 0
	case v > 100:
		return 100
	}
	return v
}
