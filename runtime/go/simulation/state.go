package simulation

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// Subject is the resource owner on whose behalf the authorization
// endpoint approves every request.
const Subject = "simulated-user"

// clientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 Section 2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// minPrune is the number of issued tokens or codes above which spent
// ones are forgotten.
const minPrune = 4096

// family links the tokens issued under one grant, so that revoking its
// refresh token, or reusing a rotated one or a code, revokes them all
// (RFC 7009 Section 2.1, RFC 9700 Section 4.14.2, RFC 6749 Section 4.1.2).
type family struct{ revoked bool }

// issued is an issued access or refresh token.
type issued struct {
	refresh   bool
	family    *family
	clientID  string
	subject   string
	grantType string
	scopes    []string
	issuedAt  time.Time
	expiresAt time.Time // zero: never
	revoked   bool
	rotated   bool // a refresh token that was used
}

func (t *issued) active(now time.Time) bool {
	return !t.revoked && !t.rotated && !t.family.revoked && (t.expiresAt.IsZero() || now.Before(t.expiresAt))
}

// issuedCode is an authorization code.
type issuedCode struct {
	clientID    string
	redirectURI string
	challenge   string
	method      string
	scopes      []string
	expires     time.Time
	used        bool
	family      *family
}

// Issued describes a token the server issued, in virtual time.
type Issued struct {
	// Refresh reports a refresh token; otherwise it is an access token.
	Refresh bool
	// ClientID is the client it was issued to.
	ClientID string
	// Subject is the resource owner, or the client for the client
	// credentials grant.
	Subject string
	// GrantType is the grant_type of the request that issued it.
	GrantType string
	// Scopes are the granted scopes.
	Scopes []string
	// IssuedAt and ExpiresAt are virtual times; ExpiresAt is zero for a
	// token that does not expire.
	IssuedAt, ExpiresAt time.Time
	// Active reports whether the token is usable now: not expired,
	// revoked or rotated.
	Active bool
	// Revoked reports a token revoked, directly or with its grant.
	Revoked bool
	// Rotated reports a refresh token that has been exchanged.
	Rotated bool
}

// Lookup describes the token value, as the server sees it at the current
// virtual time. It reports false for a value it never issued, or has
// forgotten since it expired, was revoked or was rotated.
func (s *Server) Lookup(value string) (Issued, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[value]
	if t == nil {
		return Issued{}, false
	}
	return Issued{
		Refresh:   t.refresh,
		ClientID:  t.clientID,
		Subject:   t.subject,
		GrantType: t.grantType,
		Scopes:    slices.Clone(t.scopes),
		IssuedAt:  t.issuedAt,
		ExpiresAt: t.expiresAt,
		Active:    t.active(s.clock.Now()),
		Revoked:   t.revoked || t.family.revoked,
		Rotated:   t.rotated,
	}, true
}

// caller is an authenticated client, or the anonymous caller of a JWT
// bearer grant (RFC 7523 Section 3.1: client authentication is optional).
type caller struct {
	id     string
	public bool
}

// authenticate checks the client authentication of a request to the
// token, revocation or introspection endpoint.
func (s *Server) authenticate(r *http.Request, form url.Values) (caller, *answer) {
	user, pass, basic := r.BasicAuth()
	var id, sec, method string
	methods := 0
	if basic {
		methods++
		method = "client_secret_basic"
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		sec, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return caller{}, invalidClient(true, "the Basic credentials are not form-encoded (RFC 6749 Section 2.3.1)")
		}
	}
	if form.Has("client_secret") {
		methods++
		method = "client_secret_post"
		id, sec = form.Get("client_id"), form.Get("client_secret")
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		methods++
		method = "private_key_jwt"
		if form.Get("client_assertion_type") != clientAssertionType {
			return caller{}, invalidClient(false, "client_assertion_type must be "+clientAssertionType)
		}
		claims, err := parseJWT(form.Get("client_assertion"))
		if err != nil {
			return caller{}, invalidClient(false, "client_assertion: "+err.Error())
		}
		iss, _ := claims["iss"].(string)
		sub, _ := claims["sub"].(string)
		if iss == "" || iss != sub {
			return caller{}, invalidClient(false, "client_assertion: iss and sub must both be the client id (RFC 7523 Section 3)")
		}
		id = iss
	}
	if methods > 1 {
		return caller{}, errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "more than one client authentication method (RFC 6749 Section 2.3)")
	}
	if methods == 0 {
		method = "none"
		id = form.Get("client_id")
	} else if cid := form.Get("client_id"); cid != "" && cid != id {
		return caller{}, invalidClient(basic, "client_id does not match the authenticated client")
	}
	if id == "" {
		if form.Get("grant_type") == GrantJWTBearer {
			return caller{}, nil
		}
		return caller{}, invalidClient(basic, "no client identification")
	}
	if s.clients == nil {
		// Anything goes, including the client credentials grant for a
		// client that only names itself, as tls_client_auth looks here.
		return caller{id: id}, nil
	}
	cl, ok := s.clients[id]
	switch {
	case !ok:
		return caller{}, invalidClient(basic, "unknown client")
	case method == "none" && !cl.Secret.IsZero():
		return caller{}, invalidClient(basic, "the client must authenticate")
	case (method == "client_secret_basic" || method == "client_secret_post") &&
		(cl.Secret.IsZero() || subtle.ConstantTimeCompare([]byte(sec), []byte(cl.Secret.Reveal())) != 1):
		return caller{}, invalidClient(basic, "client authentication failed")
	}
	return caller{id: id, public: method == "none"}, nil
}

