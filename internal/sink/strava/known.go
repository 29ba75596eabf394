package strava

import (
	"slices"
	"time"

	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// knownActivity is what Put's matching needs of an activity seen in a
// listing: a few dozen bytes, where a listed SummaryActivity carries its
// map polyline too. A ten-year history is tens of thousands of them.
type knownActivity struct {
	id, uploadID int64
	start        int64 // Unix seconds: Strava's start_date has no fraction
	elapsed      int32 // seconds
	sport        api.SportType
}

func (a *knownActivity) startTime() time.Time { return time.Unix(a.start, 0).UTC() }

// knownSet indexes the activities seen in listings by the key in their
// external_id and by start time, so a Put matches in constant or
// logarithmic time however long the history, in about 100 bytes an
// activity. Not safe for concurrent use: Sink.mu guards it.
type knownSet struct {
	acts   []knownActivity
	byID   map[int64]int32  // activity ID → index in acts
	byKey  map[string]int32 // bandsync's idempotency key → index in acts
	order  []int32          // indexes in acts by start; stale while dirty
	dirty  bool
	sports map[api.SportType]api.SportType // one copy of each sport name
}

func newKnownSet() knownSet {
	return knownSet{byID: map[int64]int32{}, byKey: map[string]int32{}, sports: map[api.SportType]api.SportType{}}
}

// add records a, replacing what was known of the same activity.
func (k *knownSet) add(a *api.SummaryActivity) {
	sport, ok := k.sports[a.SportType]
	if !ok {
		sport = a.SportType
		k.sports[sport] = sport
	}
	ka := knownActivity{id: a.ID, uploadID: a.UploadID, start: a.StartDate.Unix(), elapsed: int32(a.ElapsedTime), sport: sport}
	i, seen := k.byID[a.ID]
	if seen {
		k.dirty = k.dirty || k.acts[i].start != ka.start
		k.acts[i] = ka
	} else {
		i = int32(len(k.acts))
		k.acts = append(k.acts, ka)
		k.byID[a.ID] = i
		k.order = append(k.order, i)
		k.dirty = true
	}
	if key := keyOf(a.External()); key != "" {
		k.byKey[key] = i
	}
}

// withKey returns the activity uploaded under key.
func (k *knownSet) withKey(key string) (knownActivity, bool) {
	i, ok := k.byKey[key]
	if !ok {
		return knownActivity{}, false
	}
	return k.acts[i], true
}

// near calls fn for every activity that starts within startTolerance of t.
func (k *knownSet) near(t time.Time, fn func(knownActivity)) {
	if k.dirty {
		slices.SortFunc(k.order, func(x, y int32) int { return int(k.acts[x].start - k.acts[y].start) })
		k.dirty = false
	}
	lo, hi := t.Add(-startTolerance), t.Add(startTolerance)
	from, _ := slices.BinarySearchFunc(k.order, lo.Unix(), func(i int32, s int64) int { return int(k.acts[i].start - s) })
	for _, i := range k.order[from:] {
		a := k.acts[i]
		st := a.startTime()
		if st.After(hi) {
			return
		}
		if !st.Before(lo) {
			fn(a)
		}
	}
}
