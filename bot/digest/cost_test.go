package digest

import (
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestDigestShowsTheLLMCostWhenPriced(t *testing.T) {
	from := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	night := []research.Experiment{{ID: 1, RunID: 1, Number: 1, Kind: research.KindBaseline, Description: "baseline", Status: research.StatusKeep,
		Summary: research.Summary{ValBPB: 1.0}, PromptTokens: 2_000_000, CompletionTokens: 100_000, FinishedAt: from.Add(time.Hour)}}
	d := Build(night, night, nil, 0, from, from.Add(24*time.Hour))
	if strings.Contains(d.Text(), "$") {
		t.Fatalf("unpriced digest shows a cost:\n%s", d.Text())
	}
	d.CostUSD = 4.8
	if !strings.Contains(d.Text(), "($4.80)") {
		t.Errorf("priced digest lacks the cost:\n%s", d.Text())
	}
}
