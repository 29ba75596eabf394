package zepp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// maxAttempts is the lock-out threshold of the tokens step (§1.3).
const maxAttempts = 10

const redirectBase = "https://s3-us-west-2.amazonaws.com/hm-registration/successsignin.html"

// redirect answers the tokens step with a 303 whose Location query carries
// the outcome, as the form flow does (§1.3 step B1).
func redirect(w http.ResponseWriter, q url.Values) {
	q.Set("state", "REDIRECTION")
	w.Header().Set("Location", redirectBase+"?"+q.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// handleTokens is POST /registrations/{email}/tokens (§1.3b step 1).
//
// Success follows the reference (json_response=true → 200 JSON with access).
// Guess: failures are answered as the redirect form documents them
// (error=401 for a wrong password, error=401 plus region for an unknown
// account, attempts/max_attempts near a lock), because how Zepp phrases
// them in JSON is not documented. Guess: a captcha or second-factor demand
// is a 200 JSON body with captchaUrl or notificationUrl, the names Xiaomi's
// login uses (§1.5).
func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	email, err := url.PathUnescape(r.PathValue("email"))
	if err != nil || r.ParseForm() != nil || r.PostForm.Get("client_id") != "HuaMi" ||
		!strings.Contains(r.PostForm.Get("token"), "access") || r.PostForm.Get("redirect_uri") == "" {
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{ErrorCode: "0100", Message: "invalid request"}) // Guess: code and wording.
		return
	}
	key := strings.ToLower(email)
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[key]
	switch {
	case !ok:
		redirect(w, url.Values{"error": {"401"}, "region": {"us-west-2"}})
		return
	case a.NoPassword:
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{ErrorCode: api.ErrCodeNotRegistered, Message: "account not registered"})
		return
	case a.Locked || s.failedAuth[key] >= maxAttempts:
		redirect(w, url.Values{"error": {"401"}, "attempts": {strconv.Itoa(maxAttempts)}, "max_attempts": {strconv.Itoa(maxAttempts)}})
		return
	case r.PostForm.Get("password") != a.Password:
		s.failedAuth[key]++
		redirect(w, url.Values{"error": {"401"}, "attempts": {strconv.Itoa(s.failedAuth[key])}, "max_attempts": {strconv.Itoa(maxAttempts)}})
		return
	case a.Captcha:
		writeJSON(w, http.StatusOK, map[string]string{"captchaUrl": "https://account.zepp.com/captcha?ticket=" + randomToken("c")})
		return
	case a.SecondFactor:
		writeJSON(w, http.StatusOK, map[string]string{"notificationUrl": "https://account.zepp.com/verify?ticket=" + randomToken("v")})
		return
	}
	delete(s.failedAuth, key)
	code := randomToken("C")
	s.codes[code] = codeInfo{email: key}
	resp := api.AccessResponse{Access: code, CountryCode: a.Country, Region: a.Region,
		Expiration: api.FlexInt(s.o.Now().Add(10 * 24 * time.Hour).UnixMilli())}
	if r.PostForm.Get("json_response") != "true" {
		redirect(w, url.Values{"access": {code}, "country_code": {a.Country}, "region": {a.Region}})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleClientLogin is POST /v2/client/login (§1.3b step 2). Guess: error
// answers are HTTP 400 with {"error_code":…} (§1.1 names the body only).
func (s *Server) handleClientLogin(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "access_token" || r.PostForm.Get("device_id") == "" {
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{ErrorCode: "0100", Message: "invalid request"}) // Guess.
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[r.PostForm.Get("code")]
	if !ok || c.used {
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{ErrorCode: api.ErrCodeVerification, Message: "verification failed"})
		return
	}
	c.used = true
	s.codes[r.PostForm.Get("code")] = c
	a := s.accounts[c.email]
	if a.Disabled {
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{ErrorCode: api.ErrCodeAccountDisabled, Message: "account disabled"})
		return
	}
	lt := randomToken("L")
	s.loginToks[lt] = tokenInfo{email: c.email, expires: s.o.Now().Add(s.o.LoginTokenTTL)}
	writeJSON(w, http.StatusOK, api.LoginResponse{
		TokenInfo: api.TokenInfo{
			LoginToken: lt, UserID: api.FlexString(a.UserID),
			TTL: api.FlexInt(s.o.LoginTokenTTL.Seconds()),
		},
		RegistInfo: api.RegistInfo{Region: a.Region, CountryCode: a.Country},
		Result:     "ok",
		Domains: []api.Domain{
			{Host: api.HostAccount, Cnames: []string{a.Host}},
			{Host: "api-user.zepp.com"},
		},
	})
}

// handleAppTokens is GET /v1/client/app_tokens (§1.3b step 3, §1.7).
// Guess: an expired login token gets HTTP 401 with error_code 0101.
func (s *Server) handleAppTokens(w http.ResponseWriter, r *http.Request) {
	lt := r.URL.Query().Get("login_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.loginToks[lt]
	if !ok || !s.o.Now().Before(t.expires) {
		writeJSON(w, http.StatusUnauthorized, api.ErrorBody{ErrorCode: api.ErrCodeLoginTokenExpired, Message: "login token expired"})
		return
	}
	a := s.accounts[t.email]
	writeJSON(w, http.StatusOK, api.LoginResponse{
		TokenInfo: api.TokenInfo{
			AppToken: s.newAppTokenLocked(t.email), UserID: api.FlexString(a.UserID),
			AppTTL: api.FlexInt(s.o.AppTokenTTL.Seconds()),
		},
		Result: "ok",
	})
}
