// Package simulation is the runtime of the "simulation" mode: an
// in-process OAuth 2.0 authorization server that runs on a virtual clock,
// so that tests drive tokens through expiry, proactive refresh, refresh
// storms, outages and recovery in milliseconds of real time.
//
// A [Server] is an http.Handler, and also an http.RoundTripper that hands
// every request, whatever its host, to that handler without a socket. The
// client reaches it through its normal HTTP code path: give
// [Server.WrapTransport] to authcore.Config.WrapTransport (or
// [Server.Client] as its HTTPClient), and every request of discovery, the
// flows, revocation and introspection goes through the client's own
// request building, client authentication and response parsing to the
// handler. The handler can also be served by an httptest.Server.
//
// The server publishes RFC 8414 metadata (at both well-known locations)
// for an issuer made of the request's origin and path prefix, such as
// [DefaultServerURL], and serves:
//
//   - the token endpoint (RFC 6749 Section 3.2) with the client
//     credentials grant (Section 4.4), the refresh token grant (Section 6)
//     with rotation and reuse detection (RFC 9700 Section 4.14.2), the
//     authorization code grant (Section 4.1) with PKCE (RFC 7636, S256
//     and plain) and the JWT bearer grant (RFC 7523 Section 2.1), which
//     accepts any well-formed assertion: signatures are not checked, and
//     assertion times are not compared with virtual time;
//   - the authorization endpoint, which approves every valid request at
//     once and redirects with a code, the state and iss (RFC 9207);
//   - revocation (RFC 7009) and introspection (RFC 7662).
//
// Clients authenticate with client_secret_basic, client_secret_post,
// private_key_jwt (a well-formed assertion whose iss and sub are the
// client id) or, for public clients, none. Without registered clients
// (Config.Clients) every client is accepted, and any grant is open to a
// client that only sends its client_id. Mutual TLS is not simulated: there
// is no TLS in process, so tls_client_auth and self_signed_tls_client_auth
// look like none, which the default configuration accepts, and tokens are
// not certificate-bound.
//
// # Time
//
// Every time the server uses is read from its [clock.Virtual]
// ([Server.Clock]): tokens expire, codes lapse, outages begin and end as
// the test advances it. The client must run on the same clock, or its
// tokens' ExpiresAt would be system times: tokenrefresh.Config.Clock,
// tokenendpoint.Endpoint.Clock, retry.Policy.Clock and
// authcode.Config.Clock (authcore.Config.Clock sets them all).
//
// # Latency
//
// Each exchange gets a latency drawn from a uniform distribution of mean
// Config.Latency and half-width Config.LatencyJitter, from the seeded
// generator. By default the latency is only reported (in [Exchange] and
// [Stats]): time does not move, so tests stay deterministic without
// knowing which requests are in flight. With Config.BlockOnLatency the
// handler waits for it on the virtual clock, and the request completes
// when the test advances the clock past it (use clock.Virtual.BlockUntil
// to know that it waits); a client on the same clock sees a simulated
// latency beyond its timeout as a timeout.
//
// # Failures
//
// Before answering, the server checks, in order: the outage windows
// ([Outage], [Server.AddOutage]: a 503, or another status, with
// Retry-After, between two virtual times); the injected faults ([Fault],
// [Server.Inject]: a status and OAuth error code for the next matching
// requests, such as 429 with Retry-After, 500, or invalid_grant on
// refresh); and Config.ErrorRate, the probability of a 503
// temporarily_unavailable drawn from the seeded generator. The metadata
// documents are subject to outages and faults but not to the error rate.
//
// # Determinism
//
// Token values, latencies and error-rate draws come from one generator
// seeded with Config.Seed, drawn in the order requests arrive: a
// sequential test (and a token source sends one request at a time)
// produces the same exchanges, tokens included, on every run.
package simulation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// DefaultServerURL is the issuer identifier to configure as server_url
// when the simulation should not look like any real server. It is in the
// ".invalid" top-level domain (RFC 2606 Section 2), which never resolves:
// nothing can leave the process by mistake.
const DefaultServerURL = "https://auth.simulated.invalid"

// Defaults of the simulation mode's options, as the spec declares them.
const (
	// DefaultTokenLifetime is the lifetime of access tokens when
	// Config.TokenLifetime is zero (token_lifetime_seconds: 3600).
	DefaultTokenLifetime = time.Hour
	// DefaultSeed is the spec's default seed.
	DefaultSeed = 1
)

// CodeLifetime is how long an authorization code can be exchanged: the
// longest lifetime RFC 6749 Section 4.1.2 recommends.
const CodeLifetime = 10 * time.Minute

// Prefixes of the values the server issues.
const (
	AccessTokenPrefix  = "sim_at_"
	RefreshTokenPrefix = "sim_rt_"
	CodePrefix         = "sim_code_"
)

