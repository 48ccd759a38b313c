package debug

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
)

// MaxBodyBytes is how much of a request or response body a trace keeps;
// the rest still reaches the client, untraced.
const MaxBodyBytes = 64 << 10

// Trace is one exchange with the authorization server, redacted unless
// log_tokens is set.
type Trace struct {
	// ID numbers the traces of a Debugger from 1, in the order the
	// requests were sent; the log records of an exchange carry it as
	// trace_id.
	ID uint64 `json:"id"`
	// Operation is the operation that sent the request, when its context
	// came from WithOperation.
	Operation string `json:"operation,omitempty"`
	// Start is when the request was sent.
	Start time.Time `json:"start"`
	// DurationSeconds is the time until the response headers, or the
	// error, arrived.
	DurationSeconds float64 `json:"duration_seconds"`
	// Request is the request; nil without trace_requests.
	Request *TraceRequest `json:"request,omitempty"`
	// Response is the response; nil without trace_responses or when the
	// exchange failed.
	Response *TraceResponse `json:"response,omitempty"`
	// Error is the transport error of a failed exchange; only with
	// trace_responses.
	Error string `json:"error,omitempty"`
}

// TraceRequest is a traced request.
type TraceRequest struct {
	// Method is the HTTP method.
	Method string `json:"method"`
	// URL is the request URL.
	URL string `json:"url"`
	// Headers are the request headers.
	Headers map[string][]string `json:"headers,omitempty"`
	// Body is the body: a map[string][]string for a form, the decoded
	// value for JSON, text otherwise.
	Body any `json:"body,omitempty"`
	// Truncated reports that the body was longer than MaxBodyBytes.
	Truncated bool `json:"truncated,omitempty"`
}

// TraceResponse is a traced response.
type TraceResponse struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Headers are the response headers.
	Headers map[string][]string `json:"headers,omitempty"`
	// Body is the body, decoded as for TraceRequest.
	Body any `json:"body,omitempty"`
	// Truncated reports that the body was longer than MaxBodyBytes.
	Truncated bool `json:"truncated,omitempty"`
}

// sensitiveParams are the form parameters, query parameters and JSON
// members whose values are credentials.
var sensitiveParams = map[string]bool{
	"client_secret":             true, // RFC 6749 Section 2.3.1
	"client_assertion":          true, // RFC 7523 Section 2.2
	"assertion":                 true, // RFC 7523 Section 2.1
	"code":                      true, // RFC 6749 Section 4.1.3
	"code_verifier":             true, // RFC 7636 Section 4.5
	"password":                  true, // RFC 6749 Section 4.3.2
	"access_token":              true, // RFC 6749 Section 5.1
	"refresh_token":             true, // RFC 6749 Sections 5.1 and 6
	"id_token":                  true, // OpenID Connect Core Section 3.1.3.3
	"token":                     true, // RFC 7009 Section 2.1, RFC 7662 Section 2.1
	"subject_token":             true, // RFC 8693 Section 2.1
	"actor_token":               true, // RFC 8693 Section 2.1
	"device_code":               true, // RFC 8628 Section 3.4
	"registration_access_token": true, // RFC 7591 Section 3.2.1
}

// sensitiveHeaders are the headers whose values are credentials.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"Dpop":                true,
}

// WrapTransport returns base wrapped in the tracing transport, for
// authcore.Config.WrapTransport. With neither trace_requests nor
// trace_responses it returns base itself. A nil base is
// http.DefaultTransport.
func (d *Debugger) WrapTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !d.opts.TraceRequests && !d.opts.TraceResponses {
		return base
	}
	return &transport{d: d, base: base}
}

// transport traces the exchanges it forwards to base.
type transport struct {
	d    *Debugger
	base http.RoundTripper
}

// RoundTrip sends req through the base transport and traces the exchange.
// It reads a request body without GetBody into memory to trace it; the
// response body it traces is read up to MaxBodyBytes before RoundTrip
// returns, the rest as the caller reads it.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	d := t.d
	ctx := req.Context()
	tr := Trace{ID: d.seq.Add(1), Operation: OperationFrom(ctx), Start: time.Now()}
	r := &redactor{show: d.opts.LogTokens}

	body, truncated, out := requestBody(req)
	headers, urlText := r.headers(req.Header), r.url(req.URL)
	formBody := r.body(body, req.Header.Get("Content-Type"))
	if d.opts.TraceRequests {
		tr.Request = &TraceRequest{Method: req.Method, URL: urlText, Headers: headers, Body: formBody, Truncated: truncated}
		d.logTrace(ctx, "coyote auth request",
			slog.Uint64("trace_id", tr.ID), slog.String("operation", tr.Operation),
			slog.String("method", req.Method), slog.String("url", urlText),
			slog.Any("headers", headers), slog.Any("body", formBody))
	}

	resp, err := t.base.RoundTrip(out)
	elapsed := time.Since(tr.Start)
	tr.DurationSeconds = elapsed.Seconds()
	if err != nil {
		if d.opts.TraceResponses {
			tr.Error = r.scrub(err.Error())
			d.logTrace(ctx, "coyote auth exchange failed",
				slog.Uint64("trace_id", tr.ID), slog.String("operation", tr.Operation),
				slog.Float64("duration_seconds", tr.DurationSeconds), slog.String("error", tr.Error))
		}
		d.keep(tr)
		return nil, err
	}
	if d.opts.TraceResponses {
		data, truncated := responseBody(resp)
		rb := r.body(data, resp.Header.Get("Content-Type"))
		rh := r.headers(resp.Header)
		tr.Response = &TraceResponse{Status: resp.StatusCode, Headers: rh, Body: rb, Truncated: truncated}
		d.logTrace(ctx, "coyote auth response",
			slog.Uint64("trace_id", tr.ID), slog.String("operation", tr.Operation),
			slog.Int("status", resp.StatusCode), slog.Float64("duration_seconds", tr.DurationSeconds),
			slog.Any("headers", rh), slog.Any("body", rb))
	}
	d.keep(tr)
	return resp, nil
}

