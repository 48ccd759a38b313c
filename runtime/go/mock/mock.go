// Package mock is the runtime of the "mock" mode: a client with the
// operations of authcore.Client that never touches the network.
//
// A [Client] has every method of authcore.Client, with the same names and
// signatures, and answers them from an in-memory authorization server of
// its own:
//
//   - Tokens are synthetic: random opaque strings with the prefixes
//     [AccessTokenPrefix] and [RefreshTokenPrefix], of type Bearer, with
//     the lifetime Options.TokenLifetime and the requested scopes (the
//     configured default scopes when none are requested). As with real
//     servers, the client credentials and JWT bearer grants issue no
//     refresh token (RFC 6749 Section 4.4.3); the authorization code grant
//     does, and refresh rotates it (RFC 9700 Section 4.14.2).
//   - The authorization code grant (RFC 6749 Section 4.1, with PKCE S256,
//     RFC 7636) works end to end: StartAuthorizationCodeFlow returns a URL
//     on the host of [DefaultIssuer], which is never contacted (".invalid"
//     is reserved by RFC 2606 and never resolves); [Client.Authorize]
//     plays the user and the authorization endpoint and returns the
//     redirection with a synthetic code; CompleteAuthorizationCodeFlow
//     checks its state and issuer exactly as the real client does and
//     exchanges the code, which the mock server checks against the
//     redirect_uri and PKCE challenge of the request.
//   - Revocation (RFC 7009) and introspection (RFC 7662) work on the
//     issued tokens: a revoked, rotated or expired token introspects as
//     inactive; revoking a refresh token revokes the access tokens of its
//     grant; presenting a rotated refresh token again fails with
//     invalid_grant and revokes its grant.
//
// Every operation that would reach the authorization server in the real
// mode is a simulated exchange: it waits the response delay
// (Options.ResponseDelay, [Client.SetResponseDelay]; the configured
// timeout_ms turns a longer delay into a network_error), then fails with
// probability Options.FailureRate ([Client.SetFailureRate]). A failure is
// the [*oautherr.Error] the real mode returns for the same server answer:
// code Options.FailureErrorCode, the HTTP status a server sends with it
// (503 for temporarily_unavailable, 500 for server_error, 401 for
// invalid_client, 400 for the other OAuth codes, none for network_error),
// and Retryable as the real mode classifies it (5xx, 429, network errors
// and the codes authcore.Config.Classify marks). The mock does not retry:
// failure_rate is the rate at which operations fail. Failures are drawn
// from a generator seeded with Options.Seed, so a given seed fails the
// same calls of a sequential test every run.
//
// Token and GetValidToken keep the current token exactly as the real
// client does, through a tokenrefresh.Source: a valid cached token is
// returned without a lock, an allocation, a delay or an injected failure;
// a new one is requested ahead of expiry, by one simulated exchange
// however many goroutines ask.
package mock

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
)

// Names and prefixes of the mock authorization server.
const (
	// DefaultIssuer is the issuer identifier of the mock server, and the
	// origin of its authorization endpoint. The host is in the ".invalid"
	// top-level domain (RFC 2606 Section 2), which never resolves.
	DefaultIssuer = "https://auth.mock.invalid"
	// AuthorizationPath is the path of the mock authorization endpoint.
	AuthorizationPath = "/oauth2/authorize"
	// Subject is the resource owner on whose behalf Authorize approves
	// authorization requests.
	Subject = "mock-user"
	// AccessTokenPrefix starts every synthetic access token.
	AccessTokenPrefix = "mock_at_"
	// RefreshTokenPrefix starts every synthetic refresh token.
	RefreshTokenPrefix = "mock_rt_"
	// CodePrefix starts every synthetic authorization code.
	CodePrefix = "mock_code_"
)

// Defaults of the mock mode's options, as the spec declares them.
const (
	// DefaultTokenLifetime is the lifetime of synthetic access tokens
	// when Options.TokenLifetime is zero (token_lifetime_seconds: 3600).
	DefaultTokenLifetime = time.Hour
	// DefaultFailureErrorCode is the code of injected failures when
	// Options.FailureErrorCode is empty (failure_error_code).
	DefaultFailureErrorCode = oautherr.CodeTemporarilyUnavailable
)

// CodeLifetime is how long a synthetic authorization code can be
// exchanged: the longest lifetime RFC 6749 Section 4.1.2 recommends.
const CodeLifetime = 10 * time.Minute

