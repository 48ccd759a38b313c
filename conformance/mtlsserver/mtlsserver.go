// Package mtlsserver runs a real OAuth 2.0 authorization server with
// mutual-TLS client authentication and certificate-bound access tokens
// (RFC 8705), built on ory/fosite, for conformance tests of coyotegen
// client runtimes.
//
// The server listens on two loopback HTTPS addresses with a certificate
// from the test [PKI]:
//
//   - [Server.URL], the issuer identifier, does not ask for client
//     certificates;
//   - [Server.MTLSURL] asks for one (without requiring it). Its token,
//     revocation and introspection endpoints are published as the
//     mtls_endpoint_aliases of the metadata (RFC 8705 Section 5), so a
//     client that authenticates with a certificate must discover and use
//     them.
//
// Both serve the same endpoints: /oauth2/token (client credentials,
// authorization code with optional PKCE S256, refresh token with
// rotation), /oauth2/auth (approves every valid request at once for the
// test user [Subject] and sends the iss parameter of RFC 9207),
// /oauth2/revoke (RFC 7009), /oauth2/introspect (RFC 7662),
// /.well-known/jwks.json (the key that signs access tokens), /resource (a
// protected resource that checks the certificate binding) and the
// metadata documents /.well-known/oauth-authorization-server and
// /.well-known/openid-configuration (RFC 8414).
//
// # Client authentication
//
// A tls_client_auth client (RFC 8705 Section 2.1) sends its client_id in
// the body and a certificate that chains to the test CA and whose subject
// DN is the registered one. A self_signed_tls_client_auth client (Section
// 2.2) sends its client_id and a certificate registered for it, matched by
// SHA-256 thumbprint. The TLS layer checks only that the client holds the
// certificate's key: it cannot verify chains, since self-signed
// certificates chain to nothing, so the server does it at the token
// endpoint. A missing or unmatched certificate, or a second credential
// next to the certificate, fails with invalid_client. Clients may also
// use client_secret_basic or client_secret_post; the revocation and
// introspection endpoints take the same methods (and, for introspection,
// a Bearer access token).
//
// # Certificate-bound access tokens
//
// Access tokens are JWTs signed with ES256 by the key published at
// /.well-known/jwks.json, with the header typ "at+jwt" and the claims
// iss, sub, client_id, aud (empty), exp, iat, jti and scope, as in RFC
// 9068 Section 2.2. When the client authenticated with a certificate, the
// token carries the confirmation claim cnf {"x5t#S256": <thumbprint>} of
// that certificate (RFC 8705 Section 3.1; see [Thumbprint]), and
// introspection reports the same cnf (Section 3.2). A refresh binds the
// new access token to the certificate presented with the refresh request.
// Refresh tokens are opaque and rotate: a refresh invalidates the old
// refresh token and its access token, and replaying the old one fails
// with invalid_grant and revokes the chain.
//
// # Default clients
//
// [DefaultClients] registers the clients below, all allowed the scopes
// "trading", "market-data", "analytics" and "portfolio" and the redirect
// URI http://127.0.0.1/callback on any port. The first two may use the
// client_credentials, authorization_code and refresh_token grants,
// resource-server, which stands for an API that introspects tokens,
// client_credentials only.
//
//	ID                  auth method                  credential
//	mtls-client         tls_client_auth              PKI.Client, subject ClientSubjectDN
//	self-signed-client  self_signed_tls_client_auth  PKI.SelfSigned
//	resource-server     client_secret_basic          secret "resource-secret"
package mtlsserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/storage"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// Paths of the endpoints the server offers on both of its addresses.
const (
	TokenPath               = "/oauth2/token"
	AuthorizationPath       = "/oauth2/auth"
	RevocationPath          = "/oauth2/revoke"
	IntrospectionPath       = "/oauth2/introspect"
	JWKSPath                = "/.well-known/jwks.json"
	ResourcePath            = "/resource"
	OAuthMetadataPath       = "/.well-known/oauth-authorization-server"
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
)

