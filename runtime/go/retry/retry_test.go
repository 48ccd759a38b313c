package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
)

var (
	unavailable = &oautherr.Error{Code: oautherr.CodeServerError, StatusCode: 503, Retryable: true}
	badClient   = &oautherr.Error{Code: oautherr.CodeInvalidClient, StatusCode: 401}
)

func TestBackoffGrowsWithinJitterBounds(t *testing.T) {
	p := retry.Policy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	nominal := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, nom := range nominal {
		nom *= time.Millisecond
		for range 200 {
			d := p.Backoff(i + 1)
			if d <= nom/2 || d > nom {
				t.Fatalf("Backoff(%d) = %v, want in (%v, %v]", i+1, d, nom/2, nom)
			}
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	var p retry.Policy
	if d := p.Backoff(1); d <= retry.DefaultBaseDelay/2 || d > retry.DefaultBaseDelay {
		t.Errorf("Backoff(1) = %v with the default base delay", d)
	}
	if d := p.Backoff(100); d > retry.DefaultMaxDelay {
		t.Errorf("Backoff(100) = %v, beyond the default max delay", d)
	}
}

func TestDelay(t *testing.T) {
	p := retry.Policy{BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}
	tests := []struct {
		name    string
		err     error
		wantMin time.Duration
		wantMax time.Duration
		wantOK  bool
	}{
		{"not retryable", badClient, 0, 0, false},
		{"plain error", errors.New("boom"), 0, 0, false},
		{"retryable", unavailable, 50 * time.Millisecond, 100 * time.Millisecond, true},
		{"retry-after longer", &oautherr.Error{Code: "server_error", Retryable: true, RetryAfter: 3 * time.Second}, 3 * time.Second, 3 * time.Second, true},
		{"retry-after shorter", &oautherr.Error{Code: "server_error", Retryable: true, RetryAfter: time.Millisecond}, 50 * time.Millisecond, 100 * time.Millisecond, true},
		{"retry-after beyond max", &oautherr.Error{Code: "server_error", Retryable: true, RetryAfter: time.Minute}, time.Minute, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := p.Delay(1, tt.err)
			if ok != tt.wantOK || d < tt.wantMin || d > tt.wantMax {
				t.Errorf("Delay = %v, %v; want [%v, %v], %v", d, ok, tt.wantMin, tt.wantMax, tt.wantOK)
			}
		})
	}
}

func TestCustomRetryable(t *testing.T) {
	transient := errors.New("transient")
	p := retry.Policy{Retryable: func(err error) bool { return errors.Is(err, transient) }}
	if !p.IsRetryable(transient) || p.IsRetryable(unavailable) || p.IsRetryable(nil) {
		t.Error("IsRetryable does not follow Policy.Retryable")
	}
}

func TestValidate(t *testing.T) {
	bad := []retry.Policy{
		{MaxRetries: -1},
		{BaseDelay: -1},
		{MaxDelay: -1},
		{BaseDelay: time.Minute, MaxDelay: time.Second},
	}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", p)
		}
	}
	if err := (retry.Policy{MaxRetries: 3}).Validate(); err != nil {
		t.Errorf("Validate() = %v for a valid policy", err)
	}
}

// attempts records when each attempt ran and answers with errs in turn.
type attempts struct {
	at   []time.Time
	errs []error
}

func (a *attempts) call(context.Context) (string, error) {
	a.at = append(a.at, time.Now())
	if i := len(a.at) - 1; i < len(a.errs) {
		return "", a.errs[i]
	}
	return "ok", nil
}

func TestDoRetriesTransientFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.Policy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: time.Minute}
		a := &attempts{errs: []error{unavailable, unavailable}}
		v, err := retry.Do(context.Background(), p, a.call)
		if err != nil || v != "ok" {
			t.Fatalf("Do = %q, %v", v, err)
		}
		if len(a.at) != 3 {
			t.Fatalf("%d attempts, want 3", len(a.at))
		}
		for i, nom := range []time.Duration{time.Second, 2 * time.Second} {
			if gap := a.at[i+1].Sub(a.at[i]); gap <= nom/2 || gap > nom {
				t.Errorf("wait before retry %d = %v, want in (%v, %v]", i+1, gap, nom/2, nom)
			}
		}
	})
}

func TestDoStopsAfterMaxRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.Policy{MaxRetries: 2, BaseDelay: time.Second}
		a := &attempts{errs: []error{unavailable, unavailable, unavailable, unavailable}}
		_, err := retry.Do(context.Background(), p, a.call)
		if err != unavailable || len(a.at) != 3 {
			t.Errorf("Do = %v after %d attempts; want the last error after 3", err, len(a.at))
		}
	})
}

func TestDoReturnsPermanentErrorAtOnce(t *testing.T) {
	a := &attempts{errs: []error{badClient}}
	_, err := retry.Do(context.Background(), retry.Policy{MaxRetries: 5}, a.call)
	if err != badClient || len(a.at) != 1 {
		t.Errorf("Do = %v after %d attempts; want invalid_client after 1", err, len(a.at))
	}
}

func TestDoHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &oautherr.Error{Code: oautherr.CodeTemporarilyUnavailable, StatusCode: 429, Retryable: true, RetryAfter: 7 * time.Second}
		a := &attempts{errs: []error{slow}}
		p := retry.Policy{MaxRetries: 1, BaseDelay: 10 * time.Millisecond}
		if _, err := retry.Do(context.Background(), p, a.call); err != nil {
			t.Fatal(err)
		}
		if gap := a.at[1].Sub(a.at[0]); gap != 7*time.Second {
			t.Errorf("retried after %v, want the 7s Retry-After", gap)
		}
	})
}

func TestDoGivesUpWhenRetryAfterExceedsMaxDelay(t *testing.T) {
	far := &oautherr.Error{Code: oautherr.CodeServerError, StatusCode: 503, Retryable: true, RetryAfter: time.Hour}
	a := &attempts{errs: []error{far}}
	_, err := retry.Do(context.Background(), retry.Policy{MaxRetries: 3, MaxDelay: time.Minute}, a.call)
	if err != far || len(a.at) != 1 {
		t.Errorf("Do = %v after %d attempts; want the error at once", err, len(a.at))
	}
}

func TestDoIsBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.Policy{MaxRetries: 10, BaseDelay: time.Second, MaxDelay: time.Second}

		// A deadline that the next wait would pass: return at once.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		a := &attempts{errs: []error{unavailable, unavailable}}
		start := time.Now()
		if _, err := retry.Do(ctx, p, a.call); err != unavailable {
			t.Errorf("Do = %v, want the last attempt's error", err)
		}
		if len(a.at) != 1 || time.Since(start) != 0 {
			t.Errorf("%d attempts in %v; want 1 and no wait", len(a.at), time.Since(start))
		}

		// Cancellation during a wait ends it.
		ctx, cancel = context.WithCancel(context.Background())
		a = &attempts{errs: []error{unavailable, unavailable, unavailable}}
		time.AfterFunc(200*time.Millisecond, cancel)
		start = time.Now()
		if _, err := retry.Do(ctx, p, a.call); err != unavailable {
			t.Errorf("Do = %v, want the last attempt's error", err)
		}
		if len(a.at) != 1 || time.Since(start) != 200*time.Millisecond {
			t.Errorf("%d attempts in %v; want 1, stopped by the cancellation", len(a.at), time.Since(start))
		}
	})
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if !retry.Sleep(context.Background(), time.Second) {
			t.Error("Sleep with a live context reported an interruption")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if retry.Sleep(ctx, time.Second) || retry.Sleep(ctx, 0) {
			t.Error("Sleep with an ended context reported a full wait")
		}
	})
}

func TestDoWaitsOnTheVirtualClock(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	slow := &oautherr.Error{Code: oautherr.CodeTemporarilyUnavailable, StatusCode: 503, Retryable: true, RetryAfter: 30 * time.Second}
	var at []time.Time
	attempt := func(context.Context) (string, error) {
		at = append(at, v.Now())
		if len(at) < 3 {
			return "", slow
		}
		return "ok", nil
	}
	// A real deadline much shorter than the virtual waits does not cut
	// them short: it cannot be compared with virtual time.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() {
		_, err := retry.Do(ctx, retry.Policy{MaxRetries: 3, Clock: v}, attempt)
		done <- err
	}()
	for range 2 {
		if err := v.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		v.AdvanceToNext()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap != 30*time.Second {
			t.Errorf("virtual wait before retry %d = %v, want the 30s Retry-After", i, gap)
		}
	}
}
