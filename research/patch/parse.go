package patch

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads unified diff text such as `git diff`, `git show`,
// `git format-patch`, go-git's patch String() or `diff -u` produce: one
// FilePatch per file section, in input order.
//
// It understands `diff --git` headers and git's extended header lines
// (index, modes, new/deleted file, renames, copies), "--- a/x" / "+++ b/x"
// (with /dev/null for created and deleted files, an optional tab-separated
// timestamp, C-quoted names), "@@" hunks with optional section text, and
// `\ No newline at end of file`. Path is the new name, or the old name of a
// deleted file, without git's a/ and b/ prefixes. A `diff --git` section
// without hunks (mode change, empty file, pure rename) gives a FilePatch
// without hunks. Text outside file sections (commit messages, diffstat) is
// skipped.
//
// Malformed input (bad hunk header, hunk shorter or longer than its
// header says, stray lines, "---" without "+++", binary patches) gives a
// *ParseError with the input line number.
func Parse(unified string) ([]FilePatch, error) {
	lines := strings.Split(unified, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var (
		out        []FilePatch
		cur        *FilePatch
		sawHeaders bool // cur has its ---/+++ lines
	)
	finish := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	fail := func(i int, format string, args ...any) ([]FilePatch, error) {
		return nil, &ParseError{Line: i + 1, Msg: fmt.Sprintf(format, args...)}
	}
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "diff --git "):
			finish()
			cur = &FilePatch{Path: gitHeaderPath(strings.TrimPrefix(l, "diff --git "))}
			sawHeaders = false
			i++
		extended:
			for ; i < len(lines); i++ {
				e := lines[i]
				switch {
				case strings.HasPrefix(e, "rename to "), strings.HasPrefix(e, "copy to "):
					_, name, _ := strings.Cut(e, " to ")
					cur.Path = unquotePath(name)
				case strings.HasPrefix(e, "Binary files "), e == "GIT binary patch":
					return fail(i, "binary patch for %s is not supported", cur.Path)
				case hasAnyPrefix(e, "index ", "old mode ", "new mode ", "deleted file mode ",
					"new file mode ", "copy from ", "rename from ", "similarity index ", "dissimilarity index "):
				default:
					break extended
				}
			}
		case strings.HasPrefix(l, "--- "):
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "+++ ") {
				if cur != nil {
					return fail(i, "%q is not followed by a \"+++ \" line", l)
				}
				i++ // free text before any file section
				continue
			}
			if cur == nil || sawHeaders || len(cur.Hunks) > 0 {
				finish()
				cur = &FilePatch{}
			}
			sawHeaders = true
			oldPath := headerPath(strings.TrimPrefix(l, "--- "), "a/")
			newPath := headerPath(strings.TrimPrefix(lines[i+1], "+++ "), "b/")
			switch {
			case oldPath == "" || newPath == "":
				return fail(i, "missing file name in %q / %q", l, lines[i+1])
			case newPath != "/dev/null":
				cur.Path = newPath
			case oldPath != "/dev/null":
				cur.Path = oldPath
			default:
				return fail(i, "both sides are /dev/null")
			}
			i += 2
		case strings.HasPrefix(l, "@@"):
			if cur == nil {
				return fail(i, "hunk %q before any file header", l)
			}
			h, next, err := parseHunk(lines, i)
			if err != nil {
				return nil, err
			}
			cur.Hunks = append(cur.Hunks, h)
			i = next
		case cur != nil && (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) &&
			l != "--" && l != "---" && !strings.HasPrefix(l, "-- "):
			return fail(i, "%q outside a hunk (is the previous hunk longer than its header says?)", l)
		default:
			i++ // commit message, diffstat, "commit ..." lines and the like
		}
	}
	finish()
	return out, nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// parseHunk reads the hunk whose header is lines[i]; it returns the hunk and
