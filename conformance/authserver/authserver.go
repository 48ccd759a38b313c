// Package authserver runs a real OAuth 2.0 authorization server, built on
// ory/fosite, for conformance tests of coyotegen client runtimes.
//
// The server listens on a loopback address and offers:
//
//   - /oauth2/token, the token endpoint (RFC 6749 Section 3.2) for the
//     client credentials (Section 4.4), authorization code (Section 4.1,
//     with PKCE, RFC 7636), refresh token (Section 6) and JWT bearer
//     (RFC 7523 Section 2.1) grants;
//   - /oauth2/auth, the authorization endpoint (Section 3.1), which
//     approves every valid request at once on behalf of the test user
//     [Subject] and names the issuer in the iss parameter of every
//     redirection, success or error (RFC 9207);
//   - /oauth2/revoke, token revocation (RFC 7009);
//   - /oauth2/introspect, token introspection (RFC 7662);
//   - /.well-known/oauth-authorization-server and
//     /.well-known/openid-configuration, authorization server metadata
//     (RFC 8414).
//
// # Client authentication
//
// Each client uses one token endpoint authentication method (RFC 7591
// Section 2): client_secret_basic or client_secret_post (RFC 6749 Section
// 2.3.1), private_key_jwt (RFC 7523 Section 2.2, signed with RS256, PS256
// or ES256; iss and sub are the client_id, aud the token endpoint URL or
// the issuer identifier, exp and a jti that is single use), or none for
// public clients, which must use PKCE with S256 (plain is refused). The
// revocation endpoint takes the same methods. The introspection endpoint
// takes HTTP Basic for any confidential client, a Bearer access token, or
// client_secret_post and private_key_jwt in the body; public clients may
// not introspect.
//
// # Tokens
//
// Access and refresh tokens are opaque HMAC-signed strings stored in
// memory. Refresh tokens are issued with the authorization code grant to
// clients allowed the refresh_token grant, whatever the scope, and are
// rotated: a refresh returns a new refresh token and invalidates the old
// one together with the access token issued with it. Presenting an
// invalidated refresh token again fails with invalid_grant and revokes the
// whole chain (OAuth 2.0 Security BCP Section 4.14.2). Revoking a refresh
// token revokes the access tokens of its grant (RFC 7009 Section 2.1); an
// authorization code used twice is refused and the tokens issued for it
// are revoked (RFC 6749 Section 4.1.2).
//
// The JWT bearer grant accepts assertions from [TrustedIssuer]s; they
// must carry iss, sub, aud (the token endpoint URL or the issuer
// identifier), exp, iat and a jti, and live at most
// Options.MaxAssertionLifetime (60 s by default) from iat to exp. The
// grant requires client authentication, which a public client satisfies
// with its client_id, and issues no refresh token.
//
// A JWT assertion whose jti was seen before, as grant or as client
// assertion, fails with fosite's error code "jti_known" (HTTP 400).
//
// # Default clients
//
// Unless Options.Clients says otherwise the server registers
// [DefaultClients]. All of them may request the scopes "trading",
// "market-data", "analytics" and "portfolio" and redirect to
// http://127.0.0.1/callback on any port (RFC 8252 Section 7.3). "All
// grants" are client_credentials, authorization_code, refresh_token and
// [JWTBearerGrantType].
//
//	ID              auth method          credential                  grants
//	basic-client    client_secret_basic  secret "basic-secret"       all
//	post-client     client_secret_post   secret "post-secret"        all
//	public-client   none                 none; PKCE S256 required    all but client_credentials
//	jwt-rsa-client  private_key_jwt      RS256 with RSATestKey       all
//	jwt-ps-client   private_key_jwt      PS256 with RSATestKey       all
//	jwt-ec-client   private_key_jwt      ES256 with ECTestKey        all
//
// The RSA key is registered under the kid [RSATestKeyID], the EC key under
// [ECTestKeyID]; assertions may name the kid or omit it. [WriteTestKeys]
// writes the test keys as PEM files (PKCS #1, PKCS #8, SEC 1) for clients
// that read their key from a file; [DefaultIssuers] lists the issuers
// trusted for the JWT bearer grant.
package authserver

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
)

