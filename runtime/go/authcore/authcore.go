// Package authcore is the runtime core behind the generated Go package:
// one Client that runs every operation of the coyotegen spec over the
// flow packages of runtime/go:
//
//   - client credentials (RFC 6749 Section 4.4) with client_secret_basic,
//     client_secret_post, private_key_jwt (RFC 7523 Section 2.2) or mutual
//     TLS (RFC 8705), package tokenendpoint;
//   - authorization code with PKCE (RFC 7636) and the iss check of RFC
//     9207, package authcode;
//   - the JWT bearer grant (RFC 7523 Section 2.1), package jwtbearer;
//   - refresh with rotation (RFC 6749 Section 6), revocation (RFC 7009),
//     introspection (RFC 7662) and discovery (RFC 8414).
//
// The current token is kept by a tokenrefresh.Source: lock-free reads,
// refresh ahead of expiry, one request however many callers, retries with
// backoff, optional storage.
//
// The generated package validates the configuration, maps it onto Config
// and exposes Client through its typed interface; programs use the
// generated package, not this one.
package authcore

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/discovery"
	"github.com/coyotesense/coyotegen/runtime/go/introspection"
	"github.com/coyotesense/coyotegen/runtime/go/jwtbearer"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/mtls"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/revocation"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// Auth modes, as the spec's auth_mode enum spells them.
const (
	ModeClientCredentials     = "client_credentials"
	ModeClientCredentialsMTLS = "client_credentials_mtls"
	ModeAuthorizationCode     = "authorization_code"
	ModeAuthorizationCodePKCE = "authorization_code_pkce"
	ModeJWTBearer             = "jwt_bearer"
)

// CodeLoginRequired is the error code of get_valid_token in an
// authorization code mode before the user has signed in: there is no
// token and no refresh token, and only the user can provide a grant
// (OpenID Connect Core 1.0 Section 3.1.2.6).
const CodeLoginRequired = "login_required"

// Config is the configuration of a Client, in runtime types. Field names
// follow the spec's configuration fields.
type Config struct {
	ServerURL        string
	ClientID         string
	ClientSecret     secret.Secret
	AuthMode         string // auth_mode enum value; empty means client_credentials
	ClientAuthMethod string // client_auth_method enum value; empty means client_secret_basic
	Scopes           []string
	AutoRefresh      bool
	RefreshBuffer    time.Duration
	Timeout          time.Duration
	VerifyTLS        bool
	ClientCertPath   string
	ClientKeyPath    string
	CACertPath       string

	JWTSigningKeyPath string
	JWTAlgorithm      string
	JWTKeyID          string
	JWTIssuer         string
	JWTAudience       string
	JWTLifetime       time.Duration

	RedirectURI      string
	TokenURL         string
	AuthorizationURL string
	RevocationURL    string
	IntrospectionURL string
	Discovery        bool
	RevokeOnClose    bool
	MaxRetries       int

	// TokenStoragePath, when set and Storage is nil, keeps the token in a
	// file (tokenstore.File), encrypted with TokenStorageKey when set.
	TokenStoragePath string
	TokenStorageKey  secret.Secret
	// Storage keeps the token across restarts; nil keeps it in memory.
	Storage tokenstore.Store

	// HTTPClient sends every request; nil builds one from Timeout,
	// VerifyTLS, CACertPath and the client certificate.
	HTTPClient *http.Client
	// Classify reports whether an OAuth error code is retryable.
	Classify oautherr.Classifier
	// Retryable, when set, replaces the classification of transient
	// failures for retries (replay mode: a request the cassette does not
	// hold is final).
	Retryable func(error) bool
	// WrapTransport, when set, wraps the transport of every request the
	// client sends: the runtime modes record, replay, trace or simulate
	// the exchanges there, below the flows and above TLS.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Clock, when set, replaces the system clock for token expiry, the
	// refresh buffer, retry waits, request timeouts and the lifetime of
	// started authorization requests: the simulation mode puts its
	// virtual clock here (simulation.Server.Clock). Nil means the system
	// clock.
	Clock clock.Clock
}