// Options are the options of the mock mode (the spec's modes.mock
// options). The zero value is a mock without delay or failures whose
// tokens live DefaultTokenLifetime.
type Options struct {
	// ResponseDelay is added to every simulated exchange
	// (response_delay_ms).
	ResponseDelay time.Duration
	// FailureRate is the probability, from 0 to 1, that a simulated
	// exchange fails with a typed error (failure_rate).
	FailureRate float64
	// Seed seeds the failure generator (seed); zero picks a random seed,
	// which Client.Seed reports.
	Seed int64
	// TokenLifetime is the lifetime of synthetic access tokens
	// (token_lifetime_seconds). Zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// FailureErrorCode is the OAuth error code of injected failures
	// (failure_error_code). Empty means DefaultFailureErrorCode.
	FailureErrorCode string
	// AllowedScopes, when not empty, are the only scopes the mock server
	// grants: requesting another fails with invalid_scope, as a real
	// server does for a scope the client is not registered for.
	AllowedScopes []string
}

// Validate reports every option out of its range, naming each, or nil.
func (o *Options) Validate() error {
	var problems []string
	if o.ResponseDelay < 0 {
		problems = append(problems, fmt.Sprintf("mock.response_delay_ms: %v is negative", o.ResponseDelay))
	}
	if err := checkRate(o.FailureRate); err != nil {
		problems = append(problems, "mock.failure_rate: "+err.Error())
	}
	if o.TokenLifetime < 0 {
		problems = append(problems, fmt.Sprintf("mock.token_lifetime_seconds: %v is negative", o.TokenLifetime))
	}
	if strings.ContainsAny(o.FailureErrorCode, " \t\r\n\"\\") {
		problems = append(problems, fmt.Sprintf("mock.failure_error_code: %q is not an OAuth error code", o.FailureErrorCode))
	}
	for _, s := range o.AllowedScopes {
		if !validScope(s) {
			problems = append(problems, fmt.Sprintf("mock.allowed_scopes: %q is not a scope token (RFC 6749 Section 3.3)", s))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func checkRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("%v is not between 0 and 1", rate)
	}
	return nil
}

// Client is the mock client. Its methods named after authcore.Client's
// behave like them, without the network; it is safe for concurrent use.
type Client struct {
	cfg      authcore.Config
	mode     string
	clientID string
	classify oautherr.Classifier
	failCode string
	seed     int64

	server *server
	tokens *tokenrefresh.Source
	flow   *authcode.Flow // nil outside the authorization code modes

	delay     atomic.Int64  // time.Duration
	failRate  atomic.Uint64 // math.Float64bits
	exchanges atomic.Int64

	rngMu sync.Mutex
	rng   *mrand.Rand

	sentMu sync.Mutex
	sent   map[string]time.Time // codes already exchanged, until they expire
}

// New returns a mock client for cfg, the configuration the real client
// would get, with the mock options opts. Of cfg it uses ClientID,
// AuthMode, Scopes, RedirectURI, AutoRefresh, RefreshBuffer, Timeout,
// RevokeOnClose, Storage and Classify; it contacts no server and reads no
// key or certificate file. An empty ClientID is "mock-client".
//
// Errors are *oautherr.Error values with code invalid_config.
func New(cfg authcore.Config, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	c := &Client{
		cfg:      cfg,
		mode:     cfg.AuthMode,
		clientID: cfg.ClientID,
		classify: cfg.Classify,
		failCode: opts.FailureErrorCode,
		seed:     opts.Seed,
		sent:     make(map[string]time.Time),
	}
	if c.mode == "" {
		c.mode = authcore.ModeClientCredentials
	}
	switch c.mode {
	case authcore.ModeClientCredentials, authcore.ModeClientCredentialsMTLS, authcore.ModeJWTBearer,
		authcore.ModeAuthorizationCode, authcore.ModeAuthorizationCodePKCE:
	default:
		return nil, &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: fmt.Sprintf("auth_mode: unknown mode %q", c.mode)}
	}
	if c.clientID == "" {
		c.clientID = "mock-client"
	}
	if c.classify == nil {
		c.classify = oautherr.DefaultClassifier
	}
	if c.failCode == "" {
		c.failCode = DefaultFailureErrorCode
	}
	if c.seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			c.seed = c.seed<<8 | int64(x)
		}
		if c.seed == 0 {
			c.seed = 1
		}
	}
	c.rng = mrand.New(mrand.NewPCG(uint64(c.seed), uint64(c.seed)^0x9e3779b97f4a7c15))
	c.delay.Store(int64(opts.ResponseDelay))
	c.failRate.Store(math.Float64bits(opts.FailureRate))

	lifetime := opts.TokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	c.server = newServer(c.clientID, lifetime, opts.AllowedScopes, c.classify)

	if c.mode == authcore.ModeAuthorizationCode || c.mode == authcore.ModeAuthorizationCodePKCE {
		// The client side of the grant is the real one: state, PKCE and
		// the checks of the redirection. Its endpoint only names the
		// client; the mock never sends through it.
		ep := &tokenendpoint.Endpoint{URL: DefaultIssuer + "/oauth2/token", ClientID: c.clientID, AuthMethod: tokenendpoint.None}
		if c.mode == authcore.ModeAuthorizationCode {
			ep.AuthMethod, ep.ClientSecret = tokenendpoint.ClientSecretBasic, "unused"
		}
		c.flow = authcode.New(authcode.Config{
			AuthorizationURL: DefaultIssuer + AuthorizationPath,
			Endpoint:         ep,
			RedirectURI:      cfg.RedirectURI,
			Scopes:           cfg.Scopes,
			DisablePKCE:      c.mode == authcore.ModeAuthorizationCode,
			Issuer:           DefaultIssuer,
			RequireIssuer:    true,
		})
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
		Storage:        cfg.Storage,
	}
	if cfg.Storage != nil {
		tc.StorageKey = strings.Join([]string{"mock", c.mode, c.clientID, strings.Join(cfg.Scopes, " ")}, "|")
	}
	c.tokens = tokenrefresh.New(tc)
	return c, nil
}

