// Package tokencache holds the current access token of a token source.
//
// [Cache.Load] is on the path of every API request, so it takes no lock,
// allocates nothing and does not read the clock: each stored token gets an
// entry with an atomic validity flag, and a timer clears the flag when the
// token enters its expiry buffer. The expiry buffer makes callers obtain a
// replacement before the resource server starts rejecting the old token
// (RFC 6749 Section 5.1, expires_in; RFC 6750 Section 3.1, invalid_token).
//
// Timers measure elapsed time on the monotonic clock, which on some systems
// stops while the machine sleeps. A token can therefore look valid for a
// while after a resume; callers that receive an invalid_token response
// should call [Cache.Clear].
package tokencache

import (
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// Cache holds at most one token. The zero value is an empty cache with no
// expiry buffer, ready to use. A Cache must not be copied after first use.
//
// All methods are safe for concurrent use.
type Cache struct {
	// ExpiryBuffer is how long before a token's ExpiresAt the cache stops
	// returning it from Load. It is capped at half of the token's remaining
	// lifetime when the token is stored, so that a short-lived token is
	// still reused. Set it before the first Store.
	ExpiryBuffer time.Duration

	current atomic.Pointer[entry]
}

// entry is one stored token. Its valid flag belongs to the entry, not to
// the cache, so a timer that fires after its token was replaced cannot
// invalidate the replacement.
type entry struct {
	tok   *token.Token
	valid atomic.Bool
	timer *time.Timer
}

// Load returns the cached token if it is still valid, or nil.
func (c *Cache) Load() *token.Token {
	e := c.current.Load()
	if e == nil || !e.valid.Load() {
		return nil
	}
	return e.tok
}

// Peek returns the cached token even if it has expired, or nil when the
// cache is empty.
func (c *Cache) Peek() *token.Token {
	if e := c.current.Load(); e != nil {
		return e.tok
	}
	return nil
}

// Store replaces the cached token with t. A token without an expiry time
// stays valid until it is replaced or cleared; a token that is already
// within its expiry buffer is kept for Peek but not returned by Load.
// Storing nil is the same as Clear. The caller must not modify t
// afterwards.
func (c *Cache) Store(t *token.Token) {
	if t == nil {
		c.Clear()
		return
	}
	e := &entry{tok: t}
	if t.ExpiresAt.IsZero() {
		e.valid.Store(true)
	} else if d := validFor(time.Until(t.ExpiresAt), c.ExpiryBuffer); d > 0 {
		e.valid.Store(true)
		e.timer = time.AfterFunc(d, func() { e.valid.Store(false) })
	}
	c.current.Swap(e).stop()
}

// Clear empties the cache.
func (c *Cache) Clear() {
	c.current.Swap(nil).stop()
}

// stop invalidates the entry and releases its timer.
func (e *entry) stop() {
	if e == nil {
		return
	}
	e.valid.Store(false)
	if e.timer != nil {
		e.timer.Stop()
	}
}

// validFor returns how long a token with the given remaining lifetime may
// be served, keeping buffer in reserve but never more than half the
// lifetime.
func validFor(lifetime, buffer time.Duration) time.Duration {
	if lifetime <= 0 {
		return 0
	}
	if buffer > lifetime/2 {
		buffer = lifetime / 2
	}
	if buffer < 0 {
		buffer = 0
	}
	return lifetime - buffer
}
