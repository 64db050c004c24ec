package chart

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Drawing primitives of the progress chart: opaque fills, alpha blending
// and antialiased discs and strokes, all on an RGBA image.

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
	// A digest's chart draws thousands of points: pixels outside the
	// disc's edge are skipped before the square root.
	outer := (rad + 0.5) * (rad + 0.5)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			d2 := dx*dx + dy*dy
			if d2 >= outer {
				continue
			}
			cov := math.Max(0, math.Min(1, rad+0.5-math.Sqrt(d2)))
			chartBlend(img, x, y, c, cov*alpha)
		}
	}
}

// chartStroke draws an antialiased segment of the given width, clipped to clip.
func chartStroke(img *image.RGBA, clip image.Rectangle, x0, y0, x1, y1, width float64, c color.RGBA) {
	half := width / 2
	r := image.Rect(int(math.Floor(math.Min(x0, x1)-half-1)), int(math.Floor(math.Min(y0, y1)-half-1)),
		int(math.Ceil(math.Max(x0, x1)+half+1))+1, int(math.Ceil(math.Max(y0, y1)+half+1))+1).Intersect(clip)
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			px, py := float64(x), float64(y)
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((px-x0)*dx+(py-y0)*dy)/l2))
			}
			ex, ey := px-(x0+t*dx), py-(y0+t*dy)
			d2 := ex*ex + ey*ey
			if d2 >= (half+0.5)*(half+0.5) {
				continue // no coverage
			}
			chartBlend(img, x, y, c, math.Max(0, math.Min(1, half+0.5-math.Sqrt(d2))))
		}
	}
}

// chartCross draws an × of half-size rad centred on (cx, cy): a crash.
func chartCross(img *image.RGBA, clip image.Rectangle, cx, cy, rad, width float64, c color.RGBA) {
	chartStroke(img, clip, cx-rad, cy-rad, cx+rad, cy+rad, width, c)
	chartStroke(img, clip, cx-rad, cy+rad, cx+rad, cy-rad, width, c)
}

// chartHLine draws a horizontal line of the given width centred on y.
func chartHLine(img *image.RGBA, clip image.Rectangle, x0, x1, y float64, width int, c color.RGBA) {
	if x1 < x0 {
		x0, x1 = x1, x0
	}
	yy := int(math.Round(y)) - width/2
	r := image.Rect(int(math.Round(x0)), yy, int(math.Round(x1))+1, yy+width)
	chartFill(img, r.Intersect(clip), c)
}

// chartVLine draws a vertical line of the given width centred on x.
func chartVLine(img *image.RGBA, clip image.Rectangle, x, y0, y1 float64, width int, c color.RGBA) {
	if y1 < y0 {
		y0, y1 = y1, y0
	}
	xx := int(math.Round(x)) - width/2
	r := image.Rect(xx, int(math.Round(y0))-width/2, xx+width, int(math.Round(y1))+width-width/2)
	chartFill(img, r.Intersect(clip), c)
}

// chartCaret draws a small upward triangle with its tip at (cx, top): a
// value above the plotted range.
func chartCaret(img *image.RGBA, cx float64, top, size int, c color.RGBA) {
	for i := 0; i < size; i++ {
		r := image.Rect(int(math.Round(cx))-i, top+i, int(math.Round(cx))+i+1, top+i+1)
		chartBlendRect(img, r, c, 0.9)
	}
}
