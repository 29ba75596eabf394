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
	start        time.Time
	elapsed      time.Duration
	sport        api.SportType
}

// knownSet indexes the activities seen in listings by the key in their
// external_id and by start time, so a Put matches in constant time however
// long the history. Not safe for concurrent use: Sink.mu guards it.
type knownSet struct {
	byID    map[int64]knownActivity
	byKey   map[string]int64  // bandsync's idempotency key → activity ID
	buckets map[int64][]int64 // start / startTolerance → activity IDs
}

func newKnownSet() knownSet {
	return knownSet{byID: map[int64]knownActivity{}, byKey: map[string]int64{}, buckets: map[int64][]int64{}}
}

func bucketOf(t time.Time) int64 { return t.Unix() / int64(startTolerance/time.Second) }

// add records a, replacing what was known of the same activity.
func (k *knownSet) add(a *api.SummaryActivity) {
	k.byID[a.ID] = knownActivity{
		id: a.ID, uploadID: a.UploadID, start: a.StartDate,
		elapsed: time.Duration(a.ElapsedTime) * time.Second, sport: a.SportType,
	}
	if key := keyOf(a.External()); key != "" {
		k.byKey[key] = a.ID
	}
	// An activity whose start was edited stays listed in its old bucket
	// too; near() checks the start itself, so that costs nothing.
	b := bucketOf(a.StartDate)
	if !slices.Contains(k.buckets[b], a.ID) {
		k.buckets[b] = append(k.buckets[b], a.ID)
	}
}

// withKey returns the activity uploaded under key.
func (k *knownSet) withKey(key string) (knownActivity, bool) {
	id, ok := k.byKey[key]
	if !ok {
		return knownActivity{}, false
	}
	a, ok := k.byID[id]
	return a, ok
}

// near calls fn for every activity that starts within startTolerance of t.
func (k *knownSet) near(t time.Time, fn func(knownActivity)) {
	b := bucketOf(t)
	for _, bucket := range [...]int64{b - 1, b, b + 1} {
		for _, id := range k.buckets[bucket] {
			if a, ok := k.byID[id]; ok && bucketOf(a.start) == bucket && absDur(a.start.Sub(t)) <= startTolerance {
				fn(a)
			}
		}
	}
}