// AuthorizationRequest is the start of an authorization code flow.
type AuthorizationRequest struct {
	// URL is the authorization request to send the user to.
	URL string
	// CodeVerifier is the PKCE code verifier (RFC 7636 Section 4.1) that
	// the token request must carry; empty for the plain code grant.
	CodeVerifier secret.Secret
	// State is the one-time value the redirection must return.
	State string
	// RedirectURI is the redirection endpoint the request names.
	RedirectURI string
}

// Introspection is an introspection response (RFC 7662 Section 2.2).
type Introspection = introspection.Response

// Client runs the operations. It is safe for concurrent use.
type Client struct {
	cfg    Config
	mode   string
	method tokenendpoint.AuthMethod
	http   *http.Client
	cert   *mtls.ClientCertificate // the client certificate, nil without mTLS
	key    *keys.SigningKey        // for private_key_jwt and the JWT bearer grant
	disc   *discovery.Cache
	tokens *tokenrefresh.Source
	retry  retry.Policy

	mu       sync.Mutex              // serialises resolving the endpoints
	resolved atomic.Pointer[servers] // endpoints and flows, once resolved
}

// servers are the endpoints of the authorization server and the flow
// objects built on them.
type servers struct {
	endpoints discovery.Endpoints
	token     *tokenendpoint.Endpoint
	code      *authcode.Flow // nil unless an authorization code mode
}

// New returns a client for cfg. It reads the key and certificate files
// but does not contact the server.
func New(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg, mode: cfg.AuthMode}
	if c.mode == "" {
		c.mode = ModeClientCredentials
	}
	method := cfg.ClientAuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	var err error
	if c.method, err = tokenendpoint.ParseAuthMethod(method); err != nil {
		return nil, configError("client_auth_method", err)
	}
	if c.method == tokenendpoint.PrivateKeyJWT || c.mode == ModeJWTBearer {
		alg, err := keys.ParseAlgorithm(orDefault(cfg.JWTAlgorithm, "RS256"))
		if err != nil {
			return nil, configError("jwt_algorithm", err)
		}
		if c.key, err = keys.LoadSigningKey(cfg.JWTSigningKeyPath, alg, cfg.JWTKeyID); err != nil {
			return nil, configError("jwt_signing_key_path", err)
		}
	}
	c.http = cfg.HTTPClient
	if c.http == nil {
		c.http, c.cert, err = mtls.NewHTTPClient(mtls.Config{
			ClientCertPath:     cfg.ClientCertPath,
			ClientKeyPath:      cfg.ClientKeyPath,
			CACertPath:         cfg.CACertPath,
			InsecureSkipVerify: !cfg.VerifyTLS,
			Timeout:            cfg.Timeout,
			// A new certificate makes tokens bound to the old one useless
			// (RFC 8705 Section 3): get a new one on the next request.
			OnReload: func(*tls.Certificate) {
				if c.tokens != nil {
					c.tokens.Clear()
				}
			},
		})
		if err != nil {
			return nil, configError("client_cert_path", err)
		}
	}
	if cfg.WrapTransport != nil {
		wrapped := *c.http
		base := wrapped.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		wrapped.Transport = cfg.WrapTransport(base)
		c.http = &wrapped
	}
	if cfg.ServerURL != "" && cfg.Discovery {
		c.disc = &discovery.Cache{ServerURL: cfg.ServerURL, HTTPClient: c.http, Clock: cfg.Clock}
	}
	c.retry = retry.Policy{MaxRetries: cfg.MaxRetries, Retryable: cfg.Retryable, Clock: cfg.Clock}
	storage := cfg.Storage
	if storage == nil && cfg.TokenStoragePath != "" {
		var key []byte
		if !cfg.TokenStorageKey.IsZero() {
			if key, err = tokenstore.ParseKey(cfg.TokenStorageKey); err != nil {
				return nil, configError("token_storage_key", err)
			}
		}
		if storage, err = tokenstore.NewFile(cfg.TokenStoragePath, key); err != nil {
			return nil, configError("token_storage_path", err)
		}
	}
	buffer := cfg.RefreshBuffer
	if !cfg.AutoRefresh {
		buffer = tokenrefresh.NoRefreshBuffer
	}
	tc := tokenrefresh.Config{
		Op:             "get_valid_token",
		Fetch:          c.fetch,
		Refresh:        c.refresh,
		RefreshBuffer:  buffer,
		RequestTimeout: cfg.Timeout,
		Retry:          c.retry,
		Storage:        storage,
		Clock:          cfg.Clock,
	}
	if storage != nil {
		tc.StorageKey = strings.Join([]string{c.mode, cfg.ClientID, cfg.ServerURL, cfg.TokenURL, strings.Join(cfg.Scopes, " ")}, "|")
	}
	c.tokens = tokenrefresh.New(tc)
	return c, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func configError(field string, err error) *oautherr.Error {
	return &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: field + ": " + err.Error(), Err: err}
}

