package agent

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/autoresearch/autoresearch/research"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	PromptPerMTok     float64 // input tokens
	CompletionPerMTok float64 // output tokens (reasoning included)
}

// DefaultPrices are editable defaults for a few common models: list prices
// in USD per million tokens as last known to the authors (mid 2025),
// APPROXIMATE, without cached-input or batch discounts. Providers change
// them; override or extend them with --prices (ParsePrices, MergePrices).
// A dated or suffixed name ("gpt-4.1-2025-04-14") finds its entry by prefix.
var DefaultPrices = map[string]Price{
	"gpt-4.1":           {2, 8},
	"gpt-4.1-mini":      {0.4, 1.6},
	"gpt-4.1-nano":      {0.1, 0.4},
	"gpt-4o":            {2.5, 10},
	"gpt-4o-mini":       {0.15, 0.6},
	"gpt-5":             {1.25, 10},
	"gpt-5-mini":        {0.25, 2},
	"gpt-5-nano":        {0.05, 0.4},
	"o1":                {15, 60},
	"o1-mini":           {1.1, 4.4},
	"o3":                {2, 8},
	"o3-pro":            {20, 80},
	"o3-mini":           {1.1, 4.4},
	"o4-mini":           {1.1, 4.4},
	"claude-opus-4":     {15, 75},
	"claude-sonnet-4":   {3, 15},
	"claude-3-5-haiku":  {0.8, 4},
	"deepseek-chat":     {0.27, 1.1},
	"deepseek-reasoner": {0.55, 2.19},
}

// ParsePrices reads a --prices flag: entries "model=prompt,completion"
// (USD per million tokens) separated by ';', e.g.
//
//	gpt-4.1=2,8;my-model=0.5,1.5
//
// Spaces around names and numbers and empty entries are ignored. An empty
// spec gives an empty map.
func ParsePrices(spec string) (map[string]Price, error) {
	out := map[string]Price{}
	for i, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("prices: entry %d %q: %s (want model=prompt,completion in USD per million tokens, e.g. gpt-4.1=2,8)", i+1, entry, why)
		}
		name, nums, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, bad("no '='")
		}
		if name == "" {
			return nil, bad("no model name")
		}
		parts := strings.Split(nums, ",")
		if len(parts) != 2 {
			return nil, bad(fmt.Sprintf("%d numbers, want 2", len(parts)))
		}
		var v [2]float64
		for j, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, bad(fmt.Sprintf("%q is not a number", strings.TrimSpace(p)))
			}
			if f < 0 {
				return nil, bad(fmt.Sprintf("negative price %v", f))
			}
			v[j] = f
		}
		key := strings.ToLower(name)
		if _, dup := out[key]; dup {
			return nil, bad(fmt.Sprintf("model %q given twice", name))
		}
		out[key] = Price{PromptPerMTok: v[0], CompletionPerMTok: v[1]}
	}
	return out, nil
}

// MergePrices returns a new map with base's prices overridden and extended
// by over's (e.g. MergePrices(DefaultPrices, parsedFlag)).
func MergePrices(base, over map[string]Price) map[string]Price {
	out := make(map[string]Price, len(base)+len(over))
	for k, v := range base {
		out[strings.ToLower(k)] = v
	}
	for k, v := range over {
		out[strings.ToLower(k)] = v
	}
	return out
}

// LookupPrice finds model's price: an exact (case-insensitive) name first,
// then the longest name that is a prefix of model ending at a non-alphanumeric
// character ("gpt-4.1-mini-2025-04-14" -> "gpt-4.1-mini", not "gpt-4.1"),
// then the same for the name after a provider prefix ("openai/gpt-4.1").
func LookupPrice(model string, prices map[string]Price) (Price, bool) {
	m := strings.ToLower(strings.TrimSpace(model))
	if m == "" {
		return Price{}, false
	}
	if p, ok := lookup(m, prices); ok {
		return p, true
	}
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		return lookup(m[i+1:], prices)
	}
	return Price{}, false
}

func lookup(m string, prices map[string]Price) (Price, bool) {
	best, found := "", false
	var price Price
	// Sorted keys: two names differing only in case resolve the same way
	// every time.
	for _, k := range slices.Sorted(maps.Keys(prices)) {
		name := strings.ToLower(k)
		if name == m {
			return prices[k], true
		}
		if len(name) > len(best) && strings.HasPrefix(m, name) {
			r := rune(m[len(name)])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				best, price, found = name, prices[k], true
			}
		}
	}
	return price, found
}

// Cost is what usage u of model cost in US dollars, and whether the model's
// price is known (see LookupPrice); an unknown model costs 0.
func Cost(model string, u research.Usage, prices map[string]Price) (usd float64, known bool) {
	p, ok := LookupPrice(model, prices)
	if !ok {
		return 0, false
	}
	return (float64(u.PromptTokens)*p.PromptPerMTok + float64(u.CompletionTokens)*p.CompletionPerMTok) / 1e6, true
}
