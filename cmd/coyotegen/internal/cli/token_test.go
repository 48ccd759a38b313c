package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
)

// The confidential clients of authserver.DefaultClients that these tests use.
const (
	basicID, basicSecret = "basic-client", "basic-secret"
	postID, postSecret   = "post-client", "post-secret"
)

// startAuthServer starts the fosite authorization server on 127.0.0.1 for
// one test.
func startAuthServer(t *testing.T) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// cleanTokenEnv unsets, for one test, every variable the token command
// reads, so that the developer's environment cannot change the result.
func cleanTokenEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "COYOTE_AUTH_") {
			t.Setenv(name, "")
		}
	}
	t.Setenv(security.ModeEnv, "")
}

// runWithStdin runs the command line in process with stdin as its input.
func runWithStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// introspect asks the server, as basic-client, about a printed token; the
// server accepts only tokens it issued and that are still valid.
func introspect(t *testing.T, srv *authserver.Server, tok string) *security.Introspection {
	t.Helper()
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.ClientID, cfg.ClientSecret = srv.URL(), basicID, secret.Secret(basicSecret)
	c, err := security.New(cfg, security.WithMode(security.ModeReal))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, err := c.IntrospectToken(context.Background(), tok)
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return in
}

// wantActive checks that the command printed exactly one token and that
// the server holds it as active for clientID.
func wantActive(t *testing.T, srv *authserver.Server, stdout, clientID string) string {
	t.Helper()
	tok, ok := strings.CutSuffix(stdout, "\n")
	if !ok || tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("stdout = %q, want one token and a newline", stdout)
	}
	if in := introspect(t, srv, tok); !in.Active || in.ClientID != clientID {
		t.Fatalf("introspection of the printed token: active %v, client %q; want active for %q", in.Active, in.ClientID, clientID)
	}
	return tok
}

func TestTokenDiscoveryFromServerURL(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	t.Setenv("BROKER_SECRET", basicSecret)

	code, stdout, stderr := run("token", "--server-url", srv.URL(), "--client-id", basicID, "--client-secret-env", "BROKER_SECRET")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantActive(t, srv, stdout, basicID)
	if strings.Contains(stdout+stderr, basicSecret) {
		t.Error("the output contains the client secret")
	}
	if n := srv.Requests(authserver.OAuthMetadataPath) + srv.Requests(authserver.OpenIDConfigurationPath); n == 0 {
		t.Error("the endpoints were not discovered from --server-url")
	}
	if got := srv.GrantRequests("client_credentials"); got != 1 {
		t.Errorf("%d client_credentials requests, want 1", got)
	}
}

// TestTokenConfigFile reads everything from --config, and checks the
// precedence: flags over the environment over the file.
func TestTokenConfigFile(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "auth.yaml")
	writeTestFile(t, config, `# operator configuration
logging:
  level: info
authentication:
  server_url: "`+srv.URL()+`"
  client_id: "`+postID+`"
  client_secret: "`+postSecret+`"
  client_auth_method: "client_secret_post"
  default_scopes: ["analytics"]
`)

	t.Run("file", func(t *testing.T) {
		code, stdout, stderr := run("token", "--config", config, "--json")
		if code != ExitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		got := decodeTokenJSON(t, stdout)
		if strings.Join(got.Scope, " ") != "analytics" {
			t.Errorf("scope = %q, want the file's default_scopes", got.Scope)
		}
		wantActive(t, srv, got.AccessToken+"\n", postID)
	})

	t.Run("env over file, flags over env", func(t *testing.T) {
		// The environment replaces the file's client and scopes; --scope
		// and --client-auth-method replace the environment's.
		t.Setenv("COYOTE_AUTH_CLIENT_ID", basicID)
		t.Setenv("COYOTE_AUTH_CLIENT_SECRET", basicSecret)
		t.Setenv("COYOTE_AUTH_DEFAULT_SCOPES", "portfolio")
		t.Setenv("COYOTE_AUTH_CLIENT_AUTH_METHOD", "client_secret_post")
		code, stdout, stderr := run("token", "--config", config, "--json",
			"--client-auth-method", "client_secret_basic", "--scope", "trading", "--scope", "market-data,analytics")
		if code != ExitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		got := decodeTokenJSON(t, stdout)
		if strings.Join(got.Scope, " ") != "trading market-data analytics" {
			t.Errorf("scope = %q, want the --scope flags", got.Scope)
		}
		wantActive(t, srv, got.AccessToken+"\n", basicID)
	})
}

func TestTokenFromEnvironment(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	t.Setenv("COYOTE_AUTH_SERVER_URL", srv.URL())
	t.Setenv("COYOTE_AUTH_CLIENT_ID", basicID)
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", basicSecret)
	t.Setenv("COYOTE_AUTH_DEFAULT_SCOPES", "trading market-data")
	t.Setenv(security.ModeEnv, string(security.ModeReal))

	code, stdout, stderr := run("token")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantActive(t, srv, stdout, basicID)
}