// Token endpoint authentication methods of RFC 8705 Section 2.
const (
	TLSClientAuth           = "tls_client_auth"
	SelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

// Subject is the resource owner on whose behalf the authorization endpoint
// approves requests.
const Subject = "conformance-user"

const (
	defaultAddr                = "127.0.0.1:0"
	defaultAccessTokenLifespan = time.Hour
)

// grantTypes are the grant types the server implements, sorted.
var grantTypes = []string{"authorization_code", "client_credentials", "refresh_token"}

// authMethods are the token endpoint authentication methods the server
// implements.
var authMethods = []string{TLSClientAuth, SelfSignedTLSClientAuth, "client_secret_basic", "client_secret_post"}

// Client is an OAuth 2.0 client registered with the server.
type Client struct {
	// ID is the client identifier.
	ID string
	// AuthMethod is the token endpoint authentication method the client
	// must use: "tls_client_auth" (the default when empty),
	// "self_signed_tls_client_auth", "client_secret_basic" or
	// "client_secret_post".
	AuthMethod string
	// SubjectDN is the tls_client_auth_subject_dn of a tls_client_auth
	// client (RFC 8705 Section 2.1.2), in the form
	// crypto/x509/pkix.Name.String writes, such as ClientSubjectDN.
	SubjectDN string
	// Certificates are the certificates a self_signed_tls_client_auth
	// client may present (RFC 8705 Section 2.2). More can be added while
	// the server runs with [Server.TrustSelfSignedCertificate].
	Certificates []*x509.Certificate
	// Secret is the client secret of a client_secret_basic or
	// client_secret_post client.
	Secret string
	// Scopes are the scopes the client may request.
	Scopes []string
	// GrantTypes are the grant types the client may use. Empty means
	// "client_credentials" only.
	GrantTypes []string
	// RedirectURIs are the client's registered redirection endpoints.
	// Loopback IP URIs match on any port (RFC 8252 Section 7.3).
	RedirectURIs []string
}

// DefaultClients returns the clients described in the package
// documentation, with the certificates of pki.
func DefaultClients(pki *PKI) []Client {
	scopes := func() []string { return []string{"trading", "market-data", "analytics", "portfolio"} }
	grants := func() []string { return []string{"client_credentials", "authorization_code", "refresh_token"} }
	redirects := func() []string { return []string{"http://127.0.0.1/callback"} }
	return []Client{
		{
			ID:           "mtls-client",
			AuthMethod:   TLSClientAuth,
			SubjectDN:    ClientSubjectDN,
			Scopes:       scopes(),
			GrantTypes:   grants(),
			RedirectURIs: redirects(),
		},
		{
			ID:           "self-signed-client",
			AuthMethod:   SelfSignedTLSClientAuth,
			Certificates: []*x509.Certificate{pki.SelfSigned.Certificate},
			Scopes:       scopes(),
			GrantTypes:   grants(),
			RedirectURIs: redirects(),
		},
		{
			ID:         "resource-server",
			AuthMethod: "client_secret_basic",
			Secret:     "resource-secret",
			Scopes:     scopes(),
			GrantTypes: []string{"client_credentials"},
		},
	}
}

// Options configures a Server.
type Options struct {
	// PKI provides the server certificate and the CA trusted for
	// tls_client_auth. Required.
	PKI *PKI
	// Clients are the registered clients. Nil means DefaultClients(PKI).
	Clients []Client
	// AccessTokenLifespan is the lifetime of issued access tokens. Zero
	// means one hour.
	AccessTokenLifespan time.Duration
	// RefreshTokenLifespan is the lifetime of issued refresh tokens. Zero
	// means 30 days.
	RefreshTokenLifespan time.Duration
	// Addr is the loopback address of the issuer's endpoints, which do
	// not ask for client certificates. Empty means "127.0.0.1:0".
	Addr string
	// MTLSAddr is the loopback address of the mutual-TLS endpoint
	// aliases. Empty means "127.0.0.1:0".
	MTLSAddr string
}

// registeredClient is a client as the authentication strategy sees it.
type registeredClient struct {
	fosite.Client
	method    string
	subjectDN string
	// thumbprints holds the x5t#S256 of the certificates a self-signed
	// client may present; guarded by Server.mu.
	thumbprints map[string]bool
}

func (c *registeredClient) usesCertificate() bool {
	return c.method == TLSClientAuth || c.method == SelfSignedTLSClientAuth
}

// Server is a running mutual-TLS authorization server. Its methods are
// safe for concurrent use.
type Server struct {
	url, mtlsURL string
	provider     *fosite.Fosite
	clients      map[string]*registeredClient // fixed at start-up
	mu           sync.RWMutex                 // guards the clients' thumbprints
	caPool       *x509.CertPool
	signingKey   *ecdsa.PrivateKey
	jwks         []byte
	metadata     []byte
	requests     map[string]*atomic.Int64 // per path, both listeners; fixed at start-up
	servers      [2]*http.Server          // issuer, mTLS aliases
	served       sync.WaitGroup
	serveErrs    [2]error // what Serve returned; read after served
}

// Start registers the clients in opts and starts serving on two loopback
// addresses. Call Close when done.
func Start(opts Options) (*Server, error) {
	if opts.PKI == nil || opts.PKI.CA == nil || opts.PKI.Server == nil {
		return nil, errors.New("options have no PKI: use WriteTestPKI")
	}
	clients := opts.Clients
	if clients == nil {
		if opts.PKI.SelfSigned == nil {
			return nil, errors.New("the PKI has no self-signed client certificate for the default clients")
		}
		clients = DefaultClients(opts.PKI)
	}
	if opts.AccessTokenLifespan < 0 || opts.RefreshTokenLifespan < 0 {
		return nil, fmt.Errorf("token lifespans %v and %v must not be negative", opts.AccessTokenLifespan, opts.RefreshTokenLifespan)
	}
	if opts.AccessTokenLifespan == 0 {
		opts.AccessTokenLifespan = defaultAccessTokenLifespan
	}
	addrs := []string{opts.Addr, opts.MTLSAddr}
	for i, addr := range addrs {
		if addr == "" {
			addrs[i] = defaultAddr
		}
		if err := checkLoopback(addrs[i]); err != nil {
			return nil, err
		}
	}
	var listeners []net.Listener
	closeAll := func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen on %q: %w", addr, err)
		}
		listeners = append(listeners, ln)
	}
	s := &Server{
		url:     "https://" + listeners[0].Addr().String(),
		mtlsURL: "https://" + listeners[1].Addr().String(),
		caPool:  opts.PKI.CertPool(),
	}
	if err := s.build(opts, clients); err != nil {
		closeAll()
		return nil, err
	}
	for i, ln := range listeners {
		s.served.Add(1)
		go func() {
			defer s.served.Done()
			s.serveErrs[i] = s.servers[i].ServeTLS(ln, "", "")
		}()
	}
	return s, nil
}