// Paths of the endpoints the server offers.
const (
	TokenPath               = "/oauth2/token"
	AuthorizationPath       = "/oauth2/auth"
	RevocationPath          = "/oauth2/revoke"
	IntrospectionPath       = "/oauth2/introspect"
	OAuthMetadataPath       = "/.well-known/oauth-authorization-server"
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
)

const (
	defaultAddr                 = "127.0.0.1:0"
	defaultAccessTokenLifespan  = time.Hour
	defaultMaxAssertionLifetime = time.Minute
)

// grantTypes are the grant types the server implements, sorted.
var grantTypes = []string{"authorization_code", "client_credentials", "refresh_token", JWTBearerGrantType}

// authMethods are the token endpoint authentication methods the server
// implements.
var authMethods = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}

// signingAlgorithms are the JWS algorithms accepted for private_key_jwt.
var signingAlgorithms = []string{"RS256", "PS256", "ES256"}

// Subject is the resource owner on whose behalf the authorization endpoint
// approves requests.
const Subject = "conformance-user"

// Client is an OAuth 2.0 client registered with the server.
type Client struct {
	// ID is the client identifier.
	ID string
	// Secret is the client secret in clear text, for client_secret_basic
	// and client_secret_post; the server stores only its bcrypt hash.
	// Clients of the other methods have none.
	Secret string
	// AuthMethod is the token endpoint authentication method the client
	// must use: "client_secret_basic" (the default when empty),
	// "client_secret_post", "private_key_jwt" or "none" (a public client).
	// The server rejects any other method with invalid_client.
	AuthMethod string
	// PublicKeys are the client's JSON Web Key Set for private_key_jwt:
	// the keys that verify its client assertions.
	PublicKeys []PublicKey
	// SigningAlgorithm is the JWS algorithm the client's assertions must
	// use with private_key_jwt (token_endpoint_auth_signing_alg, RFC 7591
	// Section 2): "RS256", "PS256" or "ES256". Empty means RS256 for an
	// RSA first key and ES256 for an EC one.
	SigningAlgorithm string
	// Scopes are the scopes the client may request. Requesting any other
	// scope fails with invalid_scope.
	Scopes []string
	// GrantTypes are the grant types the client may use. Empty means
	// "client_credentials" only, or "authorization_code" only for a
	// public client.
	GrantTypes []string
	// RedirectURIs are the client's registered redirection endpoints for
	// the authorization code grant. Loopback IP URIs match on any port
	// (RFC 8252 Section 7.3).
	RedirectURIs []string
}

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// Clients are the registered clients. Nil means DefaultClients().
	Clients []Client
	// Issuers are the issuers trusted for the JWT bearer grant. Nil
	// means DefaultIssuers(); an empty, non-nil slice trusts none.
	Issuers []TrustedIssuer
	// AccessTokenLifespan is the lifetime of issued access tokens. Zero
	// means one hour.
	AccessTokenLifespan time.Duration
	// RefreshTokenLifespan is the lifetime of issued refresh tokens. Zero
	// means 30 days.
	RefreshTokenLifespan time.Duration
	// AuthorizationCodeLifespan is the lifetime of authorization codes.
	// Zero means 15 minutes.
	AuthorizationCodeLifespan time.Duration
	// MaxAssertionLifetime is the longest time from iat to exp that the
	// server accepts in a JWT bearer grant assertion. Zero means 60
	// seconds.
	MaxAssertionLifetime time.Duration
	// Addr is the loopback address to listen on. Empty means
	// "127.0.0.1:0", a free port.
	Addr string
}

func defaultScopes() []string {
	return []string{"trading", "market-data", "analytics", "portfolio"}
}

