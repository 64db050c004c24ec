package bot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/autoresearch/autoresearch/research"
)

// Chart colours (the test looks for the exact ones).
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

const (
	chartDiscardedAlpha = 0.55
	chartDiscardedR     = 3.0
	chartKeptR          = 6.0
	chartBestWidth      = 2
	chartLabelMax       = 40 // characters of a kept point's label
	chartOutlierFactor  = 1.2
	chartLabelAngle     = 30 // degrees, like upstream's rotated labels
)

var chartFace = basicfont.Face7x13

// chartLayout maps experiment numbers and val_bpb values to pixels.
type chartLayout struct {
	w, h                     int
	left, right, top, bottom int // plot area, in pixels
	xmin, xmax, ymin, ymax   float64
}

func (l chartLayout) px(x float64) float64 {
	return float64(l.left) + (x-l.xmin)/(l.xmax-l.xmin)*float64(l.right-l.left)
}

func (l chartLayout) py(y float64) float64 {
	return float64(l.top) + (l.ymax-y)/(l.ymax-l.ymin)*float64(l.bottom-l.top)
}

// chartPoint is one experiment on the chart.
type chartPoint struct {
	x      float64 // experiment number
	y      float64 // val_bpb (0 for crashes)
	status string
	label  string
}

// chartPoints orders exps by number (their position when unnumbered).
func chartPoints(exps []research.Experiment) []chartPoint {
	sorted := append([]research.Experiment(nil), exps...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Number > 0 && sorted[j].Number > 0 {
			return sorted[i].Number < sorted[j].Number
		}
		return false
	})
	pts := make([]chartPoint, 0, len(sorted))
	for i, e := range sorted {
		x := float64(e.Number)
		if e.Number <= 0 {
			x = float64(i + 1)
		}
		p := chartPoint{x: x, status: e.Status, label: e.Description}
		switch {
		case e.Status == research.StatusRunning:
			continue
		case e.Status == research.StatusCrash || !digestHasValue(e):
			p.status = research.StatusCrash
		default:
			p.y = e.Summary.ValBPB
		}
		pts = append(pts, p)
	}
	return pts
}

// newChartLayout fits the plot area and the data ranges.
func newChartLayout(pts []chartPoint, w, h int) (chartLayout, error) {
	l := chartLayout{w: w, h: h, left: 84, right: w - 24, top: 44, bottom: h - 48}
	if l.right-l.left < 40 || l.bottom-l.top < 40 {
		return l, fmt.Errorf("chart: %dx%d is too small (at least %dx%d)", w, h, 84+24+40, 44+48+40)
	}
	l.xmin, l.xmax = 1, 1
	first := true
	var baseline float64
	for _, p := range pts {
		if first {
			l.xmin, l.xmax, first = p.x, p.x, false
		}
		l.xmin, l.xmax = math.Min(l.xmin, p.x), math.Max(l.xmax, p.x)
		if baseline == 0 && p.y > 0 {
			baseline = p.y
		}
	}
	// Half an experiment of room on each side, and at least ten slots so a
	// young run does not spread a few points over the whole width.
	l.xmin -= 0.5
	l.xmax += 0.5
	if l.xmax-l.xmin < 10 {
		l.xmax = l.xmin + 10
	}
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
		pad := (hi - lo) * 0.08
		lo, hi = lo-pad, hi+pad
	}
	l.ymin, l.ymax = lo, hi
	return l, nil
}

