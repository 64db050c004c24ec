package sweep

import (
	"testing"
)

func TestParseConsts(t *testing.T) {
	src := "import os\n" +
		"LR = 0.04\n" +
		"DEPTH = 8  # layers\n" +
		"WD = 3e-4\n" +
		"TOKENS: int = 524_288\n" +
		"BETA: float = 0.95 # comment\n" +
		"NEG = -2\n" +
		"lower = 1\n" +
		"    INDENTED = 2\n" +
		"EXPR = 2**19\n" +
		"PROD = 4 * 128\n" +
		"NAME = 'x'\n" +
		"FLAG = True\n" +
		"\"\"\"doc\n" +
		"DOC = 5\n" +
		"\"\"\"\n" +
		"DEPTH = 6\n" +
		"HALF = .5\n"
	got := ParseConsts([]byte(src))
	want := []struct {
		name, lit string
		float     bool
		value     float64
	}{
		{"LR", "0.04", true, 0.04},
		{"DEPTH", "6", false, 6}, // the last assignment wins
		{"WD", "3e-4", true, 3e-4},
		{"TOKENS", "524_288", false, 524288},
		{"BETA", "0.95", true, 0.95},
		{"NEG", "-2", false, -2},
		{"HALF", ".5", true, 0.5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d consts %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Lit != w.lit || g.Float != w.float || g.Value != w.value {
			t.Errorf("const %d = %+v, want %+v", i, g, w)
		}
		if src[g.Start:g.End] != g.Lit {
			t.Errorf("%s: offsets point at %q, want %q", g.Name, src[g.Start:g.End], g.Lit)
		}
	}
}

func TestParseConstsCRLF(t *testing.T) {
	src := "A = 1\r\nB = 2.5 # x\r\n"
	got := ParseConsts([]byte(src))
	if len(got) != 2 || got[1].Lit != "2.5" || src[got[1].Start:got[1].End] != "2.5" {
		t.Fatalf("got %+v", got)
	}
}

func TestFormatLike(t *testing.T) {
	tests := []struct {
		lit  string
		v    float64
		want string
	}{
		{"0.04", 0.05, "0.05"},
		{"0.1", 0.1 * 0.8, "0.08"},
		{"1.0", 2, "2.0"},
		{"3e-4", 3e-4 * 1.25, "3.75e-4"},
		{"3e-4", 6e-4, "6e-4"},
		{"3.0e-4", 6e-4, "6.0e-4"},
		{"1E-3", 5e-4, "5E-4"},
		{"8", 16, "16"},
		{"524_288", 1048576, "1_048_576"},
		{"-2", -3, "-3"},
		{"0.95", 0.95 * 1.25, "1.1875"},
	}
	for _, tt := range tests {
		v, isFloat, ok := parseLiteral(tt.lit)
		if !ok {
			t.Fatalf("parseLiteral(%q) failed", tt.lit)
		}
		c := Const{Lit: tt.lit, Float: isFloat, Value: v}
		if got := formatLike(c, tt.v); got != tt.want {
			t.Errorf("formatLike(%q, %v) = %q, want %q", tt.lit, tt.v, got, tt.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		lit  string
		want []string
	}{
		{"0.04", []string{"0.02", "0.032", "0.05", "0.08"}},
		{"3e-4", []string{"1.5e-4", "2.4e-4", "3.75e-4", "6e-4"}},
		{"0.0", nil},
		{"8", []string{"4", "16"}},
		{"64", []string{"32", "128"}},
		{"3", []string{"2", "4"}},
		{"12", []string{"11", "13"}},
		{"1", []string{"2"}},
		{"0", []string{"1"}},
		{"-1", []string{"-2"}},
		{"4", []string{"3", "5"}}, // powers of two below 8 step by one
	}
	for _, tt := range tests {
		v, isFloat, _ := parseLiteral(tt.lit)
		got := candidates(Const{Lit: tt.lit, Float: isFloat, Value: v})
		if len(got) != len(tt.want) {
			t.Errorf("candidates(%s) = %v, want %v", tt.lit, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("candidates(%s) = %v, want %v", tt.lit, got, tt.want)
				break
			}
		}
	}
}

func TestParseDescription(t *testing.T) {
	d := describe("LR", "0.04", "0.05", "idea #3")
	if d != "sweep: LR 0.04 -> 0.05 (idea #3)" {
		t.Fatalf("describe = %q", d)
	}
	name, v, ok := parseDescription(d)
	if !ok || name != "LR" || v != 0.05 {
		t.Fatalf("parseDescription(%q) = %q %v %v", d, name, v, ok)
	}
	if _, _, ok := parseDescription("increase LR to 0.05"); ok {
		t.Fatal("parsed a description the sweep did not write")
	}
	if _, v, ok := parseDescription("sweep: TOKENS 524_288 -> 1_048_576"); !ok || v != 1048576 {
		t.Fatalf("underscore literal: %v %v", v, ok)
	}
}
