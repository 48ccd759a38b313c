// Package clientcredentials implements the OAuth 2.0 client credentials
// grant (RFC 6749 Section 4.4), in which a confidential client obtains an
// access token for itself with its own credentials.
//
// A [Source] requests tokens from the token endpoint (RFC 6749 Section
// 4.4.2), caches the current one, and shares a single request among all
// callers that need a new token at the same time. Serving a cached token
// takes no lock and allocates nothing. As RFC 6749 Section 4.4.3 advises,
// the server issues no refresh token for this grant, so a Source obtains a
// replacement by repeating the grant.
package clientcredentials

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokencache"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// Operation is the operation id that errors from this package carry in
// oautherr.Error.Op.
const Operation = "authenticate_client_credentials"

// DefaultRefreshBuffer is the refresh buffer used when Config.RefreshBuffer
// is zero.
const DefaultRefreshBuffer = 10 * time.Second

// DefaultFetchTimeout bounds a shared token request when
// Config.FetchTimeout is zero.
const DefaultFetchTimeout = 30 * time.Second

// Config configures a Source.
type Config struct {
	// Endpoint is the token endpoint and the client's credentials.
	Endpoint *tokenendpoint.Endpoint
	// Scopes are requested with every token (RFC 6749 Section 3.3). Nil
	// requests the server's default scope.
	Scopes []string
	// RefreshBuffer is how long before expiry a cached token is replaced.
	// Zero means DefaultRefreshBuffer. The buffer is capped at half of a
	// token's lifetime.
	RefreshBuffer time.Duration
	// FetchTimeout bounds a token request that Token shares between
	// callers, since no single caller's context governs it. Zero means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
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
	if c.RefreshBuffer < 0 {
		return errors.New("refresh buffer is negative")
	}
	if c.FetchTimeout < 0 {
		return errors.New("fetch timeout is negative")
	}
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			return fmt.Errorf("scope %q is not a valid scope token (RFC 6749 Section 3.3)", s)
		}
	}
	return nil
}

// Source obtains and caches client credentials tokens. It implements
// token.Source. Create one with New; a Source is safe for concurrent use.
type Source struct {
	cfg       Config
	configErr error
	cache     tokencache.Cache

	mu     sync.Mutex
	flight *fetch // the shared request in progress, or nil
}

// fetch is one token request shared by every caller that waits for it.
// tok and err are written before done is closed.
type fetch struct {
	done chan struct{}
	tok  *token.Token
	err  error
}

var _ token.Source = (*Source)(nil)

// New returns a Source for cfg. Configuration errors are reported by the
// first call to Token or Authenticate. New copies cfg.Scopes; the Endpoint
// must not be modified afterwards.
func New(cfg Config) *Source {
	cfg.Scopes = append([]string(nil), cfg.Scopes...)
	if cfg.RefreshBuffer == 0 {
		cfg.RefreshBuffer = DefaultRefreshBuffer
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	s := &Source{cfg: cfg}
	if err := cfg.Validate(); err != nil {
		s.configErr = &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	s.cache.ExpiryBuffer = cfg.RefreshBuffer
	return s
}

// Token returns the cached token until it enters its refresh buffer, and
// otherwise requests a new one with the configured scopes.
//
// However many goroutines call Token while no valid token is cached, only
// one request is sent and they all receive its result. The request is not
// tied to any caller's context, so one caller giving up does not fail the
// others; each caller stops waiting when its own ctx ends and then gets an
// error with code "canceled" that wraps ctx.Err(). Failed requests are not
// cached: the next call tries again.
func (s *Source) Token(ctx context.Context) (*token.Token, error) {
	if t := s.cache.Load(); t != nil {
		return t, nil
	}
	if s.configErr != nil {
		return nil, s.configErr
	}
	t, f := s.join(ctx)
	if t != nil {
		return t, nil
	}
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, canceled(ctx)
	}
}

// join returns the cached token if one was stored since the caller looked,
// and otherwise the shared request in progress, starting one if needed.
func (s *Source) join(ctx context.Context) (*token.Token, *fetch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.cache.Load(); t != nil {
		return t, nil
	}
	if s.flight == nil {
		s.flight = &fetch{done: make(chan struct{})}
		go s.run(context.WithoutCancel(ctx), s.flight)
	}
	return nil, s.flight
}

// run performs the shared request f and publishes its result. Storing the
// token and retiring f happen under s.mu, so a caller either finds the new
// token in the cache or joins f.
func (s *Source) run(ctx context.Context, f *fetch) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	tok, err := s.exchange(ctx, s.cfg.Scopes)
	var oerr *oautherr.Error
	if errors.As(err, &oerr) && oerr.Code == oautherr.CodeCanceled {
		// No caller canceled this request: it ran out of FetchTimeout.
		err = &oautherr.Error{
			Op:          Operation,
			Code:        oautherr.CodeNetworkError,
			Description: fmt.Sprintf("token request timed out after %v", s.cfg.FetchTimeout),
			Retryable:   true,
			Err:         oerr.Err,
		}
	}

	s.mu.Lock()
	if err == nil {
		s.cache.Store(tok)
	}
	s.flight = nil
	s.mu.Unlock()

	f.tok, f.err = tok, err
	close(f.done)
}

// Authenticate requests a new token with the given scopes, or with the
// configured scopes when scopes is nil, stores it as the current token and
// returns it. Unlike Token it always sends a request, and the request uses
// ctx directly.
func (s *Source) Authenticate(ctx context.Context, scopes []string) (*token.Token, error) {
	if scopes == nil {
		scopes = s.cfg.Scopes
	}
	tok, err := s.exchange(ctx, scopes)
	if err != nil {
		return nil, err
	}
	s.cache.Store(tok)
	return tok, nil
}

// Current returns the cached token, even if it has expired, or nil when
// there is none. It sends no request.
func (s *Source) Current() *token.Token { return s.cache.Peek() }

// Clear discards the cached token, so that the next Token call requests a
// new one. Call it when a resource server rejects the token as invalid
// (RFC 6750 Section 3.1).
func (s *Source) Clear() { s.cache.Clear() }

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
