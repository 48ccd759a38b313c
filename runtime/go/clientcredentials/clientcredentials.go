// Package clientcredentials implements the OAuth 2.0 client credentials
// grant (RFC 6749 Section 4.4), in which a confidential client obtains an
// access token for itself with its own credentials.
//
// A [Source] requests tokens from the token endpoint (RFC 6749 Section
// 4.4.2) and keeps the current one valid with package tokenrefresh:
// serving a cached token takes no lock and allocates nothing, the
// replacement is requested in the background before the token expires,
// concurrent callers share one request, and transient failures are
// retried with backoff. As RFC 6749 Section 4.4.3 advises, the server
// issues no refresh token for this grant, so a Source obtains a
// replacement by repeating the grant.
package clientcredentials

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// Operation is the operation id that errors from this package carry in
// oautherr.Error.Op.
const Operation = "authenticate_client_credentials"

// DefaultRefreshBuffer is the refresh buffer used when Config.RefreshBuffer
// is zero: the spec's default refresh_buffer_seconds.
const DefaultRefreshBuffer = tokenrefresh.DefaultRefreshBuffer

// DefaultRequestTimeout bounds each token request when
// Config.RequestTimeout is zero: the spec's default timeout_ms.
const DefaultRequestTimeout = tokenrefresh.DefaultRequestTimeout

// Config configures a Source.
type Config struct {
	// Endpoint is the token endpoint and the client's credentials.
	Endpoint *tokenendpoint.Endpoint
	// Scopes are requested with every token (RFC 6749 Section 3.3). Nil
	// requests the server's default scope.
	Scopes []string
	// RefreshBuffer is how long before expiry the token is replaced, in
	// the background. Zero means DefaultRefreshBuffer;
	// tokenrefresh.NoRefreshBuffer turns early refresh off. The buffer is
	// capped at half of a token's lifetime.
	RefreshBuffer time.Duration
	// RequestTimeout bounds each token request, so that a server that
	// never answers cannot hold callers (the spec's timeout_ms). Zero
	// means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Retry says which failed requests are retried and how soon (the
	// spec's max_retries). Its zero value retries nothing.
	Retry retry.Policy
	// Storage, if set, keeps the token across restarts.
	Storage tokenstore.Store
	// StorageKey is the key of the token in Storage. Empty means
	// StorageKey(Endpoint, Scopes).
	StorageKey string
}

// StorageKey returns the default key under which a Source keeps its token
// in storage: the grant, client id, token endpoint and scopes, so that
// clients sharing a store do not share tokens.
func StorageKey(ep *tokenendpoint.Endpoint, scopes []string) string {
	if ep == nil {
		return "client_credentials"
	}
	return "client_credentials " + ep.ClientID + " " + ep.URL + " " + strings.Join(scopes, " ")
}

// Validate reports the first configuration error in c, or nil.
func (c *Config) Validate() error {
	if c.Endpoint == nil {
		return errors.New("token endpoint is not configured")
	}
	if err := c.Endpoint.Validate(); err != nil {
		return err
	}
	if c.Endpoint.ClientSecret.IsZero() {
		return errors.New("client secret is empty: the client credentials grant needs a confidential client")
	}
	if c.RefreshBuffer < 0 && c.RefreshBuffer != tokenrefresh.NoRefreshBuffer {
		return errors.New("refresh buffer is negative")
	}
	if c.RequestTimeout < 0 {
		return errors.New("request timeout is negative")
	}
	if err := c.Retry.Validate(); err != nil {
		return err
	}
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			return fmt.Errorf("scope %q is not a valid scope token (RFC 6749 Section 3.3)", s)
		}
	}
	return nil
}

// Source obtains and renews client credentials tokens. It implements
// token.Source. Create one with New; a Source is safe for concurrent use.
type Source struct {
	cfg       Config
	configErr error
	tokens    *tokenrefresh.Source
}

var _ token.Source = (*Source)(nil)