// RenderProgressChart draws the run's progress as a PNG of w x h pixels in
// the manner of upstream autoresearch's progress.png: x is the experiment
// number, y its val_bpb; discarded experiments are faint grey dots, kept ones
// solid green, bigger and labelled with their (truncated) description; the
// running best is a step line; crashes are small red ticks along the bottom.
// Values above 1.2 x the baseline are left out of the y range. Zero or one
// experiment give a valid (sparse) chart.
func RenderProgressChart(exps []research.Experiment, w, h int) ([]byte, error) {
	if w <= 0 || h <= 0 {
		return nil, errors.New("chart: width and height must be positive")
	}
	if w > 8000 || h > 8000 {
		return nil, fmt.Errorf("chart: %dx%d is too large", w, h)
	}
	pts := chartPoints(exps)
	l, err := newChartLayout(pts, w, h)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(chartBackground), image.Point{}, draw.Src)
	plot := image.Rect(l.left, l.top, l.right+1, l.bottom+1)

	// Grid and tick labels.
	yt, ystep := chartTicks(l.ymin, l.ymax, max(3, (l.bottom-l.top)/60), false)
	ydec := max(0, int(-math.Floor(math.Log10(ystep)+1e-9)))
	for _, v := range yt {
		y := int(math.Round(l.py(v)))
		chartFill(img, image.Rect(l.left, y, l.right+1, y+1), chartGridColor)
		s := fmt.Sprintf("%.*f", ydec, v)
		chartText(img, s, l.left-6-chartTextWidth(s), y+4, chartTextColor, 1)
	}
	xt, _ := chartTicks(math.Max(l.xmin, 0), l.xmax, max(2, (l.right-l.left)/80), true)
	for _, v := range xt {
		x := int(math.Round(l.px(v)))
		chartFill(img, image.Rect(x, l.top, x+1, l.bottom+1), chartGridColor)
		chartFill(img, image.Rect(x, l.bottom+1, x+1, l.bottom+5), chartAxisColor)
		s := fmt.Sprintf("%d", int(v))
		chartText(img, s, x-chartTextWidth(s)/2, l.bottom+18, chartTextColor, 1)
	}
	// Axes (left and bottom) and a light frame.
	chartFill(img, image.Rect(l.left, l.top, l.left+1, l.bottom+1), chartAxisColor)
	chartFill(img, image.Rect(l.left, l.bottom, l.right+1, l.bottom+1), chartAxisColor)
	chartFill(img, image.Rect(l.left, l.top, l.right+1, l.top+1), chartGridColor)
	chartFill(img, image.Rect(l.right, l.top, l.right+1, l.bottom+1), chartGridColor)

	// Discarded points, faint.
	kept := 0
	for _, p := range pts {
		if p.status == research.StatusKeep {
			kept++
		}
		if p.status != research.StatusDiscard {
			continue
		}
		chartDisc(img, plot, l.px(p.x), l.py(p.y), chartDiscardedR, chartDiscarded, chartDiscardedAlpha)
	}
	// Outliers above the range: small grey carets along the top.
	for _, p := range pts {
		if p.y > l.ymax && p.status != research.StatusCrash {
			x := l.px(p.x)
			for i := 0; i < 4; i++ {
				r := image.Rect(int(math.Round(x))-i, l.top+2+i, int(math.Round(x))+i+1, l.top+3+i)
				chartBlendRect(img, r, chartDiscarded, 0.9)
			}
		}
	}
	// Crashes: small ticks along the bottom.
	for _, p := range pts {
		if p.status == research.StatusCrash {
			x := int(math.Round(l.px(p.x)))
			chartFill(img, image.Rect(x-1, l.bottom-7, x+1, l.bottom-1), chartCrashColor)
		}
	}
	// Running best as a step line (through the kept points, then on to the
	// last experiment).
	var steps [][2]float64 // (x, best) where the best changed
	best := 0.0
	for _, p := range pts {
		if p.status == research.StatusKeep && p.y > 0 && (best == 0 || p.y < best) {
			best = p.y
			steps = append(steps, [2]float64{p.x, p.y})
		}
	}
	if len(steps) > 0 {
		lastX := pts[len(pts)-1].x
		for i, s := range steps {
			x0, y0 := l.px(s[0]), l.py(s[1])
			x1 := l.px(lastX)
			if i+1 < len(steps) {
				x1 = l.px(steps[i+1][0])
				chartVLine(img, plot, x1, y0, l.py(steps[i+1][1]), chartBestColor)
			}
			chartHLine(img, plot, x0, x1, y0, chartBestColor)
		}
	}
	// Kept points, and their labels: the biggest improvements get their
	// label first; a label that would overlap one already placed is left out.
	type keptPt struct {
		p     chartPoint
		delta float64
	}
	var kps []keptPt
	best = 0
	for _, p := range pts {
		if p.status != research.StatusKeep || p.y <= 0 {
			continue
		}
		d := math.Inf(1) // the baseline's label goes first
		if best > 0 {
			d = best - p.y
		}
		if best == 0 || p.y < best {
			best = p.y
		}
		kps = append(kps, keptPt{p, d})
	}
	for _, k := range kps {
		chartDisc(img, plot, l.px(k.p.x), l.py(k.p.y), chartKeptR+1.5, chartKeptEdge, 1)
		chartDisc(img, plot, l.px(k.p.x), l.py(k.p.y), chartKeptR, chartKeptColor, 1)
	}
	sort.SliceStable(kps, func(i, j int) bool { return kps[i].delta > kps[j].delta })
	var placed []chartRect
	for _, k := range kps {
		ax, ay := l.px(k.p.x)+chartKeptR+3, l.py(k.p.y)-chartKeptR-1
		if r, s, ok := chartFitLabel(l, ax, ay, chartLabelText(k.p.label), placed); ok {
			placed = append(placed, r)
			chartTextRotated(img, s, ax, ay, chartLabelAngle, chartLabelColor)
		}
	}
	if len(pts) == 0 {
		s := "no experiments yet"
		chartText(img, s, (l.left+l.right-chartTextWidth(s))/2, (l.top+l.bottom)/2, chartAxisColor, 1)
	}

	// Title, axis names and the legend.
	title := fmt.Sprintf("%s, %d kept", digestPlural(len(pts), "experiment", "experiments"), kept)
	chartText(img, title, (w-2*chartTextWidth(title))/2, 32, chartTextColor, 2)
	xl := "experiment #"
	chartText(img, xl, (l.left+l.right-chartTextWidth(xl))/2, h-8, chartTextColor, 1)
	yl := "val_bpb (lower is better)"
	chartTextRotated(img, yl, 16, float64(l.top+l.bottom+chartTextWidth(yl))/2, 90, chartTextColor)
	chartLegend(img, l)

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// chartLegend draws the key in the plot's top right corner.
func chartLegend(img *image.RGBA, l chartLayout) {
	items := []string{"kept", "discarded", "running best", "crash"}
	wmax := 0
	for _, s := range items {
		wmax = max(wmax, chartTextWidth(s))
	}
	bw, bh := wmax+40, len(items)*16+8
	x0, y0 := l.right-bw-8, l.top+8
	if x0 < l.left+8 {
		return
	}
	r := image.Rect(x0, y0, x0+bw, y0+bh)
	chartBlendRect(img, r, chartBackground, 0.85)
	chartFill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), chartGridColor)
	chartFill(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), chartGridColor)
	chartFill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), chartGridColor)
	chartFill(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), chartGridColor)
	for i, s := range items {
		cy := float64(y0 + 12 + i*16)
		cx := float64(x0 + 16)
		switch s {
		case "kept":
			chartDisc(img, r, cx, cy, 5.5, chartKeptEdge, 1)
			chartDisc(img, r, cx, cy, 4.5, chartKeptColor, 1)
		case "discarded":
			chartDisc(img, r, cx, cy, chartDiscardedR, chartDiscarded, chartDiscardedAlpha)
		case "running best":
			chartHLine(img, r, cx-9, cx+9, cy, chartBestColor)
		case "crash":
			chartFill(img, image.Rect(int(cx)-1, int(cy)-3, int(cx)+1, int(cy)+3), chartCrashColor)
		}
		chartText(img, s, x0+32, int(cy)+4, chartTextColor, 1)
	}
}

