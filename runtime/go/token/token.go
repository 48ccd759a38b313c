// Package token defines the OAuth 2.0 token that coyotegen runtime flows
// obtain, and the [Source] interface through which API clients get one.
//
// A [Token] is the parsed form of a successful token response (RFC 6749
// Section 5.1). Credential fields are [secret.Secret] values, so printing or
// logging a Token never reveals them.
package token

import (
	"context"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
)

// TypeBearer is the canonical spelling of the bearer token type (RFC 6750
// Section 6.1.1), used in Authorization headers.
const TypeBearer = "Bearer"

// Token is an access token and the data that came with it.
//
// A Token is immutable once a flow has returned it: code that holds one may
// share it between goroutines but must not modify it.
type Token struct {
	// AccessToken is the token sent to resource servers.
	AccessToken secret.Secret
	// TokenType is the token type (RFC 6749 Section 7.1). Flows store
	// bearer tokens as "Bearer".
	TokenType string
	// RefreshToken is the refresh token, if the server issued one.
	RefreshToken secret.Secret
	// IDToken is the OpenID Connect ID token, if the server issued one.
	IDToken secret.Secret
	// ExpiresAt is when the access token expires, computed from the
	// response's expires_in. The zero time means the server gave no
	// lifetime.
	ExpiresAt time.Time
	// Scopes are the scopes granted (RFC 6749 Section 3.3): the response's
	// scope parameter, or the requested scopes when the response left it
	// out.
	Scopes []string
}

// AuthorizationHeader returns the value of the Authorization header that
// presents the access token (RFC 6750 Section 2.1), such as
// "Bearer mF_9.B5f-4.1JqM". Bearer tokens always use the canonical "Bearer"
// spelling, whatever case the server used.
func (t *Token) AuthorizationHeader() string {
	typ := t.TokenType
	if typ == "" || strings.EqualFold(typ, TypeBearer) {
		typ = TypeBearer
	}
	return typ + " " + t.AccessToken.Reveal()
}

// Expired reports whether the access token has expired at now. A nil token
// is expired; a token without an expiry time never expires.
func (t *Token) Expired(now time.Time) bool {
	if t == nil {
		return true
	}
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// NeedsRefresh reports whether the access token expires within buffer of
// now, so that a new token should be obtained before the old one is
// rejected. A nil token needs refreshing; a token without an expiry time
// never does.
func (t *Token) NeedsRefresh(now time.Time, buffer time.Duration) bool {
	if t == nil {
		return true
	}
	return !t.ExpiresAt.IsZero() && !now.Add(buffer).Before(t.ExpiresAt)
}

// String summarises the token without revealing any credential, such as
//
//	Bearer token, expires 2026-01-02T15:04:05Z, scopes "trading market-data", refresh token
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	var b strings.Builder
	typ := t.TokenType
	if typ == "" {
		typ = "untyped"
	}
	b.WriteString(typ)
	b.WriteString(" token")
	if t.AccessToken.IsZero() {
		b.WriteString(" (empty)")
	}
	if t.ExpiresAt.IsZero() {
		b.WriteString(", no expiry")
	} else {
		b.WriteString(", expires ")
		b.WriteString(t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if len(t.Scopes) > 0 {
		b.WriteString(`, scopes "`)
		b.WriteString(strings.Join(t.Scopes, " "))
		b.WriteString(`"`)
	}
	if !t.RefreshToken.IsZero() {
		b.WriteString(", refresh token")
	}
	if !t.IDToken.IsZero() {
		b.WriteString(", ID token")
	}
	return b.String()
}

// Source supplies tokens to API clients.
//
// Token returns a token that is valid for at least the implementation's
// refresh buffer, obtaining a new one when needed. Implementations must be
// safe for concurrent use by multiple goroutines, must honour ctx while
// waiting, and must not hold a lock that blocks other callers during a
// network request. The returned token must not be modified.
type Source interface {
	Token(ctx context.Context) (*Token, error)
}
