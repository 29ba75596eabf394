package zepp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// DataHosts are the regional data hosts probed for an account whose host is
// not known, in order of preference (§1.8, §8.2). The unqualified hosts come
// first because they serve many accounts.
var DataHosts = []string{
	"api-mifit.huami.com",
	"api-mifit.zepp.com",
	"api-mifit-de2.huami.com",
	"api-mifit-us2.huami.com",
	"api-mifit-us3.zepp.com",
	"api-mifit-sg2.huami.com",
	"api-mifit-ru.huami.com",
	"api-mifit-cn3.huami.com",
}

// awsRegionHosts maps the AWS region of a login (regist_info.region or the
// tokens redirect) to its data host when the response names no domains
// (§1.8 "How to pick the data host" 2; regions other than these two are not
// documented, so they fall back to probing).
var awsRegionHosts = map[string]string{
	"eu-central-1": "api-mifit-de2.huami.com",
	"us-west-2":    "api-mifit-us2.huami.com",
}

// RegionOf names the region of a data host for people: "de2" for
// api-mifit-de2.huami.com, "global" for the unqualified hosts.
func RegionOf(host string) string {
	name, _, _ := strings.Cut(host, ".")
	if r, ok := strings.CutPrefix(name, "api-mifit-"); ok && r != "" {
		return r
	}
	if name == "api-mifit" {
		return "global"
	}
	return host
}

// hostFromLogin picks the data host a login response points at: the first
// cname of the api-mifit domain, else that domain, else the host of the AWS
// region; "" when the response says nothing usable.
func hostFromLogin(r *api.LoginResponse, redirectRegion string) string {
	for _, d := range r.Domains {
		if !strings.Contains(d.Host, "api-mifit") {
			continue
		}
		for _, c := range d.Cnames {
			if strings.Contains(c, "api-mifit") {
				return c
			}
		}
	}
	if h := awsRegionHosts[r.RegistInfo.Region]; h != "" {
		return h
	}
	if h := awsRegionHosts[redirectRegion]; h != "" {
		return h
	}
	for _, d := range r.Domains {
		if strings.Contains(d.Host, "api-mifit") {
			return d.Host
		}
	}
	return ""
}

// probeResult is what one data host said about an app token.
type probeResult struct {
	host    string
	ok      bool  // code 1
	count   int   // summaries on the first page
	newest  int64 // greatest trackid on the first page
	refused bool  // the token was refused there
	err     error
}

// probe asks every host in hosts for the first history page with token and
// picks the one holding the account's data. A wrong region often answers
// "success" with an empty list (§7.5), so a host with workouts wins over a
// host without; among hosts with workouts, the one with the newest workout
// (the cluster of the active band). note says what was decided when no host
// had data.
func (s *session) probe(ctx context.Context, token string, hosts []string) (host, note string, err error) {
	results := make([]probeResult, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.probeHost(ctx, token, h)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return "", "", ctx.Err()
	}
	best := -1
	firstOK := -1
	refused := 0
	var firstErr error
	for i, r := range results {
		switch {
		case r.ok && firstOK < 0:
			firstOK = i
		case r.refused:
			refused++
		case !r.ok && firstErr == nil:
			firstErr = r.err
		}
		if r.ok && r.count > 0 && (best < 0 || r.newest > results[best].newest) {
			best = i
		}
		if s.logf != nil {
			s.logf("zepp: region probe %s: ok=%t workouts=%d refused=%t", r.host, r.ok, r.count, r.refused)
		}
	}
	switch {
	case best >= 0:
		return results[best].host, "", nil
	case firstOK >= 0:
		h := results[firstOK].host
		return h, fmt.Sprintf("no Zepp region returned any workout for this account; using %s (region %s)", h, RegionOf(h)), nil
	case refused == len(results):
		return "", "", errclass.Auth(errors.New("every Zepp regional host refused the app token (expired, revoked or mistyped)"), hintAppToken)
	case firstErr != nil:
		return "", "", fmt.Errorf("find the account's Zepp region: %w", firstErr)
	}
	return "", "", errclass.Auth(errors.New("no Zepp regional host accepted the app token"), hintAppToken)
}

func (s *session) probeHost(ctx context.Context, token, host string) probeResult {
	r := probeResult{host: host}
	c := dataCall(token, host, api.PathHistory, nil)
	c.handle = func(status int, h http.Header, body []byte) error {
		data, err := decodeEnvelope(c.what(), status, h, body)
		if err != nil {
			return err
		}
		var hd api.HistoryData
		if err := json.Unmarshal(data, &hd); err != nil {
			return errclass.Retry(fmt.Errorf("%s: history page: %w", c.what(), err), 0)
		}
		r.count = len(hd.Summary)
		for _, raw := range hd.Summary {
			if sum, err := zeppjson.DecodeSummary(raw); err == nil && sum.TrackID > r.newest {
				r.newest = sum.TrackID
			}
		}
		return nil
	}
	err := s.c.do(ctx, c)
	var de *dataError
	switch {
	case err == nil:
		r.ok = true
	case errors.As(err, &de) && de.tokenRefused, errclass.ClassOf(err) == errclass.ReAuth:
		r.refused = true
	default:
		r.err = err
	}
	return r
}

// dataCall is a GET to a data endpoint with the three headers of §2.1.
func dataCall(token, host, path string, q map[string]string) *call {
	c := &call{method: http.MethodGet, host: host, path: path, header: http.Header{}}
	c.header.Set(api.HeaderAppToken, token)
	c.header.Set(api.HeaderAppPlatform, api.DataAppPlatform)
	c.header.Set(api.HeaderAppName, api.DataAppName)
	if len(q) > 0 {
		c.query = map[string][]string{}
		for k, v := range q {
			c.query.Set(k, v)
		}
	}
	return c
}