// build sets up fosite and the HTTP servers once the URLs are known.
func (s *Server) build(opts Options, clients []Client) error {
	var err error
	if s.signingKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return err
	}
	signingJWK := jose.JSONWebKey{Key: s.signingKey, Algorithm: string(jose.ES256), Use: "sig"}
	thumb, err := signingJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	signingJWK.KeyID = hex.EncodeToString(thumb[:8])
	if s.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{signingJWK.Public()}}); err != nil {
		return err
	}

	globalSecret := make([]byte, 32)
	if _, err := rand.Read(globalSecret); err != nil {
		return err
	}
	config := &fosite.Config{
		AccessTokenLifespan:  opts.AccessTokenLifespan,
		RefreshTokenLifespan: opts.RefreshTokenLifespan,
		GlobalSecret:         globalSecret,
		TokenURL:             s.url + TokenPath,
		AccessTokenIssuer:    s.url,
		IDTokenIssuer:        s.url,
		HashCost:             bcrypt.MinCost,
		ScopeStrategy:        fosite.ExactScopeStrategy,
		RefreshTokenScopes:   []string{}, // refresh tokens whatever the scope
		JWTScopeClaimKey:     jwt.JWTScopeFieldString,
		// Set the remaining lazily defaulted fields now: fosite fills
		// them on first use, which would race between requests.
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
	}
	config.ClientSecretsHasher = &fosite.BCrypt{Config: config}
	config.ClientAuthenticationStrategy = s.authenticateClient

	store := storage.NewMemoryStore()
	s.clients = make(map[string]*registeredClient, len(clients))
	for _, c := range clients {
		rc, err := newRegisteredClient(config.ClientSecretsHasher, c)
		if err != nil {
			return err
		}
		if _, dup := s.clients[c.ID]; dup {
			return fmt.Errorf("client %q is registered twice", c.ID)
		}
		s.clients[c.ID] = rc
		store.Clients[c.ID] = rc.Client
	}

	keyGetter := func(context.Context) (any, error) { return &signingJWK, nil }
	strategy := compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(config), config)
	s.provider = compose.Compose(config, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	).(*fosite.Fosite)
	if s.metadata, err = json.Marshal(s.newMetadata(clients)); err != nil {
		return err
	}

	s.requests = make(map[string]*atomic.Int64)
	mux := http.NewServeMux()
	handle := func(pattern, path string, h http.HandlerFunc) {
		n := s.requests[path]
		if n == nil {
			n = new(atomic.Int64)
			s.requests[path] = n
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h(w, r)
		})
	}
	handle(TokenPath, TokenPath, s.handleToken)
	handle(AuthorizationPath, AuthorizationPath, s.handleAuthorize)
	handle(RevocationPath, RevocationPath, s.handleRevoke)
	handle(IntrospectionPath, IntrospectionPath, s.handleIntrospect)
	handle(ResourcePath, ResourcePath, s.handleResource)
	handle("GET "+JWKSPath, JWKSPath, s.serveJSON(s.jwks))
	handle("GET "+OAuthMetadataPath, OAuthMetadataPath, s.serveJSON(s.metadata))
	handle("GET "+OpenIDConfigurationPath, OpenIDConfigurationPath, s.serveJSON(s.metadata))

	serverCert := opts.PKI.Server.TLSCertificate()
	for i, clientAuth := range []tls.ClientAuthType{tls.NoClientCert, tls.RequestClientCert} {
		s.servers[i] = &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{
				Certificates: []tls.Certificate{serverCert},
				MinVersion:   tls.VersionTLS12,
				// RequestClientCert, not VerifyClientCertIfGiven:
				// self-signed client certificates chain to no CA, so
				// authenticateClient checks chains per client.
				ClientAuth: clientAuth,
			},
		}
	}
	return nil
}

