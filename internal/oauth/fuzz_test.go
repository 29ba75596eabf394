package oauth

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// FuzzTokenError feeds token-endpoint refusals (outside data) to
// tokenError: it must not panic, must stay short, and must never repeat a
// secret, wherever the server put it.
func FuzzTokenError(f *testing.F) {
	const secret = "s3cr3t-refresh-token-0123456789"
	f.Add(400, "", []byte(`{"message":"Bad Request","errors":[{"resource":"RefreshToken","field":"refresh_token","code":"invalid"}]}`))
	f.Add(401, "", []byte(`{"message":"Authorization Error","errors":[{"resource":"Application","field":"client_secret","code":"invalid"}],"request":"refresh_token=`+secret+`"}`))
	f.Add(400, "invalid_grant", []byte(`{"error":"invalid_grant","error_description":"token `+secret+` revoked"}`))
	f.Add(200, secret, []byte(`{"errors":[{"resource":"`+secret+`","field":"x","code":"y"}]}`))
	f.Add(503, "", []byte("<html>"+secret+"</html>"))
	f.Add(0, "", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, status int, code string, body []byte) {
		re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Header: http.Header{}}, Body: body, ErrorCode: code}
		err := tokenError("refresh the access token", re, DefaultReAuthHint, secret, "client-secret-xyz")
		if err == nil {
			t.Fatal("nil error")
		}
		msg := err.Error()
		if strings.Contains(msg, secret) || strings.Contains(msg, "client-secret-xyz") {
			t.Fatalf("secret in %q", strings.ReplaceAll(msg, secret, "<SECRET>"))
		}
		if len(msg) > 400 {
			t.Fatalf("message of %d bytes", len(msg))
		}
	})
}
