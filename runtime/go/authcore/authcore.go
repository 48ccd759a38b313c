// Package authcore is the runtime core behind the generated Go package:
// one Client that runs every operation of the coyotegen spec over the
// flow packages (clientcredentials, ...), the token endpoint client and
// the token cache.
//
// The generated package validates the configuration, maps it onto Config
// and exposes Client through its typed interface; programs use the
// generated package, not this one.
package authcore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clientcredentials"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// Config is the configuration of a Client, in runtime types. Field names
// follow the spec's configuration fields.
type Config struct {
	ServerURL        string
	ClientID         string
	ClientSecret     secret.Secret
	AuthMode         string // auth_mode enum value, e.g. "client_credentials"
	ClientAuthMethod string // client_auth_method enum value, e.g. "client_secret_basic"
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

	// HTTPClient sends every request; nil builds one from Timeout,
	// VerifyTLS and CACertPath.
	HTTPClient *http.Client
	// Classify reports whether an OAuth error code is retryable.
	Classify oautherr.Classifier
}

// AuthorizationRequest is the start of an authorization code flow.
type AuthorizationRequest struct {
	// URL is the authorization request to send the user to.
	URL string
	// CodeVerifier is the PKCE code verifier (RFC 7636 section 4.1) that
	// the token request must carry.
	CodeVerifier secret.Secret
	// State is the one-time value the redirection must return.
	State string
	// RedirectURI is the redirection endpoint the request names.
	RedirectURI string
}

// Introspection is an introspection response (RFC 7662 section 2.2).
type Introspection struct {
	Active    bool
	Scopes    []string
	ClientID  string
	Username  string
	TokenType string
	ExpiresAt time.Time
	IssuedAt  time.Time
	Subject   string
	Audience  []string
	Issuer    string
}

// Client runs the operations. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client

	mu     sync.Mutex                               // serialises building source
	source atomic.Pointer[clientcredentials.Source] // built on first use, after discovery
}

// New returns a client for cfg. It does not contact the server.
func New(cfg Config) (*Client, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		var err error
		if hc, err = newHTTPClient(cfg); err != nil {
			return nil, err
		}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

func newHTTPClient(cfg Config) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if !cfg.VerifyTLS {
		tlsCfg.InsecureSkipVerify = true // configured explicitly with verify_ssl: false
	}
	if cfg.CACertPath != "" {
		pem, err := os.ReadFile(cfg.CACertPath)
		if err != nil {
			return nil, configError("ca_cert_path", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, configError("ca_cert_path", fmt.Errorf("%s holds no PEM certificate", cfg.CACertPath))
		}
		tlsCfg.RootCAs = pool
	}
	tr.TLSClientConfig = tlsCfg
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}, nil
}

func configError(field string, err error) *oautherr.Error {
	return &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: field + ": " + err.Error(), Err: err}
}

// clientCredentials returns the client credentials source, building it on
// first use; op names the calling operation in errors.
func (c *Client) clientCredentials(ctx context.Context, op string) (*clientcredentials.Source, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.source.Load(); s != nil {
		return s, nil
	}
	if c.cfg.AuthMode != "" && c.cfg.AuthMode != "client_credentials" {
		return nil, oautherr.NotImplemented(op + " with auth_mode " + c.cfg.AuthMode)
	}
	method, err := tokenendpoint.ParseAuthMethod(c.cfg.ClientAuthMethod)
	if err != nil {
		return nil, oautherr.NotImplemented(op + " with client_auth_method " + c.cfg.ClientAuthMethod)
	}
	tokenURL := c.cfg.TokenURL
	if tokenURL == "" {
		md, err := discover(ctx, c.http, c.cfg.ServerURL)
		if err != nil {
			return nil, err
		}
		tokenURL = md.TokenEndpoint
	}
	s := clientcredentials.New(clientcredentials.Config{
		Endpoint: &tokenendpoint.Endpoint{
			URL:          tokenURL,
			ClientID:     c.cfg.ClientID,
			ClientSecret: c.cfg.ClientSecret,
			AuthMethod:   method,
			HTTPClient:   c.http,
			Classify:     c.cfg.Classify,
		},
		Scopes:        c.cfg.Scopes,
		RefreshBuffer: c.cfg.RefreshBuffer,
	})
	c.source.Store(s)
	return s, nil
}

// AuthenticateClientCredentials requests a new token with the client
// credentials grant (RFC 6749 section 4.4) and caches it.
func (c *Client) AuthenticateClientCredentials(ctx context.Context, scopes []string) (*token.Token, error) {
	s, err := c.clientCredentials(ctx, "authenticate_client_credentials")
	if err != nil {
		return nil, err
	}
	return s.Authenticate(ctx, scopes)
}

// GetValidToken returns the cached token while it is valid, else a new one.
func (c *Client) GetValidToken(ctx context.Context) (*token.Token, error) {
	return c.Token(ctx)
}

// Token is GetValidToken; on a valid cached token it takes no lock and
// allocates nothing.
func (c *Client) Token(ctx context.Context) (*token.Token, error) {
	if s := c.source.Load(); s != nil {
		return s.Token(ctx)
	}
	s, err := c.clientCredentials(ctx, "get_valid_token")
	if err != nil {
		return nil, err
	}
	return s.Token(ctx)
}

// CurrentToken returns the cached token, valid or not, or nil.
func (c *Client) CurrentToken() *token.Token {
	if s := c.source.Load(); s != nil {
		return s.Current()
	}
	return nil
}

// ClearTokens forgets the cached tokens.
func (c *Client) ClearTokens(ctx context.Context) error {
	if s := c.source.Load(); s != nil {
		s.Clear()
	}
	return nil
}

// StartAuthorizationCodeFlow is not implemented yet.
func (c *Client) StartAuthorizationCodeFlow(ctx context.Context, redirectURI string, scopes []string) (*AuthorizationRequest, error) {
	return nil, oautherr.NotImplemented("start_authorization_code_flow")
}

// AuthenticateAuthorizationCode is not implemented yet.
func (c *Client) AuthenticateAuthorizationCode(ctx context.Context, code, redirectURI, codeVerifier string) (*token.Token, error) {
	return nil, oautherr.NotImplemented("authenticate_authorization_code")
}

// AuthenticateJWTBearer is not implemented yet.
func (c *Client) AuthenticateJWTBearer(ctx context.Context, subject string, scopes []string) (*token.Token, error) {
	return nil, oautherr.NotImplemented("authenticate_jwt_bearer")
}

// RefreshToken is not implemented yet.
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (*token.Token, error) {
	return nil, oautherr.NotImplemented("refresh_token")
}

// RevokeToken is not implemented yet.
func (c *Client) RevokeToken(ctx context.Context, tok, tokenTypeHint string) (bool, error) {
	return false, oautherr.NotImplemented("revoke_token")
}

// IntrospectToken is not implemented yet.
func (c *Client) IntrospectToken(ctx context.Context, tok string) (*Introspection, error) {
	return nil, oautherr.NotImplemented("introspect_token")
}

// TestConnection is not implemented yet.
func (c *Client) TestConnection(ctx context.Context) (bool, error) {
	return false, oautherr.NotImplemented("test_connection")
}

// Close releases the client's idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// CompleteAuthorizationCodeFlow is not implemented yet.
func (c *Client) CompleteAuthorizationCodeFlow(ctx context.Context, callbackURL string) (*token.Token, error) {
	return nil, oautherr.NotImplemented("complete_authorization_code_flow")
}