func newRegisteredClient(hasher fosite.Hasher, c Client) (*registeredClient, error) {
	if c.ID == "" {
		return nil, errors.New("client ID is empty")
	}
	method := c.AuthMethod
	if method == "" {
		method = TLSClientAuth
	}
	if !slices.Contains(authMethods, method) {
		return nil, fmt.Errorf("client %q: unknown auth method %q: want %q, %q, %q or %q", c.ID, c.AuthMethod, authMethods[0], authMethods[1], authMethods[2], authMethods[3])
	}
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{"client_credentials"}
	}
	for _, gt := range grants {
		if !slices.Contains(grantTypes, gt) {
			return nil, fmt.Errorf("client %q: unknown grant type %q: want one of %q", c.ID, gt, grantTypes)
		}
	}
	rc := &registeredClient{method: method, thumbprints: make(map[string]bool)}
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
	rc.Client = fc
	if method != TLSClientAuth && c.SubjectDN != "" {
		return nil, fmt.Errorf("client %q: a subject DN is for %s, not %q", c.ID, TLSClientAuth, method)
	}
	if method != SelfSignedTLSClientAuth && len(c.Certificates) > 0 {
		return nil, fmt.Errorf("client %q: certificates are for %s, not %q", c.ID, SelfSignedTLSClientAuth, method)
	}
	if rc.usesCertificate() && c.Secret != "" {
		return nil, fmt.Errorf("client %q: a %s client has no secret", c.ID, method)
	}
	switch method {
	case TLSClientAuth:
		if c.SubjectDN == "" {
			return nil, fmt.Errorf("client %q: a %s client needs a subject DN", c.ID, method)
		}
		rc.subjectDN = c.SubjectDN
	case SelfSignedTLSClientAuth:
		if len(c.Certificates) == 0 {
			return nil, fmt.Errorf("client %q: a %s client needs certificates", c.ID, method)
		}
		for _, cert := range c.Certificates {
			rc.thumbprints[Thumbprint(cert)] = true
		}
	default:
		if c.Secret == "" {
			return nil, fmt.Errorf("client %q has no secret", c.ID)
		}
		hash, err := hasher.Hash(context.Background(), []byte(c.Secret))
		if err != nil {
			return nil, fmt.Errorf("client %q: hash secret: %w", c.ID, err)
		}
		fc.Secret = hash
	}
	return rc, nil
}

