// Package faultserver runs a small, hand-written OAuth 2.0 token endpoint
// (RFC 6749 Section 3.2) whose answers a test scripts request by request,
// to drive clients through failures that real authorization servers
// produce only by accident: 503 and 429 responses with Retry-After (RFC
// 9110 Section 10.2.3), slow and hung responses, malformed bodies, and
// valid tokens with a chosen lifetime.
//
// It does not check client credentials or implement any grant; use the
// fosite-based conformance/authserver for protocol behaviour. The server
// listens on 127.0.0.1 only and counts the requests it receives.
package faultserver

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TokenPath is the path of the token endpoint.
const TokenPath = "/token"

// Reply is the token endpoint's answer to one request. Build replies with
// the functions of this package, such as Token and Unavailable, and adjust
// fields as needed.
type Reply struct {
	// Status is the HTTP status code. Zero means 200.
	Status int
	// Header holds extra response headers, such as Retry-After.
	Header http.Header
	// Body is the raw response body. Nil means a successful token
	// response (RFC 6749 Section 5.1) built from the token fields below.
	Body []byte
	// Delay is how long the server waits before answering; a client that
	// gives up earlier ends the wait.
	Delay time.Duration
	// Hang makes the server never answer: the request ends only when the
	// client gives up or the server is closed.
	Hang bool

	// Lifetime is the expires_in of a generated token, rounded down to
	// whole seconds. Zero leaves expires_in out.
	Lifetime time.Duration
	// TokenType is the token_type of a generated token. Empty means
	// "Bearer".
	TokenType string
	// RefreshToken adds a new refresh token to a generated token, as a
	// server that rotates refresh tokens does.
	RefreshToken bool
}

// Token returns a reply with a valid bearer token that expires after
// lifetime.
func Token(lifetime time.Duration) Reply { return Reply{Lifetime: lifetime} }

// TokenWithRefresh returns a reply with a valid bearer token that expires
// after lifetime and a new refresh token.
func TokenWithRefresh(lifetime time.Duration) Reply {
	return Reply{Lifetime: lifetime, RefreshToken: true}
}

// Unavailable returns a 503 Service Unavailable reply without an OAuth
// error body. retryAfter is the Retry-After header value, such as
// RetryAfterSeconds(2) or RetryAfterDate(t); empty leaves it out.
func Unavailable(retryAfter string) Reply {
	return withRetryAfter(Reply{Status: http.StatusServiceUnavailable, Body: []byte("service unavailable\n")}, retryAfter)
}

// TooManyRequests returns a 429 Too Many Requests reply without an OAuth
// error body, with an optional Retry-After header value.
func TooManyRequests(retryAfter string) Reply {
	return withRetryAfter(Reply{Status: http.StatusTooManyRequests, Body: []byte("slow down\n")}, retryAfter)
}

func withRetryAfter(r Reply, retryAfter string) Reply {
	if retryAfter != "" {
		r.Header = http.Header{"Retry-After": {retryAfter}}
	}
	return r
}

// RetryAfterSeconds formats a Retry-After value in delay-seconds.
func RetryAfterSeconds(n int) string { return strconv.Itoa(n) }

// RetryAfterDate formats a Retry-After value as an HTTP date.
func RetryAfterDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// OAuthError returns an error response (RFC 6749 Section 5.2) with the
// given status and error code.
func OAuthError(status int, code string) Reply {
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": "injected by faultserver"})
	return Reply{Status: status, Body: body}
}

// Slow returns r delayed by d.
func Slow(d time.Duration, r Reply) Reply {
	r.Delay = d
	return r
}

// Hang returns a reply that never comes.
func Hang() Reply { return Reply{Hang: true} }

// MalformedJSON returns a 200 reply whose body is cut off in the middle of
// a JSON object.
func MalformedJSON() Reply {
	return Reply{Body: []byte(`{"access_token":"cut-off","token_type":"Bea`)}
}

// MissingAccessToken returns a 200 reply without access_token.
func MissingAccessToken() Reply {
	return Reply{Body: []byte(`{"token_type":"Bearer","expires_in":3600}`)}
}

// Oversized returns a 200 reply with a valid token response whose body
// exceeds 1 MiB.
func Oversized() Reply {
	var b strings.Builder
	b.WriteString(`{"access_token":"`)
	b.WriteString(strings.Repeat("a", 1<<20))
	b.WriteString(`","token_type":"Bearer","expires_in":3600}`)
	return Reply{Body: []byte(b.String())}
}