// servers resolves the endpoints, from the configuration and, for those
// not configured, from the server's metadata, once.
func (c *Client) servers(ctx context.Context, op string) (*servers, error) {
	if s := c.resolved.Load(); s != nil {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.resolved.Load(); s != nil {
		return s, nil
	}
	configured := discovery.Endpoints{
		Authorization: c.cfg.AuthorizationURL,
		Token:         c.cfg.TokenURL,
		Revocation:    c.cfg.RevocationURL,
		Introspection: c.cfg.IntrospectionURL,
	}
	eps := configured
	var md *discovery.Metadata
	if c.disc != nil && !configured.Complete() {
		var err error
		if eps, err = c.disc.Endpoints(ctx, configured, c.cert != nil); err != nil && configured.Token == "" {
			return nil, withOp(err, op)
		}
		md = c.disc.Cached()
	}
	if eps.Token == "" {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: "no token endpoint: set token_url, or server_url with discovery"}
	}
	s := &servers{endpoints: eps, token: &tokenendpoint.Endpoint{
		URL:               eps.Token,
		ClientID:          c.cfg.ClientID,
		ClientSecret:      c.cfg.ClientSecret,
		AuthMethod:        c.method,
		HTTPClient:        c.http,
		Classify:          c.cfg.Classify,
		SigningKey:        c.key,
		AssertionAudience: c.cfg.JWTAudience,
		AssertionLifetime: c.cfg.JWTLifetime,
		Clock:             c.cfg.Clock,
	}}
	if c.mode == ModeAuthorizationCode || c.mode == ModeAuthorizationCodePKCE {
		fc := authcode.Config{
			AuthorizationURL: eps.Authorization,
			Endpoint:         s.token,
			RedirectURI:      c.cfg.RedirectURI,
			Scopes:           c.cfg.Scopes,
			DisablePKCE:      c.mode == ModeAuthorizationCode,
			Clock:            c.cfg.Clock,
		}
		if md != nil {
			fc.Issuer = md.Issuer
			fc.RequireIssuer = md.AuthorizationResponseIssParameterSupported
		}
		s.code = authcode.New(fc)
	}
	c.resolved.Store(s)
	return s, nil
}

// withOp names op in a typed error that another operation produced.
func withOp(err error, op string) error {
	var e *oautherr.Error
	if errors.As(err, &e) && e.Op != op {
		copied := *e
		copied.Op = op
		return &copied
	}
	return err
}

// fetch obtains a new token with the configured flow's own grant: what
// get_valid_token does when there is no token to refresh.
func (c *Client) fetch(ctx context.Context) (*token.Token, error) {
	switch c.mode {
	case ModeClientCredentials, ModeClientCredentialsMTLS:
		return c.clientCredentials(ctx, "get_valid_token", nil)
	case ModeJWTBearer:
		return c.jwtBearer(ctx, "get_valid_token", "", nil)
	}
	return nil, &oautherr.Error{Op: "get_valid_token", Code: CodeLoginRequired,
		Description: "no token yet: the user must sign in through start_authorization_code_flow and complete_authorization_code_flow"}
}

