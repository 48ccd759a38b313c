// Package tokenendpoint is a client for the OAuth 2.0 token endpoint
// (RFC 6749 Section 3.2).
//
// [Endpoint.Exchange] sends one token request: it authenticates the client
// with one of the methods of [AuthMethod], parses a successful response
// (Section 5.1) into a [token.Token], and turns everything else, from an
// error response (Section 5.2) to a network failure or a malformed body,
// into an [*oautherr.Error]. Grant-specific packages such as
// clientcredentials, authcode and jwtbearer build the request parameters
// and add caching on top.
//
// The client authentication methods are those registered for
// token_endpoint_auth_method (RFC 7591 Section 2, RFC 8705 Section 2):
// client_secret_basic and client_secret_post (RFC 6749 Section 2.3.1),
// private_key_jwt (RFC 7523 Section 2.2, with a new signed assertion for
// every request), tls_client_auth and self_signed_tls_client_auth (RFC 8705
// Section 2, where the TLS client certificate of the HTTP client
// authenticates and the body names the client), and none for public
// clients (RFC 6749 Section 2.1, client_id in the body).
package tokenendpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clientauth"
	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// MaxResponseBytes is the largest token endpoint response body that
// Exchange reads. A successful response with a larger body is rejected with
// code "invalid_response".
const MaxResponseBytes = 1 << 20

// AuthMethod is a client authentication method for the token endpoint, as
// registered for token_endpoint_auth_method (RFC 7591 Section 2).
type AuthMethod int

const (
	// ClientSecretBasic sends the client credentials in an HTTP Basic
	// Authorization header (RFC 6749 Section 2.3.1). It is the zero value,
	// matching the default of RFC 8414 Section 2.
	ClientSecretBasic AuthMethod = iota
	// ClientSecretPost sends client_id and client_secret as form
	// parameters in the request body (RFC 6749 Section 2.3.1).
	ClientSecretPost
	// PrivateKeyJWT sends a JWT signed with the client's private key as
	// client_assertion, with client_assertion_type
	// "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" (RFC 7523
	// Section 2.2). Each request carries a newly signed assertion.
	PrivateKeyJWT
	// TLSClientAuth authenticates with a client certificate issued by a
	// trusted certificate authority, presented in the TLS handshake
	// (RFC 8705 Section 2.1). The request body carries client_id; the
	// Endpoint's HTTPClient must present the certificate.
	TLSClientAuth
	// SelfSignedTLSClientAuth authenticates with a self-signed client
	// certificate registered with the server (RFC 8705 Section 2.2). The
	// request body carries client_id; the Endpoint's HTTPClient must
	// present the certificate.
	SelfSignedTLSClientAuth
	// None is a public client that does not authenticate (RFC 6749
	// Section 2.1, RFC 7591 Section 2 "none"); the request body carries
	// client_id (RFC 6749 Section 4.1.3).
	None
)

// authMethodNames are the registered names, indexed by AuthMethod.
var authMethodNames = [...]string{
	ClientSecretBasic:       "client_secret_basic",
	ClientSecretPost:        "client_secret_post",
	PrivateKeyJWT:           "private_key_jwt",
	TLSClientAuth:           "tls_client_auth",
	SelfSignedTLSClientAuth: "self_signed_tls_client_auth",
	None:                    "none",
}

// String returns the registered name of the method, such as
// "client_secret_basic".
func (m AuthMethod) String() string {
	if m.valid() {
		return authMethodNames[m]
	}
	return "AuthMethod(" + strconv.Itoa(int(m)) + ")"
}

func (m AuthMethod) valid() bool { return m >= 0 && int(m) < len(authMethodNames) }

// UsesSecret reports whether the method sends the client secret:
// ClientSecretBasic and ClientSecretPost.
func (m AuthMethod) UsesSecret() bool { return m == ClientSecretBasic || m == ClientSecretPost }

// Authenticates reports whether the method proves the client's identity,
// that is every method but None. Grants reserved for confidential
// clients, such as client credentials (RFC 6749 Section 4.4), need one.
func (m AuthMethod) Authenticates() bool { return m.valid() && m != None }

// ParseAuthMethod returns the AuthMethod with the registered name s.
func ParseAuthMethod(s string) (AuthMethod, error) {
	for m, name := range authMethodNames {
		if name == s {
			return AuthMethod(m), nil
		}
	}
	return 0, fmt.Errorf("unknown token endpoint auth method %q: want one of %s", s, quotedAuthMethods())
}

func quotedAuthMethods() string {
	var b strings.Builder
	for i, name := range authMethodNames {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(name))
	}
	return b.String()
}

