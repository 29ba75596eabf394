package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
	"github.com/google/go-cmp/cmp"
)

func TestUpsertWorkoutRoundTrip(t *testing.T) {
	s, c := openTest(t)
	ctx := context.Background()
	r := ref(3)
	r.Start = r.Start.Add(250 * time.Millisecond)
	id, ch, err := s.UpsertWorkout(ctx, r)
	if err != nil || ch != New {
		t.Fatalf("first upsert: %v, %v", ch, err)
	}
	got, err := s.Workout(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{ID: id, Ref: r, FirstSeen: c.Now(), LastSeen: c.Now()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if k := got.Key(); k != "zepp-1700259200" {
		t.Errorf("key %q", k)
	}

	c.Advance(time.Hour)
	id2, ch, err := s.UpsertWorkout(ctx, r)
	if err != nil || ch != Unchanged || id2 != id {
		t.Fatalf("same upsert: id %d ch %v err %v", id2, ch, err)
	}
	got, _ = s.LookupWorkout(ctx, "zepp", r.SourceID)
	if !got.LastSeen.Equal(c.Now()) || got.FirstSeen.Equal(c.Now()) {
		t.Errorf("seen stamps: first %v last %v", got.FirstSeen, got.LastSeen)
	}

	r.Fingerprint = "fp-edited"
	r.Summary.Distance = 7000
	r.Zone = workout.Zone{} // unknown zone must read back unknown, not UTC+0
	if _, ch, _ := s.UpsertWorkout(ctx, r); ch != Changed {
		t.Fatalf("edited upsert: %v", ch)
	}
	got, _ = s.Workout(ctx, id)
	if got.Summary.Distance != 7000 || got.Fingerprint != "fp-edited" || got.Zone.Known {
		t.Errorf("edit not stored: %+v", got)
	}
}

func TestUpsertUnreportedSummaryStaysZero(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	r := ref(1)
	r.Summary = workout.Summary{Elapsed: time.Hour}
	id, _, err := s.UpsertWorkout(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var nulls int
	err = s.db.QueryRow(`SELECT (distance_m IS NULL) + (moving_ms IS NULL) + (avg_hr IS NULL) + (steps IS NULL)
		FROM workouts WHERE id = ?`, id).Scan(&nulls)
	if err != nil || nulls != 4 {
		t.Errorf("unreported totals: %d NULLs (want 4), %v", nulls, err)
	}
}

func TestUpsertRejects(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.UpsertWorkouts(ctx, []Ref{ref(1), {Source: "zepp", Start: time.Now()}}); err == nil {
		t.Error("empty ID accepted")
	}
	// The batch is one transaction: ref(1) was not kept either.
	if _, err := s.LookupWorkout(ctx, "zepp", ref(1).SourceID); !errors.Is(err, ErrNotFound) {
		t.Errorf("half a failed batch kept: %v", err)
	}
	a := Ref{Source: "files", SourceID: "run/1.fit", Start: time.Now(), Fingerprint: "x"}
	b := Ref{Source: "files", SourceID: "run_1.fit", Start: time.Now(), Fingerprint: "y"}
	if _, _, err := s.UpsertWorkout(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertWorkout(ctx, b); !errors.Is(err, ErrKeyCollision) {
		t.Errorf("key collision: %v", err)
	}
}

func TestWorkoutsFilter(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var refs []Ref
	for i := range 10 {
		refs = append(refs, ref(i))
	}
	ups, err := s.UpsertWorkouts(ctx, refs, "strava", "archive")
	if err != nil {
		t.Fatal(err)
	}
	var ids []WorkoutID
	for _, u := range ups {
		ids = append(ids, u.ID)
	}
	must(t, s.MarkDone(ctx, ids[2], "strava", "9002"))
	must(t, s.MarkDuplicate(ctx, ids[3], "strava", "9003", "start-time"))
	must(t, s.MarkDone(ctx, ids[3], "archive", "zepp-3.fit"))

	list := func(f Filter) ([]WorkoutID, int) {
		t.Helper()
		got, total, err := s.Workouts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []WorkoutID
		for _, w := range got {
			out = append(out, w.Workout.ID)
		}
		return out, total
	}
	check := func(name string, f Filter, want []WorkoutID, wantTotal int) {
		t.Helper()
		got, total := list(f)
		if !cmp.Equal(got, want) || total != wantTotal {
			t.Errorf("%s: got %v (total %d), want %v (total %d)", name, got, total, want, wantTotal)
		}
	}
	check("all", Filter{}, ids, 10)
	check("newest first, paged", Filter{Order: NewestFirst, Limit: 3, Offset: 2}, []WorkoutID{ids[7], ids[6], ids[5]}, 10)
	check("since/until", Filter{Since: ref(4).Start, Until: ref(6).Start}, ids[4:6], 2)
	check("sport", Filter{Sports: []workout.Sport{ref(1).Sport, ref(5).Sport}}, []WorkoutID{ids[1], ids[5]}, 2)
	check("done anywhere", Filter{State: Done}, ids[2:4], 2)
	check("done on archive", Filter{State: Done, Sink: "archive"}, ids[3:4], 1)
	check("search activity", Filter{Search: "9003"}, ids[3:4], 1)
	check("search key", Filter{Search: "ZEPP-" + ref(7).SourceID}, ids[7:8], 1)
	check("source", Filter{Source: "gadgetbridge"}, nil, 0)

	got, _, err := s.Workouts(ctx, Filter{Search: "9003"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Deliveries); n != 2 {
		t.Fatalf("deliveries: %d", n)
	}
	if d, ok := got[0].Delivery("strava"); !ok || d.State != Duplicate || d.ActivityID != "9003" || d.MatchedBy != "start-time" {
		t.Errorf("strava delivery: %+v", d)
	}
	if d, ok := got[0].Delivery("archive"); !ok || d.State != Done {
		t.Errorf("archive delivery: %+v", d)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
