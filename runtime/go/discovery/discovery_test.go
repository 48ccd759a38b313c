package discovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/discovery"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

func startAuthServer(t *testing.T) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func wantCode(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("err = %v, want an *oautherr.Error with code %q", err, code)
	}
	if oerr.Code != code {
		t.Fatalf("code = %q (%v), want %q", oerr.Code, err, code)
	}
	return oerr
}

func TestFetchFromAuthServer(t *testing.T) {
	srv := startAuthServer(t)
	md, err := discovery.Fetch(context.Background(), nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL()
	want := discovery.Endpoints{
		Authorization: base + authserver.AuthorizationPath,
		Token:         base + authserver.TokenPath,
		Revocation:    base + authserver.RevocationPath,
		Introspection: base + authserver.IntrospectionPath,
	}
	if diff := cmp.Diff(want, md.Endpoints(false)); diff != "" {
		t.Errorf("Endpoints (-want +got):\n%s", diff)
	}
	if md.Issuer != base || md.Source != base+authserver.OAuthMetadataPath {
		t.Errorf("Issuer = %q, Source = %q", md.Issuer, md.Source)
	}
	if !cmp.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("CodeChallengeMethodsSupported = %q", md.CodeChallengeMethodsSupported)
	}

	// A trailing slash in server_url is tolerated.
	if _, err := discovery.Fetch(context.Background(), nil, base+"/"); err != nil {
		t.Errorf("Fetch with a trailing slash: %v", err)
	}
}

