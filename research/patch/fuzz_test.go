package patch

import (
	"reflect"
	"testing"
)

// FuzzDiffApply checks Diff/Apply and String/Parse round trips on arbitrary
// texts: run with `go test -fuzz=FuzzDiffApply ./research/patch/`.
func FuzzDiffApply(f *testing.F) {
	seeds := []struct {
		old, new string
		ctx      uint8
	}{
		{"", "", 3},
		{"", "a", 3},
		{"a", "", 3},
		{"a\nb", "a\nb\n", 3},
		{"a\nb\n", "a\nb", 0},
		{"a", "a\nb", 1},
		{"x\nA\nB\nC\ny\nA\nB\nC\nz\n", "x\nA\nB\nC\ny\nA\nBB\nC\nz\n", 1},
		{"\n\n\n", "\n\n", 2},
		{"a\r\nb\r\n", "a\nb\n", 3},
		{trainPy(60), replaceOnce(f, trainPy(60), "LR = 0.04\n", "LR = 0.05\n"), 3},
	}
	for _, s := range seeds {
		f.Add(s.old, s.new, s.ctx)
	}
	f.Fuzz(func(t *testing.T, old, new string, ctx uint8) {
		c := int(ctx % 6)
		p := Diff("f", old, new, c)
		got, err := Apply(old, p)
		if err != nil || got != new {
			t.Fatalf("Apply(%q, Diff(c=%d)) = %q, %v; want %q\n%s", old, c, got, err, new, p)
		}
		if old == new {
			if len(p.Hunks) != 0 {
				t.Fatalf("hunks for identical texts: %v", p)
			}
			return
		}
		ps, err := Parse(p.String())
		if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], p) {
			t.Fatalf("Parse(String()) = %#v, %v; want %#v", ps, err, p)
		}
		// Reverse direction too: the old text comes back.
		back, err := Apply(new, Diff("f", new, old, c))
		if err != nil || back != old {
			t.Fatalf("reverse Apply = %q, %v; want %q", back, err, old)
		}
	})
}

// FuzzParse checks that Parse and Apply of whatever it accepts do not panic
// and that accepted hunks survive a String/Parse round trip.
func FuzzParse(f *testing.F) {
	f.Add("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n", "a\nb")
	f.Add("diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+x\n", "")
	f.Add("--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n@@ -3,0 +3 @@\n+z\n", "a\nb\nc\n")
	f.Fuzz(func(t *testing.T, text, src string) {
		ps, err := Parse(text)
		if err != nil {
			return
		}
		for _, p := range ps {
			_, _ = Apply(src, p)
			if len(p.Hunks) == 0 || p.Path == "" {
				continue
			}
			again, err := Parse(FilePatch{Path: "f", Hunks: p.Hunks}.String())
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0].Hunks, p.Hunks) {
				t.Fatalf("hunks of %q did not round-trip: %#v, %v", text, again, err)
			}
		}
	})
}
