package slack

import (
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// TestStatusShowsTheJudgedMeans: status and App Home show the best and the
// baseline as the run's History has them, means included.
func TestStatusShowsTheJudgedMeans(t *testing.T) {
	exp := func(n int, kind research.Kind, desc, status string, val float64) research.Experiment {
		return research.Experiment{RunID: 1, Number: n, Kind: kind, Description: desc, Status: status, Summary: research.Summary{ValBPB: val}}
	}
	h := research.NewHistory([]research.Experiment{
		exp(1, research.KindBaseline, "baseline", research.StatusKeep, 1.000),
		exp(2, research.KindBaselineRepeat, "baseline (repeat 1/1)", research.StatusDiscard, 1.020),
		exp(3, research.KindProposal, "depth 12", research.StatusDiscard, 0.990),
		exp(4, research.KindConfirmation, "confirm #3: depth 12", research.StatusKeep, 0.994),
	})
	run := research.Run{Tag: "t", Branch: "autoresearch/t", Noise: 0.5}
	st := research.Status{Run: &run, History: h, Best: h.Best, Baseline: h.Baseline, Counts: h.Counts}
	text := render.FormatStatus(st)
	for _, want := range []string{
		"best:      #4 0.992000 (mean of #3, #4) (-0.018000 vs baseline)",
		"baseline:  #1 1.010000 (mean of 2 runs)  (noise ±0.014142)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	home := string(homeView(st, nil, false, "/autoresearch", h.Best.FinishedAt))
	for _, want := range []string{"*Best* #4 0.992000 (mean of #3, #4) (-0.018000 vs baseline)", "*Baseline* #1 1.010000 (mean of 2 runs), noise floor ±0.014142"} {
		if !strings.Contains(home, want) {
			t.Errorf("App Home lacks %q:\n%s", want, home)
		}
	}
}
