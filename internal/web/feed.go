package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/progress"
)

// Feed is a progress.Reporter that fans a sync's events out to the pages
// watching it (Server-Sent Events at /events). It keeps the latest event
// of each phase, so a page opened mid-run sees where the run stands. A
// slow page misses events rather than slowing the sync.
type Feed struct {
	mu     sync.Mutex
	subs   map[chan progress.Event]struct{}
	phases map[progress.Phase]progress.Event
	order  []progress.Phase // phases in the order they started
	note   *progress.Event  // the latest wait or warning
}

var _ progress.Reporter = (*Feed)(nil)

// NewFeed returns an empty Feed.
func NewFeed() *Feed {
	return &Feed{subs: map[chan progress.Event]struct{}{}, phases: map[progress.Phase]progress.Event{}}
}

// subscriberBuffer is how many events a page may fall behind by before
// it misses some.
const subscriberBuffer = 64

// Report implements progress.Reporter. It never blocks.
func (f *Feed) Report(e progress.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case e.Kind == progress.Wait || e.Kind == progress.Warn:
		n := e
		f.note = &n
	case e.Phase != "":
		if e.Phase == progress.Listing && e.Kind == progress.Start {
			// A new run: forget the last one.
			clear(f.phases)
			f.order, f.note = nil, nil
		}
		if _, ok := f.phases[e.Phase]; !ok {
			f.order = append(f.order, e.Phase)
		}
		f.phases[e.Phase] = e
	}
	for ch := range f.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// snapshot returns the current state of the run, oldest phase first, and
// subscribes to what follows.
func (f *Feed) subscribe() ([]progress.Event, chan progress.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var now []progress.Event
	for _, p := range f.order {
		now = append(now, f.phases[p])
	}
	if f.note != nil {
		now = append(now, *f.note)
	}
	ch := make(chan progress.Event, subscriberBuffer)
	f.subs[ch] = struct{}{}
	return now, ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 20 * time.Second

// serveEvents streams the feed as Server-Sent Events: one "progress" event
// per progress.Event, JSON as status --json prints them.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if s.opt.Feed == nil {
		http.NotFound(w, r)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	now, ch, cancel := s.opt.Feed.subscribe()
	defer cancel()
	send := func(e progress.Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if _, err := fmt.Fprint(w, "retry: 5000\n\n"); err != nil {
		return
	}
	for _, e := range now {
		if send(e) != nil {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case e := <-ch:
			if send(e) != nil {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
