// Package strava is the Strava sink: it uploads workouts as FIT files,
// confirms them in bulk, fixes what Strava guessed wrong, and recognises
// workouts that are already on Strava, including those Zepp's own Strava
// link posted.
//
// It spends Strava's scarce rate limit carefully: an upload is one POST with
// no status polling; a batch is confirmed by one activity listing; an
// activity is edited only when Strava's guess differs from the workout. A
// request that would break the limit is not sent: the call returns an
// errclass.Limited error saying when the window opens.
package strava

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
)

// DefaultBaseURL is Strava's; BANDSYNC_STRAVA_URL replaces it with one base
// serving both /oauth/* and /api/v3/* (the emulator).
const DefaultBaseURL = "https://www.strava.com"

// ReAuthHint is what a person must do when Strava refuses the credentials.
const ReAuthHint = "run bandsync auth strava"

// Zepp-link policies (Options.ZeppLink).
const (
	ZeppLinkSkip     = "skip"
	ZeppLinkKeepBoth = "keep-both"
)

// Matching tolerances for an activity that came another way (Zepp's link, a
// watch) to count as the same workout.
const (
	startTolerance   = 3 * time.Minute
	elapsedTolerance = 5 * time.Minute
	elapsedFraction  = 0.10
	// muteAge is the age beyond which an uploaded workout is history, muted
	// from followers' feeds when Options.BackfillMute is set.
	muteAge = 7 * 24 * time.Hour
	// prefetchSpan is the window around a workout Put lists when no
	// Prefetch covered it, so neighbouring workouts hit the same cache.
	prefetchSpan = 7 * 24 * time.Hour
	perPage      = 200
	maxPages     = 200
	maxBody      = 32 << 20
)

// ErrOutcomeUnknown is wrapped by the Retryable error Put returns when an
// upload's answer was lost: Strava may or may not have the workout. Do not
// Put it again before List or Confirm has shown it is absent.
var ErrOutcomeUnknown = errors.New("strava: upload outcome unknown")

// Clock is the sink's time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Options configure a Sink. DefaultOptions gives the documented defaults.
type Options struct {
	// BaseURL serves /api/v3 (default DefaultBaseURL).
	BaseURL string
	// HTTPClient sends requests with the athlete's bearer token (the oauth
	// package's client); required.
	HTTPClient *http.Client
	// Pacer paces requests (default: pacer.New with its defaults).
	Pacer *pacer.Pacer
	// Budget is the process's shared rate-limit budget (default: a new one
	// on Clock).
	Budget *Budget
	// Clock is the time source (default: the real clock).
	Clock Clock
	// ZeppLink says what to do with a workout Zepp's own Strava link (or
	// any other uploader) already posted: ZeppLinkSkip records it as a
	// duplicate; ZeppLinkKeepBoth uploads anyway.
	ZeppLink string
	// IndoorRide is the sport_type for indoor cycling: "Ride" (with the
	// trainer flag) or "VirtualRide".
	IndoorRide string
	// BackfillMute hides workouts older than seven days from followers'
	// home feeds (hide_from_home), at one extra request each.
	BackfillMute bool
	// GearID, when set, is put on every uploaded activity.
	GearID string
	// LegacyIdentity writes Zepp's own identity ("Huami Amazfit Pace") in
	// the FIT file instead of the real band.
	LegacyIdentity bool
	// ProcessingTime is how long after an upload Confirm starts polling
	// GET /uploads/{id} for it when the listing does not show it (default
	// 10 s; Strava's mean is under 2 s).
	ProcessingTime time.Duration
	// LostAfter is how long an upload whose answer never came (a crash, a
	// reset) may stay out of the athlete's activities before Confirm calls
	// it absent, so it is sent again (default 10 minutes: Strava processes
	// an upload in seconds). Should a slow upload still appear later,
	// Strava refuses the second one as "duplicate of activity N", which is
	// recorded as that activity: nothing is ever on Strava twice.
	LostAfter time.Duration
}