// SetResponseDelay changes the delay of every later simulated exchange
// (set_response_delay). A negative delay is an invalid_config error.
func (c *Client) SetResponseDelay(d time.Duration) error {
	if d < 0 {
		return &oautherr.Error{Op: "set_response_delay", Code: oautherr.CodeInvalidConfig, Description: fmt.Sprintf("response delay %v is negative", d)}
	}
	c.delay.Store(int64(d))
	return nil
}

// SetFailureRate changes the probability, from 0 to 1, that a later
// simulated exchange fails (set_failure_rate). Another value is an
// invalid_config error and leaves the rate unchanged.
func (c *Client) SetFailureRate(rate float64) error {
	if err := checkRate(rate); err != nil {
		return &oautherr.Error{Op: "set_failure_rate", Code: oautherr.CodeInvalidConfig, Description: "failure rate " + err.Error()}
	}
	c.failRate.Store(math.Float64bits(rate))
	return nil
}

// ResponseDelay returns the current response delay.
func (c *Client) ResponseDelay() time.Duration { return time.Duration(c.delay.Load()) }

// FailureRate returns the current failure rate.
func (c *Client) FailureRate() float64 { return math.Float64frombits(c.failRate.Load()) }

// Seed returns the seed of the failure generator: Options.Seed, or the
// random seed picked when that was zero. A test that fails with a random
// seed reproduces with Options.Seed set to it.
func (c *Client) Seed() int64 { return c.seed }

// Exchanges returns how many exchanges with the authorization server the
// mock has simulated, failed ones included: what a real server would have
// counted.
func (c *Client) Exchanges() int64 { return c.exchanges.Load() }

// exchange simulates one request to the authorization server for op: the
// failure is drawn first, so that the sequence of outcomes follows the
// order of the calls, then the response delay passes.
func (c *Client) exchange(ctx context.Context, op string) error {
	c.exchanges.Add(1)
	c.rngMu.Lock()
	draw := c.rng.Float64()
	c.rngMu.Unlock()
	fail := draw < c.FailureRate()

	if err := ctx.Err(); err != nil {
		return canceled(ctx, op)
	}
	if delay := c.ResponseDelay(); delay > 0 {
		d, timeout := delay, c.cfg.Timeout
		timedOut := timeout > 0 && delay > timeout
		if timedOut {
			d = timeout
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return canceled(ctx, op)
		}
		if timedOut {
			return &oautherr.Error{Op: op, Code: oautherr.CodeNetworkError, Retryable: true,
				Description: fmt.Sprintf("token request timed out after %v (mock response delay %v)", timeout, delay)}
		}
	}
	if fail {
		return c.injected(op)
	}
	return nil
}

