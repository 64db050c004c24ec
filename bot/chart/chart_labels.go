package chart

import (
	"fmt"
	"image"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/autoresearch/autoresearch/research"
)

// Labels of the kept points: "#N description", shortened to fit, placed
// where they overlap no other label.

// drawKept draws the kept points and at most one label each: the biggest
// improvements get theirs first, and a label that would overlap one already
// placed (or not fit even shortened) is left out.
func (l chartLayout) drawKept(img *image.RGBA, plot image.Rectangle, pts []chartPoint) {
	type keptPt struct {
		p     chartPoint
		delta float64
	}
	var kps []keptPt
	best := 0.0
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
	r := l.size(chartKeptR, 4)
	for _, k := range kps {
		chartDisc(img, plot, l.px(k.p.x), l.py(k.p.y), r+r/4+1, chartKeptEdge, 1)
		chartDisc(img, plot, l.px(k.p.x), l.py(k.p.y), r, chartKeptColor, 1)
	}
	// The current best is labelled first, then the baseline, then the
	// biggest improvements.
	if n := len(kps); n > 1 && kps[n-1].p.y <= best {
		kps[n-1].delta = math.Inf(1)
		kps[0].delta = math.MaxFloat64
	}
	sort.SliceStable(kps, func(i, j int) bool { return kps[i].delta > kps[j].delta })
	var placed []chartBox
	for _, k := range kps {
		if box, ok := l.placeLabel(img, k.p, r, placed); ok {
			placed = append(placed, box)
		}
	}
}

// chartSpot is one way to put a label next to its point: rotated by angle
// degrees, starting at the point (or ending there when before is set).
type chartSpot struct {
	angle  float64
	before bool
}

// placeLabel draws p's label at the first spot where it fits (shortened if
// need be) without overlapping the labels already placed. Points in the
// right half try the spots to their left first.
func (l chartLayout) placeLabel(img *image.RGBA, p chartPoint, r float64, placed []chartBox) (chartBox, bool) {
	spots := []chartSpot{{chartLabelAngle, false}, {0, false}, {0, true}, {chartLabelAngle, true}}
	cx, cy := l.px(p.x), l.py(p.y)
	if cx > float64(l.left+l.right)/2 {
		spots = []chartSpot{{0, true}, {chartLabelAngle, true}, {chartLabelAngle, false}, {0, false}}
	}
	text := chartLabelText(p)
	for _, sp := range spots {
		ax, ay := cx+r+4, cy-r/2
		switch {
		case sp.angle == 0 && sp.before:
			ax, ay = cx-r-6, cy+float64(l.faces.label.asc)/2-1
		case sp.angle == 0:
			ax, ay = cx+r+6, cy+float64(l.faces.label.asc)/2-1
		case sp.before:
			ax, ay = cx-r-3, cy+r/2
		}
		if box, s, sx, sy, ok := l.fitLabel(ax, ay, sp, text, placed); ok {
			l.faces.label.drawRotated(img, s, sx, sy, sp.angle, chartLabelColor)
			return box, true
		}
	}
	return chartBox{}, false
}

// chartLabelText is a kept point's label: "#N description", one line, at
// most chartLabelMax characters.
func chartLabelText(p chartPoint) string {
	s := strings.TrimSpace(p.label)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if p.number > 0 {
		s = fmt.Sprintf("#%d %s", p.number, s)
	}
	return chartTruncate(s, chartLabelMax)
}

// chartTruncate cuts s to at most n characters, ending in "…" when cut.
func chartTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// chartShorten cuts s until it is at most width pixels wide in face f.
func chartShorten(f chartFace, s string, width int) string {
	s = f.printable(s)
	for n := utf8.RuneCountInString(s); n > 1 && f.width(s) > width; n-- {
		s = chartTruncate(s, n-1)
	}
	return s
}

// chartBox is a label's box: four corners, in order around it.
type chartBox [4][2]float64

// overlaps tells whether two convex boxes intersect (separating axes).
func (b chartBox) overlaps(o chartBox) bool {
	for _, poly := range []chartBox{b, o} {
		for i := range 4 {
			p, q := poly[i], poly[(i+1)%4]
			nx, ny := q[1]-p[1], p[0]-q[0] // an edge's normal
			bmin, bmax := b.project(nx, ny)
			omin, omax := o.project(nx, ny)
			if bmax <= omin || omax <= bmin {
				return false
			}
		}
	}
	return true
}

func (b chartBox) project(nx, ny float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, c := range b {
		v := c[0]*nx + c[1]*ny
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// fitLabel shortens s until its label, placed at spot sp of the anchor
// (ax, ay), fits inside the plot (it may run into the right margin). It
// returns the label's box, its text and where its baseline starts, and
// whether it fits and clears the labels already placed.
func (l chartLayout) fitLabel(ax, ay float64, sp chartSpot, s string, placed []chartBox) (chartBox, string, float64, float64, bool) {
	f := l.faces.label
	ux, uy, nx, ny := chartAxes(sp.angle)
	asc, desc := float64(f.asc)+1, float64(f.desc)+1
	s = f.printable(s)
	for utf8.RuneCountInString(s) >= chartLabelMin {
		n := float64(f.width(s)) + 2
		sx, sy := ax, ay
		if sp.before {
			sx, sy = ax-n*ux, ay-n*uy
		}
		var box chartBox
		for i, c := range [4][2]float64{{0, -asc}, {n, -asc}, {n, desc}, {0, desc}} {
			box[i] = [2]float64{sx + c[0]*ux + c[1]*nx, sy + c[0]*uy + c[1]*ny}
		}
		xs := []float64{box[0][0], box[1][0], box[2][0], box[3][0]}
		ys := []float64{box[0][1], box[1][1], box[2][1], box[3][1]}
		x0, x1 := chartMinMax(xs)
		y0, y1 := chartMinMax(ys)
		if x0 >= float64(l.left+2) && x1 <= float64(l.w-2) && y0 >= float64(l.top+2) && y1 <= float64(l.bottom-2) {
			for _, p := range placed {
				if box.overlaps(p) {
					return box, s, sx, sy, false
				}
			}
			return box, s, sx, sy, true
		}
		s = chartTruncate(s, utf8.RuneCountInString(s)-1)
	}
	return chartBox{}, "", 0, 0, false
}
