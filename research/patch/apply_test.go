package patch

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// trainPy returns a train.py-like file of about n lines: a hyperparameter
// block (with LR = 0.04 at line 10) followed by repetitive model code.
func trainPy(n int) string {
	var b strings.Builder
	b.WriteString("import math\nimport time\n\nimport torch\nimport torch.nn as nn\n\n# hyperparameters\n")
	b.WriteString("DEPTH = 8\nWIDTH = 512\nLR = 0.04\nWARMUP = 100\nBATCH = 32\nSEQ_LEN = 1024\n\n")
	for i := 0; strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, "class Block%d(nn.Module):\n", i)
		fmt.Fprintf(&b, "    def __init__(self, dim):\n")
		fmt.Fprintf(&b, "        super().__init__()\n")
		fmt.Fprintf(&b, "        self.fc%d = nn.Linear(dim, %d * dim)\n", i, i%4+1)
		fmt.Fprintf(&b, "\n")
		fmt.Fprintf(&b, "    def forward(self, x):\n")
		fmt.Fprintf(&b, "        return x + self.fc%d(x)\n", i)
		fmt.Fprintf(&b, "\n")
	}
	return b.String()
}

func replaceOnce(t testing.TB, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("replaceOnce: %q occurs %d times", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

func TestRebase(t *testing.T) {
	base := trainPy(200)
	tests := []struct {
		name     string
		proposed string // an edit of base
		newBase  string // another edit of base (the kept change)
		want     string // "" when a conflict is expected
		reason   string // substring of ConflictError.Reason
		hunk     int
	}{
		{
			name:     "same line changed both ways conflicts",
			proposed: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
			reason:   "both changes touch line 10 `LR = 0.04`", hunk: 1,
		},
		{
			name:     "different region applies cleanly",
			proposed: replaceOnce(t, base, "self.fc20 = nn.Linear(dim, 1 * dim)", "self.fc20 = nn.Linear(dim, 8 * dim)"),
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
			want: replaceOnce(t, replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
				"self.fc20 = nn.Linear(dim, 1 * dim)", "self.fc20 = nn.Linear(dim, 8 * dim)"),
		},
		{
			name:     "lines inserted above shift the hunk",
			proposed: replaceOnce(t, base, "return x + self.fc15(x)", "return x + 0.5 * self.fc15(x)"),
			newBase:  replaceOnce(t, base, "# hyperparameters\n", "# hyperparameters\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\n"),
			want: replaceOnce(t, replaceOnce(t, base, "# hyperparameters\n", "# hyperparameters\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\n"),
				"return x + self.fc15(x)", "return x + 0.5 * self.fc15(x)"),
		},
		{
			name:     "lines deleted above shift the hunk",
			proposed: replaceOnce(t, base, "return x + self.fc15(x)", "return x + 0.5 * self.fc15(x)"),
			newBase:  replaceOnce(t, base, "import math\nimport time\n\n", ""),
			want:     replaceOnce(t, replaceOnce(t, base, "import math\nimport time\n\n", ""), "return x + self.fc15(x)", "return x + 0.5 * self.fc15(x)"),
		},
		{
			name:     "change on the line next to the kept change combines",
			proposed: replaceOnce(t, base, "WARMUP = 100\n", "WARMUP = 200\n"),
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
			want:     replaceOnce(t, replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"), "WARMUP = 100\n", "WARMUP = 200\n"),
		},
		{
			name: "second hunk conflicts, nothing applied",
			proposed: replaceOnce(t, replaceOnce(t, base, "DEPTH = 8\n", "DEPTH = 12\n"),
				"self.fc20 = nn.Linear(dim, 1 * dim)", "self.fc20 = nn.Linear(dim, 2 * dim)"),
			newBase: replaceOnce(t, base, "self.fc20 = nn.Linear(dim, 1 * dim)", "self.fc20 = nn.Linear(dim, 4 * dim)"),
			reason:  "both changes touch line 178 `        self.fc20 = nn.Linear(dim, 1 * dim)`", hunk: 1,
		},
		{
			name:     "the same change already kept merges to it",
			proposed: replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			want:     replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
		},
		{
			name:     "identical proposal is a no-op",
			proposed: base,
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
			want:     replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
		},
		{
			name:     "append at end after newBase grew",
			proposed: base + "print('done')\n",
			newBase:  "# header\n" + base,
			want:     "# header\n" + base + "print('done')\n",
		},
		{
			name:     "insert at start after newBase changed the end",
			proposed: "#!/usr/bin/env python\n" + base,
			newBase:  base + "print('done')\n",
			want:     "#!/usr/bin/env python\n" + base + "print('done')\n",
		},
		{
			name:     "delete whole content",
			proposed: "",
			newBase:  base,
			want:     "",
		},
		{
			name:     "delete whole content after a change conflicts",
			proposed: "",
			newBase:  replaceOnce(t, base, "LR = 0.04\n", "LR = 0.03\n"),
			reason:   "both changes touch line 1", hunk: 1,
		},
		{
			name:     "file truncated below the hunk",
			proposed: replaceOnce(t, base, "self.fc20 = nn.Linear(dim, 1 * dim)", "self.fc20 = nn.Linear(dim, 8 * dim)"),
			newBase:  base[:strings.Index(base, "class Block10")],
			reason:   "both changes touch line 178", hunk: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rebase(base, tt.proposed, tt.newBase)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Rebase = %.200q, %v; want %.200q", got, err, tt.want)
				}
				return
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Rebase err = %v (%T), want *ConflictError", err, err)
			}
			if got != "" {
				t.Errorf("Rebase returned %d bytes with a conflict; want none", len(got))
			}
			if ce.Hunk != tt.hunk || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("conflict = hunk %d %q; want hunk %d containing %q", ce.Hunk, ce.Reason, tt.hunk, tt.reason)
			}
		})
	}
}

