// Package api holds the wire types of the unofficial Zepp (Huami, Mi Fit)
// cloud API: login responses, the {code, message, data} envelope of the data
// endpoints, error bodies and codes. Both the client (source/zepp) and the
// loopback emulator (emulator/zepp) use them, so the two agree on the wire.
//
// Everything here follows ../shared/reference/zepp-cloud-api.md; section
// numbers in comments point into it. The summary and detail payloads
// themselves are decoded by package format/zeppjson.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Paths of the endpoints bandsync uses (§1.3b, §1.7, §2.1, §3.1).
const (
	// PathRegistrationsPrefix + url.PathEscape(email) + PathRegistrationsSuffix
	// is the web-app "tokens" step that trades email and password for a
	// one-time access code (§1.3b step 1).
	PathRegistrationsPrefix = "/registrations/"
	PathRegistrationsSuffix = "/tokens"
	// PathClientLogin trades the access code for a login token (§1.3b step 2).
	PathClientLogin = "/v2/client/login"
	// PathAppTokens trades a login token for a fresh app token (§1.3b step 3, §1.7).
	PathAppTokens = "/v1/client/app_tokens"
	// PathHistory lists workout summaries, newest first, paged (§2).
	PathHistory = "/v1/sport/run/history.json"
	// PathDetail returns one workout's streams (§3).
	PathDetail = "/v1/sport/run/detail.json"
)

// Hosts. Data hosts are regional (§1.8); the account hosts are global.
const (
	// HostUser serves the registrations/tokens step.
	HostUser = "api-user.huami.com"
	// HostAccount serves client login and app-token renewal for the web app.
	HostAccount = "api-mifit.zepp.com"
)

// Header names and values of the data calls (§2.1). Leaving out
// appPlatform or appname gives HTTP 500 with body code -50000 (§7.6).
const (
	HeaderAppToken    = "apptoken"
	HeaderAppPlatform = "appPlatform"
	HeaderAppName     = "appname"
	DataAppPlatform   = "web"
	DataAppName       = "com.xiaomi.hm.health"
	// WebAppName is the app name of the web-app login (§1.3b), chosen
	// because it does not log the person's phone out of the Zepp app (§7.3).
	WebAppName = "com.huami.webapp"
)

// Body-level codes of the data envelope (§1.9, §2.2).
const (
	CodeSuccess         = 1
	CodeInvalidToken    = 0 // with data.code "0102" and message "invalid token"
	CodeTooManyRequests = 12
	CodeMissingHeaders  = -50000
)

// Error codes of the account endpoints and of data.code (§1.9).
const (
	ErrCodeLoginTokenExpired = "0101"
	ErrCodeInvalidToken      = "0102"
	ErrCodeVerification      = "0106"
	ErrCodeWrongRegion       = "0113"
	ErrCodeAccountDisabled   = "0115"
	ErrCodeNotRegistered     = "0117"
	ErrCodeAccountFrozen     = "0121"
)

// Envelope wraps every data response: {"code":1,"message":"success","data":…}.
type Envelope struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// ErrorData is the data of an error envelope, e.g. {"code":"0102"}.
type ErrorData struct {
	Code FlexString `json:"code"`
}

// HistoryData is the data of a history.json page (§2.2). Next is -1 on the
// last page, otherwise the cursor to pass as ?trackid= for the next page.
type HistoryData struct {
	Next    FlexInt           `json:"next"`
	Summary []json.RawMessage `json:"summary"`
}

// AccessResponse is the JSON answer of the registrations/tokens step with
// json_response=true (§1.3b). The same keys arrive as query parameters of a
// 303 Location when the server redirects instead. The captcha and
// notification (second factor) URLs are named as in Xiaomi's login (§1.5);
// how Zepp itself phrases such a demand is not documented.
type AccessResponse struct {
	Access          string     `json:"access,omitempty"`
	Refresh         string     `json:"refresh,omitempty"`
	CountryCode     string     `json:"country_code,omitempty"`
	Region          string     `json:"region,omitempty"`
	Expiration      FlexInt    `json:"expiration,omitempty"`
	Error           FlexString `json:"error,omitempty"`
	ErrorCode       FlexString `json:"error_code,omitempty"`
	Message         string     `json:"message,omitempty"`
	Attempts        FlexInt    `json:"attempts,omitempty"`
	MaxAttempts     FlexInt    `json:"max_attempts,omitempty"`
	CaptchaURL      string     `json:"captchaUrl,omitempty"`
	NotificationURL string     `json:"notificationUrl,omitempty"`
}

// LoginResponse is the answer of v2/client/login and v1/client/app_tokens
// (§1.1). On error the body carries ErrorCode instead of TokenInfo.
type LoginResponse struct {
	TokenInfo  TokenInfo  `json:"token_info"`
	RegistInfo RegistInfo `json:"regist_info"`
	Result     string     `json:"result,omitempty"`
	Domains    []Domain   `json:"domains,omitempty"`
	ErrorCode  FlexString `json:"error_code,omitempty"`
	Message    string     `json:"message,omitempty"`
}

// TokenInfo carries the tokens and their lifetimes in seconds.
type TokenInfo struct {
	LoginToken string     `json:"login_token,omitempty"`
	AppToken   string     `json:"app_token,omitempty"`
	UserID     FlexString `json:"user_id,omitempty"`
	TTL        FlexInt    `json:"ttl,omitempty"`
	AppTTL     FlexInt    `json:"app_ttl,omitempty"`
}

// RegistInfo says where the account is registered.
type RegistInfo struct {
	IsNewUser   FlexInt `json:"is_new_user,omitempty"`
	RegistDate  FlexInt `json:"regist_date,omitempty"`
	Region      string  `json:"region,omitempty"` // AWS region, e.g. "eu-central-1"
	CountryCode string  `json:"country_code,omitempty"`
}

// Domain is one entry of the login response's domains list: a host and
// its regional aliases (the account's data host is the first cname of the
// api-mifit entry, §1.8).
type Domain struct {
	Host   string   `json:"host"`
	Cnames []string `json:"cnames,omitempty"`
}

// ErrorBody is the error answer of the account endpoints: {"error_code":"0117",…}.
type ErrorBody struct {
	ErrorCode FlexString `json:"error_code"`
	Message   string     `json:"message,omitempty"`
}

// FlexInt is an integer that arrives as a JSON number or string (§7.12).
type FlexInt int64

// UnmarshalJSON accepts 12, 12.0, "12", "" and null.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = FlexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f > 9e18 || f < -9e18 {
		return fmt.Errorf("not an integer: %.20q", b)
	}
	*n = FlexInt(f)
	return nil
}

// FlexString is a string that may arrive as a JSON number.
type FlexString string

// UnmarshalJSON accepts "x", 12 and null.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = FlexString(v)
	default:
		var v json.Number
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = FlexString(v)
	}
	return nil
}
