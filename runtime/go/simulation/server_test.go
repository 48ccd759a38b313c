package simulation_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/simulation"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

const issuer = simulation.DefaultServerURL

func newServer(t *testing.T, cfg simulation.Config) *simulation.Server {
	t.Helper()
	srv, err := simulation.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// reply is a decoded answer of the server.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

// post sends a form to an endpoint of srv through its RoundTripper, with
// Basic authentication when id is set.
func post(t *testing.T, srv *simulation.Server, path string, form url.Values, id, pass string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(pass))
	}
	return do(t, srv.Client(), req)
}

func do(t *testing.T, hc *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s: invalid JSON %q: %v", req.URL, raw, err)
		}
	}
	return r
}

func clientCredentials(t *testing.T, srv *simulation.Server) reply {
	t.Helper()
	return post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"client_credentials"}, "scope": {"trading"}}, "svc", "s3cret")
}

func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("answer %d %v, want %d with error %q", r.status, r.body, status, code)
	}
}

func TestMetadataAtBothLocationsForAnyIssuer(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	for _, tc := range []struct{ url, issuer string }{
		{issuer + "/.well-known/oauth-authorization-server", issuer},
		{issuer + "/.well-known/openid-configuration", issuer},
		{"https://other.example/.well-known/oauth-authorization-server/tenant-a", "https://other.example/tenant-a"},
		{"https://other.example/tenant-a/.well-known/openid-configuration", "https://other.example/tenant-a"},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		r := do(t, srv.Client(), req)
		if r.status != 200 || r.str("issuer") != tc.issuer || r.str("token_endpoint") != tc.issuer+simulation.TokenPath {
			t.Errorf("%s: %d %v; want issuer %q", tc.url, r.status, r.body, tc.issuer)
		}
	}

	// The same handler behind a real listener derives its issuer from the
	// request too.
	hs := httptest.NewServer(srv)
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/.well-known/oauth-authorization-server", nil)
	if r := do(t, hs.Client(), req); r.str("issuer") != hs.URL || r.str("revocation_endpoint") != hs.URL+simulation.RevocationPath {
		t.Errorf("over a socket: %v", r.body)
	}
	if n := srv.Stats().Endpoints[simulation.EndpointMetadata].Succeeded; n != 5 {
		t.Errorf("metadata succeeded %d times, want 5", n)
	}
}

func TestClientCredentialsTokenLivesInVirtualTime(t *testing.T) {
	srv := newServer(t, simulation.Config{TokenLifetime: 10 * time.Minute})
	vc := srv.Clock()
	r := clientCredentials(t, srv)
	at := r.str("access_token")
	if r.status != 200 || !strings.HasPrefix(at, simulation.AccessTokenPrefix) || r.body["expires_in"] != 600.0 || r.str("scope") != "trading" || r.body["refresh_token"] != nil {
		t.Fatalf("token response %d %v", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("token response may be cached")
	}
	info, ok := srv.Lookup(at)
	if !ok || !info.Active || !info.ExpiresAt.Equal(vc.Now().Add(10*time.Minute)) || info.Subject != "svc" {
		t.Fatalf("Lookup = %+v, %v", info, ok)
	}

	introspect := func() reply {
		return post(t, srv, simulation.IntrospectionPath, url.Values{"token": {at}}, "svc", "s3cret")
	}
	if r := introspect(); r.body["active"] != true || r.body["exp"] != float64(info.ExpiresAt.Unix()) || r.str("client_id") != "svc" {
		t.Fatalf("introspection of a live token: %v", r.body)
	}
	vc.Advance(10*time.Minute - time.Second)
	if r := introspect(); r.body["active"] != true {
		t.Fatal("token inactive before its virtual expiry")
	}
	vc.Advance(time.Second)
	if r := introspect(); r.body["active"] != false || len(r.body) != 1 {
		t.Fatalf("expired token introspects as %v, want only active=false", r.body)
	}
}

func TestClientAuthentication(t *testing.T) {
	srv := newServer(t, simulation.Config{Clients: []simulation.Client{
		{ID: "svc", Secret: "s3cret"},
		{ID: "spa"}, // public
	}})
	form := url.Values{"grant_type": {"client_credentials"}}
	if r := post(t, srv, simulation.TokenPath, form, "svc", "wrong"); r.status != 401 || r.str("error") != "invalid_client" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong secret: %d %v %v", r.status, r.body, r.header)
	}
	wantError(t, post(t, srv, simulation.TokenPath, form, "nobody", "x"), 401, "invalid_client")
	withPost := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"s3cret"}}
	if r := post(t, srv, simulation.TokenPath, withPost, "", ""); r.status != 200 {
		t.Errorf("client_secret_post: %d %v", r.status, r.body)
	}
	wantError(t, post(t, srv, simulation.TokenPath, withPost, "svc", "s3cret"), 400, "invalid_request") // two methods
	public := url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}}
	wantError(t, post(t, srv, simulation.TokenPath, public, "", ""), 400, "unauthorized_client")
	confidentialAsPublic := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}}
	wantError(t, post(t, srv, simulation.TokenPath, confidentialAsPublic, "", ""), 401, "invalid_client")

	assertion := jwt(t, map[string]any{"iss": "svc", "sub": "svc", "aud": issuer + simulation.TokenPath, "exp": 1})
	pkj := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	if r := post(t, srv, simulation.TokenPath, pkj, "", ""); r.status != 200 {
		t.Errorf("private_key_jwt: %d %v", r.status, r.body)
	}
	pkj.Set("client_assertion", "not.a.jwt")
	wantError(t, post(t, srv, simulation.TokenPath, pkj, "", ""), 401, "invalid_client")
}

