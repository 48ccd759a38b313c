package cassette

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
)

// MaxBodyBytes is the longest request or response body a Recorder keeps;
// the exchange itself is not limited, and the recorded body is cut at
// this length.
const MaxBodyBytes = 4 << 20

// ErrRecorderClosed is the transport error of requests sent through a
// Recorder after its Close; the runtime reports it wrapped in an
// [*oautherr.Error].
var ErrRecorderClosed = errors.New("cassette: the recorder is closed")

// Recorder records every HTTP exchange of the transports it wraps into a
// cassette, redacting secrets as it goes, and writes the cassette to Path
// on Save and Close.
//
// Set the fields before first use; a Recorder must not be copied after
// first use. It is safe for concurrent use, and one Recorder may wrap the
// transports of several clients: interactions are kept in the order their
// responses complete. Exchanges that fail without a response are not
// recorded.
type Recorder struct {
	// Path is the file the cassette is written to: the record mode's
	// cassette_path.
	Path string
	// SDKVersion is the recorder.version of the cassette, the version of
	// the generated package. Empty means the version of this module from
	// the build information, or "devel".
	SDKVersion string

	mu           sync.Mutex
	redact       *redactor
	interactions []Interaction
	closed       bool
}

// Wrap returns a transport that sends every request through next and
// records the exchange; use it as authcore.Config.WrapTransport. Nil next
// means http.DefaultTransport.
func (r *Recorder) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &recordingTransport{rec: r, next: next}
}

// Len returns the number of interactions recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.interactions)
}

// Cassette returns a copy of the cassette recorded so far.
func (r *Recorder) Cassette() *Cassette {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cassetteLocked()
}

func (r *Recorder) cassetteLocked() *Cassette {
	c := &Cassette{
		SchemaVersion: SchemaVersion,
		Recorder:      RecorderInfo{SDK: SDK, Version: r.sdkVersion()},
		Interactions:  make([]Interaction, len(r.interactions)),
	}
	for i, in := range r.interactions {
		c.Interactions[i] = in.clone()
		if r.redact != nil {
			// A secret first seen in a later interaction is replaced in
			// the earlier ones too.
			r.redact.sweep(&c.Interactions[i])
		}
	}
	return c
}

func (r *Recorder) sdkVersion() string {
	if r.SDKVersion != "" {
		return r.SDKVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
			if m.Path == "github.com/coyotesense/coyotegen" && m.Version != "" && m.Version != "(devel)" {
				return strings.TrimPrefix(m.Version, "v")
			}
		}
	}
	return "devel"
}

// Save writes the cassette recorded so far to Path, atomically (see
// [Cassette.WriteFile]). Recording goes on.
func (r *Recorder) Save() error {
	r.mu.Lock()
	c := r.cassetteLocked()
	r.mu.Unlock()
	return c.WriteFile(r.Path)
}

// Close saves the cassette and stops recording: later requests through
// the Recorder's transports fail with ErrRecorderClosed. Close the client
// first, so that what it sends while closing (revoke_on_close) is
// recorded. Closing again saves again.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	c := r.cassetteLocked()
	r.mu.Unlock()
	return c.WriteFile(r.Path)
}

// add redacts and appends an exchange.
func (r *Recorder) add(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.redact == nil {
		r.redact = newRedactor()
	}
	in := Interaction{
		Request:  recordRequest(r.redact, req, reqBody),
		Response: recordResponse(r.redact, resp, respBody),
	}
	r.redact.sweep(&in)
	r.interactions = append(r.interactions, in)
}

func recordRequest(rd *redactor, req *http.Request, body []byte) Request {
	out := Request{Method: strings.ToUpper(req.Method), URL: rd.url(req.URL.String())}
	out.Headers = keptHeaders(req.Header, requestHeaders)
	if v, ok := out.Headers["Authorization"]; ok {
		out.Headers["Authorization"] = rd.authorization(v)
	}
	if len(body) == 0 {
		return out
	}
	if isForm(req.Header.Get("Content-Type")) {
		if ps, ok := parseForm(string(body)); ok {
			rd.params(ps)
			out.Form = ps
			return out
		}
	}
	out.Body = rd.known(string(body))
	return out
}

func recordResponse(rd *redactor, resp *http.Response, body []byte) Response {
	out := Response{Status: resp.StatusCode, Headers: keptHeaders(resp.Header, responseHeaders)}
	if len(body) == 0 {
		return out
	}
	if isJSON(resp.Header.Get("Content-Type")) {
		if j, ok := rd.jsonBody(body); ok {
			out.BodyJSON = j
			return out
		}
	}
	out.Body = rd.known(string(body))
	return out
}

// keptHeaders returns the headers of h named in kept, several values
// joined by ", ", or nil when there are none.
func keptHeaders(h http.Header, kept []string) map[string]string {
	var out map[string]string
	for _, name := range kept {
		if vs := h.Values(name); len(vs) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = strings.Join(vs, ", ")
		}
	}
	return out
}

func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

func isForm(contentType string) bool {
	return mediaType(contentType) == "application/x-www-form-urlencoded"
}

func isJSON(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// recordingTransport is the transport that Recorder.Wrap returns.
type recordingTransport struct {
	rec  *Recorder
	next http.RoundTripper
}

// RoundTrip sends req through the wrapped transport and records the
// exchange once the response body has been read in full (up to
// MaxBodyBytes; the caller still gets the whole body).
func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.rec.mu.Lock()
	closed := t.rec.closed
	t.rec.mu.Unlock()
	if closed {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, ErrRecorderClosed
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		sent := req.Clone(req.Context())
		sent.Body = io.NopCloser(bytes.NewReader(reqBody))
		sent.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
		sent.ContentLength = int64(len(reqBody))
		req = sent
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if int64(len(respBody)) < MaxBodyBytes {
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	} else {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(respBody), resp.Body), resp.Body}
	}
	t.rec.add(req, truncate(reqBody), resp, respBody)
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport, so that closing a client that records releases them.
func (t *recordingTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func truncate(b []byte) []byte {
	if len(b) > MaxBodyBytes {
		return b[:MaxBodyBytes]
	}
	return b
}
