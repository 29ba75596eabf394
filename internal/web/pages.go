package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/store"
	"github.com/bandsync/bandsync/internal/web/compare"
	"github.com/bandsync/bandsync/internal/workout"
)

// pageSize is how many workouts a page of the list shows.
const pageSize = 50

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /workouts", s.list)
	mux.HandleFunc("GET /workouts/{id}", s.workoutPage)
	mux.HandleFunc("GET /workouts/{id}/data.json", s.workoutData)
	mux.HandleFunc("GET /events", s.serveEvents)
	mux.HandleFunc("POST /sync", s.syncNow)
	mux.HandleFunc("POST /retry", s.retryFailed)
	assets := http.FileServerFS(s.assets)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		assets.ServeHTTP(w, r)
	})))
	return s.secure(mux)
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // "overview", "workouts"
	CSRF    string
	Scripts []string // extra asset paths, loaded before app.js
	Styles  []string
	Flash   string
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	p.CSRF = s.csrf
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.fail(w, r, "render "+name, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// fail logs what went wrong and shows a person a message without details,
// which could carry what a page must not show.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.opt.Log.Error("dashboard: "+what, "path", r.URL.Path, "err", err)
	status := http.StatusInternalServerError
	msg := "Something went wrong; the serve log says what."
	if errors.Is(err, store.ErrNotFound) {
		status, msg = http.StatusNotFound, "No such workout."
	}
	http.Error(w, msg, status)
}

// stateCount is one state's count, with the list it links to.
type stateCount struct {
	State store.State
	N     int
	Link  string
}

type sinkRow struct {
	Sink            string
	Total           int
	States          []stateCount
	Retrying        int
	ChangedAtSource int
	FailedBy        []kv
	SkippedBy       []kv
}

type kv struct {
	Key string
	N   int
}

type monthRow struct {
	Label  string // "June" or "2025" for a year's total
	Year   bool
	States []stateCount
	Total  int
}

type sourceCoverage struct {
	Source   string
	Complete string // "" when nothing is covered
}

type overviewData struct {
	Sinks      []sinkRow
	AllStates  []store.State
	Sink       string
	Columns    []store.State
	Months     []monthRow
	Coverage   []sourceCoverage
	RateLimit  string
	LastWatch  string
	NextWatch  string
	CanSync    bool
	CanRetry   bool
	Failed     int
	Syncing    bool
	Live       bool
	NoWorkouts bool
}

// monthColumns are the coverage columns; uploading counts as pending.
var monthColumns = []store.State{store.Done, store.Duplicate, store.Skipped, store.Failed, store.Pending}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	counts, err := s.opt.Store.Counts(ctx)
	if err != nil {
		s.fail(w, r, "counts", err)
		return
	}
	d := overviewData{Sink: s.opt.Sink, Columns: monthColumns, AllStates: store.States, CanSync: s.opt.SyncNow != nil,
		CanRetry: s.opt.RetryFailed != nil, Syncing: s.syncing.Load(), Live: s.opt.Feed != nil}
	for _, name := range sortedKeys(counts) {
		c := counts[name]
		row := sinkRow{Sink: name, Total: c.Total(), Retrying: c.Retrying, ChangedAtSource: c.ChangedAtSource,
			FailedBy: sortedCounts(c.FailedBy), SkippedBy: sortedCounts(c.SkippedBy)}
		for _, st := range store.States {
			row.States = append(row.States, stateCount{State: st, N: c.States[st], Link: listLink(url.Values{"state": {string(st)}, "sink": {name}})})
		}
		d.Sinks = append(d.Sinks, row)
		d.Failed += c.States[store.Failed]
	}
	all, _, err := s.opt.Store.Workouts(ctx, store.Filter{Order: store.NewestFirst})
	if err != nil {
		s.fail(w, r, "workouts", err)
		return
	}
	d.NoWorkouts = len(all) == 0
	d.Months = s.months(all)
	sources := map[string]bool{}
	for _, ws := range all {
		sources[ws.Workout.Source] = true
	}
	now := s.opt.Now()
	for _, src := range sortedKeys(sources) {
		cov, err := s.opt.Store.Coverage(ctx, src)
		if err != nil {
			s.fail(w, r, "coverage", err)
			return
		}
		sc := sourceCoverage{Source: src}
		if win, ok := store.CompleteBack(cov); ok {
			from := "the beginning"
			if !win.From.IsZero() {
				from = win.From.UTC().Format("2 January 2006")
			}
			to := "now"
			if !win.To.IsZero() && win.To.Before(now.Add(-time.Hour)) {
				to = win.To.UTC().Format("2 January 2006 15:04 MST")
			}
			sc.Complete = "complete back to " + from + " (listed up to " + to + ")"
		}
		d.Coverage = append(d.Coverage, sc)
	}
	if t, ok, err := s.opt.Store.MetaTime(ctx, store.MetaRateLimitOpens(StravaSink)); err == nil && ok && t.After(now) {
		d.RateLimit = "Strava's rate limit is reached; the next window opens " + when(t, now)
	}
	if t, ok, err := s.opt.Store.MetaTime(ctx, store.MetaLastWatch); err == nil && ok {
		d.LastWatch = when(t, now)
	}
	if t, ok, err := s.opt.Store.MetaTime(ctx, store.MetaNextWatch); err == nil && ok {
		d.NextWatch = when(t, now)
	}
	p := page{Title: "Overview", Nav: "overview", Data: d}
	switch r.URL.Query().Get("done") {
	case "sync":
		p.Flash = "Sync started: its progress shows below."
	case "busy":
		p.Flash = "A sync started here is still running."
	case "retry":
		if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n >= 0 {
			p.Flash = fmt.Sprintf("%d failed deliveries will be tried again at the next sync.", n)
		}
	}
	s.render(w, r, "overview", p)
}

