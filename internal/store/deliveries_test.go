package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
)

// setState drives a fresh delivery into the given state through legal
// transitions.
func setState(t *testing.T, s *Store, id WorkoutID, sink string, st State, retryable bool) {
	t.Helper()
	ctx := context.Background()
	key := ref(0).Key()
	switch st {
	case Pending:
	case Uploading:
		must(t, s.MarkUploading(ctx, id, sink, key, ""))
	case Done:
		must(t, s.MarkDone(ctx, id, sink, "act-1"))
	case Duplicate:
		must(t, s.MarkDuplicate(ctx, id, sink, "act-1", "external_id"))
	case Skipped:
		must(t, s.MarkSkipped(ctx, id, sink, "sport excluded"))
	case Failed:
		var next time.Time
		if retryable {
			next = s.now().Add(time.Minute)
		}
		must(t, s.MarkFailed(ctx, id, sink, errclass.Retryable, "503", next))
	default:
		t.Fatalf("unknown state %s", st)
	}
	mustState(t, s, id, sink, st)
}

// TestTransitions tries every operation from every state and checks it is
// accepted exactly when the state machine allows it, and that a refused one
// changes nothing.
func TestTransitions(t *testing.T) {
	type op struct {
		name string
		to   State
		do   func(s *Store, id WorkoutID) error
	}
	ctx := context.Background()
	key := ref(0).Key()
	ops := []op{
		{"uploading", Uploading, func(s *Store, id WorkoutID) error { return s.MarkUploading(ctx, id, "strava", key, "") }},
		{"upload ID", Uploading, func(s *Store, id WorkoutID) error { return s.MarkUploading(ctx, id, "strava", key, "up-9") }},
		{"other key", Uploading, func(s *Store, id WorkoutID) error { return s.MarkUploading(ctx, id, "strava", "other", "up-9") }},
		{"done", Done, func(s *Store, id WorkoutID) error { return s.MarkDone(ctx, id, "strava", "act-2") }},
		{"duplicate", Duplicate, func(s *Store, id WorkoutID) error {
			return s.MarkDuplicate(ctx, id, "strava", "act-2", "start-time")
		}},
		{"skipped", Skipped, func(s *Store, id WorkoutID) error { return s.MarkSkipped(ctx, id, "strava", "too short") }},
		{"failed", Failed, func(s *Store, id WorkoutID) error {
			return s.MarkFailed(ctx, id, "strava", errclass.Permanent, "bad file", time.Time{})
		}},
		{"unsent", Pending, func(s *Store, id WorkoutID) error { return s.MarkUnsent(ctx, id, "strava") }},
		{"retry", Pending, func(s *Store, id WorkoutID) error { return s.Retry(ctx, id, "strava") }},
	}
	// allowed[from][op] is the contract; "noop" means accepted without a
	// change.
	allowed := map[string]map[string]string{
		"pending":         {"uploading": "ok", "upload ID": "ok", "other key": "ok", "done": "ok", "duplicate": "ok", "skipped": "ok", "failed": "ok", "unsent": "noop", "retry": "noop"},
		"uploading":       {"uploading": "noop", "upload ID": "ok", "done": "ok", "duplicate": "ok", "failed": "ok", "unsent": "ok"},
		"done":            {},
		"duplicate":       {},
		"skipped":         {"skipped": "ok", "retry": "ok"},
		"failed":          {"done": "ok", "duplicate": "ok", "skipped": "ok", "failed": "ok", "retry": "ok"},
		"failed-retrying": {"uploading": "ok", "upload ID": "ok", "other key": "ok", "done": "ok", "duplicate": "ok", "skipped": "ok", "failed": "ok", "retry": "ok"},
	}
	s, _ := openTest(t) // one store, a fresh workout per case
	n := 0
	for from, ok := range allowed {
		for _, o := range ops {
			n++
			id := addWorkout(t, s, n, "strava")
			t.Run(from+"→"+o.name, func(t *testing.T) {
				st := State(strings.TrimSuffix(from, "-retrying"))
				setState(t, s, id, "strava", st, from == "failed-retrying")
				before := mustState(t, s, id, "strava", st)
				err := o.do(s, id)
				after, _ := s.Delivery(ctx, id, "strava")
				switch ok[o.name] {
				case "ok":
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if after.State != o.to {
						t.Fatalf("state %s, want %s", after.State, o.to)
					}
				case "noop":
					if err != nil || after != before {
						t.Fatalf("want a no-op: err %v\nbefore %+v\nafter  %+v", err, before, after)
					}
				default:
					var te *TransitionError
					if !errors.Is(err, ErrTransition) || !errors.As(err, &te) || te.From != st {
						t.Fatalf("want a TransitionError from %s, got %v", st, err)
					}
					if after != before {
						t.Fatalf("a refused change wrote:\nbefore %+v\nafter  %+v", before, after)
					}
				}
			})
		}
	}
}

