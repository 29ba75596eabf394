package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/config"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/oauth"
	"github.com/bandsync/bandsync/internal/pacer"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/archive"
	"github.com/bandsync/bandsync/internal/sink/strava"
	"github.com/bandsync/bandsync/internal/source/zepp"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// This file builds providers from the configuration: the one place where
// settings, environment and stored credentials meet the packages.

// stravaAppName is where the Strava API app's credentials given to
// `auth strava` are kept, so later runs can refresh tokens.
const stravaAppName = "strava-app"

// stravaApp is the person's own Strava API application.
type stravaApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (f *Factory) tokens() (tokenstore.Store, error) {
	c, err := f.Config()
	if err != nil {
		return nil, err
	}
	return tokenstore.Open(tokenstore.Kind(c.TokenStore), c.DataDir)
}

// stravaOAuth returns the OAuth client: the app's ID and secret from flags
// (given), the config or environment, or what `auth strava` stored.
func (f *Factory) stravaOAuth(ctx context.Context, given stravaApp) (oauth.Config, error) {
	c, err := f.Config()
	if err != nil {
		return oauth.Config{}, err
	}
	app := given
	if app.ClientID == "" {
		app.ClientID = c.Strava.ClientID
	}
	if app.ClientSecret == "" {
		app.ClientSecret = c.Strava.ClientSecret
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		if ts, err := f.tokens(); err == nil {
			if b, err := ts.Get(ctx, stravaAppName); err == nil {
				var stored stravaApp
				if json.Unmarshal(b, &stored) == nil {
					if app.ClientID == "" {
						app.ClientID = stored.ClientID
					}
					if app.ClientSecret == "" && stored.ClientID == app.ClientID {
						app.ClientSecret = stored.ClientSecret
					}
				}
			}
		}
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return oauth.Config{}, errclass.Auth(errors.New("no Strava API app is configured"),
			"create one at https://www.strava.com/settings/api (see the README), then run: bandsync auth strava --client-id ID --client-secret-stdin")
	}
	ep, err := oauth.StravaEndpoint(c.Strava.URL)
	if err != nil {
		return oauth.Config{}, usageErr(fmt.Errorf("strava url: %w", err))
	}
	return oauth.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, Endpoint: ep}, nil
}

// errDemoData stops the tokens of a finished demo from reaching the real
// services.
func (f *Factory) errDemoData(c *config.Config, url string) error {
	if url == "" && !f.local && isDemoDir(c.DataDir) {
		return errclass.Usagef("%s holds a demo's data, whose emulated Strava and Zepp stopped with the demo: run bandsync demo --serve to look at it, or use another --data-dir for your own accounts", c.DataDir)
	}
	return nil
}

// stravaSink builds the Strava sink over the stored tokens.
func (f *Factory) stravaSink(ctx context.Context) (*strava.Sink, error) {
	c, err := f.Config()
	if err != nil {
		return nil, err
	}
	if err := f.errDemoData(c, c.Strava.URL); err != nil {
		return nil, err
	}
	cfg, err := f.stravaOAuth(ctx, stravaApp{})
	if err != nil {
		return nil, err
	}
	store, err := f.tokens()
	if err != nil {
		return nil, err
	}
	if _, err := oauth.Load(ctx, store, oauth.DefaultTokenName, oauth.DefaultReAuthHint); err != nil {
		return nil, err
	}
	ts := oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{})
	opt := strava.DefaultOptions()
	opt.BaseURL = c.Strava.URL
	opt.HTTPClient = ts.Client(transport)
	opt.ZeppLink = c.Strava.ZeppLink
	opt.IndoorRide = c.Strava.IndoorRide
	opt.BackfillMute = c.Strava.BackfillMute
	opt.GearID = c.Strava.GearID
	opt.LegacyIdentity = c.Strava.LegacyIdentity
	if f.local || isLoopback(c.Strava.URL) {
		opt.Pacer = localPacer()
	}
	return strava.New(opt)
}

// archiveSink builds the archive sink (DATA_DIR/archive unless configured).
func (f *Factory) archiveSink() (*archive.Archive, error) {
	c, err := f.Config()
	if err != nil {
		return nil, err
	}
	dir := c.Archive.Path
	if dir == "" {
		dir = filepath.Join(c.DataDir, "archive")
	}
	var formats []archive.Format
	for _, s := range c.Archive.Formats {
		fm, err := archive.ParseFormat(s)
		if err != nil {
			return nil, usageErr(err)
		}
		formats = append(formats, fm)
	}
	return archive.New(archive.Options{Dir: dir, Formats: formats, FIT: fit.EncodeOptions{LegacyZeppIdentity: c.Strava.LegacyIdentity}})
}

// transport is the connection pool of the Zepp and Strava clients. Go's
// default keeps two idle connections per host, fewer than the workers
// that fetch and upload at once, so it would close a connection after
// most requests and open (against the real services: handshake) another
// for the next.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}()

// zeppOptions are the Zepp client's options; warn receives what a person
// should know.
func (f *Factory) zeppOptions(warn func(string)) (zepp.Options, error) {
	c, err := f.Config()
	if err != nil {
		return zepp.Options{}, err
	}
	if err := f.errDemoData(c, c.Zepp.URL); err != nil {
		return zepp.Options{}, err
	}
	store, err := f.tokens()
	if err != nil {
		return zepp.Options{}, err
	}
	o := zepp.Options{BaseURL: c.Zepp.URL, Store: store, HTTPClient: &http.Client{Transport: transport, Timeout: 60 * time.Second}}
	if f.local || isLoopback(c.Zepp.URL) {
		o.Pacer = localPacer()
	}
	if warn != nil {
		o.Warnf = func(format string, args ...any) { warn(fmt.Sprintf(format, args...)) }
	}
	return o, nil
}

// sinks builds the sinks named (default: every configured one: Strava when
// authorized, and the archive).
func (f *Factory) sinks(ctx context.Context, names []string) ([]sink.Sink, error) {
	auto := len(names) == 0
	if auto {
		names = []string{"strava", "archive"}
	}
	var out []sink.Sink
	for _, n := range names {
		switch strings.ToLower(n) {
		case "strava":
			s, err := f.stravaSink(ctx)
			if err != nil {
				if auto && errclass.ClassOf(err) == errclass.ReAuth && !f.stravaLinked(ctx) {
					// Not set up: archive only, and say so.
					fmt.Fprintln(f.IO.ErrOut, "note: Strava is not linked, so workouts go to the archive only (bandsync auth strava links it)")
					continue
				}
				return nil, err
			}
			out = append(out, s)
		case "archive":
			a, err := f.archiveSink()
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		default:
			return nil, errclass.Usagef("unknown sink %q: use strava or archive", n)
		}
	}
	return out, nil
}

// stravaLinked reports whether `auth strava` ever stored a token.
func (f *Factory) stravaLinked(ctx context.Context) bool {
	ts, err := f.tokens()
	if err != nil {
		return false
	}
	_, err = ts.Get(ctx, oauth.DefaultTokenName)
	return err == nil
}

// isLoopback reports whether a configured service URL is on this machine:
// an emulator or a test server, which needs none of the pacing that is
// owed to the real services.
func isLoopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localPacer paces calls to emulators on this machine: no politeness
// delay, still a bound on calls in flight and the same retries.
func localPacer() *pacer.Pacer {
	return pacer.New(pacer.Options{Rate: 1e6, Burst: 1000, Concurrency: 8, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})
}
