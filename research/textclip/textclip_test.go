package textclip

import (
	"testing"
	"unicode/utf8"
)

func TestBytesCutsOnARuneBoundary(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 7, "éé…"}, // 10 bytes; a cut inside an é moves back
		{"abc", 2, "…"},
	} {
		got := Bytes(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) || (len(tc.in) > tc.n && len(got) > max(tc.n, len(Ellipsis))) {
			t.Errorf("Bytes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestRunesCountsTheMark(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"twelve chars", 12, "twelve chars"},
		{"thirteen char", 12, "thirteen ..."},
		{"ünïcödé text", 8, "ünïcö..."},
		{"abcdef", 2, "..."},
	} {
		if got := Runes(tc.in, tc.n, "..."); got != tc.want {
			t.Errorf("Runes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
