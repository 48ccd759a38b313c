// Package tokenrefresh keeps an access token valid for any OAuth 2.0 flow.
//
// A [Source] wraps the flow's way of obtaining a token, a [FetchFunc] such
// as a client credentials grant (RFC 6749 Section 4.4), and optionally a
// [RefreshFunc] that uses a refresh token (RFC 6749 Section 6). It serves
// the current token to any number of goroutines and replaces it before it
// expires:
//
//   - A valid cached token is returned without a lock, an allocation or a
//     clock read; a timer marks the token when it enters its refresh
//     buffer (see package tokencache).
//   - The replacement is obtained in the background, started by the first
//     call after the token enters its refresh buffer (RefreshBuffer before
//     expiry), so callers keep getting the current token meanwhile; an
//     idle Source sends nothing. If that early refresh fails, callers
//     still get the current token and the refresh is tried again after a
//     backoff delay.
//   - Only one token request is in flight at a time, however many
//     goroutines call Token. Callers that have no valid token wait for it,
//     each until its own context ends.
//   - Transient failures (network errors, HTTP 5xx and 429, and retryable
//     OAuth codes such as temporarily_unavailable) are retried with
//     exponential backoff and jitter, honouring Retry-After (package
//     retry); so a failing server sees at most one request per backoff
//     step however many callers wait. Other errors, such as invalid_client
//     or invalid_scope (RFC 6749 Section 5.2), are returned at once.
//   - With a [tokenstore.Store], the token is loaded on first use and every
//     new token is saved before it is served. A rotated refresh token
//     (RFC 6749 Section 6, RFC 9700 Section 4.14) therefore reaches
//     storage before it can be sent to the server.
//
// Config.Clock puts all of this on another clock than the system's: with a
// [clock.Virtual], the refresh buffer, expiry, backoff delays, Retry-After
// waits and request timeouts elapse when a test advances the clock (the
// simulation mode, package simulation), and the background requests are
// tasks of the clock (clock.Go), so that [clock.Virtual.BlockUntilIdle]
// tells the test when they have finished or wait on the clock.
package tokenrefresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokencache"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultOperation names the operation in errors.
	DefaultOperation = "get_valid_token"
	// DefaultRefreshBuffer is the spec's default refresh_buffer_seconds.
	DefaultRefreshBuffer = 300 * time.Second
	// DefaultRequestTimeout is the spec's default timeout_ms.
	DefaultRequestTimeout = 30 * time.Second
)

// NoRefreshBuffer, as Config.RefreshBuffer, turns early refresh off: a
// token is served until it expires, and callers then wait for the next.
const NoRefreshBuffer time.Duration = -1

// CodeStorageError is the oautherr code of a failure to read or save a
// token in the configured storage. Err wraps the storage's error, such as a
// *tokenstore.FileError.
const CodeStorageError = "storage_error"

// FetchFunc obtains a new token with the flow's own grant, such as the
// client credentials grant. It must honour ctx, whose deadline bounds one
// attempt, and should return an [*oautherr.Error] whose Retryable field
// tells whether trying again may help.
type FetchFunc func(ctx context.Context) (*token.Token, error)

// RefreshFunc obtains a new token with a refresh token (RFC 6749 Section
// 6). The result may carry a new refresh token (rotation); when it carries
// none, the Source keeps using refreshToken. Otherwise it behaves like a
// FetchFunc.
type RefreshFunc func(ctx context.Context, refreshToken secret.Secret) (*token.Token, error)

