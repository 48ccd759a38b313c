package tokenendpoint_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

const (
	op           = "authenticate_client_credentials"
	clientID     = "client id:1"
	clientSecret = "p@ss w+rd/é"
	accessToken  = "access-token-value"
)

// serve starts a token endpoint that answers every request with h, and
// returns an Endpoint for it.
func serve(t *testing.T, h http.HandlerFunc) *tokenendpoint.Endpoint {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &tokenendpoint.Endpoint{
		URL:          srv.URL + "/token",
		ClientID:     clientID,
		ClientSecret: clientSecret,
		HTTPClient:   srv.Client(),
	}
}

// respond returns a handler that writes status, headers and body.
func respond(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func exchange(t *testing.T, e *tokenendpoint.Endpoint) (*token.Token, error) {
	t.Helper()
	return e.Exchange(context.Background(), op, url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}})
}

// wantError asserts that err is an *oautherr.Error with the given code and
// that its message reveals no credential.
func wantError(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	t.Logf("error: %v", err)
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("error = %v (%T), want *oautherr.Error", err, err)
	}
	if oerr.Code != code {
		t.Fatalf("Code = %q, want %q (error: %v)", oerr.Code, code, err)
	}
	if oerr.Op != op {
		t.Errorf("Op = %q, want %q", oerr.Op, op)
	}
	for _, s := range []string{clientSecret, url.QueryEscape(clientSecret), accessToken} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error message %q reveals %q", err.Error(), s)
		}
	}
	return oerr
}

func TestExchangeClientSecretBasic(t *testing.T) {
	var got *http.Request
	var form url.Values
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		r.ParseForm()
		form = r.PostForm
		respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":3600,"scope":"trading"}`)(w, r)
	})
	params := url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}}
	before := time.Now()
	tok, err := e.Exchange(context.Background(), op, params)
	if err != nil {
		t.Fatal(err)
	}

	if got.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", got.Method)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a := got.Header.Get("Accept"); a != "application/json" {
		t.Errorf("Accept = %q", a)
	}
	// RFC 6749 Section 2.3.1: form-urlencode, then Base64.
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(clientSecret)))
	if a := got.Header.Get("Authorization"); a != wantAuth {
		t.Errorf("Authorization = %q, want %q", a, wantAuth)
	}
	wantForm := url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}}
	if diff := cmp.Diff(wantForm, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}}, params); diff != "" {
		t.Errorf("Exchange modified params (-want +got):\n%s", diff)
	}

	if tok.AccessToken.Reveal() != accessToken || tok.TokenType != "Bearer" {
		t.Errorf("token = %q %q", tok.TokenType, tok.AccessToken.Reveal())
	}
	if diff := cmp.Diff([]string{"trading"}, tok.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
	if lo, hi := before.Add(time.Hour), time.Now().Add(time.Hour); tok.ExpiresAt.Before(lo) || tok.ExpiresAt.After(hi) {
		t.Errorf("ExpiresAt = %v, want between %v and %v", tok.ExpiresAt, lo, hi)
	}
}