// Endpoint is a token endpoint and the credentials of the client that calls
// it. An Endpoint must not be modified while Exchange calls are running;
// otherwise it is safe for concurrent use.
type Endpoint struct {
	// URL is the absolute URL of the token endpoint.
	URL string
	// ClientID is the client identifier (RFC 6749 Section 2.2).
	ClientID string
	// ClientSecret is the client secret (RFC 6749 Section 2.3.1), needed
	// by ClientSecretBasic and ClientSecretPost and never sent by the
	// other methods.
	ClientSecret secret.Secret
	// AuthMethod selects how the client authenticates. The zero value is
	// ClientSecretBasic.
	AuthMethod AuthMethod
	// SigningKey signs the client assertions of PrivateKeyJWT.
	SigningKey *keys.SigningKey
	// AssertionAudience is the aud claim of PrivateKeyJWT assertions.
	// Empty means URL, the token endpoint, which RFC 7523 Section 3 names
	// and servers such as ory/fosite require; set it to the issuer
	// identifier for servers that want that instead.
	AssertionAudience string
	// AssertionLifetime is the lifetime of PrivateKeyJWT assertions, from
	// one second to clientauth.MaxLifetime (60 s). Zero means
	// clientauth.DefaultLifetime.
	AssertionLifetime time.Duration
	// HTTPClient sends the requests. Nil means http.DefaultClient. Give it
	// a timeout, or pass contexts with deadlines, so that a server that
	// never answers cannot block callers forever.
	HTTPClient *http.Client
	// Classify reports which OAuth error codes are retryable. Nil means
	// oautherr.DefaultClassifier. HTTP 5xx and 429 responses are retryable
	// whatever the code.
	Classify oautherr.Classifier
	// Clock dates the requests: a token's ExpiresAt is the send time plus
	// expires_in, and a Retry-After date is measured from the receive
	// time. Nil means the system clock; a token source on a virtual clock
	// (tokenrefresh.Config.Clock) needs the same clock here. Client
	// assertions are always dated by the system clock, which the server
	// checks them against.
	Clock clock.Clock
}

// Validate reports the first configuration error in e, or nil.
func (e *Endpoint) Validate() error {
	if e == nil {
		return errors.New("token endpoint is not configured")
	}
	if err := CheckEndpointURL("token endpoint", e.URL); err != nil {
		return err
	}
	if e.ClientID == "" {
		return errors.New("client ID is empty")
	}
	switch m := e.AuthMethod; {
	case !m.valid():
		return fmt.Errorf("unknown token endpoint auth method %s: want one of %s", m, quotedAuthMethods())
	case m.UsesSecret() && e.ClientSecret.IsZero():
		return fmt.Errorf("client secret is empty: auth method %s needs one", m)
	case m == PrivateKeyJWT && e.SigningKey == nil:
		return fmt.Errorf("no signing key: auth method %s needs one", m)
	}
	if e.AuthMethod == PrivateKeyJWT {
		if err := clientauth.CheckLifetime(e.AssertionLifetime); err != nil {
			return err
		}
	}
	return nil
}

// Exchange sends a token request with the given parameters, such as
// grant_type and scope, and returns the issued token. op names the
// operation in errors. params is not modified.
//
// Every error is an [*oautherr.Error]: the server's error response, or one
// of the coyotegen codes "invalid_config", "network_error", "canceled",
// "invalid_response", "server_error" and "temporarily_unavailable".
func (e *Endpoint) Exchange(ctx context.Context, op string, params url.Values) (*token.Token, error) {
	resp, body, sent, err := e.send(ctx, op, "", params)
	if err != nil {
		return nil, err
	}
	return e.parseToken(op, resp, body, params.Get("scope"), sent)
}

