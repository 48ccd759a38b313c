// Package secret holds credential values that must not leak into logs,
// error messages, or serialised output.
//
// A [Secret] prints as "[REDACTED]" through every fmt verb, log/slog, and
// encoding/json, so client secrets (RFC 6749 Section 2.3.1) and access or
// refresh tokens (RFC 6749 Sections 1.4 and 1.5) can be stored in ordinary
// structs without each call site remembering to hide them. The raw value is
// available only through [Secret.Reveal], which makes every use that puts it
// on the wire easy to find.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is the text that replaces a non-empty secret in all output.
const Redacted = "[REDACTED]"

// Secret is a credential value: a client secret, an access token, a refresh
// token, or an ID token. Its zero value is the empty secret.
//
// Converting a string to Secret is the only way in; [Secret.Reveal] is the
// only way out. All other methods hide the value.
type Secret string

// Reveal returns the raw value, for code that sends it to the authorization
// or resource server. Do not log or format the result.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String returns "[REDACTED]" for a non-empty secret and "" for an empty
// one, so output still shows whether a value was set.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString returns the redacted value as a quoted Go string literal, for
// the %#v verb.
func (s Secret) GoString() string {
	if s == "" {
		return `""`
	}
	return `"` + Redacted + `"`
}

// Format implements [fmt.Formatter] so that every verb and flag
// combination (%v, %+v, %#v, %s, %q, %x, widths, and so on) formats the
// redacted text instead of the raw value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// LogValue implements [slog.LogValuer] so that structured logs record the
// redacted text.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the secret as the JSON string "[REDACTED]", or "" when
// it is empty. Code that must send the raw value builds its payload with
// [Secret.Reveal].
func (s Secret) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte(`""`), nil
	}
	return []byte(`"` + Redacted + `"`), nil
}

// MarshalText encodes the secret as "[REDACTED]", or as empty text when it
// is empty, for text-based encoders such as encoding/xml and YAML libraries.
//
// encoding/json writes map keys of string kind directly, so a Secret used
// as a map key is not redacted; do not use secrets as keys.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