// DefaultClients returns the clients that conformance tests use, described
// in the package documentation. Each call returns new slices.
func DefaultClients() []Client {
	confidential := []string{"client_credentials", "authorization_code", "refresh_token", JWTBearerGrantType}
	public := []string{"authorization_code", "refresh_token", JWTBearerGrantType}
	redirects := []string{"http://127.0.0.1/callback"}
	rsaKey := PublicKey{KeyID: RSATestKeyID, Key: RSATestKey().Public()}
	ecKey := PublicKey{KeyID: ECTestKeyID, Key: ECTestKey().Public()}
	clients := []Client{
		{ID: "basic-client", Secret: "basic-secret", AuthMethod: "client_secret_basic", GrantTypes: confidential},
		{ID: "post-client", Secret: "post-secret", AuthMethod: "client_secret_post", GrantTypes: confidential},
		{ID: "public-client", AuthMethod: "none", GrantTypes: public},
		{ID: "jwt-rsa-client", AuthMethod: "private_key_jwt", PublicKeys: []PublicKey{rsaKey}, SigningAlgorithm: "RS256", GrantTypes: confidential},
		{ID: "jwt-ps-client", AuthMethod: "private_key_jwt", PublicKeys: []PublicKey{rsaKey}, SigningAlgorithm: "PS256", GrantTypes: confidential},
		{ID: "jwt-ec-client", AuthMethod: "private_key_jwt", PublicKeys: []PublicKey{ecKey}, SigningAlgorithm: "ES256", GrantTypes: confidential},
	}
	for i := range clients {
		clients[i].Scopes = defaultScopes()
		clients[i].GrantTypes = slices.Clone(clients[i].GrantTypes)
		clients[i].RedirectURIs = slices.Clone(redirects)
	}
	return clients
}

// Server is a running authorization server. Its methods are safe for
// concurrent use.
type Server struct {
	url        string
	provider   *fosite.Fosite
	httpServer *http.Server
	metadata   []byte
	// requests counts the requests per endpoint path, and grants the
	// token requests per grant type; both maps are fixed at start-up.
	requests map[string]*atomic.Int64
	grants   map[string]*atomic.Int64
	served   chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read after served is closed
}

// serverConfig is the fosite configuration with one change: JWT assertions
// (client assertions and JWT bearer grants) may name either the token
// endpoint URL or the issuer identifier as audience. RFC 7523 Section 3
// asks only for a value that identifies the authorization server, and
// fosite accepts any of GetTokenURLs.
type serverConfig struct {
	*fosite.Config
	assertionAudiences []string
}

// GetTokenURLs returns the audiences accepted in JWT assertions.
func (c *serverConfig) GetTokenURLs(context.Context) []string { return c.assertionAudiences }

