package jwtbearer_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/clientauth"
	"github.com/coyotesense/coyotegen/runtime/go/jwtbearer"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

func startAuthServer(t *testing.T) (*authserver.Server, authserver.TestKeys) {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tk, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return srv, tk
}

func loadKey(t *testing.T, path string, alg keys.Algorithm, kid string) *keys.SigningKey {
	t.Helper()
	k, err := keys.LoadSigningKey(path, alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestE2EJWTBearer gets tokens from the fosite server with the JWT bearer
// grant, signing with keys read from PEM files.
func TestE2EJWTBearer(t *testing.T) {
	srv, tk := startAuthServer(t)
	basic := func() *tokenendpoint.Endpoint {
		return &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"}
	}
	tests := []struct {
		name     string
		endpoint *tokenendpoint.Endpoint
		key      *keys.SigningKey
		issuer   string
		subject  string
		audience string
		scopes   []string
	}{
		{"RS256 PKCS#1 with kid, basic client", basic(), loadKey(t, tk.RSAPKCS1Path, keys.RS256, authserver.RSATestKeyID), "conformance-issuer", "trader-7", "", []string{"trading", "market-data"}},
		{"PS256 PKCS#8", basic(), loadKey(t, tk.RSAPKCS8Path, keys.PS256, ""), "conformance-issuer", "trader-8", "", nil},
		{"ES256 SEC 1 with kid, public client", &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "public-client", AuthMethod: tokenendpoint.None}, loadKey(t, tk.ECSEC1Path, keys.ES256, authserver.ECTestKeyID), "conformance-issuer", "trader-9", "", []string{"portfolio"}},
		{"ES256 PKCS#8, issuer audience", basic(), loadKey(t, tk.ECPKCS8Path, keys.ES256, ""), "conformance-issuer", "trader-9", srv.URL(), nil},
		{"restricted issuer, its subject", basic(), loadKey(t, tk.RSAPKCS8Path, keys.RS256, authserver.RSATestKeyID), "restricted-issuer", authserver.Subject, "", []string{"trading"}},
		{"private_key_jwt client", &tokenendpoint.Endpoint{
			URL: srv.TokenURL(), ClientID: "jwt-ec-client", AuthMethod: tokenendpoint.PrivateKeyJWT,
			SigningKey: loadKey(t, tk.ECPKCS8Path, keys.ES256, authserver.ECTestKeyID),
		}, loadKey(t, tk.RSAPKCS1Path, keys.RS256, ""), "conformance-issuer", "trader-10", "", []string{"analytics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &jwtbearer.Config{Endpoint: tt.endpoint, Key: tt.key, Issuer: tt.issuer, Audience: tt.audience}
			before := srv.GrantRequests(jwtbearer.GrantType)
			tok, err := cfg.Exchange(context.Background(), tt.subject, tt.scopes)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.IsZero() || tok.ExpiresAt.IsZero() || !tok.RefreshToken.IsZero() {
				t.Errorf("token = %v, want an expiring access token without refresh token", tok)
			}
			if len(tt.scopes) > 0 && len(tok.Scopes) != len(tt.scopes) {
				t.Errorf("Scopes = %v, want %v", tok.Scopes, tt.scopes)
			}
			// The server refuses a replayed jti: the second grant works
			// only because it carries a new assertion.
			if _, err := cfg.Exchange(context.Background(), tt.subject, tt.scopes); err != nil {
				t.Errorf("second grant: %v", err)
			}
			if n := srv.GrantRequests(jwtbearer.GrantType) - before; n != 2 {
				t.Errorf("server saw %d JWT bearer requests, want 2", n)
			}
		})
	}
}

func TestE2EJWTBearerRejected(t *testing.T) {
	srv, tk := startAuthServer(t)
	endpoint := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"}
	rsaKey := loadKey(t, tk.RSAPKCS8Path, keys.RS256, "")
	tests := []struct {
		name    string
		cfg     jwtbearer.Config
		subject string
		scopes  []string
		code    string
	}{
		{"wrongly signed", jwtbearer.Config{Endpoint: endpoint, Key: loadKey(t, tk.UntrustedECPKCS8Path, keys.ES256, ""), Issuer: "conformance-issuer"}, "trader-1", nil, oautherr.CodeInvalidGrant},
		{"wrongly signed with a trusted kid", jwtbearer.Config{Endpoint: endpoint, Key: loadKey(t, tk.UntrustedECPKCS8Path, keys.ES256, authserver.ECTestKeyID), Issuer: "conformance-issuer"}, "trader-1", nil, oautherr.CodeInvalidGrant},
		{"unknown issuer", jwtbearer.Config{Endpoint: endpoint, Key: rsaKey, Issuer: "nobody"}, "trader-1", nil, oautherr.CodeInvalidGrant},
		{"subject not allowed", jwtbearer.Config{Endpoint: endpoint, Key: rsaKey, Issuer: "restricted-issuer"}, "someone-else", nil, oautherr.CodeInvalidGrant},
		{"default subject not allowed", jwtbearer.Config{Endpoint: endpoint, Key: rsaKey, Issuer: "restricted-issuer"}, "", nil, oautherr.CodeInvalidGrant},
		{"wrong audience", jwtbearer.Config{Endpoint: endpoint, Key: rsaKey, Issuer: "conformance-issuer", Audience: "https://elsewhere.example"}, "trader-1", nil, oautherr.CodeInvalidGrant},
		{"scope not allowed", jwtbearer.Config{Endpoint: endpoint, Key: rsaKey, Issuer: "restricted-issuer"}, authserver.Subject, []string{"portfolio"}, oautherr.CodeInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Exchange(context.Background(), tt.subject, tt.scopes)
			oerr := wantCode(t, err, tt.code)
			if oerr.StatusCode != 400 || oerr.Retryable {
				t.Errorf("error = %#v, want HTTP 400, not retryable", oerr)
			}
		})
	}
}

// TestE2EJWTBearerExpiredAssertion sends an assertion signed with the
// trusted key whose exp has passed, built with the same signer the grant
// uses.
func TestE2EJWTBearerExpiredAssertion(t *testing.T) {
	srv, tk := startAuthServer(t)
	key := loadKey(t, tk.ECSEC1Path, keys.ES256, authserver.ECTestKeyID)
	endpoint := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"}
	for _, age := range []time.Duration{61 * time.Second, time.Hour} {
		assertion, err := clientauth.Assertion{
			Issuer:   "conformance-issuer",
			Subject:  "trader-1",
			Audience: []string{srv.TokenURL()},
			IssuedAt: time.Now().Add(-age),
		}.Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = endpoint.Exchange(context.Background(), jwtbearer.Operation, url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}})
		oerr := wantCode(t, err, oautherr.CodeInvalidGrant)
		t.Logf("assertion issued %v ago: %v", age, oerr)
	}
}
