package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// csrfField is the form field every POST carries the token in.
const csrfField = "csrf"

// contentSecurityPolicy allows only this origin's scripts, styles and
// data (no inline script, no eval), images from here (and the tile server
// when one is configured), and no framing.
func (s *Server) contentSecurityPolicy() string {
	img := "'self' data:"
	if s.tileOrig != "" {
		img += " " + s.tileOrig
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// secure wraps every response: security headers, a Host check against
// DNS rebinding (loopback service only), basic auth when a password is
// set, and the CSRF check of every request that changes something.
func (s *Server) secure(next http.Handler) http.Handler {
	csp := s.contentSecurityPolicy()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !s.opt.AllowRemote && !loopbackHost(r.Host) {
			// A page elsewhere could point its own name at 127.0.0.1.
			http.Error(w, "the dashboard answers only to localhost and loopback addresses", http.StatusMisdirectedRequest)
			return
		}
		if s.opt.Password != "" && !s.authorized(r) {
			h.Set("WWW-Authenticate", `Basic realm="bandsync", charset="UTF-8"`)
			http.Error(w, "authorization required", http.StatusUnauthorized)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if !s.sameOrigin(r) || !s.validToken(r) {
				http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		default:
			h.Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return isLoopback(host)
}

// authorized checks basic auth in constant time (hashing first, so the
// lengths leak nothing either).
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hu, wu := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(s.opt.Username))
	hp, wp := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(s.opt.Password))
	u := subtle.ConstantTimeCompare(hu[:], wu[:])
	p := subtle.ConstantTimeCompare(hp[:], wp[:])
	return u&p == 1
}

func (s *Server) validToken(r *http.Request) bool {
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<16)
	got := r.PostFormValue(csrfField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// sameOrigin refuses a POST whose browser says it came from another site.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