// jwt returns a well-formed JWS with claims and a signature that is not
// checked.
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + enc(payload) + "." + enc([]byte("signature"))
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	srv := newServer(t, simulation.Config{TokenLifetime: time.Minute})
	code := authorize(t, srv, "S256")
	r := post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}, "web", "pw")
	rt0, at0 := r.str("refresh_token"), r.str("access_token")
	if r.status != 200 || !strings.HasPrefix(rt0, simulation.RefreshTokenPrefix) {
		t.Fatalf("code exchange: %d %v", r.status, r.body)
	}
	refresh := func(rt string) reply {
		return post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "web", "pw")
	}
	r = refresh(rt0)
	rt1, at1 := r.str("refresh_token"), r.str("access_token")
	if r.status != 200 || rt1 == "" || rt1 == rt0 || r.str("scope") != "trading" {
		t.Fatalf("refresh: %d %v; want a rotated refresh token", r.status, r.body)
	}
	if info, _ := srv.Lookup(rt0); !info.Rotated || info.Active {
		t.Errorf("used refresh token: %+v", info)
	}
	// Presenting the rotated token again revokes the whole grant.
	wantError(t, refresh(rt0), 400, "invalid_grant")
	for _, v := range []string{at0, at1, rt1} {
		if info, _ := srv.Lookup(v); info.Active || !info.Revoked {
			t.Errorf("after reuse, %s: %+v; want revoked", v[:10], info)
		}
	}
	wantError(t, refresh(rt1), 400, "invalid_grant")
	if g := srv.Stats().Grants[simulation.GrantRefreshToken]; g.Requests != 3 || g.Succeeded != 1 || g.Failed != 2 || g.Injected != 0 {
		t.Errorf("refresh counters %+v", g)
	}

	// Without rotation the refresh token stays, and no new one is sent.
	keep := newServer(t, simulation.Config{KeepRefreshTokens: true})
	code = authorize(t, keep, "plain")
	r = post(t, keep, simulation.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}, "web", "pw")
	rt := r.str("refresh_token")
	for range 3 {
		r = post(t, keep, simulation.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "web", "pw")
		if r.status != 200 || r.body["refresh_token"] != nil {
			t.Fatalf("refresh without rotation: %d %v", r.status, r.body)
		}
	}
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// authorize runs the authorization endpoint for client "web" with a PKCE
// challenge by method, and returns the code.
func authorize(t *testing.T, srv *simulation.Server, method string) string {
	t.Helper()
	challenge := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {"https://app.example/cb"},
		"state": {"xyz"}, "scope": {"trading"}, "code_challenge": {challenge}, "code_challenge_method": {method}}
	loc, err := srv.Authorize(context.Background(), issuer+simulation.AuthorizationPath+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if got := u.Query(); got.Get("state") != "xyz" || got.Get("iss") != issuer || !strings.HasPrefix(u.String(), "https://app.example/cb?") {
		t.Fatalf("redirect %s", loc)
	}
	return u.Query().Get("code")
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	vc := srv.Clock()
	exchange := func(code, redirect, v string) reply {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		if v != "" {
			form.Set("code_verifier", v)
		}
		return post(t, srv, simulation.TokenPath, form, "web", "pw")
	}
	code := authorize(t, srv, "S256")
	wantError(t, exchange(code, "https://app.example/cb", "wrong-verifier-wrong-verifier-wrong-verifier"), 400, "invalid_grant")
	code = authorize(t, srv, "S256")
	wantError(t, exchange(code, "https://app.example/other", verifier), 400, "invalid_grant")
	code = authorize(t, srv, "S256")
	r := exchange(code, "https://app.example/cb", verifier)
	if r.status != 200 || r.str("refresh_token") == "" {
		t.Fatalf("exchange: %d %v", r.status, r.body)
	}
	// A code is single use: a second exchange fails and revokes the
	// tokens of the first.
	wantError(t, exchange(code, "https://app.example/cb", verifier), 400, "invalid_grant")
	if info, _ := srv.Lookup(r.str("access_token")); info.Active {
		t.Error("tokens of a replayed code stay active")
	}
	// Codes lapse in virtual time.
	code = authorize(t, srv, "S256")
	vc.Advance(simulation.CodeLifetime)
	wantError(t, exchange(code, "https://app.example/cb", verifier), 400, "invalid_grant")

	// Errors the endpoint redirects with, and those it shows the user.
	q := url.Values{"response_type": {"token"}, "client_id": {"web"}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"}}
	loc, err := srv.Authorize(context.Background(), issuer+simulation.AuthorizationPath+"?"+q.Encode())
	if u, _ := url.Parse(loc); err != nil || u.Query().Get("error") != "unsupported_response_type" || u.Query().Get("state") != "s" {
		t.Errorf("unsupported response type: %s, %v", loc, err)
	}
	q.Set("redirect_uri", "relative/cb")
	if _, err = srv.Authorize(context.Background(), issuer+simulation.AuthorizationPath+"?"+q.Encode()); err == nil {
		t.Error("an invalid redirect_uri was redirected to")
	}
	if c := srv.Stats().Endpoints[simulation.EndpointAuthorization]; c.Requests != 6 || c.Succeeded != 4 || c.Failed != 2 {
		t.Errorf("authorization counters %+v", c)
	}
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidRequest || oerr.Retryable || oerr.StatusCode != 400 {
		t.Errorf("invalid redirect_uri: %v, want invalid_request, HTTP 400", err)
	}

	// During an outage the user meets the server's own error: retryable,
	// with the status and the Retry-After.
	now := vc.Now()
	if err := srv.AddOutage(simulation.Outage{From: now, Until: now.Add(time.Minute), RetryAfter: 5 * time.Second, Endpoints: []simulation.Endpoint{simulation.EndpointAuthorization}}); err != nil {
		t.Fatal(err)
	}
	q = url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {"https://app.example/cb"}}
	_, err = srv.Authorize(context.Background(), issuer+simulation.AuthorizationPath+"?"+q.Encode())
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeTemporarilyUnavailable || !oerr.Retryable || oerr.StatusCode != 503 || oerr.RetryAfter != 5*time.Second {
		t.Errorf("authorize during an outage: %#v, want retryable temporarily_unavailable, HTTP 503, Retry-After 5s", err)
	}
}

