// Package sinktest is the conformance suite for sink.Sink: every provider
// (archive, strava over the emulator, in-memory fakes) calls Run from its
// tests, so the idempotency and listing contract in package sink is checked
// once for all of them.
//
// The suite is provider-neutral. Each subtest gets a fresh sink from the
// factory but does not rely on it being empty: it uses its own keys and a
// time range no other subtest touches, so a factory may hand out sinks that
// share one backend.
package sinktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/workout"
)

// Hooks adapt the suite to a provider. The zero value suits sinks whose Put
// answers Created.
type Hooks struct {
	// ConfirmTimeout bounds how long the suite keeps calling Confirm for an
	// upload Put answered Accepted; 0 means 30 s.
	ConfirmTimeout time.Duration
	// ConfirmEvery is the pause between two Confirm calls; 0 means 250 ms.
	ConfirmEvery time.Duration
	// Prompt bounds how long Put and List may take to give up once their
	// context is canceled; 0 means 5 s.
	Prompt time.Duration
}

func (h Hooks) withDefaults() Hooks {
	if h.ConfirmTimeout <= 0 {
		h.ConfirmTimeout = 30 * time.Second
	}
	if h.ConfirmEvery <= 0 {
		h.ConfirmEvery = 250 * time.Millisecond
	}
	if h.Prompt <= 0 {
		h.Prompt = 5 * time.Second
	}
	return h
}

// suite carries what the subtests share.
type suite struct {
	newSink func(t *testing.T) sink.Sink
	hooks   Hooks
	run     string       // random per Run call, so keys never collide across runs
	slot    atomic.Int64 // hands each subtest its own time range
}

// base is where the suite's time ranges start: a Monday morning in the
// past, late enough for every provider to accept.
var base = time.Date(2021, 3, 1, 7, 30, 0, 0, time.UTC)

// slotSpan is the time range each subtest owns; workouts inside one are at
// least an hour apart, far beyond any start-time duplicate heuristic.
const slotSpan = 24 * time.Hour

