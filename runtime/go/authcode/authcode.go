// Package authcode implements the OAuth 2.0 authorization code grant (RFC
// 6749 Section 4.1) with Proof Key for Code Exchange (RFC 7636), for
// confidential and public clients.
//
// A [Flow] runs the three steps of the grant:
//
//  1. [Flow.Start] builds the authorization request (Section 4.1.1) with a
//     one-time state of 256 random bits and, unless PKCE is disabled, a
//     code verifier of 43 characters from crypto/rand and its S256
//     challenge (RFC 7636 Sections 4.1 to 4.3; the plain method is never
//     used).
//  2. [Flow.HandleResponse] checks the authorization response (Section
//     4.1.2): the state must match a pending request (compared in constant
//     time, and usable once), the iss parameter must name the expected
//     issuer when present, and must be present when the server announces
//     authorization_response_iss_parameter_supported (RFC 9207 Section
//     2.4); an error response becomes an [*oautherr.Error] with the
//     server's code, such as "access_denied".
//  3. [Flow.Exchange] trades the code at the token endpoint (Section
//     4.1.3) with the redirect_uri and code verifier of the request that
//     obtained it. A code is sent at most once: the pending request is
//     consumed and the code remembered before the request goes out, so a
//     retry, a replayed redirect or a second call cannot send it again.
//
// For command-line and desktop programs, [Flow.ListenLoopback] receives
// the response on a loopback redirect URI (RFC 8252 Section 7.3), and
// [Flow.AuthorizeLoopback] runs the whole exchange with the browser.
//
// Pending requests live in the Flow's memory. A server with several
// instances keeps the Request returned by Start in its own session store
// instead, checks the state itself, and passes the code verifier and
// redirect URI to Exchange.
package authcode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// Operation ids that errors from this package carry in oautherr.Error.Op.
const (
	// OperationStart is the operation of Start.
	OperationStart = "start_authorization_code_flow"
	// OperationResponse is the operation of HandleResponse and of the
	// loopback listener.
	OperationResponse = "handle_authorization_response"
	// OperationExchange is the operation of Exchange.
	OperationExchange = "authenticate_authorization_code"
)

// Error codes of authorization responses that fail the client's checks.
const (
	// CodeInvalidState means the response's state is missing or matches
	// no pending request: it may be forged, replayed or expired (RFC 6749
	// Section 10.12).
	CodeInvalidState = "invalid_state"
	// CodeInvalidIssuer means the response's iss parameter names another
	// server than the one the request was sent to, or is missing although
	// the server promised it (RFC 9207 Section 2.4).
	CodeInvalidIssuer = "invalid_issuer"
	// CodeAccessDenied is the error code of a response in which the
	// resource owner or the server denied the request (RFC 6749 Section
	// 4.1.2.1).
	CodeAccessDenied = "access_denied"
)

// DefaultRequestLifetime is how long a started request waits for its
// response when Config.RequestLifetime is zero: the longest code lifetime
// that RFC 6749 Section 4.1.2 recommends.
const DefaultRequestLifetime = 10 * time.Minute

// MaxPendingRequests bounds the requests a Flow remembers; starting one
// more forgets the oldest.
const MaxPendingRequests = 1024

// Config configures a Flow.
type Config struct {
	// AuthorizationURL is the authorization endpoint (RFC 6749 Section
	// 3.1). Its query, if any, is kept in every request.
	AuthorizationURL string
	// Endpoint is the token endpoint and the client's authentication.
	// Its ClientID is the client_id of authorization requests. Public
	// clients use tokenendpoint.None.
	Endpoint *tokenendpoint.Endpoint
	// RedirectURI is the redirection endpoint used when Start is given
	// none (RFC 6749 Section 3.1.2).
	RedirectURI string
	// Scopes are requested when Start is given none. Nil requests the
	// server's default scope.
	Scopes []string
	// DisablePKCE leaves out the PKCE parameters: the plain authorization
	// code grant, for confidential clients of servers that reject
	// code_challenge. Public clients must use PKCE (RFC 9700 Section
	// 2.1.1), so Validate rejects it with tokenendpoint.None.
	DisablePKCE bool
	// Issuer is the issuer identifier of the authorization server (RFC
	// 8414 Section 2). When set, an iss parameter in the authorization
	// response must equal it (RFC 9207 Section 2.4). When empty, iss is
	// not checked.
	Issuer string
	// RequireIssuer makes the iss parameter mandatory, as RFC 9207
	// Section 2.4 requires when the server metadata has
	// authorization_response_iss_parameter_supported set. It needs Issuer.
	RequireIssuer bool
	// RequestLifetime is how long a started request accepts its response
	// and code. Zero means DefaultRequestLifetime.
	RequestLifetime time.Duration
	// Clock tells the time by which started requests and used codes
	// expire. Nil means the system clock; the simulation mode gives its
	// virtual clock, on which the simulated server's codes expire too.
	Clock clock.Clock
}