// chartLabelText makes a description fit a label: one line, printable ASCII
// (the bitmap font has nothing else), at most chartLabelMax characters.
func chartLabelText(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		case r == '–' || r == '—':
			b.WriteByte('-')
		default:
			b.WriteByte('?')
		}
	}
	s = b.String()
	if len(s) > chartLabelMax {
		s = strings.TrimRight(s[:chartLabelMax-3], " ") + "..."
	}
	return s
}

// chartRect is a label's box in the rotated frame of the labels (all labels
// share the angle, so their boxes are axis-aligned there).
type chartRect struct{ a0, a1, b0, b1 float64 }

func (r chartRect) overlaps(o chartRect) bool {
	return r.a0 < o.a1 && o.a0 < r.a1 && r.b0 < o.b1 && o.b0 < r.b1
}

// chartFitLabel shortens s until the label anchored at (ax, ay) stays inside
// the image below the title, and reports whether it then clears the labels
// already placed.
func chartFitLabel(l chartLayout, ax, ay float64, s string, placed []chartRect) (chartRect, string, bool) {
	ux, uy, nx, ny := chartAxes(chartLabelAngle)
	asc := float64(chartFace.Ascent)
	desc := float64(chartFace.Descent)
	for len(s) >= 4 {
		n := float64(chartTextWidth(s))
		// Corners: baseline start/end, raised by the ascent.
		ex, ey := ax+n*ux, ay+n*uy
		tx, ty := ex-asc*nx, ey-asc*ny
		if tx <= float64(l.w-4) && ty >= float64(l.top) && ex <= float64(l.w-4) {
			a := ax*ux + ay*uy
			b := ax*nx + ay*ny
			r := chartRect{a - 2, a + n + 2, b - asc - 1, b + desc + 1}
			for _, p := range placed {
				if r.overlaps(p) {
					return r, s, false
				}
			}
			return r, s, true
		}
		if strings.HasSuffix(s, "...") {
			s = s[:len(s)-3]
		}
		s = strings.TrimRight(s[:len(s)-1], " ") + "..."
	}
	return chartRect{}, "", false
}

