// Package tokencache holds the current access token of a token source.
//
// [Cache.Load] is on the path of every API request, so it takes no lock,
// allocates nothing and does not read the clock. Each stored token gets an
// entry with an atomic [Status], and one timer per entry moves it along:
// from [Fresh] to [RefreshDue] when the token enters its refresh buffer,
// and from there to [Expired] when the token's lifetime (RFC 6749 Section
// 5.1, expires_in) ends. A token source serves a RefreshDue token while it
// obtains the replacement in the background, so that callers never wait
// while a valid token exists, and the resource server never sees an
// expired one (RFC 6750 Section 3.1, invalid_token).
//
// Timers measure elapsed time on the monotonic clock, which on some systems
// stops while the machine sleeps. A token can therefore look valid for a
// while after a resume; callers that receive an invalid_token response
// should call [Cache.Invalidate].
//
// [Cache.Clock] replaces the system clock for the timers and the expiry
// computations, so that tests and the simulation mode drive a token
// through its lifetime on a [clock.Virtual]; Load never reads it.
package tokencache

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// Status says how a cached token may be used.
type Status uint32

const (
	// Empty means no token is cached.
	Empty Status = iota
	// Fresh means the token is valid and outside its refresh buffer.
	Fresh
	// RefreshDue means the token is still valid but inside its refresh
	// buffer: serve it, and obtain its replacement now.
	RefreshDue
	// Expired means the token's lifetime has ended: it must not be sent.
	Expired
)

// String returns the status name, such as "refresh due".
func (s Status) String() string {
	switch s {
	case Empty:
		return "empty"
	case Fresh:
		return "fresh"
	case RefreshDue:
		return "refresh due"
	case Expired:
		return "expired"
	default:
		return "Status(" + strconv.Itoa(int(s)) + ")"
	}
}

// Usable reports whether a token with this status may be sent to a
// resource server.
func (s Status) Usable() bool { return s == Fresh || s == RefreshDue }

// Cache holds at most one token. The zero value is an empty cache with no
// refresh buffer, ready to use. A Cache must not be copied after first use.
//
// All methods are safe for concurrent use.
type Cache struct {
	// RefreshBuffer is how long before a token's ExpiresAt the token
	// becomes RefreshDue. It is capped at half of the token's remaining
	// lifetime when the token is stored, so that a short-lived token is
	// still used for a while before it is replaced. Set it before the
	// first Store.
	RefreshBuffer time.Duration
	// Clock measures the tokens' remaining lifetimes and runs the timers
	// that move their status along. Nil means the system clock. Set it
	// before the first Store.
	Clock clock.Clock

	current atomic.Pointer[entry]
}

// entry is one stored token. Its status belongs to the entry, not to the
// cache, so a timer that fires after its token was replaced cannot change
// the status of the replacement.
type entry struct {
	tok     *token.Token
	status  atomic.Uint32
	stopped bool   // guarded by mu; next to status, to keep entries small
	cache   *Cache // for its Clock

	mu    sync.Mutex // guards timer and stopped; never taken by Load
	timer clock.Timer
}

// Load returns the cached token and its status. The token is nil when the
// status is Empty; an Expired token is returned too, for its refresh
// token, but must not be sent.
func (c *Cache) Load() (*token.Token, Status) {
	e := c.current.Load()
	if e == nil {
		return nil, Empty
	}
	return e.tok, Status(e.status.Load())
}

// Peek returns the cached token whatever its status, or nil when the cache
// is empty.
func (c *Cache) Peek() *token.Token {
	if e := c.current.Load(); e != nil {
		return e.tok
	}
	return nil
}

// Store replaces the cached token with t. A token without an expiry time
// stays Fresh until it is replaced or cleared; a token whose expiry time
// has passed is stored as Expired. Storing nil is the same as Clear. The
// caller must not modify t afterwards.
func (c *Cache) Store(t *token.Token) {
	if t == nil {
		c.Clear()
		return
	}
	e := &entry{tok: t, cache: c}
	if t.ExpiresAt.IsZero() {
		e.status.Store(uint32(Fresh))
	} else if lifetime := clock.Until(c.Clock, t.ExpiresAt); lifetime <= 0 {
		e.status.Store(uint32(Expired))
	} else {
		e.status.Store(uint32(Fresh))
		e.mu.Lock()
		e.timer = clock.AfterFunc(c.Clock, lifetime-refreshBuffer(lifetime, c.RefreshBuffer), e.advance)
		e.mu.Unlock()
	}
	c.current.Swap(e).stop()
}

// Clear empties the cache.
func (c *Cache) Clear() {
	c.current.Swap(nil).stop()
}

// Invalidate marks the cached token Expired if the cache still holds old,
// and reports whether that changed its status. The token stays cached, so that its refresh
// token can still be used. Callers whose token a resource server rejected
// (RFC 6750 Section 3.1, invalid_token) use it so that concurrent
// rejections of the same token invalidate it once, and never invalidate a
// replacement that another caller already obtained.
func (c *Cache) Invalidate(old *token.Token) bool {
	e := c.current.Load()
	if e == nil || e.tok != old {
		return false
	}
	return Status(e.status.Swap(uint32(Expired))) != Expired
}

// advance runs when the entry's timer fires: at the start of the refresh
// buffer it marks the token RefreshDue and re-arms the timer for the
// expiry time; at the expiry time it marks the token Expired.
func (e *entry) advance() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if left := clock.Until(e.cache.Clock, e.tok.ExpiresAt); left > 0 && e.status.CompareAndSwap(uint32(Fresh), uint32(RefreshDue)) {
		e.timer.Reset(left)
		return
	}
	e.status.Store(uint32(Expired))
}

// stop releases the entry's timer. The entry keeps its status for callers
// that loaded it before it was replaced.
func (e *entry) stop() {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.stopped = true
	if e.timer != nil {
		e.timer.Stop()
	}
	e.mu.Unlock()
}

// refreshBuffer returns the part of a token's remaining lifetime that is
// spent RefreshDue: buffer, but never more than half the lifetime.
func refreshBuffer(lifetime, buffer time.Duration) time.Duration {
	return max(0, min(buffer, lifetime/2))
}
