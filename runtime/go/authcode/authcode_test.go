package authcode_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

const (
	clientID    = "native-app"
	redirectURI = "http://127.0.0.1:8123/callback"
	issuer      = "https://as.example"
)

// tokenServer is a fake token endpoint that records the forms it receives.
type tokenServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	auths  []string
	status atomic.Int32
}

func newTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.status.Store(200)
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		ts.auths = append(ts.auths, r.Header.Get("Authorization"))
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		status := int(ts.status.Load())
		w.WriteHeader(status)
		if status == 200 {
			io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}`)
		} else {
			io.WriteString(w, `{"error":"server_error"}`)
		}
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) requests() []url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]url.Values(nil), ts.forms...)
}

func (ts *tokenServer) endpoint(method tokenendpoint.AuthMethod) *tokenendpoint.Endpoint {
	e := &tokenendpoint.Endpoint{URL: ts.srv.URL + "/token", ClientID: clientID, AuthMethod: method, HTTPClient: ts.srv.Client()}
	if method.UsesSecret() {
		e.ClientSecret = "s3cret"
	}
	return e
}

func newFlow(t *testing.T, ts *tokenServer, edit func(*authcode.Config)) *authcode.Flow {
	t.Helper()
	cfg := authcode.Config{
		AuthorizationURL: "https://as.example/authorize?tenant=t1",
		Endpoint:         ts.endpoint(tokenendpoint.None),
		RedirectURI:      redirectURI,
		Scopes:           []string{"trading", "market-data"},
		Issuer:           issuer,
	}
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	return authcode.New(cfg)
}

func wantCode(t *testing.T, err error, op, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("error = %v (%T), want *oautherr.Error with code %q", err, err, code)
	}
	if oerr.Code != code || oerr.Op != op {
		t.Fatalf("error = %v, want op %q code %q", err, op, code)
	}
	return oerr
}

func TestStart(t *testing.T) {
	f := newFlow(t, newTokenServer(t), nil)
	req, err := f.Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "as.example" || u.Path != "/authorize" {
		t.Errorf("URL = %s, want the authorization endpoint", req.URL)
	}
	v := req.CodeVerifier.Reveal()
	if len(v) != 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("code verifier %q is not 43 base64url characters", v)
	}
	sum := sha256.Sum256([]byte(v))
	want := url.Values{
		"tenant":                {"t1"},
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"trading market-data"},
		"state":                 {req.State},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("authorization request (-want +got):\n%s", diff)
	}
	if len(req.State) != 43 {
		t.Errorf("state %q is not 256 bits", req.State)
	}
	if req.RedirectURI != redirectURI {
		t.Errorf("RedirectURI = %q", req.RedirectURI)
	}
	if strings.Contains(req.URL, v) {
		t.Error("the authorization URL contains the code verifier")
	}
	if authcode.CodeChallengeS256(req.CodeVerifier) != want.Get("code_challenge") {
		t.Error("CodeChallengeS256 disagrees with the request")
	}

	// RFC 7636 Appendix B.
	if got := authcode.CodeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("CodeChallengeS256(RFC 7636 example) = %q", got)
	}

	other, err := f.Start("http://127.0.0.1/other", []string{"portfolio"})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(strings.SplitN(other.URL, "?", 2)[1])
	if q.Get("redirect_uri") != "http://127.0.0.1/other" || q.Get("scope") != "portfolio" {
		t.Errorf("Start with arguments: %v", q)
	}
	if other.State == req.State || other.CodeVerifier == req.CodeVerifier {
		t.Error("two requests share state or verifier")
	}
}

func TestStartWithoutPKCE(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, func(c *authcode.Config) {
		c.DisablePKCE = true
		c.Endpoint = ts.endpoint(tokenendpoint.ClientSecretBasic)
		c.Scopes = nil
	})
	req, err := f.Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	q := u.Query()
	if q.Has("code_challenge") || q.Has("code_challenge_method") || q.Has("scope") || req.CodeVerifier != "" {
		t.Errorf("request without PKCE and scopes: %v, verifier %q", q, req.CodeVerifier.Reveal())
	}
	if q.Get("state") == "" {
		t.Error("no state without PKCE")
	}
}

func TestStartErrors(t *testing.T) {
	f := newFlow(t, newTokenServer(t), func(c *authcode.Config) { c.RedirectURI = "" })
	_, err := f.Start("", nil)
	wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidConfig)
	for _, uri := range []string{"/relative", "http://127.0.0.1/cb#frag", "http:///nohost", "%zz"} {
		_, err := f.Start(uri, nil)
		wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidRequest)
	}
	_, err = f.Start(redirectURI, []string{"two words"})
	wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidRequest)
	// Private-use URI schemes of native apps are absolute URIs too.
	if _, err := f.Start("com.example.app:/callback", nil); err != nil {
		t.Errorf("private-use scheme redirect: %v", err)
	}
}

// respond builds the query of an authorization response.
func respond(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestHandleResponse(t *testing.T) {
	f := newFlow(t, newTokenServer(t), nil)
	req, _ := f.Start("", nil)
	resp, err := f.HandleResponse(respond("code", "the-code", "state", req.State, "iss", issuer))
	if err != nil {
		t.Fatal(err)
	}
	want := authcode.Response{Code: "the-code", State: req.State, Issuer: issuer, RedirectURI: redirectURI, CodeVerifier: req.CodeVerifier}
	if diff := cmp.Diff(want, *resp); diff != "" {
		t.Errorf("Response (-want +got):\n%s", diff)
	}
	// The state is one-time.
	_, err = f.HandleResponse(respond("code", "the-code", "state", req.State, "iss", issuer))
	wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidState)
}

// TestRequestLifetimeRunsOnTheClock: a started request expires on the
// configured clock, such as the virtual clock of the simulation mode, not
// on the system's.
func TestRequestLifetimeRunsOnTheClock(t *testing.T) {
	vc := clock.NewVirtual(time.Time{})
	f := newFlow(t, newTokenServer(t), func(c *authcode.Config) { c.Clock = vc })
	kept, _ := f.Start("", nil)
	lapsed, _ := f.Start("", nil)
	vc.Advance(authcode.DefaultRequestLifetime - time.Second)
	if _, err := f.HandleResponse(respond("code", "c1", "state", kept.State, "iss", issuer)); err != nil {
		t.Fatalf("response within the lifetime: %v", err)
	}
	vc.Advance(time.Second)
	_, err := f.HandleResponse(respond("code", "c2", "state", lapsed.State, "iss", issuer))
	wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidState)
}

func TestHandleResponseRejects(t *testing.T) {
	tests := []struct {
		name    string
		require bool
		params  func(state string) url.Values
		code    string
	}{
		{"missing state", false, func(string) url.Values { return respond("code", "c") }, authcode.CodeInvalidState},
		{"wrong state", false, func(s string) url.Values { return respond("code", "c", "state", s+"x") }, authcode.CodeInvalidState},
		{"state of another flow", false, func(string) url.Values {
			return respond("code", "c", "state", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		}, authcode.CodeInvalidState},
		{"wrong issuer", false, func(s string) url.Values { return respond("code", "c", "state", s, "iss", "https://evil.example") }, authcode.CodeInvalidIssuer},
		{"issuer with trailing slash", false, func(s string) url.Values { return respond("code", "c", "state", s, "iss", issuer+"/") }, authcode.CodeInvalidIssuer},
		{"empty issuer", false, func(s string) url.Values { return respond("code", "c", "state", s, "iss", "") }, authcode.CodeInvalidIssuer},
		{"two issuers", false, func(s string) url.Values {
			v := respond("code", "c", "state", s)
			v["iss"] = []string{issuer, "https://evil.example"}
			return v
		}, authcode.CodeInvalidIssuer},
		{"required issuer missing", true, func(s string) url.Values { return respond("code", "c", "state", s) }, authcode.CodeInvalidIssuer},
		{"access denied", false, func(s string) url.Values {
			return respond("error", "access_denied", "error_description", "user said no", "state", s, "iss", issuer)
		}, authcode.CodeAccessDenied},
		{"error with wrong issuer", false, func(s string) url.Values {
			return respond("error", "access_denied", "state", s, "iss", "https://evil.example")
		}, authcode.CodeInvalidIssuer},
		{"no code", false, func(s string) url.Values { return respond("state", s) }, oautherr.CodeInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t)
			f := newFlow(t, ts, func(c *authcode.Config) { c.RequireIssuer = tt.require })
			req, _ := f.Start("", nil)
			_, err := f.HandleResponse(tt.params(req.State))
			oerr := wantCode(t, err, authcode.OperationResponse, tt.code)
			if tt.code == authcode.CodeAccessDenied && oerr.Description != "user said no" {
				t.Errorf("Description = %q", oerr.Description)
			}
			if tt.code == authcode.CodeInvalidState {
				// A forged response consumes nothing: the real one is
				// still accepted.
				if _, err := f.HandleResponse(respond("code", "c2", "state", req.State)); err != nil {
					t.Errorf("pending request lost after a forged response: %v", err)
				}
				return
			}
			// Any other rejection uses the state up and forgets the
			// request, so its verifier is never sent with the code.
			_, err = f.HandleResponse(respond("code", "c", "state", req.State, "iss", issuer))
			wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidState)
			_, err = f.Exchange(context.Background(), "c", "", "")
			wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest)
			if n := len(ts.requests()); n != 0 {
				t.Errorf("token endpoint received %d requests, want 0", n)
			}
		})
	}
}

func TestHandleResponseWithoutConfiguredIssuer(t *testing.T) {
	f := newFlow(t, newTokenServer(t), func(c *authcode.Config) { c.Issuer = "" })
	req, _ := f.Start("", nil)
	resp, err := f.HandleResponse(respond("code", "c", "state", req.State, "iss", "https://anything.example"))
	if err != nil {
		t.Fatalf("iss without a configured issuer: %v", err)
	}
	if resp.Issuer != "https://anything.example" {
		t.Errorf("Issuer = %q", resp.Issuer)
	}
}

func TestExchange(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("", nil)
	resp, err := f.HandleResponse(respond("code", "code-1", "state", req.State))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.Exchange(context.Background(), resp.Code, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken.Reveal() != "at" || tok.RefreshToken.Reveal() != "rt" {
		t.Errorf("token = %v", tok)
	}
	want := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"code-1"},
		"redirect_uri":  {redirectURI},
		"code_verifier": {req.CodeVerifier.Reveal()},
		"client_id":     {clientID},
	}
	if diff := cmp.Diff([]url.Values{want}, ts.requests()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}

	// Never twice, whatever the arguments.
	for _, args := range [][2]string{{"", ""}, {redirectURI, req.CodeVerifier.Reveal()}} {
		_, err = f.Exchange(context.Background(), "code-1", args[0], secret.Secret(args[1]))
		wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidGrant)
	}
	if n := len(ts.requests()); n != 1 {
		t.Errorf("token endpoint received %d requests, want 1", n)
	}
}

func TestExchangeNeverResendsAfterFailure(t *testing.T) {
	ts := newTokenServer(t)
	ts.status.Store(503)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("", nil)
	resp, _ := f.HandleResponse(respond("code", "code-1", "state", req.State))
	_, err := f.Exchange(context.Background(), resp.Code, "", "")
	if oerr := wantCode(t, err, authcode.OperationExchange, oautherr.CodeServerError); !oerr.Retryable {
		t.Error("503 is not retryable")
	}
	ts.status.Store(200)
	_, err = f.Exchange(context.Background(), resp.Code, resp.RedirectURI, resp.CodeVerifier)
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidGrant)
	if n := len(ts.requests()); n != 1 {
		t.Errorf("token endpoint received %d requests, want 1", n)
	}
}

func TestExchangeConcurrentSameCode(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("", nil)
	resp, _ := f.HandleResponse(respond("code", "code-1", "state", req.State))
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Exchange(context.Background(), resp.Code, "", ""); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || len(ts.requests()) != 1 {
		t.Errorf("%d exchanges succeeded and %d requests were sent, want 1 and 1", ok.Load(), len(ts.requests()))
	}
}

func TestExchangeByVerifier(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("http://127.0.0.1:9999/cb", nil)
	// The caller checked the redirect itself and passes the verifier.
	if _, err := f.Exchange(context.Background(), "code-2", "", req.CodeVerifier); err != nil {
		t.Fatal(err)
	}
	got := ts.requests()[0]
	if got.Get("redirect_uri") != "http://127.0.0.1:9999/cb" || got.Get("code_verifier") != req.CodeVerifier.Reveal() {
		t.Errorf("token request %v, want the request's redirect_uri and verifier", got)
	}
	// The request is consumed: its state no longer matches.
	_, err := f.HandleResponse(respond("code", "code-3", "state", req.State))
	wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidState)
}

func TestExchangeStateless(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, nil)
	verifier, err := authcode.NewCodeVerifier()
	if err != nil {
		t.Fatal(err)
	}
	// A request started by another instance: only the caller knows it.
	if _, err := f.Exchange(context.Background(), "code-4", "", verifier); err != nil {
		t.Fatal(err)
	}
	got := ts.requests()[0]
	if got.Get("redirect_uri") != redirectURI || got.Get("code_verifier") != verifier.Reveal() {
		t.Errorf("token request %v", got)
	}
}

func TestExchangeRejectsMismatches(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("", nil)
	resp, _ := f.HandleResponse(respond("code", "code-1", "state", req.State))
	other, _ := authcode.NewCodeVerifier()
	tests := []struct {
		name, code, redirect string
		verifier             secret.Secret
	}{
		{"other redirect_uri", "code-1", "http://127.0.0.1:8123/other", ""},
		{"other verifier", "code-1", "", other},
		{"verifier of a request answered with another code", "code-9", "", resp.CodeVerifier},
		{"empty code", "", "", ""},
	}
	for _, tt := range tests {
		_, err := f.Exchange(context.Background(), secret.Secret(tt.code), tt.redirect, tt.verifier)
		wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest)
	}
	if n := len(ts.requests()); n != 0 {
		t.Fatalf("token endpoint received %d requests, want 0", n)
	}
	// The mismatches consumed nothing: the right arguments still work.
	if _, err := f.Exchange(context.Background(), resp.Code, redirectURI, resp.CodeVerifier); err != nil {
		t.Fatal(err)
	}

	noVerifier := newFlow(t, ts, nil)
	_, err := noVerifier.Exchange(context.Background(), "code-5", "", "")
	if oerr := wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest); !strings.Contains(oerr.Description, "code_verifier") {
		t.Errorf("Description = %q", oerr.Description)
	}
	_, err = noVerifier.Exchange(context.Background(), "code-5", "", "too-short")
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest)
	_, err = noVerifier.Exchange(context.Background(), "code-5", "", secret.Secret(strings.Repeat("a", 42)+"!"))
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = noVerifier.Exchange(ctx, "code-6", "", other)
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeCanceled)
}

func TestExchangeWithoutPKCEConfidential(t *testing.T) {
	ts := newTokenServer(t)
	f := newFlow(t, ts, func(c *authcode.Config) {
		c.DisablePKCE = true
		c.Endpoint = ts.endpoint(tokenendpoint.ClientSecretPost)
	})
	req, _ := f.Start("", nil)
	resp, err := f.HandleResponse(respond("code", "code-1", "state", req.State))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exchange(context.Background(), resp.Code, "", ""); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"code-1"},
		"redirect_uri":  {redirectURI},
		"client_id":     {clientID},
		"client_secret": {"s3cret"},
	}
	if diff := cmp.Diff([]url.Values{want}, ts.requests()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
}

func TestErrorsRevealNoSecrets(t *testing.T) {
	ts := newTokenServer(t)
	ts.status.Store(400)
	f := newFlow(t, ts, nil)
	req, _ := f.Start("", nil)
	resp, _ := f.HandleResponse(respond("code", "SECRET-CODE", "state", req.State))
	_, err := f.Exchange(context.Background(), resp.Code, "", "")
	_, err2 := f.Exchange(context.Background(), resp.Code, "", "")
	for _, e := range []error{err, err2} {
		msg := fmt.Sprintf("%v %+v", e, e)
		if strings.Contains(msg, "SECRET-CODE") || strings.Contains(msg, req.CodeVerifier.Reveal()) {
			t.Errorf("error reveals the code or verifier: %s", msg)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", resp, *resp, req); strings.Contains(s, "SECRET-CODE") || strings.Contains(s, req.CodeVerifier.Reveal()) {
		t.Errorf("formatting reveals the code or verifier: %s", s)
	}
}

func TestInvalidConfig(t *testing.T) {
	ts := newTokenServer(t)
	valid := func() authcode.Config {
		return authcode.Config{AuthorizationURL: "https://as.example/authorize", Endpoint: ts.endpoint(tokenendpoint.None), RedirectURI: redirectURI}
	}
	tests := []struct {
		name string
		edit func(*authcode.Config)
		want string
	}{
		{"no endpoint", func(c *authcode.Config) { c.Endpoint = nil }, "token endpoint is not configured"},
		{"no authorization URL", func(c *authcode.Config) { c.AuthorizationURL = "" }, "authorization endpoint URL is empty"},
		{"relative authorization URL", func(c *authcode.Config) { c.AuthorizationURL = "/authorize" }, `authorization endpoint URL "/authorize" is not an absolute http or https URL`},
		{"authorization URL with fragment", func(c *authcode.Config) { c.AuthorizationURL = "https://as.example/a#x" }, `authorization endpoint URL "https://as.example/a#x" has a fragment (RFC 6749 Section 3)`},
		{"redirect with fragment", func(c *authcode.Config) { c.RedirectURI = "http://127.0.0.1/cb#x" }, `redirect_uri "http://127.0.0.1/cb#x" has a fragment (RFC 6749 Section 3.1.2)`},
		{"public client without PKCE", func(c *authcode.Config) { c.DisablePKCE = true }, "PKCE is disabled for a public client (auth method none): public clients must use PKCE (RFC 9700 Section 2.1.1)"},
		{"required issuer unknown", func(c *authcode.Config) { c.RequireIssuer = true }, "the iss response parameter is required but no issuer is configured to compare it with"},
		{"negative lifetime", func(c *authcode.Config) { c.RequestLifetime = -1 }, "request lifetime is negative"},
		{"bad scope", func(c *authcode.Config) { c.Scopes = []string{""} }, "scope is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.edit(&cfg)
			if err := cfg.Validate(); err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
			f := authcode.New(cfg)
			_, err := f.Start("", nil)
			if oerr := wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidConfig); oerr.Description != tt.want {
				t.Errorf("Description = %q", oerr.Description)
			}
			_, err = f.Exchange(context.Background(), "c", "", "")
			wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidConfig)
			_, err = f.ListenLoopback("")
			wantCode(t, err, authcode.OperationResponse, oautherr.CodeInvalidConfig)
		})
	}
}
