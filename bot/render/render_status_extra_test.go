package render

import (
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestFormatStatusShowsCostAndTheLastGPURecord(t *testing.T) {
	run := research.Run{Tag: "mar20", Branch: "autoresearch/mar20"}
	st := research.Status{Run: &run, Phase: research.PhaseIdle,
		Usage:         research.Usage{PromptTokens: 120000, CompletionTokens: 8000},
		CostUSD:       0.304,
		LastTelemetry: &research.Telemetry{Samples: 10, MeanUtilPct: 97, PeakMemoryMB: 40960, MaxTempC: 71, MeanPowerW: 650, Throttled: true, ThrottleReason: []string{"sw_thermal"}},
	}
	out := FormatStatus(st)
	for _, want := range []string{"($0.30)", "last GPU:", "NOT COMPARABLE"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	st.CostUSD, st.LastTelemetry = 0, nil
	if out := FormatStatus(st); strings.Contains(out, "$") || strings.Contains(out, "last GPU") {
		t.Errorf("status shows cost or GPU it does not have:\n%s", out)
	}
}
