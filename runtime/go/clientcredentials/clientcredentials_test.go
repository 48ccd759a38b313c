package clientcredentials_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/clientcredentials"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// startAuthServer starts the fosite conformance server with its default
// clients.
func startAuthServer(t *testing.T, opts authserver.Options) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func endpoint(srv *authserver.Server, id, sec string, method tokenendpoint.AuthMethod) *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{
		URL:          srv.URL() + "/oauth2/token",
		ClientID:     id,
		ClientSecret: secret.Secret(sec),
		AuthMethod:   method,
	}
}

// introspect asks the server whether tok is an active access token.
func introspect(t *testing.T, srv *authserver.Server, tok *token.Token) (active bool, scope string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {tok.AccessToken.Reveal()}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("basic-client", "basic-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Active bool   `json:"active"`
		Scope  string `json:"scope"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Active, body.Scope
}

func wantCode(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("error = %v (%T), want *oautherr.Error", err, err)
	}
	if oerr.Code != code {
		t.Fatalf("Code = %q, want %q (error: %v)", oerr.Code, code, err)
	}
	if oerr.Op != clientcredentials.Operation {
		t.Errorf("Op = %q, want %q", oerr.Op, clientcredentials.Operation)
	}
	return oerr
}

func TestTokenFromFositeServer(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	tests := []struct {
		id, secret string
		method     tokenendpoint.AuthMethod
	}{
		{"basic-client", "basic-secret", tokenendpoint.ClientSecretBasic},
		{"post-client", "post-secret", tokenendpoint.ClientSecretPost},
	}
	for _, tt := range tests {
		t.Run(tt.method.String(), func(t *testing.T) {
			src := clientcredentials.New(clientcredentials.Config{
				Endpoint: endpoint(srv, tt.id, tt.secret, tt.method),
				Scopes:   []string{"trading", "market-data"},
			})
			before := time.Now()
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.IsZero() || tok.TokenType != "Bearer" {
				t.Errorf("token = %v", tok)
			}
			if diff := cmp.Diff([]string{"trading", "market-data"}, tok.Scopes); diff != "" {
				t.Errorf("Scopes (-want +got):\n%s", diff)
			}
			if d := tok.ExpiresAt.Sub(before); d < 59*time.Minute || d > time.Hour {
				t.Errorf("token lifetime = %v, want about 1h", d)
			}
			if active, scope := introspect(t, srv, tok); !active || scope != "trading market-data" {
				t.Errorf("introspection: active = %v, scope = %q", active, scope)
			}
			if src.Current() != tok {
				t.Error("Current() is not the token just obtained")
			}
		})
	}
}

func TestFositeRejectsCredentials(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	tests := []struct {
		name   string
		ep     *tokenendpoint.Endpoint
		scopes []string
		code   string
		status int
	}{
		{"wrong secret", endpoint(srv, "basic-client", "wrong-secret", tokenendpoint.ClientSecretBasic), nil, "invalid_client", 401},
		{"wrong secret post", endpoint(srv, "post-client", "wrong-secret", tokenendpoint.ClientSecretPost), nil, "invalid_client", 401},
		{"unknown client", endpoint(srv, "nobody", "secret", tokenendpoint.ClientSecretBasic), nil, "invalid_client", 401},
		{"wrong auth method", endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretPost), nil, "invalid_client", 401},
		{"unknown scope", endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic), []string{"trading", "admin"}, "invalid_scope", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := clientcredentials.New(clientcredentials.Config{Endpoint: tt.ep, Scopes: tt.scopes})
			tok, err := src.Token(context.Background())
			if tok != nil {
				t.Errorf("token = %v, want nil", tok)
			}
			oerr := wantCode(t, err, tt.code)
			if oerr.StatusCode != tt.status || oerr.Retryable {
				t.Errorf("StatusCode = %d, Retryable = %v; want %d, false", oerr.StatusCode, oerr.Retryable, tt.status)
			}
			if strings.Contains(err.Error(), "basic-secret") || strings.Contains(err.Error(), "wrong-secret") {
				t.Errorf("error reveals the secret: %v", err)
			}
			if src.Current() != nil {
				t.Error("a failed request stored a token")
			}
		})
	}
}

func TestSingleFlight(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
		Scopes:   []string{"analytics"},
	})

	const callers = 50
	start := make(chan struct{})
	tokens := make([]*token.Token, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			tokens[i], errs[i] = src.Token(context.Background())
		})
	}
	close(start)
	wg.Wait()

	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("token endpoint received %d requests, want 1", n)
	}
}

func TestCachedTokenFastPath(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: endpoint(srv, "post-client", "post-secret", tokenendpoint.ClientSecretPost),
	})
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		tok, err := src.Token(ctx)
		if err != nil || tok != first {
			t.Fatalf("Token() = %v, %v; want the cached token", tok, err)
		}
	})
	if allocs != 0 {
		t.Errorf("cached Token() allocates %v times per call, want 0", allocs)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("token endpoint received %d requests, want 1", n)
	}
}

func TestAuthenticateAlwaysRequests(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
		Scopes:   []string{"trading"},
	})
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := src.Authenticate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second.AccessToken == first.AccessToken {
		t.Error("Authenticate returned the cached token")
	}
	if diff := cmp.Diff([]string{"trading"}, second.Scopes); diff != "" {
		t.Errorf("nil scopes did not use the configured scopes (-want +got):\n%s", diff)
	}
	third, err := src.Authenticate(ctx, []string{"portfolio", "analytics"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"portfolio", "analytics"}, third.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
	if got, _ := src.Token(ctx); got != third {
		t.Error("Token() does not return the token Authenticate stored")
	}
	if n := srv.TokenRequests(); n != 3 {
		t.Errorf("token endpoint received %d requests, want 3", n)
	}
	_, err = src.Authenticate(ctx, []string{"admin"})
	wantCode(t, err, "invalid_scope")
	if src.Current() != third {
		t.Error("a failed Authenticate replaced the current token")
	}
}

func TestClearForcesNewToken(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
	})
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Clear()
	if src.Current() != nil {
		t.Error("Current() after Clear is not nil")
	}
	second, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Error("Token() after Clear returned the old token")
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("token endpoint received %d requests, want 2", n)
	}
}

func TestExpiringTokenIsReplacedInTheBackground(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t, authserver.Options{AccessTokenLifespan: 3 * time.Second})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint:      endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
		RefreshBuffer: 2 * time.Second, // capped at half the lifetime
	})
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lifetime := time.Until(first.ExpiresAt)
	if again, _ := src.Token(ctx); again != first {
		t.Fatal("token not reused while valid")
	}
	time.Sleep(lifetime/2 + 100*time.Millisecond)
	// Inside the refresh buffer the valid token is still served at once,
	// while its replacement is requested in the background.
	if again, _ := src.Token(ctx); again != first {
		t.Fatal("token inside its refresh buffer was not served while being replaced")
	}
	deadline := time.Now().Add(5 * time.Second)
	for src.Current() == first && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	second, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Error("token was not replaced in the background")
	}
	if active, _ := introspect(t, srv, second); !active {
		t.Error("the replacement token is not active at the server")
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("token endpoint received %d requests, want 2", n)
	}
}

// fakeEndpoint is a token endpoint whose answers the test controls.
type fakeEndpoint struct {
	requests atomic.Int64
	handler  func(n int64, w http.ResponseWriter, r *http.Request)
	srv      *httptest.Server
}

func newFake(t *testing.T, handler func(n int64, w http.ResponseWriter, r *http.Request)) *fakeEndpoint {
	f := &fakeEndpoint{handler: handler}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handler(f.requests.Add(1), w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEndpoint) endpoint() *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{URL: f.srv.URL, ClientID: "c", ClientSecret: "s", HTTPClient: f.srv.Client()}
}

func writeToken(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"access_token":"tok","token_type":"bearer","expires_in":3600}`)
}

