package cassette

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// ignoredParams are the parameters whose value replay does not compare,
// only their presence: values that are random per run (state, nonce, jti,
// the PKCE values, assertions) or redacted secrets and codes that a
// replaying client holds in a different form.
var ignoredParams = map[string]bool{
	"state":            true,
	"nonce":            true,
	"jti":              true,
	"code_verifier":    true,
	"code_challenge":   true,
	"client_assertion": true,
	"assertion":        true,
	"client_secret":    true,
	"password":         true,
	"code":             true,
}

// Normalised values of parameters that replay does not compare as
// written; neither can be sent in a request, so neither collides with a
// real value.
const (
	anyValue       = "\x00any"        // an ignored parameter: presence only
	notPlaceholder = "\x00unrecorded" // a token that is not a placeholder
)

// Replayer is an http.RoundTripper that answers every request from a
// cassette, with no network.
//
// A request matches a recorded interaction when its method, its URL
// (scheme and host in lower case, default port dropped, query
// parameters in any order) and its form body agree once normalised: the
// parameters of ignoredParams (state, nonce, jti, code_verifier,
// code_challenge, client_assertion, assertion, client_secret, password,
// code) are compared by presence only; token parameters (token,
// refresh_token, ...) must carry the same placeholder, which is what a
// replaying client holds; scope values are compared as sets; and a
// loopback redirect_uri matches on any port (RFC 8252 Section 7.3).
// Headers are not compared. Among equal matches the interactions are
// used in recorded order, each once. A request that matches none fails
// with an [*UnmatchedError].
//
// It is safe for concurrent use.
type Replayer struct {
	cassette *Cassette
	shapes   []shape // the normalised requests, by interaction

	mu   sync.Mutex
	used []bool
}

// NewReplayer returns a Replayer of c, which it validates first. The
// Replayer does not modify c; c must not be modified while it is used.
func NewReplayer(c *Cassette) (*Replayer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := &Replayer{cassette: c, shapes: make([]shape, len(c.Interactions)), used: make([]bool, len(c.Interactions))}
	for i := range c.Interactions {
		rq := &c.Interactions[i].Request
		r.shapes[i] = newShape(rq.Method, rq.URL, rq.Form, rq.Body)
	}
	return r, nil
}

// Wrap returns the Replayer itself, ignoring next: replay sends nothing.
// Use it as authcore.Config.WrapTransport.
func (r *Replayer) Wrap(next http.RoundTripper) http.RoundTripper { return r }

// RoundTrip answers req with the response of the first unused recorded
// interaction that matches it, or fails with an [*UnmatchedError]. It
// reads and closes the request body.
func (r *Replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	var form []Param
	text := ""
	if len(body) > 0 {
		ps, ok := parseForm(string(body))
		if ok && isForm(req.Header.Get("Content-Type")) {
			form = ps
		} else {
			text = string(body)
		}
	}
	got := newShape(req.Method, req.URL.String(), form, text)

	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.shapes {
		if !r.used[i] && r.shapes[i].matches(got) {
			r.used[i] = true
			return r.cassette.Interactions[i].Response.httpResponse(req), nil
		}
	}
	return nil, r.unmatched(got)
}

// unmatched builds the error for a request that matches no unused
// interaction, naming the closest one: the fewest differences, weighing
// the method over the URL over the query over each form parameter, and
// an unused interaction over a used one.
func (r *Replayer) unmatched(got shape) *UnmatchedError {
	e := &UnmatchedError{Method: got.method, URL: got.display()}
	best := -1
	bestScore := 0
	var bestDiffs []string
	for i := range r.shapes {
		diffs := r.shapes[i].diff(got)
		score := 2 * r.shapes[i].distance(got, len(diffs))
		if r.used[i] {
			score++
		}
		if best < 0 || score < bestScore {
			best, bestScore, bestDiffs = i, score, diffs
		}
	}
	if best < 0 {
		e.Differences = []string{"the cassette has no interactions"}
		return e
	}
	e.Closest = best + 1
	rq := r.cassette.Interactions[best].Request
	e.ClosestRequest = rq.Method + " " + rq.URL
	e.Differences = bestDiffs
	if len(bestDiffs) == 0 {
		n := 0
		for i := range r.shapes {
			if r.shapes[i].matches(got) {
				n++
			}
		}
		e.Differences = []string{fmt.Sprintf("it was already replayed: the cassette recorded this request %d time(s) and all were used", n)}
	}
	return e
}

