// Package revocation is a client for the OAuth 2.0 token revocation
// endpoint (RFC 7009).
//
// [Endpoint.Revoke] asks the authorization server to invalidate an access
// or refresh token (RFC 7009 Section 2.1), authenticating the client as it
// does at the token endpoint. The server answers 200 whether or not it
// knew the token (Section 2.2), since the purpose, an unusable token, is
// achieved either way; everything else becomes an [*oautherr.Error],
// including "unsupported_token_type" (Section 2.2.1) and, for 503 and
// other 5xx answers (Section 2.2.1), a retryable "server_error" that
// carries the server's Retry-After.
package revocation

import (
	"context"
	"errors"
	"net/url"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// Operation is the operation id that errors from this package carry in
// oautherr.Error.Op.
const Operation = "revoke_token"

// Token type hints of RFC 7009 Section 2.1. Servers may register others.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// CodeUnsupportedTokenType is the error a server returns when it cannot
// revoke tokens of the given type (RFC 7009 Section 2.2.1).
const CodeUnsupportedTokenType = "unsupported_token_type"

// Endpoint is a revocation endpoint and the client that calls it. It must
// not be modified while Revoke calls are running; otherwise it is safe for
// concurrent use.
type Endpoint struct {
	// URL is the absolute URL of the revocation endpoint.
	URL string
	// TokenEndpoint is the client's token endpoint configuration: the
	// client authenticates at the revocation endpoint exactly as at the
	// token endpoint (RFC 7009 Section 2.1), with its client_id, auth
	// method, credentials, HTTP client and error classification.
	TokenEndpoint *tokenendpoint.Endpoint
}

// Validate reports the first configuration error in e, or nil.
func (e *Endpoint) Validate() error {
	if e == nil {
		return errors.New("revocation endpoint URL is empty")
	}
	if err := tokenendpoint.CheckEndpointURL("revocation endpoint", e.URL); err != nil {
		return err
	}
	if e.TokenEndpoint == nil {
		return errors.New("revocation endpoint has no client configuration")
	}
	return nil
}

// Revoke asks the server to revoke tok. hint is the token_type_hint
// (HintAccessToken, HintRefreshToken, or "" for none); servers use it only
// to speed up their lookup. A nil error means the token is no longer
// usable, including when the server did not know it.
//
// Every error is an [*oautherr.Error]: the server's error response, such as
// "invalid_client" or "unsupported_token_type", or one of the coyotegen
// codes "invalid_config", "network_error", "canceled", "server_error" and
// "temporarily_unavailable". Errors never contain the token.
func (e *Endpoint) Revoke(ctx context.Context, tok secret.Secret, hint string) error {
	if err := e.Validate(); err != nil {
		return &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	if tok.IsZero() {
		return &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: "no token to revoke"}
	}
	params := url.Values{"token": {tok.Reveal()}}
	if hint != "" {
		params.Set("token_type_hint", hint)
	}
	// RFC 7009 Section 2.2: the content of a 200 response is ignored.
	_, _, err := e.TokenEndpoint.Post(ctx, Operation, e.URL, params)
	return err
}