// refresh uses a refresh token (RFC 6749 Section 6).
func (c *Client) refresh(ctx context.Context, rt secret.Secret) (*token.Token, error) {
	s, err := c.servers(ctx, "refresh_token")
	if err != nil {
		return nil, err
	}
	tok, err := s.token.Exchange(ctx, "refresh_token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.Reveal()}})
	if err != nil {
		return nil, err
	}
	return tok, c.checkBinding("refresh_token", tok)
}

func (c *Client) clientCredentials(ctx context.Context, op string, scopes []string) (*token.Token, error) {
	s, err := c.servers(ctx, op)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = c.cfg.Scopes
	}
	params := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		params.Set("scope", strings.Join(scopes, " "))
	}
	tok, err := s.token.Exchange(ctx, op, params)
	if err != nil {
		return nil, err
	}
	return tok, c.checkBinding(op, tok)
}

func (c *Client) jwtBearer(ctx context.Context, op, subject string, scopes []string) (*token.Token, error) {
	s, err := c.servers(ctx, op)
	if err != nil {
		return nil, err
	}
	jc := jwtbearer.Config{
		Endpoint: s.token,
		Key:      c.key,
		Issuer:   c.cfg.JWTIssuer,
		Audience: c.cfg.JWTAudience,
		Lifetime: c.cfg.JWTLifetime,
		Scopes:   c.cfg.Scopes,
	}
	tok, err := jc.Exchange(ctx, subject, scopes)
	if err != nil {
		return nil, withOp(err, op)
	}
	return tok, c.checkBinding(op, tok)
}

// checkBinding checks that a certificate-bound token is bound to the
// certificate in use (RFC 8705 Section 3).
func (c *Client) checkBinding(op string, tok *token.Token) error {
	if c.cert == nil {
		return nil
	}
	return c.cert.CheckToken(op, tok)
}

// keep makes tok the current token, saving it first when storage is
// configured, and returns it.
func (c *Client) keep(ctx context.Context, tok *token.Token, err error) (*token.Token, error) {
	if err != nil {
		return nil, err
	}
	if err := c.tokens.Set(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// AuthenticateClientCredentials requests a new token with the client
// credentials grant and makes it the current token. Transient failures are
// retried with backoff (max_retries).
func (c *Client) AuthenticateClientCredentials(ctx context.Context, scopes []string) (*token.Token, error) {
	const op = "authenticate_client_credentials"
	tok, err := retry.Do(ctx, c.retry, func(ctx context.Context) (*token.Token, error) {
		return c.clientCredentials(ctx, op, scopes)
	})
	return c.keep(ctx, tok, err)
}

// AuthenticateJWTBearer requests a token with a JWT bearer grant for
// subject (the client id when empty) and makes it the current token.
func (c *Client) AuthenticateJWTBearer(ctx context.Context, subject string, scopes []string) (*token.Token, error) {
	const op = "authenticate_jwt_bearer"
	if c.key == nil {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: "jwt_signing_key_path is not set"}
	}
	tok, err := retry.Do(ctx, c.retry, func(ctx context.Context) (*token.Token, error) {
		return c.jwtBearer(ctx, op, subject, scopes)
	})
	return c.keep(ctx, tok, err)
}

// codeFlow returns the authorization code flow, or a typed error outside
// the authorization code modes.
func (c *Client) codeFlow(ctx context.Context, op string) (*authcode.Flow, error) {
	s, err := c.servers(ctx, op)
	if err != nil {
		return nil, err
	}
	if s.code == nil {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig,
			Description: "auth_mode " + c.mode + " does not use the authorization code grant: set auth_mode to authorization_code or authorization_code_pkce"}
	}
	return s.code, nil
}