func TestJWTBearerGrantAcceptsAnyWellFormedAssertion(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	grant := func(assertion string) reply {
		return post(t, srv, simulation.TokenPath, url.Values{"grant_type": {simulation.GrantJWTBearer}, "assertion": {assertion}}, "", "")
	}
	r := grant(jwt(t, map[string]any{"iss": "svc", "sub": "trader-001", "aud": "x", "exp": 1}))
	if r.status != 200 {
		t.Fatalf("jwt-bearer: %d %v", r.status, r.body)
	}
	if info, _ := srv.Lookup(r.str("access_token")); info.Subject != "trader-001" || info.GrantType != simulation.GrantJWTBearer {
		t.Errorf("issued %+v", info)
	}
	wantError(t, grant(jwt(t, map[string]any{"iss": "svc", "sub": "trader-001"})), 400, "invalid_grant")
	wantError(t, grant("eyJhbGciOiJub25lIn0.e30."), 400, "invalid_grant")
}

func TestRevocationRevokesTheGrant(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	code := authorize(t, srv, "S256")
	r := post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}, "web", "pw")
	at, rt := r.str("access_token"), r.str("refresh_token")
	if r := post(t, srv, simulation.RevocationPath, url.Values{"token": {"unknown"}}, "web", "pw"); r.status != 200 {
		t.Errorf("revoking an unknown token: %d", r.status)
	}
	if r := post(t, srv, simulation.RevocationPath, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, "web", "pw"); r.status != 200 {
		t.Fatalf("revocation: %d %v", r.status, r.body)
	}
	if info, _ := srv.Lookup(at); info.Active {
		t.Error("revoking the refresh token left its access token active")
	}
}

