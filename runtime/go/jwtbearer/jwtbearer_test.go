package jwtbearer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/jwtbearer"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k })
	ecKey  = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k })
)

func signingKey(t *testing.T, alg keys.Algorithm, kid string) *keys.SigningKey {
	t.Helper()
	var signer crypto.Signer = rsaKey()
	if alg == keys.ES256 {
		signer = ecKey()
	}
	k, err := keys.NewSigningKey(alg, signer, kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type request struct {
	form   url.Values
	header http.Header
}

// fakeServer is a token endpoint that records requests and answers with
// status and body.
func fakeServer(t *testing.T, status int, body string) (*tokenendpoint.Endpoint, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, request{form: r.PostForm, header: r.Header.Clone()})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	e := &tokenendpoint.Endpoint{URL: srv.URL + "/oauth2/token", ClientID: "svc-client", AuthMethod: tokenendpoint.None, HTTPClient: srv.Client()}
	return e, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), got...)
	}
}

const okBody = `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"scope":"trading"}`

// parseAssertion verifies the assertion with k's public key and returns
// its header and claims.
func parseAssertion(t *testing.T, s string, k *keys.SigningKey) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(s, claims, func(*jwt.Token) (any, error) { return k.Public(), nil },
		jwt.WithValidMethods([]string{k.Algorithm().String()}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	return tok.Header, claims
}

func TestExchangeRequest(t *testing.T) {
	tests := []struct {
		name        string
		alg         keys.Algorithm
		kid         string
		subject     string
		wantSubject string
		audience    string
		lifetime    time.Duration
		scopes      []string
		cfgScopes   []string
		wantScope   string
	}{
		{name: "RS256 subject argument", alg: keys.RS256, kid: "rsa-1", subject: "trader-7", wantSubject: "trader-7", scopes: []string{"trading", "market-data"}, wantScope: "trading market-data"},
		{name: "ES256 default subject and config scopes", alg: keys.ES256, wantSubject: "svc-client", cfgScopes: []string{"portfolio"}, wantScope: "portfolio", lifetime: 20 * time.Second},
		{name: "PS256 configured audience and no scope", alg: keys.PS256, subject: "s", wantSubject: "s", audience: "https://issuer.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, requests := fakeServer(t, 200, okBody)
			key := signingKey(t, tt.alg, tt.kid)
			cfg := &jwtbearer.Config{Endpoint: e, Key: key, Issuer: "https://issuer.example/svc", Audience: tt.audience, Lifetime: tt.lifetime, Scopes: tt.cfgScopes}
			before := time.Now().Unix()
			tok, err := cfg.Exchange(context.Background(), tt.subject, tt.scopes)
			if err != nil {
				t.Fatal(err)
			}
			after := time.Now().Unix()
			if tok.AccessToken.Reveal() != "at-1" {
				t.Errorf("access token = %q", tok.AccessToken.Reveal())
			}

			r := requests()[0]
			if a := r.header.Get("Authorization"); a != "" {
				t.Errorf("Authorization = %q, want none for auth method none", a)
			}
			assertion := r.form.Get("assertion")
			want := url.Values{
				"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
				"assertion":  {assertion},
				"client_id":  {"svc-client"},
			}
			if tt.wantScope != "" {
				want.Set("scope", tt.wantScope)
			}
			if diff := cmp.Diff(want, r.form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}

			header, claims := parseAssertion(t, assertion, key)
			if header["alg"] != tt.alg.String() {
				t.Errorf("alg = %v, want %v", header["alg"], tt.alg)
			}
			if kid, ok := header["kid"]; tt.kid != "" && kid != tt.kid || tt.kid == "" && ok {
				t.Errorf("kid = %v, want %q", kid, tt.kid)
			}
			wantAud := tt.audience
			if wantAud == "" {
				wantAud = e.URL
			}
			if claims["iss"] != cfg.Issuer || claims["sub"] != tt.wantSubject || claims["aud"] != wantAud {
				t.Errorf("iss, sub, aud = %v, %v, %v; want %q, %q, %q", claims["iss"], claims["sub"], claims["aud"], cfg.Issuer, tt.wantSubject, wantAud)
			}
			iat, _ := claims.GetIssuedAt()
			exp, _ := claims.GetExpirationTime()
			wantLifetime := tt.lifetime
			if wantLifetime == 0 {
				wantLifetime = time.Minute
			}
			if iat.Unix() < before || iat.Unix() > after || exp.Sub(iat.Time) != wantLifetime {
				t.Errorf("iat = %d, exp - iat = %v; want iat in [%d, %d] and lifetime %v", iat.Unix(), exp.Sub(iat.Time), before, after, wantLifetime)
			}
			if jti, _ := claims["jti"].(string); len(jti) < 22 {
				t.Errorf("jti = %q, want 128 random bits", jti)
			}
		})
	}
}

