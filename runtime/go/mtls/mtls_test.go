package mtls_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/mtls"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// peerThumbprint answers with the x5t#S256 of the client certificate the
// server received, or "none".
var peerThumbprint = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if len(r.TLS.PeerCertificates) == 0 {
		io.WriteString(w, "none")
		return
	}
	io.WriteString(w, mtls.Thumbprint(r.TLS.PeerCertificates[0]))
})

func get(t *testing.T, hc *http.Client, url string) string {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

type files struct{ cert, key string }

func clientFiles(p *testPKI) files {
	return files{cert: filepath.Join(p.dir, "client.pem"), key: filepath.Join(p.dir, "client-key.pem")}
}

func TestClientCertificatePresented(t *testing.T) {
	p := newTestPKI(t)
	srv := p.startServer(tls.RequireAndVerifyClientCert, peerThumbprint)
	f := clientFiles(p)
	leaf := p.writeClientCert("trading-bot", f.cert, f.key)

	hc, cert, err := mtls.NewHTTPClient(mtls.Config{ClientCertPath: f.cert, ClientKeyPath: f.key, CACertPath: p.caPath, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 5*time.Second {
		t.Errorf("Timeout = %v, want 5s", hc.Timeout)
	}
	want := mtls.Thumbprint(leaf)
	if got := cert.Thumbprint(); got != want {
		t.Errorf("Thumbprint() = %q, want %q", got, want)
	}
	if got := get(t, hc, srv.URL); got != want {
		t.Errorf("server saw certificate %q, want %q", got, want)
	}
	if cert.Leaf().Subject.CommonName != "trading-bot" {
		t.Errorf("Leaf().Subject = %v", cert.Leaf().Subject)
	}
}

func TestThumbprintIsBase64URLSHA256OfDER(t *testing.T) {
	p := newTestPKI(t)
	// RFC 8705 Section 3.1: base64url-encoded SHA-256 of the DER
	// encoding, no padding: 43 characters of the URL-safe alphabet.
	got := mtls.Thumbprint(p.caCert)
	if len(got) != 43 || strings.ContainsAny(got, "+/=") {
		t.Fatalf("Thumbprint = %q, want 43 base64url characters", got)
	}
	raw, err := base64.RawURLEncoding.DecodeString(got)
	if err != nil || len(raw) != 32 {
		t.Fatalf("Thumbprint %q does not decode to 32 bytes: %v", got, err)
	}
}

func TestNoClientCertificate(t *testing.T) {
	p := newTestPKI(t)
	srv := p.startServer(tls.VerifyClientCertIfGiven, peerThumbprint)
	hc, cert, err := mtls.NewHTTPClient(mtls.Config{CACertPath: p.caPath})
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		t.Errorf("certificate = %v, want nil without client_cert_path", cert)
	}
	if got := get(t, hc, srv.URL); got != "none" {
		t.Errorf("server saw certificate %q, want none", got)
	}
}

func TestServerVerification(t *testing.T) {
	p := newTestPKI(t)
	srv := p.startServer(tls.NoClientCert, peerThumbprint)

	// The test CA is not among the system roots.
	hc, _, err := mtls.NewHTTPClient(mtls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hc.Get(srv.URL)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET without ca_cert_path: err = %v, want x509.UnknownAuthorityError", err)
	}

	// verify_ssl: false
	hc, _, err = mtls.NewHTTPClient(mtls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, hc, srv.URL); got != "none" {
		t.Errorf("got %q", got)
	}

	// A CA bundle that does not hold the server's CA.
	other := newTestPKI(t)
	hc, _, err = mtls.NewHTTPClient(mtls.Config{CACertPath: other.caPath})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(srv.URL); !errors.As(err, &unknown) {
		t.Errorf("GET with another CA: err = %v, want x509.UnknownAuthorityError", err)
	}
}

func TestConfigErrors(t *testing.T) {
	p := newTestPKI(t)
	f := clientFiles(p)
	p.writeClientCert("bot", f.cert, f.key)
	otherKey := filepath.Join(p.dir, "other-key.pem")
	p.writeClientCert("other", filepath.Join(p.dir, "other.pem"), otherKey)
	notPEM := filepath.Join(p.dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cfg  mtls.Config
		want string
	}{
		{"cert without key", mtls.Config{ClientCertPath: f.cert}, "client_key_path is empty"},
		{"key without cert", mtls.Config{ClientKeyPath: f.key}, "client_cert_path is empty"},
		{"negative timeout", mtls.Config{Timeout: -time.Second}, "negative"},
		{"missing cert file", mtls.Config{ClientCertPath: filepath.Join(p.dir, "nope.pem"), ClientKeyPath: f.key}, "client_cert_path"},
		{"missing key file", mtls.Config{ClientCertPath: f.cert, ClientKeyPath: filepath.Join(p.dir, "nope.pem")}, "client_key_path"},
		{"key of another certificate", mtls.Config{ClientCertPath: f.cert, ClientKeyPath: otherKey}, "private key does not match public key"},
		{"cert not PEM", mtls.Config{ClientCertPath: notPEM, ClientKeyPath: f.key}, "failed to find any PEM data"},
		{"missing CA file", mtls.Config{CACertPath: filepath.Join(p.dir, "nope.pem")}, "ca_cert_path"},
		{"CA file not PEM", mtls.Config{CACertPath: notPEM}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := mtls.NewHTTPClient(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReloadWhenFilesChange(t *testing.T) {
	p := newTestPKI(t)
	srv := p.startServer(tls.RequireAndVerifyClientCert, peerThumbprint)
	f := clientFiles(p)
	first := p.writeClientCert("bot-v1", f.cert, f.key)

	var reloads atomic.Int32
	var reloaded atomic.Pointer[tls.Certificate]
	hc, cert, err := mtls.NewHTTPClient(mtls.Config{
		ClientCertPath: f.cert,
		ClientKeyPath:  f.key,
		CACertPath:     p.caPath,
		ReloadInterval: time.Millisecond,
		OnReload: func(c *tls.Certificate) {
			reloads.Add(1)
			reloaded.Store(c)
		},
		OnReloadError: func(err error) { t.Errorf("OnReloadError(%v)", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, hc, srv.URL), mtls.Thumbprint(first); got != want {
		t.Fatalf("first request presented %q, want %q", got, want)
	}

	// An unchanged file is not reloaded.
	time.Sleep(5 * time.Millisecond)
	hc.Transport.(*http.Transport).CloseIdleConnections()
	get(t, hc, srv.URL)
	if n := reloads.Load(); n != 0 {
		t.Fatalf("%d reloads without a change", n)
	}

	second := p.writeClientCert("bot-v2", f.cert, f.key)
	time.Sleep(5 * time.Millisecond)
	// The kept-alive connection was set up with the old certificate; the
	// reload closes idle connections, but the reload happens only in a
	// handshake. Force one, as a new connection to another host would.
	hc.Transport.(*http.Transport).CloseIdleConnections()
	if got, want := get(t, hc, srv.URL), mtls.Thumbprint(second); got != want {
		t.Fatalf("after rotation the client presented %q, want the new certificate %q", got, want)
	}
	if n := reloads.Load(); n != 1 {
		t.Errorf("OnReload called %d times, want 1", n)
	}
	if c := reloaded.Load(); c == nil || c.Leaf.Subject.CommonName != "bot-v2" {
		t.Errorf("OnReload got %v, want the bot-v2 certificate", c)
	}
	if got := cert.Thumbprint(); got != mtls.Thumbprint(second) {
		t.Errorf("Thumbprint() = %q after reload, want the new one", got)
	}
	if err := cert.ReloadError(); err != nil {
		t.Errorf("ReloadError() = %v", err)
	}
}

func TestFailedReloadKeepsLastGoodPair(t *testing.T) {
	p := newTestPKI(t)
	srv := p.startServer(tls.RequireAndVerifyClientCert, peerThumbprint)
	f := clientFiles(p)
	first := p.writeClientCert("bot-v1", f.cert, f.key)

	var reported atomic.Int32
	hc, cert, err := mtls.NewHTTPClient(mtls.Config{
		ClientCertPath: f.cert,
		ClientKeyPath:  f.key,
		CACertPath:     p.caPath,
		ReloadInterval: time.Millisecond,
		OnReloadError:  func(error) { reported.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*http.Transport)

	// The certificate is replaced but the key is not yet: the pair does
	// not match.
	der, _ := p.issue("bot-v2", x509.ExtKeyUsageClientAuth)
	writePEM(t, f.cert, "CERTIFICATE", der)
	time.Sleep(5 * time.Millisecond)
	tr.CloseIdleConnections()
	if got, want := get(t, hc, srv.URL), mtls.Thumbprint(first); got != want {
		t.Fatalf("after a failed reload the client presented %q, want the previous %q", got, want)
	}
	if reported.Load() != 1 {
		t.Errorf("OnReloadError called %d times, want 1", reported.Load())
	}
	if err := cert.ReloadError(); err == nil || !strings.Contains(err.Error(), "previous certificate stays in use") {
		t.Errorf("ReloadError() = %v", err)
	}

	// Unchanged broken files are not read again at every handshake.
	time.Sleep(5 * time.Millisecond)
	tr.CloseIdleConnections()
	get(t, hc, srv.URL)
	if reported.Load() != 1 {
		t.Errorf("broken files were reloaded again without a change: %d reports", reported.Load())
	}

	// A garbage certificate is no better.
	if err := os.WriteFile(f.cert, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cert.Reload(); err == nil {
		t.Error("Reload of a garbage certificate succeeded")
	}
	tr.CloseIdleConnections()
	if got, want := get(t, hc, srv.URL), mtls.Thumbprint(first); got != want {
		t.Errorf("presented %q, want the previous %q", got, want)
	}

	// The rotation completes: both files are new and match.
	second := p.writeClientCert("bot-v3", f.cert, f.key)
	time.Sleep(5 * time.Millisecond)
	tr.CloseIdleConnections()
	if got, want := get(t, hc, srv.URL), mtls.Thumbprint(second); got != want {
		t.Errorf("after the rotation completed the client presented %q, want %q", got, want)
	}
	if err := cert.ReloadError(); err != nil {
		t.Errorf("ReloadError() = %v after a good reload", err)
	}
}

func TestReloadDisabled(t *testing.T) {
	p := newTestPKI(t)
	f := clientFiles(p)
	first := p.writeClientCert("bot-v1", f.cert, f.key)
	cert, err := mtls.LoadClientCertificate(mtls.Config{ClientCertPath: f.cert, ClientKeyPath: f.key, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	p.writeClientCert("bot-v2", f.cert, f.key)
	c, err := cert.GetClientCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if mtls.Thumbprint(c.Leaf) != mtls.Thumbprint(first) {
		t.Error("certificate reloaded although reloading is off")
	}
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	if cert.Leaf().Subject.CommonName != "bot-v2" {
		t.Error("explicit Reload did not load the new certificate")
	}
}

func TestReloadIntervalLimitsChecks(t *testing.T) {
	p := newTestPKI(t)
	f := clientFiles(p)
	p.writeClientCert("bot-v1", f.cert, f.key)
	cert, err := mtls.LoadClientCertificate(mtls.Config{ClientCertPath: f.cert, ClientKeyPath: f.key, ReloadInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p.writeClientCert("bot-v2", f.cert, f.key)
	c, _ := cert.GetClientCertificate(nil)
	if c.Leaf.Subject.CommonName != "bot-v1" {
		t.Error("files were looked at before the reload interval passed")
	}
}

func TestConcurrentHandshakesDuringRotation(t *testing.T) {
	p := newTestPKI(t)
	f := clientFiles(p)
	p.writeClientCert("bot-v1", f.cert, f.key)
	cert, err := mtls.LoadClientCertificate(mtls.Config{ClientCertPath: f.cert, ClientKeyPath: f.key, ReloadInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for range 8 {
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				c, err := cert.GetClientCertificate(nil)
				if err != nil || c == nil || c.Leaf == nil {
					t.Errorf("GetClientCertificate = %v, %v", c, err)
					return
				}
				_ = cert.Thumbprint()
			}
		}()
	}
	for range 5 {
		p.writeClientCert("bot", f.cert, f.key)
	}
	close(done)
}

// jwt builds an unsigned-looking JWT with the given claims; the client
// never verifies signatures.
func jwt(t *testing.T, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte("signature"))
}

func TestTokenConfirmation(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		want   string
		wantOK bool
	}{
		{"bound JWT", jwt(t, map[string]any{"sub": "bot", "cnf": map[string]any{"x5t#S256": "abc"}}), "abc", true},
		{"JWT without cnf", jwt(t, map[string]any{"sub": "bot"}), "", false},
		{"JWT with another confirmation", jwt(t, map[string]any{"cnf": map[string]any{"jkt": "xyz"}}), "", false},
		{"opaque fosite token", "ory_at_abc.def", "", false},
		{"opaque", "mF_9.B5f-4.1JqM", "", false},
		{"JWE", "a.b.c.d.e", "", false},
		{"empty", "", "", false},
		{"payload not JSON", "eyJ9.bm90IGpzb24.sig", "", false},
		{"cnf not an object", jwt(t, map[string]any{"cnf": "abc"}), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mtls.TokenConfirmation(tt.token)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("TokenConfirmation = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCheckToken(t *testing.T) {
	p := newTestPKI(t)
	f := clientFiles(p)
	leaf := p.writeClientCert("bot", f.cert, f.key)
	cert, err := mtls.LoadClientCertificate(mtls.Config{ClientCertPath: f.cert, ClientKeyPath: f.key})
	if err != nil {
		t.Fatal(err)
	}
	thumb := mtls.Thumbprint(leaf)

	bound := &token.Token{AccessToken: secret.Secret(jwt(t, map[string]any{"cnf": map[string]string{"x5t#S256": thumb}}))}
	if err := cert.CheckToken("get_valid_token", bound); err != nil {
		t.Errorf("CheckToken(token bound to the certificate) = %v", err)
	}
	padded := &token.Token{AccessToken: secret.Secret(jwt(t, map[string]any{"cnf": map[string]string{"x5t#S256": thumb + "="}}))}
	if err := cert.CheckToken("get_valid_token", padded); err != nil {
		t.Errorf("CheckToken(padded thumbprint) = %v", err)
	}
	if err := cert.CheckToken("get_valid_token", &token.Token{AccessToken: "opaque"}); err != nil {
		t.Errorf("CheckToken(opaque) = %v", err)
	}
	if err := cert.CheckToken("get_valid_token", nil); err != nil {
		t.Errorf("CheckToken(nil) = %v", err)
	}

	other := mtls.Thumbprint(p.caCert)
	foreign := &token.Token{AccessToken: secret.Secret(jwt(t, map[string]any{"cnf": map[string]string{"x5t#S256": other}}))}
	err = cert.CheckToken("get_valid_token", foreign)
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != mtls.CodeInvalidToken || oerr.Op != "get_valid_token" || oerr.Retryable {
		t.Fatalf("CheckToken(foreign) = %#v, want a non-retryable invalid_token *oautherr.Error", err)
	}
	var berr *mtls.BindingError
	if !errors.As(err, &berr) || berr.Bound != other || berr.Presented != thumb {
		t.Errorf("BindingError = %+v, want Bound %q Presented %q", berr, other, thumb)
	}
	if strings.Contains(err.Error(), foreign.AccessToken.Reveal()) {
		t.Error("error message contains the access token")
	}

	if err := cert.CheckConfirmation("introspect_token", thumb); err != nil {
		t.Errorf("CheckConfirmation(own) = %v", err)
	}
	if err := cert.CheckConfirmation("introspect_token", ""); err != nil {
		t.Errorf("CheckConfirmation(unbound) = %v", err)
	}
	if err := cert.CheckConfirmation("introspect_token", other); !errors.As(err, &berr) {
		t.Errorf("CheckConfirmation(other) = %v, want a BindingError", err)
	}
}
