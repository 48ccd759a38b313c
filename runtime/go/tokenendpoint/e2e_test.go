package tokenendpoint_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// startAuthServer starts the fosite conformance server with its default
// clients and writes its test keys as PEM files.
func startAuthServer(t *testing.T) (*authserver.Server, authserver.TestKeys) {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	testKeys, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return srv, testKeys
}

func loadSigningKey(t *testing.T, path string, alg keys.Algorithm, kid string) *keys.SigningKey {
	t.Helper()
	k, err := keys.LoadSigningKey(path, alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func clientCredentials(e *tokenendpoint.Endpoint) error {
	_, err := e.Exchange(context.Background(), op, url.Values{"grant_type": {"client_credentials"}, "scope": {"trading"}})
	return err
}

// TestE2EPrivateKeyJWT gets client credentials tokens from the fosite
// server with private_key_jwt client authentication (RFC 7523 Section
// 2.2) for each algorithm and PEM encoding.
func TestE2EPrivateKeyJWT(t *testing.T) {
	srv, tk := startAuthServer(t)
	tests := []struct {
		name, client, path string
		alg                keys.Algorithm
		kid, audience      string
	}{
		{"RS256 PKCS#1 with kid", "jwt-rsa-client", tk.RSAPKCS1Path, keys.RS256, authserver.RSATestKeyID, ""},
		{"RS256 PKCS#8 without kid", "jwt-rsa-client", tk.RSAPKCS8Path, keys.RS256, "", ""},
		{"PS256 PKCS#8", "jwt-ps-client", tk.RSAPKCS8Path, keys.PS256, authserver.RSATestKeyID, ""},
		{"ES256 SEC 1 with kid", "jwt-ec-client", tk.ECSEC1Path, keys.ES256, authserver.ECTestKeyID, ""},
		{"ES256 PKCS#8 with issuer audience", "jwt-ec-client", tk.ECPKCS8Path, keys.ES256, "", srv.URL()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &tokenendpoint.Endpoint{
				URL:               srv.TokenURL(),
				ClientID:          tt.client,
				AuthMethod:        tokenendpoint.PrivateKeyJWT,
				SigningKey:        loadSigningKey(t, tt.path, tt.alg, tt.kid),
				AssertionAudience: tt.audience,
			}
			tok, err := e.Exchange(context.Background(), op, url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.IsZero() || tok.Expired(tok.ExpiresAt.Add(-1)) {
				t.Errorf("token = %v", tok)
			}
			// The server refuses a jti it has seen: a second request
			// succeeds only because each carries a new assertion.
			if err := clientCredentials(e); err != nil {
				t.Errorf("second request: %v", err)
			}
		})
	}
}

func TestE2EPrivateKeyJWTRejected(t *testing.T) {
	srv, tk := startAuthServer(t)
	tests := []struct {
		name, client, path string
		alg                keys.Algorithm
		kid, audience      string
	}{
		{"untrusted key", "jwt-ec-client", tk.UntrustedECPKCS8Path, keys.ES256, authserver.ECTestKeyID, ""},
		{"algorithm the client did not register", "jwt-ps-client", tk.RSAPKCS8Path, keys.RS256, "", ""},
		{"another client's key", "jwt-ec-client", tk.RSAPKCS8Path, keys.RS256, "", ""},
		{"wrong audience", "jwt-rsa-client", tk.RSAPKCS8Path, keys.RS256, "", "https://other.example/token"},
		{"client registered for client_secret_basic", "basic-client", tk.RSAPKCS8Path, keys.RS256, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &tokenendpoint.Endpoint{
				URL:               srv.TokenURL(),
				ClientID:          tt.client,
				AuthMethod:        tokenendpoint.PrivateKeyJWT,
				SigningKey:        loadSigningKey(t, tt.path, tt.alg, tt.kid),
				AssertionAudience: tt.audience,
			}
			err := clientCredentials(e)
			oerr := wantError(t, err, oautherr.CodeInvalidClient)
			if oerr.StatusCode != 401 || oerr.Retryable {
				t.Errorf("error = %#v, want HTTP 401, not retryable", oerr)
			}
		})
	}
}

// TestE2EPublicClientCannotUseClientCredentials checks that auth method
// none sends only client_id, which fosite refuses for a confidential grant.
func TestE2EPublicClientCannotUseClientCredentials(t *testing.T) {
	srv, _ := startAuthServer(t)
	e := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "public-client", AuthMethod: tokenendpoint.None}
	err := clientCredentials(e)
	var oerr *oautherr.Error
	if err == nil || !errorsAs(err, &oerr) || oerr.StatusCode < 400 || oerr.StatusCode > 499 {
		t.Fatalf("error = %v, want a 4xx OAuth error", err)
	}
	t.Logf("public client with client_credentials: %v", err)
}

func errorsAs(err error, target **oautherr.Error) bool { return errors.As(err, target) }