// Client is a client registered with the server.
type Client struct {
	// ID is the client identifier.
	ID string
	// Secret is the client secret; empty for a public client, which
	// authenticates with the method none.
	Secret secret.Secret
}

// Config configures a Server. The zero value is a server on a new virtual
// clock at clock.DefaultStart that accepts every client, issues tokens for
// DefaultTokenLifetime, rotates refresh tokens, adds no latency and
// injects no error.
type Config struct {
	// Clock is the virtual clock of the server. Nil means a new one at
	// clock.DefaultStart; Server.Clock returns it.
	Clock *clock.Virtual
	// TokenLifetime is the lifetime of access tokens
	// (token_lifetime_seconds). Zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// RefreshTokenLifetime is the lifetime of refresh tokens. Zero means
	// that they expire only by use (rotation) or revocation.
	RefreshTokenLifetime time.Duration
	// Latency is the mean simulated latency of an exchange (latency_ms).
	Latency time.Duration
	// LatencyJitter spreads the latency uniformly over Latency ±
	// LatencyJitter (never below zero).
	LatencyJitter time.Duration
	// BlockOnLatency makes each request wait for its latency on the
	// virtual clock; otherwise the latency is only reported. See the
	// package documentation.
	BlockOnLatency bool
	// ErrorRate is the probability, from 0 to 1, that an exchange other
	// than a metadata request fails with 503 temporarily_unavailable
	// (error_rate).
	ErrorRate float64
	// KeepRefreshTokens turns rotation off: a refresh answers without a
	// new refresh token, and the client keeps using its own
	// (rotate_refresh_tokens: false).
	KeepRefreshTokens bool
	// Seed seeds the generator of token values, latencies and error-rate
	// draws (seed).
	Seed int64
	// Clients are the registered clients. Empty means every client id is
	// accepted with any credentials of any method: the simulation is about
	// time and failures, not authentication.
	Clients []Client
	// Scopes, when not empty, are the only scopes the server grants:
	// asking for another fails with invalid_scope.
	Scopes []string
}

// Validate reports every problem with c, naming each, or nil.
func (c *Config) Validate() error {
	var problems []string
	if c.TokenLifetime < 0 {
		problems = append(problems, fmt.Sprintf("simulation.token_lifetime_seconds: %v is negative", c.TokenLifetime))
	}
	if c.RefreshTokenLifetime < 0 {
		problems = append(problems, fmt.Sprintf("simulation: refresh token lifetime %v is negative", c.RefreshTokenLifetime))
	}
	if c.Latency < 0 {
		problems = append(problems, fmt.Sprintf("simulation.latency_ms: %v is negative", c.Latency))
	}
	if c.LatencyJitter < 0 {
		problems = append(problems, fmt.Sprintf("simulation: latency jitter %v is negative", c.LatencyJitter))
	}
	if math.IsNaN(c.ErrorRate) || c.ErrorRate < 0 || c.ErrorRate > 1 {
		problems = append(problems, fmt.Sprintf("simulation.error_rate: %v is not between 0 and 1", c.ErrorRate))
	}
	seen := make(map[string]bool, len(c.Clients))
	for _, cl := range c.Clients {
		switch {
		case cl.ID == "":
			problems = append(problems, "simulation: a registered client has an empty id")
		case seen[cl.ID]:
			problems = append(problems, fmt.Sprintf("simulation: client %q is registered twice", cl.ID))
		}
		seen[cl.ID] = true
	}
	for _, s := range c.Scopes {
		if !validScope(s) {
			problems = append(problems, fmt.Sprintf("simulation: %q is not a scope token (RFC 6749 Section 3.3)", s))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Server is the simulated authorization server. It is safe for concurrent
// use.
type Server struct {
	cfg      Config
	clock    *clock.Virtual
	lifetime time.Duration
	clients  map[string]Client

	mu       sync.Mutex
	rng      *rand.Rand
	serial   uint64
	tokens   map[string]*issued
	codes    map[string]*issuedCode
	pruneAt  int
	outages  []Outage
	faults   []*pendingFault
	stats    Stats
	log      []Exchange
	answered map[Endpoint]int
	changed  chan struct{} // closed and replaced after every answer
}

// New returns a server for cfg, or an *oautherr.Error with code
// invalid_config naming every problem.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	s := &Server{
		cfg:      cfg,
		clock:    cfg.Clock,
		lifetime: cfg.TokenLifetime,
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		tokens:   make(map[string]*issued),
		codes:    make(map[string]*issuedCode),
		pruneAt:  minPrune,
		answered: make(map[Endpoint]int),
		changed:  make(chan struct{}),
		stats:    newStats(),
	}
	if s.clock == nil {
		s.clock = clock.NewVirtual(time.Time{})
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultTokenLifetime
	}
	if len(cfg.Clients) > 0 {
		s.clients = make(map[string]Client, len(cfg.Clients))
		for _, cl := range cfg.Clients {
			s.clients[cl.ID] = cl
		}
	}
	return s, nil
}

// Clock returns the server's virtual clock. Give it to the client
// (tokenrefresh, tokenendpoint, retry) and advance it in the test.
func (s *Server) Clock() *clock.Virtual { return s.clock }

// SetErrorRate changes the probability, from 0 to 1, that a later exchange
// fails with an injected 503. Another value is an invalid_config error and
// leaves the rate unchanged.
func (s *Server) SetErrorRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: fmt.Sprintf("simulation.error_rate: %v is not between 0 and 1", rate)}
	}
	s.mu.Lock()
	s.cfg.ErrorRate = rate
	s.mu.Unlock()
	return nil
}