// the index of the line after it.
func parseHunk(lines []string, i int) (Hunk, int, error) {
	fail := func(at int, format string, args ...any) (Hunk, int, error) {
		return Hunk{}, 0, &ParseError{Line: at + 1, Msg: fmt.Sprintf(format, args...)}
	}
	var h Hunk
	if !parseHunkHeader(lines[i], &h) {
		return fail(i, "malformed hunk header %q (want \"@@ -l,s +l,s @@\")", lines[i])
	}
	start := i
	i++
	oldLeft, newLeft := h.OldLines, h.NewLines
	for oldLeft > 0 || newLeft > 0 {
		if i >= len(lines) {
			return fail(i-1, "hunk %s is truncated: %d old and %d new lines missing at end of input", h.Header(), oldLeft, newLeft)
		}
		l := lines[i]
		if l == "" {
			l = " " // a blank context line whose space was stripped
		}
		switch l[0] {
		case ' ':
			oldLeft--
			newLeft--
		case '-':
			oldLeft--
		case '+':
			newLeft--
		case '\\':
			l = NoNewline
		default:
			return fail(i, "unexpected %q in hunk %s: %d old and %d new lines still missing", l, h.Header(), max(oldLeft, 0), max(newLeft, 0))
		}
		if oldLeft < 0 || newLeft < 0 {
			return fail(i, "hunk %s has more lines than its header says", h.Header())
		}
		h.Lines = append(h.Lines, l)
		i++
	}
	if i < len(lines) && strings.HasPrefix(lines[i], `\`) {
		h.Lines = append(h.Lines, NoNewline)
		i++
	}
	if _, _, _, err := decodeHunk(h); err != nil {
		return fail(start, "%v", err)
	}
	return h, i, nil
}

// parseHunkHeader parses "@@ -l[,s] +l[,s] @@[ section]" into h.
func parseHunkHeader(l string, h *Hunk) bool {
	rest, ok := strings.CutPrefix(l, "@@ -")
	if !ok {
		return false
	}
	ranges, _, ok := strings.Cut(rest, " @@")
	if !ok {
		return false
	}
	oldR, newR, ok := strings.Cut(ranges, " +")
	if !ok {
		return false
	}
	var ok1, ok2 bool
	h.OldStart, h.OldLines, ok1 = parseRange(oldR)
	h.NewStart, h.NewLines, ok2 = parseRange(newR)
	return ok1 && ok2
}

func parseRange(s string) (start, n int, ok bool) {
	a, b, hasCount := strings.Cut(s, ",")
	start, err := strconv.Atoi(a)
	if err != nil || start < 0 || a[0] == '+' || a[0] == '-' {
		return 0, 0, false
	}
	n = 1
	if hasCount {
		n, err = strconv.Atoi(b)
		if err != nil || n < 0 || b[0] == '+' || b[0] == '-' {
			return 0, 0, false
		}
	}
	if start == 0 && n != 0 {
		return 0, 0, false
	}
	return start, n, true
}

// headerPath extracts the file name from the text after "--- " or "+++ ".
func headerPath(s, prefix string) string {
	if strings.HasPrefix(s, `"`) {
		if q, err := strconv.QuotedPrefix(s); err == nil {
			s = unquotePath(q)
			return strings.TrimPrefix(s, prefix)
		}
	}
	if name, _, ok := strings.Cut(s, "\t"); ok {
		s = name
	}
	s = strings.TrimRight(s, " ")
	if s == "/dev/null" {
		return s
	}
	return strings.TrimPrefix(s, prefix)
}

func unquotePath(s string) string {
	if strings.HasPrefix(s, `"`) {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

// gitHeaderPath extracts the new name from the text after "diff --git ":
// "a/x b/x", with either name possibly C-quoted. For an ambiguous unquoted
// pair of different names containing " b/", the last " b/" splits them.
func gitHeaderPath(s string) string {
	if strings.HasPrefix(s, `"`) {
		if q, err := strconv.QuotedPrefix(s); err == nil {
			s = strings.TrimPrefix(s[len(q):], " ")
			return strings.TrimPrefix(unquotePath(s), "b/")
		}
	}
	if strings.HasSuffix(s, `"`) {
		if i := strings.LastIndex(s, ` "`); i >= 0 {
			return strings.TrimPrefix(unquotePath(s[i+1:]), "b/")
		}
	}
	if n := len(s) - 5; n > 0 && n%2 == 0 {
		name := s[2 : 2+n/2]
		if s == "a/"+name+" b/"+name {
			return name
		}
	}
	if i := strings.LastIndex(s, " b/"); i >= 0 {
		return s[i+3:]
	}
	return s
}
