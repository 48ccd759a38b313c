package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/coyotesense/coyotegen/conformance/authserver"
)

func start(t *testing.T, opts authserver.Options) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// postForm sends form to path with HTTP Basic client authentication and
// decodes the JSON answer.
func postForm(t *testing.T, srv *authserver.Server, path, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s answered %d with non-JSON %q", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m
}

func TestMetadata(t *testing.T) {
	srv := start(t, authserver.Options{})
	base := srv.URL()
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want a 127.0.0.1 address", base)
	}
	algs := []string{"RS256", "PS256", "ES256"}
	methods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
	want := authserver.Metadata{
		Issuer:                                             base,
		AuthorizationEndpoint:                              base + "/oauth2/auth",
		TokenEndpoint:                                      base + "/oauth2/token",
		RevocationEndpoint:                                 base + "/oauth2/revoke",
		IntrospectionEndpoint:                              base + "/oauth2/introspect",
		ScopesSupported:                                    []string{"analytics", "market-data", "portfolio", "trading"},
		ResponseTypesSupported:                             []string{"code"},
		GrantTypesSupported:                                []string{"authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		TokenEndpointAuthMethodsSupported:                  methods,
		TokenEndpointAuthSigningAlgValuesSupported:         algs,
		RevocationEndpointAuthMethodsSupported:             methods,
		RevocationEndpointAuthSigningAlgValuesSupported:    algs,
		IntrospectionEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		IntrospectionEndpointAuthSigningAlgValuesSupported: algs,
		CodeChallengeMethodsSupported:                      []string{"S256"},
		AuthorizationResponseIssParameterSupported:         true,
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var got authserver.Metadata
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q", path, ct)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
	if srv.TokenURL() != want.TokenEndpoint {
		t.Errorf("TokenURL() = %q, want %q", srv.TokenURL(), want.TokenEndpoint)
	}
}

// TestReferenceClient checks the server against golang.org/x/oauth2, an
// independent client implementation.
func TestReferenceClient(t *testing.T) {
	srv := start(t, authserver.Options{AccessTokenLifespan: 5 * time.Minute})
	tests := []struct {
		id, secret string
		style      oauth2.AuthStyle
	}{
		{"basic-client", "basic-secret", oauth2.AuthStyleInHeader},
		{"post-client", "post-secret", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cfg := clientcredentials.Config{
				ClientID:     tt.id,
				ClientSecret: tt.secret,
				TokenURL:     srv.TokenURL(),
				Scopes:       []string{"trading", "portfolio"},
				AuthStyle:    tt.style,
			}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
				t.Errorf("token = %+v", tok)
			}
			if got := tok.Extra("scope"); got != "trading portfolio" {
				t.Errorf("scope = %v, want %q", got, "trading portfolio")
			}
			if d := time.Until(tok.Expiry); d < 4*time.Minute || d > 5*time.Minute {
				t.Errorf("expires in %v, want about 5m", d)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	srv := start(t, authserver.Options{})
	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name       string
		id, secret string
		form       url.Values
		status     int
		code       string
	}{
		{"wrong secret", "basic-client", "nope", cc, 401, "invalid_client"},
		{"unknown client", "ghost", "nope", cc, 401, "invalid_client"},
		{"basic for a post client", "post-client", "post-secret", cc, 401, "invalid_client"},
		{"no client authentication", "", "", cc, 400, "invalid_request"},
		{"unknown scope", "basic-client", "basic-secret", url.Values{"grant_type": {"client_credentials"}, "scope": {"trading admin"}}, 400, "invalid_scope"},
		{"unsupported grant", "basic-client", "basic-secret", url.Values{"grant_type": {"urn:example:nope"}}, 400, "unsupported_grant_type"},
		{"missing grant_type", "basic-client", "basic-secret", url.Values{}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postForm(t, srv, "/oauth2/token", tt.id, tt.secret, tt.form)
			if status != tt.status || body["error"] != tt.code {
				t.Errorf("got %d %v, want %d %q", status, body, tt.status, tt.code)
			}
		})
	}
	resp, err := http.Get(srv.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET token endpoint: %d, want 400", resp.StatusCode)
	}
	if n, want := srv.TokenRequests(), int64(len(tests)+1); n != want {
		t.Errorf("TokenRequests() = %d, want %d", n, want)
	}
}

func TestPostClientInBody(t *testing.T) {
	srv := start(t, authserver.Options{})
	status, body := postForm(t, srv, "/oauth2/token", "", "", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"post-client"},
		"client_secret": {"post-secret"},
		"scope":         {"analytics"},
	})
	if status != 200 || body["access_token"] == "" || body["token_type"] != "bearer" || body["scope"] != "analytics" {
		t.Errorf("got %d %v", status, body)
	}
	// The basic client may not switch to client_secret_post.
	status, body = postForm(t, srv, "/oauth2/token", "", "", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"basic-client"},
		"client_secret": {"basic-secret"},
	})
	if status != 401 || body["error"] != "invalid_client" {
		t.Errorf("got %d %v, want 401 invalid_client", status, body)
	}
}

func TestIntrospectAndRevoke(t *testing.T) {
	srv := start(t, authserver.Options{})
	status, body := postForm(t, srv, "/oauth2/token", "basic-client", "basic-secret",
		url.Values{"grant_type": {"client_credentials"}, "scope": {"trading"}})
	if status != 200 {
		t.Fatalf("token request: %d %v", status, body)
	}
	access, _ := body["access_token"].(string)

	status, body = postForm(t, srv, "/oauth2/introspect", "post-client", "post-secret", url.Values{"token": {access}})
	if status != 200 || body["active"] != true || body["client_id"] != "basic-client" || body["scope"] != "trading" || body["sub"] != "basic-client" {
		t.Errorf("introspection of a fresh token: %d %v", status, body)
	}

	status, body = postForm(t, srv, "/oauth2/revoke", "basic-client", "basic-secret", url.Values{"token": {access}})
	if status != 200 {
		t.Errorf("revocation: %d %v", status, body)
	}

	status, body = postForm(t, srv, "/oauth2/introspect", "post-client", "post-secret", url.Values{"token": {access}})
	if status != 200 || body["active"] != false {
		t.Errorf("introspection of a revoked token: %d %v", status, body)
	}

	status, body = postForm(t, srv, "/oauth2/introspect", "basic-client", "wrong", url.Values{"token": {access}})
	if status != 401 {
		t.Errorf("introspection with a wrong secret: %d %v, want 401", status, body)
	}
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	srv := start(t, authserver.Options{})
	cfg := oauth2.Config{
		ClientID:     "basic-client",
		ClientSecret: "basic-secret",
		Endpoint: oauth2.Endpoint{
			AuthURL:   srv.URL() + "/oauth2/auth",
			TokenURL:  srv.TokenURL(),
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: "http://127.0.0.1:8123/callback", // loopback: any port matches
		Scopes:      []string{"portfolio"},
	}
	verifier := oauth2.GenerateVerifier()
	state := "state-0123456789"
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization response %d has no Location: %v", resp.StatusCode, err)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("redirect = %s, want a code and state %q", loc, state)
	}

	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier-0")); err == nil {
		t.Error("exchange with the wrong PKCE verifier succeeded")
	}

	// A failed PKCE check invalidates the code (RFC 6749 Section 4.1.2),
	// so start again.
	verifier = oauth2.GenerateVerifier()
	resp, err = noRedirect.Get(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = resp.Location()
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.Extra("scope") != "portfolio" {
		t.Errorf("token = %+v, scope %v", tok, tok.Extra("scope"))
	}
	status, body := postForm(t, srv, "/oauth2/introspect", "basic-client", "basic-secret", url.Values{"token": {tok.AccessToken}})
	if status != 200 || body["active"] != true || body["sub"] != authserver.Subject {
		t.Errorf("introspection: %d %v", status, body)
	}
}

func TestAuthorizationErrors(t *testing.T) {
	srv := start(t, authserver.Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {"basic-client"},
		"redirect_uri":  {"http://127.0.0.1/callback"},
		"scope":         {"admin"},
		"state":         {"state-0123456789"},
	}
	resp, err := noRedirect.Get(srv.URL() + "/oauth2/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no redirect: %d", resp.StatusCode)
	}
	if got := loc.Query().Get("error"); got != "invalid_scope" {
		t.Errorf("error = %q, want invalid_scope", got)
	}
}

