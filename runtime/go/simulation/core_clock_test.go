package simulation_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/simulation"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// newSimulatedCore returns an authcore.Client of the simulation mode as
// the generated package builds it: every request goes to srv through the
// client's own HTTP code path, and the client runs on srv's clock.
func newSimulatedCore(t *testing.T, srv *simulation.Server, buffer time.Duration) *authcore.Client {
	t.Helper()
	core, err := authcore.New(authcore.Config{
		ServerURL:     simulation.DefaultServerURL,
		ClientID:      "svc",
		ClientSecret:  "s3cret",
		Scopes:        []string{"trading"},
		Discovery:     true,
		AutoRefresh:   true,
		RefreshBuffer: buffer,
		MaxRetries:    3,
		WrapTransport: srv.WrapTransport,
		Clock:         srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	return core
}

func coreHerd(ctx context.Context, core *authcore.Client, n int) ([]*token.Token, []error) {
	toks, errs := make([]*token.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = core.Token(ctx) })
	}
	wg.Wait()
	return toks, errs
}

// TestCoreOnVirtualClock is TestProactiveRefreshNoCallerWaits and
// TestOutageWithConcurrentCallers through authcore's own Token, with the
// client computing every expiry on the virtual clock itself.
func TestCoreOnVirtualClock(t *testing.T) {
	const lifetime, buffer, latency, retryAfter = 10 * time.Minute, time.Minute, 200 * time.Millisecond, 30 * time.Second
	srv := newServer(t, simulation.Config{TokenLifetime: lifetime, Latency: latency, BlockOnLatency: true})
	vc := srv.Clock()
	core := newSimulatedCore(t, srv, buffer)
	ctx := testContext(t)
	s := vc.Now()

	// Cold start: discovery and the token request, 200ms each.
	first := make(chan *token.Token)
	go func() {
		tok, err := core.Token(ctx)
		if err != nil {
			t.Error(err)
		}
		first <- tok
	}()
	for range 2 {
		if err := vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		vc.Advance(latency)
	}
	prev := <-first
	// The client dates the token from when it sent the request.
	if want := s.Add(latency).Add(lifetime); !prev.ExpiresAt.Equal(want) {
		t.Fatalf("token expires at %v, want %v", prev.ExpiresAt, want)
	}

	// Three lifetimes: nobody waits, one request each.
	for cycle := 1; cycle <= 3; cycle++ {
		vc.Set(prev.ExpiresAt.Add(-buffer))
		toks, errs := coreHerd(ctx, core, 100)
		for i := range toks {
			if errs[i] != nil || toks[i] != prev {
				t.Fatalf("caller %d: %v, %v", i, toks[i], errs[i])
			}
		}
		if err := vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		vc.Advance(latency)
		waitFor(t, "the refreshed token", func() bool { return core.CurrentToken() != prev })
		prev = core.CurrentToken()
	}
	if c := srv.Stats().Endpoints[simulation.EndpointToken]; c.Requests != 4 {
		t.Fatalf("token endpoint %+v, want 4 requests", c)
	}

	// An outage over the next refresh point: the token endpoint answers
	// 503 with Retry-After 30s; exchanges still take 200ms.
	due := prev.ExpiresAt.Add(-buffer)
	if err := srv.AddOutage(simulation.Outage{From: due.Add(-10 * time.Second), Until: due.Add(3 * time.Minute), RetryAfter: retryAfter, Endpoints: []simulation.Endpoint{simulation.EndpointToken}}); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	vc.Set(due)
	toks, errs := coreHerd(ctx, core, 100)
	for i := range toks {
		if errs[i] != nil || toks[i] != prev {
			t.Fatalf("caller %d: %v, %v", i, toks[i], errs[i])
		}
	}
	// Attempt k starts at due + (k-1)*30.2s: 200ms at the server, then
	// the 30s Retry-After. attempt drives one attempt and, unless it is
	// the last of the flight, its backoff.
	at := func(d time.Duration) time.Time { return due.Add(d) }
	const stride = retryAfter + latency
	n := 0
	attempt := func(last bool) {
		t.Helper()
		start := time.Duration(n) * stride
		n++
		if err := vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		vc.Set(at(start + latency))
		if err := srv.AwaitRequests(ctx, simulation.EndpointToken, n); err != nil {
			t.Fatal(err)
		}
		if !last {
			if err := vc.BlockUntil(ctx, 1); err != nil {
				t.Fatal(err)
			}
			vc.Set(at(start + stride))
		}
	}
	attempt(false) // 0s
	toks, errs = coreHerd(ctx, core, 100)
	for i := range toks {
		if errs[i] != nil || toks[i] != prev {
			t.Fatalf("during the outage, before expiry: caller %d: %v, %v", i, toks[i], errs[i])
		}
	}
	attempt(false) // 30.2s; the token expires at 60s
	if !vc.Now().After(prev.ExpiresAt) {
		t.Fatalf("clock at %v, not past the expiry %v", vc.Now(), prev.ExpiresAt)
	}
	// Expired: callers join the refresh that is still retrying and get
	// its typed error when it gives up after MaxRetries (4 attempts).
	var wg sync.WaitGroup
	errs = make([]error, 100)
	for i := range errs {
		wg.Go(func() { _, errs[i] = core.Token(ctx) })
	}
	attempt(false) // 60.4s
	attempt(true)  // 90.6s
	wg.Wait()
	wantOutage := func(err error) {
		t.Helper()
		var oerr *oautherr.Error
		if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeTemporarilyUnavailable || oerr.StatusCode != 503 || oerr.Op != "get_valid_token" || oerr.RetryAfter != retryAfter {
			t.Fatalf("after expiry: %v", err)
		}
	}
	for _, err := range errs {
		wantOutage(err)
	}
	// Until the failure's backoff ends (90.8s + 30s), callers get it at once.
	_, errs = coreHerd(ctx, core, 100)
	for _, err := range errs {
		wantOutage(err)
	}

	// Recovery: at 120.8s a caller starts the next flight; the outage
	// ends at 180s, and the attempt at 181.2s succeeds.
	vc.Set(at(4 * stride))
	done := make(chan *token.Token)
	go func() {
		tok, err := core.Token(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- tok
	}()
	attempt(false) // 120.8s
	attempt(false) // 151.0s
	attempt(true)  // 181.2s
	tok := <-done
	if want := at(6 * stride).Add(lifetime); !tok.ExpiresAt.Equal(want) {
		t.Errorf("recovered token expires at %v, want %v", tok.ExpiresAt, want)
	}
	var arrivals []time.Duration
	var statuses []int
	for _, x := range srv.Exchanges() {
		arrivals = append(arrivals, x.At.Sub(due))
		statuses = append(statuses, x.Status)
	}
	wantArrivals := []time.Duration{0, stride, 2 * stride, 3 * stride, 4 * stride, 5 * stride, 6 * stride}
	wantStatuses := []int{503, 503, 503, 503, 503, 503, 200}
	if !slices.Equal(arrivals, wantArrivals) || !slices.Equal(statuses, wantStatuses) {
		t.Errorf("requests at %v with %v\nwant one per backoff step, at %v with %v", arrivals, statuses, wantArrivals, wantStatuses)
	}
}
