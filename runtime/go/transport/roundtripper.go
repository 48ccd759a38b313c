package transport

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// maxDrainBytes is how much of a rejected response's body is read before
// the retry, so that its connection can be reused.
const maxDrainBytes = 4 << 10

// Transport is an http.RoundTripper that adds the Authorization header
// with the access token of Source to every request (RFC 6750 Section
// 2.1), as x/oauth2's Transport does.
//
// When the resource server answers 401 Unauthorized, the token was
// rejected (RFC 6750 Section 3.1): Transport calls Invalidate with it,
// takes a fresh token from Source and sends the request once more, if the
// request body can be sent again (it is empty or the request has GetBody,
// as requests built by http.NewRequest with an in-memory body do). If the
// source returns the same token again, or the body cannot be replayed,
// the 401 response is returned as it is.
//
// Set the fields before first use; a Transport must not be copied after
// first use. It is safe for concurrent use. Over the base transport it
// costs three allocations per request with up to seven header fields: the
// copy of the request and its header map (the header value is built once
// per token). A larger header map costs two more.
type Transport struct {
	// Source supplies the access tokens. It is called with the request's
	// context.
	Source token.Source
	// Base sends the requests. Nil means http.DefaultTransport.
	Base http.RoundTripper
	// Invalidate is called with a token that a resource server rejected
	// with 401, before a fresh token is requested. It should discard the
	// token from the source's cache if it is still the current one, so
	// that the source obtains a new one. Nil turns the retry off.
	Invalidate func(rejected *token.Token)

	header atomic.Pointer[authorization]
}

// authorization is the Authorization header value of one token.
type authorization struct {
	tok   *token.Token
	value []string
}

// RoundTrip sends req with the access token, retrying once with a fresh
// token after a 401 as described on [Transport]. Errors from Source are
// returned unchanged. req is not modified, and its body is closed, as
// http.RoundTripper requires, even on errors.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.Source.Token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base().RoundTrip(t.authorize(req, tok, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || t.Invalidate == nil || !replayable(req) {
		return resp, err
	}

	t.Invalidate(tok)
	fresh, err := t.Source.Token(req.Context())
	if err != nil || fresh == tok {
		// No other token to try: the server's answer stands.
		return resp, nil
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	resp.Body.Close()
	return t.base().RoundTrip(t.authorize(req, fresh, body))
}

// CloseIdleConnections closes the idle connections of the base transport,
// if it has such a method, so that http.Client.CloseIdleConnections works
// through a Transport.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// authorize returns a shallow copy of req with body and a new header map
// that adds the Authorization header. The header values are shared with
// req: round trippers must not modify a request's headers.
func (t *Transport) authorize(req *http.Request, tok *token.Token, body io.ReadCloser) *http.Request {
	r := new(http.Request)
	*r = *req
	r.Body = body
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v
	}
	h["Authorization"] = t.headerValue(tok)
	r.Header = h
	return r
}

// headerValue returns the Authorization header value for tok, building
// it only when the token changed.
func (t *Transport) headerValue(tok *token.Token) []string {
	if a := t.header.Load(); a != nil && a.tok == tok {
		return a.value
	}
	a := &authorization{tok: tok, value: []string{tok.AuthorizationHeader()}}
	t.header.Store(a)
	return a.value
}

// replayable reports whether req's body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