// StartAuthorizationCodeFlow builds the authorization request with a fresh
// state and, with PKCE, code verifier.
func (c *Client) StartAuthorizationCodeFlow(ctx context.Context, redirectURI string, scopes []string) (*AuthorizationRequest, error) {
	flow, err := c.codeFlow(ctx, "start_authorization_code_flow")
	if err != nil {
		return nil, err
	}
	req, err := flow.Start(redirectURI, scopes)
	if err != nil {
		return nil, err
	}
	return &AuthorizationRequest{URL: req.URL, CodeVerifier: req.CodeVerifier, State: req.State, RedirectURI: req.RedirectURI}, nil
}

// CompleteAuthorizationCodeFlow checks the redirection the user agent
// brought back (state, iss, error) and exchanges its code.
func (c *Client) CompleteAuthorizationCodeFlow(ctx context.Context, callbackURL string) (*token.Token, error) {
	const op = "complete_authorization_code_flow"
	flow, err := c.codeFlow(ctx, op)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(callbackURL)
	if err != nil {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "callback_url is not a URL", Err: err}
	}
	resp, err := flow.HandleResponse(u.Query())
	if err != nil {
		return nil, err
	}
	tok, err := flow.Exchange(ctx, resp.Code, resp.RedirectURI, resp.CodeVerifier)
	if err == nil {
		err = c.checkBinding(op, tok)
	}
	return c.keep(ctx, tok, withOp(err, op))
}

// AuthenticateAuthorizationCode exchanges a code that the caller took from
// the redirection itself; the code is never sent twice.
func (c *Client) AuthenticateAuthorizationCode(ctx context.Context, code, redirectURI, codeVerifier string) (*token.Token, error) {
	flow, err := c.codeFlow(ctx, "authenticate_authorization_code")
	if err != nil {
		return nil, err
	}
	tok, err := flow.Exchange(ctx, secret.Secret(code), redirectURI, secret.Secret(codeVerifier))
	if err == nil {
		err = c.checkBinding("authenticate_authorization_code", tok)
	}
	return c.keep(ctx, tok, err)
}

// RefreshToken exchanges a refresh token (the current one when empty) for
// a new token; a rotated refresh token is saved before it is returned.
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (*token.Token, error) {
	const op = "refresh_token"
	rt := secret.Secret(refreshToken)
	if rt.IsZero() {
		if cur := c.tokens.Current(); cur != nil {
			rt = cur.RefreshToken
		}
	}
	if rt.IsZero() {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "there is no refresh token"}
	}
	tok, err := c.refresh(ctx, rt)
	if err == nil && tok.RefreshToken.IsZero() {
		// The server kept the refresh token (RFC 6749 Section 6).
		copied := *tok
		copied.RefreshToken = rt
		tok = &copied
	}
	return c.keep(ctx, tok, err)
}

// GetValidToken returns a valid token: see Token.
func (c *Client) GetValidToken(ctx context.Context) (*token.Token, error) {
	return c.tokens.Token(ctx)
}

// Token returns a valid token. On a valid cached token it takes no lock,
// allocates nothing and reads no clock; ahead of expiry it refreshes in
// the background; however many goroutines call it, one request is in
// flight.
func (c *Client) Token(ctx context.Context) (*token.Token, error) {
	return c.tokens.Token(ctx)
}

// Invalidate records that a resource server rejected tok, so that the
// next Token call gets a new one; see tokenrefresh.Source.Invalidate.
func (c *Client) Invalidate(tok *token.Token) bool { return c.tokens.Invalidate(tok) }

// CurrentToken returns the cached token, valid or not, or nil.
func (c *Client) CurrentToken() *token.Token { return c.tokens.Current() }

// ClearTokens forgets the tokens, in memory and in storage.
func (c *Client) ClearTokens(ctx context.Context) error { return c.tokens.Delete(ctx) }