// chartAxes returns the text direction u and the "down" direction n of text
// rotated counterclockwise (on screen) by deg degrees.
func chartAxes(deg float64) (ux, uy, nx, ny float64) {
	th := deg * math.Pi / 180
	return math.Cos(th), -math.Sin(th), math.Sin(th), math.Cos(th)
}

// chartTicks returns round tick values in [lo, hi], about n of them.
func chartTicks(lo, hi float64, n int, integer bool) ([]float64, float64) {
	if !(hi > lo) || n < 1 {
		return nil, 1
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

// chartFill paints r with c, opaque.
func chartFill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

// chartBlend mixes c into the pixel (x, y) with coverage a in [0, 1].
func chartBlend(img *image.RGBA, x, y int, c color.RGBA, a float64) {
	if !(image.Point{x, y}).In(img.Bounds()) || a <= 0 {
		return
	}
	if a >= 1 {
		img.SetRGBA(x, y, c)
		return
	}
	o := img.RGBAAt(x, y)
	mix := func(f, b uint8) uint8 { return uint8(math.Round(float64(f)*a + float64(b)*(1-a))) }
	img.SetRGBA(x, y, color.RGBA{mix(c.R, o.R), mix(c.G, o.G), mix(c.B, o.B), 255})
}

func chartBlendRect(img *image.RGBA, r image.Rectangle, c color.RGBA, a float64) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			chartBlend(img, x, y, c, a)
		}
	}
}

// chartDisc draws an antialiased disc of radius rad at (cx, cy), clipped to clip.
func chartDisc(img *image.RGBA, clip image.Rectangle, cx, cy, rad float64, c color.RGBA, alpha float64) {
	r := image.Rect(int(math.Floor(cx-rad-1)), int(math.Floor(cy-rad-1)), int(math.Ceil(cx+rad+1))+1, int(math.Ceil(cy+rad+1))+1).Intersect(clip)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			cov := math.Max(0, math.Min(1, rad+0.5-d))
			chartBlend(img, x, y, c, cov*alpha)
		}
	}
}