// DefaultOptions returns the defaults: skip Zepp-link duplicates, indoor
// rides as Ride + trainer, mute backfilled workouts.
func DefaultOptions() Options {
	return Options{ZeppLink: ZeppLinkSkip, IndoorRide: "Ride", BackfillMute: true}
}

// Sink uploads workouts to Strava. It is safe for concurrent use.
type Sink struct {
	opt    Options
	base   string
	client *http.Client
	pacer  *pacer.Pacer
	budget *Budget
	clock  Clock

	mu      sync.Mutex
	known   knownSet          // activities seen in listings
	covered []sink.Window     // windows listed into known
	intents map[string]intent // key → what the activity should look like
	posted  map[string]posted // key → upload accepted by this process
	unknown map[string]bool   // key → upload whose answer was lost
	putting map[string]bool   // key → Put in progress
	fixes   map[int64]fixup   // fix-ups refused by the rate limit, to retry
	polled  time.Time         // last GET /uploads/{id}

	prefetchMu sync.Mutex // one automatic listing at a time
}

type posted struct {
	uploadID string
	sent     time.Time
}

// intent is what the activity of a workout should look like on Strava.
type intent struct {
	sport   api.SportType
	trainer bool
	start   time.Time
}

type fixup struct {
	a  api.SummaryActivity
	in intent
}

var (
	_ sink.Sink      = (*Sink)(nil)
	_ sink.Confirmer = (*Sink)(nil)
)

// New returns a Sink. Empty string options take DefaultOptions' values.
func New(opt Options) (*Sink, error) {
	if opt.HTTPClient == nil {
		return nil, errors.New("strava: no HTTP client (authorize with bandsync auth strava)")
	}
	def := DefaultOptions()
	if opt.ZeppLink == "" {
		opt.ZeppLink = def.ZeppLink
	}
	if opt.ZeppLink != ZeppLinkSkip && opt.ZeppLink != ZeppLinkKeepBoth {
		return nil, errclass.Usagef("strava: zepp_link %q: want %q or %q", opt.ZeppLink, ZeppLinkSkip, ZeppLinkKeepBoth)
	}
	if opt.IndoorRide == "" {
		opt.IndoorRide = def.IndoorRide
	}
	if opt.IndoorRide != "Ride" && opt.IndoorRide != "VirtualRide" {
		return nil, errclass.Usagef("strava: indoor_ride %q: want Ride or VirtualRide", opt.IndoorRide)
	}
	base := opt.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errclass.Usagef("strava: base URL %q: want http(s)://host", base)
	}
	if opt.Clock == nil {
		opt.Clock = realClock{}
	}
	if opt.Pacer == nil {
		opt.Pacer = pacer.New(pacer.Options{})
	}
	if opt.Budget == nil {
		opt.Budget = NewBudget(opt.Clock.Now)
	}
	if opt.LostAfter <= 0 {
		opt.LostAfter = DefaultLostAfter
	}
	if opt.ProcessingTime <= 0 {
		opt.ProcessingTime = 10 * time.Second
	}
	return &Sink{
		opt: opt, base: strings.TrimRight(base, "/") + "/api/v3", client: opt.HTTPClient,
		pacer: opt.Pacer, budget: opt.Budget, clock: opt.Clock,
		known: newKnownSet(), intents: map[string]intent{},
		posted: map[string]posted{}, unknown: map[string]bool{}, putting: map[string]bool{}, fixes: map[int64]fixup{},
	}, nil
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return "strava" }

// Budget returns the rate-limit budget the sink spends.
func (s *Sink) Budget() *Budget { return s.budget }

// ExternalID is the external_id a workout with idempotency key key is
// uploaded under: the key plus the file extension, which Strava would
// otherwise append itself (strava-api.md §2.1).
func ExternalID(key string) string { return key + ".fit" }

