package zepp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"unicode/utf8"

	emu "github.com/bandsync/bandsync/internal/emulator/zepp"
	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// FuzzParseAccess feeds arbitrary answers of the login's tokens step: the
// parser must classify every one (an access code or a ReAuth/RateLimited/
// Retryable error), never panic, never accept an answer without a code.
func FuzzParseAccess(f *testing.F) {
	f.Add(200, "", []byte(`{"access":"abc","country_code":"DE","region":"eu-central-1","expiration":1700000000000}`))
	f.Add(303, "https://s3-us-west-2.amazonaws.com/hm-registration/successsignin.html?access=x&region=eu-central-1&country_code=DE&state=REDIRECTION", []byte(nil))
	f.Add(303, "https://x/?error=401&state=REDIRECTION&attempts=3&max_attempts=10", []byte(nil))
	f.Add(303, "https://x/?error=401&state=REDIRECTION&region=us-west-2", []byte(nil))
	f.Add(400, "", []byte(`{"error_code":"0117","message":"account not registered"}`))
	f.Add(200, "", []byte(`{"captchaUrl":"https://c"}`))
	f.Add(200, "", []byte(`{"notificationUrl":"https://n"}`))
	f.Add(429, "", []byte(nil))
	f.Add(200, "", []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, location string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		h := http.Header{}
		h.Set("Location", location)
		ar, err := parseAccess(status, h, body)
		switch {
		case err == nil && (ar == nil || ar.Access == ""):
			t.Fatalf("accepted an answer without an access code: %d %q %q", status, location, body)
		case err != nil:
			if c := errclass.ClassOf(err); c != errclass.ReAuth && c != errclass.RateLimited && c != errclass.Retryable {
				t.Fatalf("class %v for %d %q %q: %v", c, status, location, body, err)
			}
		}
	})
}

// FuzzDecodeEnvelope feeds arbitrary data responses, seeded with the real
// detail fixtures in their envelope.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, fx := range emu.Fixtures() {
		b, _ := json.Marshal(api.Envelope{Code: 1, Message: "success", Data: fx.Detail})
		f.Add(200, b)
		f.Add(200, b[:len(b)/2])
	}
	f.Add(401, []byte(`{"code":0,"message":"invalid token","data":{"code":"0102"}}`))
	f.Add(200, []byte(`{"code":0,"message":"invalid token","data":{"code":"0102"}}`))
	f.Add(200, []byte(`{"code":12,"message":"too many requests"}`))
	f.Add(500, []byte(`{"code":-50000,"message":"x"}`))
	f.Add(200, []byte("\x00\x01binary"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		data, err := decodeEnvelope("GET x", status, nil, body)
		var env api.Envelope
		valid := json.Unmarshal(body, &env) == nil
		switch {
		case err == nil && status != 200:
			t.Fatalf("accepted status %d", status)
		case err == nil && valid && (env.Code != api.CodeSuccess || !bytes.Equal(data, env.Data)):
			t.Fatalf("accepted %q as data %q", body, data)
		case err != nil && valid && status == 200 && env.Code == api.CodeSuccess:
			t.Fatalf("refused a success envelope: %v", err)
		}
		if err == nil {
			_ = detailKind(data)
		}
	})
}

// FuzzMembers checks the envelope's fast scanner against encoding/json: a
// valid object yields exactly its members.
func FuzzMembers(f *testing.F) {
	for _, fx := range emu.Fixtures() {
		f.Add([]byte(fx.Detail))
		f.Add([]byte(fx.Summary))
	}
	f.Add([]byte(`{"a":"x\\"  ,"b" : [1,{"c":"]}"}] , "d":-1.5e3,"e":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := map[string]string{}
		plain := true // no key needs unescaping
		complete := members(b, func(key, val []byte) bool {
			got[string(key)] = string(val)
			plain = plain && !bytes.ContainsRune(key, '\\') && utf8.Valid(key)
			return true
		})
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil || want == nil {
			return
		}
		if !complete {
			t.Fatalf("members refused a valid object %q", b)
		}
		if !plain {
			return // keys are compared as written
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("member %q = %q, want %q", k, got[k], v)
			}
		}
	})
}

// FuzzParseLogin feeds arbitrary client-login / app-tokens answers.
func FuzzParseLogin(f *testing.F) {
	f.Add(200, []byte(`{"token_info":{"login_token":"l","app_token":"a","user_id":"1","ttl":31536000,"app_ttl":2592000},"result":"ok","domains":[{"host":"api-mifit.zepp.com","cnames":["api-mifit-de2.zepp.com"]}]}`))
	f.Add(400, []byte(`{"error_code":"0106"}`))
	f.Add(401, []byte(`{"error_code":"0101"}`))
	f.Add(200, []byte(`{"token_info":{"user_id":12}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		var lr api.LoginResponse
		err := parseLogin(status, nil, body, &lr, func(r *api.LoginResponse) bool { return r.TokenInfo.LoginToken != "" })
		if err == nil && lr.TokenInfo.LoginToken == "" {
			t.Fatalf("accepted %d %q", status, body)
		}
		if err == nil {
			_ = hostFromLogin(&lr, "")
		}
	})
}
