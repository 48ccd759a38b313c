package mtlsserver_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
)

func writePKI(t *testing.T) *mtlsserver.PKI {
	t.Helper()
	pki, err := mtlsserver.WriteTestPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return pki
}

func start(t *testing.T, opts mtlsserver.Options) *mtlsserver.Server {
	t.Helper()
	srv, err := mtlsserver.Start(opts)
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

// httpClient trusts the test CA and, when certPath is not empty, presents
// the certificate read from certPath and keyPath, as a client runtime
// configured with ca_cert_path, client_cert_path and client_key_path
// would.
func httpClient(t *testing.T, pki *mtlsserver.PKI, certPath, keyPath string) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: pki.CertPool()}
	if certPath != "" {
		cert, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func certClient(t *testing.T, pki *mtlsserver.PKI, kp *mtlsserver.KeyPair) *http.Client {
	return httpClient(t, pki, kp.CertPath, kp.KeyPath)
}

// post sends form to u, with HTTP Basic credentials when id is not empty,
// and decodes the JSON answer.
func post(t *testing.T, c *http.Client, u string, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := c.Do(req)
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
			t.Fatalf("%s answered %d with non-JSON %q", u, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m
}

func clientCredentials(id string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}
}

// accessTokenClaims verifies a JWT access token with the key from the
// server's JWKS endpoint and returns its header type and claims.
func accessTokenClaims(t *testing.T, srv *mtlsserver.Server, c *http.Client, token string) (string, map[string]any) {
	t.Helper()
	resp, err := c.Get(srv.URL() + mtlsserver.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("JWKS: %v, %d keys", err, len(jwks.Keys))
	}
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		t.Fatalf("access token is not a JWT: %v", err)
	}
	if h := parsed.Headers[0]; h.Algorithm != "ES256" || h.KeyID != jwks.Keys[0].KeyID {
		t.Errorf("header alg %q kid %q, want ES256 and %q", h.Algorithm, h.KeyID, jwks.Keys[0].KeyID)
	}
	var claims map[string]any
	if err := parsed.Claims(jwks.Keys[0], &claims); err != nil {
		t.Fatalf("access token signature: %v", err)
	}
	typ, _ := parsed.Headers[0].ExtraHeaders["typ"].(string)
	return typ, claims
}

func cnf(m map[string]any) any {
	c, _ := m["cnf"].(map[string]any)
	return c["x5t#S256"]
}

func TestMetadata(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	base, mtls := srv.URL(), srv.MTLSURL()
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.HasPrefix(mtls, "https://127.0.0.1:") || base == mtls {
		t.Fatalf("URL() = %q, MTLSURL() = %q", base, mtls)
	}
	methods := []string{"tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic", "client_secret_post"}
	want := mtlsserver.Metadata{
		Issuer:                                     base,
		AuthorizationEndpoint:                      base + "/oauth2/auth",
		TokenEndpoint:                              base + "/oauth2/token",
		RevocationEndpoint:                         base + "/oauth2/revoke",
		IntrospectionEndpoint:                      base + "/oauth2/introspect",
		JWKSURI:                                    base + "/.well-known/jwks.json",
		ScopesSupported:                            []string{"analytics", "market-data", "portfolio", "trading"},
		ResponseTypesSupported:                     []string{"code"},
		GrantTypesSupported:                        []string{"authorization_code", "client_credentials", "refresh_token"},
		TokenEndpointAuthMethodsSupported:          methods,
		RevocationEndpointAuthMethodsSupported:     methods,
		IntrospectionEndpointAuthMethodsSupported:  methods,
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
		TLSClientCertificateBoundAccessTokens:      true,
		MTLSEndpointAliases: mtlsserver.EndpointAliases{
			TokenEndpoint:         mtls + "/oauth2/token",
			RevocationEndpoint:    mtls + "/oauth2/revoke",
			IntrospectionEndpoint: mtls + "/oauth2/introspect",
		},
	}
	c := httpClient(t, pki, "", "")
	for _, u := range []string{base + mtlsserver.OAuthMetadataPath, base + mtlsserver.OpenIDConfigurationPath, mtls + mtlsserver.OAuthMetadataPath} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var got mtlsserver.Metadata
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", u, diff)
		}
	}
	if srv.MTLSTokenURL() != want.MTLSEndpointAliases.TokenEndpoint || srv.TokenURL() != want.TokenEndpoint ||
		srv.MTLSIntrospectionURL() != want.MTLSEndpointAliases.IntrospectionEndpoint || srv.MTLSRevocationURL() != want.MTLSEndpointAliases.RevocationEndpoint ||
		srv.AuthorizationURL() != want.AuthorizationEndpoint || srv.ResourceURL() != mtls+"/resource" {
		t.Error("URL accessors disagree with the metadata")
	}
	if srv.Requests(mtlsserver.OAuthMetadataPath) != 2 || srv.Requests(mtlsserver.OpenIDConfigurationPath) != 1 {
		t.Errorf("metadata requests counted %d and %d, want 2 and 1",
			srv.Requests(mtlsserver.OAuthMetadataPath), srv.Requests(mtlsserver.OpenIDConfigurationPath))
	}
	// Without the test CA the server certificate is not trusted.
	if _, err := http.Get(base + mtlsserver.OAuthMetadataPath); err == nil {
		t.Error("the server certificate verified without the test CA")
	}
}

