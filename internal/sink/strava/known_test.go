package strava

import (
	"slices"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

func TestKnownSetNear(t *testing.T) {
	k := newKnownSet()
	// A start right on a bucket edge, so the window spans three buckets.
	t0 := time.Unix(1700000000-1700000000%180, 0).UTC()
	offsets := []time.Duration{-181 * time.Second, -180 * time.Second, -1, 0, 179 * time.Second, 180 * time.Second, 181 * time.Second, 400 * time.Second}
	for i, off := range offsets {
		k.add(&api.SummaryActivity{ID: int64(i + 1), StartDate: t0.Add(off)})
	}
	for _, at := range []time.Time{t0, t0.Add(-90 * time.Second), t0.Add(179 * time.Second)} {
		var got []int64
		k.near(at, func(a knownActivity) { got = append(got, a.id) })
		slices.Sort(got)
		var want []int64
		for i, off := range offsets {
			if absDur(t0.Add(off).Truncate(time.Second).Sub(at)) <= startTolerance {
				want = append(want, int64(i+1))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("near(%v) = %v, want %v", at.Sub(t0), got, want)
		}
	}
	// An edited start is found at its new time only.
	k.add(&api.SummaryActivity{ID: 4, StartDate: t0.Add(time.Hour)})
	k.near(t0, func(a knownActivity) {
		if a.id == 4 {
			t.Errorf("activity 4 still found at its old start")
		}
	})
	found := false
	k.near(t0.Add(time.Hour), func(a knownActivity) { found = found || a.id == 4 })
	if !found {
		t.Errorf("activity 4 not found at its new start")
	}
}

func TestKnownSetWithKey(t *testing.T) {
	k := newKnownSet()
	ext := "zepp-123.fit"
	k.add(&api.SummaryActivity{ID: 7, UploadID: 70, ExternalID: &ext})
	if a, ok := k.withKey("zepp-123"); !ok || a.id != 7 || a.uploadID != 70 {
		t.Fatalf("withKey = %+v, %v", a, ok)
	}
	if _, ok := k.withKey("zepp-124"); ok {
		t.Fatalf("withKey found an unknown key")
	}
}