// invalidClient is the 401 invalid_client answer, with the challenge RFC
// 6749 Section 5.2 requires when the client used the Authorization header.
func invalidClient(basic bool, description string) *answer {
	a := errorAnswer(http.StatusUnauthorized, oautherr.CodeInvalidClient, description)
	if basic {
		a.header.Set("WWW-Authenticate", `Basic realm="simulation"`)
	}
	return a
}

// parseJWT checks that raw is a well-formed JWS compact serialisation
// (RFC 7515 Section 7.1) with an alg other than none and a JSON object
// payload, and returns the payload's claims. The signature is not
// checked.
func parseJWT(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[2] == "" {
		return nil, errors.New("not a signed JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, errors.New("the JWT header is not base64url-encoded JSON")
	}
	if header.Alg == "" || strings.EqualFold(header.Alg, "none") {
		return nil, errors.New("the JWT is not signed")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the JWT payload is not base64url-encoded")
	}
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil || claims == nil {
		return nil, errors.New("the JWT payload is not a JSON object")
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, errors.New("the JWT signature is not base64url-encoded")
	}
	return claims, nil
}

// scopesLocked checks requested scopes and returns those granted: the
// request's, or Config.Scopes when it names none.
func (s *Server) scopesLocked(requested string) ([]string, error) {
	list := strings.Fields(requested)
	for _, sc := range list {
		if !validScope(sc) {
			return nil, fmt.Errorf("%q is not a scope token", sc)
		}
		if len(s.cfg.Scopes) > 0 && !slices.Contains(s.cfg.Scopes, sc) {
			return nil, fmt.Errorf("scope %q is not granted to clients", sc)
		}
	}
	if len(list) == 0 {
		return slices.Clone(s.cfg.Scopes), nil
	}
	return list, nil
}

// tokenLocked serves the token endpoint; s.mu is held.
func (s *Server) tokenLocked(cl caller, form url.Values, now time.Time) *answer {
	grant := form.Get("grant_type")
	switch grant {
	case "":
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "grant_type is missing")
	case GrantClientCredentials:
		if cl.public {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeUnauthorizedClient, "the client credentials grant is for confidential clients (RFC 6749 Section 4.4)")
		}
		scopes, err := s.scopesLocked(form.Get("scope"))
		if err != nil {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidScope, err.Error())
		}
		return s.issueLocked(now, cl.id, cl.id, grant, scopes, false, &family{})
	case GrantRefreshToken:
		return s.refreshLocked(cl, form, now)
	case GrantAuthorizationCode:
		return s.exchangeCodeLocked(cl, form, now)
	case GrantJWTBearer:
		claims, err := parseJWT(form.Get("assertion"))
		if err != nil {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "assertion: "+err.Error())
		}
		iss, _ := claims["iss"].(string)
		sub, _ := claims["sub"].(string)
		_, hasAud := claims["aud"]
		_, hasExp := claims["exp"].(float64)
		if iss == "" || sub == "" || !hasAud || !hasExp {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "assertion: iss, sub, aud and exp are required (RFC 7523 Section 3)")
		}
		scopes, err := s.scopesLocked(form.Get("scope"))
		if err != nil {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidScope, err.Error())
		}
		clientID := cl.id
		if clientID == "" {
			clientID = iss
		}
		return s.issueLocked(now, clientID, sub, grant, scopes, false, &family{})
	default:
		return errorAnswer(http.StatusBadRequest, oautherr.CodeUnsupportedGrantType, fmt.Sprintf("grant_type %q is not supported", grant))
	}
}

