package agent

import (
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// TestFormatHistoryNamesOmittedExperiments: a windowed history (a long
// run's, see research.ProposalRequest.HistoryOmitted) says how many earlier
// experiments were left out; without any left out the text is unchanged.
func TestFormatHistoryNamesOmittedExperiments(t *testing.T) {
	hist := synthHistory(7, 120, 6, 40)
	plain := FormatHistory(research.ProposalRequest{History: hist}, HistoryBudget{})
	if strings.Contains(plain, "not listed") {
		t.Fatalf("a whole history mentions omitted experiments:\n%s", plain)
	}
	windowed := FormatHistory(research.ProposalRequest{History: hist, HistoryOmitted: 9000}, HistoryBudget{})
	if !strings.Contains(windowed, "(9000 more earlier experiments, neither kept nor near misses, not listed)") {
		t.Fatalf("the omitted experiments are not mentioned:\n%s", windowed)
	}
	if EstimateTokens(windowed) > DefaultHistoryTokens {
		t.Errorf("windowed history is %d tokens, over the budget %d", EstimateTokens(windowed), DefaultHistoryTokens)
	}
	recent := FormatHistory(research.ProposalRequest{History: hist[len(hist)-10:], HistoryOmitted: 50}, HistoryBudget{})
	if !strings.Contains(recent, "Other earlier experiments:\n(50 more earlier") || !strings.Contains(recent, "Most recent experiments:\n") {
		t.Errorf("with only recent rows the omitted count still needs its section:\n%s", recent)
	}
}