func TestTLSClientAuth(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki, AccessTokenLifespan: 10 * time.Minute})
	c := certClient(t, pki, pki.Client)

	status, body := post(t, c, srv.MTLSTokenURL(), "", "", withScope(clientCredentials("mtls-client"), "trading"))
	if status != 200 || body["token_type"] != "bearer" || body["scope"] != "trading" {
		t.Fatalf("token request: %d %v", status, body)
	}
	access := body["access_token"].(string)
	typ, claims := accessTokenClaims(t, srv, c, access)
	if typ != "at+jwt" {
		t.Errorf("typ = %q, want at+jwt", typ)
	}
	if claims["iss"] != srv.URL() || claims["sub"] != "mtls-client" || claims["client_id"] != "mtls-client" || claims["scope"] != "trading" || claims["jti"] == "" {
		t.Errorf("claims = %v", claims)
	}
	if got, want := cnf(claims), pki.Client.Thumbprint(); got != want {
		t.Errorf("cnf x5t#S256 = %v, want %v", got, want)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat < 590 || exp-iat > 601 { // fosite may round exp to the second
		t.Errorf("lifetime %vs, want about 600s", exp-iat)
	}

	// Introspection over mutual TLS and by a resource server report the
	// same binding (RFC 8705 Section 3.2).
	status, got := post(t, c, srv.MTLSIntrospectionURL(), "", "", url.Values{"client_id": {"mtls-client"}, "token": {access}})
	if status != 200 || got["active"] != true || got["client_id"] != "mtls-client" || cnf(got) != pki.Client.Thumbprint() || got["jti"] != claims["jti"] {
		t.Errorf("introspection over mTLS: %d %v", status, got)
	}
	status, got = post(t, httpClient(t, pki, "", ""), srv.URL()+mtlsserver.IntrospectionPath, "resource-server", "resource-secret", url.Values{"token": {access}})
	if status != 200 || got["active"] != true || cnf(got) != pki.Client.Thumbprint() {
		t.Errorf("introspection by the resource server: %d %v", status, got)
	}

	// Revocation over mutual TLS.
	if status, body := post(t, c, srv.MTLSRevocationURL(), "", "", url.Values{"client_id": {"mtls-client"}, "token": {access}}); status != 200 {
		t.Errorf("revocation: %d %v", status, body)
	}
	if _, got := post(t, c, srv.MTLSIntrospectionURL(), "", "", url.Values{"client_id": {"mtls-client"}, "token": {access}}); got["active"] != false {
		t.Errorf("introspection after revocation: %v", got)
	}
}

func withScope(v url.Values, scope string) url.Values {
	v.Set("scope", scope)
	return v
}

func TestReferenceClient(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	for _, kp := range []struct {
		id   string
		pair *mtlsserver.KeyPair
	}{{"mtls-client", pki.Client}, {"self-signed-client", pki.SelfSigned}} {
		t.Run(kp.id, func(t *testing.T) {
			cfg := clientcredentials.Config{
				ClientID:  kp.id,
				TokenURL:  srv.MTLSTokenURL(),
				Scopes:    []string{"market-data"},
				AuthStyle: oauth2.AuthStyleInParams,
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, certClient(t, pki, kp.pair))
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, claims := accessTokenClaims(t, srv, httpClient(t, pki, "", ""), tok.AccessToken)
			if cnf(claims) != kp.pair.Thumbprint() || claims["sub"] != kp.id {
				t.Errorf("claims = %v, want cnf of %s", claims, kp.id)
			}
		})
	}
}