// Validate reports the first configuration error in c, or nil.
func (c *Config) Validate() error {
	if c.Endpoint == nil {
		return errors.New("token endpoint is not configured")
	}
	if err := c.Endpoint.Validate(); err != nil {
		return err
	}
	if err := tokenendpoint.CheckEndpointURL("authorization endpoint", c.AuthorizationURL); err != nil {
		return err
	}
	if c.RedirectURI != "" {
		if err := checkRedirectURI(c.RedirectURI); err != nil {
			return err
		}
	}
	if c.DisablePKCE && c.Endpoint.AuthMethod == tokenendpoint.None {
		return errors.New("PKCE is disabled for a public client (auth method none): public clients must use PKCE (RFC 9700 Section 2.1.1)")
	}
	if c.RequireIssuer && c.Issuer == "" {
		return errors.New("the iss response parameter is required but no issuer is configured to compare it with")
	}
	if c.RequestLifetime < 0 {
		return errors.New("request lifetime is negative")
	}
	return checkScopes(c.Scopes)
}

// Request is a started authorization request.
type Request struct {
	// URL is the authorization request to open in the user's browser.
	URL string
	// State is the one-time value that the response must return (RFC
	// 6749 Section 4.1.1).
	State string
	// CodeVerifier is the PKCE code verifier (RFC 7636 Section 4.1), or
	// empty when PKCE is disabled.
	CodeVerifier secret.Secret
	// RedirectURI is the redirection endpoint the request names; the
	// token request sends the same value.
	RedirectURI string
}

// Response is an authorization response that passed the client's checks.
type Response struct {
	// Code is the authorization code (RFC 6749 Section 4.1.2).
	Code secret.Secret
	// State is the state of the request the response answers.
	State string
	// Issuer is the response's iss parameter, or empty when the server
	// sent none.
	Issuer string
	// RedirectURI is the redirection endpoint of the request.
	RedirectURI string
	// CodeVerifier is the PKCE code verifier of the request, or empty
	// when PKCE is disabled.
	CodeVerifier secret.Secret
}

// digest keys the maps of pending requests and used codes, so that
// secret values are not compared byte by byte with attacker input.
type digest [sha256.Size]byte

func digestOf(s string) digest { return sha256.Sum256([]byte(s)) }

// pending is a started request that has not been exchanged yet.
type pending struct {
	state       string
	verifier    secret.Secret
	redirectURI string
	expires     time.Time
	answered    bool   // HandleResponse accepted a response for it
	code        digest // the code of that response
}

// Flow runs authorization code grants for one client. Create it with New;
// it is safe for concurrent use.
type Flow struct {
	cfg       Config
	configErr error
	now       func() time.Time

	mu         sync.Mutex
	requests   map[*pending]struct{} // every request not yet exchanged
	byState    map[digest]*pending   // started, awaiting the response
	byVerifier map[digest]*pending   // started or answered, not exchanged
	byCode     map[digest]*pending   // answered, not exchanged
	usedCodes  map[digest]time.Time
}

