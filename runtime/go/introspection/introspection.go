// Package introspection is a client for the OAuth 2.0 token introspection
// endpoint (RFC 7662).
//
// [Endpoint.Introspect] asks the authorization server whether a token is
// active and what it grants (RFC 7662 Section 2.1), authenticating the
// client as it does at the token endpoint, and returns the parsed
// [Response] (Section 2.2), including the "cnf" confirmation of a
// certificate-bound token (RFC 8705 Section 3.2). Error responses (Section
// 2.3), network failures and malformed or oversized bodies become an
// [*oautherr.Error].
package introspection

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
const Operation = "introspect_token"

// Token type hints of RFC 7662 Section 2.1 (the values of RFC 7009).
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// Endpoint is an introspection endpoint and the client that calls it. It
// must not be modified while Introspect calls are running; otherwise it
// is safe for concurrent use.
type Endpoint struct {
	// URL is the absolute URL of the introspection endpoint.
	URL string
	// TokenEndpoint is the client's token endpoint configuration: the
	// client authenticates at the introspection endpoint as at the token
	// endpoint (RFC 7662 Section 2.1), with its client_id, auth method,
	// credentials, HTTP client and error classification.
	TokenEndpoint *tokenendpoint.Endpoint
}

// Validate reports the first configuration error in e, or nil.
func (e *Endpoint) Validate() error {
	if e == nil {
		return errors.New("introspection endpoint URL is empty")
	}
	if err := tokenendpoint.CheckEndpointURL("introspection endpoint", e.URL); err != nil {
		return err
	}
	if e.TokenEndpoint == nil {
		return errors.New("introspection endpoint has no client configuration")
	}
	return nil
}

// Introspect asks the server about tok. hint is the token_type_hint
// (HintAccessToken, HintRefreshToken, or "" for none). An inactive,
// unknown, expired or revoked token is not an error: the Response has
// Active false.
//
// Every error is an [*oautherr.Error]: the server's error response, such as
// "invalid_client", or one of the coyotegen codes "invalid_config",
// "network_error", "canceled", "invalid_response", "server_error" and
// "temporarily_unavailable". Errors never contain the token.
func (e *Endpoint) Introspect(ctx context.Context, tok secret.Secret, hint string) (*Response, error) {
	if err := e.Validate(); err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	if tok.IsZero() {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: "no token to introspect"}
	}
	params := url.Values{"token": {tok.Reveal()}}
	if hint != "" {
		params.Set("token_type_hint", hint)
	}
	status, body, err := e.TokenEndpoint.Post(ctx, Operation, e.URL, params)
	if err != nil {
		return nil, err
	}
	r, err := parseResponse(body)
	if err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidResponse, StatusCode: status, Description: err.Error()}
	}
	return r, nil
}
