package authcode

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// fakeClock is a settable clock for Flow.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestFlow(t *testing.T, clock *fakeClock) *Flow {
	t.Helper()
	f := New(Config{
		AuthorizationURL: "https://as.example/authorize",
		// Nothing listens on port 1: exchanges that reach the network fail
		// with network_error, which tells them apart from local refusals.
		Endpoint:    &tokenendpoint.Endpoint{URL: "http://127.0.0.1:1/token", ClientID: "c", AuthMethod: tokenendpoint.None},
		RedirectURI: "http://127.0.0.1/cb",
	})
	if f.configErr != nil {
		t.Fatal(f.configErr)
	}
	f.now = clock.now
	return f
}

func code(err error) string {
	var oerr *oautherr.Error
	if errors.As(err, &oerr) {
		return oerr.Code
	}
	return ""
}

func TestPendingRequestExpires(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	f := newTestFlow(t, clock)
	req, err := f.Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(DefaultRequestLifetime)
	_, err = f.HandleResponse(url.Values{"state": {req.State}, "code": {"x"}})
	if code(err) != CodeInvalidState {
		t.Errorf("response after RequestLifetime: error = %v, want invalid_state", err)
	}
	if len(f.requests) != 0 || len(f.byState) != 0 || len(f.byVerifier) != 0 {
		t.Errorf("expired request still indexed: %d %d %d", len(f.requests), len(f.byState), len(f.byVerifier))
	}
}

func TestUsedCodesAreForgottenAfterRequestLifetime(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	f := newTestFlow(t, clock)
	req, _ := f.Start("", nil)
	resp, err := f.HandleResponse(url.Values{"state": {req.State}, "code": {"code-1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Exchange(context.Background(), resp.Code, "", "")
	if code(err) != oautherr.CodeNetworkError {
		t.Fatalf("first exchange: %v, want network_error", err)
	}
	_, err = f.Exchange(context.Background(), resp.Code, "", resp.CodeVerifier)
	if code(err) != oautherr.CodeInvalidGrant {
		t.Fatalf("second exchange: %v, want invalid_grant", err)
	}
	if len(f.requests) != 0 || len(f.byCode) != 0 {
		t.Errorf("exchanged request still indexed")
	}
	clock.advance(DefaultRequestLifetime)
	f.mu.Lock()
	f.pruneLocked()
	n := len(f.usedCodes)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d used codes remembered after RequestLifetime, want 0", n)
	}
}

func TestPendingRequestsAreBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	f := newTestFlow(t, clock)
	first, _ := f.Start("", nil)
	for range MaxPendingRequests + 10 {
		clock.advance(time.Millisecond)
		if _, err := f.Start("", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.requests); n != MaxPendingRequests {
		t.Errorf("%d pending requests, want %d", n, MaxPendingRequests)
	}
	if len(f.byState) != MaxPendingRequests || len(f.byVerifier) != MaxPendingRequests {
		t.Errorf("indexes out of step: %d %d", len(f.byState), len(f.byVerifier))
	}
	if _, err := f.HandleResponse(url.Values{"state": {first.State}, "code": {"x"}}); code(err) != CodeInvalidState {
		t.Errorf("oldest request still pending: %v", err)
	}
}
