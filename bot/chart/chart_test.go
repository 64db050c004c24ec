package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/autoresearch/autoresearch/research"
)

func chartDecode(t *testing.T, b []byte, w, h int) *image.RGBA {
	t.Helper()
	if err := os.WriteFile(filepath.Join(t.TempDir(), "chart.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{w, h}) {
		t.Fatalf("size %v, want %dx%d", got, w, h)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// chartCount counts the pixels of exactly colour c inside r.
func chartCount(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

// chartSmallRun: baseline 1.0 at #1, discards around it, kept #4 (0.99) and
// #9 (0.97), a crash at #6 and an outlier at #7.
func chartSmallRun() []research.Experiment {
	t0 := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	vals := []struct {
		status string
		bpb    float64
		desc   string
	}{
		{research.StatusKeep, 1.000, "baseline"},
		{research.StatusDiscard, 1.004, "wider MLP"},
		{research.StatusDiscard, 1.002, "lower lr"},
		{research.StatusKeep, 0.990, "rotary base 50000"},
		{research.StatusDiscard, 0.995, "more warmup"},
		{research.StatusCrash, 0, "depth 16"},
		{research.StatusDiscard, 9.5, "broken init"},
		{research.StatusDiscard, 0.993, "weight decay 0.2"},
		{research.StatusKeep, 0.970, "SwiGLU activation in every MLP block of the model"},
		{research.StatusDiscard, 0.980, "QK norm"},
	}
	var out []research.Experiment
	for i, v := range vals {
		e := research.Experiment{RunID: 1, Number: i + 1, Status: v.status, Description: v.desc,
			FinishedAt: t0.Add(time.Duration(i) * 6 * time.Minute)}
		e.Summary.ValBPB = v.bpb
		if i == 0 {
			e.Kind = research.KindBaseline
		}
		out = append(out, e)
	}
	return out
}

func TestChartRendersPoints(t *testing.T) {
	const w, h = 900, 450
	exps := chartSmallRun()
	b, err := Render(exps, w, h)
	if err != nil {
		t.Fatal(err)
	}
	img := chartDecode(t, b, w, h)

	// The background dominates.
	if bg := chartCount(img, img.Bounds(), chartBackground); bg < w*h*6/10 {
		t.Errorf("background is %d of %d pixels, want most", bg, w*h)
	}

	l, err := newChartLayout(chartPoints(exps), research.NewHistory(exps).BaselineValue, w, h)
	if err != nil {
		t.Fatal(err)
	}
	// The outlier (9.5) does not stretch the y range.
	if l.ymax > 1.2 || l.ymin > 0.97 {
		t.Errorf("y range [%v, %v], want about [0.97, 1.004]", l.ymin, l.ymax)
	}

	// The best kept point (#9, 0.970) sits in the lower right of the plot,
	// drawn in the kept colour.
	cx, cy := l.px(9), l.py(0.970)
	if cx < float64(l.left+l.right)/2 || cy < float64(l.top+l.bottom)/2 {
		t.Errorf("best kept point at (%.0f, %.0f), want the lower right of plot %d..%d x %d..%d", cx, cy, l.left, l.right, l.top, l.bottom)
	}
	box := image.Rect(int(cx)-3, int(cy)-3, int(cx)+4, int(cy)+4)
	if n := chartCount(img, box, chartKeptColor); n < 20 {
		t.Errorf("%d kept-colour pixels around the best kept point, want it filled", n)
	}
	// The baseline, upper left.
	bx, by := l.px(1), l.py(1.0)
	if n := chartCount(img, image.Rect(int(bx)-2, int(by)-2, int(bx)+3, int(by)+3), chartKeptColor); n < 10 {
		t.Errorf("baseline point not drawn in the kept colour (%d pixels)", n)
	}
	// A discarded point is faint grey, not the kept colour.
	// (One pixel off its centre: x = 2 carries a grid line.)
	dx, dy := int(math.Round(l.px(2)))+1, int(math.Round(l.py(1.004)))
	p := img.RGBAAt(dx, dy)
	if p.R != p.G || p.G != p.B || p.R < 180 || p.R > 230 {
		t.Errorf("discarded point pixel %v, want a faint grey (darker than the grid %v)", p, chartGridColor)
	}
	// Nothing kept-coloured where there is no kept point (#5 is discarded).
	if n := chartCount(img, image.Rect(int(l.px(5))-3, int(l.py(0.995))-3, int(l.px(5))+4, int(l.py(0.995))+4), chartKeptColor); n != 0 {
		t.Errorf("%d kept-colour pixels at a discarded point", n)
	}

	// The running best: a step line at 0.990 between #4 and #9, at 0.970 after.
	stepY := int(math.Round(l.py(0.990)))
	seg := image.Rect(int(l.px(5)), stepY-2, int(l.px(8)), stepY+3)
	if n := chartCount(img, seg, chartBestColor); n < int(l.px(8)-l.px(5)) {
		t.Errorf("step line at 0.990 between #5 and #8: %d pixels", n)
	}
	if n := chartCount(img, img.Bounds(), chartBestColor); n < 200 {
		t.Errorf("step line colour on %d pixels", n)
	}
	// The outlier (#7): a caret along the top, not a dot.
	ox := int(math.Round(l.px(7)))
	caret := image.Rect(ox-4, l.top+1, ox+5, l.top+7)
	if n := chartCount(img, caret, chartBackground); n > caret.Dx()*caret.Dy()-8 {
		t.Errorf("no outlier mark at the top above #7")
	}
	// The crash: a red cross at the bottom under #6, large enough to see.
	if n := chartCount(img, image.Rect(int(l.px(6))-15, l.bottom-30, int(l.px(6))+16, l.bottom), chartCrashColor); n < 20 {
		t.Errorf("crash mark under #6: %d crash-colour pixels", n)
	}
	// Labels: the baseline's label rises to its upper right.
	if n := chartCount(img, image.Rect(int(bx)+4, int(by)-60, int(bx)+120, int(by)), chartLabelColor); n < 10 {
		t.Errorf("no label next to the baseline (%d label pixels)", n)
	}
	// The title and tick labels: dark text above the plot and left of it.
	if n := chartCount(img, image.Rect(0, 0, w, l.top), chartTextColor); n < 50 {
		t.Errorf("title: %d text pixels", n)
	}
	if n := chartCount(img, image.Rect(0, l.top, l.left, l.bottom), chartTextColor); n < 50 {
		t.Errorf("y tick labels: %d text pixels", n)
	}
}

func TestChartFewPoints(t *testing.T) {
	for _, tc := range []struct {
		name string
		exps []research.Experiment
	}{
		{"none", nil},
		{"one", chartSmallRun()[:1]},
		{"crash only", chartSmallRun()[5:6]},
		{"unnumbered", []research.Experiment{{Status: research.StatusDiscard, Summary: research.Summary{ValBPB: 1.1}}, {Status: research.StatusKeep, Summary: research.Summary{ValBPB: 1.0}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Render(tc.exps, 400, 300)
			if err != nil {
				t.Fatal(err)
			}
			img := chartDecode(t, b, 400, 300)
			kept := chartCount(img, img.Bounds(), chartKeptColor)
			hasKeep := false
			for _, e := range tc.exps {
				hasKeep = hasKeep || e.Status == research.StatusKeep
			}
			// The legend shows a small kept dot too; a kept point adds more.
			legend := 0
			if b0, err := Render(nil, 400, 300); err == nil {
				legend = chartCount(chartDecode(t, b0, 400, 300), image.Rect(0, 0, 400, 300), chartKeptColor)
			}
			if hasKeep && kept <= legend {
				t.Errorf("kept point not drawn: %d kept pixels, legend alone %d", kept, legend)
			}
			if !hasKeep && kept != legend {
				t.Errorf("%d kept pixels without a kept point (legend %d)", kept, legend)
			}
		})
	}
}

func TestChartBadSize(t *testing.T) {
	for _, sz := range [][2]int{{0, 100}, {100, -1}, {50, 50}, {100000, 100}} {
		if _, err := Render(chartSmallRun(), sz[0], sz[1]); err == nil {
			t.Errorf("%dx%d: no error", sz[0], sz[1])
		}
	}
}

func TestChartLabelText(t *testing.T) {
	got := chartLabelText(chartPoint{number: 34, label: "  use rotary embeddings — with base 50000 and a much longer tail\nsecond line"})
	if utf8.RuneCountInString(got) > chartLabelMax || !strings.HasPrefix(got, "#34 use rotary embeddings") ||
		!strings.HasSuffix(got, "…") || strings.Contains(got, "second") {
		t.Errorf("label %q: want \"#34 \" and one line of at most %d characters, ending in …", got, chartLabelMax)
	}
	// The TrueType face draws what the old bitmap font turned into "?".
	faces, err := newChartFaces(900)
	if err != nil {
		t.Fatal(err)
	}
	if got := faces.label.printable("naïve λ → 0.5"); got != "naïve λ → 0.5" {
		t.Errorf("printable = %q, want it unchanged", got)
	}
	if got := faces.label.printable("emoji \U0001F600 bell\a"); got != "emoji ? bell" {
		t.Errorf("printable = %q, want the glyph the font lacks as ? and control characters dropped", got)
	}
}

func TestChartTicks(t *testing.T) {
	ticks, step := chartTicks(0.963, 1.007, 5, false)
	if step != 0.01 || len(ticks) != 4 || math.Abs(ticks[0]-0.97) > 1e-12 {
		t.Errorf("ticks %v step %v, want 0.97..1.00 by 0.01", ticks, step)
	}
	ticks, step = chartTicks(0.5, 3.5, 10, true)
	if step != 1 || len(ticks) != 3 || ticks[0] != 1 {
		t.Errorf("integer ticks %v step %v, want 1, 2, 3", ticks, step)
	}
}
