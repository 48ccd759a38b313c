// Package cassette records the HTTP exchanges between a client and its
// authorization server into a cassette, and replays a cassette with no
// network.
//
// A cassette is the language-neutral JSON document described in
// docs/cassette.md and spec/cassette.schema.json: a schema version, the
// SDK that recorded it, and the interactions in the order they completed,
// each a request (method, URL, the Content-Type, Accept and Authorization
// headers, and the form body as an ordered list of name/value pairs) and
// its response (status, the Content-Type, Retry-After and Cache-Control
// headers, and the body: text, or for JSON a parsed copy). A cassette
// recorded by one SDK replays in every other.
//
// Secrets never reach a cassette. Client secrets, client assertions, JWT
// bearer assertions, authorization codes, code verifiers, passwords,
// access, refresh and ID tokens and Authorization header credentials are
// replaced by placeholders such as "<<client_secret>>" and
// "<<access_token:1>>". Tokens and codes are numbered per distinct value,
// so a token issued in one interaction and presented in a later one is the
// same placeholder in both; see [Placeholder].
//
// A [Recorder] wraps the transport of a client (authcore's
// Config.WrapTransport) and writes the cassette atomically on Save and
// Close. A [Replayer] is a transport that answers from a cassette: it
// matches each request by method, URL and a normalised form body that
// ignores the redacted and random parts (state, nonce, jti, PKCE values,
// assertions, secrets and codes), consumes equal matches in order, and
// fails an unmatched request with an [*UnmatchedError] naming the closest
// recorded interaction and how it differs. Replayed tokens are the
// placeholders themselves: a replaying client holds "<<access_token:1>>".
package cassette

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// SchemaVersion is the version of the cassette format that this package
// reads and writes, the schema_version member of every cassette.
const SchemaVersion = 1

// SDK is the recorder.sdk value of cassettes that this package records.
const SDK = "go"

// Cassette is a recorded sequence of HTTP exchanges with an authorization
// server, in the JSON form of docs/cassette.md.
type Cassette struct {
	// SchemaVersion is the format version; this package reads and writes
	// SchemaVersion only.
	SchemaVersion int `json:"schema_version"`
	// Recorder names the SDK that recorded the cassette.
	Recorder RecorderInfo `json:"recorder"`
	// Interactions are the exchanges in the order their responses
	// completed. Messages number them from 1.
	Interactions []Interaction `json:"interactions"`
}

// RecorderInfo names the SDK that recorded a cassette. It is informative:
// replay does not depend on it.
type RecorderInfo struct {
	// SDK is the recording SDK's language: "go", "python", "typescript",
	// "dotnet" or "cpp".
	SDK string `json:"sdk"`
	// Version is the recording SDK's version, such as "0.1.0".
	Version string `json:"version"`
}

// Interaction is one HTTP exchange: a request and the response to it.
type Interaction struct {
	// Request is the request the client sent, redacted.
	Request Request `json:"request"`
	// Response is the server's answer, redacted.
	Response Response `json:"response"`
}

// Request is a recorded request. A form-encoded body is kept in Form and
// any other body in Body; a request without a body has neither.
type Request struct {
	// Method is the HTTP method in upper case, such as "POST".
	Method string `json:"method"`
	// URL is the absolute request URL, with redacted query parameters.
	URL string `json:"url"`
	// Headers are the kept request headers (Accept, Authorization,
	// Content-Type) by canonical name; Authorization is always redacted.
	Headers map[string]string `json:"headers,omitempty"`
	// Form is an application/x-www-form-urlencoded body as name/value
	// pairs in the order they were sent, redacted.
	Form []Param `json:"form,omitempty"`
	// Body is any other request body, as text, with known secrets
	// replaced by their placeholders.
	Body string `json:"body,omitempty"`
}

// Param is one name/value pair of a form body.
type Param struct {
	// Name is the parameter name, such as "grant_type".
	Name string `json:"name"`
	// Value is the parameter value, or a placeholder for a redacted one.
	Value string `json:"value"`
}

