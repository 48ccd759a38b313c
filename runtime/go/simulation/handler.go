package simulation

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// Endpoint names an endpoint of the server in counters, faults and
// outages.
type Endpoint string

// The endpoints of the server.
const (
	EndpointMetadata      Endpoint = "metadata"
	EndpointAuthorization Endpoint = "authorization"
	EndpointToken         Endpoint = "token"
	EndpointRevocation    Endpoint = "revocation"
	EndpointIntrospection Endpoint = "introspection"
)

var endpoints = []Endpoint{EndpointMetadata, EndpointAuthorization, EndpointToken, EndpointRevocation, EndpointIntrospection}

func quotedEndpoints() string {
	q := make([]string, len(endpoints))
	for i, ep := range endpoints {
		q[i] = strconv.Quote(string(ep))
	}
	return strings.Join(q, ", ")
}

// Paths of the endpoints, after the issuer's path.
const (
	AuthorizationPath = "/oauth2/authorize"
	TokenPath         = "/oauth2/token"
	RevocationPath    = "/oauth2/revoke"
	IntrospectionPath = "/oauth2/introspect"
)

// Well-known metadata locations (RFC 8414 Section 3.1, OpenID Connect
// Discovery 1.0 Section 4).
const (
	oauthMetadataPrefix = "/.well-known/oauth-authorization-server"
	openIDConfigSuffix  = "/.well-known/openid-configuration"
)

// Grant types, as the token endpoint's grant_type parameter names them.
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// maxFormBytes bounds a request body.
const maxFormBytes = 1 << 20

// ServeHTTP serves the metadata, authorization, token, revocation and
// introspection endpoints for the issuer the request names; see the
// package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "") }

// serve handles one request; scheme is the request URL's scheme when the
// request came through RoundTrip.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, scheme string) {
	ep, issuer, ok := route(r, scheme)
	if !ok {
		errorAnswer(http.StatusNotFound, oautherr.CodeInvalidRequest, "no such endpoint: "+r.URL.Path).write(w)
		return
	}
	var form url.Values
	var formErr *answer
	switch ep {
	case EndpointMetadata:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			formErr = errorAnswer(http.StatusMethodNotAllowed, oautherr.CodeInvalidRequest, "metadata is read with GET")
		}
	case EndpointAuthorization:
		form = r.URL.Query()
	default:
		form, formErr = postForm(w, r)
	}
	grant := ""
	if ep == EndpointToken {
		grant = form.Get("grant_type")
	}

	arrived := s.clock.Now()
	s.mu.Lock()
	latency := s.latencyLocked()
	block := s.cfg.BlockOnLatency
	s.mu.Unlock()
	if block && latency > 0 && !clock.SleepContext(r.Context(), s.clock, latency) {
		s.mu.Lock()
		s.recordLocked(Exchange{At: arrived, Endpoint: ep, Grant: grant, Latency: latency})
		s.mu.Unlock()
		return
	}

	s.mu.Lock()
	now := s.clock.Now()
	a := s.injectedLocked(ep, grant, form, now)
	switch {
	case a != nil:
	case formErr != nil:
		a = formErr
	default:
		a = s.handleLocked(ep, issuer, r, form, now)
	}
	s.recordLocked(Exchange{At: arrived, Endpoint: ep, Grant: grant, Status: a.status, Code: a.code, Injected: a.injected, Latency: latency})
	s.mu.Unlock()
	a.write(w)
}

