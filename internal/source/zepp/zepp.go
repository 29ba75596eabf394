// Package zepp reads workouts from the Zepp cloud (Zepp Health, formerly
// Huami / Mi Fit): it logs in, finds the account's regional host, lists the
// whole history and fetches each workout's detail, decoded by
// format/zeppjson. The API is unofficial; ../shared/reference/zepp-cloud-api.md
// holds what is known, and section numbers (§) in comments point into it.
//
// Every call goes through one pacer.Pacer. With Options.BaseURL every call,
// account and data alike, goes to one base URL and the Host header names
// the Zepp host it stands for, so one server (emulator/zepp, or a proxy) can
// play every regional host and region probing still works.
package zepp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
	"github.com/bandsync/bandsync/internal/tokenstore"
	"github.com/bandsync/bandsync/internal/workout"
)

// Name is the source name and the Origin.Source of every workout.
const Name = "zepp"

// Options configure the Zepp client. Only Store is required.
type Options struct {
	// BaseURL, when set (BANDSYNC_ZEPP_URL, config zepp_url), receives every
	// call in place of the Zepp hosts; the Host header names the host meant.
	BaseURL string
	// Store keeps the tokens, as JSON under TokenName (default "zepp").
	Store     tokenstore.Store
	TokenName string
	// HTTPClient sends the calls (default: a client with a 60 s timeout).
	HTTPClient *http.Client
	// Pacer paces every call (default: 2 calls/s, ≤ 4 in flight, as the
	// reference advises about 0.5 s between calls, §7.4).
	Pacer *pacer.Pacer
	// Logf receives debug lines (requests, statuses, region probing); it
	// never receives a token or password. Nil: silent.
	Logf func(format string, args ...any)
	// Warnf receives what a person should know: an unknown sport code, a
	// region without workouts, a failed renewal. Nil: silent.
	Warnf func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Host forces the data host (e.g. "api-mifit-de2.huami.com"), skipping
	// region detection.
	Host string
	// Hosts are the data hosts probed to find an account's region
	// (default DataHosts).
	Hosts []string
	// PageLimit caps the history pages read in one listing (default 1000,
	// i.e. 200 000 workouts), a guard against a server that never ends.
	PageLimit int
}