// Post sends params to another endpoint of the same authorization server,
// such as revocation (RFC 7009) or introspection (RFC 7662), with the
// client authentication of token requests (a client assertion still names
// the token endpoint as its audience, RFC 7523 Section 3), and returns the
// status and body of a 2xx response. Every other outcome is the same
// [*oautherr.Error] that Exchange returns.
func (e *Endpoint) Post(ctx context.Context, op, endpointURL string, params url.Values) (status int, body []byte, err error) {
	resp, body, _, err := e.send(ctx, op, endpointURL, params)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// send posts the authenticated form to target (the token endpoint when
// empty) and returns a 2xx response with its body (at most
// MaxResponseBytes) and when it was sent, or the typed error.
func (e *Endpoint) send(ctx context.Context, op, target string, params url.Values) (*http.Response, []byte, time.Time, error) {
	if err := e.Validate(); err != nil {
		return nil, nil, time.Time{}, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	if target == "" {
		target = e.URL
	}
	req, err := e.newRequest(ctx, target, params)
	if err != nil {
		return nil, nil, time.Time{}, &oautherr.Error{Op: op, Code: oautherr.CodeInvalidConfig, Description: "cannot build the request", Err: err}
	}

	sent := clock.Now(e.Clock)
	resp, err := e.httpClient().Do(req)
	if err != nil {
		return nil, nil, sent, transportError(ctx, op, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, nil, sent, transportError(ctx, op, err)
	}
	tooLarge := len(body) > MaxResponseBytes

	success := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !success {
		if tooLarge {
			body = nil
		}
		return nil, nil, sent, e.errorResponse(op, resp, body)
	}
	if tooLarge {
		return nil, nil, sent, invalidResponse(op, resp.StatusCode, "response body exceeds 1 MiB", nil)
	}
	return resp, body, sent, nil
}

func (e *Endpoint) httpClient() *http.Client {
	if e.HTTPClient != nil {
		return e.HTTPClient
	}
	return http.DefaultClient
}

func (e *Endpoint) classify(code string) bool {
	if e.Classify != nil {
		return e.Classify(code)
	}
	return oautherr.DefaultClassifier(code)
}

// newRequest builds the POST request with the form body and client
// authentication of RFC 6749 Sections 2.3.1 and 3.2.
func (e *Endpoint) newRequest(ctx context.Context, target string, params url.Values) (*http.Request, error) {
	form := make(url.Values, len(params)+2)
	for k, v := range params {
		form[k] = slices.Clone(v)
	}
	switch e.AuthMethod {
	case ClientSecretPost:
		form.Set("client_id", e.ClientID)
		form.Set("client_secret", e.ClientSecret.Reveal())
	case PrivateKeyJWT:
		aud := e.AssertionAudience
		if aud == "" {
			aud = e.URL
		}
		assertion, err := clientauth.ClientAssertion(e.SigningKey, e.ClientID, aud, e.AssertionLifetime)
		if err != nil {
			return nil, fmt.Errorf("sign client assertion: %w", err)
		}
		form.Set("client_assertion_type", clientauth.AssertionType)
		form.Set("client_assertion", assertion)
	case TLSClientAuth, SelfSignedTLSClientAuth, None:
		// RFC 8705 Section 2 and RFC 6749 Section 4.1.3: the client is
		// identified by client_id in the body and sends no secret.
		form.Set("client_id", e.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if e.AuthMethod == ClientSecretBasic {
		// RFC 6749 Section 2.3.1: the client identifier and password are
		// encoded with application/x-www-form-urlencoded before Basic
		// encoding.
		req.SetBasicAuth(url.QueryEscape(e.ClientID), url.QueryEscape(e.ClientSecret.Reveal()))
	}
	return req, nil
}

// tokenResponse is the successful response of RFC 6749 Section 5.1. It also
// decodes an error field, because some servers report errors with HTTP 200.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	IDToken      string          `json:"id_token"`
	Scope        *string         `json:"scope"`
	Error        string          `json:"error"`
}

// errorResponseBody is the error response of RFC 6749 Section 5.2.
type errorResponseBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

func (e *Endpoint) parseToken(op string, resp *http.Response, body []byte, requestedScope string, sent time.Time) (*token.Token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, invalidResponse(op, resp.StatusCode, "token response is not a valid JSON object", err)
	}
	if tr.AccessToken == "" && tr.Error != "" {
		return nil, e.errorResponse(op, resp, body)
	}
	if tr.AccessToken == "" {
		return nil, invalidResponse(op, resp.StatusCode, "token response has no access_token", nil)
	}
	if tr.TokenType == "" {
		return nil, invalidResponse(op, resp.StatusCode, "token response has no token_type", nil)
	}
	if !strings.EqualFold(tr.TokenType, token.TypeBearer) {
		return nil, invalidResponse(op, resp.StatusCode, fmt.Sprintf("unsupported token_type %q: want %q", tr.TokenType, token.TypeBearer), nil)
	}
	lifetime, ok, err := parseExpiresIn(tr.ExpiresIn)
	if err != nil {
		return nil, invalidResponse(op, resp.StatusCode, err.Error(), nil)
	}

	t := &token.Token{
		AccessToken:  secret.Secret(tr.AccessToken),
		TokenType:    token.TypeBearer,
		RefreshToken: secret.Secret(tr.RefreshToken),
		IDToken:      secret.Secret(tr.IDToken),
	}
	if ok {
		// Measured from when the request was sent, so the token is
		// considered expired no later than the server considers it.
		t.ExpiresAt = sent.Add(lifetime)
	}
	if tr.Scope != nil {
		t.Scopes = scopeList(*tr.Scope)
	} else {
		// RFC 6749 Section 5.1: scope is omitted when it is identical to
		// the scope requested.
		t.Scopes = scopeList(requestedScope)
	}
	return t, nil
}

// scopeList splits a space-delimited scope parameter (RFC 6749 Section
// 3.3), returning nil when it names no scope.
func scopeList(scope string) []string {
	if list := strings.Fields(scope); len(list) > 0 {
		return list
	}
	return nil
}

// maxExpiresIn is the largest expires_in, in seconds, that fits in a
// time.Duration.
const maxExpiresIn = float64(math.MaxInt64 / int64(time.Second))

// parseExpiresIn decodes expires_in, which RFC 6749 Section 5.1 defines as
// a number of seconds. Servers also send it as a numeric string. ok is
// false when the field is absent or null. Zero means the token has already
// expired.
func parseExpiresIn(raw json.RawMessage) (lifetime time.Duration, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var secs float64
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, errors.New("expires_in is not a number")
		}
		secs, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, false, fmt.Errorf("expires_in %q is not a number", s)
		}
	} else if err := json.Unmarshal(raw, &secs); err != nil {
		return 0, false, errors.New("expires_in is not a number")
	}
	switch {
	case math.IsNaN(secs) || math.IsInf(secs, 0):
		return 0, false, errors.New("expires_in is not a finite number")
	case secs < 0:
		return 0, false, fmt.Errorf("expires_in %v is negative", secs)
	case secs > maxExpiresIn:
		return 0, false, fmt.Errorf("expires_in %v is too large", secs)
	}
	return time.Duration(secs * float64(time.Second)), true, nil
}