func TestClientAuthenticationFailures(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	other, err := pki.IssueClientCertificate("other", "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := mtlsserver.WriteTestPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	foreignClient := httpClient(t, pki, foreign.Client.CertPath, foreign.Client.KeyPath)
	tests := []struct {
		name string
		c    *http.Client
		url  string
		form url.Values
	}{
		{"no certificate", httpClient(t, pki, "", ""), srv.MTLSTokenURL(), clientCredentials("mtls-client")},
		{"issuer endpoint asks for no certificate", certClient(t, pki, pki.Client), srv.TokenURL(), clientCredentials("mtls-client")},
		{"self-signed certificate for a PKI client", certClient(t, pki, pki.SelfSigned), srv.MTLSTokenURL(), clientCredentials("mtls-client")},
		{"subject DN mismatch", certClient(t, pki, other), srv.MTLSTokenURL(), clientCredentials("mtls-client")},
		{"same subject from another CA", foreignClient, srv.MTLSTokenURL(), clientCredentials("mtls-client")},
		{"unregistered self-signed certificate", certClient(t, pki, other), srv.MTLSTokenURL(), clientCredentials("self-signed-client")},
		{"PKI certificate for a self-signed client", certClient(t, pki, pki.Client), srv.MTLSTokenURL(), clientCredentials("self-signed-client")},
		{"certificate and secret", certClient(t, pki, pki.Client), srv.MTLSTokenURL(), withScope(url.Values{"grant_type": {"client_credentials"}, "client_id": {"mtls-client"}, "client_secret": {"x"}}, "trading")},
		{"unknown client", certClient(t, pki, pki.Client), srv.MTLSTokenURL(), clientCredentials("ghost")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.c, tt.url, "", "", tt.form)
			if status != 401 || body["error"] != "invalid_client" {
				t.Errorf("got %d %v, want 401 invalid_client", status, body)
			}
		})
	}
	// The introspection endpoint checks certificates the same way.
	status, body := post(t, httpClient(t, pki, "", ""), srv.MTLSIntrospectionURL(), "", "", url.Values{"client_id": {"mtls-client"}, "token": {"x"}})
	if status != 401 || body["error"] != "invalid_client" {
		t.Errorf("introspection without certificate: %d %v", status, body)
	}
	if n := srv.TokenRequests(); n != int64(len(tests)) {
		t.Errorf("TokenRequests() = %d, want %d", n, len(tests))
	}
}

func TestSelfSignedRotation(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	old := pki.SelfSigned
	status, body := post(t, certClient(t, pki, old), srv.MTLSTokenURL(), "", "", clientCredentials("self-signed-client"))
	if status != 200 {
		t.Fatalf("token request: %d %v", status, body)
	}
	if _, claims := accessTokenClaims(t, srv, httpClient(t, pki, "", ""), body["access_token"].(string)); cnf(claims) != old.Thumbprint() {
		t.Errorf("cnf = %v, want %v", cnf(claims), old.Thumbprint())
	}

	renewed, err := pki.ReissueSelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if renewed.CertPath != old.CertPath || renewed.Thumbprint() == old.Thumbprint() {
		t.Fatal("the reissued certificate is not a new certificate in the same file")
	}
	c := httpClient(t, pki, renewed.CertPath, renewed.KeyPath)
	if status, body := post(t, c, srv.MTLSTokenURL(), "", "", clientCredentials("self-signed-client")); status != 401 {
		t.Errorf("unregistered new certificate: %d %v, want 401", status, body)
	}
	if err := srv.TrustSelfSignedCertificate("self-signed-client", renewed.Certificate); err != nil {
		t.Fatal(err)
	}
	status, body = post(t, c, srv.MTLSTokenURL(), "", "", clientCredentials("self-signed-client"))
	if status != 200 {
		t.Fatalf("registered new certificate: %d %v", status, body)
	}
	if _, claims := accessTokenClaims(t, srv, c, body["access_token"].(string)); cnf(claims) != renewed.Thumbprint() {
		t.Errorf("cnf = %v, want the new thumbprint", cnf(claims))
	}
	if err := srv.TrustSelfSignedCertificate("mtls-client", renewed.Certificate); err == nil {
		t.Error("TrustSelfSignedCertificate accepted a tls_client_auth client")
	}
}

