package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// Chart colours (the tests look for the exact ones).
var (
	chartBackground = color.RGBA{255, 255, 255, 255}
	chartGridColor  = color.RGBA{236, 236, 236, 255}
	chartAxisColor  = color.RGBA{90, 90, 90, 255}
	chartTextColor  = color.RGBA{40, 40, 40, 255}
	chartDiscarded  = color.RGBA{170, 170, 170, 255} // drawn at chartDiscardedAlpha
	chartKeptColor  = color.RGBA{46, 204, 113, 255}
	chartKeptEdge   = color.RGBA{25, 110, 60, 255}
	chartBestColor  = color.RGBA{39, 128, 227, 255}
	chartLabelColor = color.RGBA{26, 110, 58, 255}
	chartCrashColor = color.RGBA{224, 80, 70, 255}
)

// Sizes are fractions of the image height, so the chart reads the same at
// any size; the digest's chart is shrunk to phone width in Slack's preview.
const (
	chartDiscardedAlpha = 0.55
	chartDiscardedR     = 0.0065 // radius of a discarded point
	chartKeptR          = 0.013  // radius of a kept point
	chartCrashR         = 0.012  // half-size of a crash's ×
	chartPad            = 0.022
	chartLabelMax       = 30 // characters of a kept point's label, "#N " included
	chartLabelMin       = 8  // shorter than this, a label is left out
	chartOutlierFactor  = 1.2
	chartLabelAngle     = 30 // degrees
)

// chartLayout maps experiment numbers and val_bpb values to pixels.
type chartLayout struct {
	w, h                     int
	left, right, top, bottom int // plot area, in pixels
	xmin, xmax, ymin, ymax   float64
	faces                    chartFaces
	pad                      int
}

func (l chartLayout) px(x float64) float64 {
	return float64(l.left) + (x-l.xmin)/(l.xmax-l.xmin)*float64(l.right-l.left)
}

func (l chartLayout) py(y float64) float64 {
	return float64(l.top) + (l.ymax-y)/(l.ymax-l.ymin)*float64(l.bottom-l.top)
}

// size scales a fraction of the image height to pixels (at least min).
func (l chartLayout) size(frac, min float64) float64 {
	return math.Max(min, frac*float64(l.h))
}

// chartPoint is one experiment on the chart.
type chartPoint struct {
	x      float64 // experiment number
	y      float64 // val_bpb (0 for crashes)
	number int
	status string
	label  string
	repeat bool // a baseline repeat: drawn like a discard, counted apart
}

// chartPoints orders exps by number (their position when unnumbered).
func chartPoints(sorted []research.Experiment) []chartPoint {
	pts := make([]chartPoint, 0, len(sorted))
	for i, e := range sorted {
		x := float64(e.Number)
		if e.Number <= 0 {
			x = float64(i + 1)
		}
		p := chartPoint{x: x, number: e.Number, status: e.Status, label: e.Description,
			repeat: research.RoleOf(e) == research.RoleBaselineRepeat}
		switch {
		case e.Status == research.StatusRunning:
			continue
		case e.Status == research.StatusCrash || !render.HasValue(e):
			p.status = research.StatusCrash
		default:
			p.y = e.Summary.ValBPB
		}
		pts = append(pts, p)
	}
	return pts
}

// newChartLayout fits the margins to the text and the data ranges to the
// points: half an experiment of room on each side of the x range, and the
// values (outliers above 1.2 x the baseline left out) plus a little room.
func newChartLayout(pts []chartPoint, baseline float64, w, h int) (chartLayout, error) {
	faces, err := newChartFaces(h)
	if err != nil {
		return chartLayout{}, fmt.Errorf("chart: fonts: %w", err)
	}
	l := chartLayout{w: w, h: h, faces: faces}
	l.pad = int(l.size(chartPad, 4))
	textH := faces.text.asc + faces.text.desc
	l.top = l.pad + faces.title.asc + faces.title.desc + l.pad/2 + textH + l.pad
	l.bottom = h - (l.pad/2 + textH + l.pad/2 + textH + l.pad/2)

	l.xmin, l.xmax = 1, 1
	first := true
	for _, p := range pts {
		if first {
			l.xmin, l.xmax, first = p.x, p.x, false
		}
		l.xmin, l.xmax = math.Min(l.xmin, p.x), math.Max(l.xmax, p.x)
	}
	l.xmin -= 0.5
	l.xmax += 0.5
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.y <= 0 || (baseline > 0 && p.y > baseline*chartOutlierFactor) {
			continue
		}
		lo, hi = math.Min(lo, p.y), math.Max(hi, p.y)
	}
	switch {
	case math.IsInf(lo, 1): // no values
		lo, hi = 0, 1
	case hi-lo < 1e-9:
		pad := math.Max(math.Abs(lo)*0.01, 1e-3)
		lo, hi = lo-pad, hi+pad
	default:
		// Room below for the crash marks, above for the outlier carets.
		lo, hi = lo-(hi-lo)*0.12, hi+(hi-lo)*0.06
	}
	l.ymin, l.ymax = lo, hi
	// The left margin holds the widest y tick label.
	widest := 0
	yt, ystep := chartTicks(l.ymin, l.ymax, max(3, (l.bottom-l.top)/(3*textH)), false)
	for _, v := range yt {
		widest = max(widest, faces.text.width(chartTickText(v, ystep)))
	}
	l.left = l.pad + widest + l.pad/2
	l.right = w - l.pad
	if l.right-l.left < 40 || l.bottom-l.top < 40 {
		return l, fmt.Errorf("chart: %dx%d is too small for its text", w, h)
	}
	return l, nil
}