// errInjected is the transport error of an injected network_error.
var errInjected = errors.New("mock: injected network failure")

// injected returns the failure the real client reports when the server
// answers with the configured error code.
func (c *Client) injected(op string) *oautherr.Error {
	e := &oautherr.Error{Op: op, Code: c.failCode, StatusCode: StatusFor(c.failCode),
		Description: "injected by the mock mode (failure_rate)"}
	switch {
	case c.failCode == oautherr.CodeNetworkError:
		e.Description, e.Retryable, e.Err = "token request failed", true, errInjected
	case e.StatusCode == 0:
		e.Retryable = c.classify(e.Code)
	default:
		e.Retryable = e.StatusCode >= 500 || e.StatusCode == 429 || c.classify(e.Code)
	}
	return e
}

// StatusFor returns the HTTP status that an authorization server sends
// with the error code code, as injected failures carry it: 503 for
// temporarily_unavailable, 500 for server_error, 401 for invalid_client
// and invalid_token (RFC 6749 Section 5.2, RFC 6750 Section 3.1), 403 for
// access_denied, 200 for invalid_response (a malformed success), 0 for
// the coyotegen codes of failures without a response (network_error,
// canceled, invalid_config, ...), and 400 for every other code.
func StatusFor(code string) int {
	switch code {
	case oautherr.CodeTemporarilyUnavailable:
		return 503
	case oautherr.CodeServerError:
		return 500
	case oautherr.CodeInvalidClient, "invalid_token":
		return 401
	case authcode.CodeAccessDenied:
		return 403
	case oautherr.CodeInvalidResponse:
		return 200
	case oautherr.CodeNetworkError, oautherr.CodeCanceled, oautherr.CodeInvalidConfig, oautherr.CodeNotImplemented,
		tokenrefresh.CodeStorageError, authcode.CodeInvalidState, authcode.CodeInvalidIssuer, authcore.CodeLoginRequired:
		return 0
	}
	return 400
}

func canceled(ctx context.Context, op string) *oautherr.Error {
	return &oautherr.Error{Op: op, Code: oautherr.CodeCanceled, Description: "context ended before the mock response arrived", Err: context.Cause(ctx)}
}

// fetch obtains a new token with the configured flow's own grant, as the
// real client's get_valid_token does when there is no token to refresh.
func (c *Client) fetch(ctx context.Context) (*token.Token, error) {
	const op = "get_valid_token"
	switch c.mode {
	case authcore.ModeClientCredentials, authcore.ModeClientCredentialsMTLS, authcore.ModeJWTBearer:
		return c.grant(ctx, op, c.clientID, nil, false)
	}
	return nil, &oautherr.Error{Op: op, Code: authcore.CodeLoginRequired,
		Description: "no token yet: the user must sign in through start_authorization_code_flow and complete_authorization_code_flow"}
}

// refresh uses a refresh token at the mock server.
func (c *Client) refresh(ctx context.Context, rt secret.Secret) (*token.Token, error) {
	const op = "refresh_token"
	if err := c.exchange(ctx, op); err != nil {
		return nil, err
	}
	return c.server.refresh(op, rt.Reveal())
}

// grant issues a token for subject after a simulated exchange: the client
// credentials and JWT bearer grants.
func (c *Client) grant(ctx context.Context, op, subject string, scopes []string, withRefresh bool) (*token.Token, error) {
	if len(scopes) == 0 {
		scopes = c.cfg.Scopes
	}
	if err := c.exchange(ctx, op); err != nil {
		return nil, err
	}
	return c.server.issue(op, subject, scopes, withRefresh, nil)
}

// AuthenticateClientCredentials issues a token as the client credentials
// grant would, and makes it the current token. It has no refresh token.
func (c *Client) AuthenticateClientCredentials(ctx context.Context, scopes []string) (*token.Token, error) {
	tok, err := c.grant(ctx, "authenticate_client_credentials", c.clientID, scopes, false)
	return c.keep(ctx, tok, err)
}

// AuthenticateJWTBearer issues a token for subject (the client id when
// empty) as the JWT bearer grant would, and makes it the current token.
// No assertion is signed, so no key is needed.
func (c *Client) AuthenticateJWTBearer(ctx context.Context, subject string, scopes []string) (*token.Token, error) {
	if subject == "" {
		subject = c.clientID
	}
	tok, err := c.grant(ctx, "authenticate_jwt_bearer", subject, scopes, false)
	return c.keep(ctx, tok, err)
}