// URL returns the issuer identifier and base URL of the endpoints that do
// not ask for client certificates, such as "https://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// MTLSURL returns the base URL of the mutual-TLS endpoint aliases.
func (s *Server) MTLSURL() string { return s.mtlsURL }

// TokenURL returns the token endpoint that does not ask for client
// certificates: certificate clients fail there with invalid_client.
func (s *Server) TokenURL() string { return s.url + TokenPath }

// MTLSTokenURL returns the mutual-TLS alias of the token endpoint.
func (s *Server) MTLSTokenURL() string { return s.mtlsURL + TokenPath }

// MTLSRevocationURL returns the mutual-TLS alias of the revocation
// endpoint.
func (s *Server) MTLSRevocationURL() string { return s.mtlsURL + RevocationPath }

// MTLSIntrospectionURL returns the mutual-TLS alias of the introspection
// endpoint.
func (s *Server) MTLSIntrospectionURL() string { return s.mtlsURL + IntrospectionPath }

// AuthorizationURL returns the URL of the authorization endpoint.
func (s *Server) AuthorizationURL() string { return s.url + AuthorizationPath }

// ResourceURL returns the protected resource on the mutual-TLS address.
// It answers 200 with {"sub", "client_id", "scope"} to a request with a
// valid Bearer access token, sent with the certificate the token is bound
// to when it is bound, and 401 with a WWW-Authenticate challenge
// otherwise (RFC 6750 Section 3, RFC 8705 Section 3).
func (s *Server) ResourceURL() string { return s.mtlsURL + ResourcePath }

// SigningKey returns the public key that verifies access tokens; the JWKS
// endpoint publishes it too.
func (s *Server) SigningKey() crypto.PublicKey { return s.signingKey.Public() }

// TokenRequests returns how many requests the token endpoint has
// received on both addresses, successful or not.
func (s *Server) TokenRequests() int64 { return s.Requests(TokenPath) }

// Requests returns how many requests the endpoint at path, one of the Path
// constants, has received on both addresses, successful or not.
func (s *Server) Requests(path string) int64 {
	if n, ok := s.requests[path]; ok {
		return n.Load()
	}
	return 0
}

// TrustSelfSignedCertificate lets the self_signed_tls_client_auth client
// clientID authenticate with cert too, as when the client registers a
// rotated certificate.
func (s *Server) TrustSelfSignedCertificate(clientID string, cert *x509.Certificate) error {
	rc, ok := s.clients[clientID]
	if !ok || rc.method != SelfSignedTLSClientAuth {
		return fmt.Errorf("no %s client %q", SelfSignedTLSClientAuth, clientID)
	}
	s.mu.Lock()
	rc.thumbprints[Thumbprint(cert)] = true
	s.mu.Unlock()
	return nil
}

// Close stops the server at once and closes all connections. Calling it
// again, or after Shutdown, does nothing.
func (s *Server) Close() error {
	return s.stopped(errors.Join(s.servers[0].Close(), s.servers[1].Close()))
}

// Shutdown stops the server gracefully, waiting for active requests until
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stopped(errors.Join(s.servers[0].Shutdown(ctx), s.servers[1].Shutdown(ctx)))
}