// New returns a Flow for cfg. Configuration errors are reported by Start
// and Exchange, with code "invalid_config". New copies cfg.Scopes; the
// Endpoint must not be modified afterwards.
func New(cfg Config) *Flow {
	cfg.Scopes = append([]string(nil), cfg.Scopes...)
	if cfg.RequestLifetime == 0 {
		cfg.RequestLifetime = DefaultRequestLifetime
	}
	f := &Flow{
		cfg:        cfg,
		now:        func() time.Time { return clock.Now(cfg.Clock) },
		requests:   make(map[*pending]struct{}),
		byState:    make(map[digest]*pending),
		byVerifier: make(map[digest]*pending),
		byCode:     make(map[digest]*pending),
		usedCodes:  make(map[digest]time.Time),
	}
	if err := cfg.Validate(); err != nil {
		f.configErr = err
	}
	return f
}

func (f *Flow) configError(op string) error {
	return &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: f.configErr.Error()}
}

// Start builds an authorization request for redirectURI, or the
// configured one when it is empty, and scopes, or the configured ones when
// scopes is nil. The Flow remembers the request until its response is
// handled and its code exchanged, or RequestLifetime passes.
func (f *Flow) Start(redirectURI string, scopes []string) (*Request, error) {
	if f.configErr != nil {
		return nil, f.configError(OperationStart)
	}
	if redirectURI == "" {
		redirectURI = f.cfg.RedirectURI
	}
	if redirectURI == "" {
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidConfig, Description: "no redirect_uri is configured or given"}
	}
	if err := checkRedirectURI(redirectURI); err != nil {
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidRequest, Description: err.Error()}
	}
	if scopes == nil {
		scopes = f.cfg.Scopes
	} else if err := checkScopes(scopes); err != nil {
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidRequest, Description: err.Error()}
	}

	state, err := randomString()
	if err != nil {
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidConfig, Description: "cannot generate state", Err: err}
	}
	authURL, err := url.Parse(f.cfg.AuthorizationURL)
	if err != nil {
		return nil, f.configError(OperationStart)
	}
	q := authURL.Query()
	q.Set("response_type", "code")
	q.Set("client_id", f.cfg.Endpoint.ClientID)
	q.Set("redirect_uri", redirectURI)
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	q.Set("state", state)
	req := &Request{State: state, RedirectURI: redirectURI}
	if !f.cfg.DisablePKCE {
		verifier, err := NewCodeVerifier()
		if err != nil {
			return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidConfig, Description: "cannot generate code verifier", Err: err}
		}
		req.CodeVerifier = verifier
		q.Set("code_challenge", CodeChallengeS256(verifier))
		q.Set("code_challenge_method", "S256")
	}
	authURL.RawQuery = q.Encode()
	req.URL = authURL.String()

	p := &pending{
		state:       state,
		verifier:    req.CodeVerifier,
		redirectURI: redirectURI,
		expires:     f.now().Add(f.cfg.RequestLifetime),
	}
	f.mu.Lock()
	f.pruneLocked()
	if len(f.requests) >= MaxPendingRequests {
		f.forgetOldestLocked()
	}
	f.requests[p] = struct{}{}
	f.byState[digestOf(state)] = p
	if p.verifier != "" {
		f.byVerifier[digestOf(p.verifier.Reveal())] = p
	}
	f.mu.Unlock()
	return req, nil
}