// requestBody returns up to MaxBodyBytes of req's body and the request to
// send: req itself when its body can be read again through GetBody, or a
// copy whose body replays what was read.
func requestBody(req *http.Request) (data []byte, truncated bool, out *http.Request) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, false, req
	}
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			data, truncated, _ = readPrefix(rc)
			rc.Close()
			return data, truncated, req
		}
	}
	data, truncated, rest := readPrefix(req.Body)
	out = req.Clone(req.Context())
	out.Body = readCloser{io.MultiReader(bytes.NewReader(data), rest), req.Body}
	return data, truncated, out
}

// responseBody reads up to MaxBodyBytes of resp's body and puts them back
// in front of the rest.
func responseBody(resp *http.Response) ([]byte, bool) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil, false
	}
	data, truncated, rest := readPrefix(resp.Body)
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(data), rest), resp.Body}
	return data, truncated
}

// readPrefix reads up to MaxBodyBytes from r and returns them, whether r
// had more, and a reader of what follows them (including any read
// error).
func readPrefix(r io.Reader) ([]byte, bool, io.Reader) {
	var buf bytes.Buffer
	_, err := io.CopyN(&buf, r, MaxBodyBytes+1)
	data := buf.Bytes()
	rest := r
	if err != nil && err != io.EOF {
		rest = errReader{err}
	}
	if len(data) > MaxBodyBytes {
		return data[:MaxBodyBytes], true, io.MultiReader(bytes.NewReader(data[MaxBodyBytes:]), rest)
	}
	return data, false, rest
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// redactor redacts the credentials of one exchange and remembers them, so
// that they can be scrubbed from free text too.
type redactor struct {
	show  bool
	known []string
}

// secret returns v redacted, remembering it.
func (r *redactor) secret(v string) string {
	if r.show || v == "" {
		return v
	}
	r.known = append(r.known, v)
	if u, err := url.QueryUnescape(v); err == nil && u != v {
		r.known = append(r.known, u)
	}
	return secret.Redacted
}

// scrub replaces every remembered credential in s.
func (r *redactor) scrub(s string) string {
	if r.show {
		return s
	}
	for _, v := range r.known {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, secret.Redacted)
		}
	}
	return s
}

// headers returns a redacted copy of h. Authorization headers keep their
// scheme: "Basic [REDACTED]"; a Location header has its credential query
// parameters redacted, like a request URL.
func (r *redactor) headers(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Location" {
			red := make([]string, len(vs))
			for i, v := range vs {
				if u, err := url.Parse(v); err == nil {
					red[i] = r.url(u)
				} else {
					red[i] = r.scrub(v)
				}
			}
			out[ck] = red
			continue
		}
		if !sensitiveHeaders[ck] {
			out[ck] = append([]string(nil), vs...)
			continue
		}
		red := make([]string, len(vs))
		for i, v := range vs {
			red[i] = r.header(ck, v)
		}
		out[ck] = red
	}
	return out
}

func (r *redactor) header(name, v string) string {
	if name != "Authorization" && name != "Proxy-Authorization" {
		return r.secret(v)
	}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return r.secret(v)
	}
	if strings.EqualFold(scheme, "Basic") && !r.show {
		// Remember the decoded secret too (RFC 6749 Section 2.3.1 form-
		// encodes it first), in case a response echoes it.
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok {
				r.secret(pw)
			}
		}
	}
	return scheme + " " + r.secret(cred)
}

// url returns u with its sensitive query parameters and password redacted.
func (r *redactor) url(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has && !r.show {
			r.secret(mustPassword(c.User))
			c.User = url.UserPassword(c.User.Username(), secret.Redacted)
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err == nil {
			r.form(q)
			c.RawQuery = q.Encode()
		} else {
			c.RawQuery = r.scrub(c.RawQuery)
		}
	}
	return c.String()
}

func mustPassword(u *url.Userinfo) string {
	pw, _ := u.Password()
	return pw
}

// form redacts the sensitive parameters of q in place.
func (r *redactor) form(q url.Values) {
	for k, vs := range q {
		if sensitiveParams[k] {
			for i, v := range vs {
				vs[i] = r.secret(v)
			}
		}
	}
}

// body decodes and redacts a body of the given content type: a form, JSON,
// or text from which the exchange's known credentials are scrubbed.
func (r *redactor) body(data []byte, contentType string) any {
	if len(data) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(data)
	switch {
	case mt == "application/x-www-form-urlencoded":
		if q, err := url.ParseQuery(string(data)); err == nil {
			r.form(q)
			return map[string][]string(q)
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		(len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')):
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil {
			return r.json(v, false)
		}
	}
	return r.scrub(string(data))
}

// json redacts the values of sensitive members of v, a decoded JSON
// value; all is set inside a sensitive member.
func (r *redactor) json(v any, all bool) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = r.json(e, all || sensitiveParams[k])
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = r.json(e, all)
		}
		return v
	case string:
		if all {
			return r.secret(v)
		}
		return r.scrub(v)
	}
	if all && v != nil && !r.show {
		return secret.Redacted
	}
	return v
}
