package transport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/transport"
)

// rotatingSource hands out its current token; invalidate replaces it
// with the next one, as a cache that is cleared and refilled would.
type rotatingSource struct {
	mu      sync.Mutex
	tokens  []*token.Token
	i       int
	calls   atomic.Int64
	err     error
	stuck   bool // invalidate does not produce a new token
	revoked []*token.Token
}

func newRotatingSource(values ...string) *rotatingSource {
	s := &rotatingSource{}
	for _, v := range values {
		s.tokens = append(s.tokens, &token.Token{AccessToken: secret.Secret(v), TokenType: "bearer", ExpiresAt: time.Now().Add(time.Hour)})
	}
	return s
}

func (s *rotatingSource) Token(context.Context) (*token.Token, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return s.tokens[s.i], nil
}

func (s *rotatingSource) invalidate(rejected *token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, rejected)
	if !s.stuck && s.tokens[s.i] == rejected && s.i+1 < len(s.tokens) {
		s.i++
	}
}

// resourceServer accepts only the given token and echoes the body.
type resourceServer struct {
	*httptest.Server
	requests atomic.Int64
	bodies   chan string
}

func newResourceServer(t *testing.T, accepted string) *resourceServer {
	t.Helper()
	rs := &resourceServer{bodies: make(chan string, 10)}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		rs.bodies <- string(body)
		if r.Header.Get("Authorization") != "Bearer "+accepted {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "rejected")
			return
		}
		io.WriteString(w, "ok:"+r.Header.Get("X-Trade"))
	}))
	t.Cleanup(rs.Close)
	return rs
}

func do(t *testing.T, hc *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestTransportAddsBearerHeader(t *testing.T) {
	rs := newResourceServer(t, "tok-1")
	src := newRotatingSource("tok-1")
	hc := &http.Client{Transport: &transport.Transport{Source: src}}
	req, _ := http.NewRequest(http.MethodGet, rs.URL, nil)
	req.Header.Set("X-Trade", "AAPL")
	status, body := do(t, hc, req)
	if status != 200 || body != "ok:AAPL" {
		t.Fatalf("got %d %q", status, body)
	}
	if req.Header.Get("Authorization") != "" || len(req.Header) != 1 {
		t.Errorf("the caller's request was modified: %v", req.Header)
	}
}

func TestTransportRetriesOnceAfter401(t *testing.T) {
	rs := newResourceServer(t, "tok-2")
	src := newRotatingSource("tok-1", "tok-2", "tok-3")
	hc := &http.Client{Transport: &transport.Transport{Source: src, Invalidate: src.invalidate}}

	req, _ := http.NewRequest(http.MethodPost, rs.URL, strings.NewReader("buy 100"))
	status, body := do(t, hc, req)
	if status != 200 || body != "ok:" {
		t.Fatalf("got %d %q, want 200 after the retry", status, body)
	}
	if n := rs.requests.Load(); n != 2 {
		t.Errorf("resource server saw %d requests, want 2", n)
	}
	for range 2 {
		if b := <-rs.bodies; b != "buy 100" {
			t.Errorf("request body %q, want the replayed body", b)
		}
	}
	if len(src.revoked) != 1 || src.revoked[0].AccessToken.Reveal() != "tok-1" {
		t.Errorf("Invalidate got %v, want tok-1", src.revoked)
	}
}

func TestTransportRetriesAtMostOnce(t *testing.T) {
	rs := newResourceServer(t, "never")
	src := newRotatingSource("tok-1", "tok-2", "tok-3")
	hc := &http.Client{Transport: &transport.Transport{Source: src, Invalidate: src.invalidate}}
	req, _ := http.NewRequest(http.MethodGet, rs.URL, nil)
	status, body := do(t, hc, req)
	if status != http.StatusUnauthorized || body != "rejected" {
		t.Errorf("got %d %q, want the second 401", status, body)
	}
	if n := rs.requests.Load(); n != 2 {
		t.Errorf("resource server saw %d requests, want 2", n)
	}
}

func TestTransportDoesNotRetry(t *testing.T) {
	t.Run("body not replayable", func(t *testing.T) {
		rs := newResourceServer(t, "tok-2")
		src := newRotatingSource("tok-1", "tok-2")
		hc := &http.Client{Transport: &transport.Transport{Source: src, Invalidate: src.invalidate}}
		req, _ := http.NewRequest(http.MethodPost, rs.URL, io.NopCloser(strings.NewReader("stream")))
		if req.GetBody != nil {
			t.Fatal("test request has GetBody")
		}
		if status, _ := do(t, hc, req); status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", status)
		}
		if rs.requests.Load() != 1 || len(src.revoked) != 0 {
			t.Errorf("%d requests, %d invalidations; want 1 and 0", rs.requests.Load(), len(src.revoked))
		}
	})
	t.Run("no Invalidate", func(t *testing.T) {
		rs := newResourceServer(t, "tok-2")
		src := newRotatingSource("tok-1", "tok-2")
		hc := &http.Client{Transport: &transport.Transport{Source: src}}
		req, _ := http.NewRequest(http.MethodGet, rs.URL, nil)
		if status, _ := do(t, hc, req); status != http.StatusUnauthorized || rs.requests.Load() != 1 {
			t.Errorf("status %d after %d requests, want one 401", status, rs.requests.Load())
		}
	})
	t.Run("source returns the same token", func(t *testing.T) {
		rs := newResourceServer(t, "tok-2")
		src := newRotatingSource("tok-1", "tok-2")
		src.stuck = true
		hc := &http.Client{Transport: &transport.Transport{Source: src, Invalidate: src.invalidate}}
		req, _ := http.NewRequest(http.MethodGet, rs.URL, nil)
		status, body := do(t, hc, req)
		if status != http.StatusUnauthorized || body != "rejected" || rs.requests.Load() != 1 {
			t.Errorf("got %d %q after %d requests, want the first 401 unread", status, body, rs.requests.Load())
		}
	})
	t.Run("other status", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
		defer srv.Close()
		src := newRotatingSource("tok-1", "tok-2")
		hc := &http.Client{Transport: &transport.Transport{Source: src, Invalidate: src.invalidate}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if status, _ := do(t, hc, req); status != http.StatusForbidden || len(src.revoked) != 0 {
			t.Errorf("status %d, %d invalidations", status, len(src.revoked))
		}
	})
}

type trackingBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackingBody) Close() error { b.closed.Store(true); return nil }

func TestTransportSourceErrorClosesBody(t *testing.T) {
	src := newRotatingSource("tok-1")
	src.err = &oautherr.Error{Op: "get_valid_token", Code: oautherr.CodeInvalidClient}
	tr := &transport.Transport{Source: src, Base: noopTransport{}}
	body := &trackingBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/orders", body)
	_, err := tr.RoundTrip(req)
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidClient {
		t.Errorf("err = %v, want the source's error", err)
	}
	if !body.closed.Load() {
		t.Error("request body not closed")
	}
}

// noopTransport answers every request at once without I/O.
type noopTransport struct{}

var okResponse = &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}

func (noopTransport) RoundTrip(*http.Request) (*http.Response, error) { return okResponse, nil }

// fixedSource always returns the same token without allocating.
type fixedSource struct{ tok *token.Token }

func (s fixedSource) Token(context.Context) (*token.Token, error) { return s.tok, nil }

func newBenchRequest() *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "https://api.example/v1/quotes?symbol=AAPL", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "trading-bot/1.0")
	return req
}

// TestTransportAllocations checks the allocations the Transport adds to a
// request over its base transport: at most three.
func TestTransportAllocations(t *testing.T) {
	src := fixedSource{tok: &token.Token{AccessToken: "tok", TokenType: "Bearer"}}
	tr := &transport.Transport{Source: src, Base: noopTransport{}, Invalidate: func(*token.Token) {}}
	req := newBenchRequest()
	base := testing.AllocsPerRun(1000, func() { noopTransport{}.RoundTrip(req) })
	with := testing.AllocsPerRun(1000, func() { tr.RoundTrip(req) })
	if added := with - base; added > 3 {
		t.Errorf("Transport adds %v allocations per request, want at most 3", added)
	}
	t.Logf("allocations per request: base %v, with Transport %v", base, with)
}