// Run checks the sink contract on sinks made by newSink. hooks may hold
// one Hooks value.
func Run(t *testing.T, newSink func(t *testing.T) sink.Sink, hooks ...Hooks) {
	t.Helper()
	var h Hooks
	if len(hooks) > 0 {
		h = hooks[0]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &suite{newSink: newSink, hooks: h.withDefaults(), run: hex.EncodeToString(b)}

	t.Run("Name", s.testName)
	for _, k := range Kinds() {
		t.Run("PutNew/"+string(k), func(t *testing.T) { s.testPutNew(t, k) })
	}
	t.Run("PutSameKeyTwice", s.testPutTwice)
	t.Run("DistinctKeys", s.testDistinctKeys)
	t.Run("ListWindow", s.testListWindow)
	t.Run("CanceledContext", s.testCanceled)
	t.Run("StageAndFlush", s.testStageAndFlush)
	t.Run("Match", s.testMatch)
}

// span reserves a time range for one subtest and returns its start.
func (s *suite) span() time.Time {
	return base.Add(time.Duration(s.slot.Add(1)) * slotSpan)
}

func (s *suite) workout(kind Kind, start time.Time, n int) (*workout.Workout, string) {
	w := Workout(kind, start, fmt.Sprintf("%s-%d-%d", s.run, start.Unix(), n))
	return w, w.Origin.Key()
}

func (s *suite) testName(t *testing.T) {
	if n := s.newSink(t).Name(); n == "" {
		t.Error("Name() is empty")
	}
}

// put stores a new workout and returns its activity ID, confirming an
// Accepted upload when the sink answers that way.
func (s *suite) put(t *testing.T, sk sink.Sink, w *workout.Workout, key string) string {
	t.Helper()
	ctx := t.Context()
	sent := time.Now()
	res, err := sk.Put(ctx, w, key)
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	switch res.Outcome {
	case sink.Created:
		if res.ActivityID == "" {
			t.Fatalf("Put(%s): Created without an ActivityID", key)
		}
		return res.ActivityID
	case sink.Accepted:
		if res.UploadID == "" {
			t.Fatalf("Put(%s): Accepted without an UploadID", key)
		}
		return s.confirm(t, sk, sink.Pending{Key: key, UploadID: res.UploadID, Start: w.Start, Sent: sent})
	case sink.Duplicate:
		t.Fatalf("Put(%s) of a new key answered Duplicate of %q (matched by %q)", key, res.ActivityID, res.MatchedBy)
	default:
		t.Fatalf("Put(%s): outcome %v", key, res.Outcome)
	}
	return ""
}

func (s *suite) confirm(t *testing.T, sk sink.Sink, p sink.Pending) string {
	t.Helper()
	c, ok := sk.(sink.Confirmer)
	if !ok {
		t.Fatalf("Put(%s) answered Accepted but %T does not implement sink.Confirmer", p.Key, sk)
	}
	deadline := time.Now().Add(s.hooks.ConfirmTimeout)
	for {
		got, err := c.Confirm(t.Context(), []sink.Pending{p})
		if err != nil {
			t.Fatalf("Confirm(%s): %v", p.Key, err)
		}
		if len(got) != 1 || got[0].Pending.Key != p.Key {
			t.Fatalf("Confirm of one pending upload returned %d confirmations", len(got))
		}
		cf := got[0]
		if cf.Err != nil {
			t.Fatalf("Confirm(%s): upload rejected: %v", p.Key, cf.Err)
		}
		switch cf.Result.Outcome {
		case sink.Created:
			if cf.Result.ActivityID == "" {
				t.Fatalf("Confirm(%s): Created without an ActivityID", p.Key)
			}
			return cf.Result.ActivityID
		case sink.Duplicate:
			t.Fatalf("Confirm(%s) of a new key answered Duplicate of %q", p.Key, cf.Result.ActivityID)
		case sink.Accepted:
		default:
			t.Fatalf("Confirm(%s): outcome %v", p.Key, cf.Result.Outcome)
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload %s still processing after %s", p.Key, s.hooks.ConfirmTimeout)
		}
		time.Sleep(s.hooks.ConfirmEvery)
	}
}

func list(t *testing.T, sk sink.Sink, win sink.Window) []sink.Activity {
	t.Helper()
	acts, err := sk.List(t.Context(), win)
	if err != nil {
		t.Fatalf("List(%v..%v): %v", win.After, win.Before, err)
	}
	for i := 1; i < len(acts); i++ {
		if acts[i].Start.Before(acts[i-1].Start) {
			t.Errorf("List is not oldest first: %s then %s", acts[i-1].Start, acts[i].Start)
		}
	}
	for _, a := range acts {
		if !win.After.IsZero() && a.Start.Before(win.After) || !win.Before.IsZero() && !a.Start.Before(win.Before) {
			t.Errorf("List(%v..%v) returned %s starting at %s, outside the window", win.After, win.Before, a.ID, a.Start)
		}
	}
	return acts
}

// around is a one-minute window either side of t.
func around(t time.Time) sink.Window {
	return sink.Window{After: t.Add(-time.Minute), Before: t.Add(time.Minute)}
}

func withKey(acts []sink.Activity, key string) []sink.Activity {
	var out []sink.Activity
	for _, a := range acts {
		if a.ExternalID == key {
			out = append(out, a)
		}
	}
	return out
}

// checkActivity compares what the sink lists with the workout it was given.
func checkActivity(t *testing.T, a sink.Activity, w *workout.Workout, key, id string) {
	t.Helper()
	if a.ID != id {
		t.Errorf("listed ID %q, Put said %q", a.ID, id)
	}
	if a.ExternalID != key {
		t.Errorf("ExternalID %q, want the key %q", a.ExternalID, key)
	}
	if a.Start.Location() != time.UTC {
		t.Errorf("Start %s is not in UTC", a.Start)
	}
	if d := a.Start.Sub(w.Start); d < -time.Second || d > time.Second {
		t.Errorf("Start %s, want %s ±1 s", a.Start, w.Start)
	}
	if d := a.Elapsed - w.Elapsed(); d < -time.Second || d > time.Second {
		t.Errorf("Elapsed %s, want %s ±1 s", a.Elapsed, w.Elapsed())
	}
	if d := a.Moving - w.Moving(); d < -time.Second || d > time.Second {
		t.Errorf("Moving %s, want %s ±1 s", a.Moving, w.Moving())
	}
	if want := w.Distance(); math.Abs(a.Distance-want) > math.Max(0.01*want, 1) {
		t.Errorf("Distance %.1f m, want %.1f m ±1 %%", a.Distance, want)
	}
}

func (s *suite) testPutNew(t *testing.T, kind Kind) {
	sk := s.newSink(t)
	w, key := s.workout(kind, s.span(), 0)
	id := s.put(t, sk, w, key)
	acts := withKey(list(t, sk, around(w.Start)), key)
	if len(acts) != 1 {
		t.Fatalf("List around the start shows %d activities with key %s, want 1", len(acts), key)
	}
	checkActivity(t, acts[0], w, key, id)
}

func (s *suite) testPutTwice(t *testing.T) {
	sk := s.newSink(t)
	w, key := s.workout(KindRun, s.span(), 0)
	id := s.put(t, sk, w, key)

	again := *w
	again.Name = "renamed since the first upload"
	res, err := sk.Put(t.Context(), &again, key)
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if res.Outcome != sink.Duplicate || res.ActivityID != id {
		t.Errorf("second Put = %v of %q, want duplicate of %q", res.Outcome, res.ActivityID, id)
	}
	// A sink that let the second Put through would show a second activity
	// near the start, with or without the key.
	if acts := list(t, sk, around(w.Start)); len(acts) != 1 || acts[0].ExternalID != key {
		t.Errorf("after two Puts of one key List shows %d activities, want 1 with the key", len(acts))
	}
}

func (s *suite) testDistinctKeys(t *testing.T) {
	sk := s.newSink(t)
	start := s.span()
	w1, k1 := s.workout(KindRun, start, 1)
	w2, k2 := s.workout(KindRun, start.Add(3*time.Hour), 2)
	id1 := s.put(t, sk, w1, k1)
	id2 := s.put(t, sk, w2, k2)
	if id1 == id2 {
		t.Fatalf("two keys share activity %q", id1)
	}
	acts := list(t, sk, sink.Window{After: start, Before: start.Add(4 * time.Hour)})
	if len(acts) != 2 || acts[0].ExternalID != k1 || acts[1].ExternalID != k2 {
		t.Fatalf("List shows %v, want %s then %s", keys(acts), k1, k2)
	}
	checkActivity(t, acts[0], w1, k1, id1)
	checkActivity(t, acts[1], w2, k2, id2)
}

func keys(acts []sink.Activity) []string {
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.ExternalID
	}
	return out
}

