// Package patch is a small, pure text-patch library: line-based unified
// diffs (Diff, FilePatch.String), a parser for `git diff` output (Parse),
// an applier that tolerates shifted offsets but never applies partially
// (Apply, Rebase), and whitespace-insensitive canonical forms for detecting
// repeated proposals (Normalize, Fingerprint).
//
// Text is handled as lines terminated by "\n". A final line without a
// terminator is kept as such: every Hunk line that lacks the terminator is
// followed in Hunk.Lines by the marker line `\ No newline at end of file`,
// exactly as in git's output, so Diff followed by Apply is byte-exact.
// A "\r" before the "\n" is part of the line's text.
package patch

import (
	"fmt"
	"strconv"
	"strings"
)

// NoNewline is the marker line that follows, in Hunk.Lines, a line that has
// no terminating newline (the last line of a file).
const NoNewline = `\ No newline at end of file`

// Hunk is one "@@ -OldStart,OldLines +NewStart,NewLines @@" section.
//
// OldStart and NewStart are 1-based line numbers of the hunk's first line;
// when a side has no lines (OldLines or NewLines is 0) its start is the
// number of the line after which the hunk sits (0: start of file), as in
// diff -U and git diff.
//
// Lines holds the body, each line prefixed by ' ' (context), '-' (removed)
// or '+' (added), without its "\n". A line that has no newline in its file
// is followed by the marker NoNewline (which starts with '\').
type Hunk struct {
	OldStart, OldLines, NewStart, NewLines int
	Lines                                  []string
}

// FilePatch is the change to one file. For a created file the hunk has
// OldStart = OldLines = 0; for a deleted file NewStart = NewLines = 0.
type FilePatch struct {
	Path  string
	Hunks []Hunk
}

// Header returns the hunk's "@@ -l,s +l,s @@" line. As in git and GNU diff,
// a count of 1 is omitted ("@@ -3 +3 @@").
func (h Hunk) Header() string {
	return "@@ -" + rangeString(h.OldStart, h.OldLines) + " +" + rangeString(h.NewStart, h.NewLines) + " @@"
}

func rangeString(start, n int) string {
	if n == 1 {
		return strconv.Itoa(start)
	}
	return strconv.Itoa(start) + "," + strconv.Itoa(n)
}

// String returns the patch as unified diff text ("--- a/path", "+++ b/path",
// then the hunks), which `git apply` and `patch -p1` accept and Parse reads
// back. A patch without hunks (no change) is the empty string.
func (p FilePatch) String() string {
	if len(p.Hunks) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("--- a/" + p.Path + "\n")
	b.WriteString("+++ b/" + p.Path + "\n")
	for _, h := range p.Hunks {
		b.WriteString(h.Header())
		b.WriteByte('\n')
		for _, l := range h.Lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// ConflictError reports a hunk that Apply could not place. Hunk is the
// 1-based index of the hunk in FilePatch.Hunks. Nothing is applied when
// Apply returns it.
type ConflictError struct {
	Path   string
	Hunk   int
	Reason string
}

func (e *ConflictError) Error() string {
	path := e.Path
	if path == "" {
		path = "(file)"
	}
	return fmt.Sprintf("patch: %s: hunk %d: %s", path, e.Hunk, e.Reason)
}

// ParseError reports malformed unified diff text. Line is the 1-based line
// of the input where the problem was found.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("patch: parse: line %d: %s", e.Line, e.Msg)
}