func TestRefreshBindsToPresentedCertificate(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	cfg := oauth2.Config{
		ClientID:    "mtls-client",
		Endpoint:    oauth2.Endpoint{AuthURL: srv.AuthorizationURL(), TokenURL: srv.MTLSTokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:8123/callback",
		Scopes:      []string{"portfolio"},
	}
	verifier := oauth2.GenerateVerifier()
	resp, err := httpClient(t, pki, "", "").Get(cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization response %d: %v", resp.StatusCode, err)
	}
	if loc.Query().Get("iss") != srv.URL() {
		t.Errorf("redirect %s lacks iss=%s", loc, srv.URL())
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, certClient(t, pki, pki.Client))
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	_, claims := accessTokenClaims(t, srv, httpClient(t, pki, "", ""), tok.AccessToken)
	if cnf(claims) != pki.Client.Thumbprint() || claims["sub"] != mtlsserver.Subject {
		t.Errorf("claims = %v", claims)
	}

	oldThumb := pki.Client.Thumbprint()
	renewed, err := pki.ReissueClientCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Thumbprint() == oldThumb || renewed.Certificate.Subject.String() != mtlsserver.ClientSubjectDN {
		t.Fatal("reissue did not keep the subject or did not change the certificate")
	}
	c := certClient(t, pki, renewed)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"mtls-client"}, "refresh_token": {tok.RefreshToken}}
	status, body := post(t, c, srv.MTLSTokenURL(), "", "", form)
	if status != 200 || body["refresh_token"] == tok.RefreshToken {
		t.Fatalf("refresh: %d %v", status, body)
	}
	_, claims2 := accessTokenClaims(t, srv, c, body["access_token"].(string))
	if cnf(claims2) != renewed.Thumbprint() || claims2["jti"] == claims["jti"] || claims2["sub"] != mtlsserver.Subject {
		t.Errorf("refreshed claims = %v, want the new thumbprint and a new jti", claims2)
	}
	if status, body := post(t, c, srv.MTLSTokenURL(), "", "", form); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("replayed refresh token: %d %v, want 400 invalid_grant", status, body)
	}
}

func TestResourceChecksBinding(t *testing.T) {
	pki := writePKI(t)
	srv := start(t, mtlsserver.Options{PKI: pki})
	owner := certClient(t, pki, pki.Client)
	_, body := post(t, owner, srv.MTLSTokenURL(), "", "", withScope(clientCredentials("mtls-client"), "trading"))
	bound := body["access_token"].(string)
	_, body = post(t, httpClient(t, pki, "", ""), srv.TokenURL(), "resource-server", "resource-secret", url.Values{"grant_type": {"client_credentials"}})
	unbound := body["access_token"].(string)

	get := func(c *http.Client, u, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + " " + string(b)
	}
	tests := []struct {
		name   string
		c      *http.Client
		url    string
		token  string
		status int
	}{
		{"bound token with its certificate", owner, srv.ResourceURL(), bound, 200},
		{"bound token with another certificate", certClient(t, pki, pki.SelfSigned), srv.ResourceURL(), bound, 401},
		{"bound token without certificate", httpClient(t, pki, "", ""), srv.URL() + mtlsserver.ResourcePath, bound, 401},
		{"unbound token without certificate", httpClient(t, pki, "", ""), srv.URL() + mtlsserver.ResourcePath, unbound, 200},
		{"no token", owner, srv.ResourceURL(), "", 401},
		{"unknown token", owner, srv.ResourceURL(), "nope", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := get(tt.c, tt.url, tt.token)
			if status != tt.status {
				t.Errorf("got %d %q, want %d", status, got, tt.status)
			}
			if status == 401 && !strings.HasPrefix(got, "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", got)
			}
		})
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	pki := writePKI(t)
	tests := []struct {
		name string
		opts mtlsserver.Options
	}{
		{"no PKI", mtlsserver.Options{}},
		{"public address", mtlsserver.Options{PKI: pki, Addr: "0.0.0.0:0"}},
		{"public mTLS address", mtlsserver.Options{PKI: pki, MTLSAddr: "192.0.2.1:0"}},
		{"negative lifespan", mtlsserver.Options{PKI: pki, RefreshTokenLifespan: -time.Second}},
		{"no subject DN", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a"}}}},
		{"self-signed without certificates", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", AuthMethod: "self_signed_tls_client_auth"}}}},
		{"certificate client with secret", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", SubjectDN: "CN=a", Secret: "s"}}}},
		{"secret client without secret", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", AuthMethod: "client_secret_post"}}}},
		{"unknown method", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", AuthMethod: "private_key_jwt"}}}},
		{"unknown grant", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", SubjectDN: "CN=a", GrantTypes: []string{"password"}}}}},
		{"duplicate", mtlsserver.Options{PKI: pki, Clients: []mtlsserver.Client{{ID: "a", SubjectDN: "CN=a"}, {ID: "a", SubjectDN: "CN=b"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := mtlsserver.Start(tt.opts)
			if err == nil {
				srv.Close()
				t.Fatal("Start succeeded")
			}
			t.Log(err)
		})
	}
}

func TestShutdown(t *testing.T) {
	pki := writePKI(t)
	srv, err := mtlsserver.Start(mtlsserver.Options{PKI: pki})
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
	for _, u := range []string{srv.URL(), srv.MTLSURL()} {
		_, err := httpClient(t, pki, "", "").Get(u + mtlsserver.OAuthMetadataPath)
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("%s still answers after Shutdown: %v", u, err)
		}
	}
}