// route finds the endpoint of a request and the issuer it belongs to:
// the origin and the path before the endpoint's path.
func route(r *http.Request, scheme string) (Endpoint, string, bool) {
	o := origin(r, scheme)
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == oauthMetadataPrefix || strings.HasPrefix(p, oauthMetadataPrefix+"/"):
		return EndpointMetadata, o + strings.TrimPrefix(p, oauthMetadataPrefix), true
	case strings.HasSuffix(p, openIDConfigSuffix):
		return EndpointMetadata, o + strings.TrimSuffix(p, openIDConfigSuffix), true
	}
	for _, e := range []struct {
		ep   Endpoint
		path string
	}{
		{EndpointAuthorization, AuthorizationPath},
		{EndpointToken, TokenPath},
		{EndpointRevocation, RevocationPath},
		{EndpointIntrospection, IntrospectionPath},
	} {
		if strings.HasSuffix(p, e.path) {
			return e.ep, o + strings.TrimSuffix(p, e.path), true
		}
	}
	return "", "", false
}

// postForm reads the form body of a POST request (RFC 6749 Section 3.2).
func postForm(w http.ResponseWriter, r *http.Request) (url.Values, *answer) {
	if r.Method != http.MethodPost {
		return nil, errorAnswer(http.StatusMethodNotAllowed, oautherr.CodeInvalidRequest, "the endpoint takes POST requests")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "the form body cannot be parsed")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			// RFC 6749 Section 3.2: parameters must not be repeated.
			return nil, errorAnswer(http.StatusBadRequest, oautherr.CodeInvalidRequest, "parameter "+k+" is repeated")
		}
	}
	return r.PostForm, nil
}

// handleLocked serves a request that no failure answers; s.mu is held.
func (s *Server) handleLocked(ep Endpoint, issuer string, r *http.Request, form url.Values, now time.Time) *answer {
	switch ep {
	case EndpointMetadata:
		return jsonAnswer(http.StatusOK, metadata(issuer))
	case EndpointAuthorization:
		return s.authorizeLocked(issuer, form, now)
	}
	cl, a := s.authenticate(r, form)
	if a != nil {
		return a
	}
	switch ep {
	case EndpointToken:
		return s.tokenLocked(cl, form, now)
	case EndpointRevocation:
		return s.revokeLocked(cl, form)
	default:
		return s.introspectLocked(issuer, form, now)
	}
}

// metadata is the server's metadata document (RFC 8414 Section 2).
func metadata(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           issuer + AuthorizationPath,
		"token_endpoint":                                   issuer + TokenPath,
		"revocation_endpoint":                              issuer + RevocationPath,
		"introspection_endpoint":                           issuer + IntrospectionPath,
		"response_types_supported":                         []string{"code"},
		"grant_types_supported":                            []string{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken, GrantJWTBearer},
		"code_challenge_methods_supported":                 []string{"S256", "plain"},
		"token_endpoint_auth_methods_supported":            authMethods,
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256", "PS256"},
		"revocation_endpoint_auth_methods_supported":       authMethods,
		"introspection_endpoint_auth_methods_supported":    authMethods,
		"authorization_response_iss_parameter_supported":   true,
	}
}

var authMethods = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}

// answer is a response the handler has decided on.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	code     string // OAuth error code, for the exchange log
	injected bool
}

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// jsonAnswer is a JSON response that is not cached (RFC 6749 Section 5.1).
func jsonAnswer(status int, v any) *answer {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value the server marshals is a map or struct of plain
		// values.
		panic("simulation: cannot marshal a response: " + err.Error())
	}
	return &answer{status: status, body: body, header: http.Header{
		"Content-Type":  {"application/json;charset=UTF-8"},
		"Cache-Control": {"no-store"},
		"Pragma":        {"no-cache"},
	}}
}

// errorAnswer is an OAuth error response (RFC 6749 Section 5.2).
func errorAnswer(status int, code, description string) *answer {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	a := jsonAnswer(status, body)
	a.code = code
	return a
}

// redirectAnswer redirects the user agent to target with params added to
// its query.
func redirectAnswer(target string, params url.Values) *answer {
	u, _ := url.Parse(target) // checked by the caller
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	a := &answer{status: http.StatusFound, header: http.Header{"Location": {u.String()}, "Cache-Control": {"no-store"}}}
	a.code = params.Get("error")
	return a
}