func TestWaitingCallerHonoursContext(t *testing.T) {
	release := make(chan struct{})
	fake := newFake(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		<-release
		writeToken(w)
	})
	src := clientcredentials.New(clientcredentials.Config{Endpoint: fake.endpoint()})

	// A patient caller starts the shared request.
	type result struct {
		tok *token.Token
		err error
	}
	patient := make(chan result, 1)
	go func() {
		tok, err := src.Token(context.Background())
		patient <- result{tok, err}
	}()

	// An impatient caller gives up while the request is in flight.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := src.Token(ctx)
	oerr := wantCode(t, err, oautherr.CodeCanceled)
	if !errors.Is(err, context.DeadlineExceeded) || oerr.Retryable {
		t.Errorf("error = %v, want a non-retryable error wrapping context.DeadlineExceeded", err)
	}

	// Its departure does not cancel the shared request.
	close(release)
	res := <-patient
	if res.err != nil || res.tok == nil {
		t.Fatalf("patient caller: %v, %v", res.tok, res.err)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("token endpoint received %d requests, want 1", n)
	}
}

func TestFailureIsSharedAndNotCached(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	fake := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-release
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeToken(w)
	})
	src := clientcredentials.New(clientcredentials.Config{Endpoint: fake.endpoint()})

	const callers = 10
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { _, errs[i] = src.Token(context.Background()) })
	}
	for fake.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other callers join
	close(release)
	wg.Wait()
	for i, err := range errs {
		oerr := wantCode(t, err, oautherr.CodeServerError)
		if !oerr.Retryable || oerr.RetryAfter != time.Second {
			t.Errorf("caller %d: error = %#v", i, oerr)
		}
	}

	// Until Retry-After has passed, callers get the error without a
	// request; then the next one asks again.
	if _, err := src.Token(context.Background()); err == nil {
		t.Error("Token() during Retry-After sent a request")
	}
	time.Sleep(time.Second)
	tok, err := src.Token(context.Background())
	if err != nil || tok == nil {
		t.Fatalf("Token() after Retry-After = %v, %v", tok, err)
	}
	if n := fake.requests.Load(); n != 2 {
		t.Errorf("token endpoint received %d requests, want 2", n)
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	fake := newFake(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	src := clientcredentials.New(clientcredentials.Config{Endpoint: fake.endpoint(), RequestTimeout: 50 * time.Millisecond})
	_, err := src.Token(context.Background())
	oerr := wantCode(t, err, oautherr.CodeNetworkError)
	if !oerr.Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want a retryable timeout", err)
	}
}

