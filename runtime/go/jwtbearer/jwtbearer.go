// Package jwtbearer implements the JWT bearer authorization grant of RFC
// 7523 Section 2.1 (the assertion framework of RFC 7521 Section 4.1): the
// client signs a short-lived JWT that names a subject and trades it at the
// token endpoint for an access token.
//
// Each request carries a new assertion (see [clientauth.Assertion]) with
// iss, sub, aud, exp, iat and a fresh jti, signed with an RS256, PS256 or
// ES256 key loaded by package keys. The client may additionally
// authenticate itself with any method of [tokenendpoint.AuthMethod]; RFC
// 7521 Section 4.1 makes that optional, so [tokenendpoint.None] (client_id
// in the body, nothing else) is allowed.
package jwtbearer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clientauth"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// GrantType is the grant_type value of the JWT bearer grant (RFC 7523
// Section 2.1).
const GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Operation is the operation id that errors from this package carry in
// oautherr.Error.Op.
const Operation = "authenticate_jwt_bearer"

// Config configures the JWT bearer grant. Its methods are safe for
// concurrent use as long as the Config is not modified.
type Config struct {
	// Endpoint is the token endpoint and the client's own
	// authentication. Its ClientID is the default subject.
	Endpoint *tokenendpoint.Endpoint
	// Key signs the assertions.
	Key *keys.SigningKey
	// Issuer is the iss claim (configuration field jwt_issuer): who
	// issued the assertion, often the client_id or a trusted issuer that
	// the server has registered with the key (RFC 7523 Section 3, item 1).
	Issuer string
	// Audience is the aud claim (jwt_audience). Empty means the token
	// endpoint URL, which RFC 7523 Section 3 (item 3) names as a value that
	// identifies the authorization server and which ory/fosite requires;
	// set it to the issuer identifier for servers that expect that.
	Audience string
	// Lifetime is exp minus iat (jwt_lifetime_seconds), from one second to
	// clientauth.MaxLifetime (60 s). Zero means clientauth.DefaultLifetime.
	Lifetime time.Duration
	// Scopes are requested when Exchange is given none (RFC 6749 Section
	// 3.3). Nil requests the server's default scope.
	Scopes []string
}

// Validate reports the first configuration error in c, or nil.
func (c *Config) Validate() error {
	if c.Endpoint == nil {
		return errors.New("token endpoint is not configured")
	}
	if err := c.Endpoint.Validate(); err != nil {
		return err
	}
	if c.Key == nil {
		return errors.New("no signing key: the JWT bearer grant signs its assertion")
	}
	if c.Issuer == "" {
		return errors.New("JWT issuer is empty: the assertion needs an iss claim")
	}
	if err := clientauth.CheckLifetime(c.Lifetime); err != nil {
		return err
	}
	return checkScopes(c.Scopes)
}

// Assertion returns a newly signed grant assertion for subject, or for
// the client ID when subject is empty.
func (c *Config) Assertion(subject string) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	return c.assertion(subject)
}

func (c *Config) assertion(subject string) (string, error) {
	if subject == "" {
		subject = c.Endpoint.ClientID
	}
	aud := c.Audience
	if aud == "" {
		aud = c.Endpoint.URL
	}
	return clientauth.Assertion{
		Issuer:   c.Issuer,
		Subject:  subject,
		Audience: []string{aud},
		Lifetime: c.Lifetime,
	}.Sign(c.Key)
}

// Exchange signs a new assertion for subject (the client ID when empty)
// and sends the access token request of RFC 7523 Section 2.1 with the
// given scopes, or the configured ones when scopes is nil. Errors are
// *oautherr.Error values with Op set to Operation; a rejected assertion
// comes back from the server as "invalid_grant" (RFC 7523 Section 3.1).
func (c *Config) Exchange(ctx context.Context, subject string, scopes []string) (*token.Token, error) {
	if err := c.Validate(); err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	if scopes == nil {
		scopes = c.Scopes
	} else if err := checkScopes(scopes); err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidRequest, Description: err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeCanceled, Description: "context ended before the token request was sent", Err: context.Cause(ctx)}
	}
	assertion, err := c.assertion(subject)
	if err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: "cannot sign the grant assertion", Err: err}
	}
	params := url.Values{
		"grant_type": {GrantType},
		"assertion":  {assertion},
	}
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	return c.Endpoint.Exchange(ctx, Operation, params)
}

// checkScopes reports a scope that is not a scope-token of RFC 6749
// Section 3.3: one or more of %x21 / %x23-5B / %x5D-7E.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" {
			return errors.New("scope is empty")
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return fmt.Errorf("scope %q is not a valid scope token (RFC 6749 Section 3.3)", s)
			}
		}
	}
	return nil
}