// keyOf returns the key an external_id was made from, or "" when it is not
// one of ours. Strava may append an extension of its own.
func keyOf(ext string) string {
	i := strings.Index(ext, ".fit")
	if i <= 0 {
		return ""
	}
	return ext[:i]
}

// keyOrExternal is what sink.Activity.ExternalID holds: the idempotency key
// for bandsync's uploads, another uploader's external_id as it is.
func keyOrExternal(ext string) string {
	if k := keyOf(ext); k != "" {
		return k
	}
	return ext
}

// Remember tells the sink what a pending upload's workout is, so Confirm
// can fix its sport, gear and feed visibility when it resolves. Put does
// this itself; a process that resumes uploads pending from an earlier run
// calls Remember for them before Confirm.
func (s *Sink) Remember(key string, w *workout.Workout) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intents[key] = s.intentFor(w)
}

func (s *Sink) intentFor(w *workout.Workout) intent {
	st, trainer := w.Sport.Strava()
	if w.Sport == workout.SportIndoorRide && s.opt.IndoorRide == "VirtualRide" {
		st, trainer = "VirtualRide", false
	}
	return intent{sport: api.SportType(st), trainer: trainer, start: w.Start}
}

// Put implements sink.Sink. It first looks for the workout among the
// athlete's activities (listing a fortnight around it unless Prefetch
// covered it): the same external_id gives Duplicate "external_id"; an
// activity from another uploader with the same start (±3 min), a comparable
// elapsed time and a compatible sport gives Duplicate "start-time" unless
// Options.ZeppLink is "keep-both". Otherwise it uploads a gzipped FIT and
// returns Accepted with the upload ID, without polling; Confirm resolves it.
// Strava's "duplicate of activity N" answer gives Duplicate
// "duplicate-error". A lost answer gives a Retryable error wrapping
// ErrOutcomeUnknown; the POST is never retried.
func (s *Sink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	if w == nil || w.Start.IsZero() {
		return sink.Result{}, errclass.Fatal(fmt.Errorf("strava: put %s: workout has no start time", key))
	}
	if key == "" {
		return sink.Result{}, errclass.Fatal(errors.New("strava: put: empty idempotency key"))
	}
	s.Remember(key, w)
	s.mu.Lock()
	if s.putting[key] {
		s.mu.Unlock()
		return sink.Result{}, errclass.Retry(fmt.Errorf("strava: put %s: another upload of it is in progress", key), time.Second)
	}
	s.putting[key] = true
	p, wasPosted := s.posted[key]
	lost := s.unknown[key]
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.putting, key)
		s.mu.Unlock()
	}()
	if wasPosted {
		return sink.Result{Outcome: sink.Accepted, UploadID: p.uploadID}, nil
	}
	if lost {
		// The last POST's answer was lost: list again before anything else.
		if err := s.Prefetch(ctx, sink.Window{After: w.Start.Add(-prefetchSpan), Before: w.Start.Add(prefetchSpan)}); err != nil {
			return sink.Result{}, fmt.Errorf("strava: put %s: reconcile lost upload: %w", key, err)
		}
	} else if err := s.ensureCovered(ctx, w.Start); err != nil {
		return sink.Result{}, fmt.Errorf("strava: put %s: %w", key, err)
	}
	if res, ok := s.match(key, w); ok {
		return res, nil
	}
	res, err := s.upload(ctx, w, key)
	if err != nil {
		return res, fmt.Errorf("strava: upload %s: %w", key, err)
	}
	return res, nil
}

// Match implements sink.Matcher: it finds what Put would find before it
// uploads (listing around the workout unless Prefetch covered it), without
// uploading. It leaves to Put a key with an upload in flight or whose
// answer was lost.
func (s *Sink) Match(ctx context.Context, w *workout.Workout, key string) (sink.Result, bool, error) {
	if w == nil || w.Start.IsZero() || key == "" {
		return sink.Result{}, false, nil
	}
	s.mu.Lock()
	_, posted := s.posted[key]
	busy := posted || s.putting[key] || s.unknown[key]
	s.mu.Unlock()
	if busy {
		return sink.Result{}, false, nil
	}
	if err := s.ensureCovered(ctx, w.Start); err != nil {
		return sink.Result{}, false, fmt.Errorf("strava: match %s: %w", key, err)
	}
	res, ok := s.match(key, w)
	return res, ok, nil
}