func TestMetadataURLs(t *testing.T) {
	tests := []struct {
		server string
		want   []string
	}{
		{"https://as.example.com", []string{
			"https://as.example.com/.well-known/oauth-authorization-server",
			"https://as.example.com/.well-known/openid-configuration",
		}},
		{"https://as.example.com/", []string{
			"https://as.example.com/.well-known/oauth-authorization-server",
			"https://as.example.com/.well-known/openid-configuration",
		}},
		// RFC 8414 Section 3.1 inserts the suffix before the path;
		// OpenID Connect Discovery Section 4 appends it.
		{"https://as.example.com/tenant/one", []string{
			"https://as.example.com/.well-known/oauth-authorization-server/tenant/one",
			"https://as.example.com/tenant/one/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		got, err := discovery.MetadataURLs(tt.server)
		if err != nil {
			t.Errorf("MetadataURLs(%q): %v", tt.server, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("MetadataURLs(%q) (-want +got):\n%s", tt.server, diff)
		}
	}
	for _, bad := range []string{"", "as.example.com", "ftp://as.example.com", "https://as.example.com/?tenant=1", "https://as.example.com/#x", "https://user:pw@as.example.com"} {
		if _, err := discovery.MetadataURLs(bad); err == nil {
			t.Errorf("MetadataURLs(%q) succeeded", bad)
		}
		_, err := discovery.Fetch(context.Background(), nil, bad)
		oerr := wantCode(t, err, oautherr.CodeInvalidConfig)
		if strings.Contains(oerr.Error(), "pw") {
			t.Errorf("error %q shows the password", oerr)
		}
	}
}

// metadataServer serves documents by path; issuer "" means the server's
// own URL plus issuerPath.
type metadataServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	docs     map[string]func(base string) (int, any)
}

func newMetadataServer(t *testing.T) *metadataServer {
	t.Helper()
	m := &metadataServer{docs: map[string]func(string) (int, any){}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		m.mu.Lock()
		doc, ok := m.docs[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		status, body := doc(m.URL)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if s, ok := body.(string); ok {
			w.Write([]byte(s))
			return
		}
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) serve(path string, doc func(base string) (int, any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[path] = doc
}

func TestFetchPathIssuerAndOpenIDFallback(t *testing.T) {
	m := newMetadataServer(t)
	// Only the OpenID Connect location exists, under the issuer's path.
	m.serve("/tenant/.well-known/openid-configuration", func(base string) (int, any) {
		return 200, map[string]any{"issuer": base + "/tenant", "token_endpoint": base + "/tenant/token"}
	})
	md, err := discovery.Fetch(context.Background(), m.Client(), m.URL+"/tenant")
	if err != nil {
		t.Fatal(err)
	}
	if md.TokenEndpoint != m.URL+"/tenant/token" || md.Source != m.URL+"/tenant/.well-known/openid-configuration" {
		t.Errorf("got %+v", md)
	}

	// The RFC 8414 location, with the suffix inserted, wins when present.
	m.serve("/.well-known/oauth-authorization-server/tenant", func(base string) (int, any) {
		return 200, map[string]any{"issuer": base + "/tenant", "token_endpoint": base + "/oauth/token"}
	})
	md, err = discovery.Fetch(context.Background(), m.Client(), m.URL+"/tenant")
	if err != nil {
		t.Fatal(err)
	}
	if md.TokenEndpoint != m.URL+"/oauth/token" {
		t.Errorf("TokenEndpoint = %q, want the RFC 8414 document's", md.TokenEndpoint)
	}
}

func TestFetchRejectsForeignIssuer(t *testing.T) {
	m := newMetadataServer(t)
	m.serve("/.well-known/oauth-authorization-server", func(string) (int, any) {
		return 200, map[string]any{"issuer": "https://attacker.example", "token_endpoint": "https://attacker.example/token"}
	})
	m.serve("/.well-known/openid-configuration", func(base string) (int, any) {
		return 200, map[string]any{"issuer": base, "token_endpoint": base + "/token"}
	})
	_, err := discovery.Fetch(context.Background(), m.Client(), m.URL)
	oerr := wantCode(t, err, discovery.CodeInvalidIssuer)
	if !strings.Contains(oerr.Description, "attacker.example") || oerr.Retryable {
		t.Errorf("error = %v", oerr)
	}
}

func TestFetchErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      any
		code      string
		retryable bool
	}{
		{"not found anywhere", 404, `{"error":"not_found"}`, oautherr.CodeInvalidResponse, false},
		{"server error", 500, `oops`, oautherr.CodeServerError, true},
		{"unavailable", 503, ``, oautherr.CodeTemporarilyUnavailable, true},
		{"not JSON", 200, `<html>`, oautherr.CodeInvalidResponse, false},
		{"JSON array", 200, `[]`, oautherr.CodeInvalidResponse, false},
		{"no issuer", 200, `{"token_endpoint":"https://as/token"}`, oautherr.CodeInvalidResponse, false},
		{"relative endpoint", 200, nil, oautherr.CodeInvalidResponse, false},
		{"too large", 200, `{"issuer":"` + strings.Repeat("x", discovery.MaxMetadataBytes) + `"}`, oautherr.CodeInvalidResponse, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetadataServer(t)
			doc := func(base string) (int, any) {
				if tt.body == nil {
					return tt.status, map[string]any{"issuer": base, "token_endpoint": "/token"}
				}
				return tt.status, tt.body
			}
			m.serve("/.well-known/oauth-authorization-server", doc)
			m.serve("/.well-known/openid-configuration", doc)
			_, err := discovery.Fetch(context.Background(), m.Client(), m.URL)
			oerr := wantCode(t, err, tt.code)
			if oerr.Retryable != tt.retryable || oerr.Op != discovery.Operation {
				t.Errorf("error = %#v", oerr)
			}
		})
	}

	t.Run("network", func(t *testing.T) {
		m := newMetadataServer(t)
		m.Close()
		_, err := discovery.Fetch(context.Background(), nil, m.URL)
		if oerr := wantCode(t, err, oautherr.CodeNetworkError); !oerr.Retryable {
			t.Error("network error is not retryable")
		}
	})
	t.Run("canceled", func(t *testing.T) {
		srv := startAuthServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := discovery.Fetch(ctx, nil, srv.URL())
		wantCode(t, err, oautherr.CodeCanceled)
	})
}

func TestMTLSEndpointAliases(t *testing.T) {
	md := &discovery.Metadata{
		Issuer:                "https://as.example",
		AuthorizationEndpoint: "https://as.example/authorize",
		TokenEndpoint:         "https://as.example/token",
		RevocationEndpoint:    "https://as.example/revoke",
		IntrospectionEndpoint: "https://as.example/introspect",
		MTLSEndpointAliases: &discovery.MTLSEndpointAliases{
			TokenEndpoint:         "https://mtls.as.example/token",
			IntrospectionEndpoint: "https://mtls.as.example/introspect",
		},
	}
	want := discovery.Endpoints{
		Authorization: "https://as.example/authorize",
		Token:         "https://mtls.as.example/token",
		Revocation:    "https://as.example/revoke", // no alias
		Introspection: "https://mtls.as.example/introspect",
	}
	if diff := cmp.Diff(want, md.Endpoints(true)); diff != "" {
		t.Errorf("Endpoints(true) (-want +got):\n%s", diff)
	}
	if got := md.Endpoints(false).Token; got != "https://as.example/token" {
		t.Errorf("Endpoints(false).Token = %q", got)
	}

	configured := discovery.Endpoints{Token: "https://configured/token"}
	got := configured.WithDefaults(md.Endpoints(true))
	if got.Token != "https://configured/token" || got.Introspection != "https://mtls.as.example/introspect" {
		t.Errorf("WithDefaults = %+v", got)
	}

	// The aliases are read from a served document.
	m := newMetadataServer(t)
	m.serve("/.well-known/oauth-authorization-server", func(base string) (int, any) {
		return 200, map[string]any{
			"issuer":         base,
			"token_endpoint": base + "/token",
			"tls_client_certificate_bound_access_tokens": true,
			"mtls_endpoint_aliases":                      map[string]string{"token_endpoint": base + "/mtls/token"},
		}
	})
	served, err := discovery.Fetch(context.Background(), m.Client(), m.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !served.TLSClientCertificateBoundAccessTokens || served.Endpoints(true).Token != m.URL+"/mtls/token" {
		t.Errorf("served metadata = %+v", served)
	}
}

func TestCacheFetchesOnceForConcurrentCallers(t *testing.T) {
	m := newMetadataServer(t)
	release := make(chan struct{})
	m.serve("/.well-known/oauth-authorization-server", func(base string) (int, any) {
		<-release
		return 200, map[string]any{"issuer": base, "token_endpoint": base + "/token"}
	})
	c := &discovery.Cache{ServerURL: m.URL, HTTPClient: m.Client()}

	const callers = 100
	var wg sync.WaitGroup
	results := make([]*discovery.Metadata, callers)
	for i := range callers {
		wg.Go(func() {
			md, err := c.Metadata(context.Background())
			if err != nil {
				t.Error(err)
			}
			results[i] = md
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := m.requests.Load(); n != 1 {
		t.Errorf("%d metadata requests for %d callers, want 1", n, callers)
	}
	for _, md := range results {
		if md != results[0] {
			t.Fatal("callers got different documents")
		}
	}
	// Cached afterwards.
	if _, err := c.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := m.requests.Load(); n != 1 {
		t.Errorf("%d requests after a cached call, want 1", n)
	}
}

func TestCacheCallerContext(t *testing.T) {
	m := newMetadataServer(t)
	release := make(chan struct{})
	m.serve("/.well-known/oauth-authorization-server", func(base string) (int, any) {
		<-release
		return 200, map[string]any{"issuer": base}
	})
	defer close(release)
	c := &discovery.Cache{ServerURL: m.URL, HTTPClient: m.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Metadata(ctx)
	wantCode(t, err, oautherr.CodeCanceled)
}

func TestCacheTTLOnVirtualClock(t *testing.T) {
	m := newMetadataServer(t)
	var version atomic.Int64
	m.serve("/.well-known/oauth-authorization-server", func(base string) (int, any) {
		return 200, map[string]any{"issuer": base, "token_endpoint": base + "/token/" + string(rune('0'+version.Add(1)))}
	})
	vc := clock.NewVirtual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := &discovery.Cache{ServerURL: m.URL, HTTPClient: m.Client(), TTL: time.Hour, Clock: vc}
	ctx := context.Background()
	first, err := c.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vc.Advance(59 * time.Minute)
	if again, err := c.Metadata(ctx); err != nil || again != first {
		t.Fatalf("Metadata before the TTL on the virtual clock = %v, %v; want the cached document", again, err)
	}
	vc.Advance(2 * time.Minute)
	second, err := c.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.TokenEndpoint == first.TokenEndpoint {
		t.Error("document not fetched again after its TTL elapsed on the virtual clock")
	}
	if got := m.requests.Load(); got != 2 {
		t.Errorf("%d metadata requests, want 2", got)
	}
}

func TestCacheTTLAndStaleOnFailure(t *testing.T) {
	m := newMetadataServer(t)
	var fail atomic.Bool
	var version atomic.Int64
	m.serve("/.well-known/oauth-authorization-server", func(base string) (int, any) {
		if fail.Load() {
			return 503, ""
		}
		return 200, map[string]any{"issuer": base, "token_endpoint": base + "/token/" + string(rune('0'+version.Add(1)))}
	})
	c := &discovery.Cache{ServerURL: m.URL, HTTPClient: m.Client(), TTL: 10 * time.Millisecond}
	ctx := context.Background()
	first, err := c.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Millisecond)
	second, err := c.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.TokenEndpoint == first.TokenEndpoint {
		t.Error("document not fetched again after its TTL")
	}

	// The server fails: the expired document is served.
	fail.Store(true)
	time.Sleep(15 * time.Millisecond)
	stale, err := c.Metadata(ctx)
	if err != nil || stale != second {
		t.Errorf("Metadata with a failing server = %v, %v; want the expired document", stale, err)
	}
	before := m.requests.Load()
	c.Metadata(ctx)
	if m.requests.Load() != before {
		t.Error("a failed refresh was retried at once")
	}

	// Without any document the error is returned.
	c.Invalidate()
	if c.Cached() != nil {
		t.Error("Cached() after Invalidate")
	}
	_, err = c.Metadata(ctx)
	wantCode(t, err, oautherr.CodeTemporarilyUnavailable)
}

func TestCacheEndpoints(t *testing.T) {
	srv := startAuthServer(t)
	c := &discovery.Cache{ServerURL: srv.URL()}
	got, err := c.Endpoints(context.Background(), discovery.Endpoints{Revocation: "https://configured/revoke"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revocation != "https://configured/revoke" || got.Token != srv.TokenURL() {
		t.Errorf("Endpoints = %+v", got)
	}

	// Nothing to discover: no request, even to a server that is down.
	down := &discovery.Cache{ServerURL: "http://127.0.0.1:1"}
	all := discovery.Endpoints{Authorization: "a", Token: "t", Revocation: "r", Introspection: "i"}
	if got, err := down.Endpoints(context.Background(), all, false); err != nil || got != all {
		t.Errorf("Endpoints(complete) = %+v, %v", got, err)
	}
}

func TestCheckConnectionWithDiscovery(t *testing.T) {
	srv := startAuthServer(t)
	c := &discovery.Cache{ServerURL: srv.URL()}
	tokenBefore := srv.TokenRequests()
	r := c.CheckConnection(context.Background(), discovery.Endpoints{}, false)
	if err := r.Err(); err != nil || !r.OK() {
		t.Fatalf("report: %+v (err %v)", r, err)
	}
	if r.Server.Name != discovery.CheckMetadata || r.Server.StatusCode != 200 || r.Server.URL != srv.URL()+authserver.OAuthMetadataPath {
		t.Errorf("Server = %+v", r.Server)
	}
	var names []string
	for _, e := range r.Endpoints {
		names = append(names, e.Name)
		if !e.Answered() || !e.OK() || e.StatusCode >= 500 {
			t.Errorf("%s: %+v", e.Name, e)
		}
	}
	want := []string{discovery.CheckAuthorization, discovery.CheckToken, discovery.CheckRevocation, discovery.CheckIntrospection}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if c.Cached() == nil {
		t.Error("CheckConnection did not cache the document it fetched")
	}
	// The probe reached the token endpoint, without credentials.
	if srv.TokenRequests() != tokenBefore+1 {
		t.Errorf("token endpoint saw %d requests, want 1", srv.TokenRequests()-tokenBefore)
	}
}

func TestCheckConnectionFailures(t *testing.T) {
	srv := startAuthServer(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	r := discovery.CheckConnection(context.Background(), nil, srv.URL(), discovery.Endpoints{
		Token:         srv.TokenURL(),
		Revocation:    broken.URL + "/revoke",
		Introspection: gone.URL + "/introspect",
	})
	if r.OK() {
		t.Fatal("report OK with a broken and a missing endpoint")
	}
	if r.Server.Name != discovery.CheckServer || !r.Server.Answered() || !r.Server.OK() {
		t.Errorf("Server = %+v", r.Server)
	}
	if len(r.Endpoints) != 3 {
		t.Fatalf("Endpoints = %+v", r.Endpoints)
	}
	if e := r.Endpoints[0]; e.Name != discovery.CheckToken || !e.OK() {
		t.Errorf("token check = %+v", e)
	}
	e := r.Endpoints[1]
	oerr := wantCode(t, e.Err, oautherr.CodeTemporarilyUnavailable)
	if e.StatusCode != 503 || oerr.RetryAfter != 7*time.Second || oerr.Op != discovery.TestConnectionOperation {
		t.Errorf("revocation check = %+v, %#v", e, oerr)
	}
	e = r.Endpoints[2]
	wantCode(t, e.Err, oautherr.CodeNetworkError)
	if e.Answered() {
		t.Errorf("introspection check answered: %+v", e)
	}
	if got := r.Err(); got != r.Endpoints[1].Err {
		t.Errorf("Err() = %v, want the first failure", got)
	}

	// Discovery that fails is the server check's failure.
	c := &discovery.Cache{ServerURL: gone.URL}
	r = c.CheckConnection(context.Background(), discovery.Endpoints{Token: srv.TokenURL()}, false)
	wantCode(t, r.Server.Err, oautherr.CodeNetworkError)
	if r.OK() || len(r.Endpoints) != 1 || !r.Endpoints[0].OK() {
		t.Errorf("report = %+v", r)
	}
}

func TestProbeDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Store(true) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	r := discovery.CheckConnection(context.Background(), nil, redirect.URL, discovery.Endpoints{})
	if !r.OK() || r.Server.StatusCode != http.StatusFound {
		t.Errorf("report = %+v", r)
	}
	if followed.Load() {
		t.Error("the probe followed the redirect")
	}
}
