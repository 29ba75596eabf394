package zepp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	emu "github.com/bandsync/bandsync/internal/emulator/zepp"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/source"
	"github.com/bandsync/bandsync/internal/source/sourcetest"
	"github.com/bandsync/bandsync/internal/source/zepp"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

const (
	testEmail    = "runner@example.com"
	testPassword = "correct horse battery staple"
	homeHost     = "api-mifit-de2.huami.com"
)

// env is an emulator on loopback and the options that reach it.
type env struct {
	srv   *emu.Server
	url   string
	store *tokenstore.FileStore
	opts  zepp.Options
	log   *lines
}

// lines collects every log and warning line of a run.
type lines struct {
	mu   sync.Mutex
	logs []string
	warn []string
}

func (l *lines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, fmt.Sprintf(format, args...))
}

func (l *lines) warnf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warn = append(l.warn, fmt.Sprintf(format, args...))
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(append([]string(nil), l.logs...), l.warn...)
}

func (l *lines) warnings() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.warn, "\n")
}

func fastPacer() *pacer.Pacer {
	return pacer.New(pacer.Options{Rate: 10000, Burst: 100, Concurrency: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxTries: 5})
}

func newEnv(t testing.TB, eo emu.Options, accounts ...emu.Account) *env {
	t.Helper()
	srv := emu.New(eo)
	if len(accounts) == 0 {
		accounts = []emu.Account{{Email: testEmail, Password: testPassword, Host: homeHost}}
	}
	for _, a := range accounts {
		srv.AddAccount(a)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{srv: srv, url: hs.URL, store: &tokenstore.FileStore{Dir: t.TempDir()}, log: &lines{}}
	e.opts = zepp.Options{
		BaseURL: hs.URL, Store: e.store, Pacer: fastPacer(),
		Logf: e.log.logf, Warnf: e.log.warnf,
	}
	return e
}

func (e *env) login(t testing.TB) zepp.Account {
	t.Helper()
	acc, err := zepp.LoginPassword(context.Background(), e.opts, testEmail, testPassword, "DE")
	if err != nil {
		t.Fatalf("LoginPassword: %v", err)
	}
	return acc
}

func (e *env) source(t testing.TB) *zepp.Source {
	t.Helper()
	s, err := zepp.New(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stored returns the token record as the store holds it.
func (e *env) stored(t testing.TB) map[string]any {
	t.Helper()
	b, err := e.store.Get(context.Background(), "zepp")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withFixtures is newEnv with the real fixtures on the logged-in test
// account: the env, its source and what the source lists.
func withFixtures(t testing.TB) (*env, *zepp.Source, []source.Ref) {
	t.Helper()
	e := newEnv(t, emu.Options{})
	if err := e.srv.AddFixtures(testEmail); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	s := e.source(t)
	return e, s, listAll(t, s)
}

func listAll(t testing.TB, s source.Source) []source.Ref {
	t.Helper()
	var refs []source.Ref
	for r, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		refs = append(refs, r)
	}
	return refs
}

// mutator changes the emulator's data for the conformance suite.
type mutator struct{ srv *emu.Server }

func splitID(t *testing.T, id string) (int64, string) {
	var tid int64
	src := ""
	head, tail, _ := strings.Cut(id, ":")
	if _, err := fmt.Sscan(head, &tid); err != nil {
		t.Fatalf("ID %q: %v", id, err)
	}
	src = tail
	return tid, src
}

func (m mutator) Change(t *testing.T, r source.Ref) {
	tid, src := splitID(t, r.ID)
	if err := m.srv.Touch(testEmail, tid, src); err != nil {
		t.Fatal(err)
	}
}

func (m mutator) Remove(t *testing.T, r source.Ref) {
	tid, src := splitID(t, r.ID)
	if err := m.srv.Delete(testEmail, tid, src); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (source.Source, sourcetest.Fixture) {
		e := newEnv(t, emu.Options{PageSize: 7})
		if err := e.srv.AddFixtures(testEmail); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.AddGenerated(testEmail, 20, 1); err != nil {
			t.Fatal(err)
		}
		// Two workouts sharing a start second (two devices), across pages.
		f := emu.Fixtures()[0]
		sum := strings.Replace(string(f.Summary), `"source": "run.411.huami.com"`, `"source": "run.watch.huami.com"`, 1)
		if _, _, err := e.srv.AddRaw(testEmail, []byte(sum), f.Detail); err != nil {
			t.Fatal(err)
		}
		e.login(t)
		return e.source(t), sourcetest.Fixture{Mutator: mutator{e.srv}}
	})
}

// TestFixturesSameAsDirectDecode: the real responses served by the
// emulator come out of the client as decoding the files directly does.
func TestFixturesSameAsDirectDecode(t *testing.T) {
	_, s, refs := withFixtures(t)
	fixtures := emu.Fixtures()
	if len(refs) != len(fixtures) || len(fixtures) != 3 {
		t.Fatalf("listed %d workouts, have %d fixtures, want 3", len(refs), len(fixtures))
	}
	for _, f := range fixtures {
		want, err := zeppjson.Decode(f.Summary, f.Detail)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		sum, _ := zeppjson.DecodeSummary(f.Summary)
		var ref source.Ref
		for _, r := range refs {
			if r.Start.Unix() == sum.TrackID {
				ref = r
			}
		}
		if ref.ID != fmt.Sprintf("%d:%s", sum.TrackID, sum.Source) {
			t.Fatalf("%s: listed as %q", f.Name, ref.ID)
		}
		if ref.Summary.Distance != sum.Distance || ref.Summary.Calories != sum.Calories {
			t.Errorf("%s: ref summary %+v does not carry the summary's distance %g and calories %g", f.Name, ref.Summary, sum.Distance, sum.Calories)
		}
		got, err := s.Fetch(context.Background(), ref)
		if err != nil {
			t.Fatalf("Fetch %s: %v", f.Name, err)
		}
		want.Origin = got.Origin
		if got.Origin.Source != "zepp" || got.Origin.ID != ref.ID {
			t.Errorf("%s: origin %+v", f.Name, got.Origin)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: client result differs from direct decode (-direct +client):\n%s", f.Name, diff)
		}
		if len(got.Samples) == 0 {
			t.Errorf("%s: no samples", f.Name)
		}
	}
}

func TestPagingManyPages(t *testing.T) {
	e := newEnv(t, emu.Options{}) // 200 per page, as Zepp
	if err := e.srv.AddGenerated(testEmail, 650, 7); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	s := e.source(t)
	e.srv.ResetRequests()
	refs := listAll(t, s)
	if len(refs) != 650 {
		t.Fatalf("listed %d workouts, want 650", len(refs))
	}
	if n := e.srv.Requests(api.PathHistory); n != 4 {
		t.Errorf("history requests = %d, want 4 pages", n)
	}
	seen := map[string]bool{}
	for i, r := range refs {
		if seen[r.ID] {
			t.Fatalf("%s listed twice", r.ID)
		}
		seen[r.ID] = true
		if i > 0 && r.Start.After(refs[i-1].Start) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	// Fetch after a long listing: the oldest listed workout's summary must
	// still be found (cache or lookup) and its detail served.
	e.srv.ResetRequests()
	if _, err := s.Fetch(context.Background(), refs[0]); err != nil {
		t.Fatalf("Fetch newest after listing 650: %v", err)
	}
	if _, err := s.Fetch(context.Background(), refs[len(refs)-1]); err != nil {
		t.Fatalf("Fetch oldest: %v", err)
	}
}

func TestSinceStopsPaging(t *testing.T) {
	e := newEnv(t, emu.Options{PageSize: 10})
	if err := e.srv.AddGenerated(testEmail, 100, 3); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	s := e.source(t)
	all := listAll(t, s)
	e.srv.ResetRequests()
	since := all[14].Start
	n := 0
	for _, err := range s.List(context.Background(), since, time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 15 {
		t.Errorf("listed %d since the 15th newest, want 15", n)
	}
	if got := e.srv.Requests(api.PathHistory); got > 2 {
		t.Errorf("history requests = %d; paging should stop once older than since (want 2)", got)
	}
}

func TestDeletedBetweenListAndFetch(t *testing.T) {
	e, s, refs := withFixtures(t)
	tid, src := refs[1].Start.Unix(), strings.SplitN(refs[1].ID, ":", 2)[1]
	if err := e.srv.Delete(testEmail, tid, src); err != nil {
		t.Fatal(err)
	}
	_, err := s.Fetch(context.Background(), refs[1])
	if !errors.Is(err, errclass.ErrNotFound) {
		t.Fatalf("Fetch of deleted workout: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(tid)) {
		t.Errorf("error %q does not name the workout", err)
	}
}

func TestServerErrorBurstRetried(t *testing.T) {
	e, s, refs := withFixtures(t)
	e.srv.ResetRequests()
	e.srv.Inject(emu.Fault{Kind: emu.FaultStatus, Status: 500, Count: 3, Path: api.PathDetail})
	if _, err := s.Fetch(context.Background(), refs[0]); err != nil {
		t.Fatalf("Fetch through a burst of three 500s: %v", err)
	}
	if n := e.srv.Requests(api.PathDetail); n != 4 {
		t.Errorf("detail requests = %d, want 4 (3 failures + success)", n)
	}
	// 503 with Retry-After on the history is honoured and retried too.
	e.srv.Inject(emu.Fault{Kind: emu.FaultStatus, Status: 503, RetryAfter: time.Second, Path: api.PathHistory})
	start := time.Now()
	if got := listAll(t, s); len(got) != len(refs) {
		t.Fatalf("listed %d after a 503", len(got))
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 not honoured (retried after %v)", d)
	}
}

func TestResetAndShortBodyRetried(t *testing.T) {
	for _, kind := range []emu.FaultKind{emu.FaultReset, emu.FaultShortBody, emu.FaultTruncateJSON} {
		e := newEnv(t, emu.Options{})
		if err := e.srv.AddFixtures(testEmail); err != nil {
			t.Fatal(err)
		}
		e.login(t)
		s := e.source(t)
		e.srv.Inject(emu.Fault{Kind: kind, Count: 2})
		refs := listAll(t, s)
		if len(refs) != 3 {
			t.Fatalf("fault %d: listed %d", kind, len(refs))
		}
		e.srv.Inject(emu.Fault{Kind: kind, Path: api.PathDetail})
		if _, err := s.Fetch(context.Background(), refs[0]); err != nil {
			t.Fatalf("fault %d: Fetch: %v", kind, err)
		}
	}
}

func TestPersistentTruncationIsClearError(t *testing.T) {
	e, s, refs := withFixtures(t)
	e.srv.Inject(emu.Fault{Kind: emu.FaultTruncateJSON, Path: api.PathDetail, Count: 100})
	_, err := s.Fetch(context.Background(), refs[0])
	if err == nil {
		t.Fatal("Fetch succeeded through persistent truncation")
	}
	if !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "trackid") {
		t.Errorf("error %q should say the body was truncated and name the workout", err)
	}
	if errclass.ClassOf(err) != errclass.Retryable {
		t.Errorf("class %v, want retryable (a later run may succeed)", errclass.ClassOf(err))
	}
}

func TestExpiredAppTokenRenewed(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusOK} {
		e := newEnv(t, emu.Options{InvalidTokenStatus: status})
		if err := e.srv.AddFixtures(testEmail); err != nil {
			t.Fatal(err)
		}
		e.login(t)
		before := e.stored(t)["app_token"]
		e.srv.ExpireAppTokens()
		s := e.source(t)
		e.srv.ResetRequests()
		if got := listAll(t, s); len(got) != 3 {
			t.Fatalf("status %d: listed %d after expiry", status, len(got))
		}
		if n := e.srv.Requests(api.PathAppTokens); n != 1 {
			t.Errorf("status %d: app_tokens requests = %d, want 1 renewal", status, n)
		}
		after := e.stored(t)["app_token"]
		if after == before || after == "" {
			t.Errorf("status %d: the token store still holds the old app token", status)
		}
	}
}

func TestAppTokenRenewedBeforeExpiry(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := newEnv(t, emu.Options{Now: clock})
	if err := e.srv.AddFixtures(testEmail); err != nil {
		t.Fatal(err)
	}
	e.opts.Now = clock
	acc := e.login(t)
	if d := acc.AppTokenExpires.Sub(now); d < 29*24*time.Hour || d > 31*24*time.Hour || acc.ExpiryEstimated {
		t.Fatalf("app token expiry %v after login, want Zepp's 30 days", d)
	}
	now = now.Add(27 * 24 * time.Hour) // 3 days left
	e.srv.ResetRequests()
	s := e.source(t)
	listAll(t, s)
	if n := e.srv.Requests(api.PathAppTokens); n != 1 {
		t.Errorf("app_tokens requests = %d, want 1 renewal with 3 days left", n)
	}
	st, err := zepp.Status(context.Background(), e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if !st.AppTokenExpires.After(now.Add(29 * 24 * time.Hour)) {
		t.Errorf("expiry after renewal = %v", st.AppTokenExpires)
	}
}

func TestPastedTokenExpiredNeedsReAuth(t *testing.T) {
	e := newEnv(t, emu.Options{})
	if err := e.srv.AddFixtures(testEmail); err != nil {
		t.Fatal(err)
	}
	tok, _ := e.srv.IssueAppToken(testEmail)
	acc, err := zepp.LoginAppToken(context.Background(), e.opts, tok)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Method != zepp.MethodAppToken || !acc.ExpiryEstimated || acc.Renewable() {
		t.Errorf("account %+v", acc)
	}
	e.srv.ExpireAppTokens()
	var err2 error
	for _, err := range e.source(t).List(context.Background(), time.Time{}, time.Time{}) {
		err2 = err
	}
	if !errors.Is(err2, errclass.ErrReAuth) || !strings.Contains(errclass.HintOf(err2), "apptoken") {
		t.Fatalf("expired pasted token: %v (hint %q), want ReAuth with the apptoken hint", err2, errclass.HintOf(err2))
	}
}

func TestLoginTakesRegionFromResponse(t *testing.T) {
	e := newEnv(t, emu.Options{}, emu.Account{Email: testEmail, Password: testPassword, Host: "api-mifit-us3.zepp.com", Country: "US", Region: "us-west-2"})
	if err := e.srv.AddFixtures(testEmail); err != nil {
		t.Fatal(err)
	}
	acc := e.login(t)
	if acc.Host != "api-mifit-us3.zepp.com" || acc.Region != "us3" || acc.Email != testEmail || acc.UserID == "" {
		t.Fatalf("account %+v", acc)
	}
	if got := listAll(t, e.source(t)); len(got) != 3 {
		t.Fatalf("listed %d", len(got))
	}
}

func TestWrongRegionDetected(t *testing.T) {
	e := newEnv(t, emu.Options{},
		emu.Account{Email: testEmail, Password: testPassword, Host: "api-mifit-sg2.huami.com"},
		emu.Account{Email: "empty@example.com", Password: "x", Host: "api-mifit-us2.huami.com"})
	if err := e.srv.AddGenerated(testEmail, 5, 2); err != nil {
		t.Fatal(err)
	}
	tok, _ := e.srv.IssueAppToken(testEmail)
	acc, err := zepp.LoginAppToken(context.Background(), e.opts, tok)
	if err != nil {
		t.Fatal(err)
	}
	// Every other host answered "success" with an empty list.
	if acc.Host != "api-mifit-sg2.huami.com" || acc.Region != "sg2" || acc.Note != "" {
		t.Fatalf("picked %s (%s), note %q; want the host holding the data", acc.Host, acc.Region, acc.Note)
	}
	if got := listAll(t, e.source(t)); len(got) != 5 {
		t.Fatalf("listed %d, want 5", len(got))
	}

	// An account without any workout: say so and name the region used.
	e2 := newEnv(t, emu.Options{}, emu.Account{Email: "empty@example.com", Password: "x", Host: "api-mifit-us2.huami.com"})
	tok2, _ := e2.srv.IssueAppToken("empty@example.com")
	acc2, err := zepp.LoginAppToken(context.Background(), e2.opts, tok2)
	if err != nil {
		t.Fatal(err)
	}
	if acc2.Note == "" || !strings.Contains(acc2.Note, acc2.Region) || !strings.Contains(e2.log.warnings(), "no Zepp region") {
		t.Errorf("empty account: note %q, warnings %q; want a note naming the region", acc2.Note, e2.log.warnings())
	}
	// Listing an empty region warns too.
	listAll(t, e2.source(t))
	if !strings.Contains(e2.log.warnings(), "returned no workouts") {
		t.Errorf("no warning about an empty listing: %q", e2.log.warnings())
	}
}

func TestBadAppToken(t *testing.T) {
	e := newEnv(t, emu.Options{})
	_, err := zepp.LoginAppToken(context.Background(), e.opts, strings.Repeat("f", 40))
	if !errors.Is(err, errclass.ErrReAuth) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("refused token: %v", err)
	}
	_, err = zepp.LoginAppToken(context.Background(), e.opts, "short")
	if errclass.ClassOf(err) != errclass.Usage {
		t.Fatalf("malformed token: %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	e := newEnv(t, emu.Options{},
		emu.Account{Email: testEmail, Password: testPassword},
		emu.Account{Email: "captcha@example.com", Password: "pw", Captcha: true},
		emu.Account{Email: "2fa@example.com", Password: "pw", SecondFactor: true},
		emu.Account{Email: "locked@example.com", Password: "pw", Locked: true},
		emu.Account{Email: "disabled@example.com", Password: "pw", Disabled: true},
		emu.Account{Email: "apple@example.com", Password: "pw", NoPassword: true},
	)
	cases := []struct {
		email, password string
		want            error
		msg             string
	}{
		{testEmail, "wrong", zepp.ErrWrongPassword, "wrong password"},
		{"nobody@example.com", "pw", zepp.ErrUnknownAccount, "no Zepp account"},
		{"captcha@example.com", "pw", zepp.ErrCaptcha, "captcha"},
		{"2fa@example.com", "pw", zepp.ErrSecondFactor, "second factor"},
		{"locked@example.com", "pw", zepp.ErrLocked, "locked"},
		{"disabled@example.com", "pw", zepp.ErrLocked, "0115"},
		{"apple@example.com", "pw", zepp.ErrUnknownAccount, "0117"},
	}
	msgs := map[string]bool{}
	for _, c := range cases {
		_, err := zepp.LoginPassword(context.Background(), e.opts, c.email, c.password, "")
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.email, err, c.want)
			continue
		}
		if !errors.Is(err, errclass.ErrReAuth) {
			t.Errorf("%s: class %v, want re-auth (exit 4)", c.email, errclass.ClassOf(err))
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: message %q lacks %q", c.email, err, c.msg)
		}
		if h := errclass.HintOf(err); !strings.Contains(h, "--app-token-stdin") || !strings.Contains(h, "privacy2") {
			t.Errorf("%s: hint %q does not explain the app-token way", c.email, h)
		}
		msgs[err.Error()] = true
	}
	if len(msgs) != len(cases) {
		t.Errorf("login failures share messages: %d distinct for %d cases", len(msgs), len(cases))
	}
	if _, err := e.store.Get(context.Background(), "zepp"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("a failed login stored something: %v", err)
	}
	// Ten wrong passwords lock the account.
	var err error
	for range 10 {
		_, err = zepp.LoginPassword(context.Background(), e.opts, testEmail, "wrong", "")
	}
	if !errors.Is(err, zepp.ErrLocked) {
		t.Errorf("after 10 failures: %v, want ErrLocked", err)
	}
}

func TestUnrecognisedLoginResponse(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"html":      func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>new login page</html>")) },
		"no access": func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true,"redirectUri":"x"}`)) },
		"teapot":    func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(418) },
	} {
		hs := httptest.NewServer(h)
		opts := zepp.Options{BaseURL: hs.URL, Store: &tokenstore.FileStore{Dir: t.TempDir()}, Pacer: fastPacer()}
		_, err := zepp.LoginPassword(context.Background(), opts, testEmail, testPassword, "")
		hs.Close()
		if !errors.Is(err, zepp.ErrUnrecognised) || !errors.Is(err, errclass.ErrReAuth) || !strings.Contains(errclass.HintOf(err), "--app-token-stdin") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStatusAndLogout(t *testing.T) {
	e := newEnv(t, emu.Options{})
	if _, err := zepp.Status(context.Background(), e.opts); !errors.Is(err, zepp.ErrNotLinked) || !errors.Is(err, errclass.ErrReAuth) {
		t.Fatalf("Status before login: %v", err)
	}
	acc := e.login(t)
	st, err := zepp.Status(context.Background(), e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(acc, st); diff != "" || st.Host != homeHost || !st.Renewable() {
		t.Errorf("Status %+v, login said %+v", st, acc)
	}
	if err := zepp.Logout(context.Background(), e.opts); err != nil {
		t.Fatal(err)
	}
	if _, err := zepp.Status(context.Background(), e.opts); !errors.Is(err, zepp.ErrNotLinked) {
		t.Fatalf("Status after logout: %v", err)
	}
}

func TestUnknownSportKeptAsOther(t *testing.T) {
	e := newEnv(t, emu.Options{})
	f := emu.Fixtures()[0]
	sum := strings.Replace(string(f.Summary), `"type": 1,`, `"type": 999,`, 1)
	if sum == string(f.Summary) {
		t.Fatal("fixture has no type 1")
	}
	if _, _, err := e.srv.AddRaw(testEmail, []byte(sum), f.Detail); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	s := e.source(t)
	refs := listAll(t, s)
	if len(refs) != 1 || refs[0].Sport.String() != "other" {
		t.Fatalf("refs %+v", refs)
	}
	if !strings.Contains(e.log.warnings(), "999") {
		t.Errorf("no warning names the code: %q", e.log.warnings())
	}
	w, err := s.Fetch(context.Background(), refs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(w.Notes, "\n"), "999") {
		t.Errorf("no note names the unknown code: %q", w.Notes)
	}
}

func TestEncryptedDetailIsClearError(t *testing.T) {
	e, s, refs := withFixtures(t)
	tid, src := refs[0].Start.Unix(), strings.SplitN(refs[0].ID, ":", 2)[1]
	if err := e.srv.Encrypt(testEmail, tid, src); err != nil {
		t.Fatal(err)
	}
	_, err := s.Fetch(context.Background(), refs[0])
	if !errors.Is(err, zepp.ErrEncrypted) || errclass.ClassOf(err) != errclass.Permanent {
		t.Fatalf("encrypted detail: %v", err)
	}
	for _, want := range []string{"cipher_data", fmt.Sprint(tid), refs[0].Start.Format("2006-01-02")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := s.Fetch(context.Background(), refs[1]); err != nil {
		t.Errorf("the other workouts still fetch: %v", err)
	}
}

// TestNoSecretsInOutput runs logins, listings, fetches, renewals and
// failures, collecting every log line and error string, and checks that no
// token or password appears in any of them.
func TestNoSecretsInOutput(t *testing.T) {
	e := newEnv(t, emu.Options{})
	if err := e.srv.AddFixtures(testEmail); err != nil {
		t.Fatal(err)
	}
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), errclass.HintOf(err), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	_, err := zepp.LoginPassword(context.Background(), e.opts, testEmail, testPassword+"x", "")
	note(err)
	e.login(t)
	secrets := []string{testPassword}
	rec := e.stored(t)
	secrets = append(secrets, rec["app_token"].(string), rec["login_token"].(string))

	s := e.source(t)
	refs := listAll(t, s)
	e.srv.ExpireAppTokens()
	e.srv.Inject(emu.Fault{Kind: emu.FaultReset, Count: 2})
	for _, r := range refs {
		_, err := s.Fetch(context.Background(), r)
		note(err)
	}
	secrets = append(secrets, e.stored(t)["app_token"].(string))
	e.srv.ExpireAppTokens()
	e.srv.ExpireLoginTokens()
	for _, err := range s.List(context.Background(), time.Time{}, time.Time{}) {
		note(err)
	}
	e.srv.Inject(emu.Fault{Kind: emu.FaultTruncateJSON, Count: 100})
	_, err = zepp.LoginAppToken(context.Background(), e.opts, secrets[1])
	note(err)
	e.srv.ClearFaults()
	_, err = zepp.LoginAppToken(context.Background(), e.opts, secrets[1])
	note(err)
	if len(errs) < 3 {
		t.Fatalf("the run produced only %d errors; the test exercises too little", len(errs))
	}
	out := strings.Join(append(e.log.all(), errs...), "\n")
	if len(e.log.all()) < 10 {
		t.Fatalf("only %d log lines", len(e.log.all()))
	}
	for i, sec := range secrets {
		if sec == "" {
			t.Fatalf("secret %d is empty", i)
		}
		if strings.Contains(out, sec) {
			t.Errorf("secret %d appears in the output", i)
		}
	}
}

// A 403 from a data host means the wrong region, not a refused login: it is
// not a re-auth error, and its hint says what to do about the region.
func TestForbiddenSaysRegion(t *testing.T) {
	e, s, refs := withFixtures(t)
	e.srv.Inject(emu.Fault{Kind: emu.FaultStatus, Status: 403, Count: 1, Path: api.PathDetail})
	_, err := s.Fetch(context.Background(), refs[0])
	if err == nil || errors.Is(err, errclass.ErrReAuth) {
		t.Fatalf("403: %v; want a permanent error, not re-auth", err)
	}
	if h := errclass.HintOf(err); !strings.Contains(h, "region") {
		t.Fatalf("hint %q does not mention the region", h)
	}
}

// oldestFirst is a logged-in emulator with n generated workouts, listed
// and sorted oldest first.
func oldestFirst(t *testing.T, n int) (*env, []source.Ref) {
	t.Helper()
	e := newEnv(t, emu.Options{})
	if err := e.srv.AddGenerated(testEmail, n, 7); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	refs := listAll(t, e.source(t))
	slices.SortFunc(refs, func(a, b source.Ref) int { return a.Start.Compare(b.Start) })
	return e, refs
}

// A fresh process fetching a long history oldest first (a resumed
// backfill: the listing is in the ledger, not in the cache) costs a
// history page per page of workouts, not one per workout; a workout
// deleted in the middle is still reported missing.
func TestFetchOldestFirstPagesForward(t *testing.T) {
	const n = 1000
	e, refs := oldestFirst(t, n)
	gone := refs[n/2]
	if err := e.srv.Delete(testEmail, gone.Start.Unix(), strings.SplitN(gone.ID, ":", 2)[1]); err != nil {
		t.Fatal(err)
	}
	s := e.source(t) // empty summary cache
	e.srv.ResetRequests()
	for i, r := range refs {
		_, err := s.Fetch(context.Background(), r)
		if i == n/2 {
			if !errors.Is(err, errclass.ErrNotFound) {
				t.Fatalf("Fetch of the deleted workout: %v, want ErrNotFound", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Fetch %d: %v", i, err)
		}
	}
	// A page holds 200; lookup aims at about 4/5 of a page ahead.
	if got := e.srv.Requests(api.PathHistory); got > n/100 {
		t.Errorf("%d history requests to fetch %d workouts oldest first, want at most %d", got, n, n/100)
	}
}

// Four workers fetching oldest first miss the cache together at each page
// boundary; one history page serves them all.
func TestConcurrentFetchSharesLookups(t *testing.T) {
	const n = 1000
	e, refs := oldestFirst(t, n)
	s := e.source(t)
	e.srv.ResetRequests()
	if err := fetchAll(s, refs, 4); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Requests(api.PathHistory); got > n/100 {
		t.Errorf("%d history requests for %d workouts fetched by 4 workers, want at most %d", got, n, n/100)
	}
}

// A detail whose brackets balance but whose JSON is broken (damaged on the
// way) passes the envelope's fast check; failing to decode it is worth a
// retry, not a permanent failure.
func TestDamagedDetailIsRetryable(t *testing.T) {
	e := newEnv(t, emu.Options{})
	f := emu.Fixtures()[0]
	if _, _, err := e.srv.AddRaw(testEmail, f.Summary, []byte(`{"trackid":"1","time":"1,2;1,2","heart_rate":tru}`)); err != nil {
		t.Fatal(err)
	}
	e.login(t)
	s := e.source(t)
	refs := listAll(t, s)
	if len(refs) != 1 {
		t.Fatalf("refs %+v", refs)
	}
	_, err := s.Fetch(context.Background(), refs[0])
	if errclass.ClassOf(err) != errclass.Retryable {
		t.Fatalf("Fetch of a damaged detail: %v (class %v), want retryable", err, errclass.ClassOf(err))
	}
}