// match looks for key's workout among the known activities.
func (s *Sink) match(key string, w *workout.Workout) (sink.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.known.withKey(key); ok {
		return sink.Result{Outcome: sink.Duplicate, ActivityID: api.FormatID(a.id), UploadID: formatUploadID(a.uploadID), MatchedBy: "external_id"}, true
	}
	if s.opt.ZeppLink == ZeppLinkKeepBoth {
		return sink.Result{}, false
	}
	want := s.intentFor(w)
	var best *knownActivity
	s.known.near(w.Start, func(a knownActivity) {
		if sameWorkout(a, w, want.sport) && (best == nil || absDur(a.startTime().Sub(w.Start)) < absDur(best.startTime().Sub(w.Start))) {
			best = &a
		}
	})
	if best != nil {
		return sink.Result{Outcome: sink.Duplicate, ActivityID: api.FormatID(best.id), UploadID: formatUploadID(best.uploadID), MatchedBy: "start-time"}, true
	}
	return sink.Result{}, false
}

func uploadID(a api.SummaryActivity) string { return formatUploadID(a.UploadID) }

func formatUploadID(id int64) string {
	if id == 0 {
		return ""
	}
	return api.FormatID(id)
}

// sameWorkout reports whether activity a, whatever its uploader, records
// workout w: start within ±3 min, elapsed within 10 % or 5 min, and a
// compatible sport.
func sameWorkout(a knownActivity, w *workout.Workout, sport api.SportType) bool {
	if absDur(a.startTime().Sub(w.Start)) > startTolerance {
		return false
	}
	we, ae := w.Elapsed(), time.Duration(a.elapsed)*time.Second
	if d := absDur(we - ae); d > elapsedTolerance && float64(d) > elapsedFraction*float64(max(we, ae)) {
		return false
	}
	return compatibleSport(a.sport, sport)
}

// sportFamilies group sport types one band workout may show up as,
// depending on who uploaded it and what Strava guessed.
var sportFamilies = map[api.SportType]string{
	"Run": "foot", "TrailRun": "foot", "VirtualRun": "foot", "Walk": "foot", "Hike": "foot", "Snowshoe": "foot",
	"Ride": "ride", "VirtualRide": "ride", "MountainBikeRide": "ride", "GravelRide": "ride", "EBikeRide": "ride",
	"EMountainBikeRide": "ride", "Velomobile": "ride", "Handcycle": "ride",
	"Swim":   "swim",
	"Rowing": "row", "VirtualRow": "row", "Kayaking": "row", "Canoeing": "row", "StandUpPaddling": "row",
	"AlpineSki": "snow", "BackcountrySki": "snow", "NordicSki": "snow", "Snowboard": "snow", "RollerSki": "snow",
}

