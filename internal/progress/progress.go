// Package progress is the model the sync engine reports into, and the
// printers that show it: bars on a terminal, plain lines otherwise, JSON
// events for scripts. The engine never prints; it calls a Tracker.
package progress

import (
	"sync"
	"time"
)

// Phase is a stage of a run.
type Phase string

// Phases of a sync.
const (
	Listing    Phase = "listing"
	Fetching   Phase = "fetching"
	Uploading  Phase = "uploading"
	Confirming Phase = "confirming"
)

// Kind is what an Event says.
type Kind string

// Event kinds.
const (
	Start Kind = "start" // a phase began (Total may be -1: unknown yet)
	Grow  Kind = "grow"  // a phase's total grew (listing found more)
	Item  Kind = "item"  // one item of a phase finished (Outcome)
	Wait  Kind = "wait"  // the run waits until Until (Message says why)
	Warn  Kind = "warn"  // something a person should know (Message)
	End   Kind = "end"   // a phase ended
)

// Event is one thing that happened. Done and Total are the phase's counts
// after the event.
type Event struct {
	Time    time.Time  `json:"time"`
	Kind    Kind       `json:"event"`
	Phase   Phase      `json:"phase,omitempty"`
	Done    int        `json:"done"`
	Total   int        `json:"total"`
	Item    string     `json:"workout,omitempty"`
	Outcome string     `json:"outcome,omitempty"`
	Message string     `json:"message,omitempty"`
	Until   *time.Time `json:"until,omitempty"`
}

// Reporter receives events. Implementations must be safe for concurrent
// use; Report must not block for long.
type Reporter interface {
	Report(Event)
}

// Discard drops every event.
type Discard struct{}

// Report implements Reporter.
func (Discard) Report(Event) {}

// Tracker keeps per-phase counts and turns the engine's calls into Events.
// A nil *Tracker is valid and reports nothing.
type Tracker struct {
	r   Reporter
	now func() time.Time

	mu     sync.Mutex
	counts map[Phase]*[2]int // done, total
}

// NewTracker returns a Tracker reporting to r.
func NewTracker(r Reporter) *Tracker {
	return &Tracker{r: r, now: time.Now, counts: map[Phase]*[2]int{}}
}

func (t *Tracker) emit(e Event, update func(c *[2]int)) {
	if t == nil {
		return
	}
	t.mu.Lock()
	e.Time = t.now()
	if e.Phase != "" {
		c := t.counts[e.Phase]
		if c == nil {
			c = &[2]int{0, -1}
			t.counts[e.Phase] = c
		}
		if update != nil {
			update(c)
		}
		e.Done, e.Total = c[0], c[1]
	}
	t.mu.Unlock()
	t.r.Report(e)
}

// Start begins a phase with total items (-1 when not known yet).
func (t *Tracker) Start(p Phase, total int) {
	t.emit(Event{Kind: Start, Phase: p}, func(c *[2]int) { c[0], c[1] = 0, total })
}

// Grow adds n to a phase's total (an unknown total becomes n).
func (t *Tracker) Grow(p Phase, n int) {
	t.emit(Event{Kind: Grow, Phase: p}, func(c *[2]int) {
		if c[1] < 0 {
			c[1] = 0
		}
		c[1] += n
	})
}

// Done records one finished item of a phase: item names the workout,
// outcome says how it ended ("created", "duplicate", "failed: …").
func (t *Tracker) Done(p Phase, item, outcome string) {
	t.emit(Event{Kind: Item, Phase: p, Item: item, Outcome: outcome}, func(c *[2]int) { c[0]++ })
}

// Waiting says the run is waiting until until, and why.
func (t *Tracker) Waiting(why string, until time.Time) {
	u := until.UTC()
	t.emit(Event{Kind: Wait, Message: why, Until: &u}, nil)
}

// Warn reports something a person should know.
func (t *Tracker) Warn(msg string) { t.emit(Event{Kind: Warn, Message: msg}, nil) }

// End finishes a phase.
func (t *Tracker) End(p Phase) { t.emit(Event{Kind: End, Phase: p}, nil) }
