package strava

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
	"github.com/klauspost/compress/gzip"
)

// maxPerPage is Strava's page size cap (strava-api.md §3.1).
const maxPerPage = 200

type activity struct {
	ID           int64
	uploadID     int64
	externalID   *string
	name         string
	description  *string
	sportType    api.SportType
	start        time.Time
	zone         workout.Zone
	elapsed      int
	moving       int
	distance     float64
	ascent       float64
	calories     float64
	deviceName   string
	trainer      bool
	commute      bool
	private      bool
	hideFromHome bool
	gearID       *string
	manual       bool
	// What the summaries show beyond the totals, read from the file once.
	maxSpeed       float64
	avgHR, maxHR   int
	startLL, endLL []float64
	// The file, for streams: in memory (w), or in the file store (file,
	// with its data type) when Options.FileDir is set so that memory stays
	// flat.
	w    *workout.Workout
	file *span
	kind string
}

// workout returns the activity's workout for streams; nil for manual ones.
func (s *Server) workout(a *activity) *workout.Workout {
	if a.w != nil || a.file == nil {
		return a.w
	}
	data, err := s.files.get(*a.file)
	if err != nil {
		return nil
	}
	base, gz := strings.CutSuffix(a.kind, ".gz")
	w, _ := decodeUpload(data, base, gz)
	return w
}

func (s *Server) activityFromUpload(u *upload) *activity {
	w := u.workout
	s.seq++
	a := newActivity(s.seq, w)
	a.uploadID = u.ID
	ext := u.ExternalID
	a.externalID = &ext
	a.deviceName = DeviceName(w.Device)
	a.sportType = s.guessSport(w, u.fromFIT)
	if st := api.SportType(u.form.sportType); s.opt.HonourUploadSportType && st.Known() {
		a.sportType = st
	}
	// "activities without lat/lng info in the file are auto marked as
	// stationary, set to 1 to force" (§2.1).
	a.trainer = u.form.trainer || !w.HasGPS()
	a.commute = u.form.commute
	a.name = u.form.name
	if a.name == "" {
		a.name = autoName(a.start.Add(a.zone.Offset), a.sportType)
	}
	if u.form.hasDescription {
		d := u.form.description
		a.description = &d
	}
	return a
}

// newActivity reads what Strava shows from a workout: elapsed time from the
// file's elapsed time and moving time from its timer time (FIT
// total_timer_time, which the decoder puts in Summary.Moving); files without
// one get the moving time computed from their pauses.
func newActivity(id int64, w *workout.Workout) *activity {
	a := &activity{
		ID:       id,
		start:    w.Start.UTC().Truncate(time.Second),
		zone:     w.Zone,
		elapsed:  int(w.Elapsed().Round(time.Second) / time.Second),
		moving:   int(w.Moving().Round(time.Second) / time.Second),
		distance: w.Distance(),
		ascent:   w.Summary.Ascent,
		calories: w.Summary.Calories,
		maxSpeed: w.Summary.MaxSpeed,
		w:        w,
	}
	if w.Summary.AvgHR > 0 {
		a.avgHR, a.maxHR = w.Summary.AvgHR, w.Summary.MaxHR
	}
	first, last := -1, -1
	for i := range w.Samples {
		if w.Samples[i].Has&workout.HasPosition != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		a.startLL = []float64{w.Samples[first].Lat, w.Samples[first].Lon}
		a.endLL = []float64{w.Samples[last].Lat, w.Samples[last].Lon}
	}
	return a
}

// autoName is Strava's default title, "Morning Run" and the like, from the
// local start hour (the hour bands are a guess).
func autoName(local time.Time, st api.SportType) string {
	part := "Night"
	switch h := local.Hour(); {
	case h >= 5 && h < 11:
		part = "Morning"
	case h >= 11 && h < 14:
		part = "Lunch"
	case h >= 14 && h < 18:
		part = "Afternoon"
	case h >= 18 && h < 22:
		part = "Evening"
	}
	return part + " " + spaced(string(st))
}

