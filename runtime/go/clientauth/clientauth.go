// Package clientauth signs the JSON Web Tokens that a client presents to
// an authorization server: client assertions for the private_key_jwt
// client authentication method (RFC 7523 Section 2.2, OpenID Connect Core
// 1.0 Section 9) and, through [Assertion], the grants of the JWT bearer
// flow (RFC 7523 Section 2.1).
//
// Every assertion carries the claims RFC 7523 Section 3 requires: iss,
// sub, aud, exp, plus iat and a fresh random jti so that the server can
// refuse a replay (RFC 7519 Section 4.1.7). Assertions live at most
// [MaxLifetime]; a client signs a new one for every request rather than
// reusing one. Signing uses github.com/golang-jwt/jwt/v5 with a
// [keys.SigningKey] (RS256, PS256 or ES256); the JWS header names the
// key's kid when it has one.
package clientauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/coyotesense/coyotegen/runtime/go/keys"
)

// AssertionType is the client_assertion_type value that announces a JWT
// client assertion (RFC 7523 Section 2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxLifetime is the longest lifetime (exp - iat) of an assertion that this
// package signs. Short-lived assertions limit the damage of a leaked one
// (RFC 7523 Section 3, item 4).
const MaxLifetime = 60 * time.Second

// DefaultLifetime is the lifetime of an assertion whose Lifetime is zero.
const DefaultLifetime = MaxLifetime

// Assertion is the claim set of a JWT that a client signs (RFC 7523
// Section 3). The zero IssuedAt, Lifetime and ID are filled in by Sign.
type Assertion struct {
	// Issuer is the iss claim: the client_id for client authentication,
	// the configured issuer for a JWT bearer grant.
	Issuer string
	// Subject is the sub claim: the client_id for client authentication,
	// the resource owner or client on whose behalf a JWT bearer grant asks
	// for a token.
	Subject string
	// Audience is the aud claim, which identifies the authorization
	// server, such as its token endpoint URL. One value is encoded as a
	// JSON string, several as an array.
	Audience []string
	// IssuedAt is the iat claim. The zero time means now.
	IssuedAt time.Time
	// Lifetime is exp minus iat, between one second and MaxLifetime. Zero
	// means DefaultLifetime.
	Lifetime time.Duration
	// ID is the jti claim. Empty means a fresh random value from NewJTI,
	// which is what a client should send.
	ID string
}

// Validate reports the first problem with the claims, or nil.
func (a *Assertion) Validate() error {
	if a.Issuer == "" {
		return errors.New("assertion issuer (iss) is empty")
	}
	if a.Subject == "" {
		return errors.New("assertion subject (sub) is empty")
	}
	if len(a.Audience) == 0 {
		return errors.New("assertion audience (aud) is empty")
	}
	for _, aud := range a.Audience {
		if aud == "" {
			return errors.New("assertion audience (aud) contains an empty value")
		}
	}
	return CheckLifetime(a.Lifetime)
}

// CheckLifetime reports whether d is a valid assertion lifetime: zero
// (DefaultLifetime), or from one second to MaxLifetime.
func CheckLifetime(d time.Duration) error {
	if d != 0 && (d < time.Second || d > MaxLifetime) {
		return fmt.Errorf("assertion lifetime %v is out of range: want 1s to %v", d, MaxLifetime)
	}
	return nil
}

// Sign returns the compact serialisation of the assertion (RFC 7515
// Section 7.1), signed with key. Its header holds alg, typ "JWT" and, when
// the key has one, kid.
func (a Assertion) Sign(key *keys.SigningKey) (string, error) {
	if key == nil {
		return "", errors.New("no signing key is configured")
	}
	if err := a.Validate(); err != nil {
		return "", err
	}
	iat := a.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	lifetime := a.Lifetime
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	jti := a.ID
	if jti == "" {
		var err error
		if jti, err = NewJTI(); err != nil {
			return "", err
		}
	}
	// NumericDate values are whole seconds (RFC 7519 Section 2); exp is
	// computed from the truncated iat so that exp - iat never exceeds the
	// lifetime.
	issued := iat.Unix()
	claims := jwt.MapClaims{
		"iss": a.Issuer,
		"sub": a.Subject,
		"exp": issued + int64(lifetime/time.Second),
		"iat": issued,
		"jti": jti,
	}
	if len(a.Audience) == 1 {
		claims["aud"] = a.Audience[0]
	} else {
		claims["aud"] = append([]string(nil), a.Audience...)
	}
	t := jwt.NewWithClaims(signingMethod(key.Algorithm()), claims)
	if kid := key.KeyID(); kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key.Signer())
	if err != nil {
		return "", fmt.Errorf("sign %s assertion: %w", key.Algorithm(), err)
	}
	return s, nil
}

// signingMethod maps a checked algorithm to golang-jwt's implementation.
func signingMethod(alg keys.Algorithm) jwt.SigningMethod {
	switch alg {
	case keys.PS256:
		return jwt.SigningMethodPS256
	case keys.ES256:
		return jwt.SigningMethodES256
	default:
		return jwt.SigningMethodRS256
	}
}

// NewJTI returns a fresh JWT ID: 128 bits from crypto/rand, base64url
// encoded without padding.
func NewJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// ClientAssertion returns a new signed client assertion for the
// private_key_jwt method (RFC 7523 Section 2.2): iss and sub are clientID,
// aud is audience (the token endpoint URL, or the server's issuer
// identifier if the server asks for it), iat is now and jti is fresh.
// lifetime zero means DefaultLifetime. Send the result as client_assertion
// with client_assertion_type AssertionType.
func ClientAssertion(key *keys.SigningKey, clientID, audience string, lifetime time.Duration) (string, error) {
	if clientID == "" {
		return "", errors.New("client ID is empty")
	}
	if audience == "" {
		return "", errors.New("client assertion audience is empty")
	}
	return Assertion{
		Issuer:   clientID,
		Subject:  clientID,
		Audience: []string{audience},
		Lifetime: lifetime,
	}.Sign(key)
}