func chartTickText(v, step float64) string {
	return fmt.Sprintf("%.*f", max(0, int(-math.Floor(math.Log10(step)+1e-9))), v)
}

// Width and Height are the size the digest draws the chart at: readable
// on a phone, sharp on a laptop.
const (
	Width  = 1200
	Height = 900
)

// Render draws the run's progress as a PNG of w x h pixels:
// x is the experiment number, y its val_bpb; discarded experiments are faint
// grey dots, kept ones solid green, bigger and labelled "#N description"
// (shortened); the running best is a step line; crashes are red crosses
// along the bottom. Values above 1.2 x the baseline are left out of the y
// range and marked with a caret at the top. Text is sized relative to the
// height so the chart stays legible when Slack shrinks it to a phone's width.
func Render(exps []research.Experiment, w, h int) ([]byte, error) {
	if w <= 0 || h <= 0 {
		return nil, errors.New("chart: width and height must be positive")
	}
	if w > 8000 || h > 8000 {
		return nil, fmt.Errorf("chart: %dx%d is too large", w, h)
	}
	sorted := append([]research.Experiment(nil), exps...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Number > 0 && sorted[j].Number > 0 {
			return sorted[i].Number < sorted[j].Number
		}
		return false
	})
	pts := chartPoints(sorted)
	hist := research.NewHistory(sorted)
	l, err := newChartLayout(pts, hist.BaselineValue, w, h)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	chartFill(img, img.Bounds(), chartBackground)
	plot := image.Rect(l.left, l.top, l.right+1, l.bottom+1)
	l.drawAxes(img)

	kept, crashed, repeats := 0, 0, 0
	for _, p := range pts {
		if p.repeat {
			repeats++
		}
		switch p.status {
		case research.StatusKeep:
			kept++
		case research.StatusCrash:
			crashed++
		case research.StatusDiscard:
			if p.y <= l.ymax {
				chartDisc(img, plot, l.px(p.x), l.py(p.y), l.size(chartDiscardedR, 2), chartDiscarded, chartDiscardedAlpha)
			} else {
				chartCaret(img, l.px(p.x), l.top+2, int(l.size(0.008, 4)), chartDiscarded)
			}
		}
	}
	crashY := float64(l.bottom) - l.size(chartCrashR, 3) - l.size(0.008, 3)
	for _, p := range pts {
		if p.status == research.StatusCrash {
			chartCross(img, plot, l.px(p.x), crashY, l.size(chartCrashR, 3), l.size(0.004, 1.5), chartCrashColor)
		}
	}
	l.drawBest(img, plot, pts, &hist)
	l.drawKept(img, plot, pts)
	if len(pts) == 0 {
		s := "no experiments yet"
		l.faces.text.draw(img, s, (l.left+l.right-l.faces.text.width(s))/2, (l.top+l.bottom)/2, chartAxisColor)
	}

	title := fmt.Sprintf("%s, %d kept", render.Plural(len(pts)-repeats, "experiment", "experiments"), kept)
	if crashed > 0 {
		title += fmt.Sprintf(", %d crashed", crashed)
	}
	if repeats > 0 {
		title += ", " + render.Plural(repeats, "baseline repeat", "baseline repeats")
	}
	title = chartShorten(l.faces.title, title, w-2*l.pad)
	l.faces.title.draw(img, title, (w-l.faces.title.width(title))/2, l.pad+l.faces.title.asc, chartTextColor)
	l.drawLegend(img)
	xl := "experiment #"
	l.faces.text.draw(img, xl, (l.left+l.right-l.faces.text.width(xl))/2, h-l.pad/2-l.faces.text.desc, chartAxisColor)

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// drawAxes draws the grid, the tick labels and the axes.
func (l chartLayout) drawAxes(img *image.RGBA) {
	t := l.faces.text
	textH := t.asc + t.desc
	yt, ystep := chartTicks(l.ymin, l.ymax, max(3, (l.bottom-l.top)/(3*textH)), false)
	for _, v := range yt {
		y := int(math.Round(l.py(v)))
		chartFill(img, image.Rect(l.left, y, l.right+1, y+1), chartGridColor)
		s := chartTickText(v, ystep)
		t.draw(img, s, l.left-l.pad/2-t.width(s), y+t.asc/2-1, chartTextColor)
	}
	// Integer ticks far enough apart for labels of the widest number.
	room := 3 * t.width(fmt.Sprintf("%d", int(l.xmax)))
	xt, _ := chartTicks(math.Max(math.Ceil(l.xmin), 0), math.Floor(l.xmax), max(1, (l.right-l.left)/max(1, room)), true)
	tick := int(l.size(0.008, 3))
	for _, v := range xt {
		x := int(math.Round(l.px(v)))
		chartFill(img, image.Rect(x, l.top, x+1, l.bottom+1), chartGridColor)
		chartFill(img, image.Rect(x, l.bottom+1, x+1, l.bottom+1+tick), chartAxisColor)
		s := fmt.Sprintf("%d", int(v))
		t.draw(img, s, x-t.width(s)/2, l.bottom+l.pad/2+t.asc, chartTextColor)
	}
	chartFill(img, image.Rect(l.left, l.top, l.left+1, l.bottom+1), chartAxisColor)
	chartFill(img, image.Rect(l.left, l.bottom, l.right+1, l.bottom+1), chartAxisColor)
	chartFill(img, image.Rect(l.left, l.top, l.right+1, l.top+1), chartGridColor)
	chartFill(img, image.Rect(l.right, l.top, l.right+1, l.bottom+1), chartGridColor)
}