func TestTokenSecretFile(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	file := filepath.Join(t.TempDir(), "secret")
	writeTestFile(t, file, postSecret+"\n")
	common := []string{"token", "--server-url", srv.URL(), "--client-id", postID, "--client-auth-method", "client_secret_post"}

	code, stdout, stderr := run(append(common, "--client-secret-file", file)...)
	if code != ExitOK {
		t.Fatalf("file: exit %d, stderr %q", code, stderr)
	}
	wantActive(t, srv, stdout, postID)

	code, stdout, stderr = runWithStdin("  "+postSecret+"\r\n", append(common, "--client-secret-file", "-")...)
	if code != ExitOK {
		t.Fatalf("stdin: exit %d, stderr %q", code, stderr)
	}
	wantActive(t, srv, stdout, postID)
}

func TestTokenJSON(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", basicSecret)
	before := time.Now()
	code, stdout, stderr := run("token", "--server-url", srv.URL(), "--client-id", basicID, "--scope", "trading", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, k := range []string{"access_token", "token_type", "expires_at", "expires_in", "scope", "has_refresh_token"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("no %q in %s", k, stdout)
		}
	}
	if len(fields) != 6 {
		t.Errorf("%d fields, want 6: %s", len(fields), stdout)
	}

	if strings.Contains(stdout+stderr, basicSecret) {
		t.Error("the output contains the client secret")
	}
	got := decodeTokenJSON(t, stdout)
	wantActive(t, srv, got.AccessToken+"\n", basicID)
	if !strings.EqualFold(got.TokenType, "bearer") {
		t.Errorf("token_type = %q, want Bearer", got.TokenType)
	}
	if got.ExpiresAt == nil || got.ExpiresIn == nil {
		t.Fatalf("expires_at %v, expires_in %v: want both for an expiring token", got.ExpiresAt, got.ExpiresIn)
	}
	at, err := time.Parse(time.RFC3339, *got.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at %q is not RFC 3339: %v", *got.ExpiresAt, err)
	}
	// The server issues one-hour tokens; RFC 3339 here has whole seconds.
	if lo, hi := before.Add(time.Hour-time.Minute), time.Now().Add(time.Hour+time.Second); at.Before(lo) || at.After(hi) {
		t.Errorf("expires_at = %v, want about an hour from now", at)
	}
	if *got.ExpiresIn < 3500 || *got.ExpiresIn > 3600 {
		t.Errorf("expires_in = %d, want about 3600", *got.ExpiresIn)
	}
	if strings.Join(got.Scope, " ") != "trading" || got.HasRefreshToken {
		t.Errorf("scope %q, has_refresh_token %v; want [trading], false", got.Scope, got.HasRefreshToken)
	}
}

func TestTokenHeader(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", basicSecret)
	code, stdout, stderr := run("token", "--server-url", srv.URL(), "--client-id", basicID, "--header")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	tok, ok := strings.CutPrefix(stdout, "Authorization: Bearer ")
	if !ok {
		t.Fatalf("stdout = %q, want an Authorization: Bearer header", stdout)
	}
	wantActive(t, srv, tok, basicID)
}

func TestTokenWrongSecret(t *testing.T) {
	cleanTokenEnv(t)
	srv := startAuthServer(t)
	const wrong = "not-the-basic-secret-5f3c9"
	for name, args := range map[string][]string{
		"env":  {"--client-secret-env", "WRONG_SECRET"},
		"json": {"--client-secret-env", "WRONG_SECRET", "--json"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("WRONG_SECRET", wrong)
			code, stdout, stderr := run(append([]string{"token", "--server-url", srv.URL(), "--client-id", basicID}, args...)...)
			if code != ExitProblem {
				t.Errorf("exit %d, want %d", code, ExitProblem)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "coyotegen: invalid_client: ") || !strings.Contains(stderr, "(HTTP 401)") {
				t.Errorf("stderr = %q, want the invalid_client code, description and status", stderr)
			}
			if strings.Contains(stdout+stderr, wrong) {
				t.Error("the output contains the client secret")
			}
		})
	}
}

// TestTokenMockMode needs no server: mock mode makes synthetic tokens.
// It fails with not_implemented until the generated package wires mock mode.
func TestTokenMockMode(t *testing.T) {
	for name, modeArgs := range map[string][]string{"MODE=mock": nil, "--mode mock": {"--mode", "mock"}} {
		t.Run(name, func(t *testing.T) {
			cleanTokenEnv(t)
			if modeArgs == nil {
				t.Setenv(security.ModeEnv, string(security.ModeMock))
			}
			t.Setenv("COYOTE_AUTH_CLIENT_SECRET", "mock-secret")
			// Nothing listens on port 1: a request would fail with network_error.
			args := append([]string{"token", "--server-url", "http://127.0.0.1:1", "--client-id", "mock-client", "--json"}, modeArgs...)
			code, stdout, stderr := run(args...)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr %q (mode mock is not wired into out/go/security yet?)", code, stderr)
			}
			got := decodeTokenJSON(t, stdout)
			if got.AccessToken == "" || got.ExpiresAt == nil {
				t.Errorf("mock token %s: want an access token with an expiry", stdout)
			}
			if strings.Contains(stdout+stderr, "mock-secret") {
				t.Error("the output contains the client secret")
			}
		})
	}
}