func (s *suite) testListWindow(t *testing.T) {
	sk := s.newSink(t)
	t0 := s.span()
	kinds := []Kind{KindRun, KindStrength, KindPoolSwim}
	ws := make([]*workout.Workout, 3)
	ks := make([]string, 3)
	for i := range ws {
		ws[i], ks[i] = s.workout(kinds[i], t0.Add(time.Duration(i)*time.Hour), i)
	}
	for _, i := range []int{2, 0, 1} { // out of order: List must sort
		s.put(t, sk, ws[i], ks[i])
	}
	end := t0.Add(3 * time.Hour)
	for _, c := range []struct {
		name string
		win  sink.Window
		want []string
	}{
		{"all three", sink.Window{After: t0, Before: end}, ks},
		{"Before is exclusive", sink.Window{After: t0, Before: ws[2].Start}, ks[:2]},
		{"After is inclusive", sink.Window{After: ws[1].Start, Before: end}, ks[1:]},
		{"one second late", sink.Window{After: t0.Add(time.Second), Before: end}, ks[1:]},
		{"just the middle", sink.Window{After: ws[1].Start.Add(-time.Second), Before: ws[1].Start.Add(time.Second)}, ks[1:2]},
		{"before them", sink.Window{After: t0.Add(-time.Hour), Before: t0}, nil},
	} {
		if got := keys(list(t, sk, c.win)); !slices.Equal(got, c.want) {
			t.Errorf("%s: List = %v, want %v", c.name, got, c.want)
		}
	}
	// Open sides: other subtests' activities may show up, but ours must be
	// there in order, or absent, as the bound says.
	for _, c := range []struct {
		name string
		win  sink.Window
		want []string
		not  []string
	}{
		{"no bounds", sink.Window{}, ks, nil},
		{"open start", sink.Window{Before: ws[1].Start}, ks[:1], ks[1:]},
		{"open end", sink.Window{After: ws[1].Start}, ks[1:], ks[:1]},
	} {
		got := keys(list(t, sk, c.win))
		var ours []string
		for _, k := range got {
			if slices.Contains(ks, k) {
				ours = append(ours, k)
			}
		}
		if !slices.Equal(ours, c.want) {
			t.Errorf("%s: our activities in List = %v, want %v", c.name, ours, c.want)
		}
	}
}