// HandleResponse checks the authorization response whose parameters are
// params: the redirect URI's query, or the form of a form_post response.
//
// The state must match a pending request; it is then used up, whatever the
// outcome. The iss parameter, when present or required, must equal the
// configured issuer. An error response is returned as an *oautherr.Error
// with the server's error, error_description and error_uri. On success,
// the Response holds the code, and the request's redirect URI and code
// verifier, which Exchange will use.
func (f *Flow) HandleResponse(params url.Values) (*Response, error) {
	state := params.Get("state")
	if state == "" {
		return nil, responseError(CodeInvalidState, "authorization response has no state parameter")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked()
	key := digestOf(state)
	p := f.byState[key]
	if p == nil || subtle.ConstantTimeCompare([]byte(p.state), []byte(state)) != 1 {
		return nil, responseError(CodeInvalidState, "state of the authorization response matches no pending request: it is forged, replayed or expired")
	}
	delete(f.byState, key) // one-time

	iss, hasIss := params["iss"]
	switch {
	case hasIss && f.cfg.Issuer != "" && (len(iss) != 1 || iss[0] != f.cfg.Issuer):
		f.forgetLocked(p)
		return nil, responseError(CodeInvalidIssuer, fmt.Sprintf("iss of the authorization response is not the issuer %q (RFC 9207 Section 2.4)", f.cfg.Issuer))
	case !hasIss && f.cfg.RequireIssuer:
		f.forgetLocked(p)
		return nil, responseError(CodeInvalidIssuer, "authorization response has no iss parameter, which the server promised (RFC 9207 Section 2.4)")
	}

	if code := params.Get("error"); code != "" {
		f.forgetLocked(p)
		return nil, &oautherr.Error{
			Op:          OperationResponse,
			Code:        code,
			Description: params.Get("error_description"),
			URI:         params.Get("error_uri"),
		}
	}
	code := params.Get("code")
	if code == "" {
		f.forgetLocked(p)
		return nil, responseError(oautherr.CodeInvalidResponse, "authorization response has neither code nor error")
	}
	p.answered = true
	p.code = digestOf(code)
	f.byCode[p.code] = p
	return &Response{
		Code:         secret.Secret(code),
		State:        state,
		Issuer:       params.Get("iss"),
		RedirectURI:  p.redirectURI,
		CodeVerifier: p.verifier,
	}, nil
}

func responseError(code, description string) *oautherr.Error {
	return &oautherr.Error{Op: OperationResponse, Code: code, Description: description}
}

// Exchange sends the access token request of RFC 6749 Section 4.1.3 for
// code and returns the issued token.
//
// redirectURI and codeVerifier may be empty: they are then taken from the
// request that HandleResponse matched with this code, or whose verifier
// is given, or redirectURI from the configuration. Given values must agree
// with that request. The request is consumed, and the code is remembered
// before it is sent: Exchange never sends the same code twice, even when
// the first attempt failed, and answers a second attempt with
// "invalid_grant" without contacting the server.
func (f *Flow) Exchange(ctx context.Context, code secret.Secret, redirectURI string, codeVerifier secret.Secret) (*token.Token, error) {
	if f.configErr != nil {
		return nil, f.configError(OperationExchange)
	}
	if code == "" {
		return nil, exchangeError(oautherr.CodeInvalidRequest, "authorization code is empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, &oautherr.Error{Op: OperationExchange, Code: oautherr.CodeCanceled, Description: "context ended before the token request was sent", Err: context.Cause(ctx)}
	}
	params, err := f.claim(code, redirectURI, codeVerifier)
	if err != nil {
		return nil, err
	}
	return f.cfg.Endpoint.Exchange(ctx, OperationExchange, params)
}

// claim finds the request that code answers, checks the arguments against
// it, marks the code used and returns the token request parameters.
func (f *Flow) claim(code secret.Secret, redirectURI string, codeVerifier secret.Secret) (url.Values, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked()
	codeKey := digestOf(code.Reveal())
	if _, used := f.usedCodes[codeKey]; used {
		return nil, exchangeError(oautherr.CodeInvalidGrant, "authorization code was already sent to the token endpoint; a code is used once (RFC 6749 Section 4.1.2)")
	}

	p := f.byCode[codeKey]
	if p == nil && codeVerifier != "" {
		if p = f.byVerifier[digestOf(codeVerifier.Reveal())]; p != nil && p.answered {
			return nil, exchangeError(oautherr.CodeInvalidRequest, "code_verifier belongs to an authorization request that was answered with another code")
		}
	}
	if p != nil {
		if redirectURI != "" && redirectURI != p.redirectURI {
			return nil, exchangeError(oautherr.CodeInvalidRequest, fmt.Sprintf("redirect_uri %q differs from %q of the authorization request (RFC 6749 Section 4.1.3)", redirectURI, p.redirectURI))
		}
		if codeVerifier != "" && subtle.ConstantTimeCompare([]byte(codeVerifier), []byte(p.verifier)) != 1 {
			return nil, exchangeError(oautherr.CodeInvalidRequest, "code_verifier differs from the one of the authorization request")
		}
		redirectURI, codeVerifier = p.redirectURI, p.verifier
	}
	if redirectURI == "" {
		redirectURI = f.cfg.RedirectURI
	}
	if redirectURI == "" {
		return nil, exchangeError(oautherr.CodeInvalidRequest, "no redirect_uri: give the one of the authorization request")
	}
	if codeVerifier == "" && !f.cfg.DisablePKCE {
		return nil, exchangeError(oautherr.CodeInvalidRequest, "no code_verifier: give the one that Start returned (RFC 7636 Section 4.5)")
	}
	if codeVerifier != "" && !validCodeVerifier(codeVerifier.Reveal()) {
		return nil, exchangeError(oautherr.CodeInvalidRequest, "code_verifier is not 43 to 128 unreserved characters (RFC 7636 Section 4.1)")
	}

	if p != nil {
		f.forgetLocked(p)
	}
	f.usedCodes[codeKey] = f.now().Add(f.cfg.RequestLifetime)

	params := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code.Reveal()},
		"redirect_uri": {redirectURI},
	}
	if codeVerifier != "" {
		params.Set("code_verifier", codeVerifier.Reveal())
	}
	return params, nil
}