// Start registers the clients and issuers in opts and starts serving on a
// loopback address. Call Close when done.
func Start(opts Options) (*Server, error) {
	clients := opts.Clients
	if clients == nil {
		clients = DefaultClients()
	}
	issuers := opts.Issuers
	if issuers == nil {
		issuers = DefaultIssuers()
	}
	addr := opts.Addr
	if addr == "" {
		addr = defaultAddr
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	lifespans := []struct {
		name  string
		value *time.Duration
		def   time.Duration
	}{
		{"access token lifespan", &opts.AccessTokenLifespan, defaultAccessTokenLifespan},
		{"refresh token lifespan", &opts.RefreshTokenLifespan, 0},
		{"authorization code lifespan", &opts.AuthorizationCodeLifespan, 0},
		{"max assertion lifetime", &opts.MaxAssertionLifetime, defaultMaxAssertionLifetime},
	}
	for _, l := range lifespans {
		if *l.value < 0 {
			return nil, fmt.Errorf("%s %v is negative", l.name, *l.value)
		}
		if *l.value == 0 {
			*l.value = l.def // zero lets fosite apply its own default
		}
	}
	trusted := make([]trustedKey, 0, len(issuers))
	for _, ti := range issuers {
		tk, err := newTrustedKey(ti)
		if err != nil {
			return nil, err
		}
		trusted = append(trusted, tk)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	s := &Server{url: "http://" + ln.Addr().String(), served: make(chan struct{})}
	if err := s.build(opts, clients, trusted); err != nil {
		ln.Close()
		return nil, err
	}
	go func() {
		s.serveErr = s.httpServer.Serve(ln)
		close(s.served)
	}()
	return s, nil
}

// build sets up fosite and the HTTP handlers once the server's URL is
// known.
func (s *Server) build(opts Options, clients []Client, trusted []trustedKey) error {
	globalSecret := make([]byte, 32)
	if _, err := rand.Read(globalSecret); err != nil {
		return err
	}
	config := &fosite.Config{
		AccessTokenLifespan:           opts.AccessTokenLifespan,
		RefreshTokenLifespan:          opts.RefreshTokenLifespan,
		AuthorizeCodeLifespan:         opts.AuthorizationCodeLifespan,
		GlobalSecret:                  globalSecret,
		TokenURL:                      s.TokenURL(),
		AccessTokenIssuer:             s.url,
		IDTokenIssuer:                 s.url,
		HashCost:                      bcrypt.MinCost,
		ScopeStrategy:                 fosite.ExactScopeStrategy,
		EnforcePKCEForPublicClients:   true,
		RefreshTokenScopes:            []string{}, // refresh tokens whatever the scope
		GrantTypeJWTBearerMaxDuration: opts.MaxAssertionLifetime,
		// Set the remaining lazily defaulted fields now: fosite fills
		// them on first use, which would race between requests.
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
	}
	config.ClientSecretsHasher = &fosite.BCrypt{Config: config}
	config.ClientAuthenticationStrategy = func(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
		client, err := s.provider.DefaultClientAuthenticationStrategy(ctx, r, form)
		return client, asOAuthError(err)
	}
	cfg := &serverConfig{Config: config, assertionAudiences: []string{s.TokenURL(), s.url}}

	store := &memoryStore{MemoryStore: storage.NewMemoryStore(), trusted: trusted}
	for _, c := range clients {
		fc, err := newFositeClient(config.ClientSecretsHasher, c)
		if err != nil {
			return err
		}
		if _, dup := store.Clients[c.ID]; dup {
			return fmt.Errorf("client %q is registered twice", c.ID)
		}
		store.Clients[c.ID] = fc
	}

	s.provider = composeProvider(config, cfg, store, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.RFC7523AssertionGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	var err error
	s.metadata, err = json.Marshal(s.newMetadata(clients))
	if err != nil {
		return err
	}

	s.requests = make(map[string]*atomic.Int64)
	s.grants = make(map[string]*atomic.Int64)
	for _, gt := range grantTypes {
		s.grants[gt] = new(atomic.Int64)
	}
	mux := http.NewServeMux()
	handle := func(pattern, path string, h http.HandlerFunc) {
		n, ok := s.requests[path]
		if !ok {
			n = new(atomic.Int64)
			s.requests[path] = n
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h(w, r)
		})
	}
	// fosite checks the method itself and answers with an OAuth error.
	handle(TokenPath, TokenPath, s.handleToken)
	handle(AuthorizationPath, AuthorizationPath, s.handleAuthorize)
	handle(RevocationPath, RevocationPath, s.handleRevoke)
	handle(IntrospectionPath, IntrospectionPath, s.handleIntrospect)
	handle("GET "+OAuthMetadataPath, OAuthMetadataPath, s.handleMetadata)
	handle("GET "+OpenIDConfigurationPath, OpenIDConfigurationPath, s.handleMetadata)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// composeProvider does what compose.Compose does, but hands the handlers
// cfg, which wraps config, instead of config itself.
func composeProvider(config *fosite.Config, cfg fosite.Configurator, store fosite.Storage, strategy any, factories ...compose.Factory) *fosite.Fosite {
	provider := fosite.NewOAuth2Provider(store, cfg)
	for _, factory := range factories {
		h := factory(cfg, store, strategy)
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			config.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			config.TokenEndpointHandlers.Append(th)
		}
		if ti, ok := h.(fosite.TokenIntrospector); ok {
			config.TokenIntrospectionHandlers.Append(ti)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			config.RevocationHandlers.Append(rh)
		}
	}
	return provider
}

// URL returns the server's base URL and issuer identifier, such as
// "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// TokenURL returns the URL of the token endpoint.
func (s *Server) TokenURL() string { return s.url + TokenPath }

// AuthorizationURL returns the URL of the authorization endpoint.
func (s *Server) AuthorizationURL() string { return s.url + AuthorizationPath }

// RevocationURL returns the URL of the revocation endpoint.
func (s *Server) RevocationURL() string { return s.url + RevocationPath }

// IntrospectionURL returns the URL of the introspection endpoint.
func (s *Server) IntrospectionURL() string { return s.url + IntrospectionPath }

// TokenRequests returns how many requests the token endpoint has received,
// successful or not.
func (s *Server) TokenRequests() int64 { return s.Requests(TokenPath) }

// Requests returns how many requests the endpoint at path, one of the Path
// constants, has received, successful or not. It returns 0 for other
// paths.
func (s *Server) Requests(path string) int64 {
	if n, ok := s.requests[path]; ok {
		return n.Load()
	}
	return 0
}

// GrantRequests returns how many token requests have named grantType in
// their grant_type parameter, successful or not. It returns 0 for grant
// types the server does not implement.
func (s *Server) GrantRequests(grantType string) int64 {
	if n, ok := s.grants[grantType]; ok {
		return n.Load()
	}
	return 0
}

// Close stops the server at once and closes all connections. Calling it
// again, or after Shutdown, does nothing.
func (s *Server) Close() error {
	return s.stopped(s.httpServer.Close())
}

// Shutdown stops the server gracefully, waiting for active requests until
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stopped(s.httpServer.Shutdown(ctx))
}

// stopped waits for Serve to return and reports the first real error.
func (s *Server) stopped(err error) error {
	<-s.served
	if err == nil && !errors.Is(s.serveErr, http.ErrServerClosed) {
		err = s.serveErr
	}
	return err
}

func newFositeClient(hasher fosite.Hasher, c Client) (fosite.Client, error) {
	if c.ID == "" {
		return nil, errors.New("client ID is empty")
	}
	method := c.AuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	if !slices.Contains(authMethods, method) {
		return nil, fmt.Errorf("client %q: unknown auth method %q: want %q, %q, %q or %q", c.ID, c.AuthMethod, authMethods[0], authMethods[1], authMethods[2], authMethods[3])
	}
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{"client_credentials"}
		if method == "none" {
			grants = []string{"authorization_code"}
		}
	}
	for _, gt := range grants {
		if !slices.Contains(grantTypes, gt) {
			return nil, fmt.Errorf("client %q: unknown grant type %q: want one of %q", c.ID, gt, grantTypes)
		}
	}
	fc := &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID:            c.ID,
			RedirectURIs:  slices.Clone(c.RedirectURIs),
			GrantTypes:    slices.Clone(grants),
			ResponseTypes: []string{"code"},
			Scopes:        slices.Clone(c.Scopes),
		},
		TokenEndpointAuthMethod: method,
	}
	if method != "private_key_jwt" && (len(c.PublicKeys) > 0 || c.SigningAlgorithm != "") {
		return nil, fmt.Errorf("client %q: public keys and a signing algorithm are for private_key_jwt, not %q", c.ID, method)
	}
	switch method {
	case "client_secret_basic", "client_secret_post":
		if c.Secret == "" {
			return nil, fmt.Errorf("client %q has no secret", c.ID)
		}
		hash, err := hasher.Hash(context.Background(), []byte(c.Secret))
		if err != nil {
			return nil, fmt.Errorf("client %q: hash secret: %w", c.ID, err)
		}
		fc.Secret = hash
	case "none":
		if c.Secret != "" {
			return nil, fmt.Errorf("client %q: a public client (auth method %q) has no secret", c.ID, method)
		}
		if slices.Contains(grants, "client_credentials") {
			return nil, fmt.Errorf("client %q: a public client may not use the client_credentials grant", c.ID)
		}
		fc.Public = true
	case "private_key_jwt":
		if c.Secret != "" {
			return nil, fmt.Errorf("client %q: a private_key_jwt client has no secret", c.ID)
		}
		alg, jwks, err := clientKeys(c)
		if err != nil {
			return nil, fmt.Errorf("client %q: %w", c.ID, err)
		}
		fc.JSONWebKeys = jwks
		fc.TokenEndpointAuthSigningAlgorithm = alg
	}
	return fc, nil
}

