package chart

import (
	"image"
	"image/color"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The chart's text uses the Go fonts (TrueType, wide Unicode coverage), at
// sizes relative to the image height: Slack shows the digest chart at about
// 390 px wide in a phone's thread preview, so text sized for a desktop
// monitor would shrink to a few unreadable pixels.
const (
	chartTitleSize = 0.052 // of the image height
	chartTextSize  = 0.036
	chartLabelSize = 0.034
)

var (
	chartFontsOnce sync.Once
	chartRegular   *sfnt.Font
	chartBold      *sfnt.Font
	chartFontsErr  error
)

func chartFonts() (regular, bold *sfnt.Font, err error) {
	chartFontsOnce.Do(func() {
		if chartRegular, chartFontsErr = opentype.Parse(goregular.TTF); chartFontsErr != nil {
			return
		}
		chartBold, chartFontsErr = opentype.Parse(gobold.TTF)
	})
	return chartRegular, chartBold, chartFontsErr
}

// chartFace is one font at one pixel size.
type chartFace struct {
	face font.Face
	asc  int // ascent in pixels
	desc int // descent in pixels
}

func newChartFace(f *sfnt.Font, px float64) (chartFace, error) {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: math.Max(8, px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return chartFace{}, err
	}
	m := face.Metrics()
	return chartFace{face: face, asc: m.Ascent.Ceil(), desc: m.Descent.Ceil()}, nil
}

// chartFaces are the three text styles of a chart of height h.
type chartFaces struct {
	title, text, label chartFace
}

func newChartFaces(h int) (chartFaces, error) {
	regular, bold, err := chartFonts()
	if err != nil {
		return chartFaces{}, err
	}
	var fs chartFaces
	if fs.title, err = newChartFace(bold, float64(h)*chartTitleSize); err != nil {
		return fs, err
	}
	if fs.text, err = newChartFace(regular, float64(h)*chartTextSize); err != nil {
		return fs, err
	}
	fs.label, err = newChartFace(regular, float64(h)*chartLabelSize)
	return fs, err
}

// printable replaces what the face cannot draw (and control characters)
// with '?', so a description never shows a missing-glyph box.
func (f chartFace) printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			continue
		default:
			if _, ok := f.face.GlyphAdvance(r); !ok && r != ' ' {
				r = '?'
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (f chartFace) width(s string) int {
	return font.MeasureString(f.face, s).Ceil()
}

// mask renders s into an alpha mask whose baseline is at y = asc.
func (f chartFace) mask(s string) *image.Alpha {
	m := image.NewAlpha(image.Rect(0, 0, max(1, f.width(s)+2), f.asc+f.desc))
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: f.face, Dot: fixed.P(0, f.asc)}
	d.DrawString(s)
	return m
}

// draw paints s with its baseline starting at (x, y).
func (f chartFace) draw(img *image.RGBA, s string, x, y int, c color.RGBA) {
	m := f.mask(s)
	top := y - f.asc
	b := m.Bounds()
	for my := b.Min.Y; my < b.Max.Y; my++ {
		for mx := b.Min.X; mx < b.Max.X; mx++ {
			if a := m.AlphaAt(mx, my).A; a != 0 {
				chartBlend(img, x+mx, top+my, c, float64(a)/255)
			}
		}
	}
}

// drawRotated paints s rotated counterclockwise by deg degrees, its baseline
// starting at (ax, ay), sampling the glyph mask bilinearly.
func (f chartFace) drawRotated(img *image.RGBA, s string, ax, ay float64, deg float64, c color.RGBA) {
	m := f.mask(s)
	ux, uy, nx, ny := chartAxes(deg)
	// The mask's top-left corner on the image.
	ox, oy := ax-float64(f.asc)*nx, ay-float64(f.asc)*ny
	mw, mh := float64(m.Bounds().Dx()), float64(m.Bounds().Dy())
	minX, maxX := chartMinMax([]float64{ox, ox + mw*ux, ox + mh*nx, ox + mw*ux + mh*nx})
	minY, maxY := chartMinMax([]float64{oy, oy + mw*uy, oy + mh*ny, oy + mw*uy + mh*ny})
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
				chartBlend(img, x, y, c, math.Min(1, v*1.15))
			}
		}
	}
}

// chartAxes returns the text direction u and the "down" direction n of text
// rotated counterclockwise (on screen) by deg degrees.
func chartAxes(deg float64) (ux, uy, nx, ny float64) {
	th := deg * math.Pi / 180
	return math.Cos(th), -math.Sin(th), math.Sin(th), math.Cos(th)
}

func chartMinMax(v []float64) (float64, float64) {
	lo, hi := v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
