package simulation

import (
	"context"
	"maps"
	"time"
)

// Counters count the requests to one endpoint, or of one grant type.
type Counters struct {
	// Requests is the number of requests received.
	Requests int `json:"requests"`
	// Succeeded is the number answered with success: 2xx, or a
	// redirection with a code from the authorization endpoint.
	Succeeded int `json:"succeeded"`
	// Failed is the number answered with an error, injected or not: an
	// error status, or a redirection with an error.
	Failed int `json:"failed"`
	// Injected is the number of Failed answers that an outage, a fault
	// or the error rate produced.
	Injected int `json:"injected"`
	// Abandoned is the number of requests whose client gave up while
	// they waited for their latency (BlockOnLatency); they got no answer.
	Abandoned int `json:"abandoned"`
}

func (c *Counters) add(x *Exchange) {
	c.Requests++
	switch {
	case x.Status == 0:
		c.Abandoned++
	case x.Status < 400 && x.Code == "":
		c.Succeeded++
	default:
		c.Failed++
		if x.Injected {
			c.Injected++
		}
	}
}

// Stats are the server's counters. They marshal to JSON.
type Stats struct {
	// Endpoints counts requests per endpoint.
	Endpoints map[Endpoint]Counters `json:"endpoints"`
	// Grants counts token requests per grant_type, as sent (an empty key
	// for requests without one).
	Grants map[string]Counters `json:"grants"`
	// AccessTokens and RefreshTokens are the numbers of tokens issued.
	AccessTokens  int `json:"access_tokens_issued"`
	RefreshTokens int `json:"refresh_tokens_issued"`
	// Latency is the total simulated latency of all requests.
	Latency time.Duration `json:"latency_ns"`
}

func newStats() Stats {
	return Stats{Endpoints: make(map[Endpoint]Counters), Grants: make(map[string]Counters)}
}

func (st *Stats) clone() Stats {
	c := *st
	c.Endpoints = maps.Clone(st.Endpoints)
	c.Grants = maps.Clone(st.Grants)
	return c
}

// Exchange is one request the server received, as the exchange log keeps
// it.
type Exchange struct {
	// At is the virtual time the request arrived.
	At time.Time `json:"at"`
	// Endpoint is the endpoint it was sent to.
	Endpoint Endpoint `json:"endpoint"`
	// Grant is the grant_type of a token request.
	Grant string `json:"grant,omitempty"`
	// Status is the HTTP status of the answer; 0 for an abandoned request.
	Status int `json:"status"`
	// Code is the OAuth error code of an error answer.
	Code string `json:"code,omitempty"`
	// Injected reports an answer from an outage, a fault or the error
	// rate.
	Injected bool `json:"injected,omitempty"`
	// Latency is the simulated latency of the exchange.
	Latency time.Duration `json:"latency_ns"`
}

// MaxExchanges is the number of exchanges the log keeps; older ones are
// dropped (the counters keep counting).
const MaxExchanges = 10000

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

// Exchanges returns the logged exchanges, oldest first.
func (s *Server) Exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.log...)
}

// ResetStats zeroes the counters and empties the exchange log. Issued
// tokens, outages and faults are kept.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = newStats()
	s.log = nil
	s.answered = make(map[Endpoint]int)
	s.mu.Unlock()
}

// AwaitRequests waits, in real time, until the server has answered (or
// seen abandoned) at least n requests to ep since it started or since the
// last ResetStats, or ctx ends. Tests use it to know that a request sent
// by a background goroutine, such as an early refresh, has been answered.
func (s *Server) AwaitRequests(ctx context.Context, ep Endpoint, n int) error {
	for {
		s.mu.Lock()
		if s.answered[ep] >= n {
			s.mu.Unlock()
			return nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// recordLocked counts x and logs it; s.mu is held.
func (s *Server) recordLocked(x Exchange) {
	ep := s.stats.Endpoints[x.Endpoint]
	ep.add(&x)
	s.stats.Endpoints[x.Endpoint] = ep
	if x.Endpoint == EndpointToken {
		g := s.stats.Grants[x.Grant]
		g.add(&x)
		s.stats.Grants[x.Grant] = g
	}
	s.stats.Latency += x.Latency
	if len(s.log) == MaxExchanges {
		s.log = append(s.log[:0], s.log[1:]...)
	}
	s.log = append(s.log, x)
	s.answered[x.Endpoint]++
	close(s.changed)
	s.changed = make(chan struct{})
}
