package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// JWTBearerGrantType is the grant_type of the JWT bearer authorization
// grant (RFC 7523 Section 2.1).
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// PublicKey is a public key that verifies JWTs signed by a client or a
// trusted issuer.
type PublicKey struct {
	// KeyID is the key's kid. A JWT that names a kid in its header is
	// checked against the key with that ID only. Empty means the JWK
	// thumbprint of the key (RFC 7638).
	KeyID string
	// Key is an *rsa.PublicKey (at least 2048 bits) or an
	// *ecdsa.PublicKey on P-256.
	Key crypto.PublicKey
}

// jsonWebKey checks k and returns it as a JWK for signatures.
func (k PublicKey) jsonWebKey() (jose.JSONWebKey, error) {
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < 2048 {
			return jose.JSONWebKey{}, fmt.Errorf("RSA key has %d bits: want at least 2048", key.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return jose.JSONWebKey{}, fmt.Errorf("EC key on %s: want P-256", key.Curve.Params().Name)
		}
	case nil:
		return jose.JSONWebKey{}, errors.New("public key is missing")
	default:
		return jose.JSONWebKey{}, fmt.Errorf("public key of type %T: want *rsa.PublicKey or *ecdsa.PublicKey", k.Key)
	}
	jwk := jose.JSONWebKey{Key: k.Key, KeyID: k.KeyID, Use: "sig"}
	if jwk.KeyID == "" {
		thumb, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return jose.JSONWebKey{}, err
		}
		jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	}
	return jwk, nil
}

// TrustedIssuer lets the holder of a key obtain access tokens with the JWT
// bearer authorization grant (RFC 7523 Section 2.1): an assertion whose
// iss is Issuer, whose sub is Subject (or anything, with AnySubject), and
// that Key verifies.
type TrustedIssuer struct {
	// Issuer is the iss claim the assertion must carry.
	Issuer string
	// Subject is the sub claim the assertion must carry, the resource
	// owner on whose behalf the token is issued. Set exactly one of
	// Subject and AnySubject.
	Subject string
	// AnySubject lets the issuer assert any subject.
	AnySubject bool
	// Key verifies the assertion's signature.
	Key PublicKey
	// Scopes are the scopes the issuer may request; requesting any other
	// fails with invalid_scope.
	Scopes []string
	// ExpiresAt ends the trust: assertions are refused with invalid_grant
	// from then on. Zero means never.
	ExpiresAt time.Time
}

// DefaultIssuers returns the trusted issuers that conformance tests use:
//
//   - "conformance-issuer", any subject, with the RSA test key (kid
//     [RSATestKeyID]) and, separately, the EC test key (kid [ECTestKeyID]),
//     both allowed "trading", "market-data", "analytics" and "portfolio";
//   - "restricted-issuer", subject [Subject] only, with the RSA test key,
//     allowed "trading" only.
func DefaultIssuers() []TrustedIssuer {
	rsaKey := PublicKey{KeyID: RSATestKeyID, Key: RSATestKey().Public()}
	ecKey := PublicKey{KeyID: ECTestKeyID, Key: ECTestKey().Public()}
	return []TrustedIssuer{
		{Issuer: "conformance-issuer", AnySubject: true, Key: rsaKey, Scopes: defaultScopes()},
		{Issuer: "conformance-issuer", AnySubject: true, Key: ecKey, Scopes: defaultScopes()},
		{Issuer: "restricted-issuer", Subject: Subject, Key: rsaKey, Scopes: []string{"trading"}},
	}
}

// trustedKey is a TrustedIssuer checked and ready for lookups.
type trustedKey struct {
	issuer     string
	subject    string
	anySubject bool
	key        jose.JSONWebKey
	scopes     []string
	expiresAt  time.Time
}

func newTrustedKey(ti TrustedIssuer) (trustedKey, error) {
	if ti.Issuer == "" {
		return trustedKey{}, errors.New("trusted issuer has an empty Issuer")
	}
	if (ti.Subject == "") == !ti.AnySubject {
		return trustedKey{}, fmt.Errorf("trusted issuer %q: set exactly one of Subject and AnySubject", ti.Issuer)
	}
	jwk, err := ti.Key.jsonWebKey()
	if err != nil {
		return trustedKey{}, fmt.Errorf("trusted issuer %q: %w", ti.Issuer, err)
	}
	return trustedKey{
		issuer:     ti.Issuer,
		subject:    ti.Subject,
		anySubject: ti.AnySubject,
		key:        jwk,
		scopes:     slices.Clone(ti.Scopes),
		expiresAt:  ti.ExpiresAt,
	}, nil
}

func (t *trustedKey) trusts(issuer, subject string, now time.Time) bool {
	return t.issuer == issuer &&
		(t.anySubject || t.subject == subject) &&
		(t.expiresAt.IsZero() || now.Before(t.expiresAt))
}

// memoryStore is fosite's in-memory storage with a key storage for the JWT
// bearer grant (rfc7523.RFC7523KeyStorage) that also knows issuers trusted
// for any subject and trusts that expire, which storage.MemoryStore does
// not. The trusted keys are fixed at start-up, so lookups need no lock.
type memoryStore struct {
	*storage.MemoryStore
	trusted []trustedKey
}

// GetPublicKey returns the key with keyID trusted for issuer and subject.
func (s *memoryStore) GetPublicKey(_ context.Context, issuer, subject, keyID string) (*jose.JSONWebKey, error) {
	now := time.Now()
	for i := range s.trusted {
		if t := &s.trusted[i]; t.trusts(issuer, subject, now) && t.key.KeyID == keyID {
			key := t.key
			return &key, nil
		}
	}
	return nil, fosite.ErrNotFound
}

// GetPublicKeys returns every key trusted for issuer and subject.
func (s *memoryStore) GetPublicKeys(_ context.Context, issuer, subject string) (*jose.JSONWebKeySet, error) {
	now := time.Now()
	var set jose.JSONWebKeySet
	for i := range s.trusted {
		if t := &s.trusted[i]; t.trusts(issuer, subject, now) {
			set.Keys = append(set.Keys, t.key)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fosite.ErrNotFound
	}
	return &set, nil
}

// GetPublicKeyScopes returns the scopes of the key with keyID trusted for
// issuer and subject.
func (s *memoryStore) GetPublicKeyScopes(_ context.Context, issuer, subject, keyID string) ([]string, error) {
	now := time.Now()
	for i := range s.trusted {
		if t := &s.trusted[i]; t.trusts(issuer, subject, now) && t.key.KeyID == keyID {
			return slices.Clone(t.scopes), nil
		}
	}
	return nil, fosite.ErrNotFound
}