// errorResponse converts a failed response into an *oautherr.Error. A body
// that is not an RFC 6749 Section 5.2 error object is reported by status:
// "server_error" for 5xx, "temporarily_unavailable" for 429 and
// "invalid_response" otherwise.
func (e *Endpoint) errorResponse(op string, resp *http.Response, body []byte) *oautherr.Error {
	now := clock.Now(e.Clock)
	oerr := &oautherr.Error{
		Op:         op,
		StatusCode: resp.StatusCode,
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
	var eb errorResponseBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
		oerr.Code = eb.Error
		oerr.Description = eb.ErrorDescription
		oerr.URI = eb.ErrorURI
	} else {
		switch {
		case resp.StatusCode >= 500:
			oerr.Code = oautherr.CodeServerError
		case resp.StatusCode == http.StatusTooManyRequests:
			oerr.Code = oautherr.CodeTemporarilyUnavailable
		default:
			oerr.Code = oautherr.CodeInvalidResponse
		}
		oerr.Description = "the server returned " + statusText(resp.StatusCode) + " without an OAuth error object"
	}
	oerr.Retryable = resp.StatusCode >= 500 ||
		resp.StatusCode == http.StatusTooManyRequests ||
		e.classify(oerr.Code)
	return oerr
}

func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}

// parseRetryAfter decodes a Retry-After header (RFC 9110 Section 10.2.3),
// which is either a number of seconds or an HTTP date. It returns 0 when
// the header is absent, malformed, or in the past.
// ParseRetryAfter reads a Retry-After header value (RFC 9110 Section
// 10.2.3), delay-seconds or an HTTP date, as a delay from now; 0 when it
// is absent, malformed or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > int64(maxExpiresIn) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func invalidResponse(op string, status int, description string, err error) *oautherr.Error {
	return &oautherr.Error{
		Op:          op,
		Code:        oautherr.CodeInvalidResponse,
		Description: description,
		StatusCode:  status,
		Err:         err,
	}
}

// transportError reports a request that failed before a complete response
// was read.
func transportError(ctx context.Context, op string, err error) *oautherr.Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return &oautherr.Error{
			Op:          op,
			Code:        oautherr.CodeCanceled,
			Description: "context ended before the token response arrived",
			Err:         err,
		}
	}
	// A transport that knows its failure is final (a replay cassette
	// without the request) says so; other network failures may pass.
	retryable := true
	var final interface{ Retryable() bool }
	if errors.As(err, &final) {
		retryable = final.Retryable()
	}
	return &oautherr.Error{
		Op:          op,
		Code:        oautherr.CodeNetworkError,
		Description: "token request failed",
		Retryable:   retryable,
		Err:         err,
	}
}

// CheckEndpointURL reports whether raw can be the URL of an authorization
// server endpoint: an absolute http or https URL without a fragment (RFC
// 6749 Section 3). name, such as "token endpoint", starts the message; the
// URL is shown with any password redacted.
func CheckEndpointURL(name, raw string) error {
	if raw == "" {
		return errors.New(name + " URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New(name + " URL cannot be parsed")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s URL %q is not an absolute http or https URL", name, u.Redacted())
	}
	if u.Fragment != "" {
		return fmt.Errorf("%s URL %q has a fragment (RFC 6749 Section 3)", name, u.Redacted())
	}
	return nil
}
