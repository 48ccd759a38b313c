package tokenendpoint_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/clientauth"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

var (
	ecKey  = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k })
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k })
)

func ecSigningKey(t *testing.T, kid string) *keys.SigningKey {
	t.Helper()
	k, err := keys.NewSigningKey(keys.ES256, ecKey(), kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// recorded is what the fake token endpoint received.
type recorded struct {
	form    url.Values
	auth    string
	hasAuth bool
}

// recordingEndpoint serves a token endpoint that records each request's
// form and Authorization header and answers with a token.
func recordingEndpoint(t *testing.T, method tokenendpoint.AuthMethod) (*tokenendpoint.Endpoint, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var got []recorded
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		_, _, hasAuth := r.BasicAuth()
		mu.Lock()
		got = append(got, recorded{form: r.PostForm, auth: r.Header.Get("Authorization"), hasAuth: hasAuth})
		mu.Unlock()
		respond(200, `{"access_token":"`+accessToken+`","token_type":"Bearer","expires_in":60}`)(w, r)
	})
	e.AuthMethod = method
	return e, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), got...)
	}
}

func TestExchangeClientIDInBody(t *testing.T) {
	for _, m := range []tokenendpoint.AuthMethod{tokenendpoint.None, tokenendpoint.TLSClientAuth, tokenendpoint.SelfSignedTLSClientAuth} {
		t.Run(m.String(), func(t *testing.T) {
			e, requests := recordingEndpoint(t, m)
			// The secret is configured but must never be sent.
			if _, err := exchange(t, e); err != nil {
				t.Fatal(err)
			}
			r := requests()[0]
			if r.auth != "" {
				t.Errorf("Authorization = %q, want none", r.auth)
			}
			want := url.Values{
				"grant_type": {"client_credentials"},
				"scope":      {"trading market-data"},
				"client_id":  {clientID},
			}
			if diff := cmp.Diff(want, r.form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			e.ClientSecret = ""
			if err := e.Validate(); err != nil {
				t.Errorf("Validate() without a secret = %v", err)
			}
		})
	}
}

// assertionClaims verifies a client assertion with the public key of k and
// returns its header and claims.
func assertionClaims(t *testing.T, s string, k *keys.SigningKey) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(s, claims, func(*jwt.Token) (any, error) { return k.Public(), nil },
		jwt.WithValidMethods([]string{k.Algorithm().String()}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("client assertion does not verify: %v", err)
	}
	return tok.Header, claims
}

func TestExchangePrivateKeyJWT(t *testing.T) {
	tests := []struct {
		name     string
		key      func(t *testing.T) *keys.SigningKey
		audience string
		lifetime time.Duration
	}{
		{"ES256 with kid", func(t *testing.T) *keys.SigningKey { return ecSigningKey(t, "client-key-1") }, "", 0},
		{"RS256", func(t *testing.T) *keys.SigningKey {
			k, err := keys.NewSigningKey(keys.RS256, rsaKey(), "")
			if err != nil {
				t.Fatal(err)
			}
			return k
		}, "", 30 * time.Second},
		{"PS256 with issuer audience", func(t *testing.T) *keys.SigningKey {
			k, err := keys.NewSigningKey(keys.PS256, rsaKey(), "ps")
			if err != nil {
				t.Fatal(err)
			}
			return k
		}, "https://issuer.example", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, requests := recordingEndpoint(t, tokenendpoint.PrivateKeyJWT)
			e.ClientSecret = ""
			e.SigningKey = tt.key(t)
			e.AssertionAudience = tt.audience
			e.AssertionLifetime = tt.lifetime
			wantAud := tt.audience
			if wantAud == "" {
				wantAud = e.URL
			}
			wantLifetime := tt.lifetime
			if wantLifetime == 0 {
				wantLifetime = time.Minute
			}

			before := time.Now().Unix()
			for range 2 {
				if _, err := exchange(t, e); err != nil {
					t.Fatal(err)
				}
			}
			after := time.Now().Unix()

			var jtis []any
			for _, r := range requests() {
				if r.hasAuth || r.auth != "" {
					t.Errorf("Authorization = %q, want none", r.auth)
				}
				assertion := r.form.Get("client_assertion")
				if strings.Count(assertion, ".") != 2 {
					t.Fatalf("client_assertion = %q, want a compact JWS", assertion)
				}
				wantForm := url.Values{
					"grant_type":            {"client_credentials"},
					"scope":                 {"trading market-data"},
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {assertion},
				}
				if diff := cmp.Diff(wantForm, r.form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
				header, claims := assertionClaims(t, assertion, e.SigningKey)
				if header["alg"] != e.SigningKey.Algorithm().String() {
					t.Errorf("alg = %v", header["alg"])
				}
				if kid := e.SigningKey.KeyID(); kid != "" && header["kid"] != kid {
					t.Errorf("kid = %v, want %q", header["kid"], kid)
				}
				iat, _ := claims.GetIssuedAt()
				exp, _ := claims.GetExpirationTime()
				if iat.Unix() < before || iat.Unix() > after {
					t.Errorf("iat = %v, want between %d and %d", iat.Unix(), before, after)
				}
				if got := exp.Sub(iat.Time); got != wantLifetime {
					t.Errorf("exp - iat = %v, want %v", got, wantLifetime)
				}
				if claims["iss"] != clientID || claims["sub"] != clientID || claims["aud"] != wantAud {
					t.Errorf("iss, sub, aud = %v, %v, %v; want %q, %q, %q", claims["iss"], claims["sub"], claims["aud"], clientID, clientID, wantAud)
				}
				jtis = append(jtis, claims["jti"])
			}
			if len(jtis) != 2 || jtis[0] == jtis[1] || jtis[0] == "" {
				t.Errorf("jti of two requests = %v, want two different values", jtis)
			}
		})
	}
}

func TestExchangePrivateKeyJWTErrorRevealsNoAssertion(t *testing.T) {
	var assertion string
	e := serve(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		assertion = r.PostForm.Get("client_assertion")
		respond(401, `{"error":"invalid_client","error_description":"bad assertion"}`)(w, r)
	})
	e.AuthMethod = tokenendpoint.PrivateKeyJWT
	e.SigningKey = ecSigningKey(t, "")
	_, err := exchange(t, e)
	oerr := wantError(t, err, "invalid_client")
	if assertion == "" || strings.Contains(err.Error(), assertion) || strings.Contains(err.Error(), strings.Split(assertion, ".")[2]) {
		t.Errorf("error %q reveals the client assertion", err)
	}
	if b, _ := json.Marshal(oerr); strings.Contains(string(b), strings.Split(assertion, ".")[2]) {
		t.Errorf("JSON of the error reveals the client assertion")
	}
	if clientauth.AssertionType != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Errorf("AssertionType = %q", clientauth.AssertionType)
	}
}

func TestExchangeCanceledBeforeSending(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, requests := recordingEndpoint(t, tokenendpoint.PrivateKeyJWT)
	e.SigningKey = ecSigningKey(t, "")
	_, err := e.Exchange(ctx, op, url.Values{"grant_type": {"client_credentials"}})
	wantError(t, err, "canceled")
	if n := len(requests()); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}