// RoundTrip answers req from the handler, in process, whatever the host
// of its URL: Server is an http.RoundTripper. The request is not modified
// and its body is closed. When req's context ends before the handler
// answers (a blocking latency), RoundTrip returns the context's error.
func (s *Server) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The handler parses the form, which sets fields of the request.
	in := req.Clone(ctx)
	in.RequestURI = req.URL.RequestURI()
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	w := &responseWriter{header: make(http.Header)}
	s.serve(w, in, req.URL.Scheme)
	if !w.wrote {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w.WriteHeader(http.StatusOK)
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// WrapTransport returns the server as the transport of every request, for
// authcore.Config.WrapTransport: the client's own transport is not used,
// so nothing leaves the process.
func (s *Server) WrapTransport(http.RoundTripper) http.RoundTripper { return s }

// Client returns an HTTP client whose requests all go to the server. It
// does not follow redirects, so that an authorization request returns the
// redirection itself.
func (s *Server) Client() *http.Client {
	return &http.Client{
		Transport:     s,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Authorize plays the user agent and the user who approves: it sends the
// authorization request at authorizationURL to the server and returns the
// URL that the server redirects to, with the code, state and iss, or the
// error it redirects with. Give the result to
// CompleteAuthorizationCodeFlow.
//
// When the server answers without a redirection, the error is the
// server's: its OAuth error code with the HTTP status and Retry-After
// (temporarily_unavailable, retryable, during an outage), or without an
// OAuth error object server_error for a 5xx and temporarily_unavailable
// for a 429, as the client reports such answers of the token endpoint;
// invalid_request when the URL is not an authorization request at all.
func (s *Server) Authorize(ctx context.Context, authorizationURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizationURL, nil)
	if err != nil {
		return "", &oautherr.Error{Op: "authorize", Code: oautherr.CodeInvalidRequest, Description: "the authorization URL is not a URL", Err: err}
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return "", &oautherr.Error{Op: "authorize", Code: oautherr.CodeNetworkError, Description: "authorization request failed", Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusFound {
		return "", s.refusal(resp, body)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", &oautherr.Error{Op: "authorize", Code: oautherr.CodeInvalidResponse, Description: "redirection without a location", Err: err}
	}
	return loc.String(), nil
}

// refusal is the error of an authorization request that the server
// answered without a redirection; see Authorize.
func (s *Server) refusal(resp *http.Response, body []byte) *oautherr.Error {
	oerr := &oautherr.Error{
		Op:         "authorize",
		StatusCode: resp.StatusCode,
		RetryAfter: tokenendpoint.ParseRetryAfter(resp.Header.Get("Retry-After"), s.clock.Now()),
	}
	var eb struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	switch {
	case json.Unmarshal(body, &eb) == nil && eb.Error != "":
		oerr.Code, oerr.Description = eb.Error, eb.Description
	case resp.StatusCode >= 500:
		oerr.Code = oautherr.CodeServerError
	case resp.StatusCode == http.StatusTooManyRequests:
		oerr.Code = oautherr.CodeTemporarilyUnavailable
	default:
		oerr.Code = oautherr.CodeInvalidRequest
	}
	if oerr.Description == "" {
		oerr.Description = "the authorization endpoint did not redirect: " + strings.TrimSpace(string(body))
	}
	oerr.Retryable = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || oautherr.DefaultClassifier(oerr.Code)
	return oerr
}

// responseWriter collects the handler's answer for RoundTrip.
type responseWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote, w.status = true, status
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// origin returns the scheme and host a request was sent to.
func origin(r *http.Request, scheme string) string {
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + r.Host
}

// validScope reports whether s is a scope token (RFC 6749 Section 3.3).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r != 0x21 && (r < 0x23 || r > 0x5B) && (r < 0x5D || r > 0x7E) {
			return false
		}
	}
	return true
}
