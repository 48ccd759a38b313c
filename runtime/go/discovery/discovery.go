// Package discovery reads the metadata of an OAuth 2.0 authorization
// server: its endpoints and capabilities, published as a JSON document at
// a well-known URL (RFC 8414, and OpenID Connect Discovery 1.0 for
// servers that publish only that).
//
// [Fetch] reads the document once: first from the RFC 8414 Section 3.1
// location, then from the OpenID Connect Discovery 1.0 Section 4 location,
// and rejects a document whose issuer is not the server's issuer
// identifier (RFC 8414 Section 3.3). A [Cache] keeps the document for a
// client, fetches it at most once at a time, and fetches it again when it
// is older than its TTL. [Metadata.Endpoints] picks the endpoint URLs,
// using the mutual-TLS aliases of RFC 8705 Section 5 when the client
// authenticates with a certificate; [CheckConnection] reports whether the
// server and each endpoint answer, for the test_connection operation.
package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// Operation is the operation id that errors from this package carry in
// oautherr.Error.Op.
const Operation = "discovery"

// CodeInvalidIssuer is the error code of a metadata document whose issuer
// is not the server's issuer identifier (RFC 8414 Section 3.3).
const CodeInvalidIssuer = "invalid_issuer"

// Well-known URI suffixes of the metadata documents.
const (
	// OAuthMetadataSuffix is registered by RFC 8414 Section 7.3.
	OAuthMetadataSuffix = "oauth-authorization-server"
	// OpenIDConfigurationSuffix is defined by OpenID Connect Discovery
	// 1.0 Section 4.
	OpenIDConfigurationSuffix = "openid-configuration"
)

// MaxMetadataBytes is the largest metadata document Fetch reads.
const MaxMetadataBytes = 1 << 20

// Metadata is an authorization server metadata document (RFC 8414 Section
// 2), with the parameters of OpenID Connect Discovery 1.0 Section 3, RFC
// 8705 Sections 3.3 and 5, and RFC 9207 Section 3 that the runtime uses.
// Each field holds the metadata parameter named in its JSON tag. A
// Metadata returned by this package is shared and must not be modified.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported means the server sends
	// the iss parameter in authorization responses (RFC 9207 Section 3).
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// TLSClientCertificateBoundAccessTokens means the server issues
	// certificate-bound access tokens (RFC 8705 Section 3.3).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// MTLSEndpointAliases are the endpoints to use instead when the
	// client authenticates with mutual TLS (RFC 8705 Section 5).
	MTLSEndpointAliases *MTLSEndpointAliases `json:"mtls_endpoint_aliases,omitempty"`

	// Source is the URL the document was read from.
	Source string `json:"-"`
}