func TestUploadLifecycle(t *testing.T) {
	s, c := openTest(t)
	ctx := context.Background()
	id := addWorkout(t, s, 0, "strava")
	key := ref(0).Key()
	must(t, s.MarkUploading(ctx, id, "strava", key, ""))
	d := mustState(t, s, id, "strava", Uploading)
	if d.Key != key || !d.UploadingSince.Equal(c.Now()) || d.DeliveredFingerprint != ref(0).Fingerprint {
		t.Errorf("intent: %+v", d)
	}
	c.Advance(2 * time.Second)
	must(t, s.MarkUploading(ctx, id, "strava", key, "up-77"))
	d = mustState(t, s, id, "strava", Uploading)
	if d.UploadID != "up-77" || !d.UploadingSince.Equal(c.Now().Add(-2*time.Second)) {
		t.Errorf("accepted: %+v", d)
	}
	if err := s.MarkUploading(ctx, id, "strava", "other-key", ""); !errors.Is(err, ErrTransition) {
		t.Errorf("second key while uploading: %v", err)
	}
	up, err := s.Uploading(ctx, "strava")
	if err != nil || len(up) != 1 || up[0].Workout.ID != id || up[0].Delivery.UploadID != "up-77" {
		t.Fatalf("Uploading: %+v, %v", up, err)
	}
	must(t, s.MarkDone(ctx, id, "strava", "555"))
	must(t, s.MarkDone(ctx, id, "strava", "555")) // replay after a crash: no-op
	if err := s.MarkDone(ctx, id, "strava", "556"); !errors.Is(err, ErrTransition) {
		t.Errorf("done as another activity: %v", err)
	}
	d = mustState(t, s, id, "strava", Done)
	if d.ActivityID != "555" || d.UploadID != "up-77" || !d.UploadingSince.IsZero() {
		t.Errorf("done: %+v", d)
	}
	if up, _ := s.Uploading(ctx, "strava"); len(up) != 0 {
		t.Errorf("still uploading: %+v", up)
	}
}

func TestUnsentAfterReconcile(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	id := addWorkout(t, s, 0, "strava")
	must(t, s.MarkUploading(ctx, id, "strava", ref(0).Key(), "up-1"))
	must(t, s.MarkUnsent(ctx, id, "strava"))
	d := mustState(t, s, id, "strava", Pending)
	if d.UploadID != "" || d.Key != "" || !d.UploadingSince.IsZero() {
		t.Errorf("unsent keeps upload data: %+v", d)
	}
	due, err := s.Pending(ctx, "strava", PendingFilter{})
	if err != nil || len(due) != 1 {
		t.Errorf("unsent not due: %v %v", due, err)
	}
}