// refreshLocked serves the refresh token grant (RFC 6749 Section 6).
func (s *Server) refreshLocked(cl caller, form url.Values, now time.Time) *answer {
	value := form.Get("refresh_token")
	if value == "" {
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "refresh_token is missing")
	}
	t := s.tokens[value]
	switch {
	case t == nil || !t.refresh || t.clientID != cl.id:
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "unknown refresh token")
	case t.rotated:
		t.family.revoked = true
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "the refresh token was already used: its grant is revoked (RFC 9700 Section 4.14.2)")
	case !t.active(now):
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "the refresh token is expired or revoked")
	}
	scopes := t.scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		for _, sc := range requested {
			if !slices.Contains(t.scopes, sc) {
				return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidScope, fmt.Sprintf("scope %q was not granted originally (RFC 6749 Section 6)", sc))
			}
		}
		scopes = requested
	}
	rotate := !s.cfg.KeepRefreshTokens
	if rotate {
		t.rotated = true
	}
	return s.issueLocked(now, cl.id, t.subject, GrantRefreshToken, scopes, rotate, t.family)
}

// exchangeCodeLocked serves the authorization code grant (RFC 6749
// Section 4.1.3, RFC 7636 Section 4.6).
func (s *Server) exchangeCodeLocked(cl caller, form url.Values, now time.Time) *answer {
	c := s.codes[form.Get("code")]
	switch {
	case c == nil || c.clientID != cl.id:
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "unknown authorization code")
	case c.used:
		c.family.revoked = true
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "the authorization code was already used: the tokens issued with it are revoked (RFC 6749 Section 4.1.2)")
	case !now.Before(c.expires):
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "the authorization code has expired")
	case form.Get("redirect_uri") != c.redirectURI:
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "redirect_uri does not match the authorization request (RFC 6749 Section 4.1.3)")
	}
	verifier := form.Get("code_verifier")
	if c.challenge == "" {
		if verifier != "" {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "code_verifier without a code_challenge in the authorization request")
		}
	} else {
		got := verifier
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			got = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if verifier == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.challenge)) != 1 {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidGrant, "code_verifier does not match the code_challenge (RFC 7636 Section 4.6)")
		}
	}
	c.used = true
	return s.issueLocked(now, cl.id, Subject, GrantAuthorizationCode, c.scopes, true, c.family)
}

// tokenResponse is the successful token response (RFC 6749 Section 5.1).
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token,omitempty"`
	Scope        string      `json:"scope,omitempty"`
}

// issueLocked issues an access token, and a refresh token when
// withRefresh, under the grant family f.
func (s *Server) issueLocked(now time.Time, clientID, subject, grantType string, scopes []string, withRefresh bool, f *family) *answer {
	at := &issued{family: f, clientID: clientID, subject: subject, grantType: grantType, scopes: scopes, issuedAt: now, expiresAt: now.Add(s.lifetime)}
	resp := tokenResponse{
		AccessToken: s.newValueLocked(AccessTokenPrefix),
		TokenType:   "Bearer",
		ExpiresIn:   json.Number(strconv.FormatFloat(s.lifetime.Seconds(), 'f', -1, 64)),
		Scope:       strings.Join(scopes, " "),
	}
	s.tokens[resp.AccessToken] = at
	s.stats.AccessTokens++
	if withRefresh {
		rt := *at
		rt.refresh, rt.expiresAt = true, time.Time{}
		if s.cfg.RefreshTokenLifetime > 0 {
			rt.expiresAt = now.Add(s.cfg.RefreshTokenLifetime)
		}
		resp.RefreshToken = s.newValueLocked(RefreshTokenPrefix)
		s.tokens[resp.RefreshToken] = &rt
		s.stats.RefreshTokens++
	}
	s.pruneLocked(now)
	return jsonAnswer(http.StatusOK, resp)
}

// newValueLocked returns a new token or code value: unique, and the same
// on every run of a sequential test with the same seed.
func (s *Server) newValueLocked(prefix string) string {
	s.serial++
	return fmt.Sprintf("%s%06d_%016x", prefix, s.serial, s.rng.Uint64())
}

