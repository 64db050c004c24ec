package research

import (
	"math"
	"testing"
	"time"
)

func TestParseProgress(t *testing.T) {
	t.Parallel()
	const upstream = "step 00123 (41.0%) | loss: 3.212345 | lrm: 1.00 | dt: 312ms | tok/sec: 1,234,567 | mfu: 39.8% | epoch: 1 | remaining: 177s"
	tests := []struct {
		name string
		line string
		want Progress // Line is checked separately
		ok   bool
	}{
		{name: "upstream", line: upstream, ok: true,
			want: Progress{Step: 123, Percent: 41, Loss: 3.212345, Remaining: 177 * time.Second}},
		{name: "upstream with cr and padding", line: "\r" + upstream + "    ", ok: true,
			want: Progress{Step: 123, Percent: 41, Loss: 3.212345, Remaining: 177 * time.Second}},
		{name: "step only", line: "step 7", ok: true, want: Progress{Step: 7}},
		{name: "step and percent", line: "step 00010 (2.5%)", ok: true, want: Progress{Step: 10, Percent: 2.5}},
		{name: "percent without space", line: "step 10(3%) | loss: 1", ok: true, want: Progress{Step: 10, Percent: 3, Loss: 1}},
		{name: "fields reordered", line: "step 5 (10.0%) | remaining: 90s | dt: 1ms | loss: 2.5", ok: true,
			want: Progress{Step: 5, Percent: 10, Loss: 2.5, Remaining: 90 * time.Second}},
		{name: "subset without percent", line: "step 42 | loss: 4.0", ok: true, want: Progress{Step: 42, Loss: 4}},
		{name: "step over total", line: "step 25/100 | loss: 1.5", ok: true, want: Progress{Step: 25, Percent: 25, Loss: 1.5}},
		{name: "explicit percent beats total", line: "step 25/100 (30.0%)", ok: true, want: Progress{Step: 25, Percent: 30}},
		{name: "go duration remaining", line: "step 1 | remaining: 2m30s", ok: true, want: Progress{Step: 1, Remaining: 150 * time.Second}},
		{name: "bare seconds remaining", line: "step 1 | remaining: 12", ok: true, want: Progress{Step: 1, Remaining: 12 * time.Second}},
		{name: "fractional seconds remaining", line: "step 1 | remaining: 1.5s", ok: true, want: Progress{Step: 1, Remaining: 1500 * time.Millisecond}},
		{name: "percent over 100 clamped", line: "step 9 (120%)", ok: true, want: Progress{Step: 9, Percent: 100}},
		{name: "garbage fields ignored", line: "step 3 (x%) | loss: n/a | remaining: soon | junk", ok: true, want: Progress{Step: 3}},
		{name: "upper case keys", line: "step 3 | Loss: 2.0 | Remaining: 4s", ok: true, want: Progress{Step: 3, Loss: 2, Remaining: 4 * time.Second}},

		{name: "empty", line: ""},
		{name: "summary line", line: "val_bpb:          0.997900"},
		{name: "separator", line: "---"},
		{name: "no number", line: "step | loss: 3"},
		{name: "word starting with step", line: "steps 10 | loss: 3"},
		{name: "negative step", line: "step -1 | loss: 3"},
		{name: "step not first", line: "loss: 3 | step 10"},
		{name: "prose", line: "stepping into the warmup phase"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseProgress(tc.line)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (got %+v)", ok, tc.ok, got)
			}
			if !ok {
				return
			}
			if got.Step != tc.want.Step || math.Abs(got.Percent-tc.want.Percent) > 1e-9 ||
				math.Abs(got.Loss-tc.want.Loss) > 1e-9 || got.Remaining != tc.want.Remaining {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if got.Line == "" || got.Line[0] == '\r' || got.Line[len(got.Line)-1] == ' ' {
				t.Fatalf("Line %q not trimmed", got.Line)
			}
		})
	}
}

func TestParseProgressNaNLossKept(t *testing.T) {
	t.Parallel()
	// A NaN loss is the most useful thing a progress line can say: the run
	// diverged. It must come through, not be dropped as unparsable.
	p, ok := ParseProgress("step 10 (5.0%) | loss: nan")
	if !ok || !math.IsNaN(p.Loss) {
		t.Fatalf("got %+v, %v; want NaN loss", p, ok)
	}
}