// WrongTokenType returns a 200 reply with a token of type "mac".
func WrongTokenType() Reply { return Reply{Lifetime: time.Hour, TokenType: "mac"} }

// NegativeExpiresIn returns a 200 reply whose expires_in is negative.
func NegativeExpiresIn() Reply {
	return Reply{Body: []byte(`{"access_token":"negative","token_type":"Bearer","expires_in":-60}`)}
}

// Request is what the server recorded about one request.
type Request struct {
	// N is the request's 1-based sequence number.
	N int64
	// At is when the request arrived.
	At time.Time
	// GrantType is the grant_type form parameter.
	GrantType string
	// RefreshToken is the refresh_token form parameter.
	RefreshToken string
	// Scope is the scope form parameter.
	Scope string
}

// Server is a running fault-injection token endpoint. Its methods are safe
// for concurrent use.
type Server struct {
	url        string
	httpServer *http.Server
	closed     chan struct{}
	served     chan struct{}

	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	mu       sync.Mutex
	script   []Reply
	fallback Reply
	log      []Request
}

// Start starts a server on a free port of 127.0.0.1. Until scripted
// otherwise, it answers every request with a token valid for an hour.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		url:      "http://" + ln.Addr().String(),
		closed:   make(chan struct{}),
		served:   make(chan struct{}),
		fallback: Token(time.Hour),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.handleToken)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		s.httpServer.Serve(ln)
		close(s.served)
	}()
	return s, nil
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// TokenURL returns the URL of the token endpoint.
func (s *Server) TokenURL() string { return s.url + TokenPath }

// Script queues replies: each request takes the next one, and requests
// beyond the queue get the fallback reply.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// SetFallback sets the reply for requests beyond the script.
func (s *Server) SetFallback(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = r
}

// Requests returns how many requests the token endpoint has received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// MaxConcurrent returns the largest number of requests that the token
// endpoint was handling at the same time.
func (s *Server) MaxConcurrent() int64 { return s.maxInFlight.Load() }

// Log returns the requests received so far, in arrival order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Close stops the server and ends hung requests.
func (s *Server) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
	}
	close(s.closed)
	err := s.httpServer.Close()
	<-s.served
	return err
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		prev := s.maxInFlight.Load()
		if cur <= prev || s.maxInFlight.CompareAndSwap(prev, cur) {
			break
		}
	}
	r.ParseForm()

	s.mu.Lock()
	s.log = append(s.log, Request{
		N:            n,
		At:           time.Now(),
		GrantType:    r.PostForm.Get("grant_type"),
		RefreshToken: r.PostForm.Get("refresh_token"),
		Scope:        r.PostForm.Get("scope"),
	})
	reply := s.fallback
	if len(s.script) > 0 {
		reply = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if reply.Hang || reply.Delay > 0 {
		var timeout <-chan time.Time
		if !reply.Hang {
			t := time.NewTimer(reply.Delay)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-timeout:
		case <-r.Context().Done():
			return
		case <-s.closed:
			// Drop the connection without a response, as a crashed
			// server would; returning would send an empty 200.
			panic(http.ErrAbortHandler)
		}
	}
	s.write(w, n, reply)
}

func (s *Server) write(w http.ResponseWriter, n int64, reply Reply) {
	for k, v := range reply.Header {
		w.Header()[k] = v
	}
	body := reply.Body
	if body == nil {
		body = tokenBody(n, reply)
	}
	if w.Header().Get("Content-Type") == "" {
		if strings.HasPrefix(string(body), "{") {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body) // an error means the client went away
}

// tokenBody builds the successful token response for request n.
func tokenBody(n int64, reply Reply) []byte {
	resp := map[string]any{
		"access_token": fmt.Sprintf("fault-access-%d", n),
		"token_type":   "Bearer",
	}
	if reply.TokenType != "" {
		resp["token_type"] = reply.TokenType
	}
	if secs := int64(reply.Lifetime / time.Second); secs > 0 {
		resp["expires_in"] = secs
	}
	if reply.RefreshToken {
		resp["refresh_token"] = fmt.Sprintf("fault-refresh-%d", n)
	}
	body, _ := json.Marshal(resp)
	return body
}
