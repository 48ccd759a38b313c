package cassette

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Placeholder kinds: a redacted value is replaced by "<<kind>>" or, for
// the numbered kinds, "<<kind:n>>", where n counts the distinct values of
// that kind in the order they first appear in the cassette.
const (
	// KindClientSecret replaces a client secret (RFC 6749 Section 2.3.1),
	// in the client_secret parameter and wherever else it appears.
	KindClientSecret = "client_secret"
	// KindBasicCredentials replaces the credentials of an HTTP Basic
	// Authorization header: "Basic <<basic_credentials>>".
	KindBasicCredentials = "basic_credentials"
	// KindAuthorization replaces the credentials of an Authorization
	// header of a scheme other than Basic, Bearer and DPoP.
	KindAuthorization = "authorization"
	// KindClientAssertion replaces a client assertion (RFC 7523 Section
	// 2.2).
	KindClientAssertion = "client_assertion"
	// KindAssertion replaces the assertion of a JWT bearer grant (RFC 7523
	// Section 2.1).
	KindAssertion = "assertion"
	// KindCodeVerifier replaces a PKCE code verifier (RFC 7636 Section
	// 4.1).
	KindCodeVerifier = "code_verifier"
	// KindPassword replaces a resource owner password (RFC 6749 Section
	// 4.3).
	KindPassword = "password"
	// KindAuthorizationCode replaces an authorization code (RFC 6749
	// Section 4.1.2); numbered.
	KindAuthorizationCode = "authorization_code"
	// KindAccessToken replaces an access token; numbered.
	KindAccessToken = "access_token"
	// KindRefreshToken replaces a refresh token; numbered.
	KindRefreshToken = "refresh_token"
	// KindIDToken replaces an OpenID Connect ID token; numbered.
	KindIDToken = "id_token"
)

// numberedKinds are the kinds whose placeholders are numbered per
// distinct value: the values that link interactions together.
var numberedKinds = map[string]bool{
	KindAuthorizationCode: true,
	KindAccessToken:       true,
	KindRefreshToken:      true,
	KindIDToken:           true,
}

// Placeholder returns the placeholder of the n-th distinct value of kind:
// "<<kind:n>>" for the numbered kinds (authorization codes and tokens),
// "<<kind>>" for the others, whatever n.
func Placeholder(kind string, n int) string {
	if numberedKinds[kind] {
		return "<<" + kind + ":" + strconv.Itoa(n) + ">>"
	}
	return "<<" + kind + ">>"
}

// paramKinds maps the form and query parameters whose value is always
// redacted to their placeholder kind.
var paramKinds = map[string]string{
	"client_secret":    KindClientSecret,
	"client_assertion": KindClientAssertion,
	"assertion":        KindAssertion,
	"code":             KindAuthorizationCode,
	"code_verifier":    KindCodeVerifier,
	"password":         KindPassword,
	"access_token":     KindAccessToken,
	"refresh_token":    KindRefreshToken,
	"id_token":         KindIDToken,
}

// tokenParams are the parameters that carry a token of the cassette and
// are matched by placeholder on replay. "token" (RFC 7009, RFC 7662) is
// an access token unless token_type_hint says refresh_token; the token
// exchange parameters of RFC 8693 are access tokens.
var tokenParams = map[string]bool{
	"token":         true,
	"access_token":  true,
	"refresh_token": true,
	"id_token":      true,
	"subject_token": true,
	"actor_token":   true,
}

// redactedParams are every parameter whose value a cassette holds only
// as a placeholder (or empty).
var redactedParams = func() map[string]bool {
	m := map[string]bool{}
	for name := range paramKinds {
		m[name] = true
	}
	for name := range tokenParams {
		m[name] = true
	}
	return m
}()

// tokenMembers are the members of a JSON response body that hold tokens
// (RFC 6749 Section 5.1, OpenID Connect Core Section 3.1.3.3).
var tokenMembers = []string{"access_token", "refresh_token", "id_token"}

// minSubstringLength is the shortest redacted value that is also replaced
// where it appears inside a longer string; shorter ones are replaced only
// where they make up a whole value, so that a short secret cannot mangle
// unrelated text.
const minSubstringLength = 8

// redactor assigns placeholders to secret values, the same placeholder to
// the same value throughout a cassette. It is not safe for concurrent
// use.
type redactor struct {
	placeholders map[string]string // secret value -> placeholder
	counts       map[string]int    // kind -> distinct values so far
	byLength     []string          // the values of placeholders, longest first
}

func newRedactor() *redactor {
	return &redactor{placeholders: map[string]string{}, counts: map[string]int{}}
}

// placeholder returns the placeholder of value, assigning the next one of
// kind when value is new. An empty value stays empty, and a value that is
// already a placeholder is kept.
func (r *redactor) placeholder(kind, value string) string {
	if value == "" || IsPlaceholder(value) {
		return value
	}
	if p, ok := r.placeholders[value]; ok {
		return p
	}
	r.counts[kind]++
	p := Placeholder(kind, r.counts[kind])
	r.placeholders[value] = p
	i, _ := slices.BinarySearchFunc(r.byLength, value, func(a, b string) int { return len(b) - len(a) })
	r.byLength = slices.Insert(r.byLength, i, value)
	return p
}