// stopped waits for both Serve calls to return and reports the real
// errors.
func (s *Server) stopped(err error) error {
	s.served.Wait()
	for _, serveErr := range s.serveErrs {
		if !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	return err
}

// authenticateClient is the fosite client authentication strategy: RFC
// 8705 for certificate clients, fosite's own for the others.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	rc, ok := s.clients[form.Get("client_id")]
	if !ok || !rc.usesCertificate() {
		client, err := s.provider.DefaultClientAuthenticationStrategy(ctx, r, form)
		return client, asOAuthError(err)
	}
	if form.Has("client_secret") || form.Has("client_assertion") || r.Header.Get("Authorization") != "" {
		// RFC 6749 Section 2.3: one authentication method per request.
		return nil, fosite.ErrInvalidClient.WithHintf("The client authenticates with %s only, but the request carries other credentials.", rc.method)
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, fosite.ErrInvalidClient.WithHintf("The client authenticates with %s, but presented no TLS client certificate; use the mtls_endpoint_aliases.", rc.method)
	}
	leaf := r.TLS.PeerCertificates[0]
	switch rc.method {
	case TLSClientAuth:
		intermediates := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			intermediates.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         s.caPool,
			Intermediates: intermediates,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The client certificate does not chain to a trusted certificate authority.").WithWrap(err).WithDebug(err.Error())
		}
		if got := leaf.Subject.String(); got != rc.subjectDN {
			return nil, fosite.ErrInvalidClient.WithHintf("The client certificate's subject %q is not the registered tls_client_auth_subject_dn.", got)
		}
	case SelfSignedTLSClientAuth:
		s.mu.RLock()
		known := rc.thumbprints[Thumbprint(leaf)]
		s.mu.RUnlock()
		if !known {
			return nil, fosite.ErrInvalidClient.WithHint("The client certificate is not registered for the client.")
		}
	}
	return rc.Client, nil
}

// asOAuthError turns client authentication failures that fosite returns
// as plain errors, such as an expired client assertion (ory/hydra#2066),
// into invalid_client instead of HTTP 500.
func asOAuthError(err error) error {
	var oauthErr *fosite.RFC6749Error
	if err == nil || errors.As(err, &oauthErr) {
		return err
	}
	return fosite.ErrInvalidClient.WithHint("The client credentials are invalid.").WithWrap(err).WithDebug(err.Error())
}

// newSession returns an empty session for access tokens in JWT form.
func newSession(subject string) *oauth2.JWTSession {
	return &oauth2.JWTSession{
		JWTClaims: &jwt.JWTClaims{Subject: subject},
		JWTHeader: &jwt.Headers{},
		Subject:   subject,
		Username:  subject,
	}
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, newSession(""))
	if err != nil {
		if gt := r.PostForm.Get("grant_type"); gt != "" && !slices.Contains(grantTypes, gt) {
			err = fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt)
		}
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	session := ar.GetSession().(*oauth2.JWTSession)
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
		session.Subject = ar.GetClient().GetID()
	}
	// Each access token gets its own jti, iat and binding, also when a
	// refresh copies the session of the first one.
	session.GetJWTClaims() // creates the claims when missing
	claims := session.JWTClaims
	claims.Subject = session.Subject
	claims.JTI = newJTI()
	claims.IssuedAt = time.Now().UTC()
	delete(claims.Extra, "cnf")
	claims.Add("client_id", ar.GetClient().GetID())
	if thumb := boundThumbprint(r, ar.GetClient()); thumb != "" {
		claims.Add("cnf", map[string]any{"x5t#S256": thumb})
	}
	session.GetJWTHeader().Add("typ", "at+jwt") // RFC 9068 Section 2.1
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// boundThumbprint returns the thumbprint of the certificate that
// authenticated client in r, or "" when the client did not authenticate
// with a certificate.
func boundThumbprint(r *http.Request, client fosite.Client) string {
	oc, ok := client.(fosite.OpenIDConnectClient)
	if !ok || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return ""
	}
	if m := oc.GetTokenEndpointAuthMethod(); m != TLSClientAuth && m != SelfSignedTLSClientAuth {
		return ""
	}
	return Thumbprint(r.TLS.PeerCertificates[0])
}

func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, &issuerRedirect{ResponseWriter: w, issuer: s.url}, ar, err)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, newSession(Subject))
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, &issuerRedirect{ResponseWriter: w, issuer: s.url}, ar, err)
		return
	}
	resp.AddParameter("iss", s.url) // RFC 9207 Section 2
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// issuerRedirect adds the iss parameter of RFC 9207 Section 2 to the error
// redirections that fosite writes.
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
			if params, err := url.ParseQuery(fragment); err == nil {
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
		s.introspectWithClientAuthentication(ctx, w, r)
		return
	}
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, newSession(""))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}

