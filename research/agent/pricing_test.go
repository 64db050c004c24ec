package agent

import (
	"math"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestParsePrices(t *testing.T) {
	got, err := ParsePrices(" gpt-4.1 = 2, 8 ; My-Model=0.5,1.5;; ")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Price{"gpt-4.1": {2, 8}, "my-model": {0.5, 1.5}}
	if len(got) != len(want) || got["gpt-4.1"] != want["gpt-4.1"] || got["my-model"] != want["my-model"] {
		t.Errorf("ParsePrices = %v, want %v", got, want)
	}
	if got, err := ParsePrices(""); err != nil || len(got) != 0 {
		t.Errorf("empty spec = %v, %v", got, err)
	}
	for _, tc := range []struct{ spec, want string }{
		{"gpt-4.1", `entry 1 "gpt-4.1": no '='`},
		{"a=1,2;=1,2", `entry 2 "=1,2": no model name`},
		{"a=1", "1 numbers, want 2"},
		{"a=1,2,3", "3 numbers, want 2"},
		{"a=x,2", `"x" is not a number`},
		{"a=1,NaN", `"NaN" is not a number`},
		{"a=1,inf", `"inf" is not a number`},
		{"a=-1,2", "negative price -1"},
		{"a=1,2;A=3,4", `model "A" given twice`},
	} {
		_, err := ParsePrices(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "model=prompt,completion") {
			t.Errorf("ParsePrices(%q) = %v, want an error with %q and the expected form", tc.spec, err, tc.want)
		}
	}
}

func TestCostLookup(t *testing.T) {
	prices := MergePrices(DefaultPrices, map[string]Price{"my-model": {0.5, 1.5}, "GPT-4.1": {3, 9}})
	u := research.Usage{PromptTokens: 2_000_000, CompletionTokens: 500_000}
	for _, tc := range []struct {
		model string
		usd   float64
		known bool
	}{
		{"my-model", 0.5*2 + 1.5*0.5, true},
		{"gpt-4.1", 3*2 + 9*0.5, true},                     // the override wins, case-insensitively
		{"gpt-4.1-2025-04-14", 3*2 + 9*0.5, true},          // dated name by prefix
		{"gpt-4.1-mini-2025-04-14", 0.4*2 + 1.6*0.5, true}, // longest prefix, not gpt-4.1
		{"gpt-4o-mini", 0.15*2 + 0.6*0.5, true},
		{"o3-mini-high", 1.1*2 + 4.4*0.5, true},
		{"openai/gpt-4o", 2.5*2 + 10*0.5, true}, // provider prefix
		{"o30", 0, false},                       // prefix must end at a separator
		{"llama-3-70b", 0, false},
		{"", 0, false},
	} {
		usd, known := Cost(tc.model, u, prices)
		if known != tc.known || math.Abs(usd-tc.usd) > 1e-9 {
			t.Errorf("Cost(%q) = %v, %v; want %v, %v", tc.model, usd, known, tc.usd, tc.known)
		}
	}
	if _, ok := DefaultPrices["GPT-4.1"]; ok {
		t.Error("MergePrices changed DefaultPrices")
	}
	if usd, known := Cost("gpt-4.1", research.Usage{PromptTokens: 1000, CompletionTokens: 100}, DefaultPrices); !known || math.Abs(usd-0.0028) > 1e-12 {
		t.Errorf("Cost(gpt-4.1, 1000+100) with defaults = %v, %v; want 0.0028", usd, known)
	}
}
