package introspection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/mtls"
)

// Response is an introspection response (RFC 7662 Section 2.2). For an
// inactive token only Active is set: RFC 7662 Section 2.2 asks servers not
// to say more about it, and this package ignores anything they do say.
type Response struct {
	// Active reports whether the token is currently active: issued by
	// this server, not expired, not revoked, and valid for the caller.
	Active bool
	// Scopes are the token's scopes (the "scope" member, RFC 6749 Section
	// 3.3).
	Scopes []string
	// ClientID is the client the token was issued to.
	ClientID string
	// Username is a human-readable identifier of the resource owner.
	Username string
	// TokenType is the token's type, such as "Bearer" (RFC 6749 Section
	// 7.1).
	TokenType string
	// ExpiresAt is when the token expires ("exp"); zero when not given.
	ExpiresAt time.Time
	// IssuedAt is when the token was issued ("iat"); zero when not given.
	IssuedAt time.Time
	// NotBefore is when the token starts being valid ("nbf"); zero when
	// not given.
	NotBefore time.Time
	// Subject is the token's subject ("sub"), usually a machine-readable
	// identifier of the resource owner.
	Subject string
	// Audience are the token's intended audiences ("aud"), given by the
	// server as a string or an array of strings.
	Audience []string
	// Issuer is the issuer of the token ("iss").
	Issuer string
	// JWTID is the token's identifier ("jti").
	JWTID string
	// Confirmation is the "cnf" member: for a certificate-bound token, the
	// thumbprint of the certificate it is bound to (RFC 8705 Section
	// 3.2). Nil when the server gave none.
	Confirmation *mtls.Confirmation
}

// audience is the "aud" member: one string or an array of strings (RFC
// 7519 Section 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*a = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	default:
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			return errors.New("aud is neither a string nor an array of strings")
		}
		*a = list
		return nil
	}
}

// parseResponse decodes the body of a successful introspection response.
// Members are decoded one by one, so that the error names the member that
// is wrong; no error quotes the body.
func parseResponse(body []byte) (*Response, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, errors.New("introspection response is not a valid JSON object")
	}
	var active bool
	if raw, ok := members["active"]; !ok {
		return nil, errors.New(`introspection response has no "active" member`)
	} else if err := json.Unmarshal(raw, &active); err != nil || string(raw) == "null" {
		return nil, wrongType("active")
	}
	if !active {
		return &Response{}, nil
	}

	r := &Response{Active: true}
	var scope string
	var aud audience
	var exp, iat, nbf json.Number
	for _, m := range []struct {
		name string
		dst  any
	}{
		{"scope", &scope},
		{"client_id", &r.ClientID},
		{"username", &r.Username},
		{"token_type", &r.TokenType},
		{"exp", &exp},
		{"iat", &iat},
		{"nbf", &nbf},
		{"sub", &r.Subject},
		{"aud", &aud},
		{"iss", &r.Issuer},
		{"jti", &r.JWTID},
		{"cnf", &r.Confirmation},
	} {
		if raw, ok := members[m.name]; ok {
			if err := json.Unmarshal(raw, m.dst); err != nil {
				return nil, wrongType(m.name)
			}
		}
	}
	r.Scopes = scopeList(scope)
	r.Audience = aud
	var err error
	if r.ExpiresAt, err = numericDate("exp", exp); err != nil {
		return nil, err
	}
	if r.IssuedAt, err = numericDate("iat", iat); err != nil {
		return nil, err
	}
	if r.NotBefore, err = numericDate("nbf", nbf); err != nil {
		return nil, err
	}
	return r, nil
}

func wrongType(member string) error {
	return fmt.Errorf("introspection response member %q has the wrong type", member)
}

// numericDate decodes a NumericDate (RFC 7519 Section 2): seconds since
// the epoch, possibly with a fraction. An absent member is the zero time.
func numericDate(name string, n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("introspection response member %q is not a valid NumericDate", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// scopeList splits a space-delimited scope (RFC 6749 Section 3.3),
// returning nil when it names no scope.
func scopeList(scope string) []string {
	if list := strings.Fields(scope); len(list) > 0 {
		return list
	}
	return nil
}