// compatibleSport reports whether two sport types may be the same workout:
// equal, in one family, or one of them Strava's catch-all "Workout".
func compatibleSport(a, b api.SportType) bool {
	if a == b || a == "Workout" || b == "Workout" {
		return true
	}
	fa, fb := sportFamilies[a], sportFamilies[b]
	return fa != "" && fa == fb
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// ensureCovered lists the athlete's activities around t unless a listing
// already covers it.
func (s *Sink) ensureCovered(ctx context.Context, t time.Time) error {
	s.prefetchMu.Lock()
	defer s.prefetchMu.Unlock()
	if s.isCovered(t.Add(-startTolerance), t.Add(startTolerance)) {
		return nil
	}
	return s.Prefetch(ctx, sink.Window{After: t.Add(-prefetchSpan), Before: t.Add(prefetchSpan)})
}

func (s *Sink) isCovered(from, to time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.covered {
		if (w.After.IsZero() || !from.Before(w.After)) && (w.Before.IsZero() || to.Before(w.Before)) {
			return true
		}
	}
	return false
}

// Prefetch lists the athlete's activities in win once and keeps them, so
// Put needs no listing of its own for workouts in win: a backfill calls it
// once for its whole time range (≈ one request per 200 activities).
func (s *Sink) Prefetch(ctx context.Context, win sink.Window) error {
	_, err := s.List(ctx, win)
	return err
}

// List implements sink.Sink: the athlete's activities whose start lies in
// win, oldest first. It pages (200 a page) until Strava returns an empty
// page, which its docs advise since a page may be short before the end. The
// activities are also kept for Put's matching.
func (s *Sink) List(ctx context.Context, win sink.Window) ([]sink.Activity, error) {
	q := url.Values{"per_page": {strconv.Itoa(perPage)}}
	// Strava's after and before are exclusive epoch seconds.
	after := int64(0)
	if !win.After.IsZero() {
		after = win.After.Unix() - 1
	}
	q.Set("after", strconv.FormatInt(after, 10))
	if !win.Before.IsZero() {
		q.Set("before", strconv.FormatInt(ceilUnix(win.Before), 10))
	}
	all, err := s.listPages(ctx, q, nil)
	if err != nil {
		return nil, fmt.Errorf("strava: list activities: %w", err)
	}
	s.mu.Lock()
	for i := range all {
		s.known.add(&all[i])
	}
	s.covered = append(s.covered, win)
	s.mu.Unlock()
	var out []sink.Activity
	for _, a := range all {
		if (win.After.IsZero() || !a.StartDate.Before(win.After)) && (win.Before.IsZero() || a.StartDate.Before(win.Before)) {
			out = append(out, toActivity(a))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.After(time.Unix(u, 0)) {
		u++
	}
	return u
}

// listPages reads GET /athlete/activities page after page until an empty
// page, or until done (when given) says the caller has what it needs.
func (s *Sink) listPages(ctx context.Context, q url.Values, done func([]api.SummaryActivity) bool) ([]api.SummaryActivity, error) {
	var all []api.SummaryActivity
	for page := 1; page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		var batch []api.SummaryActivity
		if err := s.read(ctx, http.MethodGet, "/athlete/activities", q, nil, &batch); err != nil {
			return all, err
		}
		all = append(all, batch...)
		if len(batch) == 0 || (done != nil && done(all)) {
			return all, nil
		}
	}
	return all, fmt.Errorf("more than %d pages of activities", maxPages)
}

func toActivity(a api.SummaryActivity) sink.Activity {
	return sink.Activity{
		ID: api.FormatID(a.ID), Start: a.StartDate.UTC(),
		Elapsed: time.Duration(a.ElapsedTime) * time.Second, Moving: time.Duration(a.MovingTime) * time.Second,
		Distance: a.Distance, SportType: string(a.SportType), ExternalID: keyOrExternal(a.External()),
		DeviceName: a.DeviceName, UploadID: uploadID(a), Name: a.Name,
	}
}

// upload POSTs the workout once.
func (s *Sink) upload(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	body, ctype, err := s.uploadBody(ctx, w, key)
	if err != nil {
		return sink.Result{}, errclass.Fatal(err)
	}
	var res sink.Result
	var sent time.Time
	err = s.pacer.Once(ctx, func(ctx context.Context) error {
		sent = s.clock.Now()
		var up api.Upload
		status, raw, err := s.do(ctx, http.MethodPost, "/uploads", nil, bytes.NewReader(body), ctype, false, &up)
		switch {
		case err == nil:
		case status == http.StatusBadRequest:
			// A duplicate can be refused at submission, as an upload
			// object or as text (§2.1).
			var u api.Upload
			msg := string(raw)
			if json.Unmarshal(raw, &u) == nil && u.Error != nil {
				msg = *u.Error
			}
			if id, ok := api.ParseDuplicate(msg); ok && id > 0 {
				res = sink.Result{Outcome: sink.Duplicate, ActivityID: api.FormatID(id), MatchedBy: "duplicate-error"}
				if u.ID > 0 {
					res.UploadID = api.FormatID(u.ID)
				}
				return nil
			}
			return err
		case errors.Is(err, errNoAnswer) || status >= 500:
			// The request may have reached Strava: the outcome is unknown.
			s.mu.Lock()
			s.unknown[key] = true
			s.mu.Unlock()
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
			}
			return errclass.Retry(fmt.Errorf("%w (reconcile before uploading again): %w", ErrOutcomeUnknown, err), 0)
		default:
			return err
		}
		res, err = s.uploadResult(up)
		return err
	})
	if err != nil {
		return sink.Result{}, err
	}
	s.mu.Lock()
	delete(s.unknown, key)
	if res.Outcome == sink.Accepted {
		s.posted[key] = posted{uploadID: res.UploadID, sent: sent}
	}
	s.mu.Unlock()
	if res.Outcome == sink.Created {
		// Rare: Strava answered with the activity already made. Its guesses
		// are not in the answer, so read the activity to fix it up.
		if err := s.fixupByID(ctx, key, res.ActivityID); err != nil {
			return res, err
		}
	}
	return res, nil
}

// uploadResult reads a 201 upload answer.
func (s *Sink) uploadResult(up api.Upload) (sink.Result, error) {
	res := sink.Result{UploadID: up.IDStr}
	if res.UploadID == "" && up.ID > 0 {
		res.UploadID = api.FormatID(up.ID)
	}
	if msg := up.ErrorText(); msg != "" {
		if id, ok := api.ParseDuplicate(msg); ok && id > 0 {
			res.Outcome, res.ActivityID, res.MatchedBy = sink.Duplicate, api.FormatID(id), "duplicate-error"
			return res, nil
		}
		return sink.Result{}, errclass.Fatal(fmt.Errorf("strava rejected the file: %s", msg))
	}
	if id := up.Activity(); id > 0 {
		res.Outcome, res.ActivityID = sink.Created, api.FormatID(id)
		return res, nil
	}
	if res.UploadID == "" {
		return sink.Result{}, errclass.Retry(fmt.Errorf("%w: the answer names no upload", ErrOutcomeUnknown), 0)
	}
	res.Outcome = sink.Accepted
	return res, nil
}

// description says where the activity came from.
func description(w *workout.Workout) string {
	dev := strings.TrimSpace(strings.TrimSpace(w.Device.Maker + " " + w.Device.Model))
	if m := strings.TrimSpace(w.Device.Model); m != "" && strings.Contains(strings.ToLower(m), strings.ToLower(w.Device.Maker)) {
		dev = m
	}
	if dev == "" {
		return "Uploaded by bandsync."
	}
	return "Recorded with " + dev + ", uploaded by bandsync."
}

// uploadBody is the multipart body: the workout as gzipped FIT, its
// external_id, name, description, sport_type (documented in the uploads
// guide though not in the spec; Confirm fixes the sport when Strava ignores
// it) and trainer flag.
func (s *Sink) uploadBody(ctx context.Context, w *workout.Workout, key string) ([]byte, string, error) {
	in := s.intentFor(w)
	var body bytes.Buffer
	// Room for the fields and the compressed FIT, which takes about 17
	// bytes a sample: one allocation instead of a dozen doublings.
	body.Grow(2048 + 20*len(w.Samples))
	mw := multipart.NewWriter(&body)
	ext := ExternalID(key)
	fields := [][2]string{{"data_type", "fit.gz"}, {"external_id", ext}, {"description", description(w)}, {"sport_type", string(in.sport)}}
	if w.Name != "" {
		fields = append(fields, [2]string{"name", w.Name})
	}
	if in.trainer {
		fields = append(fields, [2]string{"trainer", "1"})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	part, err := mw.CreateFormFile("file", ext+".gz")
	if err != nil {
		return nil, "", err
	}
	// Stateless compression keeps no tables between writes: FIT arrives in
	// one Write, and it is faster than BestSpeed here, and as small.
	zw, err := gzip.NewWriterLevel(part, gzip.StatelessCompression)
	if err != nil {
		return nil, "", err
	}
	if err := fit.EncodeContext(ctx, zw, w, fit.EncodeOptions{LegacyZeppIdentity: s.opt.LegacyIdentity}); err != nil {
		return nil, "", fmt.Errorf("encode FIT: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, "", fmt.Errorf("gzip FIT: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return body.Bytes(), mw.FormDataContentType(), nil
}

// read runs an idempotent request under the pacer, retrying transient
// failures.
func (s *Sink) read(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	return s.pacer.Call(ctx, func(ctx context.Context) error {
		var r io.Reader
		ctype := ""
		if body != nil {
			r, ctype = bytes.NewReader(body), "application/json"
		}
		_, _, err := s.do(ctx, method, path, q, r, ctype, true, out)
		return err
	})
}

// do sends one request within the budget and classifies the answer. It
// returns the status (0 when there was no answer) and the raw body.
func (s *Sink) do(ctx context.Context, method, path string, q url.Values, body io.Reader, ctype string, isRead bool, out any) (int, []byte, error) {
	if err := s.budget.Take(isRead); err != nil {
		return 0, nil, err
	}
	u := s.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, errclass.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	sent := s.clock.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%s %s: %w: %w", method, path, errNoAnswer, ctx.Err())
		}
		return 0, nil, classifyTransport(method, path, err)
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode == http.StatusTooManyRequests {
		until := s.budget.Refused(resp.Header, sent)
		return resp.StatusCode, raw, errclass.Limited(fmt.Errorf("%s %s: strava rate limit exceeded (resumes %s)", method, path, until.Format("15:04 MST")), until)
	}
	s.budget.Observe(resp.Header, sent)
	if rerr != nil {
		return 0, nil, errclass.Retry(fmt.Errorf("%s %s: read answer: %w", method, path, rerr), 0)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, raw, statusError(method, path, resp, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, errclass.Retry(fmt.Errorf("%s %s: decode answer: %w", method, path, err), 0)
		}
	}
	return resp.StatusCode, raw, nil
}

// errNoAnswer marks a request that was sent but got no answer.
var errNoAnswer = errors.New("no answer")

// classifyTransport classifies a request that got no answer: transient,
// unless the client's own error is classified (the oauth layer's refused
// token refresh is ReAuth).
func classifyTransport(method, path string, err error) error {
	switch errclass.ClassOf(err) {
	case errclass.ReAuth, errclass.RateLimited, errclass.Usage:
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Nothing reached the server.
		return errclass.Retry(fmt.Errorf("%s %s: %w", method, path, err), 0)
	}
	return errclass.Retry(fmt.Errorf("%s %s: %w: %w", method, path, errNoAnswer, err), 0)
}

// statusError classifies a non-2xx answer, with Strava's fault text.
func statusError(method, path string, resp *http.Response, raw []byte) error {
	msg := strings.TrimSpace(string(raw))
	var f api.Fault
	if json.Unmarshal(raw, &f) == nil && f.Message != "" {
		msg = f.Error()
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	err := fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint := ReAuthHint
		if f.Has("AccessToken", "activity:write_permission") || f.Has("AccessToken", "activity:read_permission") {
			hint = ReAuthHint + " (and allow bandsync to view and upload activities)"
		}
		return errclass.Auth(err, hint)
	case http.StatusForbidden:
		return errclass.Fatal(err)
	}
	return errclass.FromStatus(resp.StatusCode, resp.Header, err)
}
