package mtls_test

// End-to-end tests against conformance/mtlsserver: ory/fosite behind TLS
// with tls_client_auth and self_signed_tls_client_auth, issuing
// certificate-bound JWT access tokens (RFC 8705).

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
	"github.com/coyotesense/coyotegen/runtime/go/discovery"
	"github.com/coyotesense/coyotegen/runtime/go/introspection"
	"github.com/coyotesense/coyotegen/runtime/go/mtls"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/revocation"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/transport"
)

func startMTLSServer(t *testing.T) (*mtlsserver.Server, *mtlsserver.PKI) {
	t.Helper()
	pki, err := mtlsserver.WriteTestPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mtlsserver.Start(mtlsserver.Options{PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, pki
}

// mtlsClient is what the runtime builds for a client_credentials_mtls
// configuration: the HTTP client from the certificate files, the
// endpoints from discovery with the mutual-TLS aliases, and a token
// endpoint that authenticates with the certificate.
type mtlsClient struct {
	hc        *http.Client
	cert      *mtls.ClientCertificate
	endpoints discovery.Endpoints
	te        *tokenendpoint.Endpoint
}

func newMTLSClient(t *testing.T, srv *mtlsserver.Server, cfg mtls.Config, clientID string, method tokenendpoint.AuthMethod) *mtlsClient {
	t.Helper()
	hc, cert, err := mtls.NewHTTPClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cache := &discovery.Cache{ServerURL: srv.URL(), HTTPClient: hc}
	endpoints, err := cache.Endpoints(context.Background(), discovery.Endpoints{}, cert != nil)
	if err != nil {
		t.Fatal(err)
	}
	return &mtlsClient{
		hc:        hc,
		cert:      cert,
		endpoints: endpoints,
		te:        &tokenendpoint.Endpoint{URL: endpoints.Token, ClientID: clientID, AuthMethod: method, HTTPClient: hc},
	}
}

func (c *mtlsClient) token(ctx context.Context) (*token.Token, error) {
	return c.te.Exchange(ctx, "authenticate_client_credentials", url.Values{"grant_type": {"client_credentials"}, "scope": {"trading"}})
}

func TestE2ETLSClientAuth(t *testing.T) {
	srv, pki := startMTLSServer(t)
	c := newMTLSClient(t, srv, mtls.Config{
		ClientCertPath: pki.Client.CertPath,
		ClientKeyPath:  pki.Client.KeyPath,
		CACertPath:     pki.CA.CertPath,
	}, "mtls-client", tokenendpoint.TLSClientAuth)

	// Discovery picked the mutual-TLS alias (RFC 8705 Section 5).
	if c.endpoints.Token != srv.MTLSTokenURL() || c.endpoints.Introspection != srv.MTLSIntrospectionURL() || c.endpoints.Revocation != srv.MTLSRevocationURL() {
		t.Fatalf("endpoints = %+v, want the mtls_endpoint_aliases", c.endpoints)
	}

	tok, err := c.token(context.Background())
	if err != nil {
		t.Fatalf("tls_client_auth token request: %v", err)
	}
	// The token is a JWT bound to the presented certificate.
	bound, ok := mtls.TokenConfirmation(tok.AccessToken.Reveal())
	if !ok || bound != pki.Client.Thumbprint() {
		t.Fatalf("token confirmation = %q, %v; want the client certificate's %q", bound, ok, pki.Client.Thumbprint())
	}
	if err := c.cert.CheckToken("get_valid_token", tok); err != nil {
		t.Errorf("CheckToken: %v", err)
	}

	// Introspection reports the same confirmation (RFC 8705 Section 3.2).
	ie := &introspection.Endpoint{URL: c.endpoints.Introspection, TokenEndpoint: c.te}
	r, err := ie.Introspect(context.Background(), tok.AccessToken, introspection.HintAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Active || r.Confirmation == nil || r.Confirmation.X5tS256 != pki.Client.Thumbprint() {
		t.Fatalf("introspection = %+v", r)
	}
	if err := c.cert.CheckConfirmation("introspect_token", r.Confirmation.X5tS256); err != nil {
		t.Errorf("CheckConfirmation: %v", err)
	}

	// The resource server accepts the token over the same certificate.
	rt := &transport.Transport{Source: staticSource{tok}, Base: c.hc.Transport}
	if status := getResource(t, rt, srv.ResourceURL()); status != http.StatusOK {
		t.Errorf("resource answered %d", status)
	}

	// test_connection probes the aliases with the certificate.
	cache := &discovery.Cache{ServerURL: srv.URL(), HTTPClient: c.hc}
	report := cache.CheckConnection(context.Background(), discovery.Endpoints{}, true)
	if !report.OK() || len(report.Endpoints) != 4 || report.Endpoints[1].URL != srv.MTLSTokenURL() {
		t.Errorf("connection report = %+v", report)
	}

	// Revocation authenticates with the certificate too.
	re := &revocation.Endpoint{URL: c.endpoints.Revocation, TokenEndpoint: c.te}
	if err := re.Revoke(context.Background(), tok.AccessToken, revocation.HintAccessToken); err != nil {
		t.Fatal(err)
	}
	if r, err := ie.Introspect(context.Background(), tok.AccessToken, ""); err != nil || r.Active {
		t.Errorf("after revocation: %+v, %v", r, err)
	}
}

func TestE2ESelfSignedTLSClientAuth(t *testing.T) {
	srv, pki := startMTLSServer(t)
	c := newMTLSClient(t, srv, mtls.Config{
		ClientCertPath: pki.SelfSigned.CertPath,
		ClientKeyPath:  pki.SelfSigned.KeyPath, // SEC 1
		CACertPath:     pki.CA.CertPath,
	}, "self-signed-client", tokenendpoint.SelfSignedTLSClientAuth)
	tok, err := c.token(context.Background())
	if err != nil {
		t.Fatalf("self_signed_tls_client_auth token request: %v", err)
	}
	if err := c.cert.CheckToken("get_valid_token", tok); err != nil {
		t.Errorf("CheckToken: %v", err)
	}
	if bound, _ := mtls.TokenConfirmation(tok.AccessToken.Reveal()); bound != pki.SelfSigned.Thumbprint() {
		t.Errorf("token bound to %q, want %q", bound, pki.SelfSigned.Thumbprint())
	}
}

func TestE2EMissingCertificateIsInvalidClient(t *testing.T) {
	srv, pki := startMTLSServer(t)
	// No client certificate: the TLS handshake succeeds, since the server
	// asks for a certificate without requiring one, and the token
	// endpoint refuses the client.
	hc, cert, err := mtls.NewHTTPClient(mtls.Config{CACertPath: pki.CA.CertPath})
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		t.Fatal("certificate without client_cert_path")
	}
	te := &tokenendpoint.Endpoint{URL: srv.MTLSTokenURL(), ClientID: "mtls-client", AuthMethod: tokenendpoint.TLSClientAuth, HTTPClient: hc}
	_, err = te.Exchange(context.Background(), "authenticate_client_credentials", url.Values{"grant_type": {"client_credentials"}})
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidClient || oerr.Retryable {
		t.Fatalf("err = %v, want a non-retryable invalid_client", err)
	}

	// A certificate at the endpoint that does not ask for one is no
	// better: the client must use the aliases.
	c := newMTLSClient(t, srv, mtls.Config{ClientCertPath: pki.Client.CertPath, ClientKeyPath: pki.Client.KeyPath, CACertPath: pki.CA.CertPath}, "mtls-client", tokenendpoint.TLSClientAuth)
	c.te.URL = srv.TokenURL()
	_, err = c.token(context.Background())
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidClient {
		t.Fatalf("err = %v at the plain token endpoint, want invalid_client", err)
	}
}

func TestE2ECertificateReload(t *testing.T) {
	srv, pki := startMTLSServer(t)
	var reloaded sync.WaitGroup
	reloaded.Add(1)
	c := newMTLSClient(t, srv, mtls.Config{
		ClientCertPath: pki.Client.CertPath,
		ClientKeyPath:  pki.Client.KeyPath,
		CACertPath:     pki.CA.CertPath,
		ReloadInterval: time.Millisecond,
		OnReload:       func(*tls.Certificate) { reloaded.Done() },
		OnReloadError:  func(err error) { t.Logf("reload error (retried on the next change): %v", err) },
	}, "mtls-client", tokenendpoint.TLSClientAuth)

	src := &invalidatingSource{fetch: c.token}
	rt := &transport.Transport{Source: src, Base: c.hc.Transport, Invalidate: src.invalidate}
	if status := getResource(t, rt, srv.ResourceURL()); status != http.StatusOK {
		t.Fatalf("resource answered %d before the rotation", status)
	}
	old := src.current()
	oldThumb := pki.Client.Thumbprint()

	// The certificate is rotated on disk.
	if _, err := pki.ReissueClientCertificate(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)

	// Connections opened before the rotation keep the old certificate,
	// and the old token still works over them. Close them, as an idle
	// timeout eventually does, so that the next request performs a
	// handshake, which notices the new files.
	c.hc.CloseIdleConnections()
	// The old token is bound to the old certificate: the resource server
	// rejects it, the Transport invalidates it, fetches a new token over
	// the new certificate, and retries.
	if status := getResource(t, rt, srv.ResourceURL()); status != http.StatusOK {
		t.Fatalf("resource answered %d after the rotation, want 200 after one retry", status)
	}
	if n := srv.Requests(mtlsserver.ResourcePath); n != 3 {
		t.Errorf("resource server saw %d requests, want 3: one before the rotation, the rejected one and its retry", n)
	}
	reloaded.Wait()
	if got := c.cert.Thumbprint(); got != pki.Client.Thumbprint() || got == oldThumb {
		t.Fatalf("Thumbprint() = %q, want the new certificate's %q", got, pki.Client.Thumbprint())
	}
	fresh := src.current()
	if fresh == old {
		t.Fatal("no new token after the rotation")
	}
	if err := c.cert.CheckToken("get_valid_token", fresh); err != nil {
		t.Errorf("CheckToken(new token): %v", err)
	}
	// The client's own check catches the stale token.
	err := c.cert.CheckToken("get_valid_token", old)
	var berr *mtls.BindingError
	if !errors.As(err, &berr) || berr.Bound != oldThumb || berr.Presented != pki.Client.Thumbprint() {
		t.Errorf("CheckToken(old token) = %v, want a BindingError naming both thumbprints", err)
	}
}

func getResource(t *testing.T, rt http.RoundTripper, u string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

type staticSource struct{ tok *token.Token }

func (s staticSource) Token(context.Context) (*token.Token, error) { return s.tok, nil }

// invalidatingSource caches one token and fetches a new one after it was
// invalidated, as a token cache does.
type invalidatingSource struct {
	fetch func(context.Context) (*token.Token, error)
	mu    sync.Mutex
	tok   *token.Token
}

func (s *invalidatingSource) Token(ctx context.Context) (*token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		tok, err := s.fetch(ctx)
		if err != nil {
			return nil, err
		}
		s.tok = tok
	}
	return s.tok, nil
}

func (s *invalidatingSource) invalidate(rejected *token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == rejected {
		s.tok = nil
	}
}

func (s *invalidatingSource) current() *token.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}
