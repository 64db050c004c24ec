package research

import (
	"bytes"
	"strings"
)

// Tail returns the last n lines of output for a crash report. Progress
// written with '\r' is collapsed to what a terminal would finally show: the
// last non-blank '\r' segment of each line. Trailing spaces (upstream pads
// progress lines) are trimmed.
func Tail(output []byte, n int) string {
	rest := bytes.TrimRight(output, "\r\n")
	if n <= 0 || len(rest) == 0 {
		return ""
	}
	// Walk back from the end so an 8 MiB output costs only the lines kept.
	lines := make([]string, 0, n)
	for len(lines) < n {
		i := bytes.LastIndexByte(rest, '\n')
		lines = append(lines, lastSegment(rest[i+1:]))
		if i < 0 {
			break
		}
		rest = rest[:i]
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return strings.Join(lines, "\n")
}

// lastSegment returns the last non-blank '\r'-separated part of a line.
func lastSegment(line []byte) string {
	for len(line) > 0 {
		i := bytes.LastIndexByte(line, '\r')
		if s := bytes.TrimRight(line[i+1:], " \t"); len(bytes.TrimSpace(s)) > 0 {
			return string(s)
		}
		if i < 0 {
			break
		}
		line = line[:i]
	}
	return ""
}