func TestRetrySchedule(t *testing.T) {
	s, c := openTest(t)
	ctx := context.Background()
	a := addWorkout(t, s, 0, "strava")
	b := addWorkout(t, s, 1, "strava")
	perm := addWorkout(t, s, 2, "strava")

	must(t, s.MarkFailed(ctx, a, "strava", errclass.Retryable, "502 bad gateway", c.Now().Add(time.Minute)))
	must(t, s.MarkFailed(ctx, b, "strava", errclass.Retryable, "timeout", c.Now().Add(10*time.Minute)))
	must(t, s.MarkFailed(ctx, perm, "strava", errclass.Permanent, "file rejected", time.Time{}))

	due := func() []WorkoutID {
		t.Helper()
		got, err := s.Pending(ctx, "strava", PendingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []WorkoutID
		for _, d := range got {
			ids = append(ids, d.Workout.ID)
		}
		return ids
	}
	if got := due(); len(got) != 0 {
		t.Fatalf("due before any retry time: %v", got)
	}
	next, ok, err := s.NextRetry(ctx, "strava")
	if err != nil || !ok || !next.Equal(c.Now().Add(time.Minute)) {
		t.Errorf("NextRetry %v %v %v", next, ok, err)
	}
	c.Advance(time.Minute)
	if got := due(); fmt.Sprint(got) != fmt.Sprint([]WorkoutID{a}) {
		t.Fatalf("after 1m: %v", got)
	}
	// The retry fails again: attempts count up, and it waits again.
	must(t, s.MarkUploading(ctx, a, "strava", ref(0).Key(), ""))
	must(t, s.MarkFailed(ctx, a, "strava", errclass.Retryable, "502 again", c.Now().Add(2*time.Minute)))
	if d := mustState(t, s, a, "strava", Failed); d.Attempts != 2 || d.FailMessage != "502 again" || d.FailClass != errclass.Retryable {
		t.Errorf("second failure: %+v", d)
	}
	c.Advance(time.Hour)
	if got := due(); fmt.Sprint(got) != fmt.Sprint([]WorkoutID{a, b}) {
		t.Fatalf("after 1h: %v (the permanent failure must never be due)", got)
	}
	if err := s.MarkUploading(ctx, perm, "strava", ref(2).Key(), ""); !errors.Is(err, ErrTransition) {
		t.Errorf("uploading a permanent failure: %v", err)
	}

	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := counts["strava"]
	if st.States[Failed] != 3 || st.Retrying != 2 || st.FailedBy["retryable"] != 2 || st.FailedBy["permanent"] != 1 {
		t.Errorf("counts: %+v", st)
	}

	n, err := s.RetryFailed(ctx, "strava")
	if err != nil || n != 3 {
		t.Fatalf("RetryFailed: %d %v", n, err)
	}
	if d := mustState(t, s, perm, "strava", Pending); d.Attempts != 0 || d.FailMessage != "" {
		t.Errorf("retried delivery keeps its failure: %+v", d)
	}
}

func TestFingerprintChange(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	sinks := []string{"done", "dup", "failed", "skipped", "pending", "uploading"}
	id := addWorkout(t, s, 0, "done")
	for _, k := range sinks[1:] {
		if _, err := s.EnsureDelivery(ctx, id, k); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.MarkUploading(ctx, id, "done", ref(0).Key(), ""))
	must(t, s.MarkDone(ctx, id, "done", "a1"))
	must(t, s.MarkDuplicate(ctx, id, "dup", "a2", "start-time"))
	must(t, s.MarkFailed(ctx, id, "failed", errclass.Permanent, "rejected", time.Time{}))
	must(t, s.MarkSkipped(ctx, id, "skipped", "sport excluded"))
	must(t, s.MarkUploading(ctx, id, "uploading", ref(0).Key(), "u1"))

	// The same fingerprint again changes nothing.
	if _, ch, err := s.UpsertWorkout(ctx, ref(0)); err != nil || ch != Unchanged {
		t.Fatalf("same: %v %v", ch, err)
	}
	mustState(t, s, id, "failed", Failed)

	edited := ref(0)
	edited.Fingerprint = "fp-0-b"
	if _, ch, err := s.UpsertWorkout(ctx, edited); err != nil || ch != Changed {
		t.Fatalf("edited: %v %v", ch, err)
	}
	for sink, want := range map[string]struct {
		state   State
		changed bool
	}{
		"done": {Done, true}, "dup": {Duplicate, true}, "failed": {Pending, false},
		"skipped": {Pending, false}, "pending": {Pending, false}, "uploading": {Uploading, false},
	} {
		d := mustState(t, s, id, sink, want.state)
		if d.ChangedAtSource != want.changed {
			t.Errorf("%s: ChangedAtSource %v", sink, d.ChangedAtSource)
		}
	}
	// Reported, not sent again: only the reopened ones are due.
	for _, sink := range []string{"done", "dup"} {
		if due, _ := s.Pending(ctx, sink, PendingFilter{}); len(due) != 0 {
			t.Errorf("%s: changed workout due again: %+v", sink, due)
		}
	}
	// The upload in flight carried the old data: once done, it too reports
	// the change.
	must(t, s.MarkDone(ctx, id, "uploading", "a3"))
	if d := mustState(t, s, id, "uploading", Done); !d.ChangedAtSource || d.DeliveredFingerprint != "fp-0-a" {
		t.Errorf("in-flight upload: %+v", d)
	}
	counts, _ := s.Counts(ctx)
	if counts["done"].ChangedAtSource != 1 || counts["dup"].ChangedAtSource != 1 || counts["failed"].ChangedAtSource != 0 {
		t.Errorf("counts: %+v", counts)
	}
	got, total, err := s.Workouts(ctx, Filter{ChangedAtSource: true, Sink: "dup"})
	if err != nil || total != 1 || got[0].Workout.ID != id {
		t.Errorf("changed filter: %v %v", total, err)
	}
}

func TestPendingOrderAndWindow(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var ids []WorkoutID
	for _, i := range []int{5, 1, 3, 2, 4} {
		ids = append(ids, addWorkout(t, s, i, "strava"))
	}
	must(t, s.MarkDone(ctx, ids[2], "strava", "x")) // workout 3
	ord := func(f PendingFilter) string {
		t.Helper()
		due, err := s.Pending(ctx, "strava", f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range due {
			out = append(out, strings.TrimPrefix(d.Workout.Fingerprint, "fp-"))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		f    PendingFilter
		want string
	}{
		{PendingFilter{}, "1-a 2-a 4-a 5-a"},
		{PendingFilter{Order: NewestFirst, Limit: 2}, "5-a 4-a"},
		{PendingFilter{Since: ref(2).Start, Until: ref(5).Start}, "2-a 4-a"},
	} {
		if got := ord(tc.f); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
	if due, _ := s.Pending(ctx, "archive", PendingFilter{}); len(due) != 0 {
		t.Errorf("another sink's deliveries listed: %v", due)
	}
	// A workout of another source is not due for a run of this one.
	other := ref(9)
	other.Source, other.SourceID = "files", "20240110T073000Z"
	if _, _, err := s.UpsertWorkout(ctx, other, "strava"); err != nil {
		t.Fatal(err)
	}
	if got := ord(PendingFilter{Source: "zepp"}); got != "1-a 2-a 4-a 5-a" {
		t.Errorf("Source zepp: %q", got)
	}
	if got := ord(PendingFilter{Source: "files"}); got != "9-a" {
		t.Errorf("Source files: %q", got)
	}
}

func TestEnsureDelivery(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	id := addWorkout(t, s, 0, "strava")
	must(t, s.MarkDone(ctx, id, "strava", "1"))
	d, err := s.EnsureDelivery(ctx, id, "strava")
	if err != nil || d.State != Done {
		t.Errorf("EnsureDelivery must keep an existing delivery: %+v %v", d, err)
	}
	if _, _, err := s.UpsertWorkout(ctx, ref(0), "strava", "archive"); err != nil {
		t.Fatal(err)
	}
	mustState(t, s, id, "strava", Done)
	mustState(t, s, id, "archive", Pending)
	if _, err := s.EnsureDelivery(ctx, id+100, "strava"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown workout: %v", err)
	}
	if err := s.MarkDone(ctx, id, "nowhere", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no delivery: %v", err)
	}
}

func TestCountsAndSkips(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for i := range 6 {
		id := addWorkout(t, s, i, "strava")
		switch i % 3 {
		case 0:
			must(t, s.MarkSkipped(ctx, id, "strava", "before skip_before"))
		case 1:
			must(t, s.MarkDone(ctx, id, "strava", fmt.Sprint(i)))
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := counts["strava"]
	if c.States[Skipped] != 2 || c.States[Done] != 2 || c.States[Pending] != 2 || c.Total() != 6 ||
		c.SkippedBy["before skip_before"] != 2 || len(counts) != 1 {
		t.Errorf("counts: %+v", counts)
	}
}

// Uploads begun but never answered are counted apart from those the sink
// accepted, with the time the last of them began.
func TestCountsUnanswered(t *testing.T) {
	s, clk := openTest(t)
	ctx := context.Background()
	var began time.Time
	for i := range 4 {
		id := addWorkout(t, s, i, "strava")
		must(t, s.MarkUploading(ctx, id, "strava", ref(i).Key(), ""))
		if i == 0 {
			must(t, s.MarkUploading(ctx, id, "strava", ref(i).Key(), "up-0")) // answered
		} else {
			began = clk.Now()
		}
		clk.Advance(time.Minute)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := counts["strava"]
	if c.States[Uploading] != 4 || c.Unanswered != 3 || !c.UnansweredSince.Equal(began) {
		t.Errorf("uploading %d, unanswered %d since %s; want 4, 3 since %s", c.States[Uploading], c.Unanswered, c.UnansweredSince, began)
	}
}

func TestMetaAndStreams(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.Meta(ctx, "x"); ok || err != nil {
		t.Fatalf("absent meta: %v %v", ok, err)
	}
	when := time.Date(2026, 3, 1, 14, 45, 0, 0, time.UTC)
	must(t, s.SetMetaTime(ctx, MetaRateLimitOpens("strava"), when))
	must(t, s.SetMetaTime(ctx, MetaRateLimitOpens("strava"), when.Add(15*time.Minute)))
	got, ok, err := s.MetaTime(ctx, "strava.rate_limit_opens")
	if err != nil || !ok || !got.Equal(when.Add(15*time.Minute)) {
		t.Errorf("meta time: %v %v %v", got, ok, err)
	}
	must(t, s.DeleteMeta(ctx, MetaRateLimitOpens("strava")))
	if _, ok, _ := s.Meta(ctx, MetaRateLimitOpens("strava")); ok {
		t.Error("deleted meta still there")
	}

	if _, _, err := s.Streams(ctx, "strava", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent streams: %v", err)
	}
	must(t, s.PutStreams(ctx, "strava", "1", []byte(`{"time":[0,1]}`)))
	must(t, s.PutStreams(ctx, "strava", "1", []byte(`{"time":[0,1,2]}`)))
	data, _, err := s.Streams(ctx, "strava", "1")
	if err != nil || string(data) != `{"time":[0,1,2]}` {
		t.Errorf("streams: %s %v", data, err)
	}
}

// Paging through the due deliveries with a cursor visits each once, in
// order, and DueStats counts what Pending would return.
func TestPendingPagesAndDueStats(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	var ids []WorkoutID
	for i := range 9 {
		ids = append(ids, addWorkout(t, s, i, "strava"))
		if i%3 == 0 {
			addWorkout(t, s, i, "archive")
		}
	}
	if err := s.MarkDone(ctx, ids[4], "strava", "a4"); err != nil {
		t.Fatal(err)
	}
	var seen []WorkoutID
	var at Cursor
	for {
		page, err := s.Pending(ctx, "strava", PendingFilter{After: at, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			seen = append(seen, d.Workout.ID)
		}
		at = CursorOf(page[len(page)-1].Workout)
	}
	want := slices.Delete(slices.Clone(ids), 4, 5)
	if !slices.Equal(seen, want) {
		t.Fatalf("paged %v, want %v", seen, want)
	}
	st, err := s.DueStats(ctx, []string{"strava", "archive"}, PendingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Workouts != 8 || st.BySink["strava"] != 8 || st.BySink["archive"] != 3 ||
		!st.First.Equal(ref(0).Start) || !st.Last.Equal(ref(8).Start) {
		t.Fatalf("DueStats = %+v", st)
	}
	after, err := s.DueStats(ctx, []string{"strava", "archive"}, PendingFilter{After: Cursor{Start: ref(5).Start, ID: ids[5]}})
	if err != nil {
		t.Fatal(err)
	}
	if after.Workouts != 3 || after.BySink["strava"] != 3 || after.BySink["archive"] != 1 {
		t.Fatalf("DueStats after the 6th = %+v", after)
	}
}
