package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Lines prints one plain line per event, for logs and pipes.
type Lines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLines returns a plain-line printer.
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// Report implements Reporter.
func (l *Lines) Report(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Kind {
	case Start:
		if e.Total >= 0 {
			fmt.Fprintf(l.w, "%s: %d to do\n", e.Phase, e.Total)
		} else {
			fmt.Fprintf(l.w, "%s…\n", e.Phase)
		}
	case Item:
		fmt.Fprintf(l.w, "%s %s: %s\n", e.Phase, counter(e), joinNonEmpty(e.Item, e.Outcome))
	case Wait:
		fmt.Fprintf(l.w, "%s until %s\n", e.Message, e.Until.Local().Format("15:04"))
	case Warn:
		fmt.Fprintf(l.w, "warning: %s\n", e.Message)
	case End:
		fmt.Fprintf(l.w, "%s: done (%d)\n", e.Phase, e.Done)
	}
}

func counter(e Event) string {
	if e.Total >= 0 {
		return fmt.Sprintf("%d/%d", e.Done, e.Total)
	}
	return fmt.Sprintf("%d", e.Done)
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// JSON prints each event as one JSON object per line.
type JSON struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewJSON returns a JSON-lines printer.
func NewJSON(w io.Writer) *JSON { return &JSON{enc: json.NewEncoder(w)} }

// Report implements Reporter.
func (j *JSON) Report(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(e) // progress is best effort: a closed pipe must not stop a sync
}

// Bars draws one bar per phase on a terminal with counts, rate and ETA;
// waits and warnings print above the bars.
type Bars struct {
	mu     sync.Mutex
	status string // a wait shown on the bars' line until the next item
	p      *mpb.Progress
	bars   map[Phase]*mpb.Bar
	last   map[Phase]time.Time
}

// NewBars returns a bar printer writing to w (a terminal).
func NewBars(w io.Writer) *Bars {
	return &Bars{
		p:    mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond)),
		bars: map[Phase]*mpb.Bar{},
		last: map[Phase]time.Time{},
	}
}

// Report implements Reporter.
func (b *Bars) Report(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e.Kind {
	case Start, Grow:
		bar := b.bars[e.Phase]
		total := int64(e.Total)
		if total < 0 {
			total = 0
		}
		if bar == nil {
			bar = b.p.AddBar(total,
				mpb.PrependDecorators(decor.Name(string(e.Phase), decor.WC{C: decor.DindentRight | decor.DextraSpace}),
					decor.CountersNoUnit("%d/%d", decor.WCSyncWidth)),
				mpb.AppendDecorators(decor.EwmaETA(decor.ET_STYLE_MMSS, 30, decor.WCSyncWidth),
					decor.Name(" "), decor.EwmaSpeed(0, "%.1f/s", 30),
					decor.Any(func(decor.Statistics) string { return b.statusLine() })),
			)
			b.bars[e.Phase] = bar
		} else {
			bar.SetTotal(total, false)
		}
		b.last[e.Phase] = e.Time
	case Item:
		b.status = ""
		if bar := b.bars[e.Phase]; bar != nil {
			prev := b.last[e.Phase]
			if prev.IsZero() {
				prev = e.Time
			}
			bar.EwmaIncrement(e.Time.Sub(prev))
			b.last[e.Phase] = e.Time
		}
	case Wait:
		b.status = fmt.Sprintf("  %s until %s", e.Message, e.Until.Local().Format("15:04"))
	case Warn:
		fmt.Fprintf(b.p, "warning: %s\n", e.Message)
	case End:
		if bar := b.bars[e.Phase]; bar != nil {
			bar.SetTotal(-1, true)
		}
	}
}

// statusLine is called by the renderer, outside Report.
func (b *Bars) statusLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// Close finishes drawing; call it once the run is over.
func (b *Bars) Close() {
	b.mu.Lock()
	for _, bar := range b.bars {
		if !bar.Completed() {
			bar.Abort(false)
		}
	}
	b.mu.Unlock()
	b.p.Wait()
}