func (o *Options) setDefaults() error {
	if o.Store == nil {
		return errors.New("zepp: Options.Store is required")
	}
	if o.TokenName == "" {
		o.TokenName = Name
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.Pacer == nil {
		o.Pacer = pacer.New(pacer.Options{Rate: 2, Burst: 2, Concurrency: 4})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Hosts) == 0 {
		o.Hosts = DataHosts
	}
	if o.PageLimit <= 0 {
		o.PageLimit = 1000
	}
	return nil
}

// Source lists and fetches the workouts of the linked Zepp account.
type Source struct {
	s        *session
	cache    *summaryCache
	lookupMu sync.Mutex // one lookup at a time; guards reach and lastLookup
	// reach is how far above a workout's trackid lookup starts its history
	// page, in seconds (see lookup); 0 until a page has been seen.
	reach int64
	// lastLookup is the trackid of the last lookup, to tell the direction
	// Fetch is going in.
	lastLookup int64
	// pageLen is how many summaries a history page holds: the longest page
	// seen that has a next one, else Zepp's documented 200 (§2.2).
	pageLen atomic.Int64
}

var _ source.Source = (*Source)(nil)

// New returns the Source of the account stored in opts.Store. It makes no
// call: a missing or refused login shows up as a ReAuth error of List or
// Fetch.
func New(opts Options) (*Source, error) {
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	return &Source{s: s, cache: newSummaryCache(summaryCacheSize)}, nil
}

// Name implements source.Source.
func (*Source) Name() string { return Name }

// Ref IDs are "<trackid>:<source>" (just "<trackid>" when Zepp gave no
// source): Zepp identifies a workout by the pair (§7.23), and Fetch needs
// the source to ask for the detail (§3.1).
func refID(trackID int64, src string) string {
	id := strconv.FormatInt(trackID, 10)
	if src != "" {
		id += ":" + src
	}
	return id
}

func parseRefID(id string) (trackID int64, src string, err error) {
	t, src, _ := strings.Cut(id, ":")
	trackID, err = strconv.ParseInt(t, 10, 64)
	if err != nil || trackID <= 0 {
		return 0, "", errclass.Fatal(fmt.Errorf("zepp: %q is not a Zepp workout ID", id))
	}
	return trackID, src, nil
}

// Fingerprint hashes the summary fields that change when a workout's data
// changes: trackid, source, type, sport_mode, dis, calorie, end_time,
// run_time, avg/max/min heart rate, total_step, altitude_ascend/descend,
// version and bind_device. Other summary fields (pb, sync_to, …) change
// without the workout changing, so they are left out.
func Fingerprint(s *zeppjson.Summary) string {
	h := sha256.New()
	fmt.Fprintf(h, "zepp-v1|%d|%s|%d|%d|%g|%g|%d|%d|%d|%d|%d|%d|%g|%g|%d|%s",
		s.TrackID, s.Source, s.Type, s.SportMode, s.Distance, s.Calories, s.EndTime, s.RunTime,
		s.AvgHR, s.MaxHR, s.MinHR, s.Steps, s.Ascent, s.Descent, s.Version, s.BindDevice)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ref turns a summary into a Ref; known is false for an unknown sport code.
func ref(s *zeppjson.Summary) (r source.Ref, known bool) {
	sport, known := workout.SportFromZepp(s.Type)
	r = source.Ref{
		ID: refID(s.TrackID, s.Source), Start: time.Unix(s.TrackID, 0).UTC(),
		Sport: sport, Fingerprint: Fingerprint(s),
	}
	sum := &r.Summary
	sum.Distance = pos(s.Distance)
	sum.Calories = pos(s.Calories)
	sum.Ascent, sum.Descent = pos(s.Ascent), pos(s.Descent)
	if s.EndTime > s.TrackID {
		sum.Elapsed = time.Duration(s.EndTime-s.TrackID) * time.Second
	}
	if s.RunTime > 0 {
		sum.Moving = time.Duration(s.RunTime) * time.Second
	}
	if s.AvgHR > 0 {
		sum.AvgHR = s.AvgHR
	}
	if s.MaxHR > 0 {
		sum.MaxHR = s.MaxHR
	}
	if s.Steps > 0 {
		sum.Steps = s.Steps
	}
	return r, known
}

// pos drops the negative sentinels (-1, -20000, …, §7.13).
func pos(v float64) float64 {
	if v > 0 {
		return v
	}
	return 0
}

// describe names a workout for people: "workout 2023-10-29 run (trackid 1698569116)".
func describe(trackID int64, sport workout.Sport) string {
	return fmt.Sprintf("workout %s %s (trackid %d)", time.Unix(trackID, 0).UTC().Format("2006-01-02"), sport, trackID)
}

// page is one decoded history page.
type page struct {
	next      int64
	summaries []zeppjson.Summary
}

// span returns the oldest and newest trackid on a page that is not empty.
func (p *page) span() (oldest, newest int64) {
	oldest, newest = p.summaries[0].TrackID, p.summaries[0].TrackID
	for _, s := range p.summaries {
		oldest, newest = min(oldest, s.TrackID), max(newest, s.TrackID)
	}
	return oldest, newest
}

// history fetches one history page; cursor 0 asks for the newest.
func (src *Source) history(ctx context.Context, cursor int64) (*page, error) {
	var q map[string]string
	if cursor > 0 {
		q = map[string]string{"trackid": strconv.FormatInt(cursor, 10)}
	}
	p := new(page)
	err := src.s.getData(ctx, api.PathHistory, q, func(data json.RawMessage) error {
		// zeppjson decodes the page with its {code,message,data} wrapper.
		wrapped := make([]byte, 0, len(data)+40)
		wrapped = append(wrapped, `{"code":1,"message":"success","data":`...)
		wrapped = append(append(wrapped, data...), '}')
		next, sums, err := zeppjson.DecodeHistory(wrapped)
		if err != nil {
			return errclass.Fatal(fmt.Errorf("read the Zepp history page: %w", err))
		}
		p.next, p.summaries = next, sums
		if n := int64(len(sums)); next > 0 && n > src.pageLen.Load() {
			src.pageLen.Store(n) // a page with a next one is full; racing stores differ little
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the Zepp history: %w", err)
	}
	return p, nil
}

// pending is a listed workout waiting to be yielded.
type pending struct {
	ref     source.Ref
	trackID int64
}

// List implements source.Source: history.json paged by the trackid cursor
// until next is -1 (§2.3), newest first. It stops paging once the workouts
// are older than since, de-duplicates repeats by ID (the cursor may be
// inclusive), and stops on a repeated or rising cursor or after PageLimit
// pages. Workouts sharing a start second are held back until the next page
// shows no more of them, so ties come out ordered by ID.
func (src *Source) List(ctx context.Context, since, until time.Time) iter.Seq2[source.Ref, error] {
	return func(yield func(source.Ref, error) bool) {
		var (
			cursor   int64
			held     []pending // the oldest start second of the last page
			emitted  bool
			low      int64               // trackid of the last yielded workout
			seenLow  = map[string]bool{} // IDs yielded at trackid low
			warned   = map[int]bool{}
			batch    []pending
			finished bool
		)
		emit := func(p pending) bool {
			if !since.IsZero() && p.ref.Start.Before(since) {
				finished = true
				return false
			}
			if !until.IsZero() && !p.ref.Start.Before(until) {
				return true
			}
			if err := ctx.Err(); err != nil {
				yield(source.Ref{}, err)
				return false
			}
			if p.trackID != low {
				clear(seenLow)
			}
			low, emitted, seenLow[p.ref.ID] = p.trackID, true, true
			return yield(p.ref, nil)
		}
		for pageNo := 0; ; pageNo++ {
			if pageNo >= src.s.o.PageLimit {
				src.s.warn("zepp: stopped listing after %d history pages", pageNo)
				break
			}
			p, err := src.history(ctx, cursor)
			if err != nil {
				yield(source.Ref{}, err)
				return
			}
			if pageNo == 0 && len(p.summaries) == 0 {
				src.warnEmpty()
			}
			batch = append(batch[:0], held...)
			inBatch := make(map[string]bool, len(held)+len(p.summaries))
			for _, h := range held {
				inBatch[h.ref.ID] = true
			}
			for i := range p.summaries {
				sum := &p.summaries[i]
				r, known := ref(sum)
				if inBatch[r.ID] || emitted && (sum.TrackID > low || sum.TrackID == low && seenLow[r.ID]) {
					continue // a repeat from an inclusive cursor
				}
				if !known && !warned[sum.Type] {
					warned[sum.Type] = true
					src.s.warn("zepp: %s has the unknown Zepp sport type %d; listed as %s", describe(sum.TrackID, r.Sport), sum.Type, r.Sport)
				}
				inBatch[r.ID] = true
				src.cache.put(r.ID, sum.Raw)
				batch = append(batch, pending{ref: r, trackID: sum.TrackID})
			}
			sort.Slice(batch, func(i, j int) bool {
				if batch[i].trackID != batch[j].trackID {
					return batch[i].trackID > batch[j].trackID
				}
				return batch[i].ref.ID < batch[j].ref.ID
			})
			stuck := p.next > 0 && cursor > 0 && p.next >= cursor
			if stuck {
				src.s.warn("zepp: the history cursor did not advance (%d after %d); stopping", p.next, cursor)
			}
			last := p.next <= 0 || len(p.summaries) == 0 || stuck
			hold := 0
			if !last && len(batch) > 0 {
				minT := batch[len(batch)-1].trackID
				for hold < len(batch) && batch[len(batch)-1-hold].trackID == minT {
					hold++
				}
			}
			for _, b := range batch[:len(batch)-hold] {
				if !emit(b) {
					return
				}
			}
			if finished {
				return
			}
			held = append(held[:0], batch[len(batch)-hold:]...)
			if last {
				return
			}
			cursor = p.next
		}
		for _, h := range held {
			if !emit(h) {
				return
			}
		}
	}
}

func (src *Source) warnEmpty() {
	src.s.mu.Lock()
	host := ""
	if src.s.rec != nil {
		host = src.s.rec.Host
	}
	src.s.mu.Unlock()
	if src.s.o.Host != "" {
		host = src.s.o.Host
	}
	src.s.warn("zepp: %s (region %s) returned no workouts; if you expected some, the account may live in another region: run bandsync auth zepp again to detect it", host, RegionOf(host))
}

// Fetch implements source.Source: detail.json with the summary's source
// (§3.1), decoded by zeppjson with the listed summary, the device model
// taken from bind_device. A workout gone from the history fails with
// errclass.ErrNotFound; an encrypted or stream-less detail with a permanent
// error naming the workout (ErrEncrypted, ErrEmptyDetail).
func (src *Source) Fetch(ctx context.Context, r source.Ref) (*workout.Workout, error) {
	trackID, dsrc, err := parseRefID(r.ID)
	if err != nil {
		return nil, err
	}
	name := describe(trackID, r.Sport)
	raw, err := src.summary(ctx, trackID, r.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	q := map[string]string{"trackid": strconv.FormatInt(trackID, 10), "source": dsrc}
	var detail json.RawMessage
	err = src.s.getData(ctx, api.PathDetail, q, func(data json.RawMessage) error {
		detail = data // part of a body read for this call alone
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch Zepp %s: %w", name, err)
	}
	switch detailKind(detail) {
	case detailEncrypted:
		return nil, errclass.Fatal(fmt.Errorf("%s: %w", name, ErrEncrypted))
	case detailEmpty:
		// A deleted workout and a wrong source look alike (§3.1): ask the
		// history whether the workout still exists.
		src.cache.drop(r.ID)
		if _, err := src.summary(ctx, trackID, r.ID); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, errclass.Fatal(fmt.Errorf("%s: Zepp sent a detail without streams for source %q: %w", name, dsrc, ErrEmptyDetail))
	}
	wo, err := zeppjson.Decode(raw, detail)
	if err != nil {
		if !json.Valid(detail) {
			// The envelope's fast check passes balanced but broken JSON:
			// a damaged answer, worth asking again.
			return nil, errclass.Retry(fmt.Errorf("decode Zepp %s: the answer is not valid JSON (damaged on the way?): %w", name, err), 0)
		}
		return nil, errclass.Fatal(fmt.Errorf("decode Zepp %s: %w", name, err))
	}
	wo.Origin = workout.Origin{Source: Name, ID: r.ID}
	sum, err := zeppjson.DecodeSummary(raw)
	if err == nil {
		if wo.Device.Model == "" {
			dev := zeppjson.DeviceModel(sum.BindDevice)
			if dev.Model != "" || wo.Device.Maker == "" {
				wo.Device = dev
			}
		}
		if _, known := workout.SportFromZepp(sum.Type); !known {
			note := fmt.Sprintf("unknown Zepp sport type %d (sport_mode %d), recorded as %s", sum.Type, sum.SportMode, wo.Sport)
			if !hasNoteAbout(wo.Notes, strconv.Itoa(sum.Type)) {
				wo.Notes = append(wo.Notes, note)
			}
		}
	}
	return wo, nil
}

func hasNoteAbout(notes []string, code string) bool {
	for _, n := range notes {
		if strings.Contains(n, "type "+code) {
			return true
		}
	}
	return false
}

// summary returns a workout's raw summary from the cache, else from a
// history page. Lookups take turns: workers fetching neighbours all miss
// at once, and the first one's page serves the others.
func (src *Source) summary(ctx context.Context, trackID int64, id string) ([]byte, error) {
	if raw, ok := src.cache.get(id); ok {
		return raw, nil
	}
	src.lookupMu.Lock()
	defer src.lookupMu.Unlock()
	if raw, ok := src.cache.get(id); ok {
		return raw, nil
	}
	return src.lookup(ctx, trackID, id)
}

// lookup finds a workout's raw summary in a history page and caches the
// whole page. A workout missing from the page that reaches down to it is
// gone: the error matches errclass.ErrNotFound.
//
// The syncer fetches oldest first (a caller going newest first gets pages
// from just above each workout), and history pages run from a cursor
// down. A page starting just above the workout would hold it and older
// ones, already fetched, so every Fetch would cost a page. So the page
// starts reach seconds above the workout: the last page's seconds per
// workout times most of a page. It then holds the workout and mostly the
// ones that come next. When that overshoots (the page ends above the
// workout, which is denser there than the last page), lookup asks again
// from just above the workout.
//
// The cursor is taken as "workouts at or before this trackid", which is how
// next behaves in every client cited (§2.3) [I].
//
// Called with lookupMu held.
func (src *Source) lookup(ctx context.Context, trackID int64, id string) ([]byte, error) {
	reach := src.reach
	if prev := src.lastLookup; prev != 0 && trackID < prev {
		reach = 0 // fetching newest first: the page below the workout is the useful one
	}
	src.lastLookup = trackID
	p, found, err := src.lookupFrom(ctx, trackID+max(reach, 1), id)
	if err == nil && found == nil && reach > 1 && len(p.summaries) > 0 {
		if oldest, _ := p.span(); oldest > trackID {
			p, found, err = src.lookupFrom(ctx, trackID+1, id)
		}
	}
	if err != nil {
		return nil, err
	}
	if n := int64(len(p.summaries)); n > 1 {
		oldest, newest := p.span()
		src.reach = max((newest-oldest)/(n-1)*src.pageLength()*4/5, 1)
	}
	if found == nil {
		return nil, errclass.Missing(errors.New("the workout is no longer in the Zepp history"))
	}
	return found, nil
}

// pageLength is the number of summaries a history page is taken to hold.
func (src *Source) pageLength() int64 {
	if n := src.pageLen.Load(); n > 0 {
		return n
	}
	return defaultPageLen
}

// defaultPageLen is the history page length Zepp's clients see (§2.2).
const defaultPageLen = 200

// lookupFrom fetches the history page at cursor, caches its summaries and
// returns the one of workout id, if there.
func (src *Source) lookupFrom(ctx context.Context, cursor int64, id string) (*page, []byte, error) {
	p, err := src.history(ctx, cursor)
	if err != nil {
		return nil, nil, err
	}
	var found []byte
	for i := range p.summaries {
		s := &p.summaries[i]
		sid := refID(s.TrackID, s.Source)
		src.cache.put(sid, s.Raw)
		if sid == id {
			found = bytes.Clone(s.Raw)
		}
	}
	return p, found, nil
}

type detailKindT uint8

const (
	detailOK detailKindT = iota
	detailEmpty
	detailEncrypted
)

// streamKeys are detail fields of which at least one is present in every
// real detail, GPS or not (§3.3).
var streamKeys = []string{"time", "longitude_latitude", "heart_rate", "gait", "speed", "distance", "pause", "altitude"}

// detailKind tells a usable detail from an encrypted one (a cipher_data
// field, §3.1) and from the ~30-byte answer to a wrong source.
func detailKind(detail []byte) detailKindT {
	kind := detailEmpty
	complete := members(detail, func(key, _ []byte) bool {
		if string(key) == "cipher_data" {
			kind = detailEncrypted
			return false
		}
		if slices.Contains(streamKeys, string(key)) {
			kind = detailOK
		}
		return true
	})
	if !complete {
		return detailEmpty
	}
	return kind
}

// summaryCacheSize bounds the raw summaries kept between List and Fetch:
// a little over two history pages (about 1 MB), whatever the history's length.
const summaryCacheSize = 512

// summaryCache keeps the most recently listed raw summaries, so that Fetch
// does not have to page through the history again.
type summaryCache struct {
	mu    sync.Mutex
	max   int
	m     map[string][]byte
	order []string // insertion order, oldest first (a ring)
	head  int
}

func newSummaryCache(n int) *summaryCache {
	return &summaryCache{max: n, m: make(map[string][]byte, n), order: make([]string, 0, n)}
}

func (c *summaryCache) put(id string, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; ok {
		c.m[id] = bytes.Clone(raw)
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, id)
	} else {
		delete(c.m, c.order[c.head])
		c.order[c.head] = id
		c.head = (c.head + 1) % c.max
	}
	c.m[id] = bytes.Clone(raw) // never keep the page buffer alive
}

func (c *summaryCache) get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[id]
	return b, ok
}

func (c *summaryCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Its ring slot stays until reused; should the ID be put again, that
	// slot's eviction may drop it early: a cache miss, nothing worse.
	delete(c.m, id)
}
