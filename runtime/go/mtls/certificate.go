package mtls

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ClientCertificate is a client certificate and its private key, read
// from PEM files and reloaded when the files change.
//
// A TLS client asks for the certificate at every handshake through
// [ClientCertificate.GetClientCertificate]. At most once per reload
// interval, that call compares the size, modification time and identity
// of both files with those last loaded, and loads them again when either
// changed. A reload that fails (a file missing or half written, a key that
// does not match the certificate) keeps the last good pair in use,
// reports the error through the OnReloadError callback and
// [ClientCertificate.ReloadError], and is tried again once the files
// change again.
//
// A ClientCertificate is safe for concurrent use. Create one with
// [LoadClientCertificate] or [NewTransport].
type ClientCertificate struct {
	certPath, keyPath string
	interval          time.Duration // <= 0: never reload
	onReload          func(*tls.Certificate)
	onReloadError     func(error)

	current   atomic.Pointer[loadedPair]
	nextCheck atomic.Int64 // unix nanoseconds of the next look at the files
	lastErr   atomic.Pointer[reloadFailure]

	mu       sync.Mutex // serialises reloads
	attempts fileStamps // the files as last tried, loaded or not
}

// loadedPair is one certificate and key as loaded from the files.
type loadedPair struct {
	cert       *tls.Certificate
	thumbprint string
}

type reloadFailure struct{ err error }

// fileStamp identifies one version of a file cheaply.
type fileStamp struct {
	info os.FileInfo
}

func (s fileStamp) same(o fileStamp) bool {
	if s.info == nil || o.info == nil {
		return s.info == nil && o.info == nil
	}
	return os.SameFile(s.info, o.info) &&
		s.info.Size() == o.info.Size() &&
		s.info.ModTime().Equal(o.info.ModTime())
}

type fileStamps struct{ cert, key fileStamp }

func (s fileStamps) same(o fileStamps) bool { return s.cert.same(o.cert) && s.key.same(o.key) }

// LoadClientCertificate reads the client certificate and key that cfg
// names and returns a ClientCertificate that reloads them, using
// cfg.ReloadInterval, cfg.OnReload and cfg.OnReloadError.
func LoadClientCertificate(cfg Config) (*ClientCertificate, error) {
	if cfg.ClientCertPath == "" || cfg.ClientKeyPath == "" {
		return nil, errors.New("client_cert_path and client_key_path must both be set")
	}
	interval := cfg.ReloadInterval
	if interval == 0 {
		interval = DefaultReloadInterval
	}
	c := &ClientCertificate{
		certPath:      cfg.ClientCertPath,
		keyPath:       cfg.ClientKeyPath,
		interval:      interval,
		onReload:      cfg.OnReload,
		onReloadError: cfg.OnReloadError,
	}
	stamps := c.stat()
	pair, err := c.load()
	if err != nil {
		return nil, err
	}
	c.attempts = stamps
	c.current.Store(pair)
	c.nextCheck.Store(time.Now().Add(interval).UnixNano())
	return c, nil
}

// GetClientCertificate returns the certificate to present in a TLS
// handshake, after reloading it if its files changed. It has the
// signature of tls.Config.GetClientCertificate and never fails: a failed
// reload keeps the previous certificate.
func (c *ClientCertificate) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.maybeReload()
	return c.current.Load().cert, nil
}

// Certificate returns the certificate in use: the one presented in the
// latest handshake, or loaded since. The caller must not modify it.
func (c *ClientCertificate) Certificate() *tls.Certificate { return c.current.Load().cert }

// Leaf returns the parsed end-entity certificate in use.
func (c *ClientCertificate) Leaf() *x509.Certificate { return c.current.Load().cert.Leaf }

// Thumbprint returns the x5t#S256 value of the certificate in use: the
// base64url-encoded SHA-256 hash of its DER encoding (RFC 8705 Section
// 3.1).
func (c *ClientCertificate) Thumbprint() string { return c.current.Load().thumbprint }

// ReloadError returns the error of the latest reload if it failed, or nil
// when the certificate in use comes from the current files.
func (c *ClientCertificate) ReloadError() error {
	if f := c.lastErr.Load(); f != nil {
		return f.err
	}
	return nil
}

// Reload reads the files now, whether they changed or not, and uses the
// pair they hold from the next handshake on. On error the previous pair
// stays in use and the error is returned as well as recorded.
func (c *ClientCertificate) Reload() error {
	c.mu.Lock()
	c.nextCheck.Store(time.Now().Add(c.interval).UnixNano())
	loaded, err := c.reloadLocked(c.stat())
	c.mu.Unlock()
	c.report(loaded, err)
	return err
}

// maybeReload looks at the files if the reload interval has passed, and
// reloads them if they changed. Only one goroutine looks per interval.
func (c *ClientCertificate) maybeReload() {
	if c.interval <= 0 {
		return
	}
	now := time.Now().UnixNano()
	next := c.nextCheck.Load()
	if now < next || !c.nextCheck.CompareAndSwap(next, now+int64(c.interval)) {
		return
	}
	c.mu.Lock()
	stamps := c.stat()
	if stamps.same(c.attempts) {
		c.mu.Unlock()
		return
	}
	loaded, err := c.reloadLocked(stamps)
	c.mu.Unlock()
	c.report(loaded, err)
}

// reloadLocked loads the files, which had the given stamps, and installs
// the pair or records the failure. It returns the new certificate when it
// differs from the previous one. c.mu must be held.
func (c *ClientCertificate) reloadLocked(stamps fileStamps) (*tls.Certificate, error) {
	c.attempts = stamps
	pair, err := c.load()
	if err != nil {
		err = fmt.Errorf("reload client certificate: %w; the previous certificate stays in use", err)
		c.lastErr.Store(&reloadFailure{err})
		return nil, err
	}
	c.lastErr.Store(nil)
	if old := c.current.Swap(pair); old.thumbprint == pair.thumbprint {
		return nil, nil
	}
	return pair.cert, nil
}

// report runs the callbacks for the outcome of a reload, outside c.mu so
// that they may use c.
func (c *ClientCertificate) report(loaded *tls.Certificate, err error) {
	switch {
	case err != nil && c.onReloadError != nil:
		c.onReloadError(err)
	case loaded != nil && c.onReload != nil:
		c.onReload(loaded)
	}
}

// stat records the files' current stamps; a file that cannot be read has
// a nil stamp, so that its reappearance counts as a change.
func (c *ClientCertificate) stat() fileStamps {
	var s fileStamps
	if fi, err := os.Stat(c.certPath); err == nil {
		s.cert.info = fi
	}
	if fi, err := os.Stat(c.keyPath); err == nil {
		s.key.info = fi
	}
	return s
}

// load reads and checks the certificate and key files.
func (c *ClientCertificate) load() (*loadedPair, error) {
	certPEM, err := os.ReadFile(c.certPath)
	if err != nil {
		return nil, fmt.Errorf("client_cert_path: %w", err)
	}
	keyPEM, err := os.ReadFile(c.keyPath)
	if err != nil {
		return nil, fmt.Errorf("client_key_path: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The error text names the problem (no PEM block, a key that
		// does not match) and never contains key material.
		return nil, fmt.Errorf("client certificate %s and key %s: %w", c.certPath, c.keyPath, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("client_cert_path: %s: %w", c.certPath, err)
		}
	}
	return &loadedPair{cert: &cert, thumbprint: Thumbprint(cert.Leaf)}, nil
}

// Thumbprint returns the x5t#S256 confirmation value of cert: the
// base64url encoding, without padding, of the SHA-256 hash of its DER
// encoding (RFC 8705 Section 3.1).
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
