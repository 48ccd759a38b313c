package gosdk_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

func testKeys(t *testing.T) authserver.TestKeys {
	t.Helper()
	keys, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// serverConfig is a configuration that finds every endpoint by discovery.
func serverConfig(srv *authserver.Server, clientID string) security.Config {
	cfg := security.DefaultConfig()
	cfg.ServerURL = srv.URL()
	cfg.ClientID = clientID
	cfg.DefaultScopes = []string{"trading"}
	return cfg
}

func TestPrivateKeyJWTClientCredentials(t *testing.T) {
	srv := startServer(t)
	keys := testKeys(t)
	for _, tc := range []struct {
		client, key string
		alg         security.JWTAlgorithm
	}{
		{"jwt-rsa-client", keys.RSAPKCS1Path, security.JWTAlgorithmRS256},
		{"jwt-ps-client", keys.RSAPKCS8Path, security.JWTAlgorithmPS256},
		{"jwt-ec-client", keys.ECSEC1Path, security.JWTAlgorithmES256},
	} {
		t.Run(tc.client, func(t *testing.T) {
			cfg := serverConfig(srv, tc.client)
			cfg.ClientAuthMethod = security.ClientAuthMethodPrivateKeyJWT
			cfg.JWTSigningKeyPath, cfg.JWTAlgorithm = tc.key, tc.alg
			c := newClient(t, cfg)
			// Two tokens: each request carries a fresh assertion (jti), which the
			// server refuses to see twice.
			for i := 0; i < 2; i++ {
				if _, err := c.AuthenticateClientCredentials(context.Background(), nil); err != nil {
					t.Fatalf("token %d: %v", i+1, err)
				}
			}
		})
	}
	t.Run("untrusted key", func(t *testing.T) {
		cfg := serverConfig(srv, "jwt-ec-client")
		cfg.ClientAuthMethod = security.ClientAuthMethodPrivateKeyJWT
		cfg.JWTSigningKeyPath, cfg.JWTAlgorithm = keys.UntrustedECPKCS8Path, security.JWTAlgorithmES256
		_, err := newClient(t, cfg).AuthenticateClientCredentials(context.Background(), nil)
		if security.CodeOf(err) != security.CodeInvalidClient {
			t.Errorf("err = %v, want invalid_client", err)
		}
	})
}

func TestJWTBearerGrant(t *testing.T) {
	srv := startServer(t)
	keys := testKeys(t)
	for _, tc := range []struct {
		key string
		alg security.JWTAlgorithm
	}{{keys.RSAPKCS8Path, security.JWTAlgorithmRS256}, {keys.ECPKCS8Path, security.JWTAlgorithmES256}} {
		t.Run(string(tc.alg), func(t *testing.T) {
			cfg := serverConfig(srv, "basic-client")
			cfg.ClientSecret = "basic-secret"
			cfg.AuthMode = security.AuthModeJWTBearer
			cfg.JWTIssuer = "conformance-issuer"
			cfg.JWTSigningKeyPath, cfg.JWTAlgorithm = tc.key, tc.alg
			c := newClient(t, cfg)
			tok, err := c.AuthenticateJWTBearer(context.Background(), "trader-001", []string{"trading", "analytics"})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(tok.Scopes, " "); got != "trading analytics" {
				t.Errorf("scopes = %q", got)
			}
			info, err := c.IntrospectToken(context.Background(), "")
			if err != nil || !info.Active || info.Subject != "trader-001" {
				t.Errorf("introspection = %+v, %v; want an active token for trader-001", info, err)
			}
			// get_valid_token signs its own grant for the client id when the cache is empty.
			if err := c.ClearTokens(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Token(context.Background()); err != nil {
				t.Errorf("Token after ClearTokens: %v", err)
			}
		})
	}
	t.Run("untrusted key", func(t *testing.T) {
		cfg := serverConfig(srv, "basic-client")
		cfg.ClientSecret = "basic-secret"
		cfg.AuthMode = security.AuthModeJWTBearer
		cfg.JWTIssuer = "conformance-issuer"
		cfg.JWTSigningKeyPath, cfg.JWTAlgorithm = keys.UntrustedECPKCS8Path, security.JWTAlgorithmES256
		_, err := newClient(t, cfg).AuthenticateJWTBearer(context.Background(), "trader-001", nil)
		if security.CodeOf(err) != security.CodeInvalidGrant {
			t.Errorf("err = %v, want invalid_grant", err)
		}
	})
}

// browser plays the user agent: it follows the authorization URL and
// returns the redirection back to the client, without following it.
func browser(t *testing.T, authURL string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		t.Fatalf("authorization endpoint answered %d without a redirection", resp.StatusCode)
	}
	return loc
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "public-client")
	cfg.AuthMode = security.AuthModeAuthorizationCodePKCE
	cfg.ClientAuthMethod = security.ClientAuthMethodNone
	cfg.RedirectURI = "http://127.0.0.1:8080/callback"
	c := newClient(t, cfg)
	ctx := context.Background()

	if _, err := c.Token(ctx); security.CodeOf(err) != "login_required" {
		t.Fatalf("Token before sign-in: %v, want login_required", err)
	}
	req, err := c.StartAuthorizationCodeFlow(ctx, "", []string{"trading", "portfolio"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(req.CodeVerifier.Reveal()); n < 43 || n > 128 || !strings.Contains(req.URL, "code_challenge_method=S256") {
		t.Fatalf("request = %+v (verifier %d chars)", req, n)
	}
	callback := browser(t, req.URL)
	if !strings.Contains(callback, "iss=") {
		t.Errorf("the server sent no iss parameter: %s", callback)
	}
	tok, err := c.CompleteAuthorizationCodeFlow(ctx, callback)
	if err != nil {
		t.Fatalf("CompleteAuthorizationCodeFlow: %v", err)
	}
	if tok.RefreshToken.IsZero() {
		t.Fatal("no refresh token")
	}
	// The same redirection again: the state is spent, the code is never sent twice.
	before := srv.TokenRequests()
	if _, err := c.CompleteAuthorizationCodeFlow(ctx, callback); security.CodeOf(err) != "invalid_state" || srv.TokenRequests() != before {
		t.Errorf("replayed redirection: %v, %d token requests; want invalid_state and none", err, srv.TokenRequests()-before)
	}
	if got, err := c.Token(ctx); err != nil || got.AccessToken != tok.AccessToken {
		t.Errorf("Token = %v, %v; want the signed-in token", got, err)
	}

	// Refresh with rotation: the new refresh token replaces the old one, which is dead.
	rotated, err := c.RefreshToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if rotated.RefreshToken == tok.RefreshToken || rotated.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if _, err := c.RefreshToken(ctx, tok.RefreshToken.Reveal()); security.CodeOf(err) != security.CodeInvalidGrant {
		t.Errorf("old refresh token: %v, want invalid_grant", err)
	}

	// A forged or missing state never reaches the token endpoint.
	req, _ = c.StartAuthorizationCodeFlow(ctx, "", nil)
	callback = browser(t, req.URL)
	forged := strings.Replace(callback, "state="+req.State, "state=forged-state-value-xxxxxxxxxxxx", 1)
	if _, err := c.CompleteAuthorizationCodeFlow(ctx, forged); security.CodeOf(err) != "invalid_state" {
		t.Errorf("forged state: %v, want invalid_state", err)
	}
}

func TestAuthorizationCodeWrongVerifier(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "public-client")
	cfg.AuthMode = security.AuthModeAuthorizationCodePKCE
	cfg.ClientAuthMethod = security.ClientAuthMethodNone
	cfg.RedirectURI = "http://127.0.0.1:8080/callback"
	c := newClient(t, cfg)
	ctx := context.Background()
	req, err := c.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	callback := browser(t, req.URL)
	code := queryValue(t, callback, "code")
	wrong := strings.Repeat("w", 43)
	if _, err := c.AuthenticateAuthorizationCode(ctx, code, req.RedirectURI, wrong); security.CodeOf(err) != security.CodeInvalidGrant {
		t.Errorf("wrong verifier: %v, want invalid_grant", err)
	}
}

func TestPlainAuthorizationCodeForConfidentialClient(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "post-client")
	cfg.ClientSecret = "post-secret"
	cfg.ClientAuthMethod = security.ClientAuthMethodClientSecretPost
	cfg.AuthMode = security.AuthModeAuthorizationCode
	cfg.RedirectURI = "http://127.0.0.1:8080/callback"
	c := newClient(t, cfg)
	req, err := c.StartAuthorizationCodeFlow(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(req.URL, "code_challenge") || !req.CodeVerifier.IsZero() {
		t.Errorf("plain code flow sent PKCE: %s", req.URL)
	}
	if _, err := c.CompleteAuthorizationCodeFlow(context.Background(), browser(t, req.URL)); err != nil {
		t.Fatal(err)
	}
}

func TestRevocationIntrospectionAndConnection(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	c := newClient(t, cfg)
	ctx := context.Background()
	ok, err := c.TestConnection(ctx)
	if !ok || err != nil {
		t.Fatalf("TestConnection = %v, %v", ok, err)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.IntrospectToken(ctx, "")
	if err != nil || !info.Active || info.ClientID != "basic-client" {
		t.Fatalf("introspection = %+v, %v", info, err)
	}
	if revoked, err := c.RevokeToken(ctx, "", ""); !revoked || err != nil {
		t.Fatalf("RevokeToken = %v, %v", revoked, err)
	}
	if c.CurrentToken() != nil {
		t.Error("the revoked token is still current")
	}
	info, err = c.IntrospectToken(ctx, tok.AccessToken.Reveal())
	if err != nil || info.Active {
		t.Errorf("revoked token introspects as %+v, %v", info, err)
	}

	closing := newClient(t, cfg)
	if _, err := closing.Token(ctx); err != nil {
		t.Fatal(err)
	}
	old := closing.CurrentToken()
	cfgRevoke := cfg
	cfgRevoke.RevokeOnClose = true
	revoking, err := security.New(cfgRevoke, security.WithMode(security.ModeReal))
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := revoking.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := revoking.Close(); err != nil {
		t.Fatal(err)
	}
	if info, _ := closing.IntrospectToken(ctx, tok2.AccessToken.Reveal()); info == nil || info.Active {
		t.Errorf("revoke_on_close left the token active: %+v", info)
	}
	if info, _ := closing.IntrospectToken(ctx, old.AccessToken.Reveal()); info == nil || !info.Active {
		t.Errorf("another client's token was revoked: %+v", info)
	}
}

func TestFileStorageAcrossRestarts(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	cfg.TokenStoragePath = filepath.Join(t.TempDir(), "tokens.json")
	cfg.TokenStorageKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64
	first := newClient(t, cfg)
	tok, err := first.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(cfg.TokenStoragePath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", info, err)
	}
	raw, _ := os.ReadFile(cfg.TokenStoragePath)
	if strings.Contains(string(raw), tok.AccessToken.Reveal()) {
		t.Error("the encrypted token file holds the token in clear")
	}
	before := srv.TokenRequests()
	second := newClient(t, cfg) // a restart
	again, err := second.Token(context.Background())
	if err != nil || again.AccessToken != tok.AccessToken || srv.TokenRequests() != before {
		t.Errorf("after a restart: %v, %v, %d requests; want the stored token and none", again, err, srv.TokenRequests()-before)
	}
	os.WriteFile(cfg.TokenStoragePath, []byte("{not json"), 0o600)
	third := newClient(t, cfg)
	if _, err := third.Token(context.Background()); security.CodeOf(err) != "storage_error" {
		t.Errorf("corrupt file: %v, want storage_error", err)
	}
}

// memoryRedis stands in for a Redis client in the product brief's example.
type memoryRedis struct {
	mu   sync.Mutex
	data map[string]string
}

func (r *memoryRedis) Set(key, value string) { r.mu.Lock(); r.data[key] = value; r.mu.Unlock() }
func (r *memoryRedis) Get(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.data[key]
	return v, ok
}
func (r *memoryRedis) Del(key string) { r.mu.Lock(); delete(r.data, key); r.mu.Unlock() }

// redisTokenStorage is the product brief's RedisTokenStorage, in Go.
type redisTokenStorage struct{ redis *memoryRedis }

func (s redisTokenStorage) Get(_ context.Context, key string) (*security.Token, error) {
	v, ok := s.redis.Get("auth_token:" + key)
	if !ok {
		return nil, nil
	}
	return &security.Token{AccessToken: secret.Secret(v), TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func (s redisTokenStorage) Store(_ context.Context, key string, tok *security.Token) error {
	s.redis.Set("auth_token:"+key, tok.AccessToken.Reveal())
	return nil
}

func (s redisTokenStorage) Delete(_ context.Context, key string) error {
	s.redis.Del("auth_token:" + key)
	return nil
}

func TestCustomStorage(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	redis := &memoryRedis{data: map[string]string{}}
	c, err := security.New(cfg, security.WithMode(security.ModeReal), security.WithStorage(redisTokenStorage{redis}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(redis.data) != 1 {
		t.Fatalf("redis holds %d keys, want 1", len(redis.data))
	}
	for _, v := range redis.data {
		if v != tok.AccessToken.Reveal() {
			t.Error("redis does not hold the token")
		}
	}
}

func TestMutualTLSCertificateBoundTokens(t *testing.T) {
	pki, err := mtlsserver.WriteTestPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mtlsserver.Start(mtlsserver.Options{PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	for _, tc := range []struct {
		client string
		method security.ClientAuthMethod
		pair   *mtlsserver.KeyPair
	}{
		{"mtls-client", security.ClientAuthMethodTLSClientAuth, pki.Client},
		{"self-signed-client", security.ClientAuthMethodSelfSignedTLSClientAuth, pki.SelfSigned},
	} {
		t.Run(tc.client, func(t *testing.T) {
			cfg := security.DefaultConfig()
			cfg.ServerURL, cfg.ClientID = srv.URL(), tc.client
			cfg.AuthMode, cfg.ClientAuthMethod = security.AuthModeClientCredentialsMTLS, tc.method
			cfg.ClientCertPath, cfg.ClientKeyPath, cfg.CACertPath = tc.pair.CertPath, tc.pair.KeyPath, pki.CA.CertPath
			c := newClient(t, cfg)
			tok, err := c.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			info, err := c.IntrospectToken(ctx, "")
			if err != nil || !info.Active || info.Confirmation == nil || info.Confirmation.X5tS256 != tc.pair.Thumbprint() {
				t.Errorf("introspection = %+v, %v; want cnf bound to the certificate", info, err)
			}
			// The token works at the resource server with the same certificate.
			hc := &http.Client{Transport: security.Transport(c, tlsTransport(t, pki, tc.pair))}
			resp, err := hc.Get(srv.ResourceURL())
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("resource: %v, %v", resp, err)
			}
			resp.Body.Close()
			_ = tok
		})
	}
	t.Run("missing certificate", func(t *testing.T) {
		cfg := security.DefaultConfig()
		cfg.ServerURL, cfg.ClientID, cfg.CACertPath = srv.URL(), "mtls-client", pki.CA.CertPath
		cfg.TokenURL = srv.MTLSTokenURL()
		cfg.AuthMode, cfg.ClientAuthMethod = security.AuthModeClientCredentials, security.ClientAuthMethodClientSecretBasic
		cfg.ClientSecret = "not-a-certificate"
		_, err := newClient(t, cfg).Token(ctx)
		if security.CodeOf(err) != security.CodeInvalidClient {
			t.Errorf("err = %v, want invalid_client", err)
		}
	})
}

// tlsTransport presents pair and trusts the test CA, for the resource server.
func tlsTransport(t *testing.T, pki *mtlsserver.PKI, pair *mtlsserver.KeyPair) http.RoundTripper {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig(pki, pair)
	return tr
}

func queryValue(t *testing.T, rawURL, key string) string {
	t.Helper()
	i := strings.Index(rawURL, "?")
	if i < 0 {
		t.Fatalf("no query in %s", rawURL)
	}
	for _, kv := range strings.Split(rawURL[i+1:], "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	t.Fatalf("no %s in %s", key, rawURL)
	return ""
}

// TestInteropAdapters uses the client through golang.org/x/oauth2 and
// net/http.
func TestInteropAdapters(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	c := newClient(t, cfg)
	ts := security.TokenSource(context.Background(), c)
	o, err := ts.Token()
	if err != nil || o.AccessToken == "" || o.TokenType != "Bearer" {
		t.Fatalf("oauth2 token = %+v, %v", o, err)
	}
	var _ token.Source = c
}