func TestOutageWindow(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	vc := srv.Clock()
	start := vc.Now()
	if err := srv.AddOutage(simulation.Outage{From: start.Add(time.Minute), Until: start.Add(2 * time.Minute), RetryAfter: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if r := clientCredentials(t, srv); r.status != 200 {
		t.Fatalf("before the outage: %d", r.status)
	}
	vc.Advance(time.Minute)
	r := clientCredentials(t, srv)
	wantError(t, r, 503, "temporarily_unavailable")
	if r.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2 (seconds, rounded up)", r.header.Get("Retry-After"))
	}
	req, _ := http.NewRequest(http.MethodGet, issuer+"/.well-known/oauth-authorization-server", nil)
	if r := do(t, srv.Client(), req); r.status != 503 {
		t.Errorf("metadata during an outage of every endpoint: %d", r.status)
	}
	vc.Advance(time.Minute - time.Nanosecond)
	wantError(t, clientCredentials(t, srv), 503, "temporarily_unavailable")
	vc.Advance(time.Nanosecond)
	if r := clientCredentials(t, srv); r.status != 200 {
		t.Fatalf("after the outage: %d %v", r.status, r.body)
	}
	st := srv.Stats()
	if c := st.Endpoints[simulation.EndpointToken]; c.Requests != 4 || c.Injected != 2 || c.Succeeded != 2 {
		t.Errorf("token counters %+v", c)
	}
	ex := srv.Exchanges()
	if len(ex) != 5 || !ex[1].At.Equal(start.Add(time.Minute)) || !ex[1].Injected || ex[1].Status != 503 {
		t.Errorf("exchanges %+v", ex)
	}

	for _, bad := range []simulation.Outage{
		{From: start, Until: start},
		{From: start, Until: start.Add(time.Second), Status: 200},
		{From: start, Until: start.Add(time.Second), Endpoints: []simulation.Endpoint{"userinfo"}},
	} {
		var oerr *oautherr.Error
		if err := srv.AddOutage(bad); !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidConfig {
			t.Errorf("AddOutage(%+v) = %v, want invalid_config", bad, err)
		}
	}
}

func TestInjectedFaults(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.Inject(simulation.Fault{Endpoint: simulation.EndpointToken, Status: 429, Code: "slow_down", RetryAfter: 7 * time.Second, Times: 2}))
	must(srv.Inject(simulation.Fault{Endpoint: simulation.EndpointToken, Status: 502}))
	must(srv.Inject(simulation.Fault{Endpoint: simulation.EndpointToken, Grant: simulation.GrantRefreshToken, Status: 400, Code: "invalid_grant"}))

	for range 2 {
		r := clientCredentials(t, srv)
		wantError(t, r, 429, "slow_down")
		if r.header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	if r := clientCredentials(t, srv); r.status != 502 || r.body != nil {
		t.Errorf("bare 502: %d %v", r.status, r.body)
	}
	if r := clientCredentials(t, srv); r.status != 200 {
		t.Errorf("after the faults: %d", r.status)
	}
	// The refresh fault waited for a refresh request.
	wantError(t, post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "web", "pw"), 400, "invalid_grant")
	if g := srv.Stats().Grants[simulation.GrantRefreshToken]; g.Injected != 1 {
		t.Errorf("refresh counters %+v", g)
	}

	// Through the client's token endpoint code, the faults are the typed
	// errors of the real mode.
	must(srv.Inject(simulation.Fault{Endpoint: simulation.EndpointToken, Status: 503, RetryAfter: 30 * time.Second}))
	ep := &tokenendpoint.Endpoint{URL: issuer + simulation.TokenPath, ClientID: "svc", ClientSecret: "pw", HTTPClient: srv.Client(), Clock: srv.Clock()}
	_, err := ep.Exchange(context.Background(), "get_valid_token", url.Values{"grant_type": {"client_credentials"}})
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.StatusCode != 503 || !oerr.Retryable || oerr.RetryAfter != 30*time.Second || oerr.Code != oautherr.CodeServerError {
		t.Errorf("typed error %#v", err)
	}

	for _, bad := range []simulation.Fault{{Status: 302}, {Status: 500, Times: -1}, {Status: 500, Code: "two words"}, {Status: 500, Endpoint: "jwks"}} {
		if err := srv.Inject(bad); err == nil {
			t.Errorf("Inject(%+v) accepted", bad)
		}
	}
}