// spaced turns "WeightTraining" into "Weight Training".
func spaced(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Seed describes an activity that is on Strava before bandsync runs.
type Seed struct {
	Workout    *workout.Workout
	SportType  api.SportType // default: the sport Strava would read from a FIT file
	Name       string        // default: Strava's automatic name
	DeviceName string
	ExternalID string // "" leaves external_id null
	Private    bool   // only visible with activity:read_all
	Trainer    bool
}

// Add creates an activity as another uploader would have, and returns its ID.
func (s *Server) Add(seed Seed) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	a := newActivity(s.seq, seed.Workout)
	a.sportType = seed.SportType
	if a.sportType == "" {
		a.sportType = s.guessSport(seed.Workout, true)
	}
	a.name = seed.Name
	if a.name == "" {
		a.name = autoName(a.start.Add(a.zone.Offset), a.sportType)
	}
	a.deviceName, a.private, a.trainer = seed.DeviceName, seed.Private, seed.Trainer
	if seed.ExternalID != "" {
		ext := seed.ExternalID
		a.externalID = &ext
	}
	s.seq++
	a.uploadID = s.seq
	if s.opt.FileDir != "" {
		// Keep memory flat: the seed's file goes to disk like an upload's.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if fit.Encode(zw, seed.Workout, fit.EncodeOptions{}) == nil && zw.Close() == nil {
			s.keepFile(a, &upload{data: buf.Bytes(), kind: "fit.gz"})
		}
	}
	s.addLocked(a)
	return a.ID
}

// ZeppLinkDevice is the device name Strava shows on every activity Zepp's
// own Strava link posts, whatever the band (strava-api.md §6.2).
const ZeppLinkDevice = "Huami Amazfit Pace"

// AddZeppLink creates the activity Zepp's own Strava link would have posted
// for w: device "Huami Amazfit Pace", the right sport, and no external_id
// (Zepp's link sets none that the API shows; a guess).
func (s *Server) AddZeppLink(w *workout.Workout) int64 {
	st, trainer := w.Sport.Strava()
	return s.Add(Seed{Workout: w, SportType: api.SportType(st), DeviceName: ZeppLinkDevice, Trainer: trainer})
}

// Delete removes an activity as the athlete would on strava.com (the API
// has no delete); its upload then reports "The created activity has been
// deleted.".
func (s *Server) Delete(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activities[id]
	if !ok {
		return false
	}
	s.removeLocked(a)
	if u := s.uploads[a.uploadID]; u != nil {
		u.Status, u.ActivityID = api.StatusDeleted, nil
	}
	return true
}

// Activities returns every activity, oldest upload first.
func (s *Server) Activities() []api.DetailedActivity {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processLocked(s.now())
	out := make([]api.DetailedActivity, 0, len(s.activities))
	for _, id := range sortedIDs(s.activities) {
		out = append(out, s.detailed(s.activities[id]))
	}
	return out
}

// Activity returns one activity.
func (s *Server) Activity(id int64) (api.DetailedActivity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processLocked(s.now())
	a, ok := s.activities[id]
	if !ok {
		return api.DetailedActivity{}, false
	}
	return s.detailed(a), true
}

func (s *Server) summary(a *activity) api.SummaryActivity {
	local := a.start.Add(a.zone.Offset)
	out := api.SummaryActivity{
		ID: a.ID, ResourceState: 2, ExternalID: a.externalID, UploadID: a.uploadID,
		Athlete: api.MetaAthlete{ID: s.athlete.ID}, Name: a.name, Distance: a.distance,
		MovingTime: a.moving, ElapsedTime: a.elapsed, TotalElevationGain: a.ascent,
		Type: a.sportType.LegacyType(), SportType: a.sportType, StartDate: a.start,
		// start_date_local is the local wall time written with a Z, as Strava does.
		StartDateLocal: time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC),
		Timezone:       timezoneName(a.zone), UTCOffset: a.zone.Offset.Seconds(),
		StartLatLng: []float64{}, EndLatLng: []float64{},
		Map:        api.PolylineMap{ID: "a" + api.FormatID(a.ID)},
		DeviceName: a.deviceName, Trainer: a.trainer, Commute: a.commute, Manual: a.manual,
		Private: a.private, Visibility: "everyone", HideFromHome: a.hideFromHome, GearID: a.gearID,
	}
	if a.uploadID != 0 {
		out.UploadIDStr = api.FormatID(a.uploadID)
	}
	if a.private {
		out.Visibility = "only_me"
	}
	if a.moving > 0 {
		out.AverageSpeed = a.distance / float64(a.moving)
	}
	out.MaxSpeed = a.maxSpeed
	if a.avgHR > 0 {
		out.HasHeartrate, out.AverageHeartrate, out.MaxHeartrate = true, float64(a.avgHR), float64(a.maxHR)
	}
	out.StartLatLng, out.EndLatLng = a.startLL, a.endLL
	return out
}