func TestExchangeClientSecretPost(t *testing.T) {
	var form url.Values
	var hasAuth bool
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		_, _, hasAuth = r.BasicAuth()
		respond(200, `{"access_token":"`+accessToken+`","token_type":"Bearer"}`)(w, r)
	})
	e.AuthMethod = tokenendpoint.ClientSecretPost
	tok, err := exchange(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if hasAuth {
		t.Error("client_secret_post sent an Authorization header")
	}
	want := url.Values{
		"grant_type":    {"client_credentials"},
		"scope":         {"trading market-data"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
	}
	if diff := cmp.Diff(want, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if !tok.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt = %v without expires_in, want zero", tok.ExpiresAt)
	}
	// scope omitted: RFC 6749 Section 5.1 says it equals the request.
	if diff := cmp.Diff([]string{"trading", "market-data"}, tok.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
}

func TestExchangeParsesOptionalFields(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		lifetime time.Duration // 0 means no expiry
		scopes   []string
	}{
		{"numeric string expires_in", `{"access_token":"a","token_type":"BEARER","expires_in":"120"}`, 120 * time.Second, []string{"trading", "market-data"}},
		{"fractional expires_in", `{"access_token":"a","token_type":"bearer","expires_in":1.5}`, 1500 * time.Millisecond, []string{"trading", "market-data"}},
		{"null expires_in", `{"access_token":"a","token_type":"bearer","expires_in":null}`, 0, []string{"trading", "market-data"}},
		{"empty scope", `{"access_token":"a","token_type":"bearer","scope":""}`, 0, nil},
		{"refresh and id token", `{"access_token":"a","token_type":"bearer","refresh_token":"r","id_token":"i","extra":{"x":1}}`, 0, []string{"trading", "market-data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serve(t, respond(200, tt.body))
			before := time.Now()
			tok, err := exchange(t, e)
			if err != nil {
				t.Fatal(err)
			}
			if tt.lifetime == 0 && !tok.ExpiresAt.IsZero() {
				t.Errorf("ExpiresAt = %v, want zero", tok.ExpiresAt)
			}
			if tt.lifetime != 0 {
				if lo, hi := before.Add(tt.lifetime), time.Now().Add(tt.lifetime); tok.ExpiresAt.Before(lo) || tok.ExpiresAt.After(hi) {
					t.Errorf("ExpiresAt = %v, want between %v and %v", tok.ExpiresAt, lo, hi)
				}
			}
			if diff := cmp.Diff(tt.scopes, tok.Scopes); diff != "" {
				t.Errorf("Scopes (-want +got):\n%s", diff)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("TokenType = %q, want canonical %q", tok.TokenType, "Bearer")
			}
		})
	}
	e := serve(t, respond(200, `{"access_token":"a","token_type":"bearer","refresh_token":"r","id_token":"i"}`))
	tok, err := exchange(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken.Reveal() != "r" || tok.IDToken.Reveal() != "i" {
		t.Errorf("refresh/id token = %q %q", tok.RefreshToken.Reveal(), tok.IDToken.Reveal())
	}
}

func TestExchangeZeroExpiresInIsExpired(t *testing.T) {
	e := serve(t, respond(200, `{"access_token":"a","token_type":"bearer","expires_in":0}`))
	tok, err := exchange(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expired(time.Now()) {
		t.Errorf("token with expires_in 0 is not expired: %v", tok)
	}
}

func TestExchangeInvalidResponses(t *testing.T) {
	huge := `{"access_token":"a","token_type":"bearer","pad":"` + strings.Repeat("x", tokenendpoint.MaxResponseBytes) + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"malformed JSON", respond(200, `{"access_token":"`+accessToken+`",`)},
		{"HTML body", respond(200, `<html>login</html>`, "Content-Type", "text/html")},
		{"JSON array", respond(200, `["`+accessToken+`"]`)},
		{"JSON null", respond(200, `null`)},
		{"empty body", respond(200, ``)},
		{"missing access_token", respond(200, `{"token_type":"bearer","expires_in":3600}`)},
		{"empty access_token", respond(200, `{"access_token":"","token_type":"bearer"}`)},
		{"non-string access_token", respond(200, `{"access_token":42,"token_type":"bearer"}`)},
		{"missing token_type", respond(200, `{"access_token":"`+accessToken+`"}`)},
		{"wrong token_type", respond(200, `{"access_token":"`+accessToken+`","token_type":"mac"}`)},
		{"DPoP token_type", respond(200, `{"access_token":"`+accessToken+`","token_type":"DPoP"}`)},
		{"negative expires_in", respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":-1}`)},
		{"negative string expires_in", respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":"-30"}`)},
		{"non-numeric expires_in", respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":"soon"}`)},
		{"object expires_in", respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":{}}`)},
		{"overflowing expires_in", respond(200, `{"access_token":"`+accessToken+`","token_type":"bearer","expires_in":1e300}`)},
		{"body over 1 MiB", respond(200, huge)},
		{"404 HTML", respond(404, `<html>not found</html>`, "Content-Type", "text/html")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := exchange(t, serve(t, tt.handler))
			if tok != nil {
				t.Errorf("token = %v, want nil", tok)
			}
			oerr := wantError(t, err, oautherr.CodeInvalidResponse)
			if oerr.Retryable {
				t.Error("Retryable = true, want false")
			}
			if oerr.StatusCode == 0 {
				t.Error("StatusCode = 0, want the response status")
			}
		})
	}
}

func TestExchangeBodyExactlyAtLimit(t *testing.T) {
	prefix := `{"access_token":"a","token_type":"bearer","pad":"`
	body := prefix + strings.Repeat("x", tokenendpoint.MaxResponseBytes-len(prefix)-2) + `"}`
	if len(body) != tokenendpoint.MaxResponseBytes {
		t.Fatalf("test body is %d bytes", len(body))
	}
	if _, err := exchange(t, serve(t, respond(200, body))); err != nil {
		t.Fatalf("body of exactly 1 MiB rejected: %v", err)
	}
}

func TestExchangeErrorResponses(t *testing.T) {
	retryAt := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		want      oautherr.Error
		minRetry  time.Duration
		classify  oautherr.Classifier
		retryable bool
	}{
		{
			name:    "invalid_client",
			handler: respond(401, `{"error":"invalid_client","error_description":"Client authentication failed","error_uri":"https://as.example/errors/invalid_client"}`, "WWW-Authenticate", `Basic realm="as"`),
			want:    oautherr.Error{Code: "invalid_client", Description: "Client authentication failed", URI: "https://as.example/errors/invalid_client", StatusCode: 401},
		},
		{
			name:    "invalid_scope",
			handler: respond(400, `{"error":"invalid_scope","error_description":"unknown scope"}`),
			want:    oautherr.Error{Code: "invalid_scope", Description: "unknown scope", StatusCode: 400},
		},
		{
			name:    "503 with Retry-After seconds",
			handler: respond(503, `{"error":"temporarily_unavailable"}`, "Retry-After", "120"),
			want:    oautherr.Error{Code: "temporarily_unavailable", StatusCode: 503, RetryAfter: 120 * time.Second, Retryable: true},
		},
		{
			name:     "503 with Retry-After date",
			handler:  respond(503, `<html>maintenance</html>`, "Retry-After", retryAt, "Content-Type", "text/html"),
			want:     oautherr.Error{Code: "server_error", StatusCode: 503, Retryable: true},
			minRetry: 80 * time.Second,
		},
		{
			name:    "500 with huge body",
			handler: respond(500, strings.Repeat("x", 2*tokenendpoint.MaxResponseBytes), "Content-Type", "text/plain"),
			want:    oautherr.Error{Code: "server_error", StatusCode: 500, Retryable: true},
		},
		{
			name:    "429 with error object",
			handler: respond(429, `{"error":"slow_down"}`, "Retry-After", "7"),
			want:    oautherr.Error{Code: "slow_down", StatusCode: 429, RetryAfter: 7 * time.Second, Retryable: true},
		},
		{
			name:    "429 without error object",
			handler: respond(429, ``, "Retry-After", "3"),
			want:    oautherr.Error{Code: "temporarily_unavailable", StatusCode: 429, RetryAfter: 3 * time.Second, Retryable: true},
		},
		{
			name:    "malformed Retry-After is ignored",
			handler: respond(503, `{"error":"server_error"}`, "Retry-After", "soon"),
			want:    oautherr.Error{Code: "server_error", StatusCode: 503, Retryable: true},
		},
		{
			name:    "400 temporarily_unavailable is retryable by default",
			handler: respond(400, `{"error":"temporarily_unavailable"}`),
			want:    oautherr.Error{Code: "temporarily_unavailable", StatusCode: 400, Retryable: true},
		},
		{
			name:     "custom classifier",
			handler:  respond(400, `{"error":"invalid_grant"}`),
			classify: func(code string) bool { return code == "invalid_grant" },
			want:     oautherr.Error{Code: "invalid_grant", StatusCode: 400, Retryable: true},
		},
		{
			name:     "custom classifier does not override 5xx",
			handler:  respond(502, `{"error":"bad_gateway"}`),
			classify: func(string) bool { return false },
			want:     oautherr.Error{Code: "bad_gateway", StatusCode: 502, Retryable: true},
		},
		{
			name:    "error object with HTTP 200",
			handler: respond(200, `{"error":"invalid_request","error_description":"bad grant_type"}`),
			want:    oautherr.Error{Code: "invalid_request", Description: "bad grant_type", StatusCode: 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serve(t, tt.handler)
			e.Classify = tt.classify
			_, err := exchange(t, e)
			oerr := wantError(t, err, tt.want.Code)
			got := *oerr
			want := tt.want
			want.Op = op
			if tt.minRetry != 0 {
				if got.RetryAfter < tt.minRetry || got.RetryAfter > 90*time.Second {
					t.Errorf("RetryAfter = %v, want about 90s", got.RetryAfter)
				}
				got.RetryAfter = 0
			}
			// Descriptions that coyotegen writes are not compared.
			if want.Description == "" {
				got.Description = ""
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if oautherr.IsRetryable(err) != want.Retryable {
				t.Errorf("IsRetryable = %v, want %v", oautherr.IsRetryable(err), want.Retryable)
			}
		})
	}
}

func TestExchangeErrorMessage(t *testing.T) {
	e := serve(t, respond(401, `{"error":"invalid_client","error_description":"Client authentication failed"}`))
	_, err := exchange(t, e)
	want := "coyote auth: authenticate_client_credentials: invalid_client: Client authentication failed (HTTP 401)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestExchangeNetworkError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	e := &tokenendpoint.Endpoint{URL: "http://" + addr + "/token", ClientID: clientID, ClientSecret: clientSecret}
	_, err = exchange(t, e)
	oerr := wantError(t, err, oautherr.CodeNetworkError)
	if !oerr.Retryable || oerr.StatusCode != 0 || oerr.Err == nil {
		t.Errorf("error = %#v, want retryable with a cause and no status", oerr)
	}
	var netErr *net.OpError
	if !errors.As(err, &netErr) {
		t.Errorf("error does not wrap the *net.OpError: %v", err)
	}
}

func TestExchangeConnectionDroppedMidBody(t *testing.T) {
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"access_token":"`)
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err := exchange(t, e)
	if oerr := wantError(t, err, oautherr.CodeNetworkError); !oerr.Retryable {
		t.Error("Retryable = false, want true")
	}
}

func TestExchangeCanceled(t *testing.T) {
	release := make(chan struct{})
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Exchange(ctx, op, url.Values{"grant_type": {"client_credentials"}})
	oerr := wantError(t, err, oautherr.CodeCanceled)
	if oerr.Retryable {
		t.Error("Retryable = true for a canceled request")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap context.DeadlineExceeded: %v", err)
	}
}

func TestExchangeInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		e    *tokenendpoint.Endpoint
	}{
		{"nil", nil},
		{"empty URL", &tokenendpoint.Endpoint{ClientID: "c"}},
		{"relative URL", &tokenendpoint.Endpoint{URL: "/token", ClientID: "c"}},
		{"unparsable URL", &tokenendpoint.Endpoint{URL: "http://[::1", ClientID: "c"}},
		{"ftp URL", &tokenendpoint.Endpoint{URL: "ftp://127.0.0.1/token", ClientID: "c"}},
		{"empty client ID", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token"}},
		{"unknown auth method", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token", ClientID: "c", ClientSecret: "s", AuthMethod: 7}},
		{"basic without secret", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token", ClientID: "c"}},
		{"post without secret", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token", ClientID: "c", AuthMethod: tokenendpoint.ClientSecretPost}},
		{"private_key_jwt without key", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token", ClientID: "c", AuthMethod: tokenendpoint.PrivateKeyJWT}},
		{"private_key_jwt lifetime over 60s", &tokenendpoint.Endpoint{URL: "http://127.0.0.1/token", ClientID: "c", AuthMethod: tokenendpoint.PrivateKeyJWT, SigningKey: ecSigningKey(t, ""), AssertionLifetime: 61 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.e.Validate() == nil {
				t.Error("Validate() = nil")
			}
			_, err := tt.e.Exchange(context.Background(), op, nil)
			wantError(t, err, oautherr.CodeInvalidConfig)
		})
	}
}

func TestAuthMethod(t *testing.T) {
	names := map[tokenendpoint.AuthMethod]string{
		tokenendpoint.ClientSecretBasic:       "client_secret_basic",
		tokenendpoint.ClientSecretPost:        "client_secret_post",
		tokenendpoint.PrivateKeyJWT:           "private_key_jwt",
		tokenendpoint.TLSClientAuth:           "tls_client_auth",
		tokenendpoint.SelfSignedTLSClientAuth: "self_signed_tls_client_auth",
		tokenendpoint.None:                    "none",
	}
	for m, name := range names {
		if m.String() != name {
			t.Errorf("String() = %q, want %q", m.String(), name)
		}
		got, err := tokenendpoint.ParseAuthMethod(name)
		if err != nil || got != m {
			t.Errorf("ParseAuthMethod(%q) = %v, %v", name, got, err)
		}
		if got, want := m.UsesSecret(), m == tokenendpoint.ClientSecretBasic || m == tokenendpoint.ClientSecretPost; got != want {
			t.Errorf("%v.UsesSecret() = %v", m, got)
		}
		if got, want := m.Authenticates(), m != tokenendpoint.None; got != want {
			t.Errorf("%v.Authenticates() = %v", m, got)
		}
	}
	_, err := tokenendpoint.ParseAuthMethod("client_secret_jwt")
	want := `unknown token endpoint auth method "client_secret_jwt": want one of "client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth", "none"`
	if err == nil || err.Error() != want {
		t.Errorf("ParseAuthMethod(client_secret_jwt) error = %v, want %q", err, want)
	}
	if s := tokenendpoint.AuthMethod(42).String(); s != "AuthMethod(42)" {
		t.Errorf("String() of an unknown method = %q", s)
	}
	if tokenendpoint.AuthMethod(-1).Authenticates() {
		t.Error("an unknown method authenticates")
	}
	var zero tokenendpoint.AuthMethod
	if zero != tokenendpoint.ClientSecretBasic {
		t.Error("zero AuthMethod is not ClientSecretBasic")
	}
}

func TestExchangeDatesByTheEndpointClock(t *testing.T) {
	vc := clock.NewVirtual(time.Time{})
	date := vc.Now().Add(90 * time.Second).Format(http.TimeFormat)
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("scope") == "fail" {
			respond(503, `{"error":"temporarily_unavailable"}`, "Retry-After", date)(w, r)
			return
		}
		respond(200, `{"access_token":"a","token_type":"Bearer","expires_in":600}`)(w, r)
	})
	e.Clock = vc
	tok, err := exchange(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := vc.Now().Add(10 * time.Minute); !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v on the endpoint's clock", tok.ExpiresAt, want)
	}
	_, err = e.Exchange(context.Background(), op, url.Values{"grant_type": {"client_credentials"}, "scope": {"fail"}})
	if oerr := wantError(t, err, oautherr.CodeTemporarilyUnavailable); oerr.RetryAfter != 90*time.Second {
		t.Errorf("Retry-After date read as %v from the endpoint's clock, want 90s", oerr.RetryAfter)
	}
}