// months counts the workouts of each month (in the zone they were
// recorded in) by their delivery's state on the overview's sink, newest
// first, each year preceded by its total.
func (s *Server) months(all []store.WorkoutStatus) []monthRow {
	type key struct {
		y int
		m time.Month
	}
	per := map[key]map[store.State]int{}
	years := map[int]map[store.State]int{}
	for _, ws := range all {
		d, ok := ws.Delivery(s.opt.Sink)
		if !ok {
			continue
		}
		st := d.State
		if st == store.Uploading {
			st = store.Pending
		}
		t := localStart(ws.Workout)
		k := key{t.Year(), t.Month()}
		if per[k] == nil {
			per[k] = map[store.State]int{}
		}
		if years[k.y] == nil {
			years[k.y] = map[store.State]int{}
		}
		per[k][st]++
		years[k.y][st]++
	}
	keys := make([]key, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(b.y, a.y), cmp.Compare(b.m, a.m))
	})
	var rows []monthRow
	row := func(label string, year bool, c map[store.State]int, since, until time.Time) monthRow {
		mr := monthRow{Label: label, Year: year}
		for _, st := range monthColumns {
			q := url.Values{"state": {string(st)}, "sink": {s.opt.Sink}, "since": {since.Format(time.DateOnly)}, "until": {until.Format(time.DateOnly)}}
			mr.States = append(mr.States, stateCount{State: st, N: c[st], Link: listLink(q)})
			mr.Total += c[st]
		}
		return mr
	}
	year := 0
	for _, k := range keys {
		if k.y != year {
			year = k.y
			ys := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
			rows = append(rows, row(strconv.Itoa(year), true, years[year], ys, ys.AddDate(1, 0, 0)))
		}
		ms := time.Date(k.y, k.m, 1, 0, 0, 0, 0, time.UTC)
		rows = append(rows, row(k.m.String(), false, per[k], ms, ms.AddDate(0, 1, 0)))
	}
	return rows
}

func listLink(q url.Values) string { return "/workouts?" + q.Encode() }

// localStart is when a workout began where it was recorded.
func localStart(r store.Record) time.Time {
	if r.Zone.Known {
		return r.Start.In(time.FixedZone("", int(r.Zone.Offset/time.Second)))
	}
	return r.Start.UTC()
}

