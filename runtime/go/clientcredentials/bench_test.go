package clientcredentials_test

// Benchmarks of the token lifecycle, each side by side with
// golang.org/x/oauth2's clientcredentials TokenSource (the library a Go
// user would pick instead) in the same run. Run them with `make bench`:
//
//	go test -run '^$' -bench . -benchmem ./runtime/go/clientcredentials/
//
// Custom metrics: requests/op is token requests the server received per
// operation; waiters/op is callers per herd that had to wait for a new
// token; retained-B/client is heap retained per idle client holding a
// token.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	xcc "golang.org/x/oauth2/clientcredentials"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/conformance/faultserver"
	"github.com/coyotesense/coyotegen/runtime/go/clientcredentials"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
)

// herdSize is the number of goroutines that ask for a token at once.
const herdSize = 1000

// benchFosite starts the fosite conformance server.
func benchFosite(b *testing.B) *authserver.Server {
	b.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

// benchFault starts the fault-injection server, answering with one-hour
// tokens until told otherwise.
func benchFault(b *testing.B) *faultserver.Server {
	b.Helper()
	srv, err := faultserver.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

// benchHTTPClient is shared by both libraries, so that they reuse
// connections alike.
func benchHTTPClient(b *testing.B) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// xContext makes x/oauth2 use hc.
func xContext(hc *http.Client) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, hc)
}

func newCoyote(tokenURL, id, sec string, hc *http.Client) *clientcredentials.Source {
	return clientcredentials.New(clientcredentials.Config{
		Endpoint: &tokenendpoint.Endpoint{URL: tokenURL, ClientID: id, ClientSecret: secret.Secret(sec), HTTPClient: hc},
	})
}

func newXOAuth2(tokenURL, id, sec string, hc *http.Client) oauth2.TokenSource {
	return (&xcc.Config{ClientID: id, ClientSecret: sec, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}).TokenSource(xContext(hc))
}

