package mock

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// server is the mock authorization server: it issues, rotates, revokes
// and introspects synthetic tokens and codes, in memory.
type server struct {
	clientID string
	lifetime time.Duration
	allowed  []string
	classify oautherr.Classifier

	mu      sync.Mutex
	tokens  map[string]*issued // by token value
	codes   map[string]*issuedCode
	pruneAt int
}

// grant links the tokens issued under one authorization grant, so that
// revoking its refresh token revokes them all (RFC 7009 Section 2.1).
type grant struct{ revoked bool }

// issued is an issued access or refresh token.
type issued struct {
	refresh   bool
	grant     *grant
	partner   *issued // the refresh token issued with an access token, or the reverse
	scopes    []string
	subject   string
	issuedAt  time.Time
	expiresAt time.Time // zero for refresh tokens, which expire only by use or revocation
	revoked   bool
	rotated   bool // a refresh token that was used
}

func (t *issued) active(now time.Time) bool {
	return !t.revoked && !t.grant.revoked && (t.expiresAt.IsZero() || now.Before(t.expiresAt))
}

// issuedCode is an authorization code waiting for its exchange.
type issuedCode struct {
	redirectURI string
	challenge   string
	scopes      []string
	expires     time.Time
}

const minPrune = 4096

func newServer(clientID string, lifetime time.Duration, allowed []string, classify oautherr.Classifier) *server {
	return &server{
		clientID: clientID,
		classify: classify,
		lifetime: lifetime,
		allowed:  slices.Clone(allowed),
		tokens:   make(map[string]*issued),
		codes:    make(map[string]*issuedCode),
		pruneAt:  minPrune,
	}
}

// error is an error response of the mock server, as the real client
// reports it: the status a server sends with code, and retryable as the
// real client classifies it.
func (s *server) error(op, code, description string) *oautherr.Error {
	status := StatusFor(code)
	return &oautherr.Error{Op: op, Code: code, Description: description, StatusCode: status,
		Retryable: status >= 500 || status == 429 || s.classify(code)}
}

// checkScopes reports the first requested scope the server does not grant.
func (s *server) checkScopes(op string, scopes []string) *oautherr.Error {
	for _, sc := range scopes {
		if !validScope(sc) {
			return s.error(op, oautherr.CodeInvalidScope, fmt.Sprintf("scope %q is not a scope token (RFC 6749 Section 3.3)", sc))
		}
		if len(s.allowed) > 0 && !slices.Contains(s.allowed, sc) {
			return s.error(op, oautherr.CodeInvalidScope, fmt.Sprintf("the client may not request scope %q", sc))
		}
	}
	return nil
}

// issue issues an access token, and a refresh token when withRefresh,
// under g (a new grant when nil).
func (s *server) issue(op, subject string, scopes []string, withRefresh bool, g *grant) (*token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(op, subject, scopes, withRefresh, g)
}

func (s *server) issueLocked(op, subject string, scopes []string, withRefresh bool, g *grant) (*token.Token, error) {
	if err := s.checkScopes(op, scopes); err != nil {
		return nil, err
	}
	now := time.Now()
	s.pruneLocked(now)
	if g == nil {
		g = &grant{}
	}
	scopes = slices.Clone(scopes)
	at := &issued{grant: g, scopes: scopes, subject: subject, issuedAt: now, expiresAt: now.Add(s.lifetime)}
	tok := &token.Token{
		AccessToken: secret.Secret(AccessTokenPrefix + rand.Text()),
		TokenType:   token.TypeBearer,
		ExpiresAt:   at.expiresAt,
		Scopes:      slices.Clone(scopes),
	}
	s.tokens[tok.AccessToken.Reveal()] = at
	if withRefresh {
		rt := &issued{refresh: true, grant: g, scopes: scopes, subject: subject, issuedAt: now, partner: at}
		at.partner = rt
		tok.RefreshToken = secret.Secret(RefreshTokenPrefix + rand.Text())
		s.tokens[tok.RefreshToken.Reveal()] = rt
	}
	return tok, nil
}

// pruneLocked forgets tokens that can no longer be active once the table
// has grown, so that a long test does not grow it without bound. A
// forgotten token is unknown, which introspects and refreshes exactly as
// an inactive one does.
func (s *server) pruneLocked(now time.Time) {
	if len(s.tokens) < s.pruneAt {
		return
	}
	for v, t := range s.tokens {
		if !t.active(now) {
			delete(s.tokens, v)
		}
	}
	s.pruneAt = max(minPrune, 2*len(s.tokens))
}