func exchangeError(code, description string) *oautherr.Error {
	return &oautherr.Error{Op: OperationExchange, Code: code, Description: description}
}

// forgetLocked removes p from every index. f.mu must be held.
func (f *Flow) forgetLocked(p *pending) {
	delete(f.requests, p)
	if k := digestOf(p.state); f.byState[k] == p {
		delete(f.byState, k)
	}
	if p.verifier != "" {
		if k := digestOf(p.verifier.Reveal()); f.byVerifier[k] == p {
			delete(f.byVerifier, k)
		}
	}
	if p.answered && f.byCode[p.code] == p {
		delete(f.byCode, p.code)
	}
}

// pruneLocked drops expired requests and used codes. f.mu must be held.
func (f *Flow) pruneLocked() {
	now := f.now()
	for p := range f.requests {
		if !now.Before(p.expires) {
			f.forgetLocked(p)
		}
	}
	for k, until := range f.usedCodes {
		if !now.Before(until) {
			delete(f.usedCodes, k)
		}
	}
}

// forgetOldestLocked drops the request that expires first. f.mu must be
// held.
func (f *Flow) forgetOldestLocked() {
	var oldest *pending
	for p := range f.requests {
		if oldest == nil || p.expires.Before(oldest.expires) {
			oldest = p
		}
	}
	if oldest != nil {
		f.forgetLocked(oldest)
	}
}

// NewCodeVerifier returns a PKCE code verifier: 256 bits from crypto/rand
// encoded as 43 base64url characters, as RFC 7636 Section 4.1 recommends.
func NewCodeVerifier() (secret.Secret, error) {
	s, err := randomString()
	return secret.Secret(s), err
}

// CodeChallengeS256 returns the S256 code challenge of verifier:
// BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 Section 4.2).
func CodeChallengeS256(verifier secret.Secret) string {
	sum := sha256.Sum256([]byte(verifier.Reveal()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns 32 bytes from crypto/rand, base64url encoded
// without padding: 43 characters.
func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validCodeVerifier reports whether v matches code-verifier of RFC 7636
// Section 4.1: 43 to 128 of ALPHA / DIGIT / "-" / "." / "_" / "~".
func validCodeVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// checkRedirectURI checks the rules of RFC 6749 Section 3.1.2: an
// absolute URI without a fragment.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("redirect_uri %q cannot be parsed", s)
	}
	if !u.IsAbs() || (u.Host == "" && u.Opaque == "" && (u.Scheme == "http" || u.Scheme == "https")) {
		return fmt.Errorf("redirect_uri %q is not an absolute URI (RFC 6749 Section 3.1.2)", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("redirect_uri %q has a fragment (RFC 6749 Section 3.1.2)", s)
	}
	return nil
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
