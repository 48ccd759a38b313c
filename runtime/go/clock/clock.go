// Package clock lets the token lifecycle run on a clock other than the
// system's: the real clock in production, a [Virtual] clock in tests and
// in the simulation mode, where time moves only when the test says so.
//
// A [Clock] tells the time and schedules timers. Every runtime package
// that takes one treats nil as [Real], and calls it through the helpers
// of this package ([Now], [Until], [AfterFunc], [Sleep], [WithTimeout],
// [Go]), which go straight to package time for nil; so the default costs
// nothing, and no hot path reads a clock at all (see package tokencache).
//
// Under a Virtual clock, the durations a package waits for (a token's
// refresh buffer, a retry backoff, a Retry-After, a request timeout) are
// virtual: they elapse when the test calls [Virtual.Advance], in
// milliseconds of real time however long they are.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and schedules timers. Implementations must be safe
// for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless
	// the returned timer is stopped first, like time.AfterFunc. The
	// timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTimer returns a timer that sends the time on its channel once d
	// has elapsed, like time.NewTimer.
	NewTimer(d time.Duration) Timer
}

// Timer is a timer of a Clock, with the methods of *time.Timer. As with
// time.Timer since Go 1.23, no stale value is received from C after Stop
// or Reset returns.
type Timer interface {
	// C returns the channel on which the time is delivered; nil for a
	// timer made by AfterFunc.
	C() <-chan time.Time
	// Stop prevents the timer from firing and reports whether it was
	// pending.
	Stop() bool
	// Reset makes the timer fire d from now and reports whether it was
	// pending.
	Reset(d time.Duration) bool
}

// Real is the system clock: package time. Its zero value is ready to use,
// and a nil Clock means Real wherever this runtime takes one.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// AfterFunc returns time.AfterFunc(d, f).
func (Real) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

// NewTimer returns time.NewTimer(d).
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// realTimer holds only a pointer, so storing it in a Timer does not
// allocate.
type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Or returns c, or Real when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// IsReal reports whether c is the system clock: nil or Real.
func IsReal(c Clock) bool {
	if c == nil {
		return true
	}
	_, ok := c.(Real)
	return ok
}

// Now returns c's current time; time.Now() for a nil c.
func Now(c Clock) time.Time {
	if c == nil {
		return time.Now()
	}
	return c.Now()
}

// Until returns the duration from c's current time until t; time.Until(t)
// for a nil c.
func Until(c Clock, t time.Time) time.Duration {
	if c == nil {
		return time.Until(t)
	}
	return t.Sub(c.Now())
}

// Since returns the duration elapsed on c since t; time.Since(t) for a
// nil c.
func Since(c Clock, t time.Time) time.Duration {
	if c == nil {
		return time.Since(t)
	}
	return c.Now().Sub(t)
}

// AfterFunc calls f once d has elapsed on c (time.AfterFunc for a nil c).
func AfterFunc(c Clock, d time.Duration, f func()) Timer {
	if c == nil {
		return realTimer{time.AfterFunc(d, f)}
	}
	return c.AfterFunc(d, f)
}

// Go runs f in a new goroutine: through c's own Go method when it has one,
// as a Virtual clock does to count the goroutine among its tasks (see
// Virtual.BlockUntilIdle), and with a go statement otherwise, for a nil c
// too.
func Go(c Clock, f func()) {
	if g, ok := c.(interface{ Go(func()) }); ok {
		g.Go(f)
		return
	}
	go f()
}

// Sleep waits until d has elapsed on c (time.Sleep for a nil c).
func Sleep(c Clock, d time.Duration) {
	if c == nil {
		time.Sleep(d)
		return
	}
	if d <= 0 {
		return
	}
	t := c.NewTimer(d)
	<-t.C()
}

// SleepContext waits until d has elapsed on c or ctx ends, and reports
// whether the whole wait elapsed.
func SleepContext(ctx context.Context, c Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := Or(c).NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// WithTimeout returns a copy of parent that ends when d has elapsed on c,
// with the error context.DeadlineExceeded, as context.WithTimeout does on
// the real clock (and is, for a nil or Real c).
//
// On another clock the context carries no deadline of its own: its
// Deadline method reports parent's, because a virtual time means nothing
// to code, such as a network dialer, that compares deadlines with the
// system clock. The timeout is reported through Done, Err and
// context.Cause only.
func WithTimeout(parent context.Context, c Clock, d time.Duration) (context.Context, context.CancelFunc) {
	if IsReal(c) {
		return context.WithTimeout(parent, d)
	}
	inner, cancel := context.WithCancelCause(parent)
	ctx := &timeoutContext{Context: inner}
	if d <= 0 {
		cancel(context.DeadlineExceeded)
		return ctx, func() { cancel(context.Canceled) }
	}
	timer := c.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		timer.Stop()
		cancel(context.Canceled)
	}
}

// timeoutContext reports a virtual timeout as context.DeadlineExceeded.
type timeoutContext struct {
	context.Context // the cancelable child of the parent
}

// Err returns context.DeadlineExceeded when the context ended by its own
// timeout, and the usual error otherwise.
func (c *timeoutContext) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