// chartHLine draws a horizontal line of chartBestWidth pixels centred on y.
func chartHLine(img *image.RGBA, clip image.Rectangle, x0, x1, y float64, c color.RGBA) {
	if x1 < x0 {
		x0, x1 = x1, x0
	}
	yy := int(math.Round(y)) - chartBestWidth/2
	r := image.Rect(int(math.Round(x0)), yy, int(math.Round(x1))+1, yy+chartBestWidth)
	chartFill(img, r.Intersect(clip), c)
}

// chartVLine draws a vertical line of chartBestWidth pixels centred on x.
func chartVLine(img *image.RGBA, clip image.Rectangle, x, y0, y1 float64, c color.RGBA) {
	if y1 < y0 {
		y0, y1 = y1, y0
	}
	xx := int(math.Round(x)) - chartBestWidth/2
	r := image.Rect(xx, int(math.Round(y0))-chartBestWidth/2, xx+chartBestWidth, int(math.Round(y1))+chartBestWidth-chartBestWidth/2)
	chartFill(img, r.Intersect(clip), c)
}

func chartTextWidth(s string) int { return len(s) * chartFace.Advance }

// chartMask renders s (ASCII) into an alpha mask one glyph cell high.
func chartMask(s string) *image.Alpha {
	m := image.NewAlpha(image.Rect(0, 0, max(1, chartTextWidth(s)), chartFace.Height))
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: chartFace, Dot: fixed.P(0, chartFace.Ascent)}
	d.DrawString(s)
	return m
}

// chartText draws s with its baseline starting at (x, y), scaled by an
// integer factor.
func chartText(img *image.RGBA, s string, x, y int, c color.RGBA, scale int) {
	m := chartMask(s)
	top := y - chartFace.Ascent*scale
	b := m.Bounds()
	for my := b.Min.Y; my < b.Max.Y; my++ {
		for mx := b.Min.X; mx < b.Max.X; mx++ {
			a := m.AlphaAt(mx, my).A
			if a == 0 {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					chartBlend(img, x+mx*scale+dx, top+my*scale+dy, c, float64(a)/255)
				}
			}
		}
	}
}

// chartTextRotated draws s rotated counterclockwise by deg degrees, its
// baseline starting at (ax, ay), sampling the glyph mask bilinearly.
func chartTextRotated(img *image.RGBA, s string, ax, ay float64, deg float64, c color.RGBA) {
	m := chartMask(s)
	ux, uy, nx, ny := chartAxes(deg)
	// The mask's top-left corner on the image.
	ox, oy := ax-float64(chartFace.Ascent)*nx, ay-float64(chartFace.Ascent)*ny
	mw, mh := float64(m.Bounds().Dx()), float64(m.Bounds().Dy())
	xs := []float64{ox, ox + mw*ux, ox + mh*nx, ox + mw*ux + mh*nx}
	ys := []float64{oy, oy + mw*uy, oy + mh*ny, oy + mw*uy + mh*ny}
	minX, maxX := chartMinMax(xs)
	minY, maxY := chartMinMax(ys)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= int(mw) || y >= int(mh) {
			return 0
		}
		return float64(m.AlphaAt(x, y).A) / 255
	}
	for y := int(math.Floor(minY)) - 1; y <= int(math.Ceil(maxY))+1; y++ {
		for x := int(math.Floor(minX)) - 1; x <= int(math.Ceil(maxX))+1; x++ {
			dx, dy := float64(x)+0.5-ox, float64(y)+0.5-oy
			a, b := dx*ux+dy*uy-0.5, dx*nx+dy*ny-0.5
			a0, b0 := math.Floor(a), math.Floor(b)
			fa, fb := a-a0, b-b0
			i, j := int(a0), int(b0)
			v := at(i, j)*(1-fa)*(1-fb) + at(i+1, j)*fa*(1-fb) + at(i, j+1)*(1-fa)*fb + at(i+1, j+1)*fa*fb
			if v > 0 {
				chartBlend(img, x, y, c, math.Min(1, v*1.25))
			}
		}
	}
}

func chartMinMax(v []float64) (float64, float64) {
	lo, hi := v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