// when says when t is relative to now, in UTC to stay the same for every
// viewer of a server.
func when(t, now time.Time) string {
	abs := t.UTC().Format("2006-01-02 15:04 MST")
	d := t.Sub(now).Round(time.Minute)
	switch {
	case d > 0:
		return abs + " (in " + shortDur(d) + ")"
	case d < 0:
		return abs + " (" + shortDur(-d) + " ago)"
	}
	return abs + " (now)"
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%d days", d/(24*time.Hour))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedCounts(m map[string]int) []kv {
	var out []kv
	for _, k := range sortedKeys(m) {
		out = append(out, kv{k, m[k]})
	}
	return out
}

// listFilter is the workout list's query, as the form shows it back.
type listFilter struct {
	Sport, State, Sink, Since, Until, Q string
	Page                                int
}

type listRow struct {
	ID         store.WorkoutID
	Start      string
	Sport      string
	Distance   string
	Moving     string
	Elapsed    string
	Deliveries []deliveryView
}

type deliveryView struct {
	Sink   string
	State  store.State
	Detail string // reason, failure, how matched
	Link   string // the activity on Strava
}

type option struct {
	Value, Label string
}

type listData struct {
	Filter   listFilter
	Sports   []option
	States   []store.State
	Sinks    []string
	Rows     []listRow
	Total    int
	From, To int
	Prev     string
	Next     string
	Problems []string
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	lf := listFilter{Sport: q.Get("sport"), State: q.Get("state"), Sink: q.Get("sink"), Since: q.Get("since"), Until: q.Get("until"), Q: strings.TrimSpace(q.Get("q"))}
	lf.Page, _ = strconv.Atoi(q.Get("page"))
	lf.Page = max(lf.Page, 1)
	f := store.Filter{Order: store.NewestFirst, Limit: pageSize, Offset: (lf.Page - 1) * pageSize, Search: lf.Q, Sink: lf.Sink}
	var problems []string
	if lf.Sport != "" {
		sp, err := workout.ParseSport(lf.Sport)
		if err != nil {
			problems = append(problems, "unknown sport "+strconv.Quote(lf.Sport))
			lf.Sport = ""
		} else {
			f.Sports = []workout.Sport{sp}
		}
	}
	if lf.State != "" {
		if !slices.Contains(store.States, store.State(lf.State)) {
			problems = append(problems, "unknown state "+strconv.Quote(lf.State))
			lf.State = ""
		}
		f.State = store.State(lf.State)
	}
	for _, d := range []struct {
		in  *string
		out *time.Time
	}{{&lf.Since, &f.Since}, {&lf.Until, &f.Until}} {
		if *d.in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, *d.in)
		if err != nil {
			problems = append(problems, "not a date (YYYY-MM-DD): "+strconv.Quote(*d.in))
			*d.in = ""
			continue
		}
		*d.out = t
	}
	rows, total, err := s.opt.Store.Workouts(ctx, f)
	if err != nil {
		s.fail(w, r, "list", err)
		return
	}
	counts, err := s.opt.Store.Counts(ctx)
	if err != nil {
		s.fail(w, r, "counts", err)
		return
	}
	d := listData{Filter: lf, States: store.States, Sinks: sortedKeys(counts), Total: total, Problems: problems}
	for _, sp := range workout.Sports() {
		d.Sports = append(d.Sports, option{sp.String(), sp.Title()})
	}
	for _, ws := range rows {
		d.Rows = append(d.Rows, s.listRow(ws))
	}
	if len(rows) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(rows)
	}
	pageLink := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return listLink(q)
	}
	if lf.Page > 1 {
		d.Prev = pageLink(lf.Page - 1)
	}
	if f.Offset+len(rows) < total {
		d.Next = pageLink(lf.Page + 1)
	}
	s.render(w, r, "list", page{Title: "Workouts", Nav: "workouts", Data: d})
}

func (s *Server) listRow(ws store.WorkoutStatus) listRow {
	rec := ws.Workout
	sm := rec.Summary
	row := listRow{ID: rec.ID, Start: localStart(rec).Format("2006-01-02 15:04"), Sport: rec.Sport.Title(),
		Distance: orDash(sm.Distance > 0, fmt.Sprintf("%.2f km", sm.Distance/1000)),
		Moving:   clockOrDash(sm.Moving), Elapsed: clockOrDash(sm.Elapsed)}
	ds := slices.Clone(ws.Deliveries)
	slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.Sink, b.Sink) })
	for _, d := range ds {
		row.Deliveries = append(row.Deliveries, s.deliveryView(d))
	}
	return row
}