func (s *suite) testCanceled(t *testing.T) {
	sk := s.newSink(t)
	w, key := s.workout(KindRun, s.span(), 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	start := time.Now()
	if _, err := sk.Put(ctx, w, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: err = %v, want context.Canceled", err)
	}
	if _, err := sk.List(ctx, around(w.Start)); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a canceled context: err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > s.hooks.Prompt {
		t.Errorf("canceled calls took %s", d)
	}
	if acts := list(t, sk, around(w.Start)); len(acts) != 0 {
		t.Errorf("a Put whose context was canceled before it began stored %v", keys(acts))
	}
}

// testStageAndFlush checks sink.Batcher: a staged workout is invisible
// until Flush, answers Duplicate when staged again, and is then held under
// the activity ID Stage gave.
func (s *suite) testStageAndFlush(t *testing.T) {
	sk := s.newSink(t)
	b, ok := sk.(sink.Batcher)
	if !ok {
		t.Skip("not a sink.Batcher")
	}
	ctx := t.Context()
	start := s.span()
	ids := map[string]string{}
	var ws []*workout.Workout
	for i := range 3 {
		w, key := s.workout(KindRun, start.Add(time.Duration(i)*time.Hour), i)
		res, err := b.Stage(ctx, w, key)
		if err != nil {
			t.Fatalf("Stage(%s): %v", key, err)
		}
		if res.Outcome != sink.Created || res.ActivityID == "" {
			t.Fatalf("Stage(%s) of a new key = %v %q, want created with an ID", key, res.Outcome, res.ActivityID)
		}
		ids[key] = res.ActivityID
		ws = append(ws, w)
	}
	win := sink.Window{After: start.Add(-time.Hour), Before: start.Add(4 * time.Hour)}
	if acts := list(t, sk, win); len(acts) != 0 {
		t.Errorf("before Flush, List shows %d staged activities, want none", len(acts))
	}
	w0, k0 := ws[0], ws[0].Origin.Key()
	if res, err := b.Stage(ctx, w0, k0); err != nil || res.Outcome != sink.Duplicate || res.ActivityID != ids[k0] {
		t.Errorf("staging %s again = %v %q (%v), want duplicate of %q", k0, res.Outcome, res.ActivityID, err, ids[k0])
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	acts := list(t, sk, win)
	if len(acts) != len(ids) {
		t.Fatalf("after Flush, List shows %d activities, want %d", len(acts), len(ids))
	}
	for i, w := range ws {
		checkActivity(t, acts[i], w, w.Origin.Key(), ids[w.Origin.Key()])
	}
	if res, err := sk.Put(ctx, w0, k0); err != nil || res.Outcome != sink.Duplicate || res.ActivityID != ids[k0] {
		t.Errorf("Put of a flushed key = %v %q (%v), want duplicate of %q", res.Outcome, res.ActivityID, err, ids[k0])
	}
	if err := b.Flush(ctx); err != nil {
		t.Errorf("Flush with nothing staged: %v", err)
	}
}

// testMatch checks sink.Matcher: a new key matches nothing and Match
// creates nothing; once the workout is held, Match finds it as Put would.
func (s *suite) testMatch(t *testing.T) {
	sk := s.newSink(t)
	m, ok := sk.(sink.Matcher)
	if !ok {
		t.Skip("not a sink.Matcher")
	}
	w, key := s.workout(KindRun, s.span(), 0)
	if res, ok, err := m.Match(t.Context(), w, key); err != nil || ok {
		t.Fatalf("Match of a new key = %+v, %v, %v; want no match", res, ok, err)
	}
	if acts := list(t, sk, around(w.Start)); len(acts) != 0 {
		t.Fatalf("after Match of a new key List shows %d activities, want none", len(acts))
	}
	id := s.put(t, sk, w, key)
	res, ok, err := m.Match(t.Context(), w, key)
	if err != nil || !ok || res.Outcome != sink.Duplicate || res.ActivityID != id {
		t.Fatalf("Match of a held key = %+v, %v, %v; want a duplicate of %s", res, ok, err, id)
	}
}