func BenchmarkTransport(b *testing.B) {
	src := fixedSource{tok: &token.Token{AccessToken: "tok", TokenType: "Bearer"}}
	req := newBenchRequest()
	b.Run("base", func(b *testing.B) {
		b.ReportAllocs()
		var base noopTransport
		for b.Loop() {
			base.RoundTrip(req)
		}
	})
	b.Run("coyote", func(b *testing.B) {
		b.ReportAllocs()
		tr := &transport.Transport{Source: src, Base: noopTransport{}, Invalidate: func(*token.Token) {}}
		for b.Loop() {
			tr.RoundTrip(req)
		}
	})
	b.Run("x-oauth2", func(b *testing.B) {
		b.ReportAllocs()
		tr := &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok", TokenType: "Bearer"}), Base: noopTransport{}}
		for b.Loop() {
			tr.RoundTrip(req)
		}
	})
}

func TestTokenSourceAdapter(t *testing.T) {
	expiry := time.Now().Add(time.Hour).Round(time.Second)
	tok := &token.Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", IDToken: "idt", ExpiresAt: expiry}
	ts := transport.TokenSource(context.Background(), fixedSource{tok: tok})
	got, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "at" || got.TokenType != "Bearer" || !got.Expiry.Equal(expiry) || got.Extra("id_token") != "idt" {
		t.Errorf("converted token = %+v", got)
	}
	if got.RefreshToken != "" {
		t.Error("the refresh token was handed to x/oauth2")
	}
	if !got.Valid() {
		t.Error("x/oauth2 considers the token invalid")
	}
	again, _ := ts.Token()
	if again != got {
		t.Error("the same token was converted twice")
	}
	if n := testing.AllocsPerRun(100, func() { ts.Token() }); n != 0 {
		t.Errorf("Token allocates %v times for an unchanged token", n)
	}

	if transport.OAuth2Token(nil) != nil {
		t.Error("OAuth2Token(nil) != nil")
	}
	if typ := transport.OAuth2Token(&token.Token{AccessToken: "x"}).Type(); typ != "Bearer" {
		t.Errorf("untyped token converts to type %q", typ)
	}
}

func TestTokenSourceAdapterWithOAuth2Client(t *testing.T) {
	rs := newResourceServer(t, "tok-1")
	src := newRotatingSource("tok-1")
	ctx := context.Background()
	// oauth2.NewClient wraps the source in a ReuseTokenSource and an
	// oauth2.Transport: the adapter must satisfy both.
	hc := oauth2.NewClient(ctx, transport.TokenSource(ctx, src))
	req, _ := http.NewRequest(http.MethodGet, rs.URL, nil)
	if status, body := do(t, hc, req); status != 200 || body != "ok:" {
		t.Errorf("got %d %q", status, body)
	}

	src.err = &oautherr.Error{Op: "get_valid_token", Code: oautherr.CodeTemporarilyUnavailable, Retryable: true}
	_, err := transport.TokenSource(ctx, src).Token()
	if !oautherr.IsRetryable(err) {
		t.Errorf("err = %v, want the source's typed error", err)
	}
}

func TestTransportConcurrentTokenChange(t *testing.T) {
	src := newRotatingSource("tok-1", "tok-2")
	tr := &transport.Transport{Source: src, Base: headerCheck{t}}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if i == 25 {
				src.invalidate(src.tokens[0])
			}
			req, _ := http.NewRequest(http.MethodGet, "https://api.example/", bytes.NewReader(nil))
			tr.RoundTrip(req)
		})
	}
	wg.Wait()
}

// headerCheck fails the test when a request carries a malformed
// Authorization header.
type headerCheck struct{ t *testing.T }

func (h headerCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if v := req.Header.Values("Authorization"); len(v) != 1 || (v[0] != "Bearer tok-1" && v[0] != "Bearer tok-2") {
		h.t.Errorf("Authorization = %q", v)
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}