// outcomes sends n client credentials requests and returns their
// statuses and tokens.
func outcomes(t *testing.T, srv *simulation.Server, n int) ([]int, []string) {
	statuses, toks := make([]int, n), make([]string, n)
	for i := range n {
		r := clientCredentials(t, srv)
		statuses[i], toks[i] = r.status, r.str("access_token")
	}
	return statuses, toks
}

func TestErrorRateIsSeeded(t *testing.T) {
	const n = 2000
	a, aTok := outcomes(t, newServer(t, simulation.Config{ErrorRate: 0.2, Seed: 7}), n)
	b, bTok := outcomes(t, newServer(t, simulation.Config{ErrorRate: 0.2, Seed: 7}), n)
	c, _ := outcomes(t, newServer(t, simulation.Config{ErrorRate: 0.2, Seed: 8}), n)
	if !slices.Equal(a, b) || !slices.Equal(aTok, bTok) {
		t.Error("the same seed gave different runs")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same run")
	}
	failed := 0
	for _, s := range a {
		if s == 503 {
			failed++
		} else if s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	// Binomial(2000, 0.2): mean 400, standard deviation ~17.9; 5 sigma.
	if failed < 310 || failed > 490 {
		t.Errorf("%d of %d failed at error_rate 0.2", failed, n)
	}

	srv := newServer(t, simulation.Config{ErrorRate: 1})
	req, _ := http.NewRequest(http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if r := do(t, srv.Client(), req); r.status != 200 {
		t.Error("the error rate applies to metadata")
	}
	wantError(t, clientCredentials(t, srv), 503, "temporarily_unavailable")
	if err := srv.SetErrorRate(0); err != nil {
		t.Fatal(err)
	}
	if r := clientCredentials(t, srv); r.status != 200 {
		t.Error("SetErrorRate(0) did not stop the errors")
	}
	if srv.SetErrorRate(1.5) == nil {
		t.Error("SetErrorRate(1.5) accepted")
	}
}

func TestReportedLatency(t *testing.T) {
	srv := newServer(t, simulation.Config{Latency: 20 * time.Millisecond, LatencyJitter: 10 * time.Millisecond, Seed: 3})
	start := srv.Clock().Now()
	const n = 500
	outcomes(t, srv, n)
	if !srv.Clock().Now().Equal(start) {
		t.Error("reported latency moved the clock")
	}
	var total time.Duration
	for _, x := range srv.Exchanges() {
		if x.Latency < 10*time.Millisecond || x.Latency > 30*time.Millisecond {
			t.Fatalf("latency %v outside 20ms ± 10ms", x.Latency)
		}
		total += x.Latency
	}
	if total != srv.Stats().Latency {
		t.Errorf("Stats().Latency = %v, exchanges sum to %v", srv.Stats().Latency, total)
	}
	// Uniform on ±10ms: the mean of 500 has a standard deviation of
	// ~0.26ms.
	if mean := total / n; mean < 19*time.Millisecond || mean > 21*time.Millisecond {
		t.Errorf("mean latency %v, want about 20ms", mean)
	}
}

func TestBlockingLatencyWaitsForTheVirtualClock(t *testing.T) {
	srv := newServer(t, simulation.Config{Latency: 250 * time.Millisecond, BlockOnLatency: true})
	vc := srv.Clock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan reply)
	go func() { done <- clientCredentials(t, srv) }()
	if err := vc.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("answered before the clock moved")
	default:
	}
	vc.Advance(250 * time.Millisecond)
	if r := <-done; r.status != 200 {
		t.Fatalf("%d %v", r.status, r.body)
	}

	// A client on the same clock with a shorter timeout times out in
	// virtual time, and the server counts the abandoned request.
	ep := &tokenendpoint.Endpoint{URL: issuer + simulation.TokenPath, ClientID: "svc", ClientSecret: "pw", HTTPClient: srv.Client(), Clock: vc}
	errc := make(chan error)
	go func() {
		rctx, rcancel := clock.WithTimeout(ctx, vc, 100*time.Millisecond)
		defer rcancel()
		_, err := ep.Exchange(rctx, "get_valid_token", url.Values{"grant_type": {"client_credentials"}})
		errc <- err
	}()
	if err := vc.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	vc.Advance(100 * time.Millisecond)
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exchange = %v, want a deadline error", err)
	}
	if err := srv.AwaitRequests(ctx, simulation.EndpointToken, 2); err != nil {
		t.Fatal(err)
	}
	if c := srv.Stats().Endpoints[simulation.EndpointToken]; c.Abandoned != 1 || c.Succeeded != 1 {
		t.Errorf("token counters %+v", c)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, bad := range []simulation.Config{
		{TokenLifetime: -1}, {Latency: -1}, {LatencyJitter: -1}, {ErrorRate: 1.01}, {ErrorRate: -0.1},
		{Clients: []simulation.Client{{ID: ""}}}, {Clients: []simulation.Client{{ID: "a"}, {ID: "a"}}},
		{Scopes: []string{"two words"}}, {RefreshTokenLifetime: -1},
	} {
		_, err := simulation.New(bad)
		var oerr *oautherr.Error
		if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidConfig {
			t.Errorf("New(%+v) = %v, want invalid_config", bad, err)
		}
	}
	srv := newServer(t, simulation.Config{Scopes: []string{"trading"}})
	wantError(t, post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, "svc", "pw"), 400, "invalid_scope")
	r := post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"client_credentials"}}, "svc", "pw")
	if r.str("scope") != "trading" {
		t.Errorf("default scope %q, want the configured scopes", r.str("scope"))
	}
	wantError(t, post(t, srv, simulation.TokenPath, url.Values{"grant_type": {"password"}}, "svc", "pw"), 400, "unsupported_grant_type")
	if r := post(t, srv, "/nowhere", url.Values{}, "svc", "pw"); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
}

func TestRoundTripHonoursContextAndClosesBody(t *testing.T) {
	srv := newServer(t, simulation.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := &closeRecorder{Reader: strings.NewReader("grant_type=client_credentials")}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, issuer+simulation.TokenPath, body)
	if _, err := srv.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip with an ended context = %v", err)
	}
	if !body.closed {
		t.Error("RoundTrip did not close the body")
	}
	req, _ = http.NewRequest(http.MethodPost, issuer+simulation.TokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "pw")
	resp, err := srv.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 || resp.Request != req || req.Form != nil {
		t.Errorf("RoundTrip = %v, %v; the request must stay unmodified", resp, err)
	}
	var wrapped http.RoundTripper = srv.WrapTransport(http.DefaultTransport)
	if wrapped != srv {
		t.Error("WrapTransport does not route to the server")
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }
