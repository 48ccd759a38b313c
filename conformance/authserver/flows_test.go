package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"golang.org/x/oauth2"

	"github.com/coyotesense/coyotegen/conformance/authserver"
)

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// testKeys writes the test keys into a temporary directory.
func testKeys(t *testing.T) authserver.TestKeys {
	t.Helper()
	keys, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// loadKey reads a private key from a PEM file the way a client runtime
// would: PKCS #1, PKCS #8 or SEC 1.
func loadKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		t.Fatalf("%s: PEM block %q", path, block.Type)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return key.(crypto.Signer)
}

func newJTI(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// assertionClaims are the claims of a JWT assertion (RFC 7523 Section 3)
// valid for a minute.
func assertionClaims(t *testing.T, iss, sub, aud string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": iss,
		"sub": sub,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
		"jti": newJTI(t),
	}
}

func sign(t *testing.T, key crypto.Signer, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authorize sends an authorization request and returns the redirection.
func authorize(t *testing.T, srv *authserver.Server, q url.Values) *url.URL {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.AuthorizationURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization response %d has no Location: %v", resp.StatusCode, err)
	}
	return loc
}

func TestWriteTestKeys(t *testing.T) {
	keys := testKeys(t)
	rsaKey, ecKey := authserver.RSATestKey(), authserver.ECTestKey()
	for _, tt := range []struct {
		path string
		want crypto.PublicKey
	}{
		{keys.RSAPKCS1Path, rsaKey.Public()},
		{keys.RSAPKCS8Path, rsaKey.Public()},
		{keys.ECSEC1Path, ecKey.Public()},
		{keys.ECPKCS8Path, ecKey.Public()},
	} {
		got := loadKey(t, tt.path).Public()
		if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want) {
			t.Errorf("%s holds another key", tt.path)
		}
	}
	for _, tt := range []struct {
		path string
		want crypto.PublicKey
	}{{keys.RSAPublicPath, rsaKey.Public()}, {keys.ECPublicPath, ecKey.Public()}} {
		data, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil || block.Type != "PUBLIC KEY" {
			t.Fatalf("%s: %v, block %q", tt.path, err, block.Type)
		}
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want) {
			t.Errorf("%s holds another key", tt.path)
		}
	}
	if _, ok := loadKey(t, keys.RSAPKCS1Path).(*rsa.PrivateKey); !ok || rsaKey.N.BitLen() != 2048 {
		t.Errorf("RSA test key has %d bits, want 2048", rsaKey.N.BitLen())
	}
	if ecKey.Curve.Params().Name != "P-256" {
		t.Errorf("EC test key on %s, want P-256", ecKey.Curve.Params().Name)
	}
	untrusted := loadKey(t, keys.UntrustedECPKCS8Path).(*ecdsa.PrivateKey)
	if untrusted.Equal(ecKey) {
		t.Error("the untrusted key is the EC test key")
	}
	entries, err := os.ReadDir(keys.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 7 {
		t.Errorf("%d files written, want 7", len(entries))
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	if _, err := authserver.WriteTestKeys(filepath.Join(keys.Dir, "missing")); err == nil {
		t.Error("WriteTestKeys into a missing directory succeeded")
	}
}

func TestAuthorizationResponseIssuer(t *testing.T) {
	srv := start(t, authserver.Options{})
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {"basic-client"},
		"redirect_uri":  {"http://127.0.0.1:9/callback"},
		"scope":         {"trading"},
		"state":         {"state-0123456789"},
	}
	loc := authorize(t, srv, q)
	if got := loc.Query(); got.Get("iss") != srv.URL() || got.Get("code") == "" || got.Get("state") != "state-0123456789" {
		t.Errorf("success redirect = %s, want code, state and iss=%s", loc, srv.URL())
	}

	q.Set("scope", "admin")
	loc = authorize(t, srv, q)
	if got := loc.Query(); got.Get("iss") != srv.URL() || got.Get("error") != "invalid_scope" {
		t.Errorf("error redirect = %s, want invalid_scope and iss=%s", loc, srv.URL())
	}

	q.Set("response_mode", "fragment")
	loc = authorize(t, srv, q)
	frag, err := url.ParseQuery(loc.Fragment)
	if err != nil || frag.Get("iss") != srv.URL() || frag.Get("error") != "invalid_scope" {
		t.Errorf("fragment error redirect = %s, want invalid_scope and iss=%s", loc, srv.URL())
	}
}

func TestPublicClientRequiresPKCE(t *testing.T) {
	srv := start(t, authserver.Options{})
	base := url.Values{
		"response_type": {"code"},
		"client_id":     {"public-client"},
		"redirect_uri":  {"http://127.0.0.1:8123/callback"},
		"scope":         {"trading"},
		"state":         {"state-0123456789"},
	}
	tests := []struct {
		name  string
		extra url.Values
	}{
		{"no challenge", url.Values{}},
		{"plain challenge", url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tt.extra {
				q[k] = v
			}
			loc := authorize(t, srv, q)
			if got := loc.Query().Get("error"); got != "invalid_request" {
				t.Errorf("redirect = %s, want error=invalid_request", loc)
			}
		})
	}
}

// publicPKCEToken runs the authorization code flow with PKCE for the
// public client through golang.org/x/oauth2.
func publicPKCEToken(t *testing.T, srv *authserver.Server) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: "public-client",
		Endpoint: oauth2.Endpoint{
			AuthURL:   srv.AuthorizationURL(),
			TokenURL:  srv.TokenURL(),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://127.0.0.1:8123/callback",
		Scopes:      []string{"trading", "portfolio"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	loc := authorize(t, srv, authURL.Query())
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("iss") != srv.URL() {
		t.Fatalf("redirect = %s, want a code and iss", loc)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPublicClientPKCE(t *testing.T) {
	srv := start(t, authserver.Options{})
	tok := publicPKCEToken(t, srv)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("scope") != "trading portfolio" {
		t.Errorf("token = %+v, scope %v; want access and refresh tokens", tok, tok.Extra("scope"))
	}
	status, body := postForm(t, srv, authserver.IntrospectionPath, "basic-client", "basic-secret", url.Values{"token": {tok.AccessToken}})
	if status != 200 || body["active"] != true || body["client_id"] != "public-client" || body["sub"] != authserver.Subject {
		t.Errorf("introspection: %d %v", status, body)
	}
	// A public client refreshes with its client_id alone.
	status, body = postForm(t, srv, authserver.TokenPath, "", "", url.Values{"grant_type": {"refresh_token"}, "client_id": {"public-client"}, "refresh_token": {tok.RefreshToken}})
	if status != 200 || body["refresh_token"] == nil || body["refresh_token"] == tok.RefreshToken {
		t.Fatalf("refresh by the public client: %d %v", status, body)
	}
	tok.AccessToken, tok.RefreshToken = body["access_token"].(string), body["refresh_token"].(string)

	// A public client may revoke its tokens with its client_id alone
	// (RFC 7009 Section 2.1) but may not introspect.
	status, body = postForm(t, srv, authserver.IntrospectionPath, "", "", url.Values{"client_id": {"public-client"}, "token": {tok.AccessToken}})
	if status != 401 || body["error"] != "invalid_client" {
		t.Errorf("introspection by the public client: %d %v, want 401 invalid_client", status, body)
	}
	status, _ = postForm(t, srv, authserver.RevocationPath, "", "", url.Values{"client_id": {"public-client"}, "token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if status != 200 {
		t.Errorf("revocation by the public client: %d", status)
	}
	status, body = postForm(t, srv, authserver.TokenPath, "", "", url.Values{"grant_type": {"refresh_token"}, "client_id": {"public-client"}, "refresh_token": {tok.RefreshToken}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %d %v, want 400 invalid_grant", status, body)
	}
}

func TestAuthorizationCodeReuse(t *testing.T) {
	srv := start(t, authserver.Options{})
	cfg := oauth2.Config{
		ClientID:    "public-client",
		Endpoint:    oauth2.Endpoint{AuthURL: srv.AuthorizationURL(), TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:8123/callback",
	}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	code := authorize(t, srv, authURL.Query()).Query().Get("code")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// A code used twice is refused, and the tokens issued for it are
	// revoked (RFC 6749 Section 4.1.2).
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("second exchange: %v, want invalid_grant", err)
	}
	for _, tok := range []string{tok.AccessToken, tok.RefreshToken} {
		if got := introspect(t, srv, tok); got["active"] != false {
			t.Errorf("token after code reuse: %v, want inactive", got)
		}
	}
}

func TestConfidentialClientWithoutPKCE(t *testing.T) {
	srv := start(t, authserver.Options{})
	cfg := oauth2.Config{
		ClientID:     "post-client",
		ClientSecret: "post-secret",
		Endpoint:     oauth2.Endpoint{AuthURL: srv.AuthorizationURL(), TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  "http://127.0.0.1:8123/callback",
		Scopes:       []string{"analytics"},
	}
	authURL, err := url.Parse(cfg.AuthCodeURL("state-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	loc := authorize(t, srv, authURL.Query())
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)

	// The token request must repeat the redirect_uri (RFC 6749 Section
	// 4.1.3).
	other := cfg
	other.RedirectURL = "http://127.0.0.1:8124/other"
	if _, err := other.Exchange(ctx, loc.Query().Get("code")); err == nil {
		t.Error("exchange with another redirect_uri succeeded")
	}
	loc = authorize(t, srv, authURL.Query())
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("scope") != "analytics" {
		t.Errorf("token = %+v", tok)
	}
}

// codeTokens runs the authorization code flow for basic-client and returns
// the token response.
func codeTokens(t *testing.T, srv *authserver.Server) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID:     "basic-client",
		ClientSecret: "basic-secret",
		Endpoint:     oauth2.Endpoint{AuthURL: srv.AuthorizationURL(), TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  "http://127.0.0.1:8123/callback",
		Scopes:       []string{"trading"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	loc := authorize(t, srv, authURL.Query())
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token in %+v", tok)
	}
	return tok
}

func refresh(t *testing.T, srv *authserver.Server, refreshToken string) (int, map[string]any) {
	t.Helper()
	return postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func introspect(t *testing.T, srv *authserver.Server, token string) map[string]any {
	t.Helper()
	status, body := postForm(t, srv, authserver.IntrospectionPath, "basic-client", "basic-secret", url.Values{"token": {token}})
	if status != 200 {
		t.Fatalf("introspection: %d %v", status, body)
	}
	return body
}

func TestRefreshTokenRotation(t *testing.T) {
	srv := start(t, authserver.Options{})
	first := codeTokens(t, srv)

	status, body := refresh(t, srv, first.RefreshToken)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	access2, _ := body["access_token"].(string)
	refresh2, _ := body["refresh_token"].(string)
	if access2 == "" || refresh2 == "" || refresh2 == first.RefreshToken || access2 == first.AccessToken {
		t.Fatalf("refresh response %v: want new access and refresh tokens", body)
	}
	if body["scope"] != "trading" {
		t.Errorf("refreshed scope = %v, want trading", body["scope"])
	}
	if got := introspect(t, srv, refresh2); got["active"] != true || got["client_id"] != "basic-client" {
		t.Errorf("new refresh token: %v", got)
	}
	if got := introspect(t, srv, access2); got["active"] != true || got["sub"] != authserver.Subject {
		t.Errorf("new access token: %v", got)
	}
	// Rotation invalidates the old refresh token and the access token
	// issued with it.
	for name, tok := range map[string]string{"old refresh token": first.RefreshToken, "old access token": first.AccessToken} {
		if got := introspect(t, srv, tok); got["active"] != false {
			t.Errorf("%s after rotation: %v, want inactive", name, got)
		}
	}

	// Replaying the old refresh token fails and revokes the whole chain.
	status, body = refresh(t, srv, first.RefreshToken)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("replayed refresh token: %d %v, want 400 invalid_grant", status, body)
	}
	for name, tok := range map[string]string{"new refresh token": refresh2, "new access token": access2} {
		if got := introspect(t, srv, tok); got["active"] != false {
			t.Errorf("%s after replay: %v, want inactive", name, got)
		}
	}

	// Another client may not use the refresh token.
	third := codeTokens(t, srv)
	status, body = postForm(t, srv, authserver.TokenPath, "", "", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken},
		"client_id": {"post-client"}, "client_secret": {"post-secret"},
	})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh by another client: %d %v, want 400 invalid_grant", status, body)
	}
}

func TestRevokeRefreshToken(t *testing.T) {
	srv := start(t, authserver.Options{})
	tok := codeTokens(t, srv)
	status, body := postForm(t, srv, authserver.RevocationPath, "basic-client", "basic-secret",
		url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if status != 200 {
		t.Fatalf("revocation: %d %v", status, body)
	}
	// Revoking a refresh token revokes the access tokens of the same
	// grant (RFC 7009 Section 2.1).
	for _, tok := range []string{tok.RefreshToken, tok.AccessToken} {
		if got := introspect(t, srv, tok); got["active"] != false {
			t.Errorf("after revocation: %v, want inactive", got)
		}
	}
	if status, body := refresh(t, srv, tok.RefreshToken); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %d %v", status, body)
	}
}

func TestRefreshTokenLifespan(t *testing.T) {
	srv := start(t, authserver.Options{RefreshTokenLifespan: time.Second, AccessTokenLifespan: 30 * time.Second})
	tok := codeTokens(t, srv)
	if d := time.Until(tok.Expiry); d < 20*time.Second || d > 30*time.Second {
		t.Errorf("access token expires in %v, want about 30s", d)
	}
	time.Sleep(2100 * time.Millisecond) // fosite rounds expiry to the second
	status, body := refresh(t, srv, tok.RefreshToken)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh with an expired token: %d %v, want 400 invalid_grant", status, body)
	}
}

func TestJWTBearerGrant(t *testing.T) {
	srv := start(t, authserver.Options{})
	keys := testKeys(t)
	rsaKey := loadKey(t, keys.RSAPKCS1Path)
	ecKey := loadKey(t, keys.ECSEC1Path)
	untrusted := loadKey(t, keys.UntrustedECPKCS8Path)
	grant := func(assertion, scope string) url.Values {
		v := url.Values{"grant_type": {authserver.JWTBearerGrantType}, "assertion": {assertion}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return v
	}
	ok := []struct {
		name string
		key  crypto.Signer
		alg  jose.SignatureAlgorithm
		kid  string
		iss  string
		sub  string
		aud  string
	}{
		{"RS256 with kid", rsaKey, jose.RS256, authserver.RSATestKeyID, "conformance-issuer", "trader-7", srv.TokenURL()},
		{"PS256 without kid", rsaKey, jose.PS256, "", "conformance-issuer", "trader-8", srv.TokenURL()},
		{"ES256 with kid", ecKey, jose.ES256, authserver.ECTestKeyID, "conformance-issuer", "trader-9", srv.TokenURL()},
		{"ES256 without kid, issuer audience", ecKey, jose.ES256, "", "conformance-issuer", "trader-9", srv.URL()},
		{"restricted issuer, its subject", rsaKey, jose.RS256, authserver.RSATestKeyID, "restricted-issuer", authserver.Subject, srv.TokenURL()},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			assertion := sign(t, tt.key, tt.alg, tt.kid, assertionClaims(t, tt.iss, tt.sub, tt.aud))
			status, body := postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", grant(assertion, "trading"))
			if status != 200 || body["access_token"] == nil || body["scope"] != "trading" {
				t.Fatalf("got %d %v", status, body)
			}
			if _, has := body["refresh_token"]; has {
				t.Error("the JWT bearer grant issued a refresh token")
			}
			got := introspect(t, srv, body["access_token"].(string))
			if got["active"] != true || got["sub"] != tt.sub || got["client_id"] != "basic-client" {
				t.Errorf("introspection: %v", got)
			}
			// The jti is single use (RFC 7523 Section 3, item 7).
			status, body = postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", grant(assertion, "trading"))
			if status != 400 || body["error"] != "jti_known" {
				t.Errorf("replayed assertion: %d %v, want 400 jti_known", status, body)
			}
		})
	}

	now := time.Now()
	bad := []struct {
		name   string
		claims func(map[string]any)
		key    crypto.Signer
		alg    jose.SignatureAlgorithm
		scope  string
		status int
		code   string
	}{
		{"restricted issuer, other subject", func(c map[string]any) { c["iss"] = "restricted-issuer" }, rsaKey, jose.RS256, "trading", 400, "invalid_grant"},
		{"restricted issuer, scope not allowed", func(c map[string]any) { c["iss"] = "restricted-issuer"; c["sub"] = authserver.Subject }, rsaKey, jose.RS256, "portfolio", 400, "invalid_scope"},
		{"unknown issuer", func(c map[string]any) { c["iss"] = "nobody" }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"untrusted key", func(map[string]any) {}, untrusted, jose.ES256, "", 400, "invalid_grant"},
		{"wrong audience", func(c map[string]any) { c["aud"] = "https://elsewhere.example" }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"expired", func(c map[string]any) {
			c["iat"] = now.Add(-time.Minute).Unix()
			c["exp"] = now.Add(-time.Second).Unix()
		}, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"lifetime over 60s", func(c map[string]any) { c["exp"] = c["iat"].(int64) + 61 }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"no iat", func(c map[string]any) { delete(c, "iat") }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"no jti", func(c map[string]any) { delete(c, "jti") }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
		{"no sub", func(c map[string]any) { delete(c, "sub") }, rsaKey, jose.RS256, "", 400, "invalid_grant"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			claims := assertionClaims(t, "conformance-issuer", "trader-1", srv.TokenURL())
			tt.claims(claims)
			assertion := sign(t, tt.key, tt.alg, "", claims)
			status, body := postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", grant(assertion, tt.scope))
			if status != tt.status || body["error"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}

	t.Run("public client", func(t *testing.T) {
		form := grant(sign(t, ecKey, jose.ES256, "", assertionClaims(t, "conformance-issuer", "trader-2", srv.TokenURL())), "")
		form.Set("client_id", "public-client")
		status, body := postForm(t, srv, authserver.TokenPath, "", "", form)
		if status != 200 || body["access_token"] == nil {
			t.Errorf("got %d %v", status, body)
		}
	})
	t.Run("private_key_jwt client", func(t *testing.T) {
		form := grant(sign(t, ecKey, jose.ES256, authserver.ECTestKeyID, assertionClaims(t, "conformance-issuer", "trader-3", srv.TokenURL())), "analytics")
		for k, v := range clientAssertion(t, ecKey, jose.ES256, "jwt-ec-client", srv.TokenURL(), nil) {
			form[k] = v
		}
		status, body := postForm(t, srv, authserver.TokenPath, "", "", form)
		if status != 200 || body["scope"] != "analytics" {
			t.Fatalf("got %d %v", status, body)
		}
		if got := introspect(t, srv, body["access_token"].(string)); got["sub"] != "trader-3" || got["client_id"] != "jwt-ec-client" {
			t.Errorf("introspection: %v", got)
		}
	})
	t.Run("no client authentication", func(t *testing.T) {
		form := grant(sign(t, ecKey, jose.ES256, "", assertionClaims(t, "conformance-issuer", "trader-2", srv.TokenURL())), "")
		status, body := postForm(t, srv, authserver.TokenPath, "", "", form)
		if status != 400 || body["error"] != "invalid_request" {
			t.Errorf("got %d %v, want 400 invalid_request", status, body)
		}
	})
}

func TestJWTBearerIssuerOptions(t *testing.T) {
	key := authserver.ECTestKey()
	srv := start(t, authserver.Options{
		Clients: []authserver.Client{
			{ID: "c", Secret: "s", GrantTypes: []string{authserver.JWTBearerGrantType}},
			{ID: "cc-only", Secret: "s"},
		},
		Issuers: []authserver.TrustedIssuer{
			{Issuer: "expired", AnySubject: true, Key: authserver.PublicKey{Key: key.Public()}, ExpiresAt: time.Now().Add(-time.Second)},
			{Issuer: "current", Subject: "alice", Key: authserver.PublicKey{Key: key.Public()}, Scopes: []string{"read"}, ExpiresAt: time.Now().Add(time.Hour)},
		},
		AccessTokenLifespan: 90 * time.Second,
	})
	post := func(iss, sub string) (int, map[string]any) {
		assertion := sign(t, key, jose.ES256, "", assertionClaims(t, iss, sub, srv.TokenURL()))
		return postForm(t, srv, authserver.TokenPath, "c", "s",
			url.Values{"grant_type": {authserver.JWTBearerGrantType}, "assertion": {assertion}, "scope": {"read"}})
	}
	if status, body := post("expired", "alice"); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("expired trust: %d %v, want 400 invalid_grant", status, body)
	}
	status, body := post("current", "alice")
	if status != 200 || body["expires_in"] == nil {
		t.Fatalf("current trust: %d %v", status, body)
	}
	if exp := body["expires_in"].(float64); exp < 80 || exp > 90 {
		t.Errorf("expires_in = %v, want about 90", exp)
	}
	if status, body := post("current", "bob"); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("other subject: %d %v, want 400 invalid_grant", status, body)
	}
	assertion := sign(t, key, jose.ES256, "", assertionClaims(t, "current", "alice", srv.TokenURL()))
	status, body = postForm(t, srv, authserver.TokenPath, "cc-only", "s",
		url.Values{"grant_type": {authserver.JWTBearerGrantType}, "assertion": {assertion}})
	if status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("client without the grant: %d %v, want 400 unauthorized_client", status, body)
	}
	if n := srv.GrantRequests(authserver.JWTBearerGrantType); n != 4 {
		t.Errorf("GrantRequests(jwt-bearer) = %d, want 4", n)
	}
}

// clientAssertion returns the form of a private_key_jwt client
// authentication (RFC 7523 Section 2.2) for clientID.
func clientAssertion(t *testing.T, key crypto.Signer, alg jose.SignatureAlgorithm, clientID, aud string, edit func(map[string]any)) url.Values {
	t.Helper()
	claims := assertionClaims(t, clientID, clientID, aud)
	if edit != nil {
		edit(claims)
	}
	return url.Values{
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {sign(t, key, alg, "", claims)},
	}
}

func withForm(form url.Values, kv ...string) url.Values {
	for i := 0; i < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return form
}

func TestPrivateKeyJWT(t *testing.T) {
	srv := start(t, authserver.Options{})
	keys := testKeys(t)
	rsaKey := loadKey(t, keys.RSAPKCS8Path)
	ecKey := loadKey(t, keys.ECPKCS8Path)
	clients := []struct {
		id  string
		key crypto.Signer
		alg jose.SignatureAlgorithm
	}{
		{"jwt-rsa-client", rsaKey, jose.RS256},
		{"jwt-ps-client", rsaKey, jose.PS256},
		{"jwt-ec-client", ecKey, jose.ES256},
	}
	for _, c := range clients {
		t.Run(c.id, func(t *testing.T) {
			form := withForm(clientAssertion(t, c.key, c.alg, c.id, srv.TokenURL(), nil), "grant_type", "client_credentials", "scope", "market-data")
			status, body := postForm(t, srv, authserver.TokenPath, "", "", form)
			if status != 200 || body["scope"] != "market-data" {
				t.Fatalf("client credentials: %d %v", status, body)
			}
			access := body["access_token"].(string)

			// The same assertion again: its jti was used.
			status, body = postForm(t, srv, authserver.TokenPath, "", "", form)
			if status != 400 || body["error"] != "jti_known" {
				t.Errorf("replayed client assertion: %d %v, want 400 jti_known", status, body)
			}

			// client_id in the body is optional but must match.
			form = withForm(clientAssertion(t, c.key, c.alg, c.id, srv.URL(), nil), "grant_type", "client_credentials", "client_id", c.id)
			if status, body := postForm(t, srv, authserver.TokenPath, "", "", form); status != 200 {
				t.Errorf("issuer as audience, client_id in body: %d %v", status, body)
			}

			// Introspection and revocation take private_key_jwt too.
			form = withForm(clientAssertion(t, c.key, c.alg, c.id, srv.TokenURL(), nil), "token", access)
			status, body = postForm(t, srv, authserver.IntrospectionPath, "", "", form)
			if status != 200 || body["active"] != true || body["client_id"] != c.id || body["sub"] != c.id {
				t.Errorf("introspection: %d %v", status, body)
			}
			form = withForm(clientAssertion(t, c.key, c.alg, c.id, srv.TokenURL(), nil), "token", access)
			if status, body := postForm(t, srv, authserver.RevocationPath, "", "", form); status != 200 {
				t.Errorf("revocation: %d %v", status, body)
			}
			if got := introspect(t, srv, access); got["active"] != false {
				t.Errorf("after revocation: %v", got)
			}
		})
	}

	now := time.Now()
	bad := []struct {
		name   string
		id     string
		key    crypto.Signer
		alg    jose.SignatureAlgorithm
		edit   func(map[string]any)
		status int
		code   string
	}{
		{"RS256 for a PS256 client", "jwt-ps-client", rsaKey, jose.RS256, nil, 401, "invalid_client"},
		{"untrusted key", "jwt-ec-client", loadKey(t, keys.UntrustedECPKCS8Path), jose.ES256, nil, 401, "invalid_client"},
		{"wrong audience", "jwt-rsa-client", rsaKey, jose.RS256, func(c map[string]any) { c["aud"] = "https://elsewhere.example/token" }, 401, "invalid_client"},
		{"iss is not the client", "jwt-rsa-client", rsaKey, jose.RS256, func(c map[string]any) { c["iss"] = "jwt-ec-client" }, 401, "invalid_client"},
		{"expired", "jwt-rsa-client", rsaKey, jose.RS256, func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }, 401, "invalid_client"},
		{"no jti", "jwt-rsa-client", rsaKey, jose.RS256, func(c map[string]any) { delete(c, "jti") }, 401, "invalid_client"},
		{"secret client", "basic-client", rsaKey, jose.RS256, nil, 401, "invalid_client"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			form := withForm(clientAssertion(t, tt.key, tt.alg, tt.id, srv.TokenURL(), tt.edit), "grant_type", "client_credentials")
			status, body := postForm(t, srv, authserver.TokenPath, "", "", form)
			if status != tt.status || body["error"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
	t.Run("secret instead of assertion", func(t *testing.T) {
		status, body := postForm(t, srv, authserver.TokenPath, "jwt-rsa-client", "guess", url.Values{"grant_type": {"client_credentials"}})
		if status != 401 || body["error"] != "invalid_client" {
			t.Errorf("got %d %v, want 401 invalid_client", status, body)
		}
	})
}

func TestIntrospectionClientAuthentication(t *testing.T) {
	srv := start(t, authserver.Options{})
	_, body := postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", url.Values{"grant_type": {"client_credentials"}})
	access := body["access_token"].(string)
	tests := []struct {
		name       string
		id, secret string
		form       url.Values
		status     int
		active     any
		code       string
	}{
		{"client_secret_post", "", "", url.Values{"client_id": {"post-client"}, "client_secret": {"post-secret"}, "token": {access}}, 200, true, ""},
		{"wrong secret in body", "", "", url.Values{"client_id": {"post-client"}, "client_secret": {"nope"}, "token": {access}}, 401, nil, "invalid_client"},
		{"unknown token", "", "", url.Values{"client_id": {"post-client"}, "client_secret": {"post-secret"}, "token": {"nope"}}, 200, false, ""},
		{"no token", "", "", url.Values{"client_id": {"post-client"}, "client_secret": {"post-secret"}}, 400, nil, "invalid_request"},
		{"no credentials", "", "", url.Values{"token": {access}}, 401, nil, "request_unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postForm(t, srv, authserver.IntrospectionPath, tt.id, tt.secret, tt.form)
			if status != tt.status || body["active"] != tt.active || (tt.code != "" && body["error"] != tt.code) {
				t.Errorf("got %d %v, want %d active=%v error=%q", status, body, tt.status, tt.active, tt.code)
			}
		})
	}
}

func TestRequestCounters(t *testing.T) {
	srv := start(t, authserver.Options{})
	postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", url.Values{"grant_type": {"client_credentials"}})
	postForm(t, srv, authserver.TokenPath, "basic-client", "wrong", url.Values{"grant_type": {"client_credentials"}})
	postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	postForm(t, srv, authserver.TokenPath, "basic-client", "basic-secret", url.Values{"grant_type": {"urn:example:nope"}})
	postForm(t, srv, authserver.IntrospectionPath, "basic-client", "basic-secret", url.Values{"token": {"x"}})
	postForm(t, srv, authserver.RevocationPath, "basic-client", "basic-secret", url.Values{"token": {"x"}})
	resp, err := http.Get(srv.URL() + authserver.OAuthMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authorize(t, srv, url.Values{"response_type": {"code"}, "client_id": {"basic-client"}, "state": {"state-0123456789"}})

	for path, want := range map[string]int64{
		authserver.TokenPath:               4,
		authserver.IntrospectionPath:       1,
		authserver.RevocationPath:          1,
		authserver.AuthorizationPath:       1,
		authserver.OAuthMetadataPath:       1,
		authserver.OpenIDConfigurationPath: 0,
		"/nope":                            0,
	} {
		if got := srv.Requests(path); got != want {
			t.Errorf("Requests(%q) = %d, want %d", path, got, want)
		}
	}
	if srv.TokenRequests() != 4 {
		t.Errorf("TokenRequests() = %d, want 4", srv.TokenRequests())
	}
	for gt, want := range map[string]int64{
		"client_credentials":          2,
		"refresh_token":               1,
		"authorization_code":          0,
		authserver.JWTBearerGrantType: 0,
		"urn:example:nope":            0,
	} {
		if got := srv.GrantRequests(gt); got != want {
			t.Errorf("GrantRequests(%q) = %d, want %d", gt, got, want)
		}
	}
}