func TestApply(t *testing.T) {
	// A file with a repeated block, to check which occurrence is chosen.
	rep := "x\nA\nB\nC\ny\nA\nB\nC\nz\n"
	hunkB := Hunk{OldStart: 7, OldLines: 3, NewStart: 7, NewLines: 3, Lines: []string{" A", "-B", "+BB", " C"}}
	tests := []struct {
		name   string
		src    string
		p      FilePatch
		want   string
		reason string // non-empty: conflict expected
	}{
		{
			name: "exact position wins over an earlier match",
			src:  rep, p: FilePatch{Path: "f", Hunks: []Hunk{hunkB}},
			want: "x\nA\nB\nC\ny\nA\nBB\nC\nz\n",
		},
		{
			name: "nearest match to the declared position",
			src:  rep, p: FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 3, OldLines: 3, NewStart: 3, NewLines: 3, Lines: []string{" A", "-B", "+BB", " C"}}}},
			want: "x\nA\nBB\nC\ny\nA\nB\nC\nz\n",
		},
		{
			name: "later hunks go after earlier ones",
			src:  rep,
			p: FilePatch{Path: "f", Hunks: []Hunk{
				{OldStart: 6, OldLines: 1, NewStart: 6, NewLines: 1, Lines: []string{"-A", "+AA"}},
				// Declared at line 2, but the A at line 2 is before hunk 1.
				{OldStart: 2, OldLines: 1, NewStart: 2, NewLines: 1, Lines: []string{"-A", "+A2"}},
			}},
			reason: "context found only at line 2, before the end of the previous hunk (line 6)",
		},
		{
			name: "offset of the previous hunk carries over",
			src:  "n1\nn2\n" + rep,
			p: FilePatch{Path: "f", Hunks: []Hunk{
				{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []string{"-x", "+X"}},
				{OldStart: 2, OldLines: 1, NewStart: 2, NewLines: 1, Lines: []string{"-A", "+AA"}},
				{OldStart: 6, OldLines: 1, NewStart: 6, NewLines: 1, Lines: []string{"-A", "+A2"}},
			}},
			want: "n1\nn2\nX\nAA\nB\nC\ny\nA2\nB\nC\nz\n",
		},
		{
			name: "pure insertion without context uses the position",
			src:  "a\nb\n",
			p:    FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 1, OldLines: 0, NewStart: 2, NewLines: 1, Lines: []string{"+x"}}}},
			want: "a\nx\nb\n",
		},
		{
			name:   "pure insertion beyond the end",
			src:    "a\nb\n",
			p:      FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 5, OldLines: 0, NewStart: 6, NewLines: 1, Lines: []string{"+x"}}}},
			reason: "outside the file",
		},
		{
			name:   "insertion after a last line without newline",
			src:    "a\nb",
			p:      FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 2, OldLines: 0, NewStart: 3, NewLines: 1, Lines: []string{"+x"}}}},
			reason: "no newline",
		},
		{
			name:   "newline status is part of the line",
			src:    "a\nb\n",
			p:      Diff("f", "a\nb", "a\nc", 3),
			reason: "context does not match at line 2: want `b (no newline at end of file)`, have `b`",
		},
		{
			name:   "result without final newline but the file continues",
			src:    "a\nb\nc\n",
			p:      Diff("f", "a\nb\n", "a\nb", 3),
			reason: "the file continues after line 2",
		},
		{
			name:   "header counts disagree with the body",
			src:    "a\n",
			p:      FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 1, OldLines: 2, NewStart: 1, NewLines: 1, Lines: []string{"-a", "+b"}}}},
			reason: "malformed hunk: @@ -1,2 +1 @@ but the body has 1 old and 1 new lines",
		},
		{
			name:   "bad prefix",
			src:    "a\n",
			p:      FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []string{"*a", "+b"}}}},
			reason: "malformed hunk: body line 1 has prefix '*'",
		},
		{
			name:   "line without newline in the middle of a side",
			src:    "a\n",
			p:      FilePatch{Path: "f", Hunks: []Hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 2, Lines: []string{" a", NoNewline, "+b"}}}},
			reason: "is not the last line of its side",
		},
		{
			name:   "lines exist but not together",
			src:    "a\nx\nb\n",
			p:      Diff("f", "a\nb\n", "a\nB\n", 3),
			reason: "context does not match at line 2: want `b`, have `x`",
		},
		{
			name: "empty patch",
			src:  "a\n",
			p:    FilePatch{Path: "f"},
			want: "a\n",
		},
		{
			name: "create into empty source",
			src:  "",
			p:    Diff("f", "", "a\nb", 3),
			want: "a\nb",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(tt.src, tt.p)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Apply = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Apply = %q, %v; want a *ConflictError", got, err)
			}
			if got != "" || ce.Path != "f" || !strings.Contains(ce.Reason, tt.reason) {
				t.Fatalf("Apply = %q, %v; want no output and reason containing %q", got, err, tt.reason)
			}
		})
	}
}

func TestConflictErrorMessage(t *testing.T) {
	err := error(&ConflictError{Path: "train.py", Hunk: 2, Reason: "context not found: `LR = 0.04`"})
	want := "patch: train.py: hunk 2: context not found: `LR = 0.04`"
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}