// keep makes tok the current token, as the real client does.
func (c *Client) keep(ctx context.Context, tok *token.Token, err error) (*token.Token, error) {
	if err != nil {
		return nil, err
	}
	if err := c.tokens.Set(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// codeFlow returns the client side of the authorization code grant, or
// the real client's error outside the authorization code modes.
func (c *Client) codeFlow(op string) (*authcode.Flow, error) {
	if c.flow == nil {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig,
			Description: "auth_mode " + c.mode + " does not use the authorization code grant: set auth_mode to authorization_code or authorization_code_pkce"}
	}
	return c.flow, nil
}

// StartAuthorizationCodeFlow builds an authorization request to the mock
// authorization endpoint, with a fresh state and, with PKCE, code
// verifier and S256 challenge. Pass its URL to Authorize.
func (c *Client) StartAuthorizationCodeFlow(ctx context.Context, redirectURI string, scopes []string) (*authcore.AuthorizationRequest, error) {
	flow, err := c.codeFlow("start_authorization_code_flow")
	if err != nil {
		return nil, err
	}
	req, err := flow.Start(redirectURI, scopes)
	if err != nil {
		return nil, err
	}
	return &authcore.AuthorizationRequest{URL: req.URL, CodeVerifier: req.CodeVerifier, State: req.State, RedirectURI: req.RedirectURI}, nil
}

// Authorize plays the user and the authorization endpoint for the
// authorization request authorizationURL, which StartAuthorizationCodeFlow
// returned: it approves the request on behalf of Subject and returns the
// redirection URL, carrying a synthetic code, the request's state and the
// mock issuer (RFC 9207), for CompleteAuthorizationCodeFlow. A request the
// server refuses (an unknown scope, a PKCE method other than S256) is
// answered with an error redirection, as RFC 6749 Section 4.1.2.1 says;
// a request it cannot redirect (not to the mock server, another client
// id, no redirect_uri) is an *oautherr.Error with code invalid_request.
//
// Authorize is no exchange of the client's: it has no delay and never
// fails by injection.
func (c *Client) Authorize(authorizationURL string) (string, error) {
	return c.server.authorize(authorizationURL, "")
}

// Deny is Authorize with the user refusing: the redirection carries
// error=access_denied.
func (c *Client) Deny(authorizationURL string) (string, error) {
	return c.server.authorize(authorizationURL, authcode.CodeAccessDenied)
}

// CompleteAuthorizationCodeFlow checks the redirection callbackURL (state,
// one use and constant time; iss; error) as the real client does, then
// exchanges its code with the request's redirect URI and code verifier.
func (c *Client) CompleteAuthorizationCodeFlow(ctx context.Context, callbackURL string) (*token.Token, error) {
	const op = "complete_authorization_code_flow"
	flow, err := c.codeFlow(op)
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
	tok, err := c.exchangeCode(ctx, op, resp.Code.Reveal(), resp.RedirectURI, resp.CodeVerifier.Reveal())
	return c.keep(ctx, tok, err)
}

// AuthenticateAuthorizationCode exchanges a code that the caller took from
// the redirection itself. An empty redirectURI is the one of the request
// the code answers. The code is sent at most once, as by the real client.
func (c *Client) AuthenticateAuthorizationCode(ctx context.Context, code, redirectURI, codeVerifier string) (*token.Token, error) {
	const op = authcode.OperationExchange
	if _, err := c.codeFlow(op); err != nil {
		return nil, err
	}
	switch {
	case code == "":
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "authorization code is empty"}
	case codeVerifier == "" && c.mode == authcore.ModeAuthorizationCodePKCE:
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "no code_verifier: give the one that Start returned (RFC 7636 Section 4.5)"}
	}
	tok, err := c.exchangeCode(ctx, op, code, redirectURI, codeVerifier)
	return c.keep(ctx, tok, err)
}