func (s *Server) detailed(a *activity) api.DetailedActivity {
	return api.DetailedActivity{SummaryActivity: s.summary(a), Description: a.description, Calories: a.calories}
}

// timezoneName is Strava's timezone label, "(GMT+01:00) Europe/Madrid".
// Indoor activities take the profile's zone (§6.7); the emulated profile's
// is UTC.
func timezoneName(z workout.Zone) string {
	if !z.Known {
		return "(GMT+00:00) Etc/UTC"
	}
	off := z.Offset
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	name := z.Name
	if name == "" {
		name = "Etc/UTC"
	}
	return fmt.Sprintf("(GMT%c%02d:%02d) %s", sign, int(off/time.Hour), int(off%time.Hour/time.Minute), name)
}

func (s *Server) handleAthlete(w http.ResponseWriter, _ *http.Request, _ *accessToken) {
	writeJSON(w, http.StatusOK, s.athlete)
}

// handleList is GET /athlete/activities. Without after the list is newest
// first (observed); with after it is oldest first (commonly reported, not
// documented: §3.1, §10 q6).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, tok *accessToken) {
	q := r.URL.Query()
	before, ok1 := intParam(q.Get("before"), math.MaxInt64)
	after, ok2 := intParam(q.Get("after"), math.MinInt64)
	page, ok3 := intParam(q.Get("page"), 1)
	perPage, ok4 := intParam(q.Get("per_page"), 30)
	if !ok1 || !ok2 || !ok3 || !ok4 || page < 1 || perPage < 1 {
		badRequest(w, "Activities", "page", "invalid") // guess at the body
		return
	}
	perPage = min(perPage, maxPerPage)
	// Only Me activities are filtered out unless the token has read_all.
	all := slices.Contains(strings.Split(tok.scope, ","), "activity:read_all")
	s.mu.Lock()
	s.processLocked(s.now())
	var list []*activity
	for _, a := range s.activities {
		if t := a.start.Unix(); t > after && t < before && (all || !a.private) {
			list = append(list, a)
		}
	}
	slices.SortFunc(list, func(a, b *activity) int {
		c := a.start.Compare(b.start)
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		return c
	})
	if q.Get("after") == "" {
		slices.Reverse(list)
	}
	out := []api.SummaryActivity{}
	if lo := (page - 1) * perPage; lo < int64(len(list)) && lo >= 0 {
		for _, a := range list[lo:min(lo+perPage, int64(len(list)))] {
			out = append(out, s.summary(a))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func intParam(v string, def int64) (int64, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request, tok *accessToken) *activity {
	id, ok := api.ParseID(r.PathValue("id"))
	a := s.activities[id]
	if !ok || a == nil || (a.private && !tok.has("activity:read_all")) {
		notFound(w, "Activity")
		return nil
	}
	return a
}

// handleGet is GET /activities/{id}.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, tok *accessToken) {
	s.mu.Lock()
	s.processLocked(s.now())
	a := s.lookup(w, r, tok)
	var body api.DetailedActivity
	if a != nil {
		body = s.detailed(a)
	}
	s.mu.Unlock()
	if a != nil {
		writeJSON(w, http.StatusOK, body)
	}
}

// handleUpdate is PUT /activities/{id} with an UpdatableActivity body.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, tok *accessToken) {
	var u api.UpdatableActivity
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&u); err != nil {
		badRequest(w, "Activity", "body", "invalid")
		return
	}
	if u.SportType != "" && !u.SportType.Known() {
		badRequest(w, "Activity", "sport_type", "invalid")
		return
	}
	s.mu.Lock()
	s.processLocked(s.now())
	a := s.lookup(w, r, tok)
	var body api.DetailedActivity
	if a != nil {
		if u.Name != nil {
			a.name = *u.Name
		}
		if u.Description != nil {
			d := *u.Description
			a.description = &d
		}
		if u.SportType != "" {
			a.sportType = u.SportType
		}
		if u.GearID != nil {
			if g := *u.GearID; g == "none" {
				a.gearID = nil
			} else {
				a.gearID = &g
			}
		}
		if u.Trainer != nil {
			a.trainer = *u.Trainer
		}
		if u.Commute != nil {
			a.commute = *u.Commute
		}
		if u.HideFromHome != nil {
			a.hideFromHome = *u.HideFromHome
		}
		body = s.detailed(a)
	}
	s.mu.Unlock()
	if a != nil {
		writeJSON(w, http.StatusOK, body)
	}
}