func TestTokenUsageErrors(t *testing.T) {
	cleanTokenEnv(t)
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", "s3cr3t-value-7d1e")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeTestFile(t, empty, "\n")
	badYAML := filepath.Join(dir, "bad.yaml")
	writeTestFile(t, badYAML, "authentication:\n  client_idd: x\n")
	base := []string{"token", "--server-url", "http://127.0.0.1:1", "--client-id", "c"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad flow", append(base, "--flow", "password"), ExitUsage, `unknown --flow "password": want one of "client_credentials", "authorization_code"`},
		{"bad auth method", append(base, "--client-auth-method", "magic"), ExitUsage, `unknown --client-auth-method "magic": want one of "client_secret_basic"`},
		{"bad mode", append(base, "--mode", "fake"), ExitUsage, `unknown --mode "fake": want one of "real", "mock", "debug", "record", "replay", "simulation"`},
		{"cassette in real mode", append(base, "--cassette", "c.json"), ExitUsage, `--cassette is used only in mode "record" or "replay", not "real"`},
		{"json and header", append(base, "--json", "--header"), ExitUsage, "[header json]"},
		{"two secret sources", append(base, "--client-secret-env", "X", "--client-secret-file", empty), ExitUsage, "client-secret-env"},
		{"unset secret env", append(base, "--client-secret-env", "COYOTE_TEST_UNSET_9b2"), ExitUsage, `environment variable "COYOTE_TEST_UNSET_9b2" is not set or empty`},
		{"empty secret file", append(base, "--client-secret-file", empty), ExitUsage, "is empty"},
		{"missing secret file", append(base, "--client-secret-file", filepath.Join(dir, "absent")), ExitIO, "no such file"},
		{"missing config", append(base, "--config", filepath.Join(dir, "absent.yaml")), ExitIO, "read --config"},
		{"unknown key in config", append(base, "--config", badYAML), ExitUsage, "client_idd"},
		{"no client id", []string{"token", "--server-url", "http://127.0.0.1:1"}, ExitUsage, "client_id is required"},
		{"bad server url", []string{"token", "--server-url", "ftp://x", "--client-id", "c"}, ExitUsage, `server_url: invalid URL "ftp://x"`},
		{"argument", append(base, "extra"), ExitUsage, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "s3cr3t-value-7d1e") {
				t.Error("stderr contains the client secret")
			}
		})
	}
}

func TestTokenModeFromEnvironmentIsChecked(t *testing.T) {
	cleanTokenEnv(t)
	t.Setenv(security.ModeEnv, "turbo")
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", "x")
	code, _, stderr := run("token", "--server-url", "http://127.0.0.1:1", "--client-id", "c")
	if code != ExitUsage || !strings.Contains(stderr, `MODE: unknown value "turbo"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestTokenNetworkError shows a coyotegen code for a failure without an
// OAuth error response.
func TestTokenNetworkError(t *testing.T) {
	cleanTokenEnv(t)
	t.Setenv("COYOTE_AUTH_CLIENT_SECRET", "x")
	t.Setenv("COYOTE_AUTH_MAX_RETRIES", "0")
	code, stdout, stderr := run("token", "--server-url", "http://127.0.0.1:1", "--client-id", "c")
	if code != ExitProblem || stdout != "" || !strings.HasPrefix(stderr, "coyotegen: network_error: ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestWriteTokenJSONWithoutExpiry(t *testing.T) {
	var b bytes.Buffer
	tok := &security.Token{AccessToken: "tok", TokenType: "Bearer", RefreshToken: "rt"}
	if err := writeTokenJSON(&b, tok, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := `{
  "access_token": "tok",
  "token_type": "Bearer",
  "expires_at": null,
  "expires_in": null,
  "scope": [],
  "has_refresh_token": true
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if strings.Contains(b.String(), "rt\"") {
		t.Error("the refresh token was printed")
	}
}

func decodeTokenJSON(t *testing.T, stdout string) tokenJSON {
	t.Helper()
	var got tokenJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not the token JSON: %v\n%s", err, stdout)
	}
	return got
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTokenModeFromConfigFile takes the mode and its options from the
// mode: and modes: keys of --config.
func TestTokenModeFromConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(path, []byte(`mode: mock
modes:
  mock:
    token_lifetime_seconds: 120
authentication:
  server_url: "https://auth.mock.invalid"
  client_id: "file-client"
  client_secret: "file-secret"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODE", "")
	code, stdout, stderr := run("token", "--config", path, "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   *int64 `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.AccessToken, "mock_at_") || out.ExpiresIn == nil || *out.ExpiresIn > 120 || *out.ExpiresIn < 100 {
		t.Errorf("output = %s; want a mock token living 120 s", stdout)
	}
}
