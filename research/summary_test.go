package research

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// upstreamSummary is the block upstream's train.py prints, padding included.
const upstreamSummary = `---
val_bpb:          0.997900
training_seconds: 300.1
total_seconds:    325.9
peak_vram_mb:     45060.2
mfu_percent:      39.80
total_tokens_M:   499.6
num_steps:        953
num_params_M:     50.3
depth:            8
`

var upstreamWant = Summary{
	ValBPB: 0.9979, TrainingSeconds: 300.1, TotalSeconds: 325.9, PeakVRAMMB: 45060.2,
	MFUPercent: 39.8, TotalTokensM: 499.6, NumSteps: 953, NumParamsM: 50.3, Depth: 8,
}

func TestParseSummary(t *testing.T) {
	t.Parallel()
	progress := "\rstep 00001 (0.1%) | loss: 9.000000 | remaining: 299s    " +
		"\rstep 00953 (100.0%) | loss: 3.100000 | remaining: 0s    \n"
	tests := []struct {
		name    string
		log     string
		want    Summary
		wantErr error
	}{
		{name: "upstream block", log: upstreamSummary, want: upstreamWant},
		{name: "after cr-joined progress", log: "Loading data\n" + progress + "Total time: 300s\n" + upstreamSummary, want: upstreamWant},
		{name: "separator right after a cr", log: "\rstep 00002 (50.0%) | loss: 3.0\r---\nval_bpb: 1.5\n", want: Summary{ValBPB: 1.5}},
		{name: "crlf line endings", log: strings.ReplaceAll(upstreamSummary, "\n", "\r\n"), want: upstreamWant},
		{name: "unknown keys ignored", log: "---\nfoo_bar: 12\nval_bpb: 1.25\nnote: hello world\ndepth: 4\n", want: Summary{ValBPB: 1.25, Depth: 4}},
		{name: "only val_bpb", log: "---\nval_bpb: 0.5", want: Summary{ValBPB: 0.5}},
		{name: "trailing junk ends the block", log: "---\nval_bpb: 1.1\nnum_steps: 10\nTraceback (most recent call last):\nnum_steps: 99\n", want: Summary{ValBPB: 1.1, NumSteps: 10}},
		{name: "percent and thousands separators", log: "---\nval_bpb: 1.0\nmfu_percent: 40.5%\nnum_steps: 1,234\n", want: Summary{ValBPB: 1, MFUPercent: 40.5, NumSteps: 1234}},
		{name: "malformed secondary figure left zero", log: "---\nval_bpb: 1.0\npeak_vram_mb: n/a\n", want: Summary{ValBPB: 1}},
		{name: "separator with trailing spaces", log: "---   \nval_bpb: 2.0\n", want: Summary{ValBPB: 2}},
		{name: "unrelated dashes before the summary", log: "---\nsome yaml\n" + upstreamSummary, want: upstreamWant},

		{name: "empty log", log: "", wantErr: ErrNoSummary},
		{name: "crash traceback", log: progress + "Traceback (most recent call last):\n  File \"train.py\"\nRuntimeError: CUDA out of memory\n", wantErr: ErrNoSummary},
		{name: "val_bpb without separator", log: "val_bpb: 0.99\n", wantErr: ErrNoSummary},
		{name: "separator not alone on its line", log: "----\nval_bpb: 0.99\n", wantErr: ErrNoSummary},
		{name: "indented separator", log: "  ---\nval_bpb: 0.99\n", wantErr: ErrNoSummary},
		{name: "block without val_bpb", log: "---\ntraining_seconds: 300\n", wantErr: ErrNoSummary},
		{name: "val_bpb not a number", log: "---\nval_bpb: oops\n", wantErr: ErrNoSummary},
		{name: "val_bpb empty", log: "---\nval_bpb:\n", wantErr: ErrNoSummary},

		{name: "nan", log: "---\nval_bpb: nan\n", wantErr: ErrMetricNotFinite},
		{name: "inf", log: "---\nval_bpb:          inf\n", wantErr: ErrMetricNotFinite},
		{name: "negative inf", log: "---\nval_bpb: -inf\n", wantErr: ErrMetricNotFinite},
		{name: "zero", log: "---\nval_bpb: 0.000000\n", wantErr: ErrMetricNotFinite},
		{name: "negative", log: "---\nval_bpb: -0.5\n", wantErr: ErrMetricNotFinite},

		{name: "printed twice", log: upstreamSummary + upstreamSummary, wantErr: ErrSummaryRepeated},
		{name: "printed twice with different values", log: "---\nval_bpb: 1.0\n" + progress + "---\nval_bpb: 0.9\n", wantErr: ErrSummaryRepeated},
		{name: "repeated beats not finite", log: "---\nval_bpb: nan\n---\nval_bpb: 0.9\n", wantErr: ErrSummaryRepeated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSummary([]byte(tc.log))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !summariesEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestParseSummaryErrorsAreDistinct guards against one sentinel wrapping
// another, which would make errors.Is answer yes to the wrong question.
func TestParseSummaryErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	_, err := ParseSummary([]byte("---\nval_bpb: nan\n"))
	if errors.Is(err, ErrNoSummary) || errors.Is(err, ErrSummaryRepeated) {
		t.Fatalf("NaN error %v matches another sentinel", err)
	}
	_, err = ParseSummary([]byte(upstreamSummary + upstreamSummary))
	if errors.Is(err, ErrNoSummary) || errors.Is(err, ErrMetricNotFinite) {
		t.Fatalf("repeat error %v matches another sentinel", err)
	}
}

// TestParseSummaryRepeatedReturnsLastBlock documents that the figures of the
// last block come back with ErrSummaryRepeated, for display.
func TestParseSummaryRepeatedReturnsLastBlock(t *testing.T) {
	t.Parallel()
	got, err := ParseSummary([]byte("---\nval_bpb: 1.0\n---\nval_bpb: 0.9\n"))
	if !errors.Is(err, ErrSummaryRepeated) {
		t.Fatalf("err = %v", err)
	}
	if got.ValBPB != 0.9 {
		t.Fatalf("ValBPB = %v, want 0.9", got.ValBPB)
	}
}

func summariesEqual(a, b Summary) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return near(a.ValBPB, b.ValBPB) && near(a.TrainingSeconds, b.TrainingSeconds) &&
		near(a.TotalSeconds, b.TotalSeconds) && near(a.PeakVRAMMB, b.PeakVRAMMB) &&
		near(a.MFUPercent, b.MFUPercent) && near(a.TotalTokensM, b.TotalTokensM) &&
		a.NumSteps == b.NumSteps && near(a.NumParamsM, b.NumParamsM) && a.Depth == b.Depth
}

// The scanner reads a stream in any chunking exactly as ParseSummary reads
// the whole text.
func TestSummaryScannerChunkingIsInvisible(t *testing.T) {
	t.Parallel()
	logs := []string{
		upstreamSummary,
		"\rstep 1 (50.0%) | loss: 3\r---\r\nval_bpb: 1.5\n\n",
		upstreamSummary + "noise\n" + upstreamSummary,
		"---\nval_bpb: nan\n",
		"---\nfoo: 1\n",
		"no summary at all",
		"---\n\nval_bpb: 1.25", // blank lines are skipped; no final newline
	}
	for _, log := range logs {
		wantSum, wantErr := ParseSummary([]byte(log))
		for _, size := range []int{1, 2, 3, 7} {
			var sc SummaryScanner
			for i := 0; i < len(log); i += size {
				_, _ = sc.Write([]byte(log[i:min(i+size, len(log))]))
			}
			got, err := sc.Result()
			same := got == wantSum || math.IsNaN(got.ValBPB) && math.IsNaN(wantSum.ValBPB)
			if !same || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Errorf("%q in chunks of %d: %+v, %v; want %+v, %v", log, size, got, err, wantSum, wantErr)
			}
		}
	}
}