// Response is a recorded response. A JSON object or array body is kept,
// parsed, in BodyJSON and any other body as text in Body: one canonical
// representation each. A response with an empty body has neither.
type Response struct {
	// Status is the HTTP status code, such as 200.
	Status int `json:"status"`
	// Headers are the kept response headers (Cache-Control,
	// Content-Type, Retry-After) by canonical name.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is a non-JSON body as text.
	Body string `json:"body,omitempty"`
	// BodyJSON is a JSON object or array body. Replay sends it in compact
	// form; member order is not significant.
	BodyJSON json.RawMessage `json:"body_json,omitempty"`
}

// requestHeaders are the request headers a cassette keeps, by canonical
// name; every other request header is dropped.
var requestHeaders = []string{"Accept", "Authorization", "Content-Type"}

// responseHeaders are the response headers a cassette keeps, by canonical
// name; every other response header is dropped.
var responseHeaders = []string{"Cache-Control", "Content-Type", "Retry-After"}

// placeholderPattern is the grammar of a placeholder: <<kind>> or
// <<kind:n>>, n counting from 1.
var placeholderPattern = regexp.MustCompile(`^<<[a-z][a-z_]*(?::[1-9][0-9]*)?>>$`)

// authorizationPattern is a redacted Authorization header value: a
// placeholder, optionally after the scheme.
var authorizationPattern = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]* )?<<[a-z][a-z_]*(?::[1-9][0-9]*)?>>$`)

// methodPattern is an HTTP method as cassettes spell it.
var methodPattern = regexp.MustCompile(`^[A-Z][A-Z-]*$`)

// IsPlaceholder reports whether s is a placeholder, such as
// "<<client_secret>>" or "<<access_token:2>>".
func IsPlaceholder(s string) bool {
	return strings.HasPrefix(s, "<<") && placeholderPattern.MatchString(s)
}

// Parse decodes and validates a cassette. Unknown members are refused, as
// spec/cassette.schema.json refuses them. Every error is an
// [*oautherr.Error] with code "invalid_config".
func Parse(data []byte) (*Cassette, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Cassette
	if err := dec.Decode(&c); err != nil {
		return nil, formatError("", "not a cassette: "+err.Error(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, formatError("", "not a cassette: data after the JSON document", nil)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads and validates the cassette at path. Every error is an
// [*oautherr.Error] with code "invalid_config" naming the path.
func Load(path string) (*Cassette, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, formatError(path, "cannot read the cassette", err)
	}
	c, err := Parse(data)
	var e *oautherr.Error
	if errors.As(err, &e) {
		e.Description = "cassette " + path + ": " + strings.TrimPrefix(e.Description, "cassette: ")
	}
	return c, err
}

// formatError is the error of a cassette that cannot be read or does not
// follow the format.
func formatError(path, reason string, err error) *oautherr.Error {
	prefix := "cassette: "
	if path != "" {
		prefix = "cassette " + path + ": "
	}
	return &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: prefix + reason, Err: err}
}

// Validate reports the first way in which c departs from the format of
// spec/cassette.schema.json, including a redacted parameter, header or
// token member that is not a placeholder, as an [*oautherr.Error] with
// code "invalid_config"; nil when c is valid.
func (c *Cassette) Validate() error {
	fail := func(format string, args ...any) error {
		return formatError("", fmt.Sprintf(format, args...), nil)
	}
	if c.SchemaVersion != SchemaVersion {
		return fail("schema_version %d is not supported: want %d", c.SchemaVersion, SchemaVersion)
	}
	if c.Recorder.SDK == "" || c.Recorder.Version == "" {
		return fail("recorder.sdk and recorder.version must not be empty")
	}
	if c.Interactions == nil {
		return fail("interactions is missing")
	}
	for i := range c.Interactions {
		if err := c.Interactions[i].validate(); err != nil {
			return fail("interaction %d: %s", i+1, err)
		}
	}
	return nil
}

func (in *Interaction) validate() error {
	req, resp := &in.Request, &in.Response
	if !methodPattern.MatchString(req.Method) {
		return fmt.Errorf("request method %q is not an upper-case HTTP method", req.Method)
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("request url %q is not an absolute http or https URL", req.URL)
	}
	for _, p := range queryParams(u.RawQuery) {
		if redactedParams[p.Name] && p.Value != "" && !IsPlaceholder(p.Value) {
			return fmt.Errorf("query parameter %q is not redacted: want a placeholder", p.Name)
		}
	}
	if err := checkHeaders("request", req.Headers, requestHeaders); err != nil {
		return err
	}
	if v, ok := req.Headers["Authorization"]; ok && !authorizationPattern.MatchString(v) {
		return fmt.Errorf("request Authorization header is not redacted: want a placeholder such as %q", "Basic <<basic_credentials>>")
	}
	if req.Form != nil && req.Body != "" {
		return fmt.Errorf("request has both form and body")
	}
	for _, p := range req.Form {
		if p.Name == "" {
			return fmt.Errorf("request form has a parameter without a name")
		}
		if redactedParams[p.Name] && p.Value != "" && !IsPlaceholder(p.Value) {
			return fmt.Errorf("form parameter %q is not redacted: want a placeholder", p.Name)
		}
	}
	if resp.Status < 100 || resp.Status > 599 {
		return fmt.Errorf("response status %d is not an HTTP status code", resp.Status)
	}
	if err := checkHeaders("response", resp.Headers, responseHeaders); err != nil {
		return err
	}
	if len(resp.BodyJSON) > 0 {
		if resp.Body != "" {
			return fmt.Errorf("response has both body and body_json")
		}
		var v any
		if err := json.Unmarshal(resp.BodyJSON, &v); err != nil {
			return fmt.Errorf("response body_json is not JSON: %v", err)
		}
		switch v := v.(type) {
		case []any:
		case map[string]any:
			for _, name := range tokenMembers {
				s, present := v[name]
				str, isString := s.(string)
				if present && (!isString || (str != "" && !IsPlaceholder(str))) {
					return fmt.Errorf("response body_json member %q is not redacted: want a placeholder", name)
				}
			}
		default:
			return fmt.Errorf("response body_json is neither an object nor an array: keep other bodies in body")
		}
	}
	return nil
}

// checkHeaders refuses header names that the format does not keep.
func checkHeaders(what string, h map[string]string, kept []string) error {
	for name := range h {
		if !slices.Contains(kept, name) {
			return fmt.Errorf("%s header %q is not kept by the format: want one of %s", what, name, strings.Join(kept, ", "))
		}
	}
	return nil
}

// Encode returns c as the JSON document of the format: indented by two
// spaces, members in a fixed order, header names and body_json members
// sorted, "<" and ">" unescaped, and a final newline. Encoding the same
// cassette twice gives the same bytes.
func (c *Cassette) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	out := *c
	if out.Interactions == nil {
		out.Interactions = []Interaction{}
	}
	if err := enc.Encode(&out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes c to path atomically: the document goes to a new
// temporary file in the same directory, with permissions 0600, which is
// synced and then renamed over path. A reader sees the old cassette or
// the new one, never part of one. Errors are [*oautherr.Error]s with code
// "storage_error".
func (c *Cassette) WriteFile(path string) error {
	if path == "" {
		return &oautherr.Error{Op: OperationSave, Code: oautherr.CodeInvalidConfig, Description: "cassette_path is empty"}
	}
	data, err := c.Encode()
	if err != nil {
		return saveError(path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return saveError(path, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return saveError(path, err)
	}
	if _, err := f.Write(data); err != nil {
		return saveError(path, err)
	}
	if err := f.Sync(); err != nil {
		return saveError(path, err)
	}
	if err := f.Close(); err != nil {
		return saveError(path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return saveError(path, err)
	}
	committed = true
	return nil
}

// OperationSave is the operation that errors from saving a cassette carry
// in oautherr.Error.Op.
const OperationSave = "save_cassette"

// codeStorageError is the spec's error code for a failure to save to
// storage (tokenrefresh.CodeStorageError).
const codeStorageError = "storage_error"

func saveError(path string, err error) *oautherr.Error {
	return &oautherr.Error{Op: OperationSave, Code: codeStorageError, Description: "cannot write the cassette " + path, Err: err}
}

// clone returns a deep copy of in.
func (in Interaction) clone() Interaction {
	out := in
	out.Request.Headers = cloneMap(in.Request.Headers)
	out.Request.Form = slices.Clone(in.Request.Form)
	out.Response.Headers = cloneMap(in.Response.Headers)
	out.Response.BodyJSON = slices.Clone(in.Response.BodyJSON)
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
