package zepp

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
	"github.com/bandsync/bandsync/internal/workout"
)

// fixtures are real history/detail responses (see fixtures/README.md).
//
//go:embed fixtures
var fixtures embed.FS

// Fixture is one real workout: a history.json summary entry and the data
// object of its detail.json, as Zepp sent them.
type Fixture struct {
	Name            string // "run_1698569116"
	Summary, Detail []byte
}

// Fixtures returns the real workouts the emulator serves with AddFixtures.
func Fixtures() []Fixture {
	var out []Fixture
	names, _ := fs.Glob(fixtures, "fixtures/zepp-fit-extractor/*_summary.json")
	for _, n := range names {
		base := strings.TrimSuffix(n, "_summary.json")
		sum, err1 := fixtures.ReadFile(n)
		det, err2 := fixtures.ReadFile(base + "_detail.json")
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Fixture{Name: strings.TrimPrefix(base, "fixtures/zepp-fit-extractor/"), Summary: sum, Detail: det})
	}
	return out
}

// entry is one stored workout.
type entry struct {
	trackID int64
	source  string
	summary []byte
	// detail returns the data object of detail.json; generated workouts
	// encode it on demand so that thousands of them stay cheap.
	detail    func() ([]byte, error)
	encrypted bool
}

func (s *Server) account(email string) (*account, error) {
	a, ok := s.accounts[strings.ToLower(email)]
	if !ok {
		return nil, fmt.Errorf("emulator: no account %s", email)
	}
	return a, nil
}

func (s *Server) addLocked(a *account, es ...*entry) {
	a.workouts = append(a.workouts, es...)
	sortEntries(a.workouts)
}

// AddRaw adds a workout from a summary entry and a detail data object as
// Zepp would send them, returning its trackid and source.
func (s *Server) AddRaw(email string, summary, detail []byte) (trackID int64, source string, err error) {
	sum, err := zeppjson.DecodeSummary(summary)
	if err != nil {
		return 0, "", fmt.Errorf("emulator: %w", err)
	}
	d := append([]byte(nil), detail...)
	e := &entry{trackID: sum.TrackID, source: sum.Source, summary: compact(summary), detail: func() ([]byte, error) { return d, nil }}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(email)
	if err != nil {
		return 0, "", err
	}
	s.addLocked(a, e)
	return e.trackID, e.source, nil
}

// AddFixtures adds the real workouts of Fixtures to the account.
func (s *Server) AddFixtures(email string) error {
	for _, f := range Fixtures() {
		if _, _, err := s.AddRaw(email, f.Summary, f.Detail); err != nil {
			return fmt.Errorf("fixture %s: %w", f.Name, err)
		}
	}
	return nil
}

// AddGenerated adds n generated workouts (GenerateOne(seed, 0…n-1)) encoded
// with zeppjson.Encode. Each detail is encoded again when asked for, so the
// server keeps only the summaries.
func (s *Server) AddGenerated(email string, n int, seed int64) error {
	es := make([]*entry, n)
	errs := make([]error, n)
	// Encoding thousands of workouts is the slow part of a big setup: spread it.
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				es[i], errs[i] = generatedEntry(seed, i)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(email)
	if err != nil {
		return err
	}
	s.addLocked(a, es...)
	return nil
}

func generatedEntry(seed int64, i int) (*entry, error) {
	wo := GenerateOne(seed, i)
	sum, err := zeppjson.EncodeSummary(&wo)
	if err != nil {
		return nil, fmt.Errorf("emulator: generated workout %d: %w", i, err)
	}
	meta, err := zeppjson.DecodeSummary(sum)
	if err != nil {
		return nil, fmt.Errorf("emulator: generated workout %d: %w", i, err)
	}
	return &entry{trackID: meta.TrackID, source: meta.Source, summary: sum, detail: func() ([]byte, error) {
		wo := GenerateOne(seed, i)
		_, det, err := encode(&wo)
		return det, err
	}}, nil
}

func (s *Server) find(email string, trackID int64, source string) (*account, int, error) {
	a, err := s.account(email)
	if err != nil {
		return nil, -1, err
	}
	for i, e := range a.workouts {
		if e.trackID == trackID && e.source == source {
			return a, i, nil
		}
	}
	return a, -1, fmt.Errorf("emulator: %s has no workout %d/%s", email, trackID, source)
}

// Delete removes a workout, as when a person deletes it in the app.
func (s *Server) Delete(email string, trackID int64, source string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, i, err := s.find(email, trackID, source)
	if err != nil {
		return err
	}
	a.workouts = append(a.workouts[:i], a.workouts[i+1:]...)
	return nil
}

// Touch changes a workout's data as a later sync with more detail would:
// its calories and end time grow by one.
func (s *Server) Touch(email string, trackID int64, source string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, i, err := s.find(email, trackID, source)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.workouts[i].summary, &m); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	for _, k := range []string{"calorie", "end_time"} {
		var n json.Number
		raw := strings.Trim(string(m[k]), `"`)
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			n = "0"
		}
		f, _ := n.Float64()
		m[k], _ = json.Marshal(strconv.FormatFloat(f+1, 'f', -1, 64)) // Zepp sends these as strings (§2.4)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	e := *a.workouts[i]
	e.summary = b
	a.workouts[i] = &e
	return nil
}

