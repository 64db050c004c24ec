// Package textclip shortens text for places with a size limit (a Slack
// field, a log line, a terminal column), marking where it was cut.
package textclip

import "unicode/utf8"

// Ellipsis marks a cut made by Bytes.
const Ellipsis = "…"

// Bytes cuts s to at most n bytes, on a rune boundary, ending in Ellipsis
// when it was cut. Use it where the limit counts bytes (Slack's fields).
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(Ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return s[:cut] + Ellipsis
}

// Runes cuts s to at most n runes, mark included, ending in mark when it
// was cut. Use it where the limit counts characters (a terminal line).
func Runes(s string, n int, mark string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	keep := n - utf8.RuneCountInString(mark)
	if keep < 0 {
		keep = 0
	}
	return string([]rune(s)[:keep]) + mark
}
