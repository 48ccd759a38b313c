package gosdk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/simulation"
)

// herd calls Token from n goroutines at once.
func herd(ctx context.Context, c security.Client, n int) ([]*security.Token, []error) {
	toks, errs := make([]*security.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = c.Token(ctx) })
	}
	wg.Wait()
	return toks, errs
}

func tokenRequests(srv *security.SimulatedServer) int64 {
	return int64(srv.Stats().Endpoints[simulation.EndpointToken].Requests)
}

// TestSimulationExpiryRefreshOutageRecovery drives a token through
// proactive refresh, an outage over its refresh point, its expiry and the
// recovery, on the simulated server's virtual clock, in milliseconds.
func TestSimulationExpiryRefreshOutageRecovery(t *testing.T) {
	const lifetime, buffer, retryAfter = 10 * time.Minute, time.Minute, 30 * time.Second
	srv, err := security.NewSimulatedServer(security.SimulationConfig{TokenLifetime: lifetime})
	if err != nil {
		t.Fatal(err)
	}
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.ClientID, cfg.ClientSecret = simulation.DefaultServerURL, "svc", "s3cret"
	cfg.DefaultScopes = []string{"trading"}
	cfg.RefreshBufferSeconds = int(buffer / time.Second)
	cfg.MaxRetries = 0 // the background refresh retries on its own backoff
	c, err := security.New(cfg, security.WithMode(security.ModeSimulation), security.WithSimulator(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if security.SimulatorOf(c) != srv {
		t.Fatal("SimulatorOf does not return the client's server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	vc := srv.Clock()

	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := vc.Now().Add(lifetime); !first.ExpiresAt.Equal(want) {
		t.Fatalf("token expires at %v, want %v on the virtual clock", first.ExpiresAt, want)
	}

	// Inside the refresh buffer: 100 callers get a valid token at once
	// (the current one, or the refreshed one once the single background
	// refresh has landed).
	vc.Set(first.ExpiresAt.Add(-buffer / 2))
	toks, errs := herd(ctx, c, 100)
	for i := range toks {
		if errs[i] != nil || !toks[i].ExpiresAt.After(vc.Now()) {
			t.Fatalf("caller %d: %v, %v", i, toks[i], errs[i])
		}
	}
	waitUntil(t, func() bool { return c.CurrentToken() != first })
	second := c.CurrentToken()
	if n := tokenRequests(srv); n != 2 {
		t.Fatalf("%d token requests, want 2 (one fetch, one refresh)", n)
	}

	// An outage from before the next refresh point until well after expiry.
	due := second.ExpiresAt.Add(-buffer / 2)
	if err := srv.AddOutage(simulation.Outage{From: due.Add(-time.Second), Until: second.ExpiresAt.Add(5 * time.Minute), RetryAfter: retryAfter, Endpoints: []simulation.Endpoint{simulation.EndpointToken}}); err != nil {
		t.Fatal(err)
	}
	vc.Set(due)
	toks, errs = herd(ctx, c, 100)
	for i := range toks {
		if errs[i] != nil || toks[i] != second {
			t.Fatalf("during the outage, before expiry: caller %d: %v, %v", i, toks[i], errs[i])
		}
	}
	waitUntil(t, func() bool { return tokenRequests(srv) == 3 })

	// Past expiry and still in the outage: callers get the typed, retryable
	// error instead of an expired token, and the server is not stormed.
	vc.Set(second.ExpiresAt.Add(time.Minute))
	_, errs = herd(ctx, c, 100)
	for i, err := range errs {
		if security.CodeOf(err) != security.CodeTemporarilyUnavailable || !security.IsRetryable(err) {
			t.Fatalf("after expiry: caller %d: %v", i, err)
		}
	}
	// From the refresh point to here is 90 s: at most one request per 30 s
	// Retry-After step, however many callers.
	if n := tokenRequests(srv) - 2; n > 4 {
		t.Errorf("%d token requests during the outage, want at most 4", n)
	}

	// The outage ends: the next call gets a new token.
	vc.Set(second.ExpiresAt.Add(6 * time.Minute))
	third, err := c.Token(ctx)
	if err != nil || third == second || !third.ExpiresAt.After(vc.Now()) {
		t.Fatalf("after the outage: %v, %v", third, err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
