package discovery

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

// TestConnectionOperation is the operation id that connection checks
// carry in oautherr.Error.Op.
const TestConnectionOperation = "test_connection"

// Names of the checks in a ConnectionReport.
const (
	CheckMetadata      = "metadata"
	CheckServer        = "server"
	CheckAuthorization = "authorization_endpoint"
	CheckToken         = "token_endpoint"
	CheckRevocation    = "revocation_endpoint"
	CheckIntrospection = "introspection_endpoint"
)

// maxProbeBody is how much of a probe's response body is read, so that the
// connection can be reused.
const maxProbeBody = 64 << 10

// EndpointCheck is the outcome of probing one URL.
type EndpointCheck struct {
	// Name says what was probed: one of the Check constants.
	Name string
	// URL is the URL probed.
	URL string
	// StatusCode is the HTTP status of the answer, or 0 when none
	// arrived.
	StatusCode int
	// Latency is how long the answer took, or how long the attempt took
	// when it failed.
	Latency time.Duration
	// Err is nil when the endpoint answered with a status below 500, and
	// otherwise an [*oautherr.Error] saying what went wrong.
	Err error
}

// Answered reports whether an HTTP response arrived, whatever its
// status.
func (c *EndpointCheck) Answered() bool { return c.StatusCode != 0 }

// OK reports whether the endpoint answered with a status below 500.
func (c *EndpointCheck) OK() bool { return c.Err == nil }

// ConnectionReport is the result of the test_connection operation: one
// check of the server, then one per known endpoint.
type ConnectionReport struct {
	// Server is the check of the server itself: its metadata document
	// when discovery is used, else a GET of server_url.
	Server EndpointCheck
	// Endpoints are the checks of the known endpoints, in the order
	// authorization, token, revocation, introspection, leaving out the
	// unknown ones.
	Endpoints []EndpointCheck
}

// OK reports whether the server and every endpoint answered with a
// status below 500.
func (r *ConnectionReport) OK() bool { return r.Err() == nil }

// Err returns the error of the first failed check, or nil when every
// check passed.
func (r *ConnectionReport) Err() error {
	if r.Server.Err != nil {
		return r.Server.Err
	}
	for i := range r.Endpoints {
		if err := r.Endpoints[i].Err; err != nil {
			return err
		}
	}
	return nil
}

// CheckConnection probes serverURL and each endpoint in endpoints that is
// set, concurrently, and reports which of them answer. Each probe is a GET
// without credentials that does not follow redirects; an endpoint that
// answers with an OAuth error, a 405 or a redirect counts as reachable,
// one that answers 5xx or not at all does not. Probes are bounded by ctx
// and by hc's timeout. Certificates configured on hc are presented as in
// any TLS handshake.
func CheckConnection(ctx context.Context, hc *http.Client, serverURL string, endpoints Endpoints) *ConnectionReport {
	r := &ConnectionReport{}
	var wg sync.WaitGroup
	wg.Go(func() { r.Endpoints = probeEndpoints(ctx, hc, endpoints) })
	r.Server = probe(ctx, hc, CheckServer, serverURL)
	wg.Wait()
	return r
}

// CheckConnection runs the test_connection operation for a client that
// discovers its endpoints: the server check fetches the metadata document
// anew (updating the cache on success), and the endpoints that configured
// leaves empty are taken from it, with the mutual-TLS aliases when mtls is
// set. When the metadata cannot be fetched, only the configured endpoints
// are probed.
func (c *Cache) CheckConnection(ctx context.Context, configured Endpoints, mtls bool) *ConnectionReport {
	r := &ConnectionReport{}
	start := time.Now()
	md, err := c.Refresh(ctx)
	r.Server = EndpointCheck{Name: CheckMetadata, Latency: time.Since(start)}
	endpoints := configured
	if err != nil {
		r.Server.Err = asTestConnection(err)
		var oerr *oautherr.Error
		if errors.As(err, &oerr) {
			r.Server.StatusCode = oerr.StatusCode
		}
		if urls, uerr := MetadataURLs(c.ServerURL); uerr == nil {
			r.Server.URL = urls[0]
		}
	} else {
		r.Server.URL = md.Source
		r.Server.StatusCode = http.StatusOK
		endpoints = configured.WithDefaults(md.Endpoints(mtls))
	}
	r.Endpoints = probeEndpoints(ctx, c.HTTPClient, endpoints)
	return r
}

// probeEndpoints probes the endpoints that are set, concurrently, and
// returns their checks in the order of the Endpoints fields.
func probeEndpoints(ctx context.Context, hc *http.Client, e Endpoints) []EndpointCheck {
	var checks []EndpointCheck
	for _, c := range []EndpointCheck{
		{Name: CheckAuthorization, URL: e.Authorization},
		{Name: CheckToken, URL: e.Token},
		{Name: CheckRevocation, URL: e.Revocation},
		{Name: CheckIntrospection, URL: e.Introspection},
	} {
		if c.URL != "" {
			checks = append(checks, c)
		}
	}
	var wg sync.WaitGroup
	for i := range checks {
		wg.Go(func() { checks[i] = probe(ctx, hc, checks[i].Name, checks[i].URL) })
	}
	wg.Wait()
	return checks
}

// probe GETs u without credentials and without following redirects.
func probe(ctx context.Context, hc *http.Client, name, u string) EndpointCheck {
	check := EndpointCheck{Name: name, URL: u}
	if hc == nil {
		hc = http.DefaultClient
	}
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		check.Err = &oautherr.Error{Op: TestConnectionOperation, Code: oautherr.CodeInvalidConfig, Description: name + " URL cannot be used", Err: err}
		return check
	}
	start := time.Now()
	resp, err := noRedirects.Do(req)
	if err != nil {
		check.Latency = time.Since(start)
		check.Err = asTestConnection(transportError(ctx, name+" at "+u+" did not answer", err))
		return check
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	check.Latency = time.Since(start)
	check.StatusCode = resp.StatusCode
	if resp.StatusCode >= 500 {
		code := oautherr.CodeServerError
		if resp.StatusCode == http.StatusServiceUnavailable {
			code = oautherr.CodeTemporarilyUnavailable
		}
		check.Err = &oautherr.Error{
			Op:          TestConnectionOperation,
			Code:        code,
			Description: name + " at " + u + " answered " + statusText(resp.StatusCode),
			StatusCode:  resp.StatusCode,
			RetryAfter:  tokenendpoint.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Retryable:   true,
		}
	}
	return check
}

// asTestConnection relabels a discovery error as a test_connection one.
func asTestConnection(err error) error {
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		return err
	}
	relabelled := *oerr
	relabelled.Op = TestConnectionOperation
	return &relabelled
}
