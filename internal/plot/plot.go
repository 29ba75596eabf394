// Package plot draws the band-vs-Strava comparison of one workout as an
// image file: a panel each for heart rate, pace or speed, elevation and
// cadence, the band's series and Strava's on one time axis, the band's
// pauses shaded. It draws what compare.Build lays out, so the picture
// matches the dashboard's charts.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/bandsync/bandsync/internal/web/compare"
	"github.com/bandsync/bandsync/internal/workout"
)

// Formats Compare writes.
const (
	PNG = "png"
	SVG = "svg"
)

// Size of the picture: Width wide, PanelHeight per panel.
const (
	Width       = 8 * vg.Inch
	PanelHeight = 2.2 * vg.Inch
	// DPI of PNG output.
	DPI = 96
)

// ErrNothingToDraw: neither the band nor Strava has a series to chart.
var ErrNothingToDraw = errors.New("plot: no heart rate, pace, elevation or cadence to draw")

var (
	bandColor   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	stravaColor = color.RGBA{R: 0xfc, G: 0x4c, B: 0x02, A: 0xff}
	pauseColor  = color.NRGBA{R: 0x78, G: 0x78, B: 0x78, A: 0x30} // not premultiplied
)

// Compare draws the comparison of band with Strava's streams (which may be
// empty: the band alone is drawn) to out as format PNG or SVG. A PNG is
// Width × (panels × PanelHeight) at DPI; an SVG of the same size in
// points, with fonts referenced, not embedded, so it is the same bytes for
// the same input.
func Compare(band *workout.Workout, strava compare.Streams, out io.Writer, format string) error {
	if band == nil {
		return errors.New("plot: no workout")
	}
	if format != PNG && format != SVG {
		return fmt.Errorf("plot: format %q: want %s or %s", format, PNG, SVG)
	}
	c := compare.Build(band, strava)
	if len(c.Charts) == 0 {
		return ErrNothingToDraw
	}
	panels := make([][]*gplot.Plot, 0, len(c.Charts))
	for i, ch := range c.Charts {
		p, err := panel(ch, c.Pauses, i == len(c.Charts)-1)
		if err != nil {
			return err
		}
		panels = append(panels, []*gplot.Plot{p})
	}
	h := PanelHeight * vg.Length(len(panels))
	var canvas vg.CanvasWriterTo
	var dc draw.Canvas
	switch format {
	case PNG:
		img := vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		canvas, dc = vgimg.PngCanvas{Canvas: img}, draw.New(img)
	default:
		svg := vgsvg.NewWith(vgsvg.UseWH(Width, h))
		canvas, dc = svg, draw.New(svg)
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(6)}
	for i, row := range gplot.Align(panels, tiles, dc) {
		panels[i][0].Draw(row[0])
	}
	if _, err := canvas.WriteTo(out); err != nil {
		return fmt.Errorf("plot: write %s: %w", format, err)
	}
	return nil
}

// panel draws one chart: both series, the pauses behind them, a legend.
func panel(ch compare.Chart, pauses [][2]float64, last bool) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = ch.Title
	p.Y.Label.Text = ch.Unit
	if ch.Invert {
		p.Y.Scale = gplot.InvertedScale{Normalizer: gplot.LinearScale{}}
		p.Y.Tick.Marker = invertedTicks{}
	}
	p.X.Tick.Marker = clockTicks{}
	if last {
		p.X.Label.Text = "time (h:mm:ss)"
	}
	p.Add(plotter.NewGrid())
	if len(ch.X) > 0 {
		p.Add(shade{pauses: pauses})
	}
	p.Legend.Top = true
	p.Legend.Left = false
	for _, s := range []struct {
		name string
		ys   compare.Points
		col  color.Color
		dash []vg.Length
	}{
		{"band", ch.Band, bandColor, nil},
		{"Strava", ch.Strava, stravaColor, []vg.Length{vg.Points(4), vg.Points(2)}},
	} {
		xy := points(ch.X, s.ys)
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %s %s: %w", ch.Key, s.name, err)
		}
		l.Color, l.Width, l.Dashes = s.col, vg.Points(1.2), s.dash
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	if ch.Note != "" {
		p.Title.Text += " — " + ch.Note
	}
	p.X.Min = 0
	return p, nil
}

// points keeps the finite (x, y) pairs: a line across a gap, as the
// dashboard draws it.
func points(xs, ys compare.Points) plotter.XYs {
	out := make(plotter.XYs, 0, len(xs))
	for i, x := range xs {
		if y := ys[i]; !math.IsNaN(y) && !math.IsInf(y, 0) && !math.IsNaN(x) {
			out = append(out, plotter.XY{X: x, Y: y})
		}
	}
	return out
}

// shade draws the band's pauses as grey bands across a panel's height.
type shade struct{ pauses [][2]float64 }

// Plot implements gplot.Plotter.
func (s shade) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, ps := range s.pauses {
		from, to := math.Max(ps[0], p.X.Min), math.Min(ps[1], p.X.Max)
		if to <= from {
			continue
		}
		x0, x1 := trX(from), trX(to)
		c.FillPolygon(pauseColor, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// clockTicks labels seconds as h:mm:ss on round minutes.
type clockTicks struct{}

// Ticks implements gplot.Ticker.
func (clockTicks) Ticks(min, max float64) []gplot.Tick {
	span := max - min
	step := 60.0
	for _, s := range []float64{60, 120, 300, 600, 900, 1800, 3600, 7200, 14400} {
		step = s
		if span/s <= 8 {
			break
		}
	}
	var out []gplot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		out = append(out, gplot.Tick{Value: v, Label: clock(v)})
		for m := 1; m < 4 && v+float64(m)*step/4 <= max; m++ {
			out = append(out, gplot.Tick{Value: v + float64(m)*step/4})
		}
	}
	return out
}

// invertedTicks are the default ticks; the scale flips the axis.
type invertedTicks struct{}

// Ticks implements gplot.Ticker, labelling pace as m:ss.
func (invertedTicks) Ticks(min, max float64) []gplot.Tick {
	ticks := gplot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = clock(ticks[i].Value * 60)
		}
	}
	return ticks
}

func clock(sec float64) string {
	s := int64(math.Round(sec))
	neg := s < 0
	if neg {
		s = -s
	}
	out := fmt.Sprintf("%d:%02d", s/60, s%60)
	if s >= 3600 {
		out = fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	if neg {
		return "-" + out
	}
	return out
}