// RevokeToken revokes tok (the current access token when empty) at the
// revocation endpoint. Revoking the current access or refresh token also
// forgets the current token.
func (c *Client) RevokeToken(ctx context.Context, tok, tokenTypeHint string) (bool, error) {
	const op = "revoke_token"
	s, err := c.servers(ctx, op)
	if err != nil {
		return false, err
	}
	if s.endpoints.Revocation == "" {
		return false, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: "no revocation endpoint: set revocation_url, or server_url with discovery"}
	}
	value := secret.Secret(tok)
	cur := c.tokens.Current()
	if value.IsZero() {
		if cur == nil {
			return false, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "there is no token to revoke"}
		}
		value, tokenTypeHint = cur.AccessToken, revocation.HintAccessToken
	}
	ep := revocation.Endpoint{URL: s.endpoints.Revocation, TokenEndpoint: s.token}
	if err := ep.Revoke(ctx, value, tokenTypeHint); err != nil {
		return false, err
	}
	if cur != nil && (cur.AccessToken == value || (!cur.RefreshToken.IsZero() && cur.RefreshToken == value)) {
		if err := c.tokens.Delete(ctx); err != nil {
			return true, err
		}
	}
	return true, nil
}

// IntrospectToken asks the introspection endpoint about tok (the current
// access token when empty). With mTLS, an active token's cnf must match
// the certificate in use.
func (c *Client) IntrospectToken(ctx context.Context, tok string) (*Introspection, error) {
	const op = "introspect_token"
	s, err := c.servers(ctx, op)
	if err != nil {
		return nil, err
	}
	if s.endpoints.Introspection == "" {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: "no introspection endpoint: set introspection_url, or server_url with discovery"}
	}
	value, hint := secret.Secret(tok), ""
	if value.IsZero() {
		cur := c.tokens.Current()
		if cur == nil {
			return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "there is no token to introspect"}
		}
		value, hint = cur.AccessToken, introspection.HintAccessToken
	}
	ep := introspection.Endpoint{URL: s.endpoints.Introspection, TokenEndpoint: s.token}
	resp, err := ep.Introspect(ctx, value, hint)
	if err != nil {
		return nil, err
	}
	if resp.Active && resp.Confirmation != nil && resp.Confirmation.X5tS256 != "" && c.cert != nil {
		if err := c.cert.CheckConfirmation(op, resp.Confirmation.X5tS256); err != nil {
			return resp, err
		}
	}
	return resp, nil
}

// TestConnection reports whether the server and each of its endpoints
// answer, sending no credentials.
func (c *Client) TestConnection(ctx context.Context) (bool, error) {
	configured := discovery.Endpoints{
		Authorization: c.cfg.AuthorizationURL,
		Token:         c.cfg.TokenURL,
		Revocation:    c.cfg.RevocationURL,
		Introspection: c.cfg.IntrospectionURL,
	}
	var report *discovery.ConnectionReport
	if c.disc != nil {
		report = c.disc.CheckConnection(ctx, configured, c.cert != nil)
	} else {
		report = discovery.CheckConnection(ctx, c.http, c.cfg.ServerURL, configured)
	}
	return report.OK(), report.Err()
}

// Close revokes the tokens when revoke_on_close is set, and releases the
// client's idle connections.
func (c *Client) Close() error {
	var err error
	if c.cfg.RevokeOnClose {
		err = c.revokeAll()
	}
	c.http.CloseIdleConnections()
	return err
}

// revokeAll revokes the refresh token, then the access token (RFC 7009
// Section 2.1: revoking a refresh token may revoke its access tokens too).
func (c *Client) revokeAll() error {
	cur := c.tokens.Current()
	if cur == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), orDuration(c.cfg.Timeout, 30*time.Second))
	defer cancel()
	s, err := c.servers(ctx, "revoke_token")
	if err != nil || s.endpoints.Revocation == "" {
		return err
	}
	ep := revocation.Endpoint{URL: s.endpoints.Revocation, TokenEndpoint: s.token}
	if !cur.RefreshToken.IsZero() {
		if err := ep.Revoke(ctx, cur.RefreshToken, revocation.HintRefreshToken); err != nil {
			return err
		}
	}
	if err := ep.Revoke(ctx, cur.AccessToken, revocation.HintAccessToken); err != nil {
		return err
	}
	return c.tokens.Delete(ctx)
}

func orDuration(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}