// exchangeCode sends code to the mock token endpoint, once.
func (c *Client) exchangeCode(ctx context.Context, op, code, redirectURI, verifier string) (*token.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(ctx, op)
	}
	now := time.Now()
	c.sentMu.Lock()
	for k, until := range c.sent {
		if !now.Before(until) {
			delete(c.sent, k)
		}
	}
	_, used := c.sent[code]
	if !used {
		c.sent[code] = now.Add(CodeLifetime)
	}
	c.sentMu.Unlock()
	if used {
		return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidGrant, Description: "authorization code was already sent to the token endpoint; a code is used once (RFC 6749 Section 4.1.2)"}
	}
	if err := c.exchange(ctx, op); err != nil {
		return nil, err
	}
	return c.server.exchangeCode(op, code, redirectURI, verifier)
}

// RefreshToken exchanges a refresh token (the current one when empty) for
// a new token with a rotated refresh token, and makes it current.
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
	return c.keep(ctx, tok, err)
}

// GetValidToken returns a valid token: see Token.
func (c *Client) GetValidToken(ctx context.Context) (*token.Token, error) {
	return c.tokens.Token(ctx)
}

// Token returns a valid token. On a valid cached token it takes no lock,
// allocates nothing, reads no clock and simulates no exchange; ahead of
// expiry it obtains the next token in the background, with one simulated
// exchange however many goroutines call it.
func (c *Client) Token(ctx context.Context) (*token.Token, error) {
	return c.tokens.Token(ctx)
}

// Invalidate records that a resource server rejected tok, so that the
// next Token call gets a new one; see tokenrefresh.Source.Invalidate.
func (c *Client) Invalidate(tok *token.Token) bool { return c.tokens.Invalidate(tok) }

// CurrentToken returns the cached token, valid or not, or nil.
func (c *Client) CurrentToken() *token.Token { return c.tokens.Current() }

// ClearTokens forgets the tokens, in memory and in storage. The mock
// server still knows them: they stay active until revoked or expired.
func (c *Client) ClearTokens(ctx context.Context) error { return c.tokens.Delete(ctx) }

// RevokeToken revokes tok (the current access token when empty) at the
// mock server (RFC 7009): it introspects inactive afterwards, and a
// refresh token takes the access tokens of its grant with it. An unknown
// token is revoked successfully, as RFC 7009 Section 2.2 says. Revoking
// the current access or refresh token also forgets the current token.
func (c *Client) RevokeToken(ctx context.Context, tok, tokenTypeHint string) (bool, error) {
	const op = "revoke_token"
	value := secret.Secret(tok)
	cur := c.tokens.Current()
	if value.IsZero() {
		if cur == nil {
			return false, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "there is no token to revoke"}
		}
		value = cur.AccessToken
	}
	if err := c.exchange(ctx, op); err != nil {
		return false, err
	}
	c.server.revoke(value.Reveal())
	if cur != nil && (cur.AccessToken == value || (!cur.RefreshToken.IsZero() && cur.RefreshToken == value)) {
		if err := c.tokens.Delete(ctx); err != nil {
			return true, err
		}
	}
	return true, nil
}

// IntrospectToken asks the mock server about tok (the current access token
// when empty), as RFC 7662 describes: an issued token that is neither
// expired, revoked nor rotated is active, with its scopes, client,
// subject, type and times; any other is inactive.
func (c *Client) IntrospectToken(ctx context.Context, tok string) (*authcore.Introspection, error) {
	const op = "introspect_token"
	value := tok
	if value == "" {
		cur := c.tokens.Current()
		if cur == nil {
			return nil, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidRequest, Description: "there is no token to introspect"}
		}
		value = cur.AccessToken.Reveal()
	}
	if err := c.exchange(ctx, op); err != nil {
		return nil, err
	}
	return c.server.introspect(value), nil
}

// TestConnection simulates one exchange and reports whether it succeeded.
func (c *Client) TestConnection(ctx context.Context) (bool, error) {
	if err := c.exchange(ctx, "test_connection"); err != nil {
		return false, err
	}
	return true, nil
}

// Close revokes the tokens when revoke_on_close is set, the refresh token
// first, as the real client does. The client stays usable.
func (c *Client) Close() error {
	if !c.cfg.RevokeOnClose {
		return nil
	}
	cur := c.tokens.Current()
	if cur == nil {
		return nil
	}
	timeout := c.cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, v := range []secret.Secret{cur.RefreshToken, cur.AccessToken} {
		if v.IsZero() {
			continue
		}
		if err := c.exchange(ctx, "revoke_token"); err != nil {
			return err
		}
		c.server.revoke(v.Reveal())
	}
	return c.tokens.Delete(ctx)
}
