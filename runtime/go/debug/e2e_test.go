package debug_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/debug"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// wire collects every credential that crossed the wire, as seen below the
// tracing transport, so that the test can search the debug output for
// each of them. Its list of credential parameters is written out here,
// independently of the package under test.
type wire struct {
	mu     sync.Mutex
	values map[string]string // value -> where it was last seen
	seen   map[string]bool   // every kind of credential seen
}

func (w *wire) add(v, where string) {
	if v == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.values == nil {
		w.values, w.seen = make(map[string]string), make(map[string]bool)
	}
	w.values[v] = where
	w.seen[where] = true
}

func (w *wire) kinds() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	kinds := make(map[string]bool, len(w.seen))
	for k := range w.seen {
		kinds[k] = true
	}
	return kinds
}

func (w *wire) snapshot() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.values))
	for k, v := range w.values {
		out[k] = v
	}
	return out
}

// spy is the transport below the tracer: it records the credentials of
// each request and response.
type spy struct {
	base http.RoundTripper
	w    *wire
}

func (s *spy) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); auth != "" {
		s.w.add(auth, "authorization header")
		_, cred, _ := strings.Cut(auth, " ")
		s.w.add(cred, "authorization credentials")
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		form, _ := url.ParseQuery(string(body))
		for _, k := range []string{"client_secret", "client_assertion", "assertion", "code", "code_verifier", "refresh_token", "token"} {
			s.w.add(form.Get(k), "request "+k)
		}
	}
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if v, ok := m[k].(string); ok {
				s.w.add(v, "response "+k)
			}
		}
	}
	return resp, nil
}

// session is a debug-mode client set: the debugger, its log, and the
// generated package's part, Observe around every call.
type session struct {
	t     *testing.T
	srv   *authserver.Server
	d     *debug.Debugger
	log   *bytes.Buffer
	w     *wire
	calls map[string]int64
	fails map[string]int64
}