func TestScopesAreSent(t *testing.T) {
	var form url.Values
	fake := newFake(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		writeToken(w)
	})
	scopes := []string{"trading", "market-data"}
	src := clientcredentials.New(clientcredentials.Config{Endpoint: fake.endpoint(), Scopes: scopes})
	scopes[0] = "changed" // New copies the slice
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}}
	if diff := cmp.Diff(want, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"trading", "market-data"}, tok.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
}

func TestInvalidConfig(t *testing.T) {
	valid := func() *tokenendpoint.Endpoint {
		return &tokenendpoint.Endpoint{URL: "http://127.0.0.1:1/token", ClientID: "c", ClientSecret: "s"}
	}
	noSecret := valid()
	noSecret.ClientSecret = ""
	tests := []struct {
		name string
		cfg  clientcredentials.Config
	}{
		{"no endpoint", clientcredentials.Config{}},
		{"no URL", clientcredentials.Config{Endpoint: &tokenendpoint.Endpoint{ClientID: "c", ClientSecret: "s"}}},
		{"no secret", clientcredentials.Config{Endpoint: noSecret}},
		{"negative buffer", clientcredentials.Config{Endpoint: valid(), RefreshBuffer: -time.Second}},
		{"negative timeout", clientcredentials.Config{Endpoint: valid(), RequestTimeout: -time.Second}},
		{"negative retries", clientcredentials.Config{Endpoint: valid(), Retry: retry.Policy{MaxRetries: -1}}},
		{"scope with space", clientcredentials.Config{Endpoint: valid(), Scopes: []string{"a b"}}},
		{"empty scope", clientcredentials.Config{Endpoint: valid(), Scopes: []string{""}}},
		{"scope with quote", clientcredentials.Config{Endpoint: valid(), Scopes: []string{`a"b`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Validate() == nil {
				t.Error("Validate() = nil")
			}
			src := clientcredentials.New(tt.cfg)
			_, err := src.Token(context.Background())
			wantCode(t, err, oautherr.CodeInvalidConfig)
			_, err = src.Authenticate(context.Background(), nil)
			wantCode(t, err, oautherr.CodeInvalidConfig)
		})
	}
	cfg := clientcredentials.Config{Endpoint: valid(), Scopes: []string{"trading", "a:b/c"}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() = %v for a valid config", err)
	}
}
