// Package retry decides when and how soon a failed request to the
// authorization server is sent again.
//
// A [Policy] retries transient failures only: network errors, HTTP 5xx and
// 429 responses, and the OAuth error codes that the configured classifier
// marks retryable, such as "temporarily_unavailable" (RFC 6749 Section
// 5.2 and Section 4.1.2.1). Everything else, in particular the 4xx OAuth
// errors invalid_client, invalid_grant and invalid_scope, is returned at
// once. Waits grow exponentially with random jitter, and a Retry-After
// header (RFC 9110 Section 10.2.3) sets a lower bound on the next wait.
//
// Never retry a request that must not be sent twice, such as an
// authorization code exchange (RFC 6749 Section 4.1.2: the code is single
// use).
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// Defaults used when the corresponding Policy field is zero.
const (
	// DefaultBaseDelay is the nominal wait before the first retry.
	DefaultBaseDelay = 250 * time.Millisecond
	// DefaultMaxDelay caps the exponential backoff, and is the longest
	// Retry-After that a Policy waits for before giving up.
	DefaultMaxDelay = 30 * time.Second
)

// Policy says how often and how soon a failed request is retried. The
// zero value retries nothing; set MaxRetries to enable retries. A Policy is
// a value: copy it freely.
type Policy struct {
	// MaxRetries is how many times a failed request is sent again, after
	// the first attempt, before its error is returned (the spec's
	// max_retries). Zero means no retries.
	MaxRetries int
	// BaseDelay is the nominal wait before the first retry; each further
	// retry doubles it. Zero means DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps the nominal wait. A server that asks, through
	// Retry-After, for a longer wait than MaxDelay is not retried: its
	// error, which carries the requested delay, is returned at once. Zero
	// means DefaultMaxDelay.
	MaxDelay time.Duration
	// Retryable reports whether an error is transient. Nil means
	// oautherr.IsRetryable, which is true for the network errors, 5xx and
	// 429 responses and retryable OAuth codes that tokenendpoint reports.
	Retryable func(error) bool
	// Clock is the clock on which Do waits between attempts. Nil means
	// the system clock; a clock.Virtual makes the waits virtual.
	Clock clock.Clock
}

// Validate reports the first problem with p, or nil.
func (p Policy) Validate() error {
	switch {
	case p.MaxRetries < 0:
		return errors.New("max retries is negative")
	case p.BaseDelay < 0:
		return errors.New("retry base delay is negative")
	case p.MaxDelay < 0:
		return errors.New("retry max delay is negative")
	case p.MaxDelay != 0 && p.BaseDelay > p.MaxDelay:
		return errors.New("retry base delay is larger than the max delay")
	}
	return nil
}

// IsRetryable reports whether err is a transient failure under p.
func (p Policy) IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if p.Retryable != nil {
		return p.Retryable(err)
	}
	return oautherr.IsRetryable(err)
}

// Backoff returns the wait before retry number n (1 for the first retry),
// without regard to any Retry-After hint: the nominal delay
// BaseDelay*2^(n-1), capped at MaxDelay, of which a random half is waited
// ("equal jitter"). The result lies in (nominal/2, nominal], so retries of
// many clients spread out while each client still backs off.
func (p Policy) Backoff(n int) time.Duration {
	nominal := p.nominal(n)
	half := nominal / 2
	return nominal - half + time.Duration(rand.Int64N(int64(half)+1))
}

// nominal returns BaseDelay*2^(n-1) capped at MaxDelay.
func (p Policy) nominal(n int) time.Duration {
	base, maxDelay := p.baseDelay(), p.maxDelay()
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

func (p Policy) baseDelay() time.Duration {
	if p.BaseDelay > 0 {
		return p.BaseDelay
	}
	return DefaultBaseDelay
}

func (p Policy) maxDelay() time.Duration {
	if p.MaxDelay > 0 {
		return p.MaxDelay
	}
	return DefaultMaxDelay
}

// Delay returns the wait before retry number n (1 for the first retry)
// after err: Backoff(n), or the server's Retry-After when that is longer.
// ok is false when err should not be retried at all: it is not transient,
// or its Retry-After exceeds MaxDelay. Delay does not look at MaxRetries.
func (p Policy) Delay(n int, err error) (d time.Duration, ok bool) {
	if !p.IsRetryable(err) {
		return 0, false
	}
	d = p.Backoff(n)
	if ra := RetryAfter(err); ra > d {
		if ra > p.maxDelay() {
			return ra, false
		}
		d = ra
	}
	return d, true
}

// RetryAfter returns the Retry-After delay carried by err, an
// [*oautherr.Error], or 0.
func RetryAfter(err error) time.Duration {
	var oerr *oautherr.Error
	if errors.As(err, &oerr) {
		return oerr.RetryAfter
	}
	return 0
}

// Do calls attempt until it succeeds, fails with an error that is not
// retryable, or has been retried MaxRetries times, waiting Delay between
// attempts. It returns the last result.
//
// Do is bounded by ctx: it stops waiting when ctx ends, and when ctx has a
// deadline that comes before the next attempt would start it returns the
// last error at once instead of waiting in vain. (On a Clock other than
// the system's, a deadline, which is a system time, cannot be compared
// with the wait, and only ctx's end stops it.) attempt receives ctx and
// should honour it.
func Do[T any](ctx context.Context, p Policy, attempt func(context.Context) (T, error)) (T, error) {
	for n := 1; ; n++ {
		v, err := attempt(ctx)
		if err == nil || n > p.MaxRetries {
			return v, err
		}
		d, ok := p.Delay(n, err)
		if !ok {
			return v, err
		}
		if deadline, has := ctx.Deadline(); has && clock.IsReal(p.Clock) && time.Until(deadline) < d {
			return v, err
		}
		if !clock.SleepContext(ctx, p.Clock, d) {
			return v, err
		}
	}
}

// Sleep waits for d or until ctx ends, and reports whether the whole wait
// elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
