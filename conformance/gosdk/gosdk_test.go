// Package gosdk_test drives the generated Go package (out/go/security)
// against the fosite-based authorization server, through its public API
// only: the same calls a trading service makes.
package gosdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/configload"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
)

func startServer(t *testing.T) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{Clients: authserver.DefaultClients()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newClient(t *testing.T, cfg security.Config) security.Client {
	t.Helper()
	c, err := security.New(cfg, security.WithMode(security.ModeReal))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientCredentialsAgainstFosite(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct {
		method         security.ClientAuthMethod
		id, secret     string
		discoverTokens bool
	}{
		{security.ClientAuthMethodClientSecretBasic, "basic-client", "basic-secret", false},
		{security.ClientAuthMethodClientSecretPost, "post-client", "post-secret", false},
		{security.ClientAuthMethodClientSecretBasic, "basic-client", "basic-secret", true},
	} {
		t.Run(fmt.Sprintf("%s/discovery=%v", tc.method, tc.discoverTokens), func(t *testing.T) {
			cfg := security.DefaultConfig()
			cfg.ServerURL = srv.URL()
			cfg.ClientID = tc.id
			cfg.ClientSecret = secret.Secret(tc.secret)
			cfg.ClientAuthMethod = tc.method
			cfg.DefaultScopes = []string{"trading", "market-data"}
			if !tc.discoverTokens {
				cfg.TokenURL = srv.TokenURL()
			}
			c := newClient(t, cfg)
			ctx := context.Background()

			tok, err := c.AuthenticateClientCredentials(ctx, nil)
			if err != nil {
				t.Fatalf("AuthenticateClientCredentials: %v", err)
			}
			if tok.AccessToken.IsZero() || !strings.HasPrefix(tok.AuthorizationHeader(), "Bearer ") {
				t.Fatalf("token = %v, header %q", tok, tok.AuthorizationHeader())
			}
			if got := strings.Join(tok.Scopes, " "); got != "trading market-data" {
				t.Errorf("scopes = %q, want %q", got, "trading market-data")
			}
			if until := time.Until(tok.ExpiresAt); until < 30*time.Minute || until > 2*time.Hour {
				t.Errorf("expires in %v, want about an hour", until)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), tok.AccessToken.Reveal()) {
				t.Error("the token's printed forms contain the access token")
			}

			before := srv.TokenRequests()
			again, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again.AccessToken.Reveal() != tok.AccessToken.Reveal() || srv.TokenRequests() != before {
				t.Error("Token did not return the cached token without a request")
			}
			if got := c.CurrentToken(); got == nil || got.AccessToken.Reveal() != tok.AccessToken.Reveal() {
				t.Error("CurrentToken is not the cached token")
			}
			if err := c.ClearTokens(ctx); err != nil {
				t.Fatal(err)
			}
			fresh, err := c.GetValidToken(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fresh.AccessToken.Reveal() == tok.AccessToken.Reveal() || srv.TokenRequests() != before+1 {
				t.Error("GetValidToken after ClearTokens did not fetch a new token")
			}
		})
	}
}

func TestConcurrentCallersShareOneRequest(t *testing.T) {
	srv := startServer(t)
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.TokenURL = srv.URL(), srv.TokenURL()
	cfg.ClientID, cfg.ClientSecret = "basic-client", "basic-secret"
	c := newClient(t, cfg)
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Token(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.AccessToken.Reveal()
		}()
	}
	wg.Wait()
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("server saw %d token requests, want 1", n)
	}
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
}