// Encrypt makes the workout's detail come back as cipher_data, as newer
// app builds may see it (§3.1, §7.7).
func (s *Server) Encrypt(email string, trackID int64, source string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, i, err := s.find(email, trackID, source)
	if err != nil {
		return err
	}
	e := *a.workouts[i]
	e.encrypted = true
	a.workouts[i] = &e
	return nil
}

// Workouts returns the trackid and source of the account's workouts,
// newest first.
func (s *Server) Workouts(email string) ([]WorkoutKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(email)
	if err != nil {
		return nil, err
	}
	out := make([]WorkoutKey, len(a.workouts))
	for i, e := range a.workouts {
		out[i] = WorkoutKey{TrackID: e.trackID, Source: e.source}
	}
	return out, nil
}

// WorkoutKey identifies a stored workout.
type WorkoutKey struct {
	TrackID int64
	Source  string
}

// authorize checks the data-call headers and the app token, answering the
// error itself when they fail.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (*account, bool) {
	if r.Header.Get(api.HeaderAppPlatform) == "" || r.Header.Get(api.HeaderAppName) == "" {
		writeJSON(w, http.StatusInternalServerError, api.Envelope{Code: api.CodeMissingHeaders, Message: "system error"}) // §7.6; Guess: the message.
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.appToks[r.Header.Get(api.HeaderAppToken)]
	if !ok || !s.o.Now().Before(t.expires) {
		data, _ := json.Marshal(api.ErrorData{Code: api.ErrCodeInvalidToken})
		writeJSON(w, s.o.InvalidTokenStatus, api.Envelope{Code: api.CodeInvalidToken, Message: "invalid token", Data: data})
		return nil, false
	}
	return s.accounts[t.email], true
}

// serves reports whether host holds a's data.
func serves(a *account, host string) bool {
	if host == a.Host {
		return true
	}
	for _, h := range a.AlsoServedBy {
		if h == host {
			return true
		}
	}
	return false
}

// handleHistory is GET /v1/sport/run/history.json (§2). Guess: the trackid
// cursor is inclusive (workouts at or before it) and next is the trackid of
// the first workout of the following page; the reference leaves this open
// and tells clients to de-duplicate (§2.3). Guess: a host that does not
// hold the account's data answers success with an empty list — the silent
// wrong-region failure of §7.5.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authorize(w, r)
	if !ok {
		return
	}
	host := s.host(r)
	cursor := int64(-1)
	if c := r.URL.Query().Get("trackid"); c != "" {
		v, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, api.Envelope{Code: -1, Message: "param error"}) // Guess.
			return
		}
		cursor = v
	}
	s.mu.Lock()
	var page []*entry
	next := int64(-1)
	if serves(a, host) {
		ws := a.workouts
		start := 0
		if cursor >= 0 {
			start = sort.Search(len(ws), func(i int) bool { return ws[i].trackID <= cursor })
		}
		end := min(start+s.o.PageSize, len(ws))
		page = ws[start:end]
		if end < len(ws) {
			next = ws[end].trackID
		}
	}
	s.mu.Unlock()
	b := make([]byte, 0, 64+len(page)*2400)
	b = append(b, `{"code":1,"message":"success","data":{"next":`...)
	b = strconv.AppendInt(b, next, 10)
	b = append(b, `,"summary":[`...)
	for i, e := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.summary...)
	}
	b = append(b, "]}}"...)
	writeRaw(w, http.StatusOK, b)
}

// handleDetail is GET /v1/sport/run/detail.json (§3). Guess: an unknown
// (trackid, source) pair — a wrong source, a deleted workout, a wrong
// region — gets the ~30-byte success answer the reference describes for a
// wrong source. Guess: an encrypted detail is {"cipher_data":"<base64>"}.
func (s *Server) handleDetail(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authorize(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	trackID, err := strconv.ParseInt(q.Get("trackid"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, api.Envelope{Code: -1, Message: "param error"}) // Guess.
		return
	}
	var e *entry
	s.mu.Lock()
	if serves(a, s.host(r)) {
		for _, x := range a.workouts {
			if x.trackID == trackID && x.source == q.Get("source") {
				e = x
				break
			}
		}
	}
	s.mu.Unlock()
	var data []byte
	switch {
	case e == nil:
		data = []byte(`{"trackid":"` + strconv.FormatInt(trackID, 10) + `","source":""}`)
	case e.encrypted:
		data = []byte(`{"trackid":"` + strconv.FormatInt(trackID, 10) + `","cipher_data":"q83vASNFZ4mrze8BI0VniQ=="}`)
	default:
		if data, err = e.detail(); err != nil {
			writeJSON(w, http.StatusInternalServerError, api.Envelope{Code: -1, Message: err.Error()})
			return
		}
	}
	b := make([]byte, 0, len(data)+48)
	b = append(b, `{"code":1,"message":"success","data":`...)
	b = append(append(b, data...), '}')
	writeRaw(w, http.StatusOK, b)
}

// compact strips the pretty-printing of a fixture so history pages look
// like the wire.
func compact(b []byte) []byte {
	var dst bytes.Buffer
	if err := json.Compact(&dst, b); err != nil {
		return append([]byte(nil), b...)
	}
	return dst.Bytes()
}

// encode is zeppjson.Encode, the Zepp wire form of a workout.
func encode(wo *workout.Workout) (summary, detail []byte, err error) {
	return zeppjson.Encode(wo)
}