// handleStreams is GET /activities/{id}/streams?keys=…&key_by_type=true.
func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request, tok *accessToken) {
	keys := strings.Split(r.URL.Query().Get("keys"), ",")
	s.mu.Lock()
	a := s.lookup(w, r, tok)
	var set api.StreamSet
	if a != nil {
		if wo := s.workout(a); wo != nil {
			set = streams(wo, keys)
		}
	}
	s.mu.Unlock()
	if a != nil {
		writeJSON(w, http.StatusOK, set)
	}
}

// streams builds the requested streams at full resolution. Samples taken
// during a pause are "not moving"; velocity_smooth is the sample speed, else
// the distance change over the time change.
func streams(wo *workout.Workout, keys []string) api.StreamSet {
	base := api.StreamBase{OriginalSize: len(wo.Samples), Resolution: "high", SeriesType: "distance"}
	want := map[string]bool{}
	for _, k := range keys {
		want[strings.TrimSpace(k)] = true
	}
	var set api.StreamSet
	var (
		tm, hr, cad  []int
		dist, alt, v []float64
		ll           [][2]float64
		moving       []bool
		prevT        time.Time
		prevD        float64
		hasD         bool
	)
	for _, smp := range wo.Samples {
		tm = append(tm, int(smp.Time.Sub(wo.Start)/time.Second))
		if smp.Has&workout.HasPosition != 0 {
			ll = append(ll, [2]float64{smp.Lat, smp.Lon})
		}
		if smp.Has&workout.HasHeartRate != 0 {
			hr = append(hr, int(smp.HeartRate))
		}
		if smp.Has&workout.HasCadence != 0 {
			c := smp.Cadence
			if wo.Sport.OnFoot() {
				c /= 2 // the API returns per-leg running cadence (§6.5)
			}
			cad = append(cad, int(c))
		}
		if smp.Has&workout.HasAltitude != 0 {
			alt = append(alt, smp.Altitude)
		}
		speed := 0.0
		if smp.Has&workout.HasDistance != 0 {
			dist = append(dist, smp.Distance)
			if hasD && smp.Time.After(prevT) {
				speed = (smp.Distance - prevD) / smp.Time.Sub(prevT).Seconds()
			}
			prevT, prevD, hasD = smp.Time, smp.Distance, true
		}
		if smp.Has&workout.HasSpeed != 0 {
			speed = smp.Speed
		}
		v = append(v, speed)
		moving = append(moving, !wo.Paused(smp.Time))
	}
	if want["time"] && len(tm) > 0 {
		set.Time = &api.IntStream{StreamBase: base, Data: tm}
	}
	if want["latlng"] && len(ll) > 0 {
		set.LatLng = &api.LatLngStream{StreamBase: base, Data: ll}
	}
	if want["heartrate"] && len(hr) > 0 {
		set.Heartrate = &api.IntStream{StreamBase: base, Data: hr}
	}
	if want["cadence"] && len(cad) > 0 {
		set.Cadence = &api.IntStream{StreamBase: base, Data: cad}
	}
	if want["altitude"] && len(alt) > 0 {
		set.Altitude = &api.FloatStream{StreamBase: base, Data: alt}
	}
	if (want["distance"] || len(dist) > 0) && len(dist) > 0 {
		set.Distance = &api.FloatStream{StreamBase: base, Data: dist}
	}
	if want["velocity_smooth"] && len(v) > 0 {
		set.VelocitySmooth = &api.FloatStream{StreamBase: base, Data: v}
	}
	if want["moving"] && len(moving) > 0 {
		set.Moving = &api.BoolStream{StreamBase: base, Data: moving}
	}
	return set
}