// drawBest draws the run's best (research.History's: a mean where the best
// is one) as a step line from each keep that moved it on to the last
// experiment.
func (l chartLayout) drawBest(img *image.RGBA, plot image.Rectangle, pts []chartPoint, hist *research.History) {
	var steps [][2]float64 // (x, best) where the best changed
	best := 0.0
	for _, k := range hist.Kept {
		if k.Number > 0 && (best == 0 || k.Value < best) {
			best = k.Value
			steps = append(steps, [2]float64{float64(k.Number), k.Value})
		}
	}
	if len(steps) == 0 || len(pts) == 0 {
		return
	}
	width := int(l.size(0.0045, 2))
	lastX := pts[len(pts)-1].x
	for i, s := range steps {
		x0, y0 := l.px(s[0]), l.py(s[1])
		x1 := l.px(lastX)
		if i+1 < len(steps) {
			x1 = l.px(steps[i+1][0])
			chartVLine(img, plot, x1, y0, l.py(steps[i+1][1]), width, chartBestColor)
		}
		chartHLine(img, plot, x0, x1, y0, width, chartBestColor)
	}
}

// drawLegend draws, between the title and the plot, the y axis's name on
// the left and the key on the right (the name is left out when both do not
// fit).
func (l chartLayout) drawLegend(img *image.RGBA) {
	t := l.faces.text
	y := l.top - l.pad - t.desc // baseline
	cy := float64(y - t.asc/2 + 1)
	mark := int(l.size(0.03, 10)) // room for a marker
	gap := int(l.size(0.025, 6))
	items := []string{"kept", "discarded", "best", "crash"}
	width := 0
	for _, s := range items {
		width += mark + gap/3 + t.width(s) + gap
	}
	width -= gap
	x := l.w - l.pad - width
	name := "val_bpb, lower is better"
	if l.pad+t.width(name)+2*gap <= x {
		t.draw(img, name, l.pad, y, chartAxisColor)
	}
	all := img.Bounds()
	for _, s := range items {
		mx := float64(x + mark/2)
		switch s {
		case "kept":
			rad := l.size(chartKeptR, 4)
			chartDisc(img, all, mx, cy, rad+rad/4+1, chartKeptEdge, 1)
			chartDisc(img, all, mx, cy, rad, chartKeptColor, 1)
		case "discarded":
			chartDisc(img, all, mx, cy, l.size(chartDiscardedR, 2)*1.3, chartDiscarded, 1)
		case "best":
			chartHLine(img, all, mx-float64(mark)/2, mx+float64(mark)/2-2, cy, int(l.size(0.0045, 2)), chartBestColor)
		case "crash":
			chartCross(img, all, mx, cy, l.size(chartCrashR, 3), l.size(0.004, 1.5), chartCrashColor)
		}
		t.draw(img, s, x+mark+gap/3, y, chartTextColor)
		x += mark + gap/3 + t.width(s) + gap
	}
}

// chartTicks returns round tick values in [lo, hi], about n of them.
func chartTicks(lo, hi float64, n int, integer bool) ([]float64, float64) {
	if !(hi >= lo) || n < 1 {
		return nil, 1
	}
	if hi == lo {
		return []float64{lo}, 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	if integer && step < 1 {
		step = 1
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
		if len(out) > 1000 {
			break
		}
	}
	return out, step
}