func (s *Server) deliveryView(d store.Delivery) deliveryView {
	v := deliveryView{Sink: d.Sink, State: d.State}
	switch d.State {
	case store.Skipped:
		v.Detail = d.SkipReason
	case store.Failed:
		v.Detail = d.FailClass.String() + ": " + d.FailMessage
	case store.Duplicate:
		v.Detail = "already there (" + d.MatchedBy + ")"
	}
	if d.ChangedAtSource {
		v.Detail = strings.TrimPrefix(v.Detail+"; changed at the source since", "; ")
	}
	if d.Sink == StravaSink && d.ActivityID != "" && (d.State == store.Done || d.State == store.Duplicate) {
		v.Link = s.opt.StravaURL + "/activities/" + url.PathEscape(d.ActivityID)
	}
	return v
}

func orDash(ok bool, s string) string {
	if !ok {
		return "—"
	}
	return s
}

func clockOrDash(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

type workoutData struct {
	Row        listRow
	Name       string
	Source     string
	Key        string
	Rows       []compare.Row
	DataURL    string
	HasTrack   bool
	TileURL    string
	TileAttrib string
	BandNote   string
	StravaNote string
	Notes      []string
}

// comparison gathers a workout's record, the band's recording (or, when
// it cannot be had, a workout made of the record's summary), and Strava's
// answer when the workout is on Strava. It never fails for want of the
// band's or Strava's data: the notes say what is missing.
func (s *Server) comparison(ctx context.Context, r *http.Request) (store.WorkoutStatus, *workout.Workout, Streams, workoutData, error) {
	var d workoutData
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.WorkoutStatus{}, nil, Streams{}, d, fmt.Errorf("workout %q: %w", r.PathValue("id"), store.ErrNotFound)
	}
	rec, err := s.opt.Store.Workout(ctx, store.WorkoutID(id))
	if err != nil {
		return store.WorkoutStatus{}, nil, Streams{}, d, err
	}
	ws := store.WorkoutStatus{Workout: rec}
	counts, err := s.opt.Store.Counts(ctx)
	if err != nil {
		return ws, nil, Streams{}, d, err
	}
	for _, sink := range sortedKeys(counts) {
		del, err := s.opt.Store.Delivery(ctx, rec.ID, sink)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return ws, nil, Streams{}, d, err
		}
		ws.Deliveries = append(ws.Deliveries, del)
	}
	var band *workout.Workout
	if s.opt.Band != nil {
		band, err = s.opt.Band.Workout(ctx, rec)
		if err != nil {
			s.opt.Log.Warn("dashboard: band's recording", "workout", rec.Key(), "err", err)
			d.BandNote = "The band's recording could not be read (the serve log says why): only its summary is shown."
		}
	} else {
		d.BandNote = "The band's recording is not available here: only its summary is shown."
	}
	if band == nil {
		band = &workout.Workout{Start: rec.Start, Zone: rec.Zone, Sport: rec.Sport, Summary: rec.Summary,
			Origin: workout.Origin{Source: rec.Source, ID: rec.SourceID}}
	}
	var st Streams
	del, onStrava := ws.Delivery(StravaSink)
	switch {
	case !onStrava || del.ActivityID == "" || (del.State != store.Done && del.State != store.Duplicate):
		d.StravaNote = "This workout is not on Strava yet."
	default:
		st, err = s.stravaStreams(ctx, del.ActivityID)
		if err != nil {
			s.opt.Log.Warn("dashboard: Strava's streams", "activity", del.ActivityID, "err", err)
			d.StravaNote = "Strava's data for this activity could not be fetched (the serve log says why): only the band's is shown."
			st = Streams{}
		}
	}
	return ws, band, st, d, nil
}

