// Package authserver runs a real OAuth 2.0 authorization server, built on
// ory/fosite, for conformance tests of coyotegen client runtimes.
//
// The server listens on a loopback address and offers:
//
//   - /oauth2/token, the token endpoint (RFC 6749 Section 3.2) for the
//     client credentials (Section 4.4), authorization code (Section 4.1,
//     with PKCE, RFC 7636) and refresh token (Section 6) grants, with
//     client_secret_basic and client_secret_post authentication
//     (Section 2.3.1);
//   - /oauth2/auth, the authorization endpoint (Section 3.1), which
//     approves every valid request at once on behalf of a fixed test user;
//   - /oauth2/revoke, token revocation (RFC 7009);
//   - /oauth2/introspect, token introspection (RFC 7662);
//   - /.well-known/oauth-authorization-server and
//     /.well-known/openid-configuration, authorization server metadata
//     (RFC 8414).
//
// Access and refresh tokens are opaque HMAC-signed strings stored in
// memory. Clients are registered at start-up from [Options].
package authserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
)

// Paths of the endpoints the server offers.
const (
	TokenPath                  = "/oauth2/token"
	AuthorizationPath          = "/oauth2/auth"
	RevocationPath             = "/oauth2/revoke"
	IntrospectionPath          = "/oauth2/introspect"
	OAuthMetadataPath          = "/.well-known/oauth-authorization-server"
	OpenIDConfigurationPath    = "/.well-known/openid-configuration"
	defaultAddr                = "127.0.0.1:0"
	defaultAccessTokenLifespan = time.Hour
)

// grantTypes are the grant types the server implements.
var grantTypes = []string{"authorization_code", "client_credentials", "refresh_token"}

// Subject is the resource owner on whose behalf the authorization endpoint
// approves requests.
const Subject = "conformance-user"

// Client is an OAuth 2.0 client registered with the server.
type Client struct {
	// ID is the client identifier.
	ID string
	// Secret is the client secret in clear text; the server stores only
	// its bcrypt hash.
	Secret string
	// AuthMethod is the token endpoint authentication method the client
	// must use: "client_secret_basic" (the default when empty) or
	// "client_secret_post". The server rejects the other method with
	// invalid_client.
	AuthMethod string
	// Scopes are the scopes the client may request. Requesting any other
	// scope fails with invalid_scope.
	Scopes []string
	// GrantTypes are the grant types the client may use. Empty means
	// "client_credentials" only.
	GrantTypes []string
	// RedirectURIs are the client's registered redirection endpoints for
	// the authorization code grant. Loopback URIs match on any port
	// (RFC 8252 Section 7.3).
	RedirectURIs []string
}

// Options configures a Server.
type Options struct {
	// Clients are the registered clients. Nil means DefaultClients().
	Clients []Client
	// AccessTokenLifespan is the lifetime of issued access tokens. Zero
	// means one hour.
	AccessTokenLifespan time.Duration
	// Addr is the loopback address to listen on. Empty means
	// "127.0.0.1:0", a free port.
	Addr string
}

// DefaultClients returns the clients that conformance tests use: one that
// authenticates with client_secret_basic and one with client_secret_post,
// both allowed the scopes "trading", "market-data", "analytics" and
// "portfolio".
func DefaultClients() []Client {
	scopes := []string{"trading", "market-data", "analytics", "portfolio"}
	grants := []string{"client_credentials", "authorization_code", "refresh_token"}
	redirects := []string{"http://127.0.0.1/callback"}
	return []Client{
		{
			ID:           "basic-client",
			Secret:       "basic-secret",
			AuthMethod:   "client_secret_basic",
			Scopes:       slices.Clone(scopes),
			GrantTypes:   slices.Clone(grants),
			RedirectURIs: slices.Clone(redirects),
		},
		{
			ID:           "post-client",
			Secret:       "post-secret",
			AuthMethod:   "client_secret_post",
			Scopes:       slices.Clone(scopes),
			GrantTypes:   slices.Clone(grants),
			RedirectURIs: slices.Clone(redirects),
		},
	}
}

// Server is a running authorization server. Its methods are safe for
// concurrent use.
type Server struct {
	url           string
	provider      fosite.OAuth2Provider
	httpServer    *http.Server
	metadata      []byte
	tokenRequests atomic.Int64
	served        chan struct{} // closed when Serve returns
	serveErr      error         // what Serve returned; read after served is closed
}

