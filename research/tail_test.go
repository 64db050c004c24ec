package research

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		output string
		n      int
		want   string
	}{
		{"empty", "", 5, ""},
		{"zero lines", "a\nb\n", 0, ""},
		{"fewer lines than asked", "a\nb\n", 5, "a\nb"},
		{"last n", "a\nb\nc\nd\n", 2, "c\nd"},
		{"no final newline", "a\nb\nc", 2, "b\nc"},
		{"progress collapsed", "start\n\rstep 1 (10%)    \rstep 2 (20%)    \rstep 3 (30%)    \nTraceback\nError: x\n", 3,
			"step 3 (30%)\nTraceback\nError: x"},
		{"line ending in cr", "\rstep 1\rstep 2\r\nboom\n", 2, "step 2\nboom"},
		{"crlf", "a\r\nb\r\n", 5, "a\nb"},
		{"blank lines kept", "a\n\nb\n", 3, "a\n\nb"},
		{"only newlines", "\n\n\n", 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tail([]byte(tc.output), tc.n); got != tc.want {
				t.Fatalf("Tail(%q, %d) = %q, want %q", tc.output, tc.n, got, tc.want)
			}
		})
	}
}

func TestTailLargeOutput(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for range 200_000 {
		b.WriteString("\rstep 1 (1.0%) | loss: 3.0    ")
	}
	b.WriteString("\nlast line\n")
	if got := Tail([]byte(b.String()), 2); got != "step 1 (1.0%) | loss: 3.0\nlast line" {
		t.Fatalf("Tail = %q", got)
	}
}
