// Package tokenstore persists OAuth 2.0 tokens between runs of a program.
//
// [Store] is the interface that token sources save to and load from; users
// implement it to keep tokens in a shared cache such as Redis. The package
// provides two implementations: [Memory], the default, which keeps tokens
// for the life of the process, and [File], which keeps them in a local file
// that is replaced atomically, readable by its owner only, and optionally
// encrypted with AES-256-GCM (NIST SP 800-38D).
//
// Refresh tokens are long-lived credentials (RFC 6749 Section 10.4) that
// may rotate on use (RFC 6749 Section 6, RFC 9700 Section 4.14): the token
// source saves a rotated refresh token before it sends it, so Store must
// be durable when it returns. Tokens are serialised with [EncodeToken],
// never with encoding/json directly, because the credential fields of
// [token.Token] are [secret.Secret] values that marshal as "[REDACTED]".
package tokenstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// Store saves tokens under keys, such as one per client and flow.
//
// Implementations must be safe for concurrent use and must honour ctx.
type Store interface {
	// Get returns the token saved under key, or nil and a nil error when
	// there is none. Data that cannot be decoded is an error, never a nil
	// or empty token.
	Get(ctx context.Context, key string) (*token.Token, error)
	// Store saves tok under key, replacing any earlier token. When it
	// returns nil the token must survive a crash of the process. The
	// token must not be modified.
	Store(ctx context.Context, key string, tok *token.Token) error
	// Delete removes the token saved under key. Deleting a key that holds
	// nothing is not an error.
	Delete(ctx context.Context, key string) error
}

// Errors that storage failures wrap; test for them with errors.Is.
var (
	// ErrCorrupt means stored data is not a valid token record: it is
	// truncated, is not JSON, or lacks required fields.
	ErrCorrupt = errors.New("token data is corrupt")
	// ErrUnsupportedVersion means stored data was written in a format
	// version that this runtime does not read.
	ErrUnsupportedVersion = errors.New("token data has an unsupported format version")
	// ErrWrongKey means an encrypted token file cannot be decrypted with
	// the configured key: the key is wrong or the file was altered.
	ErrWrongKey = errors.New("token file cannot be decrypted with the configured key")
	// ErrKeyRequired means a token file is encrypted but no key is
	// configured.
	ErrKeyRequired = errors.New("token file is encrypted and no key is configured")
	// ErrNotEncrypted means a key is configured but the token file is not
	// encrypted. It is refused rather than trusted, since anyone able to
	// write the file could have planted it.
	ErrNotEncrypted = errors.New("token file is not encrypted but a key is configured")
)

// FormatVersion is the version of the token record and token file formats
// that this package writes.
const FormatVersion = 1

// record is the serialised form of a token.Token: the field names of RFC
// 6749 Section 5.1, with expires_in replaced by an absolute expiry time.
type record struct {
	Version      int        `json:"version,omitempty"`
	AccessToken  string     `json:"access_token"`
	TokenType    string     `json:"token_type,omitempty"`
	RefreshToken string     `json:"refresh_token,omitempty"`
	IDToken      string     `json:"id_token,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
}

func newRecord(t *token.Token) record {
	r := record{
		AccessToken:  t.AccessToken.Reveal(),
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken.Reveal(),
		IDToken:      t.IDToken.Reveal(),
		Scopes:       t.Scopes,
	}
	if !t.ExpiresAt.IsZero() {
		at := t.ExpiresAt.UTC().Round(0) // wall clock only: the monotonic reading means nothing in another process
		r.ExpiresAt = &at
	}
	return r
}

func (r *record) token() (*token.Token, error) {
	if r.AccessToken == "" {
		return nil, fmt.Errorf("%w: access_token is missing", ErrCorrupt)
	}
	t := &token.Token{
		AccessToken:  secret.Secret(r.AccessToken),
		TokenType:    r.TokenType,
		RefreshToken: secret.Secret(r.RefreshToken),
		IDToken:      secret.Secret(r.IDToken),
		Scopes:       r.Scopes,
	}
	if r.ExpiresAt != nil {
		t.ExpiresAt = *r.ExpiresAt
	}
	return t, nil
}

// EncodeToken serialises tok, credentials included, as a versioned JSON
// record, for Store implementations that keep tokens outside the process.
// Treat the result as a secret.
func EncodeToken(tok *token.Token) ([]byte, error) {
	if tok == nil {
		return nil, errors.New("cannot encode a nil token")
	}
	r := newRecord(tok)
	r.Version = FormatVersion
	return json.Marshal(r)
}

// DecodeToken parses a record written by EncodeToken. Malformed or
// truncated data is an error that wraps ErrCorrupt, and data of another
// format version one that wraps ErrUnsupportedVersion; neither error
// contains the data.
func DecodeToken(data []byte) (*token.Token, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, corrupt(err)
	}
	if r.Version != FormatVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrUnsupportedVersion, r.Version, FormatVersion)
	}
	return r.token()
}

// corrupt wraps a decoding error in ErrCorrupt, describing where the data
// went wrong without quoting it: a JSON syntax error names the offending
// character, which may belong to a credential.
func corrupt(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syntax) && strings.Contains(syntax.Error(), "unexpected end")):
		return fmt.Errorf("%w: data is truncated", ErrCorrupt)
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: invalid JSON at byte %d", ErrCorrupt, syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%w: field %q has the wrong type", ErrCorrupt, typ.Field)
	default:
		return fmt.Errorf("%w: cannot decode", ErrCorrupt)
	}
}

// Memory keeps tokens in memory for the life of the process. The zero value
// is an empty store, ready to use. It is safe for concurrent use.
type Memory struct {
	mu     sync.RWMutex
	tokens map[string]*token.Token
}

var _ Store = (*Memory)(nil)

// Get returns the token saved under key, or nil.
func (m *Memory) Get(ctx context.Context, key string) (*token.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tokens[key], nil
}

// Store saves tok under key. tok is kept, not copied, and must not be
// modified afterwards.
func (m *Memory) Store(ctx context.Context, key string, tok *token.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tok == nil {
		return errors.New("cannot store a nil token")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = make(map[string]*token.Token)
	}
	m.tokens[key] = tok
	return nil
}

// Delete removes the token saved under key.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, key)
	return nil
}