// BenchmarkCachedToken measures Token on a valid cached token, from one
// goroutine and from 500 per GOMAXPROCS.
func BenchmarkCachedToken(b *testing.B) {
	srv := benchFosite(b)
	hc := benchHTTPClient(b)
	ctx := context.Background()

	coyote := newCoyote(srv.TokenURL(), "basic-client", "basic-secret", hc)
	if _, err := coyote.Token(ctx); err != nil {
		b.Fatal(err)
	}
	x := newXOAuth2(srv.TokenURL(), "basic-client", "basic-secret", hc)
	if _, err := x.Token(); err != nil {
		b.Fatal(err)
	}
	sources := []struct {
		name  string
		token func() error
	}{
		{"coyotegen", func() error { _, err := coyote.Token(ctx); return err }},
		{"x-oauth2", func() error { _, err := x.Token(); return err }},
	}
	for _, src := range sources {
		b.Run("serial/"+src.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := src.token(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, src := range sources {
		b.Run("parallel500/"+src.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(500)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := src.token(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	if n := srv.TokenRequests(); n != 2 {
		b.Errorf("fosite received %d token requests, want 2", n)
	}
}

// runHerd starts herdSize goroutines blocked on a gate, opens it, and
// waits until all their Token calls have returned. It returns how long
// that took and how many callers got a token other than seed, that is,
// waited for a new one.
func runHerd(b *testing.B, token func() (any, error), seed any, wantErr bool) (time.Duration, int) {
	gate := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	waited := 0
	for range herdSize {
		wg.Go(func() {
			<-gate
			tok, err := token()
			if (err != nil) != wantErr {
				b.Errorf("Token error = %v, want error: %v", err, wantErr)
			}
			if err != nil || tok != seed {
				mu.Lock()
				waited++
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return time.Since(start), waited
}

// coyoteSeeded returns a source over srv whose current token is seed, as
// a generated client holds it after its first request.
func coyoteSeeded(b *testing.B, srv *faultserver.Server, hc *http.Client, seed *token.Token, policy retry.Policy) *tokenrefresh.Source {
	ep := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "c", ClientSecret: "s", HTTPClient: hc}
	// The same source that clientcredentials.Source wraps, seeded directly.
	src := tokenrefresh.New(tokenrefresh.Config{
		Op: clientcredentials.Operation,
		Fetch: func(ctx context.Context) (*token.Token, error) {
			return ep.Exchange(ctx, clientcredentials.Operation, map[string][]string{"grant_type": {"client_credentials"}})
		},
		Retry: policy,
	})
	if err := src.Set(context.Background(), seed); err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkHerdAtExpiry sends herdSize goroutines at one client whose
// token is about to expire or has expired, with the server answering 200
// or 503, and reports the herd's duration (herd-ns/op), the callers that
// waited for a new token (waiters/op) and the token requests the server
// received (requests/op). ns/op includes setting up each herd.
//
// "about-to-expire": the token has 100 ms left, inside both coyotegen's
// refresh buffer (capped at half the lifetime left when it was stored)
// and x/oauth2's 10 s expiry delta, and the server takes 20 ms to answer.
func BenchmarkHerdAtExpiry(b *testing.B) {
	srv := benchFault(b)
	hc := benchHTTPClient(b)
	policy := retry.Policy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}
	ctx := context.Background()

	cases := []struct {
		name     string
		lifetime time.Duration // of the seeded token
		age      time.Duration // how long the token is held before the herd
		reply    faultserver.Reply
		failing  bool
		requests int // per herd, for coyotegen
	}{
		{"server-ok/about-to-expire", 200 * time.Millisecond, 100 * time.Millisecond, faultserver.Slow(20*time.Millisecond, faultserver.Token(time.Hour)), false, 1},
		{"server-ok/expired", -time.Second, 0, faultserver.Token(time.Hour), false, 1},
		{"server-503/expired", -time.Second, 0, faultserver.Unavailable(""), true, 1 + policy.MaxRetries},
	}
	report := func(b *testing.B, before int64, herdTime time.Duration, waited int) float64 {
		requests := float64(srv.Requests()-before) / float64(b.N)
		b.ReportMetric(float64(herdTime.Nanoseconds())/float64(b.N), "herd-ns/op")
		b.ReportMetric(float64(waited)/float64(b.N), "waiters/op")
		b.ReportMetric(requests, "requests/op")
		return requests
	}
	for _, tc := range cases {
		b.Run(tc.name+"/coyotegen", func(b *testing.B) {
			srv.SetFallback(tc.reply)
			before := srv.Requests()
			var herdTime time.Duration
			waited := 0
			for range b.N {
				seed := &token.Token{AccessToken: "seed", TokenType: "Bearer", ExpiresAt: time.Now().Add(tc.lifetime)}
				src := coyoteSeeded(b, srv, hc, seed, policy)
				time.Sleep(tc.age + time.Millisecond)
				d, w := runHerd(b, func() (any, error) { return src.Token(ctx) }, seed, tc.failing)
				herdTime += d
				waited += w
				// Let the background refresh finish before the next herd.
				for !tc.failing && src.Current() == seed {
					time.Sleep(100 * time.Microsecond)
				}
			}
			if requests := report(b, before, herdTime, waited); requests != float64(tc.requests) {
				b.Errorf("%v requests per herd, want %d", requests, tc.requests)
			}
		})
		b.Run(tc.name+"/x-oauth2", func(b *testing.B) {
			srv.SetFallback(tc.reply)
			before := srv.Requests()
			var herdTime time.Duration
			waited := 0
			for range b.N {
				seed := &oauth2.Token{AccessToken: "seed", TokenType: "Bearer", Expiry: time.Now().Add(tc.lifetime)}
				src := oauth2.ReuseTokenSource(seed, newXOAuth2(srv.TokenURL(), "c", "s", hc))
				time.Sleep(tc.age + time.Millisecond)
				d, w := runHerd(b, func() (any, error) { return src.Token() }, seed, tc.failing)
				herdTime += d
				waited += w
			}
			report(b, before, herdTime, waited)
		})
	}
}

// BenchmarkRetainedHeap measures the heap that an idle client holding a
// token keeps alive: one operation creates a client and obtains its
// token, and the heap retained after a GC is divided by b.N. Each client
// has its own configuration; the HTTP client is shared, as it is between
// the clients of a program.
func BenchmarkRetainedHeap(b *testing.B) {
	// A server that keeps nothing per request (faultserver keeps a log),
	// so that only the clients' heap is measured.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"2YotnFZFEjr1zCsicMWpAA.a-typical-opaque-access-token-of-ninety-bytes-or-so.x8Tz3fQ","token_type":"Bearer","expires_in":3600}`)
	}))
	b.Cleanup(srv.Close)
	hc := benchHTTPClient(b)
	ctx := context.Background()
	run := func(b *testing.B, newClient func() any) {
		clients := make([]any, 0, b.N)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range b.N {
			clients = append(clients, newClient())
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perClient := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(b.N)
		perClient -= float64(cap(clients)*16) / float64(b.N) // the benchmark's own slice
		b.ReportMetric(perClient, "retained-B/client")
		runtime.KeepAlive(clients)
	}
	b.Run("coyotegen", func(b *testing.B) {
		run(b, func() any {
			c := newCoyote(srv.URL, "c", "s", hc)
			if _, err := c.Token(ctx); err != nil {
				b.Fatal(err)
			}
			return c
		})
	})
	b.Run("x-oauth2", func(b *testing.B) {
		run(b, func() any {
			c := newXOAuth2(srv.URL, "c", "s", hc)
			if _, err := c.Token(); err != nil {
				b.Fatal(err)
			}
			return c
		})
	})
}

// BenchmarkColdToken measures a client's first token: one request to a
// loopback server over a kept-alive connection, parsed and cached.
//
// Both libraries bound the request by 30 s, so that a hung server cannot
// hold the caller: coyotegen with its own per-request timeout (timeout_ms),
// x/oauth2 through the HTTP client's Timeout, the bound its documentation
// asks for. x-oauth2-no-timeout shows x/oauth2 without any bound.
func BenchmarkColdToken(b *testing.B) {
	fault := benchFault(b)
	fosite := benchFosite(b)
	hc := benchHTTPClient(b)
	bounded := &http.Client{Transport: hc.Transport, Timeout: clientcredentials.DefaultRequestTimeout}
	ctx := context.Background()
	servers := []struct {
		name, url, id, secret string
	}{
		{"faultserver", fault.TokenURL(), "c", "s"},
		{"fosite", fosite.TokenURL(), "basic-client", "basic-secret"},
	}
	for _, srv := range servers {
		b.Run(srv.name+"/coyotegen", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := newCoyote(srv.url, srv.id, srv.secret, hc).Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		// A caller whose context can end waits for the request on another
		// goroutine, so that it can stop waiting.
		b.Run(srv.name+"/coyotegen-cancelable-ctx", func(b *testing.B) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := newCoyote(srv.url, srv.id, srv.secret, hc).Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(srv.name+"/x-oauth2", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := newXOAuth2(srv.url, srv.id, srv.secret, bounded).Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(srv.name+"/x-oauth2-no-timeout", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := newXOAuth2(srv.url, srv.id, srv.secret, hc).Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
