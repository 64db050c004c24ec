package patch

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	base := trainPy(200)
	// Same file, reindented with tabs and extra inner spaces everywhere.
	respaced := strings.NewReplacer("    ", "\t", " = ", "  =   ").Replace(base)
	tests := []struct {
		name      string
		base1     string
		proposed1 string
		base2     string
		proposed2 string
		context2  int // context of the second diff; 0 means 3
		equal     bool
	}{
		{
			name:  "identical changes",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			equal: true,
		},
		{
			name:  "whitespace inside the changed line",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "LR   =\t0.05   \n"),
			equal: true,
		},
		{
			name:  "indentation of changed lines",
			base1: base, proposed1: replaceOnce(t, base, "        return x + self.fc3(x)\n", "        return x + 2 * self.fc3(x)\n"),
			base2: base, proposed2: replaceOnce(t, base, "        return x + self.fc3(x)\n", "\t\treturn x + 2 * self.fc3(x)\n"),
			equal: true,
		},
		{
			name:  "same change against differently spaced files (context and changed lines)",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: respaced, proposed2: replaceOnce(t, respaced, "LR  =   0.04\n", "LR  =   0.05\n"),
			equal: true,
		},
		{
			name:  "same change with different context size",
			base1: base, proposed1: replaceOnce(t, base, "WIDTH = 512\n", "WIDTH = 640\n"),
			base2: base, proposed2: replaceOnce(t, base, "WIDTH = 512\n", "WIDTH = 640\n"),
			context2: 1, equal: true,
		},
		{
			name:  "an extra blank line added",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n\n"),
			equal: true,
		},
		{
			name:  "different value",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.06\n"),
			equal: false,
		},
		{
			name:  "different line changed to the same text",
			base1: base, proposed1: replaceOnce(t, base, "DEPTH = 8\n", "DEPTH = 10\n"),
			base2: base, proposed2: replaceOnce(t, base, "WIDTH = 512\n", "DEPTH = 10\n"),
			equal: false,
		},
		{
			name:  "space that splits a token is a real change",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "L R = 0.05\n"),
			equal: false,
		},
		{
			name:  "added line in addition",
			base1: base, proposed1: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			base2: base, proposed2: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\nWD = 0.1\n"),
			equal: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := 3
			if tt.context2 != 0 {
				ctx = tt.context2
			}
			n1 := Normalize(Diff("train.py", tt.base1, tt.proposed1, 3))
			n2 := Normalize(Diff("train.py", tt.base2, tt.proposed2, ctx))
			if n1 == "" || n2 == "" {
				t.Fatalf("empty normal form: %q, %q", n1, n2)
			}
			if (n1 == n2) != tt.equal {
				t.Fatalf("Normalize equal = %v, want %v:\n%s\nvs\n%s", n1 == n2, tt.equal, n1, n2)
			}
			f1 := Fingerprint([]FilePatch{Diff("train.py", tt.base1, tt.proposed1, 3)})
			f2 := Fingerprint([]FilePatch{Diff("train.py", tt.base2, tt.proposed2, ctx)})
			if (f1 == f2) != tt.equal {
				t.Fatalf("Fingerprint equal = %v, want %v", f1 == f2, tt.equal)
			}
		})
	}
}

func TestNormalizeForm(t *testing.T) {
	p := FilePatch{Path: "f", Hunks: []Hunk{
		{1, 3, 1, 3, []string{" ctx", "-  a   =  1 ", "+\ta = 2", "+   ", " ctx"}},
		{10, 1, 10, 1, []string{"-b", NoNewline, "+c", NoNewline}},
	}}
	want := "-a = 1\n+a = 2\n-b\n+c\n"
	if got := Normalize(p); got != want {
		t.Fatalf("Normalize = %q, want %q", got, want)
	}
}

func TestFingerprint(t *testing.T) {
	a := Diff("a.py", "x = 1\n", "x = 2\n", 3)
	b := Diff("b.py", "y = 1\n", "y = 2\n", 3)
	bSameChangeOtherFile := Diff("c.py", "y = 1\n", "y = 2\n", 3)
	noChange := Diff("d.py", "z\n", "z\n", 3)
	tests := []struct {
		name  string
		p1    []FilePatch
		p2    []FilePatch
		equal bool
	}{
		{"order of files does not matter", []FilePatch{a, b}, []FilePatch{b, a}, true},
		{"unchanged files do not matter", []FilePatch{a}, []FilePatch{noChange, a}, true},
		{"path matters", []FilePatch{b}, []FilePatch{bSameChangeOtherFile}, false},
		{"a file more", []FilePatch{a}, []FilePatch{a, b}, false},
		{"empty vs change", nil, []FilePatch{a}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f1, f2 := Fingerprint(tt.p1), Fingerprint(tt.p2)
			if len(f1) != 64 || len(f2) != 64 {
				t.Fatalf("fingerprints %q, %q are not sha256 hex", f1, f2)
			}
			if (f1 == f2) != tt.equal {
				t.Fatalf("equal = %v, want %v", f1 == f2, tt.equal)
			}
		})
	}
	//lint:ignore SA4000 two calls must agree: this checks determinism
	if Fingerprint([]FilePatch{a}) != Fingerprint([]FilePatch{a}) {
		t.Fatal("Fingerprint is not deterministic")
	}
}