// clientKeys checks the keys of a private_key_jwt client and returns its
// signing algorithm and key set.
func clientKeys(c Client) (string, *jose.JSONWebKeySet, error) {
	if len(c.PublicKeys) == 0 {
		return "", nil, errors.New("a private_key_jwt client needs public keys")
	}
	jwks := new(jose.JSONWebKeySet)
	for _, k := range c.PublicKeys {
		jwk, err := k.jsonWebKey()
		if err != nil {
			return "", nil, err
		}
		jwks.Keys = append(jwks.Keys, jwk)
	}
	_, firstRSA := jwks.Keys[0].Key.(*rsa.PublicKey)
	alg := c.SigningAlgorithm
	switch {
	case alg == "" && firstRSA:
		alg = "RS256"
	case alg == "":
		alg = "ES256"
	case !slices.Contains(signingAlgorithms, alg):
		return "", nil, fmt.Errorf("unknown signing algorithm %q: want %q, %q or %q", alg, signingAlgorithms[0], signingAlgorithms[1], signingAlgorithms[2])
	}
	wantRSA := alg != "ES256"
	if !slices.ContainsFunc(jwks.Keys, func(k jose.JSONWebKey) bool {
		_, isRSA := k.Key.(*rsa.PublicKey)
		return isRSA == wantRSA
	}) {
		return "", nil, fmt.Errorf("no public key fits signing algorithm %q", alg)
	}
	return alg, jwks, nil
}

