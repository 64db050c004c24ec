package patch

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestDiffString(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		context  int
		want     string
	}{
		{
			name: "identical", old: "a\nb\n", new: "a\nb\n", context: 3,
			want: "",
		},
		{
			name: "one line changed", old: "a\nb\nc\n", new: "a\nB\nc\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
		},
		{
			name: "insert at start", old: "a\nb\n", new: "x\na\nb\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n+x\n a\n b\n",
		},
		{
			name: "insert at end", old: "a\nb\n", new: "a\nb\nx\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n b\n+x\n",
		},
		{
			name: "insert at end without context", old: "a\nb\n", new: "a\nb\nx\n", context: 0,
			want: "--- a/f\n+++ b/f\n@@ -2,0 +3 @@\n+x\n",
		},
		{
			name: "delete without context", old: "a\nb\nc\n", new: "a\nc\n", context: 0,
			want: "--- a/f\n+++ b/f\n@@ -2 +1,0 @@\n-b\n",
		},
		{
			name: "create from empty", old: "", new: "a\nb\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name: "delete whole content", old: "a\nb\n", new: "", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-a\n-b\n",
		},
		{
			name: "change last line without newline", old: "a\nb", new: "a\nc", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n" + NoNewline + "\n+c\n" + NoNewline + "\n",
		},
		{
			name: "add missing final newline", old: "a\nb", new: "a\nb\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n" + NoNewline + "\n+b\n",
		},
		{
			name: "drop final newline", old: "a\nb\n", new: "a\nb", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n" + NoNewline + "\n",
		},
		{
			name: "append after line without newline", old: "a", new: "a\nb", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n" + NoNewline + "\n+a\n+b\n" + NoNewline + "\n",
		},
		{
			name: "context line without newline", old: "a\nz", new: "b\nz", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+b\n z\n" + NoNewline + "\n",
		},
		{
			name: "two hunks", old: lines(1, 20), new: strings.Replace(strings.Replace(lines(1, 20), "l3\n", "X\n", 1), "l18\n", "Y\n", 1), context: 2,
			want: "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n l1\n l2\n-l3\n+X\n l4\n l5\n@@ -16,5 +16,5 @@\n l16\n l17\n-l18\n+Y\n l19\n l20\n",
		},
		{
			name: "changes 2*context apart share a hunk", old: lines(1, 10), new: strings.Replace(strings.Replace(lines(1, 10), "l3\n", "X\n", 1), "l6\n", "Y\n", 1), context: 1,
			want: "--- a/f\n+++ b/f\n@@ -2,6 +2,6 @@\n l2\n-l3\n+X\n l4\n l5\n-l6\n+Y\n l7\n",
		},
		{
			name: "changes 2*context+1 apart do not", old: lines(1, 10), new: strings.Replace(strings.Replace(lines(1, 10), "l3\n", "X\n", 1), "l7\n", "Y\n", 1), context: 1,
			want: "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n l2\n-l3\n+X\n l4\n@@ -6,3 +6,3 @@\n l6\n-l7\n+Y\n l8\n",
		},
		{
			name: "deletions before insertions", old: "a\nb\nc\n", new: "x\ny\nc\n", context: 1,
			want: "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-a\n-b\n+x\n+y\n c\n",
		},
		{
			name: "carriage returns are text", old: "a\r\nb\r\n", new: "a\r\nc\r\n", context: 3,
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Diff("f", tt.old, tt.new, tt.context)
			if got := p.String(); got != tt.want {
				t.Fatalf("Diff().String() =\n%s\nwant\n%s", got, tt.want)
			}
			got, err := Apply(tt.old, p)
			if err != nil || got != tt.new {
				t.Fatalf("Apply(old, Diff) = %q, %v; want %q", got, err, tt.new)
			}
		})
	}
}

// lines returns "l<from>\n" ... "l<to>\n".
func lines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "l%d\n", i)
	}
	return b.String()
}

// randomText returns up to n lines drawn from a small alphabet (so that
// lines repeat, which is what makes diffs ambiguous), with or without a
// final newline.
func randomText(r *rand.Rand, n int) string {
	alphabet := []string{"a", "b", "c", "d", "", "  x = 1", "x = 1"}
	var b strings.Builder
	k := r.Intn(n + 1)
	for i := 0; i < k; i++ {
		b.WriteString(alphabet[r.Intn(len(alphabet))])
		b.WriteByte('\n')
	}
	s := b.String()
	if s != "" && r.Intn(3) == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// mutate applies a few random line insertions, deletions and replacements.
func mutate(r *rand.Rand, s string) string {
	ls := splitLines(s)
	for e := r.Intn(5); e >= 0; e-- {
		i := 0
		if len(ls) > 0 {
			i = r.Intn(len(ls) + 1)
		}
		switch r.Intn(3) {
		case 0:
			ls = append(ls[:i], append([]string{fmt.Sprintf("new%d\n", r.Intn(4))}, ls[i:]...)...)
		case 1:
			if i < len(ls) {
				ls = append(ls[:i], ls[i+1:]...)
			}
		case 2:
			if i < len(ls) {
				ls[i] = fmt.Sprintf("rep%d\n", r.Intn(4))
			}
		}
	}
	out := strings.Join(ls, "")
	if r.Intn(4) == 0 && strings.HasSuffix(out, "\n") {
		out = out[:len(out)-1]
	}
	return out
}

// lcsLen is the textbook O(nm) longest common subsequence of two line lists.
func lcsLen(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TestRoundTripRandom checks, on random edits of random texts, that Apply
// of a Diff reproduces the new text, that String/Parse round-trips, and
// that the edit script is minimal (compared with a DP LCS).
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 3000; iter++ {
		var old, new string
		if iter%2 == 0 {
			old, new = randomText(r, 30), randomText(r, 30)
		} else {
			old = randomText(r, 40)
			new = mutate(r, old)
		}
		ctx := iter % 5
		p := Diff("dir/f.py", old, new, ctx)
		got, err := Apply(old, p)
		if err != nil || got != new {
			t.Fatalf("iter %d ctx %d: Apply(%q, Diff) = %q, %v; want %q\n%s", iter, ctx, old, got, err, new, p)
		}
		a, b := splitLines(old), splitLines(new)
		changed := 0
		for _, h := range p.Hunks {
			changed += h.OldLines + h.NewLines
			for _, l := range h.Lines {
				if l[0] == ' ' {
					changed -= 2
				}
			}
		}
		if want := len(a) + len(b) - 2*lcsLen(a, b); changed != want {
			t.Fatalf("iter %d: %d changed lines, minimal is %d: %q -> %q\n%s", iter, changed, want, old, new, p)
		}
		if old == new {
			if len(p.Hunks) != 0 {
				t.Fatalf("iter %d: hunks for identical texts", iter)
			}
			continue
		}
		ps, err := Parse(p.String())
		if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], p) {
			t.Fatalf("iter %d: Parse(String()) = %#v, %v; want %#v", iter, ps, err, p)
		}
	}
}

func TestSplitLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n", []string{"\n"}},
		{"a", []string{"a"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\n\nb\n", []string{"a\n", "\n", "b\n"}},
	}
	for _, tt := range tests {
		if got := splitLines(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
