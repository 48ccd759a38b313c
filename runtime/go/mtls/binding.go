package mtls

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// CodeInvalidToken is the error code of a token bound to another
// certificate: the code a resource server answers with when it rejects
// such a token (RFC 8705 Section 3, RFC 6750 Section 3.1).
const CodeInvalidToken = "invalid_token"

// BindingError reports a certificate-bound access token whose
// confirmation names another certificate than the one the client
// presents (RFC 8705 Section 3). Thumbprints are not secret.
type BindingError struct {
	// Bound is the token's x5t#S256 confirmation value.
	Bound string
	// Presented is the x5t#S256 thumbprint of the client certificate in
	// use.
	Presented string
}

// Error describes the mismatch.
func (e *BindingError) Error() string {
	return "access token is bound to the certificate with x5t#S256 " + e.Bound +
		", but the client presents " + e.Presented
}

// Confirmation is the "cnf" (confirmation) claim of a JWT access token
// (RFC 7800 Section 3.1) or member of an introspection response (RFC 8705
// Section 3.2), as far as mutual TLS uses it.
type Confirmation struct {
	// X5tS256 is the SHA-256 thumbprint of the certificate the token is
	// bound to (RFC 8705 Section 3.1), or empty.
	X5tS256 string `json:"x5t#S256,omitempty"`
}

// TokenConfirmation returns the x5t#S256 confirmation of an access token
// that is a JWT (RFC 8705 Section 3.1), and false when the token is not a
// JWT or carries no such confirmation: opaque tokens are checked through
// introspection instead. It reads the claims without verifying the
// signature; the client only compares the value with its own certificate,
// and the resource server verifies the token.
func TokenConfirmation(accessToken string) (string, bool) {
	// A JWS in compact serialisation has three parts (RFC 7515 Section
	// 7.1); a JWE has five and cannot be read by the client.
	header, rest, ok := strings.Cut(accessToken, ".")
	if !ok || header == "" {
		return "", false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil || len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return "", false
	}
	var claims struct {
		Cnf *Confirmation `json:"cnf"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Cnf == nil || claims.Cnf.X5tS256 == "" {
		return "", false
	}
	return claims.Cnf.X5tS256, true
}

// CheckToken checks that t, if its access token is a JWT bound to a
// certificate (RFC 8705 Section 3.1), is bound to the certificate in use.
// A token without such a confirmation passes. op names the operation in
// the error, which is an [*oautherr.Error] with code "invalid_token"
// wrapping a [*BindingError].
func (c *ClientCertificate) CheckToken(op string, t *token.Token) error {
	if t == nil {
		return nil
	}
	bound, ok := TokenConfirmation(t.AccessToken.Reveal())
	if !ok {
		return nil
	}
	return CheckBinding(op, bound, c.Thumbprint())
}

// CheckConfirmation checks the "cnf" member of an introspection response
// (RFC 8705 Section 3.2) against the certificate in use. An empty value,
// meaning a token that is not certificate-bound, passes.
func (c *ClientCertificate) CheckConfirmation(op string, x5tS256 string) error {
	if x5tS256 == "" {
		return nil
	}
	return CheckBinding(op, x5tS256, c.Thumbprint())
}

// CheckBinding compares a token's x5t#S256 confirmation value with the
// thumbprint of the presented certificate, ignoring base64 padding, and
// returns an [*oautherr.Error] with code "invalid_token" wrapping a
// [*BindingError] when they differ.
func CheckBinding(op, bound, presented string) error {
	if strings.TrimRight(bound, "=") == strings.TrimRight(presented, "=") {
		return nil
	}
	berr := &BindingError{Bound: bound, Presented: presented}
	return &oautherr.Error{
		Op:          op,
		Code:        CodeInvalidToken,
		Description: "the access token is bound to another client certificate (RFC 8705 Section 3)",
		Err:         berr,
	}
}