// asOAuthError turns client authentication failures that fosite returns
// as plain errors into invalid_client. fosite passes some of them through
// unwrapped, an expired client assertion for one (ory/hydra#2066), and
// would answer them with HTTP 500.
func asOAuthError(err error) error {
	var oauthErr *fosite.RFC6749Error
	if err == nil || errors.As(err, &oauthErr) {
		return err
	}
	return fosite.ErrInvalidClient.WithHint("The client assertion is invalid.").WithWrap(err).WithDebug(err.Error())
}

// checkLoopback rejects listen addresses outside the loopback range, so
// that the test server is never reachable from other machines.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address: want 127.0.0.1 or [::1]", addr)
	}
	return nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, new(fosite.DefaultSession))
	gt := r.PostForm.Get("grant_type") // parsed by NewAccessRequest
	if n, ok := s.grants[gt]; ok {
		n.Add(1)
	}
	if err != nil {
		if gt != "" && !slices.Contains(grantTypes, gt) {
			// fosite answers invalid_request when no handler takes the
			// grant; RFC 6749 Section 5.2 asks for unsupported_grant_type.
			err = fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt)
		}
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// The client acts on its own behalf and was checked against its
		// allowed scopes by the grant handler.
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
		ar.GetSession().(*fosite.DefaultSession).Subject = ar.GetClient().GetID()
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, &issuerRedirect{ResponseWriter: w, issuer: s.url}, ar, err)
		return
	}
	// Consent is automatic: the test user grants everything the client
	// may request.
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	session := &fosite.DefaultSession{Subject: Subject, Username: Subject}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, session)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, &issuerRedirect{ResponseWriter: w, issuer: s.url}, ar, err)
		return
	}
	resp.AddParameter("iss", s.url) // RFC 9207 Section 2
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// issuerRedirect adds the iss parameter of RFC 9207 Section 2 to the error
// redirections that fosite writes, in the query or, for the fragment
// response mode, in the fragment.
type issuerRedirect struct {
	http.ResponseWriter
	issuer string
}

// WriteHeader adds iss to the Location of a redirection, then writes the
// header.
func (w *issuerRedirect) WriteHeader(code int) {
	h := w.Header()
	if loc := h.Get("Location"); code/100 == 3 && loc != "" {
		base, fragment, hasFragment := strings.Cut(loc, "#")
		if hasFragment {
			params, err := url.ParseQuery(fragment)
			if err == nil {
				params.Set("iss", w.issuer)
				h.Set("Location", base+"#"+params.Encode())
			}
		} else if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			q.Set("iss", w.issuer)
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if bodyClientAuthentication(r) {
		introspectWithClientAuthentication(ctx, s.provider, w, r, new(fosite.DefaultSession))
		return
	}
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}

// bodyClientAuthentication reports whether r is a POST request without an
// Authorization header whose body names a client (client_id or
// client_assertion). fosite's introspection endpoint accepts only HTTP
// Basic and Bearer credentials; RFC 7662 Section 2.1 leaves the method to
// the server, so such requests are authenticated as at the token endpoint.
func bodyClientAuthentication(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
		return false
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return false // fosite answers invalid_request
	}
	return r.PostForm.Has("client_id") || r.PostForm.Has("client_assertion")
}

