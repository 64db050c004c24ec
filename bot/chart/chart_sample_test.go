package chart

import (
	"bytes"
	"image"
	"image/png"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/autoresearch/autoresearch/research"
)

// chartNight builds a realistic run: a baseline, mostly discarded tries,
// a few kept improvements, some crashes and one wild outlier.
func chartNight(n int, seed int64, start time.Time) []research.Experiment {
	rng := rand.New(rand.NewSource(seed))
	descs := []string{
		"increase learning rate to 0.04", "use rotary embeddings with base 50000",
		"switch to SwiGLU activation in the MLP", "halve the batch size, double steps",
		"add QK-norm before attention", "warmup 200 steps then cosine decay to zero",
		"untie embedding and unembedding weights", "depth 10 instead of 8",
		"weight decay 0.1 on matrices only", "Muon momentum 0.95",
	}
	var out []research.Experiment
	best := 0.9979
	for i := 1; i <= n; i++ {
		e := research.Experiment{ID: int64(i), RunID: 1, Number: i, Description: descs[rng.Intn(len(descs))],
			TrainSeconds: 300, TotalSeconds: 340, PromptTokens: 9000, CompletionTokens: 700,
			StartedAt: start.Add(time.Duration(i-1) * 6 * time.Minute), FinishedAt: start.Add(time.Duration(i) * 6 * time.Minute)}
		switch {
		case i == 1:
			e.Kind, e.Description, e.Status, e.Summary.ValBPB = research.KindBaseline, "baseline", research.StatusKeep, best
		case i%13 == 0:
			e.Status, e.Reason = research.StatusCrash, "CUDA out of memory"
		case i == 17:
			e.Status, e.Summary.ValBPB = research.StatusDiscard, 1.6
		default:
			v := best + rng.NormFloat64()*0.004 + 0.0045
			if v < best {
				e.Status, best = research.StatusKeep, v
			} else {
				e.Status = research.StatusDiscard
			}
			e.Summary.ValBPB = v
		}
		out = append(out, e)
	}
	return out
}

// TestChartSample writes a sample chart to look at when CHART_SAMPLE names a
// file, at the digest's size and scaled to 390 px wide as a phone's thread
// preview shows it (FILE-phone.png).
func TestChartSample(t *testing.T) {
	path := os.Getenv("CHART_SAMPLE")
	if path == "" {
		t.Skip("set CHART_SAMPLE=/tmp/chart-sample.png to write a sample")
	}
	b, err := Render(chartNight(90, 3, time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)), Width, Height)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	const phone = 390
	sb := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, phone, sb.Dy()*phone/sb.Dx()))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, sb, xdraw.Src, nil)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(path, ".png")+"-phone.png", out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