// Config configures a Source.
type Config struct {
	// Op is the operation id that errors of the Source carry in
	// oautherr.Error.Op. Empty means DefaultOperation.
	Op string
	// Fetch obtains a new token. It is required.
	Fetch FetchFunc
	// Refresh, if set, is used instead of Fetch while the current token
	// has a refresh token. When the server rejects the refresh token with
	// an error that is not retryable (such as invalid_grant), the Source
	// falls back to Fetch.
	Refresh RefreshFunc
	// RefreshBuffer is how long before expiry the token is replaced, in
	// the background (the spec's refresh_buffer_seconds). It is capped at
	// half of each token's lifetime, so that short-lived tokens are still
	// used for a while. Zero means DefaultRefreshBuffer; NoRefreshBuffer
	// turns early refresh off.
	RefreshBuffer time.Duration
	// RequestTimeout bounds each attempt to fetch, refresh, load or save a
	// token (the spec's timeout_ms). Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Retry decides which failures are retried and how soon. Its zero
	// value retries nothing.
	Retry retry.Policy
	// Storage, if set, persists the token: it is loaded on first use and
	// every new token is saved before it is served.
	Storage tokenstore.Store
	// StorageKey is the key under which Storage keeps the token, such as
	// the client id and flow. It is required with Storage.
	StorageKey string
	// Clock judges expiry and times the refresh buffer, the waits between
	// attempts and the RequestTimeout of each token request; storage
	// calls, which are real I/O, keep real-time timeouts. Nil means the
	// system clock. The flow's tokens must carry ExpiresAt on the same
	// clock (for tokenendpoint.Endpoint, set its Clock too).
	Clock clock.Clock
}

// Validate reports the first problem with c, or nil.
func (c *Config) Validate() error {
	switch {
	case c.Fetch == nil:
		return errors.New("no fetch function is configured")
	case c.RefreshBuffer < 0 && c.RefreshBuffer != NoRefreshBuffer:
		return errors.New("refresh buffer is negative")
	case c.RequestTimeout < 0:
		return errors.New("request timeout is negative")
	case c.Storage != nil && c.StorageKey == "":
		return errors.New("token storage is configured without a storage key")
	}
	return c.Retry.Validate()
}

// Source serves and renews a token. It implements token.Source. Create one
// with New; a Source is safe for concurrent use.
type Source struct {
	cfg       Config
	configErr error
	cache     tokencache.Cache
	flight    atomic.Pointer[flight] // the token request in progress, or nil

	mu       sync.Mutex   // guards the fields below and starting and ending flights
	failure  *failure     // the last failed flight, or nil after a success
	failures int          // failed attempts since the last success, for backoff
	loaded   bool         // Storage has been read, or superseded by Set
	unsaved  *token.Token // a new token whose Store failed; saved before it is used
}

// flight is one token request, with its retries, shared by every caller
// that waits for it. tok and err are written before done is closed.
type flight struct {
	done      chan struct{}
	notBefore time.Time // the flight sends nothing before this time
	tok       *token.Token
	err       error
	last      atomic.Pointer[error] // the latest failed attempt, for callers that give up
}

// failure is the outcome of a failed flight.
type failure struct {
	err       error
	retryable bool
	until     time.Time // no new request before this time
}

var _ token.Source = (*Source)(nil)