func newSession(t *testing.T, srv *authserver.Server, logTokens bool) *session {
	t.Helper()
	var buf bytes.Buffer
	opts := debug.DefaultOptions()
	opts.LogTokens = logTokens
	opts.MaxTraces = 1000
	opts.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.SecretConfigFields = []string{"client_secret", "token_storage_key"}
	d, err := debug.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t, srv: srv, d: d, log: &buf, w: &wire{}, calls: map[string]int64{}, fails: map[string]int64{}}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *session) client(cfg authcore.Config) *authcore.Client {
	s.t.Helper()
	cfg.ServerURL = s.srv.URL()
	cfg.TokenURL = s.srv.TokenURL()
	cfg.AuthorizationURL = s.srv.AuthorizationURL()
	cfg.RevocationURL = s.srv.RevocationURL()
	cfg.IntrospectionURL = s.srv.IntrospectionURL()
	cfg.Timeout = 10 * time.Second
	cfg.AutoRefresh = true
	cfg.WrapTransport = func(base http.RoundTripper) http.RoundTripper {
		return s.d.WrapTransport(&spy{base: base, w: s.w})
	}
	c, err := authcore.New(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// call runs one operation as the generated client does in debug mode.
func call[T any](s *session, op string, fn func(ctx context.Context) (T, error)) (T, error) {
	ctx := debug.WithOperation(context.Background(), op)
	start := time.Now()
	v, err := fn(ctx)
	s.d.Observe(op, time.Since(start), err)
	s.calls[op]++
	if err != nil {
		s.fails[op]++
	}
	return v, err
}

// do is call for an operation that must succeed.
func do[T any](s *session, op string, fn func(ctx context.Context) (T, error)) T {
	s.t.Helper()
	v, err := call(s, op, fn)
	if err != nil {
		s.t.Fatalf("%s: %v", op, err)
	}
	return v
}

// browse plays the browser: it sends the authorization request to the
// server and returns the redirection.
func browse(t *testing.T, authURL string) string {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization response %d has no Location: %v", resp.StatusCode, err)
	}
	return loc.String()
}

// run drives every flow through authcore against the fosite server: client
// credentials with client_secret_basic, the authorization code grant with
// PKCE and client_secret_post, refresh, revocation, introspection, the
// JWT bearer grant with private_key_jwt, test_connection and a failing
// call. It returns the last token.
func (s *session) run() *token.Token {
	t := s.t
	tk, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	basic := s.client(authcore.Config{ClientID: "basic-client", ClientSecret: "basic-secret", Scopes: []string{"trading"}})
	do(s, "authenticate_client_credentials", func(ctx context.Context) (*token.Token, error) {
		return basic.AuthenticateClientCredentials(ctx, nil)
	})
	for range 3 {
		do(s, "get_valid_token", basic.GetValidToken)
	}
	if in := do(s, "introspect_token", func(ctx context.Context) (*authcore.Introspection, error) {
		return basic.IntrospectToken(ctx, "")
	}); !in.Active {
		t.Error("introspection of a fresh token is inactive")
	}
	do(s, "revoke_token", func(ctx context.Context) (bool, error) { return basic.RevokeToken(ctx, "", "") })
	do(s, "get_valid_token", basic.GetValidToken)
	do(s, "test_connection", basic.TestConnection)
	_, err = call(s, "authenticate_client_credentials", func(ctx context.Context) (*token.Token, error) {
		return basic.AuthenticateClientCredentials(ctx, []string{"admin"})
	})
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidScope {
		t.Errorf("unknown scope: %v, want invalid_scope", err)
	}

	post := s.client(authcore.Config{ClientID: "post-client", ClientSecret: "post-secret", ClientAuthMethod: "client_secret_post",
		AuthMode: authcore.ModeAuthorizationCodePKCE, RedirectURI: "http://127.0.0.1/callback", Scopes: []string{"trading", "portfolio"}})
	req := do(s, "start_authorization_code_flow", func(ctx context.Context) (*authcore.AuthorizationRequest, error) {
		return post.StartAuthorizationCodeFlow(ctx, "", nil)
	})
	callback := browse(t, req.URL)
	cb, err := url.Parse(callback)
	if err != nil {
		t.Fatal(err)
	}
	code := cb.Query().Get("code")
	s.w.add(code, "authorization code")
	s.w.add(req.CodeVerifier.Reveal(), "code verifier")
	tok := do(s, "complete_authorization_code_flow", func(ctx context.Context) (*token.Token, error) {
		return post.CompleteAuthorizationCodeFlow(ctx, callback)
	})
	if tok.RefreshToken.IsZero() {
		t.Fatal("the authorization code grant issued no refresh token")
	}
	tok = do(s, "refresh_token", func(ctx context.Context) (*token.Token, error) { return post.RefreshToken(ctx, "") })
	do(s, "introspect_token", func(ctx context.Context) (*authcore.Introspection, error) {
		return post.IntrospectToken(ctx, tok.RefreshToken.Reveal())
	})

	jwt := s.client(authcore.Config{ClientID: "jwt-rsa-client", ClientAuthMethod: "private_key_jwt", AuthMode: authcore.ModeJWTBearer,
		JWTSigningKeyPath: tk.RSAPKCS8Path, JWTKeyID: authserver.RSATestKeyID, JWTAlgorithm: "RS256", JWTIssuer: "conformance-issuer"})
	last := do(s, "authenticate_jwt_bearer", func(ctx context.Context) (*token.Token, error) {
		return jwt.AuthenticateJWTBearer(ctx, "trader-001", []string{"trading"})
	})
	// Concurrent callers share the cached token; every call is counted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 16 {
		wg.Go(func() {
			ctx := debug.WithOperation(context.Background(), "get_valid_token")
			start := time.Now()
			_, err := jwt.GetValidToken(ctx)
			s.d.Observe("get_valid_token", time.Since(start), err)
			mu.Lock()
			s.calls["get_valid_token"]++
			mu.Unlock()
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return last
}

// output is everything the debug mode shows: the log, and the export as
// JSON.
func (s *session) output(current *token.Token) string {
	s.t.Helper()
	config := map[string]any{
		"server_url":        s.srv.URL(),
		"client_id":         "post-client",
		"client_secret":     secret.Secret("post-secret"),
		"token_storage_key": "c3RvcmFnZS1rZXktdmFsdWUtMzItYnl0ZXMtbG9uZw",
		"default_scopes":    []string{"trading", "portfolio"},
		"jwt_key_id":        authserver.RSATestKeyID,
	}
	export, err := json.MarshalIndent(s.d.ExportDebugInfo(config, current), "", "  ")
	if err != nil {
		s.t.Fatal(err)
	}
	return s.log.String() + "\n" + string(export)
}

func TestDebugModeAgainstFosite(t *testing.T) {
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := newSession(t, srv, false)
	current := s.run()

	t.Run("every call counted", func(t *testing.T) {
		stats := s.d.Stats()
		for op, n := range s.calls {
			got := stats[op]
			if got.CallCount != n || got.ErrorCount != s.fails[op] {
				t.Errorf("%s: call_count %d, error_count %d; want %d, %d", op, got.CallCount, got.ErrorCount, n, s.fails[op])
			}
			if got.LastDurationSeconds <= 0 || got.AverageDurationSeconds <= 0 || got.P99DurationSeconds < got.P50DurationSeconds {
				t.Errorf("%s: durations %+v", op, got)
			}
		}
		if len(stats) != len(s.calls) {
			t.Errorf("stats for %d operations, %d called", len(stats), len(s.calls))
		}
		if got := stats["authenticate_client_credentials"].LastErrorCode; got != oautherr.CodeInvalidScope {
			t.Errorf("last_error_code %q", got)
		}
	})

	t.Run("every exchange traced", func(t *testing.T) {
		traces := s.d.Traces()
		perPath := map[string]int64{}
		ids := map[uint64]bool{}
		for _, tr := range traces {
			ids[tr.ID] = true
			if tr.Operation == "" || tr.Request == nil || (tr.Response == nil && tr.Error == "") {
				t.Errorf("incomplete trace %+v", tr)
				continue
			}
			u, _ := url.Parse(tr.Request.URL)
			perPath[u.Path]++
		}
		for id := uint64(1); id <= uint64(len(traces)); id++ {
			if !ids[id] {
				t.Errorf("no trace with id %d among %d", id, len(traces))
			}
		}
		for _, path := range []string{authserver.TokenPath, authserver.RevocationPath, authserver.IntrospectionPath} {
			if perPath[path] != srv.Requests(path) || perPath[path] == 0 {
				t.Errorf("%s: %d traces, the server received %d requests", path, perPath[path], srv.Requests(path))
			}
		}
	})

	t.Run("traces are redacted, not emptied", func(t *testing.T) {
		var found bool
		for _, tr := range s.d.Traces() {
			body, ok := tr.Response.Body.(map[string]any)
			if tr.Operation != "authenticate_client_credentials" || !ok || body["access_token"] == nil {
				continue
			}
			found = true
			if body["access_token"] != secret.Redacted || !strings.EqualFold(body["token_type"].(string), "bearer") {
				t.Errorf("token response body %v", body)
			}
			if auth := tr.Request.Headers["Authorization"]; len(auth) != 1 || auth[0] != "Basic "+secret.Redacted {
				t.Errorf("Authorization header traced as %q", auth)
			}
			form := tr.Request.Body.(map[string][]string)
			if form["grant_type"][0] != "client_credentials" || form["scope"][0] != "trading" {
				t.Errorf("token request form %v", form)
			}
		}
		if !found {
			t.Error("no trace of a token response")
		}
	})

	t.Run("no secret or token in the output", func(t *testing.T) {
		kinds := s.w.kinds()
		for _, want := range []string{
			"authorization header", "request client_secret", "request client_assertion", "request assertion",
			"authorization code", "code verifier", "request refresh_token", "request token",
			"response access_token", "response refresh_token",
		} {
			if !kinds[want] {
				t.Errorf("the flows sent no %s: the test does not cover it", want)
			}
		}
		out := s.output(current)
		for _, v := range []string{"basic-secret", "post-secret", "c3RvcmFnZS1rZXktdmFsdWUtMzItYnl0ZXMtbG9uZw"} {
			if strings.Contains(out, v) {
				t.Errorf("the debug output contains the secret %q", v)
			}
		}
		for v, where := range s.w.snapshot() {
			if strings.Contains(out, v) {
				t.Errorf("the debug output contains the %s", where)
			}
		}
		if !strings.Contains(out, "coyote auth request") || !strings.Contains(out, "coyote auth response") {
			t.Error("nothing was logged")
		}
	})

	t.Run("export", func(t *testing.T) {
		var info map[string]any
		if err := json.Unmarshal([]byte(s.output(current)[s.log.Len()+1:]), &info); err != nil {
			t.Fatal(err)
		}
		stats := info["performance_stats"].(map[string]any)["authenticate_client_credentials"].(map[string]any)
		if stats["call_count"].(float64) != float64(s.calls["authenticate_client_credentials"]) || stats["last_duration_seconds"].(float64) <= 0 {
			t.Errorf("performance_stats = %v", stats)
		}
		cfg := info["config"].(map[string]any)
		if cfg["client_secret"] != secret.Redacted || cfg["token_storage_key"] != secret.Redacted || cfg["client_id"] != "post-client" || cfg["jwt_key_id"] != authserver.RSATestKeyID {
			t.Errorf("config = %v", cfg)
		}
		tok := info["token"].(map[string]any)
		if !strings.EqualFold(tok["type"].(string), "bearer") || tok["has_refresh_token"] != false || tok["expires_in_seconds"].(float64) <= 0 || tok["expired"] != false {
			t.Errorf("token = %v", tok)
		}
		if got := tok["scopes"].([]any); len(got) != 1 || got[0] != "trading" {
			t.Errorf("token scopes = %v", got)
		}
		if n := len(info["traces"].([]any)); n != len(s.d.Traces()) || n == 0 {
			t.Errorf("%d traces exported", n)
		}
	})
}

// TestDebugModeLogTokens checks that with log_tokens the traces do show
// the secrets and tokens, and that the test's search therefore finds what
// it looks for; the exported configuration and token metadata stay
// redacted.
func TestDebugModeLogTokens(t *testing.T) {
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := newSession(t, srv, true)
	current := s.run()
	out := s.output(current)
	if !strings.Contains(s.log.String(), "post-secret") {
		t.Error("the log does not show the client secret with log_tokens")
	}
	for v, where := range s.w.snapshot() {
		if where == "authorization header" || where == "authorization credentials" {
			continue // the log shows the header whole; JSON escaping may differ
		}
		if !strings.Contains(out, v) {
			t.Errorf("the output does not show the %s with log_tokens", where)
		}
	}
	if !strings.Contains(s.log.String(), current.AccessToken.Reveal()) {
		t.Error("the log does not show the access token with log_tokens")
	}
	info := s.d.ExportDebugInfo(map[string]any{"client_secret": secret.Secret("post-secret")}, current)
	if info.Config["client_secret"] != secret.Redacted || info.Token.Type == "" {
		t.Errorf("export with log_tokens: config %v, token %+v", info.Config, info.Token)
	}
}