// Unused returns the numbers (from 1) of the interactions not replayed
// yet, in order: empty when the replay used the whole cassette.
func (r *Replayer) Unused() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for i, u := range r.used {
		if !u {
			out = append(out, i+1)
		}
	}
	return out
}

// UnmatchedError is the error of a replayed request that matches no
// unused interaction of the cassette. The runtime reports it as the
// cause of a network_error [*oautherr.Error]; find it with errors.As.
// It never contains a secret: redacted and ignored values are described,
// not shown.
type UnmatchedError struct {
	// Method and URL are the request's, the URL normalised as for
	// matching.
	Method, URL string
	// Closest is the number (from 1) of the recorded interaction closest
	// to the request; 0 when the cassette has none.
	Closest int
	// ClosestRequest is the method and URL of that interaction, as
	// recorded.
	ClosestRequest string
	// Differences say how the request differs from the closest
	// interaction, one per item, such as `form parameter "scope":
	// recorded "trading", got "analytics"`.
	Differences []string
}

// Error describes the request, the closest interaction and the
// differences.
func (e *UnmatchedError) Error() string {
	var b strings.Builder
	b.WriteString("cassette: no recorded interaction matches ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	if e.Closest > 0 {
		fmt.Fprintf(&b, "; closest is interaction %d (%s)", e.Closest, e.ClosestRequest)
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(e.Differences, "; "))
	return b.String()
}

// httpResponse builds the replayed response to req.
func (resp *Response) httpResponse(req *http.Request) *http.Response {
	h := make(http.Header, len(resp.Headers)+1)
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	body := []byte(resp.Body)
	if len(resp.BodyJSON) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, resp.BodyJSON) == nil {
			body = buf.Bytes()
		} else {
			body = slices.Clone(resp.BodyJSON)
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	}
	return &http.Response{
		Status:        strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status),
		StatusCode:    resp.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// shape is a request normalised for matching.
type shape struct {
	method string
	base   string              // scheme://host/path
	query  string              // normalised query parameters, sorted
	form   map[string][]string // normalised form values by name
	body   string              // a body that is not a form
}

func newShape(method, rawURL string, form []Param, body string) shape {
	s := shape{method: strings.ToUpper(method), body: body}
	s.base, s.query = normaliseURL(rawURL)
	s.form = normaliseParams(form)
	return s
}

// normaliseURL returns the URL without its query, scheme and host in
// lower case and the default port dropped, and its normalised query.
func normaliseURL(raw string) (base, query string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, ""
	}
	host := strings.ToLower(u.Host)
	scheme := strings.ToLower(u.Scheme)
	if h, port, err := net.SplitHostPort(host); err == nil && ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	base = scheme + "://" + host + path
	params := normaliseParams(queryParams(u.RawQuery))
	var pairs []string
	for _, name := range sortedKeys(params) {
		for _, v := range params[name] {
			pairs = append(pairs, url.QueryEscape(name)+"="+displayQueryValue(v))
		}
	}
	return base, strings.Join(pairs, "&")
}

func displayQueryValue(v string) string {
	switch v {
	case anyValue:
		return "*"
	case notPlaceholder:
		return "(not+a+placeholder)"
	}
	return url.QueryEscape(v)
}

func normaliseParams(ps []Param) map[string][]string {
	m := make(map[string][]string, len(ps))
	for _, p := range ps {
		m[p.Name] = append(m[p.Name], normaliseValue(p.Name, p.Value))
	}
	return m
}