// New returns a Source for cfg. Configuration errors are reported by Token
// and Set. New does not contact the server or the storage.
func New(cfg Config) *Source {
	if cfg.Op == "" {
		cfg.Op = DefaultOperation
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	s := &Source{cfg: cfg}
	s.cache.Clock = cfg.Clock
	if err := cfg.Validate(); err != nil {
		s.configErr = &oautherr.Error{Op: cfg.Op, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	switch cfg.RefreshBuffer {
	case 0:
		s.cache.RefreshBuffer = DefaultRefreshBuffer
	case NoRefreshBuffer:
		s.cache.RefreshBuffer = 0
	default:
		s.cache.RefreshBuffer = cfg.RefreshBuffer
	}
	return s
}

// Token returns a valid token. While the cached token is outside its
// refresh buffer, Token only loads it: no lock, no allocation, no clock
// read. Inside the buffer, Token still returns it at once and starts its
// replacement in the background. Without a valid token, Token starts a
// request, or joins the one in flight, and waits for it until ctx ends;
// the request is not tied to ctx, so one caller giving up does not fail
// the others.
//
// Errors are [*oautherr.Error] values: the flow's error, code "canceled"
// (wrapping ctx's error and the last failed attempt) when ctx ends first,
// or CodeStorageError. After a transient failure, callers that find no
// valid token get the same error at once until the backoff delay, or the
// server's Retry-After, has passed.
func (s *Source) Token(ctx context.Context) (*token.Token, error) {
	tok, status := s.cache.Load()
	if status == tokencache.Fresh {
		return tok, nil
	}
	return s.slowToken(ctx, tok, status)
}

// slowToken serves a token that is due for refresh, or waits for one.
func (s *Source) slowToken(ctx context.Context, tok *token.Token, status tokencache.Status) (*token.Token, error) {
	if status == tokencache.RefreshDue {
		if s.flight.Load() == nil {
			s.refreshEarly(ctx)
		}
		return tok, nil
	}
	if s.configErr != nil {
		return nil, s.configErr
	}
	return s.wait(ctx)
}

// refreshEarly starts a background request for the token that is due for
// refresh, unless one is already running.
func (s *Source) refreshEarly(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.cache.Load(); status == tokencache.RefreshDue && s.flight.Load() == nil {
		s.start(ctx, true)
	}
}

// wait returns the cached token if one became valid since the caller
// looked, and otherwise waits for the request in flight, starting one if
// needed.
func (s *Source) wait(ctx context.Context) (*token.Token, error) {
	if ctx.Err() != nil {
		return nil, s.canceled(ctx, nil)
	}
	s.mu.Lock()
	tok, status := s.cache.Load()
	f := s.flight.Load()
	switch {
	case status.Usable():
		if status == tokencache.RefreshDue && f == nil {
			s.start(ctx, true)
		}
		s.mu.Unlock()
		return tok, nil
	case f == nil || !f.notBefore.IsZero():
		// While a transient failure's backoff lasts, whether or not an
		// early refresh is already waiting it out, callers get that
		// failure at once instead of waiting without a request in flight.
		if last := s.failure; last != nil && last.retryable && s.now().Before(last.until) {
			s.mu.Unlock()
			return nil, last.err
		}
		if f == nil {
			if ctx.Done() == nil {
				// ctx can never end, so this caller would wait for the
				// whole flight anyway: run it here and save a goroutine
				// and two hand-offs on the cold path.
				f = s.newFlight(false)
				s.mu.Unlock()
				s.run(ctx, f)
				return f.tok, f.err
			}
			f = s.start(ctx, false)
		}
	}
	s.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, s.canceled(ctx, f)
	}
}

// start launches a flight in the background; s.mu must be held.
func (s *Source) start(ctx context.Context, early bool) *flight {
	f := s.newFlight(early)
	ctx = context.WithoutCancel(ctx)
	// On a virtual clock the flight is one of the clock's tasks, so that
	// a test knows when it has finished or waits on the clock.
	clock.Go(s.cfg.Clock, func() { s.run(ctx, f) })
	return f
}

// newFlight registers a new flight; s.mu must be held. An early refresh,
// which no caller waits for, respects the backoff delay of the last
// failure of any kind; a caller without a valid token waits out only a
// transient failure's delay (wait returns that failure's error while it
// lasts).
func (s *Source) newFlight(early bool) *flight {
	f := &flight{done: make(chan struct{})}
	if last := s.failure; last != nil && (early || last.retryable) && s.now().Before(last.until) {
		f.notBefore = last.until
	}
	s.flight.Store(f)
	return f
}

// run performs flight f and publishes its result. The new token is in the
// cache before f is retired under s.mu, so a caller either finds the new
// token or joins f.
func (s *Source) run(ctx context.Context, f *flight) {
	if d := clock.Until(s.cfg.Clock, f.notBefore); d > 0 {
		clock.Sleep(s.cfg.Clock, d)
	}
	finished := false
	defer func() {
		if !finished {
			// The flow panicked: release the waiting callers before the
			// panic goes on, or they and every later caller would wait
			// for this flight forever.
			s.finish(f, nil, &oautherr.Error{Op: s.cfg.Op, Code: oautherr.CodeInvalidResponse, Description: "the token flow panicked"})
		}
	}()
	tok, err := s.obtain(ctx, f)
	finished = true
	s.finish(f, tok, err)
}

// finish records the outcome of flight f, retires it and wakes its
// callers.
func (s *Source) finish(f *flight, tok *token.Token, err error) {
	s.mu.Lock()
	if err == nil {
		s.failure, s.failures = nil, 0
	} else {
		delay := s.cfg.Retry.Backoff(max(s.failures, 1))
		delay = max(delay, retry.RetryAfter(err))
		s.failure = &failure{err: err, retryable: s.cfg.Retry.IsRetryable(err), until: s.now().Add(delay)}
	}
	s.flight.Store(nil)
	s.mu.Unlock()

	f.tok, f.err = tok, err
	close(f.done)
}

// obtain restores a stored token or requests a new one, retrying transient
// failures, and caches the result.
func (s *Source) obtain(ctx context.Context, f *flight) (*token.Token, error) {
	if tok, err := s.restore(ctx); tok != nil || err != nil {
		return tok, err
	}
	refreshRejected := false
	for n := 1; ; n++ {
		seed := s.cache.Peek()
		var tok *token.Token
		var err error
		if s.cfg.Refresh != nil && !refreshRejected && seed != nil && !seed.RefreshToken.IsZero() {
			tok, err = s.refresh(ctx, seed.RefreshToken)
			if err != nil && !s.cfg.Retry.IsRetryable(err) {
				// The refresh token is no longer accepted: start over.
				refreshRejected = true
				tok, err = s.call(ctx, s.cfg.Fetch)
			}
		} else {
			tok, err = s.call(ctx, s.cfg.Fetch)
		}
		if err == nil {
			if err := s.save(ctx, tok); err != nil {
				return nil, err
			}
			s.cache.Store(tok)
			return tok, nil
		}

		f.last.Store(&err)
		s.mu.Lock()
		s.failures++
		failures := s.failures
		s.mu.Unlock()
		if n > s.cfg.Retry.MaxRetries {
			return nil, err
		}
		delay, ok := s.cfg.Retry.Delay(failures, err)
		if !ok {
			return nil, err
		}
		clock.Sleep(s.cfg.Clock, delay)
	}
}

// refresh calls the RefreshFunc, carrying the refresh token over to a
// response that has none (RFC 6749 Section 6).
func (s *Source) refresh(ctx context.Context, rt secret.Secret) (*token.Token, error) {
	tok, err := s.call(ctx, func(ctx context.Context) (*token.Token, error) { return s.cfg.Refresh(ctx, rt) })
	if err == nil && tok.RefreshToken.IsZero() {
		kept := *tok
		kept.RefreshToken = rt
		tok = &kept
	}
	return tok, err
}

// call runs one attempt bounded by RequestTimeout. ctx is the flight's
// context, which no caller cancels, so a deadline error can only mean the
// timeout; it is reported as a retryable network error. An error that
// does not come from the deadline is returned as it is, even when the
// timeout passed meanwhile (as a virtual clock that jumps ahead makes
// likely).
func (s *Source) call(ctx context.Context, fn FetchFunc) (*token.Token, error) {
	actx, cancel := clock.WithTimeout(ctx, s.cfg.Clock, s.cfg.RequestTimeout)
	defer cancel()
	tok, err := fn(actx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, &oautherr.Error{
			Op:          s.cfg.Op,
			Code:        oautherr.CodeNetworkError,
			Description: fmt.Sprintf("token request timed out after %v", s.cfg.RequestTimeout),
			Retryable:   true,
			Err:         err,
		}
	}
	if err == nil && (tok == nil || tok.AccessToken.IsZero()) {
		return nil, &oautherr.Error{Op: s.cfg.Op, Code: oautherr.CodeInvalidResponse, Description: "the flow returned no access token"}
	}
	return tok, err
}

// restore publishes the token that storage holds, or a token whose save
// failed earlier after saving it now. It returns the token when it is
// still usable, and nil when a new token must be requested; an expired
// restored token stays cached for its refresh token.
func (s *Source) restore(ctx context.Context) (*token.Token, error) {
	if s.cfg.Storage == nil {
		return nil, nil
	}
	s.mu.Lock()
	loaded, unsaved := s.loaded, s.unsaved
	s.mu.Unlock()

	var tok *token.Token
	switch {
	case unsaved != nil:
		if err := s.save(ctx, unsaved); err != nil {
			return nil, err
		}
		tok = unsaved
	case !loaded:
		sctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		stored, err := s.cfg.Storage.Get(sctx, s.cfg.StorageKey)
		cancel()
		if err != nil {
			return nil, s.storageError("cannot read the stored token", err)
		}
		s.mu.Lock()
		fresh := !s.loaded // Set did not supersede storage meanwhile
		s.loaded = true
		s.mu.Unlock()
		if stored == nil || !fresh {
			return nil, nil
		}
		tok = stored
	default:
		return nil, nil
	}
	s.cache.Store(tok)
	if _, status := s.cache.Load(); status.Usable() {
		return tok, nil
	}
	return nil, nil
}

// save writes tok to storage. On failure tok is kept as unsaved, so that
// the next flight saves it before anything else and no rotated refresh
// token is lost or used unsaved.
func (s *Source) save(ctx context.Context, tok *token.Token) error {
	if s.cfg.Storage == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	err := s.cfg.Storage.Store(sctx, s.cfg.StorageKey, tok)
	cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.unsaved = tok
		return s.storageError("cannot save the new token", err)
	}
	if s.unsaved == tok {
		s.unsaved = nil
	}
	s.loaded = true
	return nil
}

func (s *Source) storageError(description string, err error) *oautherr.Error {
	return &oautherr.Error{Op: s.cfg.Op, Code: CodeStorageError, Description: description, Err: err}
}

// canceled reports that ctx ended while the caller waited for f, naming
// f's last failed attempt, if any.
func (s *Source) canceled(ctx context.Context, f *flight) error {
	err := &oautherr.Error{
		Op:          s.cfg.Op,
		Code:        oautherr.CodeCanceled,
		Description: "context ended before a token was obtained",
		Err:         context.Cause(ctx),
	}
	if f != nil {
		if last := f.last.Load(); last != nil {
			err.Err = fmt.Errorf("%w; last attempt: %w", err.Err, *last)
		}
	}
	return err
}

// Set saves tok to storage, if configured, and makes it the current token,
// for flows that obtain tokens outside Token (an explicit authentication,
// an authorization code exchange). When saving fails the error has code
// CodeStorageError and tok is not served yet: the next Token call saves
// it first.
func (s *Source) Set(ctx context.Context, tok *token.Token) error {
	if s.configErr != nil {
		return s.configErr
	}
	if tok == nil || tok.AccessToken.IsZero() {
		return &oautherr.Error{Op: s.cfg.Op, Code: oautherr.CodeInvalidConfig, Description: "cannot set an empty token"}
	}
	if err := s.save(ctx, tok); err != nil {
		return err
	}
	s.mu.Lock()
	s.loaded = true
	s.mu.Unlock()
	s.cache.Store(tok)
	return nil
}

// now reads the Source's clock.
func (s *Source) now() time.Time { return clock.Now(s.cfg.Clock) }

// Current returns the cached token whatever its state, or nil. It sends no
// request.
func (s *Source) Current() *token.Token { return s.cache.Peek() }

// Invalidate records that a resource server rejected tok (RFC 6750
// Section 3.1, invalid_token), so that the next Token call obtains a new
// token, with tok's refresh token if it has one. It does nothing when tok
// is no longer the current token, so that many requests rejected at once
// cause one new token, and reports whether it invalidated tok.
func (s *Source) Invalidate(tok *token.Token) bool { return s.cache.Invalidate(tok) }

// Clear discards the cached token, including its refresh token, so that
// the next Token call obtains a new one with Fetch. Storage is left alone.
func (s *Source) Clear() {
	s.mu.Lock()
	s.unsaved = nil
	s.loaded = true
	s.mu.Unlock()
	s.cache.Clear()
}

// Delete discards the cached token and removes it from storage, for a
// logout or after revocation (RFC 7009).
func (s *Source) Delete(ctx context.Context) error {
	s.Clear()
	if s.cfg.Storage == nil {
		return nil
	}
	if err := s.cfg.Storage.Delete(ctx, s.cfg.StorageKey); err != nil {
		return s.storageError("cannot delete the stored token", err)
	}
	return nil
}