// known replaces every redacted value in s: the whole of s, or any
// occurrence of a value of at least minSubstringLength bytes.
func (r *redactor) known(s string) string {
	if s == "" || IsPlaceholder(s) {
		return s
	}
	if p, ok := r.placeholders[s]; ok {
		return p
	}
	for _, v := range r.byLength {
		if len(v) < minSubstringLength {
			break
		}
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, r.placeholders[v])
		}
	}
	return s
}

// params redacts name/value pairs in place: the parameters of paramKinds
// and tokenParams by kind.
func (r *redactor) params(ps []Param) {
	hint := ""
	for _, p := range ps {
		if p.Name == "token_type_hint" {
			hint = p.Value
		}
	}
	for i, p := range ps {
		if kind, ok := paramKinds[p.Name]; ok {
			ps[i].Value = r.placeholder(kind, p.Value)
		} else if tokenParams[p.Name] {
			kind := KindAccessToken
			if p.Name == "token" && hint == "refresh_token" {
				kind = KindRefreshToken
			}
			ps[i].Value = r.placeholder(kind, p.Value)
		}
	}
}

// authorization redacts an Authorization header value, registering the
// client secret of Basic credentials and the token of Bearer and DPoP
// ones.
func (r *redactor) authorization(v string) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return r.placeholder(KindAuthorization, v)
	}
	switch strings.ToLower(scheme) {
	case "basic":
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok && pw != "" {
				// RFC 6749 Section 2.3.1: the secret is form-encoded
				// before Basic encoding.
				if plain, err := url.QueryUnescape(pw); err == nil && plain != pw {
					r.placeholder(KindClientSecret, plain)
				}
				r.placeholder(KindClientSecret, pw)
			}
		}
		return scheme + " " + r.placeholder(KindBasicCredentials, cred)
	case "bearer", "dpop":
		return scheme + " " + r.placeholder(KindAccessToken, cred)
	}
	return scheme + " " + r.placeholder(KindAuthorization, cred)
}

// url redacts the query parameters of a URL and any known value in it.
func (r *redactor) url(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.known(raw)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		ps := queryParams(u.RawQuery)
		r.params(ps)
		for i := range ps {
			ps[i].Value = r.known(ps[i].Value)
		}
		u.RawQuery = encodeParams(ps)
	}
	return r.known(u.String())
}

// jsonBody redacts the token members of a JSON object and every known
// value in its strings, and returns it in canonical form: compact,
// members sorted, numbers as written, "<" and ">" unescaped. ok is false
// when body is not a JSON object or array.
func (r *redactor) jsonBody(body []byte) (out json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // more than one value
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range tokenMembers {
			if s, ok := v[name].(string); ok {
				v[name] = r.placeholder(name, s)
			}
		}
	case []any:
	default:
		return nil, false
	}
	v = r.knownJSON(v)
	enc, err := marshalJSON(v)
	if err != nil {
		return nil, false
	}
	return enc, true
}

// knownJSON replaces known values in every string of v.
func (r *redactor) knownJSON(v any) any {
	switch v := v.(type) {
	case string:
		return r.known(v)
	case map[string]any:
		for k, e := range v {
			v[k] = r.knownJSON(e)
		}
	case []any:
		for i, e := range v {
			v[i] = r.knownJSON(e)
		}
	}
	return v
}

// sweep replaces every known value anywhere in in: the last line of
// defence for a secret that appears where no rule expects it.
func (r *redactor) sweep(in *Interaction) {
	in.Request.URL = r.known(in.Request.URL)
	for k, v := range in.Request.Headers {
		in.Request.Headers[k] = r.known(v)
	}
	for i := range in.Request.Form {
		in.Request.Form[i].Value = r.known(in.Request.Form[i].Value)
	}
	in.Request.Body = r.known(in.Request.Body)
	for k, v := range in.Response.Headers {
		in.Response.Headers[k] = r.known(v)
	}
	in.Response.Body = r.known(in.Response.Body)
	if len(in.Response.BodyJSON) > 0 {
		dec := json.NewDecoder(bytes.NewReader(in.Response.BodyJSON))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			if enc, err := marshalJSON(r.knownJSON(v)); err == nil {
				in.Response.BodyJSON = enc
			}
		}
	}
}

// marshalJSON encodes v compactly without escaping "<", ">" and "&", so
// that placeholders stay readable.
func marshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// queryParams splits an application/x-www-form-urlencoded string into
// its pairs, in order. A pair that cannot be decoded is kept as written.
func queryParams(raw string) []Param {
	var ps []Param
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		ps = append(ps, Param{Name: name, Value: value})
	}
	return ps
}

// parseForm splits a form body into its pairs, in order; ok is false when
// a pair is not validly encoded.
func parseForm(body string) (ps []Param, ok bool) {
	ps = []Param{}
	for _, pair := range strings.Split(body, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, false
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, false
		}
		ps = append(ps, Param{Name: n, Value: v})
	}
	return ps, true
}

// encodeParams encodes pairs in order as application/x-www-form-urlencoded.
func encodeParams(ps []Param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}
