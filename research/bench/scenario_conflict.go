package bench

import (
	"fmt"
	"strings"
)

// The conflict scenario (issue 14): every proposal moves the same constant
// and every experiment is kept, so each proposal prepared while an
// experiment trained touches the line that experiment's keep changed and no
// longer applies to the new best. It runs twice: as the loop does it now
// (the proposal trains on the commit it was written for, judged as a stale
// candidate, while the next one is prepared) and as it did before (the
// proposal is dropped and the model asked again while the GPU waits).

// The conflict scenario's two runs, by name.
const (
	ConflictRun = "conflict"
	DroppedRun  = "conflict-dropped"
)

func conflictScenarios(p Params) []loopScenario {
	return []loopScenario{
		{ConflictRun, 1, true, p.Latency, p.Experiments, variant{conflict: true}},
		{DroppedRun, 1, true, p.Latency, p.Experiments, variant{conflict: true, dropConflicting: true}},
	}
}

// conflictFigures compares occupancy and LLM spend of the two conflict
// runs, when they ran.
func conflictFigures(p Params, rep Report) []Line {
	var now, before *LoopRun
	for i := range rep.Runs {
		switch rep.Runs[i].Name {
		case ConflictRun:
			now = &rep.Runs[i]
		case DroppedRun:
			before = &rep.Runs[i]
		}
	}
	if now == nil || before == nil {
		return nil
	}
	var out lines
	target, pass := occupancyTarget(p, now.Figures.Occupancy)
	out.add(fmt.Sprintf("GPU occupancy, every prepared proposal conflicts (1 slot, pipelined, %s)", latencyLabel(p)),
		now.Figures.Occupancy, "ratio", fmt.Sprintf("%.3f", now.Figures.Occupancy), target, pass)
	out.add("  same, conflicting proposal dropped and the model asked again (before)",
		before.Figures.Occupancy, "ratio", fmt.Sprintf("%.3f", before.Figures.Occupancy), "", nil)
	nowTok, beforeTok := tokensPerExperiment(*now), tokensPerExperiment(*before)
	out.add("  LLM tokens per proposed experiment, trained on its base / dropped (before)",
		nowTok, "tokens", fmt.Sprintf("%.0f / %.0f", nowTok, beforeTok), "", nil)
	return out
}

// tokensPerExperiment is what the fake model was paid, on its fixed usage
// per answer, per experiment after the baseline.
func tokensPerExperiment(r LoopRun) float64 {
	proposed := r.Figures.Experiments - 1
	if proposed <= 0 {
		return 0
	}
	return float64(r.LLM.Requests*(PromptTokens+CompletionTokens)) / float64(proposed)
}

// conflictNote explains the conflict lines of the report.
func conflictNote(rep Report) string {
	for _, r := range rep.Runs {
		if strings.HasPrefix(r.Name, ConflictRun) {
			return "conflict: every proposal moves K0 and every run improves, so each proposal prepared while a keep trained conflicts with it; now it trains on the commit it was written for (judged as a stale candidate) while the model re-proposes, before it was dropped and the GPU waited for the re-proposal. Tokens per experiment count every answer of the fake model (2,060 tokens each), dropped proposals and refusals included."
		}
	}
	return ""
}