// Start registers the clients in opts and starts serving on a loopback
// address. Call Close when done.
func Start(opts Options) (*Server, error) {
	clients := opts.Clients
	if clients == nil {
		clients = DefaultClients()
	}
	addr := opts.Addr
	if addr == "" {
		addr = defaultAddr
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	lifespan := opts.AccessTokenLifespan
	if lifespan < 0 {
		return nil, fmt.Errorf("access token lifespan %v is negative", lifespan)
	}
	if lifespan == 0 {
		lifespan = defaultAccessTokenLifespan
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	s := &Server{url: "http://" + ln.Addr().String(), served: make(chan struct{})}

	globalSecret := make([]byte, 32)
	if _, err := rand.Read(globalSecret); err != nil {
		ln.Close()
		return nil, err
	}
	config := &fosite.Config{
		AccessTokenLifespan: lifespan,
		GlobalSecret:        globalSecret,
		TokenURL:            s.url + TokenPath,
		AccessTokenIssuer:   s.url,
		IDTokenIssuer:       s.url,
		HashCost:            bcrypt.MinCost,
		ScopeStrategy:       fosite.ExactScopeStrategy,
		// Set the remaining lazily defaulted fields now: fosite fills
		// them on first use, which would race between requests.
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
	}
	config.ClientSecretsHasher = &fosite.BCrypt{Config: config}

	store := storage.NewMemoryStore()
	for _, c := range clients {
		fc, err := newFositeClient(config, c)
		if err != nil {
			ln.Close()
			return nil, err
		}
		if _, dup := store.Clients[c.ID]; dup {
			ln.Close()
			return nil, fmt.Errorf("client %q is registered twice", c.ID)
		}
		store.Clients[c.ID] = fc
	}

	s.provider = compose.Compose(config, store, compose.NewOAuth2HMACStrategy(config),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	s.metadata, err = json.Marshal(s.newMetadata(clients))
	if err != nil {
		ln.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	// fosite checks the method itself and answers with an OAuth error.
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc(AuthorizationPath, s.handleAuthorize)
	mux.HandleFunc(RevocationPath, s.handleRevoke)
	mux.HandleFunc(IntrospectionPath, s.handleIntrospect)
	mux.HandleFunc("GET "+OAuthMetadataPath, s.handleMetadata)
	mux.HandleFunc("GET "+OpenIDConfigurationPath, s.handleMetadata)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		s.serveErr = s.httpServer.Serve(ln)
		close(s.served)
	}()
	return s, nil
}

// URL returns the server's base URL and issuer identifier, such as
// "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// TokenURL returns the URL of the token endpoint.
func (s *Server) TokenURL() string { return s.url + TokenPath }

// TokenRequests returns how many requests the token endpoint has received,
// successful or not.
func (s *Server) TokenRequests() int64 { return s.tokenRequests.Load() }

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

func newFositeClient(config *fosite.Config, c Client) (fosite.Client, error) {
	if c.ID == "" {
		return nil, errors.New("client ID is empty")
	}
	if c.Secret == "" {
		return nil, fmt.Errorf("client %q has no secret", c.ID)
	}
	method := c.AuthMethod
	switch method {
	case "":
		method = "client_secret_basic"
	case "client_secret_basic", "client_secret_post":
	default:
		return nil, fmt.Errorf("client %q: unknown auth method %q: want %q or %q", c.ID, c.AuthMethod, "client_secret_basic", "client_secret_post")
	}
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{"client_credentials"}
	}
	hash, err := config.ClientSecretsHasher.Hash(context.Background(), []byte(c.Secret))
	if err != nil {
		return nil, fmt.Errorf("client %q: hash secret: %w", c.ID, err)
	}
	return &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID:            c.ID,
			Secret:        hash,
			RedirectURIs:  slices.Clone(c.RedirectURIs),
			GrantTypes:    slices.Clone(grants),
			ResponseTypes: []string{"code"},
			Scopes:        slices.Clone(c.Scopes),
		},
		TokenEndpointAuthMethod: method,
	}, nil
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
	s.tokenRequests.Add(1)
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		if gt := r.PostForm.Get("grant_type"); gt != "" && !slices.Contains(grantTypes, gt) {
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
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
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
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
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
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	ScopesSupported                           []string `json:"scopes_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
}

func (s *Server) newMetadata(clients []Client) Metadata {
	var scopes []string
	for _, c := range clients {
		scopes = append(scopes, c.Scopes...)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	authMethods := []string{"client_secret_basic", "client_secret_post"}
	return Metadata{
		Issuer:                                    s.url,
		AuthorizationEndpoint:                     s.url + AuthorizationPath,
		TokenEndpoint:                             s.url + TokenPath,
		RevocationEndpoint:                        s.url + RevocationPath,
		IntrospectionEndpoint:                     s.url + IntrospectionPath,
		ScopesSupported:                           scopes,
		ResponseTypesSupported:                    []string{"code"},
		GrantTypesSupported:                       slices.Clone(grantTypes),
		TokenEndpointAuthMethodsSupported:         authMethods,
		RevocationEndpointAuthMethodsSupported:    authMethods,
		IntrospectionEndpointAuthMethodsSupported: authMethods,
		CodeChallengeMethodsSupported:             []string{"S256"},
	}
}