// stravaStreams returns Strava's answer for an activity: from memory, the
// cache, or Strava itself (then cached).
func (s *Server) stravaStreams(ctx context.Context, activityID string) (Streams, error) {
	s.mu.Lock()
	st, ok := s.streams[activityID]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	if s.opt.Cache != nil {
		raw, _, err := s.opt.Cache.Streams(ctx, StravaSink, activityID)
		switch {
		case err == nil:
			if err := st.UnmarshalJSON(raw); err == nil {
				s.remember(activityID, st)
				return st, nil
			}
			// A damaged or outdated entry: fetch it again.
		case !errors.Is(err, store.ErrNotFound):
			return Streams{}, fmt.Errorf("read cached streams: %w", err)
		}
	}
	if s.opt.Strava == nil {
		return Streams{}, errors.New("no Strava connection")
	}
	st, err := s.opt.Strava.Streams(ctx, activityID)
	if err != nil {
		return Streams{}, err
	}
	if s.opt.Cache != nil {
		raw, err := json.Marshal(st)
		if err == nil {
			err = s.opt.Cache.PutStreams(ctx, StravaSink, activityID, raw)
		}
		if err != nil {
			s.opt.Log.Warn("dashboard: cache Strava's streams", "activity", activityID, "err", err)
		}
	}
	s.remember(activityID, st)
	return st, nil
}

// memoryStreams bounds the streams kept in memory.
const memoryStreams = 32

func (s *Server) remember(id string, st Streams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.streams) >= memoryStreams {
		clear(s.streams)
	}
	s.streams[id] = st
}

func (s *Server) workoutPage(w http.ResponseWriter, r *http.Request) {
	ws, band, st, d, err := s.comparison(r.Context(), r)
	if err != nil {
		s.fail(w, r, "workout", err)
		return
	}
	rec := ws.Workout
	d.Row = s.listRow(ws)
	d.Name, d.Source, d.Key = band.Name, rec.Source+" "+rec.SourceID, rec.Key()
	d.Rows = compare.Rows(band, st)
	d.DataURL = "/workouts/" + strconv.FormatInt(int64(rec.ID), 10) + "/data.json"
	d.HasTrack = band.HasGPS() || len(st.LatLng) > 0
	d.TileURL, d.TileAttrib = s.opt.TileURL, s.opt.TileAttribution
	d.Notes = band.Notes
	title := rec.Sport.Title() + " " + d.Row.Start
	s.render(w, r, "workout", page{Title: title, Nav: "workouts", Data: d,
		Scripts: []string{"vendor/uplot/uPlot.iife.min.js", "vendor/leaflet/leaflet.js"},
		Styles:  []string{"vendor/uplot/uPlot.min.css", "vendor/leaflet/leaflet.css"}})
}

// workoutData is the charts' and map's data for the workout page's script.
func (s *Server) workoutData(w http.ResponseWriter, r *http.Request) {
	_, band, st, _, err := s.comparison(r.Context(), r)
	if err != nil {
		s.fail(w, r, "workout data", err)
		return
	}
	raw, err := json.Marshal(compare.Build(band, st))
	if err != nil {
		s.fail(w, r, "workout data", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(raw)
}

func (s *Server) syncNow(w http.ResponseWriter, r *http.Request) {
	if s.opt.SyncNow == nil {
		http.NotFound(w, r)
		return
	}
	if !s.syncing.CompareAndSwap(false, true) {
		http.Redirect(w, r, "/?done=busy", http.StatusSeeOther)
		return
	}
	// The sync outlives the request; the server's shutdown cancels it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	go func() {
		defer s.syncing.Store(false)
		defer cancel()
		go func() {
			select {
			case <-s.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := s.opt.SyncNow(ctx); err != nil {
			s.opt.Log.Warn("dashboard: sync", "err", err)
		}
	}()
	http.Redirect(w, r, "/?done=sync", http.StatusSeeOther)
}

func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) {
	if s.opt.RetryFailed == nil {
		http.NotFound(w, r)
		return
	}
	n, err := s.opt.RetryFailed(r.Context())
	if err != nil {
		s.fail(w, r, "retry failed", err)
		return
	}
	http.Redirect(w, r, "/?done=retry&n="+strconv.Itoa(n), http.StatusSeeOther)
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"title": func(s store.State) string {
		switch s {
		case store.Done:
			return "synced"
		}
		return string(s)
	}}
	base, err := template.New("").Funcs(funcs).ParseFS(embedded, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "list", "workout"} {
		t, err := template.Must(base.Clone()).ParseFS(embedded, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}