// New returns a Source for cfg. Configuration errors are reported by the
// first call to Token or Authenticate. New copies cfg.Scopes; the Endpoint
// must not be modified afterwards.
func New(cfg Config) *Source {
	cfg.Scopes = append([]string(nil), cfg.Scopes...)
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Storage != nil && cfg.StorageKey == "" {
		cfg.StorageKey = StorageKey(cfg.Endpoint, cfg.Scopes)
	}
	s := &Source{cfg: cfg}
	if err := cfg.Validate(); err != nil {
		s.configErr = &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	s.tokens = tokenrefresh.New(tokenrefresh.Config{
		Op:             Operation,
		Fetch:          s.fetch,
		RefreshBuffer:  cfg.RefreshBuffer,
		RequestTimeout: cfg.RequestTimeout,
		Retry:          cfg.Retry,
		Storage:        cfg.Storage,
		StorageKey:     cfg.StorageKey,
	})
	return s
}

// Token returns the cached token while it is valid, and otherwise requests
// a new one with the configured scopes. On a valid cached token it takes no
// lock, allocates nothing and reads no clock.
//
// The token is replaced in the background from RefreshBuffer before its
// expiry, so callers keep getting it meanwhile; if that early request
// fails, they still do and the request is retried after a backoff delay.
// Without a valid token, however many goroutines call Token, only one
// request is sent (with its retries) and they all receive its result. The
// request is not tied to any caller's context, so one caller giving up
// does not fail the others; each caller stops waiting when its own ctx
// ends and then gets an error with code "canceled" that wraps ctx.Err().
func (s *Source) Token(ctx context.Context) (*token.Token, error) {
	if s.configErr != nil {
		return nil, s.configErr
	}
	return s.tokens.Token(ctx)
}

// fetch is the tokenrefresh.FetchFunc: the grant with the configured
// scopes.
func (s *Source) fetch(ctx context.Context) (*token.Token, error) {
	return s.exchange(ctx, s.cfg.Scopes)
}

// Authenticate requests a new token with the given scopes, or with the
// configured scopes when scopes is nil, stores it as the current token and
// returns it. Unlike Token it always sends a request, bounded by ctx and
// retried under the Retry policy.
func (s *Source) Authenticate(ctx context.Context, scopes []string) (*token.Token, error) {
	if s.configErr != nil {
		return nil, s.configErr
	}
	if scopes == nil {
		scopes = s.cfg.Scopes
	}
	tok, err := retry.Do(ctx, s.cfg.Retry, func(ctx context.Context) (*token.Token, error) {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		return s.exchange(ctx, scopes)
	})
	if err != nil {
		return nil, err
	}
	if err := s.tokens.Set(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// Current returns the cached token, even if it has expired, or nil when
// there is none. It sends no request.
func (s *Source) Current() *token.Token { return s.tokens.Current() }

// Invalidate records that a resource server rejected tok as invalid (RFC
// 6750 Section 3.1), so that the next Token call requests a new token. It
// does nothing when tok has already been replaced, so many requests
// rejected at once cause one new token; it reports whether it invalidated
// tok.
func (s *Source) Invalidate(tok *token.Token) bool { return s.tokens.Invalidate(tok) }

// Clear discards the cached token, so that the next Token call requests a
// new one. Storage is left alone.
func (s *Source) Clear() { s.tokens.Clear() }

// Delete discards the cached token and removes it from storage.
func (s *Source) Delete(ctx context.Context) error { return s.tokens.Delete(ctx) }

// exchange sends the access token request of RFC 6749 Section 4.4.2.
func (s *Source) exchange(ctx context.Context, scopes []string) (*token.Token, error) {
	if s.configErr != nil {
		return nil, s.configErr
	}
	if err := ctx.Err(); err != nil {
		return nil, canceled(ctx)
	}
	params := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	return s.cfg.Endpoint.Exchange(ctx, Operation, params)
}

func canceled(ctx context.Context) error {
	return &oautherr.Error{
		Op:          Operation,
		Code:        oautherr.CodeCanceled,
		Description: "context ended before a token was obtained",
		Err:         context.Cause(ctx),
	}
}

// validScopeToken reports whether s matches scope-token of RFC 6749
// Section 3.3: one or more of %x21 / %x23-5B / %x5D-7E.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