// pruneLocked forgets spent tokens and codes once there are many.
func (s *Server) pruneLocked(now time.Time) {
	if len(s.tokens) < s.pruneAt && len(s.codes) < s.pruneAt {
		return
	}
	for v, t := range s.tokens {
		if !t.active(now) {
			delete(s.tokens, v)
		}
	}
	for v, c := range s.codes {
		if c.used || !now.Before(c.expires) {
			delete(s.codes, v)
		}
	}
	s.pruneAt = max(minPrune, 2*max(len(s.tokens), len(s.codes)))
}

// authorizeLocked serves the authorization endpoint (RFC 6749 Section
// 4.1.1), approving every valid request on behalf of Subject.
func (s *Server) authorizeLocked(issuer string, q url.Values, now time.Time) *answer {
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "client_id is missing")
	}
	var registered *Client
	if s.clients != nil {
		cl, ok := s.clients[clientID]
		if !ok {
			return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "unknown client")
		}
		registered = &cl
	}
	// RFC 6749 Section 4.1.2.1: without a valid redirection URI, tell the
	// user, not the client.
	if u, err := url.Parse(redirect); redirect == "" || err != nil || !u.IsAbs() || u.Fragment != "" {
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "redirect_uri is missing or not an absolute URI without fragment")
	}
	state := q.Get("state")
	fail := func(code, description string) *answer {
		p := url.Values{"error": {code}, "error_description": {description}, "iss": {issuer}}
		if state != "" {
			p.Set("state", state)
		}
		return redirectAnswer(redirect, p)
	}
	if q.Get("response_type") != "code" {
		return fail("unsupported_response_type", "only response_type=code is supported")
	}
	scopes, err := s.scopesLocked(q.Get("scope"))
	if err != nil {
		return fail(oautherr.CodeInvalidScope, err.Error())
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return fail(oautherr.CodeInvalidRequest, "code_challenge_method without code_challenge")
	case challenge == "" && registered != nil && registered.Secret.IsZero():
		return fail(oautherr.CodeInvalidRequest, "public clients must use PKCE (RFC 9700 Section 2.1.1)")
	case challenge != "":
		if method == "" {
			method = "plain" // RFC 7636 Section 4.3
		}
		if method != "S256" && method != "plain" {
			return fail(oautherr.CodeInvalidRequest, fmt.Sprintf("code_challenge_method %q: want \"S256\" or \"plain\"", method))
		}
		if n := len(challenge); n < 43 || n > 128 {
			return fail(oautherr.CodeInvalidRequest, "code_challenge must be 43 to 128 characters (RFC 7636 Section 4.2)")
		}
	}
	code := s.newValueLocked(CodePrefix)
	s.codes[code] = &issuedCode{
		clientID:    clientID,
		redirectURI: redirect,
		challenge:   challenge,
		method:      method,
		scopes:      scopes,
		expires:     now.Add(CodeLifetime),
		family:      &family{},
	}
	p := url.Values{"code": {code}, "iss": {issuer}}
	if state != "" {
		p.Set("state", state)
	}
	return redirectAnswer(redirect, p)
}

// revokeLocked serves the revocation endpoint (RFC 7009 Section 2).
func (s *Server) revokeLocked(cl caller, form url.Values) *answer {
	value := form.Get("token")
	if value == "" {
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "token is missing")
	}
	// RFC 7009 Section 2.2: an unknown token, or one of another client,
	// is answered 200 all the same; token_type_hint only speeds lookup.
	if t := s.tokens[value]; t != nil && t.clientID == cl.id {
		if t.refresh {
			t.family.revoked = true // and the access tokens of its grant (Section 2.1)
		} else {
			t.revoked = true
		}
	}
	return &answer{status: http.StatusOK, header: http.Header{"Cache-Control": {"no-store"}}}
}

// introspectLocked serves the introspection endpoint (RFC 7662 Section 2).
func (s *Server) introspectLocked(issuer string, form url.Values, now time.Time) *answer {
	value := form.Get("token")
	if value == "" {
		return errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "token is missing")
	}
	t := s.tokens[value]
	if t == nil || !t.active(now) {
		return jsonAnswer(http.StatusOK, map[string]any{"active": false})
	}
	resp := map[string]any{
		"active":    true,
		"client_id": t.clientID,
		"sub":       t.subject,
		"iss":       issuer,
		"iat":       t.issuedAt.Unix(),
	}
	if len(t.scopes) > 0 {
		resp["scope"] = strings.Join(t.scopes, " ")
	}
	if !t.expiresAt.IsZero() {
		resp["exp"] = t.expiresAt.Unix()
	}
	if !t.refresh {
		resp["token_type"] = "Bearer"
	}
	return jsonAnswer(http.StatusOK, resp)
}