// normaliseValue is the value of parameter name as replay compares it.
func normaliseValue(name, v string) string {
	switch {
	case ignoredParams[name]:
		return anyValue
	case tokenParams[name]:
		if v == "" || IsPlaceholder(v) {
			return v
		}
		return notPlaceholder
	case name == "scope":
		scopes := strings.Fields(v)
		slices.Sort(scopes)
		return strings.Join(slices.Compact(scopes), " ")
	case name == "redirect_uri":
		return loopbackAnyPort(v)
	}
	return v
}

// loopbackAnyPort drops the port of a loopback http redirection URI,
// whose port the client picks at run time (RFC 8252 Section 7.3).
func loopbackAnyPort(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" {
		return v
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return v
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host = host
	return u.String()
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// display is the request's method-less URL with its normalised query.
func (s shape) display() string {
	if s.query == "" {
		return s.base
	}
	return s.base + "?" + s.query
}

// distance weighs the differences between a recorded request s and got.
func (s shape) distance(got shape, ndiffs int) int {
	d := ndiffs
	if s.method != got.method {
		d += 1000
	}
	if s.base != got.base {
		d += 100
	}
	if s.query != got.query {
		d += 10
	}
	return d
}

// matches reports whether got matches the recorded request s: diff is
// empty, without building it.
func (s shape) matches(got shape) bool {
	if s.method != got.method || s.base != got.base || s.query != got.query || s.body != got.body || len(s.form) != len(got.form) {
		return false
	}
	for name, rec := range s.form {
		if g, ok := got.form[name]; !ok || !slices.Equal(rec, g) {
			return false
		}
	}
	return true
}

// diff lists how got differs from the recorded request s; empty when
// they match.
func (s shape) diff(got shape) []string {
	var out []string
	if s.method != got.method {
		out = append(out, fmt.Sprintf("method: recorded %s, got %s", s.method, got.method))
	}
	if s.base != got.base {
		out = append(out, fmt.Sprintf("URL: recorded %q, got %q", s.base, got.base))
	}
	if s.query != got.query {
		out = append(out, fmt.Sprintf("URL query: recorded %q, got %q", s.query, got.query))
	}
	names := sortedKeys(s.form)
	for name := range got.form {
		if _, ok := s.form[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rec, inRec := s.form[name]
		g, inGot := got.form[name]
		switch {
		case !inGot:
			out = append(out, fmt.Sprintf("form parameter %q is missing", name)+shown(" (recorded %s)", rec))
		case !inRec:
			out = append(out, fmt.Sprintf("form parameter %q was not recorded", name)+shown(" (got %s)", g))
		case !slices.Equal(rec, g):
			out = append(out, fmt.Sprintf("form parameter %q: recorded %s, got %s", name, displayValues(rec), displayValues(g)))
		}
	}
	if s.body != got.body {
		switch {
		case s.body == "":
			out = append(out, "request body: recorded none besides the form, got a body that is not a form")
		case got.body == "":
			out = append(out, "request body: recorded a body that is not a form, got none")
		default:
			out = append(out, "request body: the text differs")
		}
	}
	return out
}

// shown formats the values with format, or is empty when none of them
// may be shown.
func shown(format string, vs []string) string {
	for _, v := range vs {
		if v != anyValue {
			return fmt.Sprintf(format, displayValues(vs))
		}
	}
	return ""
}

// displayValues describes normalised values; redacted and ignored ones
// are described, not shown.
func displayValues(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		switch v {
		case anyValue:
			out[i] = "a value (not compared)"
		case notPlaceholder:
			out[i] = "a value that is not a placeholder of this cassette"
		default:
			out[i] = strconv.Quote(v)
		}
	}
	return strings.Join(out, ", ")
}

// Retryable reports false: the cassette will not hold the request on a
// second try either. The runtime reads it to mark the error final.
func (e *UnmatchedError) Retryable() bool { return false }

// Retryable reports whether a failed exchange in replay mode may succeed
// when sent again: never for a request the cassette does not hold (an
// *UnmatchedError), else as oautherr.IsRetryable says, so that a recorded
// 503 followed by a success replays as it was recorded.
func Retryable(err error) bool {
	var u *UnmatchedError
	return !errors.As(err, &u) && oautherr.IsRetryable(err)
}