// refresh rotates the refresh token rt (RFC 6749 Section 6, RFC 9700
// Section 4.14.2): the old refresh token and its access token end, and a
// used refresh token presented again revokes its whole grant.
func (s *server) refresh(op, rt string) (*token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[rt]
	switch {
	case t == nil || !t.refresh:
		return nil, s.error(op, oautherr.CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	case t.rotated:
		t.grant.revoked = true
		return nil, s.error(op, oautherr.CodeInvalidGrant, "the refresh token was already used: its grant is revoked (RFC 9700 Section 4.14.2)")
	case !t.active(time.Now()):
		return nil, s.error(op, oautherr.CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	}
	t.rotated, t.revoked = true, true
	if t.partner != nil {
		t.partner.revoked = true
	}
	return s.issueLocked(op, t.subject, t.scopes, true, t.grant)
}

// revoke ends the token v, if the server issued it (RFC 7009 Section 2.1).
func (s *server) revoke(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[v]
	if t == nil {
		return
	}
	t.revoked = true
	if t.refresh {
		t.grant.revoked = true
	}
}

// introspect answers an introspection request for v (RFC 7662 Section
// 2.2): only "active": false for a token that is not active.
func (s *server) introspect(v string) *authcore.Introspection {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[v]
	if t == nil || !t.active(time.Now()) {
		return &authcore.Introspection{}
	}
	r := &authcore.Introspection{
		Active:    true,
		Scopes:    slices.Clone(t.scopes),
		ClientID:  s.clientID,
		Subject:   t.subject,
		IssuedAt:  t.issuedAt,
		ExpiresAt: t.expiresAt,
		Issuer:    DefaultIssuer,
	}
	if !t.refresh {
		r.TokenType = token.TypeBearer
	}
	return r
}

// authorize answers the authorization request authURL (RFC 6749 Section
// 4.1.1) with a redirection: a code, or the error denial when not empty.
func (s *server) authorize(authURL, denial string) (string, error) {
	const op = "authorize"
	u, err := url.Parse(authURL)
	if err != nil || u.Scheme+"://"+u.Host != DefaultIssuer || u.Path != AuthorizationPath {
		return "", s.error(op, oautherr.CodeInvalidRequest, "not an authorization request to the mock server "+DefaultIssuer+AuthorizationPath)
	}
	q := u.Query()
	if id := q.Get("client_id"); id != s.clientID {
		return "", s.error(op, oautherr.CodeInvalidRequest, fmt.Sprintf("unknown client_id %q", id))
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Fragment != "" {
		return "", s.error(op, oautherr.CodeInvalidRequest, fmt.Sprintf("redirect_uri %q is not an absolute URI without a fragment", q.Get("redirect_uri")))
	}
	answer := redirect.Query()
	if state := q.Get("state"); state != "" {
		answer.Set("state", state)
	}
	answer.Set("iss", DefaultIssuer)
	fail := func(code, description string) (string, error) {
		answer.Set("error", code)
		answer.Set("error_description", description)
		redirect.RawQuery = answer.Encode()
		return redirect.String(), nil
	}

	scopes := strings.Fields(q.Get("scope"))
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "the mock server supports response_type=code only")
	case denial != "":
		return fail(denial, "the resource owner denied the request")
	case challenge != "" && method != "S256":
		return fail(oautherr.CodeInvalidRequest, "code_challenge_method must be S256 (RFC 9700 Section 2.1.1)")
	case challenge == "" && method != "":
		return fail(oautherr.CodeInvalidRequest, "code_challenge_method without code_challenge")
	}
	if err := s.checkScopes(op, scopes); err != nil {
		return fail(oautherr.CodeInvalidScope, err.Description)
	}

	code := CodePrefix + rand.Text()
	now := time.Now()
	s.mu.Lock()
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	s.codes[code] = &issuedCode{redirectURI: q.Get("redirect_uri"), challenge: challenge, scopes: scopes, expires: now.Add(CodeLifetime)}
	s.mu.Unlock()
	answer.Set("code", code)
	redirect.RawQuery = answer.Encode()
	return redirect.String(), nil
}

// exchangeCode is the token request of RFC 6749 Section 4.1.3: the code
// is used up whatever the outcome, and must come with the redirect URI of
// its request and the verifier of its PKCE challenge (RFC 7636 Section
// 4.6).
func (s *server) exchangeCode(op, code, redirectURI, verifier string) (*token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[code]
	delete(s.codes, code)
	switch {
	case c == nil || !time.Now().Before(c.expires):
		return nil, s.error(op, oautherr.CodeInvalidGrant, "the authorization code is invalid, expired or used")
	case redirectURI != "" && redirectURI != c.redirectURI:
		return nil, s.error(op, oautherr.CodeInvalidGrant, "redirect_uri differs from the one of the authorization request (RFC 6749 Section 4.1.3)")
	case c.challenge != "" && verifier == "":
		return nil, s.error(op, oautherr.CodeInvalidGrant, "code_verifier is missing (RFC 7636 Section 4.5)")
	case c.challenge != "" && authcode.CodeChallengeS256(secret.Secret(verifier)) != c.challenge:
		return nil, s.error(op, oautherr.CodeInvalidGrant, "code_verifier does not match the code_challenge (RFC 7636 Section 4.6)")
	}
	return s.issueLocked(op, Subject, c.scopes, true, nil)
}

// validScope reports whether s is a scope-token of RFC 6749 Section 3.3:
// one or more of %x21 / %x23-5B / %x5D-7E.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