// MTLSEndpointAliases is the mtls_endpoint_aliases metadata parameter of
// RFC 8705 Section 5: endpoints that accept mutual-TLS connections, which
// clients using mutual TLS must call instead of the plain ones. Each field
// holds the endpoint named in its JSON tag.
type MTLSEndpointAliases struct {
	TokenEndpoint                      string `json:"token_endpoint,omitempty"`
	RevocationEndpoint                 string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint              string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint        string `json:"device_authorization_endpoint,omitempty"`
	RegistrationEndpoint               string `json:"registration_endpoint,omitempty"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	BackchannelAuthenticationEndpoint  string `json:"backchannel_authentication_endpoint,omitempty"`
}

// Endpoints are the endpoint URLs that a client calls. An empty field
// means the endpoint is unknown.
type Endpoints struct {
	// Authorization is the authorization endpoint (RFC 6749 Section
	// 3.1), which the user agent visits.
	Authorization string
	// Token is the token endpoint (RFC 6749 Section 3.2).
	Token string
	// Revocation is the revocation endpoint (RFC 7009 Section 2).
	Revocation string
	// Introspection is the introspection endpoint (RFC 7662 Section 2).
	Introspection string
}

// Endpoints returns the endpoint URLs that m publishes. With mtls set, an
// endpoint that has a mutual-TLS alias (RFC 8705 Section 5) is replaced by
// the alias. The authorization endpoint has none: the user agent, not the
// client, calls it.
func (m *Metadata) Endpoints(mtls bool) Endpoints {
	e := Endpoints{
		Authorization: m.AuthorizationEndpoint,
		Token:         m.TokenEndpoint,
		Revocation:    m.RevocationEndpoint,
		Introspection: m.IntrospectionEndpoint,
	}
	if a := m.MTLSEndpointAliases; mtls && a != nil {
		e.Token = firstNonEmpty(a.TokenEndpoint, e.Token)
		e.Revocation = firstNonEmpty(a.RevocationEndpoint, e.Revocation)
		e.Introspection = firstNonEmpty(a.IntrospectionEndpoint, e.Introspection)
	}
	return e
}

// WithDefaults returns e with each empty field taken from d: configured
// endpoints take precedence over discovered ones.
func (e Endpoints) WithDefaults(d Endpoints) Endpoints {
	return Endpoints{
		Authorization: firstNonEmpty(e.Authorization, d.Authorization),
		Token:         firstNonEmpty(e.Token, d.Token),
		Revocation:    firstNonEmpty(e.Revocation, d.Revocation),
		Introspection: firstNonEmpty(e.Introspection, d.Introspection),
	}
}

// Complete reports whether every endpoint is known, so that discovery
// has nothing to add.
func (e Endpoints) Complete() bool {
	return e.Authorization != "" && e.Token != "" && e.Revocation != "" && e.Introspection != ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MetadataURLs returns the URLs at which a server with the issuer
// identifier serverURL publishes its metadata, in the order Fetch tries
// them: the RFC 8414 Section 3.1 URL, which inserts the well-known suffix
// between the host and the path, then the OpenID Connect Discovery 1.0
// Section 4 URL, which appends it to the path. For an issuer without a
// path the two differ only in the suffix.
func MetadataURLs(serverURL string) ([]string, error) {
	u, err := parseIssuer(serverURL)
	if err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host
	return []string{
		origin + "/.well-known/" + OAuthMetadataSuffix + path,
		origin + path + "/.well-known/" + OpenIDConfigurationSuffix,
	}, nil
}

// parseIssuer checks that serverURL can be an issuer identifier: an
// absolute http or https URL without query or fragment (RFC 8414 Section
// 2). http is accepted for test servers on the loopback interface.
func parseIssuer(serverURL string) (*url.URL, error) {
	if serverURL == "" {
		return nil, errors.New("server_url is empty")
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, errors.New("server_url cannot be parsed")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("server_url %q is not an absolute http or https URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("server_url %q has a query, fragment or user info, which an issuer identifier cannot have", u.Redacted())
	}
	return u, nil
}

// sameIssuer compares the issuer of a metadata document with the issuer
// identifier the client was configured with. RFC 8414 Section 3.3 asks
// for identical values; a trailing slash in the configuration is
// tolerated, since well-known URLs are built without it.
func sameIssuer(got, configured string) bool {
	return got == configured || got == strings.TrimSuffix(configured, "/")
}

// Fetch reads the metadata of the authorization server whose issuer
// identifier is serverURL, trying each of MetadataURLs(serverURL) until
// one answers 200 with a JSON object. A document whose issuer differs
// from serverURL is rejected with code "invalid_issuer" and no other
// location is tried (RFC 8414 Section 3.3).
//
// Every error is an [*oautherr.Error] with one of the codes
// "invalid_config", "network_error", "canceled", "server_error",
// "invalid_response" and "invalid_issuer".
func Fetch(ctx context.Context, hc *http.Client, serverURL string) (*Metadata, error) {
	urls, err := MetadataURLs(serverURL)
	if err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	var first error
	for _, u := range urls {
		md, err := fetchDocument(ctx, hc, u)
		if err == nil {
			if !sameIssuer(md.Issuer, serverURL) {
				return nil, &oautherr.Error{
					Op:          Operation,
					Code:        CodeInvalidIssuer,
					Description: fmt.Sprintf("metadata at %s names issuer %q, not the configured server_url %q (RFC 8414 Section 3.3)", u, md.Issuer, serverURL),
				}
			}
			if err := md.check(); err != nil {
				return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidResponse, StatusCode: http.StatusOK, Description: fmt.Sprintf("metadata at %s: %v", u, err)}
			}
			return md, nil
		}
		var oerr *oautherr.Error
		if errors.As(err, &oerr) && (oerr.Code == oautherr.CodeCanceled || oerr.Code == oautherr.CodeNetworkError) {
			// The next location is on the same host.
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// check rejects endpoint values that are not absolute http or https URLs.
func (m *Metadata) check() error {
	fields := []struct{ name, value string }{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"introspection_endpoint", m.IntrospectionEndpoint},
	}
	if a := m.MTLSEndpointAliases; a != nil {
		fields = append(fields,
			struct{ name, value string }{"mtls_endpoint_aliases.token_endpoint", a.TokenEndpoint},
			struct{ name, value string }{"mtls_endpoint_aliases.revocation_endpoint", a.RevocationEndpoint},
			struct{ name, value string }{"mtls_endpoint_aliases.introspection_endpoint", a.IntrospectionEndpoint},
		)
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q is not an absolute http or https URL", f.name, f.value)
		}
	}
	return nil
}

// fetchDocument GETs one metadata document.
func fetchDocument(ctx context.Context, hc *http.Client, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidConfig, Description: "cannot build metadata request", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, "metadata request to "+u+" failed", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataBytes+1))
	if err != nil {
		return nil, transportError(ctx, "metadata response from "+u+" could not be read", err)
	}
	if resp.StatusCode != http.StatusOK {
		oerr := &oautherr.Error{
			Op:          Operation,
			Code:        oautherr.CodeInvalidResponse,
			StatusCode:  resp.StatusCode,
			Description: u + " answered " + statusText(resp.StatusCode),
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			oerr.Code = oautherr.CodeServerError
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
				oerr.Code = oautherr.CodeTemporarilyUnavailable
			}
			oerr.Retryable = true
			oerr.RetryAfter = tokenendpoint.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return nil, oerr
	}
	if len(body) > MaxMetadataBytes {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidResponse, StatusCode: resp.StatusCode, Description: u + ": metadata document exceeds 1 MiB"}
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidResponse, StatusCode: resp.StatusCode, Description: u + " is not a JSON metadata document", Err: err}
	}
	if md.Issuer == "" {
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeInvalidResponse, StatusCode: resp.StatusCode, Description: u + ": metadata document has no issuer"}
	}
	md.Source = u
	return &md, nil
}

func transportError(ctx context.Context, description string, err error) *oautherr.Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return &oautherr.Error{Op: Operation, Code: oautherr.CodeCanceled, Description: "context ended before the metadata arrived", Err: err}
	}
	return &oautherr.Error{Op: Operation, Code: oautherr.CodeNetworkError, Description: description, Retryable: true, Err: err}
}

func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return "HTTP " + strconv.Itoa(code) + " " + text
	}
	return "HTTP " + strconv.Itoa(code)
}