// introspectWithClientAuthentication answers an introspection request
// whose form is parsed and whose caller authenticates in the body. An
// authentication failure is an OAuth error response (RFC 6749 Section
// 5.2); an unknown or inactive token is {"active":false}.
func introspectWithClientAuthentication(ctx context.Context, provider *fosite.Fosite, w http.ResponseWriter, r *http.Request, session fosite.Session) {
	client, err := provider.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		provider.WriteAccessError(ctx, w, nil, err)
		return
	}
	if client.IsPublic() {
		provider.WriteAccessError(ctx, w, nil, fosite.ErrInvalidClient.WithHint("Public clients may not introspect tokens."))
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		provider.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("The token parameter is missing."))
		return
	}
	use := fosite.TokenUse(r.PostForm.Get("token_type_hint"))
	scopes := fosite.RemoveEmpty(strings.Split(r.PostForm.Get("scope"), " "))
	tu, ar, err := provider.IntrospectToken(ctx, token, use, session, scopes...)
	if err != nil {
		provider.WriteIntrospectionResponse(ctx, w, &fosite.IntrospectionResponse{Active: false})
		return
	}
	ir := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: tu}
	if tu == fosite.AccessToken {
		ir.AccessTokenType = fosite.BearerAccessToken
	}
	provider.WriteIntrospectionResponse(ctx, w, ir)
}

func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(s.metadata)
}

// Metadata is the authorization server metadata document of RFC 8414
// Section 2 that the server publishes. Each field holds the metadata
// parameter named in its JSON tag.
type Metadata struct {
	Issuer                                             string   `json:"issuer"`
	AuthorizationEndpoint                              string   `json:"authorization_endpoint"`
	TokenEndpoint                                      string   `json:"token_endpoint"`
	RevocationEndpoint                                 string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                              string   `json:"introspection_endpoint"`
	ScopesSupported                                    []string `json:"scopes_supported"`
	ResponseTypesSupported                             []string `json:"response_types_supported"`
	GrantTypesSupported                                []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported                  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthMethodsSupported             []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported                      []string `json:"code_challenge_methods_supported"`
	// AuthorizationResponseIssParameterSupported is defined by RFC 9207
	// Section 3.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

func (s *Server) newMetadata(clients []Client) Metadata {
	var scopes []string
	for _, c := range clients {
		scopes = append(scopes, c.Scopes...)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	return Metadata{
		Issuer:                                             s.url,
		AuthorizationEndpoint:                              s.AuthorizationURL(),
		TokenEndpoint:                                      s.TokenURL(),
		RevocationEndpoint:                                 s.RevocationURL(),
		IntrospectionEndpoint:                              s.IntrospectionURL(),
		ScopesSupported:                                    scopes,
		ResponseTypesSupported:                             []string{"code"},
		GrantTypesSupported:                                slices.Clone(grantTypes),
		TokenEndpointAuthMethodsSupported:                  slices.Clone(authMethods),
		TokenEndpointAuthSigningAlgValuesSupported:         slices.Clone(signingAlgorithms),
		RevocationEndpointAuthMethodsSupported:             slices.Clone(authMethods),
		RevocationEndpointAuthSigningAlgValuesSupported:    slices.Clone(signingAlgorithms),
		IntrospectionEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		IntrospectionEndpointAuthSigningAlgValuesSupported: slices.Clone(signingAlgorithms),
		CodeChallengeMethodsSupported:                      []string{"S256"},
		AuthorizationResponseIssParameterSupported:         true,
	}
}
