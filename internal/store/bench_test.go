package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

var benchWorkouts = 10000

// benchRef is ref(i) from a source of its own, so rounds do not collide.
func benchRef(round, i int) Ref {
	r := ref(i)
	r.Source = "bench" + strconv.Itoa(round)
	return r
}

// BenchmarkRecordDelivery is the store's share of syncing one workout,
// over 10 000 workouts: record it, plan its delivery, record the result.
func BenchmarkRecordDelivery(b *testing.B) {
	benchPerWorkout(b, false)
}

// BenchmarkUploadCycle adds the durable intent (MarkUploading, one fsync)
// that precedes every real upload.
func BenchmarkUploadCycle(b *testing.B) {
	benchPerWorkout(b, true)
}

func benchPerWorkout(b *testing.B, intent bool) {
	s, _ := openTest(b)
	ctx := context.Background()
	round := 0
	for b.Loop() {
		round++
		for i := range benchWorkouts {
			r := benchRef(round, i)
			id, _, err := s.UpsertWorkout(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.EnsureDelivery(ctx, id, "strava"); err != nil {
				b.Fatal(err)
			}
			if intent {
				if err := s.MarkUploading(ctx, id, "strava", r.Key(), ""); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.MarkDone(ctx, id, "strava", strconv.Itoa(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchWorkouts)/1e3, "µs/workout")
}

// BenchmarkBatchedFlow is the flow a backfill can use: record a listing
// page of 200 workouts with their deliveries in one transaction, then one
// MarkDone per workout.
func BenchmarkBatchedFlow(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	page := make([]Ref, 200)
	round := 0
	for b.Loop() {
		round++
		for start := 0; start < benchWorkouts; start += len(page) {
			for i := range page {
				page[i] = benchRef(round, start+i)
			}
			ups, err := s.UpsertWorkouts(ctx, page, "strava")
			if err != nil {
				b.Fatal(err)
			}
			for i, u := range ups {
				if err := s.MarkDone(ctx, u.ID, "strava", strconv.Itoa(start+i)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchWorkouts)/1e3, "µs/workout")
}

// BenchmarkUpsertListingPage records a listing page of 200 workouts in one
// transaction, as a backfill does.
func BenchmarkUpsertListingPage(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	page := make([]Ref, 200)
	round := 0
	for b.Loop() {
		round++
		for i := range page {
			page[i] = benchRef(round, i)
		}
		if _, err := s.UpsertWorkouts(ctx, page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page))/1e3, "µs/workout")
}

// due returns a store with 10 000 workouts, each with a pending delivery
// to two sinks, and the workouts as recorded.
func due(b *testing.B) (*Store, *clock, []Upserted) {
	b.Helper()
	s, c := openTest(b)
	refs := make([]Ref, benchWorkouts)
	for i := range refs {
		refs[i] = ref(i)
	}
	ups, err := s.UpsertWorkouts(context.Background(), refs, "strava", "archive")
	if err != nil {
		b.Fatal(err)
	}
	return s, c, ups
}

// filled returns a store with 10 000 workouts on two sinks in assorted
// states.
func filled(b *testing.B) *Store {
	b.Helper()
	s, c, ups := due(b)
	ctx := context.Background()
	var err error
	for i, u := range ups {
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			err = s.MarkDone(ctx, u.ID, "strava", strconv.Itoa(i))
		case 6:
			err = s.MarkDuplicate(ctx, u.ID, "strava", strconv.Itoa(i), "start-time")
		case 7:
			err = s.MarkSkipped(ctx, u.ID, "strava", "sport excluded")
		case 8:
			err = s.MarkFailed(ctx, u.ID, "strava", 1, "503", c.Now().Add(time.Hour))
		}
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.MarkDone(ctx, u.ID, "archive", fmt.Sprintf("zepp-%d.fit", i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

func BenchmarkCounts10k(b *testing.B) {
	s := filled(b)
	for b.Loop() {
		if _, err := s.Counts(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorkoutsPage10k is a dashboard page: 50 rows, newest first,
// deep into the list, with the total.
func BenchmarkWorkoutsPage10k(b *testing.B) {
	s := filled(b)
	for b.Loop() {
		rows, total, err := s.Workouts(context.Background(), Filter{Order: NewestFirst, Limit: 50, Offset: 5000})
		if err != nil || len(rows) != 50 || total != benchWorkouts {
			b.Fatal(len(rows), total, err)
		}
	}
}

// BenchmarkWorkoutsAll10k lists everything (bandsync workouts --json).
func BenchmarkWorkoutsAll10k(b *testing.B) {
	s := filled(b)
	for b.Loop() {
		rows, _, err := s.Workouts(context.Background(), Filter{})
		if err != nil || len(rows) != benchWorkouts {
			b.Fatal(len(rows), err)
		}
	}
}

// BenchmarkWorkoutsFailed10k is `status`'s list of failures.
func BenchmarkWorkoutsFailed10k(b *testing.B) {
	s := filled(b)
	for b.Loop() {
		rows, _, err := s.Workouts(context.Background(), Filter{State: Failed, Sink: "strava"})
		if err != nil || len(rows) != benchWorkouts/10 {
			b.Fatal(len(rows), err)
		}
	}
}

func BenchmarkPending10k(b *testing.B) {
	s := filled(b)
	for b.Loop() {
		due, err := s.Pending(context.Background(), "strava", PendingFilter{Limit: 100})
		if err != nil || len(due) != 100 {
			b.Fatal(len(due), err)
		}
	}
}

// BenchmarkOpen10k is Open of an up-to-date store of 10 000 workouts,
// mostly the integrity check.
func BenchmarkOpen10k(b *testing.B) {
	s := filled(b)
	dir := s.dir
	s.Close()
	for b.Loop() {
		s, err := Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkPendingPages10k is a backfill's plan over 10 000 workouts that
// are all due: pages of 150 after a moving cursor, on two sinks.
func BenchmarkPendingPages10k(b *testing.B) {
	s, _, _ := due(b)
	ctx := context.Background()
	for b.Loop() {
		var at Cursor
		n := 0
		for {
			var last Cursor
			for _, sink := range []string{"strava", "archive"} {
				due, err := s.Pending(ctx, sink, PendingFilter{Source: "zepp", After: at, Limit: 151, Order: OldestFirst})
				if err != nil {
					b.Fatal(err)
				}
				if len(due) > 150 {
					due = due[:150]
				}
				if len(due) > 0 {
					last = CursorOf(due[len(due)-1].Workout)
				}
				if sink == "strava" {
					n += len(due)
				}
			}
			if last == (Cursor{}) {
				break
			}
			at = last
		}
		if n != benchWorkouts {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchWorkouts)/1e3, "µs/workout")
}