// A fake summary printed after 9 MiB of padding (more than any trainer
// keeps in memory) is still seen next to the real one: two summaries.
func TestSummaryScannerSeesPastPadding(t *testing.T) {
	t.Parallel()
	var sc SummaryScanner
	_, _ = sc.Write([]byte(upstreamSummary))
	pad := []byte(strings.Repeat("x", 1<<20))
	for range 9 {
		_, _ = sc.Write(pad) // one 9 MiB line: the scanner keeps none of it
		if cap(sc.line) > 2*maxSummaryLine {
			t.Fatalf("scanner buffer grew to %d", cap(sc.line))
		}
	}
	_, _ = sc.Write([]byte("\n---\nval_bpb: 0.123456\n"))
	sum, err := sc.Result()
	if !errors.Is(err, ErrSummaryRepeated) {
		t.Fatalf("err = %v, want ErrSummaryRepeated (sum %+v)", err, sum)
	}
	// Padding glued to the fake block's lines makes them overlong, so they
	// are no block at all rather than a trusted one.
	var glued SummaryScanner
	_, _ = glued.Write([]byte("---\nval_bpb: " + strings.Repeat(" ", 2*maxSummaryLine) + "0.5\n"))
	if _, err := glued.Result(); !errors.Is(err, ErrNoSummary) {
		t.Errorf("overlong val_bpb line: err = %v, want ErrNoSummary", err)
	}
}
