package clientauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/clientauth"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
)

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

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

// decoded is a verified JWT: its header and its raw claims.
type decoded struct {
	header map[string]any
	claims map[string]any
}

// verify checks the signature of s with the public key of k, accepting
// only k's algorithm, and returns the header and the claims as sent.
func verify(t *testing.T, s string, k *keys.SigningKey) decoded {
	t.Helper()
	parsed, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return k.Public(), nil },
		jwt.WithValidMethods([]string{k.Algorithm().String()}), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	// Decode the payload again without jwt's type conversions, so that
	// the test sees the JSON types on the wire.
	var claims map[string]any
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(s, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	return decoded{header: parsed.Header, claims: claims}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("claim %v is %T, want a JSON number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %v is not an integer: %v", v, err)
	}
	return i
}

func TestClientAssertion(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.RS256, keys.PS256, keys.ES256} {
		t.Run(alg.String(), func(t *testing.T) {
			k := signingKey(t, alg, "key-"+alg.String())
			before := time.Now().Unix()
			s, err := clientauth.ClientAssertion(k, "client-1", "https://as.example/token", 0)
			if err != nil {
				t.Fatal(err)
			}
			after := time.Now().Unix()
			d := verify(t, s, k)

			wantHeader := map[string]any{"alg": alg.String(), "typ": "JWT", "kid": "key-" + alg.String()}
			if diff := cmp.Diff(wantHeader, d.header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			iat, exp := num(t, d.claims["iat"]), num(t, d.claims["exp"])
			if iat < before || iat > after {
				t.Errorf("iat = %d, want between %d and %d", iat, before, after)
			}
			if exp-iat != 60 {
				t.Errorf("exp - iat = %d s, want 60", exp-iat)
			}
			jti, _ := d.claims["jti"].(string)
			if len(jti) < 22 {
				t.Errorf("jti = %q, want at least 128 random bits", jti)
			}
			want := map[string]any{
				"iss": "client-1", "sub": "client-1", "aud": "https://as.example/token",
				"iat": d.claims["iat"], "exp": d.claims["exp"], "jti": jti,
			}
			if diff := cmp.Diff(want, d.claims); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientAssertionFreshJTI(t *testing.T) {
	k := signingKey(t, keys.ES256, "")
	seen := map[string]bool{}
	for range 50 {
		s, err := clientauth.ClientAssertion(k, "c", "https://as.example/token", 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		d := verify(t, s, k)
		jti := d.claims["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %q repeated", jti)
		}
		seen[jti] = true
		if got := num(t, d.claims["exp"]) - num(t, d.claims["iat"]); got != 30 {
			t.Errorf("exp - iat = %d, want 30", got)
		}
		if _, ok := d.header["kid"]; ok {
			t.Errorf("header has kid %v, want none for a key without ID", d.header["kid"])
		}
	}
}

func TestAssertionSign(t *testing.T) {
	k := signingKey(t, keys.RS256, "")
	iat := time.Date(2030, 1, 2, 3, 4, 5, 999_000_000, time.UTC)
	a := clientauth.Assertion{
		Issuer:   "https://issuer.example",
		Subject:  "trader-42",
		Audience: []string{"https://as.example", "https://as.example/token"},
		IssuedAt: iat,
		Lifetime: 45 * time.Second,
		ID:       "fixed-id",
	}
	s, err := a.Sign(k)
	if err != nil {
		t.Fatal(err)
	}
	// Decode without validation: iat is in the future.
	var claims map[string]any
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(s, ".")[1])
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss": "https://issuer.example", "sub": "trader-42",
		"aud": []any{"https://as.example", "https://as.example/token"},
		"iat": json.Number("1893553445"), "exp": json.Number("1893553490"), "jti": "fixed-id",
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if _, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return k.Public(), nil }, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return iat })); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestAssertionExpiredWhenIssuedInThePast(t *testing.T) {
	k := signingKey(t, keys.ES256, "")
	s, err := clientauth.Assertion{Issuer: "i", Subject: "s", Audience: []string{"a"}, IssuedAt: time.Now().Add(-2 * time.Minute)}.Sign(k)
	if err != nil {
		t.Fatal(err)
	}
	_, err = jwt.Parse(s, func(*jwt.Token) (any, error) { return k.Public(), nil })
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Parse error = %v, want token expired", err)
	}
}

func TestAssertionInvalid(t *testing.T) {
	k := signingKey(t, keys.ES256, "")
	valid := clientauth.Assertion{Issuer: "i", Subject: "s", Audience: []string{"a"}}
	tests := []struct {
		name string
		edit func(*clientauth.Assertion)
		key  *keys.SigningKey
		want string
	}{
		{"no key", func(*clientauth.Assertion) {}, nil, "no signing key is configured"},
		{"no issuer", func(a *clientauth.Assertion) { a.Issuer = "" }, k, "assertion issuer (iss) is empty"},
		{"no subject", func(a *clientauth.Assertion) { a.Subject = "" }, k, "assertion subject (sub) is empty"},
		{"no audience", func(a *clientauth.Assertion) { a.Audience = nil }, k, "assertion audience (aud) is empty"},
		{"empty audience value", func(a *clientauth.Assertion) { a.Audience = []string{"a", ""} }, k, "assertion audience (aud) contains an empty value"},
		{"lifetime too long", func(a *clientauth.Assertion) { a.Lifetime = 61 * time.Second }, k, "assertion lifetime 1m1s is out of range: want 1s to 1m0s"},
		{"lifetime too short", func(a *clientauth.Assertion) { a.Lifetime = 500 * time.Millisecond }, k, "assertion lifetime 500ms is out of range: want 1s to 1m0s"},
		{"negative lifetime", func(a *clientauth.Assertion) { a.Lifetime = -time.Second }, k, "assertion lifetime -1s is out of range: want 1s to 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid
			tt.edit(&a)
			s, err := a.Sign(tt.key)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Sign = %q, %v; want error %q", s, err, tt.want)
			}
		})
	}
	if _, err := clientauth.ClientAssertion(k, "", "aud", 0); err == nil {
		t.Error("ClientAssertion with empty client ID succeeded")
	}
	if _, err := clientauth.ClientAssertion(k, "c", "", 0); err == nil {
		t.Error("ClientAssertion with empty audience succeeded")
	}
}

func TestNewJTI(t *testing.T) {
	a, err := clientauth.NewJTI()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := clientauth.NewJTI()
	if a == b || len(a) != 22 {
		t.Errorf("NewJTI = %q, %q: want two different 22-character IDs", a, b)
	}
	if _, err := base64.RawURLEncoding.DecodeString(a); err != nil {
		t.Errorf("jti %q is not base64url: %v", a, err)
	}
}