func TestTypedErrors(t *testing.T) {
	srv := startServer(t)
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.TokenURL = srv.URL(), srv.TokenURL()
	cfg.ClientID, cfg.ClientSecret = "basic-client", "wrong-secret"
	c := newClient(t, cfg)
	_, err := c.AuthenticateClientCredentials(context.Background(), nil)
	var e *security.Error
	if !errors.As(err, &e) || security.CodeOf(err) != security.CodeInvalidClient || e.StatusCode != 401 || security.IsRetryable(err) {
		t.Fatalf("err = %#v, want a non-retryable invalid_client with HTTP 401", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Error("the error contains the client secret")
	}

	cfg.ClientSecret = "basic-secret"
	c = newClient(t, cfg)
	_, err = c.AuthenticateClientCredentials(context.Background(), []string{"withdraw-funds"})
	if security.CodeOf(err) != security.CodeInvalidScope {
		t.Errorf("unknown scope: err = %v, want invalid_scope", err)
	}

	// A flow the configuration does not support answers with the typed error, never a token.
	tok, err := c.AuthenticateJWTBearer(context.Background(), "trader-001", nil)
	if tok != nil || security.CodeOf(err) != security.CodeInvalidConfig {
		t.Errorf("AuthenticateJWTBearer = %v, %v; want invalid_config", tok, err)
	}
}

func TestConfigFromEnvironmentFileAndCode(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/auth.yaml"
	writeFile(t, path, `
authentication:
  server_url: "https://auth.example.test"
  client_id: "from-file"
  auth_mode: "client_credentials"
  default_scopes: ["trading", "market-data", "analytics"]
  auto_refresh: true
  refresh_buffer_seconds: 120
  timeout_ms: 30000
  verify_ssl: true
other_component:
  anything: goes
`)
	t.Setenv("COYOTE_AUTH_CLIENT_ID", "from-env")
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", "s3cret-from-env")
	t.Setenv("COYOTE_AUTH_TIMEOUT_MS", "2500")
	cfg, err := security.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TimeoutMS = 1000 // code wins over everything
	if cfg.ServerURL != "https://auth.example.test" || cfg.ClientID != "from-env" || cfg.RefreshBufferSeconds != 120 ||
		cfg.TimeoutMS != 1000 || cfg.ClientSecret.Reveal() != "s3cret-from-env" || len(cfg.DefaultScopes) != 3 || !cfg.VerifySSL {
		t.Fatalf("precedence is wrong: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", cfg, cfg), "s3cret-from-env") {
		t.Error("the printed config contains the secret")
	}

	t.Setenv("COYOTE_AUTH_TIMEOUT_MS", "soon")
	t.Setenv("COYOTE_AUTH_MODE", "password")
	_, err = security.LoadConfig(path)
	var ce *configload.Error
	if !errors.As(err, &ce) || len(ce.Problems) != 2 ||
		!strings.Contains(err.Error(), `COYOTE_AUTH_TIMEOUT_MS: invalid integer "soon"`) ||
		!strings.Contains(err.Error(), `COYOTE_AUTH_MODE: unknown value "password": want one of "client_credentials"`) {
		t.Errorf("bad environment: err = %v", err)
	}
}

func TestConfigFileProblemsNameTheLine(t *testing.T) {
	path := t.TempDir() + "/auth.yaml"
	writeFile(t, path, "authentication:\n  server_url: https://a.test\n  client_idd: typo\n  timeout_ms: soon\n")
	_, err := security.LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+`:3:3: authentication: unknown key "client_idd"`) || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("err = %v", err)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	cfg := security.DefaultConfig()
	cfg.AuthMode = security.AuthModeJWTBearer
	cfg.ClientAuthMethod = security.ClientAuthMethodTLSClientAuth
	cfg.TokenURL = "ftp://x"
	cfg.JWTLifetimeSeconds = 600
	err := cfg.Validate()
	var ce *configload.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Validate = %v", err)
	}
	want := []string{
		"server_url is required (set COYOTE_AUTH_SERVER_URL or authentication.server_url)",
		"client_id is required (set COYOTE_AUTH_CLIENT_ID or authentication.client_id)",
		`jwt_lifetime_seconds: 600 is above the maximum 60`,
		`token_url: invalid URL "ftp://x": want an absolute http or https URL`,
		`jwt_signing_key_path is required when auth_mode is "jwt_bearer" (set COYOTE_AUTH_JWT_KEY_PATH or authentication.jwt_signing_key_path)`,
		`jwt_issuer is required when auth_mode is "jwt_bearer" (set COYOTE_AUTH_JWT_ISSUER or authentication.jwt_issuer)`,
		`client_cert_path is required when client_auth_method is "tls_client_auth" (set COYOTE_AUTH_CLIENT_CERT_PATH or authentication.client_cert_path)`,
		`client_auth_method "tls_client_auth" is not allowed when auth_mode is "jwt_bearer": want one of "none", "client_secret_basic", "client_secret_post", "private_key_jwt"`,
	}
	for _, w := range want {
		found := false
		for _, p := range ce.Problems {
			found = found || p == w
		}
		if !found {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(ce.Problems, "\n"))
		}
	}
}

func TestModes(t *testing.T) {
	t.Setenv("MODE", "mock")
	if m, err := security.ModeFromEnv(configload.EnvLookup()); err != nil || m != security.ModeMock {
		t.Errorf("ModeFromEnv = %q, %v", m, err)
	}
	t.Setenv("MODE", "chaos")
	if _, err := security.ModeFromEnv(configload.EnvLookup()); err == nil || !strings.Contains(err.Error(), `MODE: unknown value "chaos"`) {
		t.Errorf("ModeFromEnv(chaos) err = %v", err)
	}
	opts := security.DefaultModeOptions()
	if opts.Debug.MaxTraces != 100 || opts.Debug.LogTokens || opts.Mock.TokenLifetimeSeconds != 3600 {
		t.Errorf("mode defaults = %+v", opts)
	}
	opts.Mock.FailureRate = 1.5
	if err := opts.Mock.Validate(); err == nil || !strings.Contains(err.Error(), "mock.failure_rate: 1.5 is above the maximum 1") {
		t.Errorf("Mock.Validate = %v", err)
	}
}

func TestErrorClassification(t *testing.T) {
	for code, want := range map[security.ErrorCode]bool{
		security.CodeTemporarilyUnavailable: true,
		security.CodeServerError:            true,
		security.CodeNetworkError:           true,
		security.CodeInvalidClient:          false,
		security.CodeInvalidGrant:           false,
	} {
		if code.Retryable() != want {
			t.Errorf("%s.Retryable() = %v, want %v", code, !want, want)
		}
	}
}
