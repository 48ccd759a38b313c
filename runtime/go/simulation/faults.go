package simulation

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// Outage is a window of virtual time, [From, Until), during which the
// server answers every request to the listed endpoints with Status and
// Retry-After instead of serving it.
type Outage struct {
	// From is when the outage begins.
	From time.Time
	// Until is when it ends; it must be after From.
	Until time.Time
	// Status is the HTTP status of the answers. Zero means 503 Service
	// Unavailable.
	Status int
	// RetryAfter, when positive, is sent as Retry-After in seconds,
	// rounded up (RFC 9110 Section 10.2.3).
	RetryAfter time.Duration
	// Endpoints are the endpoints that are down. Empty means all of them,
	// metadata included.
	Endpoints []Endpoint
}

// covers reports whether the outage answers a request to ep at now.
func (o *Outage) covers(ep Endpoint, now time.Time) bool {
	return !now.Before(o.From) && now.Before(o.Until) && (len(o.Endpoints) == 0 || slices.Contains(o.Endpoints, ep))
}

// AddOutage schedules an outage. An outage whose Until is not after From,
// or whose Status is not an HTTP error status, is an invalid_config error.
func (s *Server) AddOutage(o Outage) error {
	if !o.Until.After(o.From) {
		return configError(fmt.Sprintf("outage ends at %v, not after it begins at %v", o.Until, o.From))
	}
	if o.Status == 0 {
		o.Status = http.StatusServiceUnavailable
	}
	if err := checkFailure(o.Status, o.RetryAfter, o.Endpoints); err != nil {
		return err
	}
	o.Endpoints = slices.Clone(o.Endpoints)
	s.mu.Lock()
	s.outages = append(s.outages, o)
	s.mu.Unlock()
	return nil
}

// ClearOutages cancels every scheduled outage, including one in progress.
func (s *Server) ClearOutages() {
	s.mu.Lock()
	s.outages = nil
	s.mu.Unlock()
}

// Fault is an injected answer: the next Times requests that match it get
// Status, with an OAuth error object (RFC 6749 Section 5.2) when Code is
// set, instead of being served.
type Fault struct {
	// Endpoint is the endpoint whose requests fail. Empty means any
	// endpoint but metadata.
	Endpoint Endpoint
	// Grant, when set, limits the fault to token requests with this
	// grant_type, such as GrantRefreshToken.
	Grant string
	// Status is the HTTP status of the answer, from 400 to 599: 429 or
	// 503 with RetryAfter for throttling, 500 for a server error, 400 with
	// Code invalid_grant for a rejected refresh token.
	Status int
	// Code is the OAuth error code of the answer's body. Empty sends a
	// body that is not an OAuth error object, as a proxy or load balancer
	// does. An invalid_grant answer to a refresh request also revokes the
	// refresh token presented, and its grant, so that the server's state
	// agrees with the answer.
	Code string
	// Description is the error_description of the body.
	Description string
	// RetryAfter, when positive, is sent as Retry-After in seconds,
	// rounded up.
	RetryAfter time.Duration
	// Times is how many matching requests the fault answers. Zero means
	// one.
	Times int
}

// pendingFault is an injected fault and the answers it has left.
type pendingFault struct {
	Fault
	left int
}

// matches reports whether the fault answers a request to ep with grant.
func (f *pendingFault) matches(ep Endpoint, grant string) bool {
	if f.Endpoint == "" {
		if ep == EndpointMetadata {
			return false
		}
	} else if f.Endpoint != ep {
		return false
	}
	return f.Grant == "" || (ep == EndpointToken && f.Grant == grant)
}

// Inject queues a fault; faults answer matching requests in the order they
// were injected. A fault with a status outside 400-599, a negative Times
// or RetryAfter, an unknown endpoint or a Code that is not an error code
// is an invalid_config error.
func (s *Server) Inject(f Fault) error {
	var eps []Endpoint
	if f.Endpoint != "" {
		eps = []Endpoint{f.Endpoint}
	}
	if err := checkFailure(f.Status, f.RetryAfter, eps); err != nil {
		return err
	}
	if f.Times < 0 {
		return configError(fmt.Sprintf("fault times %d is negative", f.Times))
	}
	if strings.ContainsAny(f.Code, " \t\r\n\"\\") {
		return configError(fmt.Sprintf("fault code %q is not an OAuth error code", f.Code))
	}
	pf := &pendingFault{Fault: f, left: max(f.Times, 1)}
	s.mu.Lock()
	s.faults = append(s.faults, pf)
	s.mu.Unlock()
	return nil
}

// ClearFaults drops every injected fault that has answers left.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func checkFailure(status int, retryAfter time.Duration, eps []Endpoint) error {
	if status < 400 || status > 599 {
		return configError(fmt.Sprintf("status %d is not an HTTP error status: want 400 to 599", status))
	}
	if retryAfter < 0 {
		return configError(fmt.Sprintf("retry-after %v is negative", retryAfter))
	}
	for _, ep := range eps {
		if !slices.Contains(endpoints, ep) {
			return configError(fmt.Sprintf("unknown endpoint %q: want one of %s", ep, quotedEndpoints()))
		}
	}
	return nil
}

func configError(description string) *oautherr.Error {
	return &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: "simulation: " + description}
}

// injectedLocked returns the answer of an outage, a fault or the error
// rate to a request to ep with grant and form at now, or nil when the
// request is to be served; s.mu is held.
func (s *Server) injectedLocked(ep Endpoint, grant string, form url.Values, now time.Time) *answer {
	for i := range s.outages {
		if o := &s.outages[i]; o.covers(ep, now) {
			return failureAnswer(o.Status, oautherr.CodeTemporarilyUnavailable, "simulated outage until "+o.Until.UTC().Format(time.RFC3339), o.RetryAfter)
		}
	}
	for i, f := range s.faults {
		if f.matches(ep, grant) {
			if f.left--; f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			if grant == GrantRefreshToken && f.Code == oautherr.CodeInvalidGrant {
				// The answer says the refresh token is dead: make it so.
				if t := s.tokens[form.Get("refresh_token")]; t != nil && t.refresh {
					t.family.revoked = true
				}
			}
			return failureAnswer(f.Status, f.Code, f.Description, f.RetryAfter)
		}
	}
	if rate := s.cfg.ErrorRate; rate > 0 && ep != EndpointMetadata && s.rng.Float64() < rate {
		return failureAnswer(http.StatusServiceUnavailable, oautherr.CodeTemporarilyUnavailable, "simulated error (error_rate)", 0)
	}
	return nil
}

// failureAnswer is an injected error answer. An empty code sends a body
// that is not an OAuth error object.
func failureAnswer(status int, code, description string, retryAfter time.Duration) *answer {
	var a *answer
	if code == "" {
		a = &answer{status: status, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: []byte(http.StatusText(status) + " (simulated)\n")}
	} else {
		a = errorAnswer(status, code, description)
	}
	a.injected = true
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		a.header.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	return a
}

// latencyLocked draws the latency of the next exchange; s.mu is held.
func (s *Server) latencyLocked() time.Duration {
	mean, jitter := s.cfg.Latency, s.cfg.LatencyJitter
	if jitter == 0 {
		return mean
	}
	d := mean + time.Duration((s.rng.Float64()*2-1)*float64(jitter))
	return max(d, 0)
}