func TestExchangeFreshAssertionEachTime(t *testing.T) {
	e, requests := fakeServer(t, 200, okBody)
	key := signingKey(t, keys.ES256, "")
	cfg := &jwtbearer.Config{Endpoint: e, Key: key, Issuer: "iss"}
	for range 3 {
		if _, err := cfg.Exchange(context.Background(), "", nil); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[any]bool{}
	for _, r := range requests() {
		_, claims := parseAssertion(t, r.form.Get("assertion"), key)
		if seen[claims["jti"]] {
			t.Fatalf("jti %v sent twice", claims["jti"])
		}
		seen[claims["jti"]] = true
	}
}

func TestExchangeWithClientAuthentication(t *testing.T) {
	t.Run("client_secret_basic", func(t *testing.T) {
		e, requests := fakeServer(t, 200, okBody)
		e.AuthMethod = tokenendpoint.ClientSecretBasic
		e.ClientSecret = "s3cret"
		cfg := &jwtbearer.Config{Endpoint: e, Key: signingKey(t, keys.ES256, ""), Issuer: "iss"}
		if _, err := cfg.Exchange(context.Background(), "", nil); err != nil {
			t.Fatal(err)
		}
		r := requests()[0]
		if id, sec, ok := (&http.Request{Header: r.header}).BasicAuth(); !ok || id != "svc-client" || sec != "s3cret" {
			t.Errorf("Basic auth = %q %q %v", id, sec, ok)
		}
		if r.form.Has("client_id") {
			t.Error("client_id in the body with client_secret_basic")
		}
	})
	t.Run("private_key_jwt", func(t *testing.T) {
		e, requests := fakeServer(t, 200, okBody)
		e.AuthMethod = tokenendpoint.PrivateKeyJWT
		e.SigningKey = signingKey(t, keys.RS256, "client-key")
		grantKey := signingKey(t, keys.ES256, "grant-key")
		cfg := &jwtbearer.Config{Endpoint: e, Key: grantKey, Issuer: "iss"}
		if _, err := cfg.Exchange(context.Background(), "user-1", nil); err != nil {
			t.Fatal(err)
		}
		r := requests()[0]
		if r.form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			t.Errorf("client_assertion_type = %q", r.form.Get("client_assertion_type"))
		}
		_, clientClaims := parseAssertion(t, r.form.Get("client_assertion"), e.SigningKey)
		_, grantClaims := parseAssertion(t, r.form.Get("assertion"), grantKey)
		if clientClaims["sub"] != "svc-client" || grantClaims["sub"] != "user-1" || grantClaims["iss"] != "iss" {
			t.Errorf("client assertion sub %v, grant sub %v iss %v", clientClaims["sub"], grantClaims["sub"], grantClaims["iss"])
		}
	})
}

func wantCode(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("error = %v (%T), want *oautherr.Error", err, err)
	}
	if oerr.Code != code || oerr.Op != jwtbearer.Operation {
		t.Fatalf("error = %v, want code %q and op %q", err, code, jwtbearer.Operation)
	}
	return oerr
}

func TestExchangeServerRejectsAssertion(t *testing.T) {
	e, _ := fakeServer(t, 400, `{"error":"invalid_grant","error_description":"assertion expired"}`)
	cfg := &jwtbearer.Config{Endpoint: e, Key: signingKey(t, keys.ES256, ""), Issuer: "iss"}
	_, err := cfg.Exchange(context.Background(), "", nil)
	oerr := wantCode(t, err, oautherr.CodeInvalidGrant)
	if oerr.Retryable || oerr.StatusCode != 400 {
		t.Errorf("error = %#v", oerr)
	}
}

func TestInvalidConfig(t *testing.T) {
	e := &tokenendpoint.Endpoint{URL: "http://127.0.0.1:1/token", ClientID: "c", AuthMethod: tokenendpoint.None}
	key := signingKey(t, keys.ES256, "")
	tests := []struct {
		name string
		cfg  jwtbearer.Config
		want string
	}{
		{"no endpoint", jwtbearer.Config{Key: key, Issuer: "i"}, "token endpoint is not configured"},
		{"bad endpoint", jwtbearer.Config{Endpoint: &tokenendpoint.Endpoint{ClientID: "c", AuthMethod: tokenendpoint.None}, Key: key, Issuer: "i"}, "token endpoint URL is empty"},
		{"no key", jwtbearer.Config{Endpoint: e, Issuer: "i"}, "no signing key: the JWT bearer grant signs its assertion"},
		{"no issuer", jwtbearer.Config{Endpoint: e, Key: key}, "JWT issuer is empty: the assertion needs an iss claim"},
		{"lifetime over 60s", jwtbearer.Config{Endpoint: e, Key: key, Issuer: "i", Lifetime: 2 * time.Minute}, "assertion lifetime 2m0s is out of range: want 1s to 1m0s"},
		{"bad scope", jwtbearer.Config{Endpoint: e, Key: key, Issuer: "i", Scopes: []string{"a b"}}, `scope "a b" is not a valid scope token (RFC 6749 Section 3.3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
			_, err := tt.cfg.Exchange(context.Background(), "", nil)
			if oerr := wantCode(t, err, oautherr.CodeInvalidConfig); oerr.Description != tt.want {
				t.Errorf("Description = %q, want %q", oerr.Description, tt.want)
			}
			if _, err := tt.cfg.Assertion(""); err == nil {
				t.Error("Assertion succeeded with an invalid config")
			}
		})
	}
	cfg := jwtbearer.Config{Endpoint: e, Key: key, Issuer: "i"}
	_, err := cfg.Exchange(context.Background(), "", []string{`bad"scope`})
	wantCode(t, err, oautherr.CodeInvalidRequest)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = cfg.Exchange(ctx, "", nil)
	if oerr := wantCode(t, err, oautherr.CodeCanceled); !errors.Is(oerr, context.Canceled) {
		t.Errorf("error does not wrap context.Canceled: %v", err)
	}
}

func TestAssertion(t *testing.T) {
	key := signingKey(t, keys.RS256, "k")
	cfg := jwtbearer.Config{
		Endpoint: &tokenendpoint.Endpoint{URL: "https://as.example/token", ClientID: "c", AuthMethod: tokenendpoint.None},
		Key:      key, Issuer: "c",
	}
	s, err := cfg.Assertion("")
	if err != nil {
		t.Fatal(err)
	}
	_, claims := parseAssertion(t, s, key)
	if claims["sub"] != "c" || claims["aud"] != "https://as.example/token" || strings.Count(s, ".") != 2 {
		t.Errorf("claims = %v", claims)
	}
}
