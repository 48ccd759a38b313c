// Package mtls implements the client side of OAuth 2.0 Mutual-TLS Client
// Authentication and Certificate-Bound Access Tokens (RFC 8705).
//
// [NewHTTPClient] and [NewTransport] build the HTTP client that talks to
// the authorization server from the configuration fields client_cert_path,
// client_key_path, ca_cert_path, verify_ssl and timeout_ms. When a client
// certificate is configured it is presented through
// tls.Config.GetClientCertificate by a [ClientCertificate], which reloads
// the PEM files when they change on disk, so that a rotated certificate is
// used without restarting the program (RFC 8705 Section 2 authenticates
// the client by the certificate of the TLS connection).
//
// A certificate-bound access token (RFC 8705 Section 3) carries the
// SHA-256 thumbprint of the client certificate in its "cnf" claim, as the
// "x5t#S256" confirmation method (Section 3.1). The resource server
// rejects the token over any connection that presents another
// certificate, so the client checks the binding itself right after it
// obtains a token: [ClientCertificate.CheckToken] for JWT access tokens
// and [ClientCertificate.CheckConfirmation] for the "cnf" member of an
// introspection response (Section 3.2).
package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// DefaultReloadInterval is how often, at most, a [ClientCertificate]
// looks at its files for changes when Config.ReloadInterval is zero.
const DefaultReloadInterval = 10 * time.Second

// Config configures the HTTP client of an OAuth 2.0 client. Its zero value
// is a client that verifies the server's certificate against the system
// roots, presents no client certificate and has no timeout.
type Config struct {
	// ClientCertPath is the PEM file with the client certificate, followed
	// by any intermediate certificates (client_cert_path). Empty means no
	// client certificate.
	ClientCertPath string
	// ClientKeyPath is the PEM file with the private key of the client
	// certificate (client_key_path). It is required with ClientCertPath.
	ClientKeyPath string
	// CACertPath is a PEM bundle of the certificate authorities trusted
	// for the server's certificate (ca_cert_path). Empty means the
	// system's roots.
	CACertPath string
	// InsecureSkipVerify turns off the verification of the server's
	// certificate (verify_ssl: false). Use it only against a local test
	// server.
	InsecureSkipVerify bool
	// Timeout bounds each HTTP exchange, from dialling to reading the
	// whole response body (timeout_ms). Zero means no timeout.
	Timeout time.Duration
	// ReloadInterval is the shortest time between two looks at the
	// certificate and key files. Zero means DefaultReloadInterval; a
	// negative value turns reloading off.
	ReloadInterval time.Duration
	// OnReload, if set, is called after a changed certificate was loaded,
	// with the new certificate. Connections opened before keep the old
	// certificate; the transport built by NewTransport closes its idle
	// connections before OnReload is called. Tokens bound to the old
	// certificate (RFC 8705 Section 3) stop working, so a token cache
	// should be cleared here.
	OnReload func(cert *tls.Certificate)
	// OnReloadError, if set, is called when changed files could not be
	// loaded. The previous certificate stays in use.
	OnReloadError func(err error)
}

// Validate reports the first configuration error in c, or nil. It does
// not read the files.
func (c *Config) Validate() error {
	switch {
	case c.ClientCertPath != "" && c.ClientKeyPath == "":
		return errors.New("client_key_path is empty but client_cert_path is set: a client certificate needs its private key")
	case c.ClientCertPath == "" && c.ClientKeyPath != "":
		return errors.New("client_cert_path is empty but client_key_path is set: a private key needs its client certificate")
	case c.Timeout < 0:
		return fmt.Errorf("timeout %v is negative", c.Timeout)
	}
	return nil
}

// NewTransport returns an HTTP transport configured by cfg, and the
// client certificate it presents, or nil when cfg has none. The transport
// has the settings of http.DefaultTransport, accepts TLS 1.2 or later, and
// closes its idle connections when the certificate is reloaded, so that
// new requests present the new certificate.
//
// Errors are configuration errors: an unreadable or invalid file, or a
// certificate that does not match its key.
func NewTransport(cfg Config) (*http.Transport, *ClientCertificate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.InsecureSkipVerify {
		tlsConfig.InsecureSkipVerify = true // configured explicitly with verify_ssl: false
	}
	if cfg.CACertPath != "" {
		pool, err := LoadCertPool(cfg.CACertPath)
		if err != nil {
			return nil, nil, err
		}
		tlsConfig.RootCAs = pool
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig

	var cert *ClientCertificate
	if cfg.ClientCertPath != "" {
		onReload := cfg.OnReload
		cfg.OnReload = func(c *tls.Certificate) {
			tr.CloseIdleConnections()
			if onReload != nil {
				onReload(c)
			}
		}
		var err error
		if cert, err = LoadClientCertificate(cfg); err != nil {
			return nil, nil, err
		}
		tlsConfig.GetClientCertificate = cert.GetClientCertificate
	}
	return tr, cert, nil
}

// NewHTTPClient returns an HTTP client that sends requests through
// NewTransport(cfg) with cfg.Timeout, and the client certificate it
// presents, or nil when cfg has none.
func NewHTTPClient(cfg Config) (*http.Client, *ClientCertificate, error) {
	tr, cert, err := NewTransport(cfg)
	if err != nil {
		return nil, nil, err
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}, cert, nil
}

// LoadCertPool reads a PEM bundle of certificate authorities. A file
// without any certificate is an error.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_cert_path: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("ca_cert_path: %s holds no PEM certificate", path)
	}
	return pool, nil
}
