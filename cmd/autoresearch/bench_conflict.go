package main

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research/bench"
)

// The conflict scenario (issue 14): every proposal moves the same constant
// and every experiment is kept, so each proposal prepared while an
// experiment trained touches the line that experiment's keep changed and no
// longer applies to the new best. It runs twice: as the loop does it now
// (the proposal trains on the commit it was written for, judged as a stale
// candidate, while the next one is prepared) and as it did before (the
// proposal is dropped and the model asked again while the GPU waits).

// benchVariant shapes one scenario's repository, model and loop.
type benchVariant struct {
	conflict        bool // the fake model always edits K0 and every run improves
	dropConflicting bool // the loop drops a conflicting proposal (before issue 14)
}

const (
	conflictRun = "conflict"
	droppedRun  = "conflict-dropped"
)

func conflictScenarios(p benchParams) []scenarioSpec {
	return []scenarioSpec{
		{conflictRun, 1, true, p.Latency, p.Experiments, benchVariant{conflict: true}},
		{droppedRun, 1, true, p.Latency, p.Experiments, benchVariant{conflict: true, dropConflicting: true}},
	}
}

// conflictFigures compares occupancy and LLM spend of the two conflict
// runs, when they ran.
func conflictFigures(p benchParams, rep benchReport) []benchFigure {
	var now, before *benchRun
	for i := range rep.Runs {
		switch rep.Runs[i].Name {
		case conflictRun:
			now = &rep.Runs[i]
		case droppedRun:
			before = &rep.Runs[i]
		}
	}
	if now == nil || before == nil {
		return nil
	}
	lat := fmt.Sprintf("L=%s", p.Latency)
	if p.Latency*3 == p.Train {
		lat += "=T/3"
	}
	var out []benchFigure
	target, result := fmt.Sprintf(">= %.2f", targetOccupancy), "info"
	if p.Latency*3 <= p.Train {
		result = "MISS"
		if now.Figures.Occupancy >= targetOccupancy {
			result = "PASS"
		}
	} else {
		target += " (at L <= T/3)"
	}
	out = append(out, benchFigure{Name: fmt.Sprintf("GPU occupancy, every prepared proposal conflicts (1 slot, pipelined, %s)", lat),
		Value: now.Figures.Occupancy, Unit: "ratio", Shown: fmt.Sprintf("%.3f", now.Figures.Occupancy), Target: target, Result: result})
	out = append(out, benchFigure{Name: "  same, conflicting proposal dropped and the model asked again (before)",
		Value: before.Figures.Occupancy, Unit: "ratio", Shown: fmt.Sprintf("%.3f", before.Figures.Occupancy), Result: "info"})
	nowTok, beforeTok := tokensPerExperiment(*now), tokensPerExperiment(*before)
	out = append(out, benchFigure{Name: "  LLM tokens per proposed experiment, trained on its base / dropped (before)",
		Value: nowTok, Unit: "tokens", Shown: fmt.Sprintf("%.0f / %.0f", nowTok, beforeTok), Result: "info"})
	return out
}

// tokensPerExperiment is what the fake model was paid, on its fixed usage
// per answer, per experiment after the baseline.
func tokensPerExperiment(r benchRun) float64 {
	proposed := r.Figures.Experiments - 1
	if proposed <= 0 {
		return 0
	}
	return float64(r.LLM.Requests*(bench.PromptTokens+bench.CompletionTokens)) / float64(proposed)
}

// conflictNote explains the conflict lines of the report.
func conflictNote(rep benchReport) string {
	for _, r := range rep.Runs {
		if strings.HasPrefix(r.Name, conflictRun) {
			return "conflict: every proposal moves K0 and every run improves, so each proposal prepared while a keep trained conflicts with it; now it trains on the commit it was written for (judged as a stale candidate) while the model re-proposes, before it was dropped and the GPU waited for the re-proposal. Tokens per experiment count every answer of the fake model (2,060 tokens each), dropped proposals and refusals included."
		}
	}
	return ""
}