// bodyClientAuthentication reports whether r is a POST request without an
// Authorization header whose body names a client. fosite's introspection
// endpoint accepts only HTTP Basic and Bearer credentials; RFC 7662
// Section 2.1 leaves the method to the server, so such requests are
// authenticated as at the token endpoint, certificates included.
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
// whose form is parsed and whose caller authenticates in the body or with
// a certificate.
func (s *Server) introspectWithClientAuthentication(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	client, err := s.provider.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, nil, err)
		return
	}
	if client.IsPublic() {
		s.provider.WriteAccessError(ctx, w, nil, fosite.ErrInvalidClient.WithHint("Public clients may not introspect tokens."))
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		s.provider.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("The token parameter is missing."))
		return
	}
	use := fosite.TokenUse(r.PostForm.Get("token_type_hint"))
	scopes := fosite.RemoveEmpty(strings.Split(r.PostForm.Get("scope"), " "))
	tu, ar, err := s.provider.IntrospectToken(ctx, token, use, newSession(""), scopes...)
	if err != nil {
		s.provider.WriteIntrospectionResponse(ctx, w, &fosite.IntrospectionResponse{Active: false})
		return
	}
	ir := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: tu}
	if tu == fosite.AccessToken {
		ir.AccessTokenType = fosite.BearerAccessToken
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}

// handleResource is a protected resource that accepts an access token
// only with the certificate it is bound to.
func (s *Server) handleResource(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := fosite.AccessTokenFromRequest(r)
	challenge := func(desc string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, desc))
		http.Error(w, desc, http.StatusUnauthorized)
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		http.Error(w, "no access token", http.StatusUnauthorized)
		return
	}
	_, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, newSession(""))
	if err != nil {
		challenge("the access token is not active")
		return
	}
	session := ar.GetSession().(*oauth2.JWTSession)
	if cnf, bound := session.JWTClaims.Extra["cnf"].(map[string]any); bound {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || Thumbprint(r.TLS.PeerCertificates[0]) != cnf["x5t#S256"] {
			challenge("the access token is bound to another certificate")
			return
		}
	}
	body, _ := json.Marshal(map[string]string{
		"sub":       session.GetSubject(),
		"client_id": ar.GetClient().GetID(),
		"scope":     strings.Join(ar.GetGrantedScopes(), " "),
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (s *Server) serveJSON(doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(doc)
	}
}

// checkLoopback rejects listen addresses outside the loopback range.
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

// Metadata is the authorization server metadata document of RFC 8414
// Section 2, with the parameters of RFC 8705 Sections 3.3 and 5. Each
// field holds the metadata parameter named in its JSON tag.
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	ScopesSupported                           []string `json:"scopes_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
	// AuthorizationResponseIssParameterSupported is defined by RFC 9207
	// Section 3.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// TLSClientCertificateBoundAccessTokens is defined by RFC 8705
	// Section 3.3.
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens"`
	// MTLSEndpointAliases is defined by RFC 8705 Section 5.
	MTLSEndpointAliases EndpointAliases `json:"mtls_endpoint_aliases"`
}

// EndpointAliases are the mutual-TLS aliases of the endpoints a client
// authenticates at (RFC 8705 Section 5).
type EndpointAliases struct {
	TokenEndpoint         string `json:"token_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

func (s *Server) newMetadata(clients []Client) Metadata {
	var scopes []string
	for _, c := range clients {
		scopes = append(scopes, c.Scopes...)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	return Metadata{
		Issuer:                                     s.url,
		AuthorizationEndpoint:                      s.url + AuthorizationPath,
		TokenEndpoint:                              s.url + TokenPath,
		RevocationEndpoint:                         s.url + RevocationPath,
		IntrospectionEndpoint:                      s.url + IntrospectionPath,
		JWKSURI:                                    s.url + JWKSPath,
		ScopesSupported:                            scopes,
		ResponseTypesSupported:                     []string{"code"},
		GrantTypesSupported:                        slices.Clone(grantTypes),
		TokenEndpointAuthMethodsSupported:          slices.Clone(authMethods),
		RevocationEndpointAuthMethodsSupported:     slices.Clone(authMethods),
		IntrospectionEndpointAuthMethodsSupported:  slices.Clone(authMethods),
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
		TLSClientCertificateBoundAccessTokens:      true,
		MTLSEndpointAliases: EndpointAliases{
			TokenEndpoint:         s.mtlsURL + TokenPath,
			RevocationEndpoint:    s.mtlsURL + RevocationPath,
			IntrospectionEndpoint: s.mtlsURL + IntrospectionPath,
		},
	}
}