func TestCustomClients(t *testing.T) {
	srv := start(t, authserver.Options{
		Clients: []authserver.Client{{ID: "id:with/odd chars", Secret: "sec ret%+&", Scopes: []string{"x"}}},
	})
	status, body := postForm(t, srv, "/oauth2/token", "id:with/odd chars", "sec ret%+&",
		url.Values{"grant_type": {"client_credentials"}, "scope": {"x"}})
	if status != 200 || body["scope"] != "x" {
		t.Errorf("got %d %v", status, body)
	}
	// Without GrantTypes the client may use client_credentials only.
	status, body = postForm(t, srv, "/oauth2/token", "id:with/odd chars", "sec ret%+&",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}})
	if status == 200 {
		t.Errorf("refresh_token grant allowed: %v", body)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts authserver.Options
	}{
		{"public address", authserver.Options{Addr: "0.0.0.0:0"}},
		{"non-loopback host", authserver.Options{Addr: "192.0.2.1:0"}},
		{"no port", authserver.Options{Addr: "127.0.0.1"}},
		{"negative lifespan", authserver.Options{AccessTokenLifespan: -time.Second}},
		{"unknown auth method", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b", AuthMethod: "client_secret_jwt"}}}},
		{"no secret", authserver.Options{Clients: []authserver.Client{{ID: "a"}}}},
		{"no ID", authserver.Options{Clients: []authserver.Client{{Secret: "b"}}}},
		{"duplicate", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b"}, {ID: "a", Secret: "c"}}}},
		{"negative refresh lifespan", authserver.Options{RefreshTokenLifespan: -time.Second}},
		{"negative code lifespan", authserver.Options{AuthorizationCodeLifespan: -time.Second}},
		{"negative assertion lifetime", authserver.Options{MaxAssertionLifetime: -time.Second}},
		{"unknown grant type", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b", GrantTypes: []string{"password"}}}}},
		{"public client with a secret", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b", AuthMethod: "none"}}}},
		{"public client credentials", authserver.Options{Clients: []authserver.Client{{ID: "a", AuthMethod: "none", GrantTypes: []string{"client_credentials"}}}}},
		{"private_key_jwt without keys", authserver.Options{Clients: []authserver.Client{{ID: "a", AuthMethod: "private_key_jwt"}}}},
		{"private_key_jwt with a secret", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b", AuthMethod: "private_key_jwt", PublicKeys: []authserver.PublicKey{{Key: authserver.ECTestKey().Public()}}}}}},
		{"ES256 with an RSA key", authserver.Options{Clients: []authserver.Client{{ID: "a", AuthMethod: "private_key_jwt", SigningAlgorithm: "ES256", PublicKeys: []authserver.PublicKey{{Key: authserver.RSATestKey().Public()}}}}}},
		{"unknown algorithm", authserver.Options{Clients: []authserver.Client{{ID: "a", AuthMethod: "private_key_jwt", SigningAlgorithm: "HS256", PublicKeys: []authserver.PublicKey{{Key: authserver.RSATestKey().Public()}}}}}},
		{"private key instead of public", authserver.Options{Clients: []authserver.Client{{ID: "a", AuthMethod: "private_key_jwt", PublicKeys: []authserver.PublicKey{{Key: authserver.ECTestKey()}}}}}},
		{"keys for a secret client", authserver.Options{Clients: []authserver.Client{{ID: "a", Secret: "b", PublicKeys: []authserver.PublicKey{{Key: authserver.ECTestKey().Public()}}}}}},
		{"issuer without name", authserver.Options{Issuers: []authserver.TrustedIssuer{{AnySubject: true, Key: authserver.PublicKey{Key: authserver.ECTestKey().Public()}}}}},
		{"issuer without subject", authserver.Options{Issuers: []authserver.TrustedIssuer{{Issuer: "i", Key: authserver.PublicKey{Key: authserver.ECTestKey().Public()}}}}},
		{"issuer with subject and any subject", authserver.Options{Issuers: []authserver.TrustedIssuer{{Issuer: "i", Subject: "s", AnySubject: true, Key: authserver.PublicKey{Key: authserver.ECTestKey().Public()}}}}},
		{"issuer without key", authserver.Options{Issuers: []authserver.TrustedIssuer{{Issuer: "i", AnySubject: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := authserver.Start(tt.opts)
			if err == nil {
				srv.Close()
				t.Fatal("Start succeeded")
			}
			t.Log(err)
		})
	}
}

func TestDefaultClients(t *testing.T) {
	clients := authserver.DefaultClients()
	type summary struct {
		Secret, AuthMethod, SigningAlgorithm string
		KeyIDs                               []string
		GrantTypes, Scopes, RedirectURIs     []string
	}
	confidential := []string{"client_credentials", "authorization_code", "refresh_token", authserver.JWTBearerGrantType}
	scopes := []string{"trading", "market-data", "analytics", "portfolio"}
	redirects := []string{"http://127.0.0.1/callback"}
	want := map[string]summary{
		"basic-client":   {"basic-secret", "client_secret_basic", "", nil, confidential, scopes, redirects},
		"post-client":    {"post-secret", "client_secret_post", "", nil, confidential, scopes, redirects},
		"public-client":  {"", "none", "", nil, []string{"authorization_code", "refresh_token", authserver.JWTBearerGrantType}, scopes, redirects},
		"jwt-rsa-client": {"", "private_key_jwt", "RS256", []string{authserver.RSATestKeyID}, confidential, scopes, redirects},
		"jwt-ps-client":  {"", "private_key_jwt", "PS256", []string{authserver.RSATestKeyID}, confidential, scopes, redirects},
		"jwt-ec-client":  {"", "private_key_jwt", "ES256", []string{authserver.ECTestKeyID}, confidential, scopes, redirects},
	}
	got := make(map[string]summary)
	for _, c := range clients {
		var ids []string
		for _, k := range c.PublicKeys {
			ids = append(ids, k.KeyID)
		}
		got[c.ID] = summary{c.Secret, c.AuthMethod, c.SigningAlgorithm, ids, c.GrantTypes, c.Scopes, c.RedirectURIs}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultClients() (-want +got):\n%s", diff)
	}
	clients[0].Scopes[0] = "changed"
	clients[0].GrantTypes[0] = "changed"
	again := authserver.DefaultClients()
	if again[0].Scopes[0] != "trading" || again[0].GrantTypes[0] != "client_credentials" || again[1].GrantTypes[0] != "client_credentials" {
		t.Error("DefaultClients shares slices between calls")
	}
}

func TestShutdown(t *testing.T) {
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
	_, err = http.Get(srv.URL() + "/.well-known/oauth-authorization-server")
	if err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("server still answers after Shutdown: %v", err)
	}
}
