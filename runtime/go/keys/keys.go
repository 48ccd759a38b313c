// Package keys loads the private keys that sign the JWTs a client sends:
// JWT bearer grants (RFC 7523 Section 2.1) and private_key_jwt client
// assertions (RFC 7523 Section 2.2).
//
// [ParsePrivateKey] reads a PEM-encoded RSA key in PKCS#1 ("RSA PRIVATE
// KEY", RFC 8017 Appendix A.1.2) or PKCS#8 ("PRIVATE KEY", RFC 5208) form,
// or an elliptic curve key in SEC 1 ("EC PRIVATE KEY", RFC 5915) or PKCS#8
// form. A [SigningKey] pairs a key with the JWS algorithm that uses it
// (RFC 7518 Section 3.1: RS256, PS256 or ES256) and an optional key ID,
// after checking that the key suits the algorithm. Neither the key nor its
// PEM text ever appears in errors or formatted output.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
)

// Algorithm is a JWS signature algorithm (RFC 7518 Section 3.1).
type Algorithm string

// The algorithms a SigningKey supports.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 Section 3.3).
	RS256 Algorithm = "RS256"
	// PS256 is RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (RFC 7518
	// Section 3.5).
	PS256 Algorithm = "PS256"
	// ES256 is ECDSA on the P-256 curve with SHA-256 (RFC 7518 Section
	// 3.4).
	ES256 Algorithm = "ES256"
)

// MinRSABits is the smallest RSA modulus accepted for RS256 and PS256, as
// RFC 7518 Sections 3.3 and 3.5 require.
const MinRSABits = 2048

// ParseAlgorithm returns the Algorithm named s, such as "RS256".
func ParseAlgorithm(s string) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case RS256, PS256, ES256:
		return a, nil
	}
	return "", fmt.Errorf("unknown JWT signing algorithm %q: want %q, %q or %q", s, RS256, PS256, ES256)
}

// String returns the algorithm's JWS "alg" value.
func (a Algorithm) String() string { return string(a) }

// CheckKey reports whether key can sign with a: an *rsa.PrivateKey of at
// least MinRSABits bits for RS256 and PS256, an *ecdsa.PrivateKey on P-256
// for ES256.
func (a Algorithm) CheckKey(key crypto.PrivateKey) error {
	switch a {
	case RS256, PS256:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA private key, not %s", a, describe(key))
		}
		if bits := k.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("%s needs an RSA key of at least %d bits, not %d bits", a, MinRSABits, bits)
		}
		return nil
	case ES256:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("%s needs an EC P-256 private key, not %s", a, describe(key))
		}
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%s needs an EC P-256 private key, not %s", a, describe(key))
		}
		return nil
	}
	return fmt.Errorf("unknown JWT signing algorithm %q: want %q, %q or %q", string(a), RS256, PS256, ES256)
}

// describe names the type of a key without revealing it.
func describe(key crypto.PrivateKey) string {
	switch k := key.(type) {
	case nil:
		return "no key"
	case *rsa.PrivateKey:
		return "an RSA key"
	case *ecdsa.PrivateKey:
		if k.Curve == nil {
			return "an EC key"
		}
		return "an EC " + k.Curve.Params().Name + " key"
	default:
		return fmt.Sprintf("a %T key", key)
	}
}

// ParsePrivateKey decodes the first private key in PEM data: "RSA PRIVATE
// KEY" (PKCS#1), "EC PRIVATE KEY" (SEC 1) or "PRIVATE KEY" (PKCS#8 holding
// an RSA or EC key). Other PEM blocks before it, such as "EC PARAMETERS"
// or certificates, are skipped. Encrypted keys are rejected: decrypt them
// first, for example with openssl pkey.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	rest := data
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		switch block.Type {
		case "RSA PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("PEM block \"RSA PRIVATE KEY\" is encrypted: decrypt the key first")
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %q is not a PKCS#1 RSA private key: %w", block.Type, err)
			}
			return k, nil
		case "EC PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("PEM block \"EC PRIVATE KEY\" is encrypted: decrypt the key first")
			}
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %q is not a SEC 1 EC private key: %w", block.Type, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %q is not a PKCS#8 private key: %w", block.Type, err)
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				return k, nil
			case *ecdsa.PrivateKey:
				return k, nil
			default:
				return nil, fmt.Errorf("PKCS#8 private key is %s: want an RSA or EC key", describe(k))
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("PEM block \"ENCRYPTED PRIVATE KEY\" is encrypted: decrypt the key first")
		}
	}
	if !sawPEM {
		return nil, errors.New("no PEM data found: want a PEM private key")
	}
	return nil, errors.New("no private key found in PEM data: want a block of type \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\" or \"PRIVATE KEY\"")
}

// LoadPrivateKey reads the file at path and decodes it with
// ParsePrivateKey. Errors name the file, never its content.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// SigningKey is a private key together with the algorithm that signs with
// it and the key ID announced in the JWS "kid" header (RFC 7515 Section
// 4.1.4). Build one with NewSigningKey or LoadSigningKey, which check that
// the key suits the algorithm. A SigningKey is immutable and safe for
// concurrent use.
//
// Formatting a SigningKey or a pointer to one, with any fmt verb or
// through log/slog, shows only its algorithm and key ID.
type SigningKey struct {
	alg   Algorithm
	key   crypto.Signer
	keyID string
}

// NewSigningKey returns a SigningKey for key after checking it with
// alg.CheckKey. keyID may be empty.
func NewSigningKey(alg Algorithm, key crypto.Signer, keyID string) (*SigningKey, error) {
	if err := alg.CheckKey(key); err != nil {
		return nil, err
	}
	return &SigningKey{alg: alg, key: key, keyID: keyID}, nil
}

// LoadSigningKey reads a PEM private key file with LoadPrivateKey and
// returns it as a SigningKey for alg.
func LoadSigningKey(path string, alg Algorithm, keyID string) (*SigningKey, error) {
	key, err := LoadPrivateKey(path)
	if err != nil {
		return nil, err
	}
	k, err := NewSigningKey(alg, key, keyID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Algorithm returns the JWS algorithm the key signs with.
func (k *SigningKey) Algorithm() Algorithm { return k.alg }

// KeyID returns the key ID, or "" when none was given.
func (k *SigningKey) KeyID() string { return k.keyID }

// Signer returns the private key: an *rsa.PrivateKey or an
// *ecdsa.PrivateKey.
func (k *SigningKey) Signer() crypto.Signer { return k.key }

// Public returns the public key that verifies the key's signatures.
func (k *SigningKey) Public() crypto.PublicKey { return k.key.Public() }

// String describes the key without revealing it, such as
// `ES256 signing key (kid "key-1")`.
func (k SigningKey) String() string {
	s := string(k.alg) + " signing key"
	if k.keyID != "" {
		s += " (kid " + strconv.Quote(k.keyID) + ")"
	}
	return s
}

// Format implements fmt.Formatter so that every verb, including %#v and
// %+v, prints String instead of the key material.
func (k SigningKey) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, k.String())
}

// LogValue implements slog.LogValuer so that structured logs record only
// the description.
func (k SigningKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
