package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// DefaultTTL is how long a Cache keeps a metadata document when TTL is
// zero.
const DefaultTTL = time.Hour

// DefaultFetchTimeout bounds a shared metadata request when FetchTimeout
// is zero.
const DefaultFetchTimeout = 30 * time.Second

// staleRetryDelay is the longest a Cache waits before trying again after
// it failed to refresh a document it still holds.
const staleRetryDelay = 30 * time.Second

// Cache holds the metadata document of one authorization server for a
// client. Set the exported fields before the first call; a Cache must not
// be copied after first use. Its methods are safe for concurrent use.
//
// [Cache.Metadata] fetches the document on first use and again once it is
// older than TTL. However many goroutines ask while no fresh document is
// held, one request is sent and they all receive its result. When the
// refresh of an expired document fails, the expired document is served
// for a short while before the next attempt, since a server's endpoints
// rarely change; when there is no document at all, the error is returned.
type Cache struct {
	// ServerURL is the server's issuer identifier (server_url).
	ServerURL string
	// HTTPClient sends the requests. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// TTL is how long a fetched document is used before it is fetched
	// again. Zero means DefaultTTL; a negative TTL keeps the document
	// until Invalidate.
	TTL time.Duration
	// FetchTimeout bounds a request that Metadata shares between callers,
	// since no single caller's context governs it. Zero means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Clock, when set, replaces the system clock for the TTL, the stale
	// retry delay and FetchTimeout, and starts the shared request (a
	// virtual clock in simulation mode). Nil means the system clock.
	Clock clock.Clock

	current atomic.Pointer[cachedMetadata]

	mu     sync.Mutex
	flight *metadataFetch // the shared request in progress, or nil
}

type cachedMetadata struct {
	md      *Metadata
	expires time.Time // zero: never
}

func (c *cachedMetadata) fresh(now time.Time) bool {
	return c != nil && (c.expires.IsZero() || now.Before(c.expires))
}

// metadataFetch is one request shared by every caller that waits for it.
// md and err are written before done is closed.
type metadataFetch struct {
	done chan struct{}
	md   *Metadata
	err  error
}

// Metadata returns the server's metadata document, fetching it when the
// cache holds none or an expired one. The result is shared and must not
// be modified. Each caller stops waiting when its ctx ends, with an error
// of code "canceled"; the shared request goes on for the others.
func (c *Cache) Metadata(ctx context.Context) (*Metadata, error) {
	if cm := c.current.Load(); cm.fresh(clock.Now(c.Clock)) {
		return cm.md, nil
	}
	md, f := c.join(ctx)
	if md != nil {
		return md, nil
	}
	select {
	case <-f.done:
		return f.md, f.err
	case <-ctx.Done():
		return nil, &oautherr.Error{Op: Operation, Code: oautherr.CodeCanceled, Description: "context ended before the metadata arrived", Err: context.Cause(ctx)}
	}
}

// Endpoints returns the endpoints the server publishes, with the
// mutual-TLS aliases when mtls is set (RFC 8705 Section 5), below the
// configured ones: configured.WithDefaults(md.Endpoints(mtls)). When every
// configured endpoint is set, it returns them without fetching anything.
func (c *Cache) Endpoints(ctx context.Context, configured Endpoints, mtls bool) (Endpoints, error) {
	if configured.Complete() {
		return configured, nil
	}
	md, err := c.Metadata(ctx)
	if err != nil {
		return configured, err
	}
	return configured.WithDefaults(md.Endpoints(mtls)), nil
}

// Cached returns the document held, fresh or expired, or nil. It sends no
// request.
func (c *Cache) Cached() *Metadata {
	if cm := c.current.Load(); cm != nil {
		return cm.md
	}
	return nil
}

// Invalidate discards the document held, so that the next Metadata call
// fetches it again.
func (c *Cache) Invalidate() { c.current.Store(nil) }

// Refresh fetches the document now with ctx, stores it, and returns it.
// Unlike Metadata it always sends a request and does not share it.
func (c *Cache) Refresh(ctx context.Context) (*Metadata, error) {
	md, err := Fetch(ctx, c.HTTPClient, c.ServerURL)
	if err != nil {
		return nil, err
	}
	c.store(md, clock.Now(c.Clock))
	return md, nil
}

// join returns a fresh document if one was stored since the caller
// looked, and otherwise the shared request in progress, starting one if
// needed.
func (c *Cache) join(ctx context.Context) (*Metadata, *metadataFetch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cm := c.current.Load(); cm.fresh(clock.Now(c.Clock)) {
		return cm.md, nil
	}
	if c.flight == nil {
		c.flight = &metadataFetch{done: make(chan struct{})}
		f := c.flight
		clock.Go(c.Clock, func() { c.run(context.WithoutCancel(ctx), f) })
	}
	return nil, c.flight
}

// run performs the shared request f and publishes its result.
func (c *Cache) run(ctx context.Context, f *metadataFetch) {
	timeout := c.FetchTimeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, timeout)
	defer cancel()
	md, err := Fetch(ctx, c.HTTPClient, c.ServerURL)
	var oerr *oautherr.Error
	if errors.As(err, &oerr) && oerr.Code == oautherr.CodeCanceled {
		// No caller canceled this request: it ran out of FetchTimeout.
		err = &oautherr.Error{
			Op:          Operation,
			Code:        oautherr.CodeNetworkError,
			Description: fmt.Sprintf("metadata request timed out after %v", timeout),
			Retryable:   true,
			Err:         oerr.Err,
		}
	}

	now := clock.Now(c.Clock)
	c.mu.Lock()
	switch stale := c.current.Load(); {
	case err == nil:
		c.store(md, now)
	case stale != nil:
		// Serve the expired document a little longer rather than fail
		// every caller while the server is unreachable.
		md, err = stale.md, nil
		c.current.Store(&cachedMetadata{md: md, expires: now.Add(min(c.ttl(), staleRetryDelay))})
	}
	c.flight = nil
	c.mu.Unlock()

	f.md, f.err = md, err
	close(f.done)
}

func (c *Cache) ttl() time.Duration {
	if c.TTL == 0 {
		return DefaultTTL
	}
	return c.TTL
}

func (c *Cache) store(md *Metadata, now time.Time) {
	cm := &cachedMetadata{md: md}
	if ttl := c.ttl(); ttl > 0 {
		cm.expires = now.Add(ttl)
	}
	c.current.Store(cm)
}
