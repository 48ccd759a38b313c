package tokenstore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// sample returns a token with every field set.
func sample(access string) *token.Token {
	return &token.Token{
		AccessToken:  secret.Secret(access),
		TokenType:    "Bearer",
		RefreshToken: secret.Secret("refresh-" + access),
		IDToken:      secret.Secret("id-" + access),
		ExpiresAt:    time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC),
		Scopes:       []string{"trading", "market-data"},
	}
}

// sameToken compares tokens by value, credentials included.
func sameToken(t *testing.T, want, got *token.Token) {
	t.Helper()
	opt := cmp.Comparer(func(a, b secret.Secret) bool { return a.Reveal() == b.Reveal() })
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, tokenstore.KeySize) }

func newFile(t *testing.T, key []byte) *tokenstore.File {
	t.Helper()
	f, err := tokenstore.NewFile(filepath.Join(t.TempDir(), "state", "tokens.json"), key)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// roundTrip exercises the Store contract on s.
func roundTrip(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	if got, err := s.Get(ctx, "client-a"); got != nil || err != nil {
		t.Fatalf("Get on an empty store = %v, %v; want nil, nil", got, err)
	}
	a, b := sample("a"), sample("b")
	b.ExpiresAt = time.Time{}
	b.Scopes = nil
	if err := s.Store(ctx, "client-a", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, "client-b", b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "client-a")
	if err != nil {
		t.Fatal(err)
	}
	sameToken(t, a, got)
	if got, err = s.Get(ctx, "client-b"); err != nil {
		t.Fatal(err)
	}
	sameToken(t, b, got)

	rotated := sample("a2")
	if err := s.Store(ctx, "client-a", rotated); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Get(ctx, "client-a"); got == nil || got.RefreshToken.Reveal() != "refresh-a2" {
		t.Errorf("Get after replacing = %v, want the rotated token", got)
	}
	if err := s.Delete(ctx, "client-a"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "client-a"); got != nil || err != nil {
		t.Errorf("Get after Delete = %v, %v; want nil, nil", got, err)
	}
	if err := s.Delete(ctx, "client-a"); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	if got, _ = s.Get(ctx, "client-b"); got == nil {
		t.Error("Delete removed another key's token")
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(canceled, "client-b"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context = %v", err)
	}
	if err := s.Store(canceled, "client-b", a); !errors.Is(err, context.Canceled) {
		t.Errorf("Store with a canceled context = %v", err)
	}
	if err := s.Delete(canceled, "client-b"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a canceled context = %v", err)
	}
}

func TestMemoryRoundTrip(t *testing.T) {
	roundTrip(t, &tokenstore.Memory{})
}

func TestFileRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"encrypted", testKey(7)}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFile(t, tc.key)
			roundTrip(t, f)

			info, err := os.Stat(f.Path())
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != tokenstore.FileMode {
				t.Errorf("file mode = %v, want %v", info.Mode().Perm(), tokenstore.FileMode)
			}
			entries, _ := os.ReadDir(filepath.Dir(f.Path()))
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the token file (temporary files left behind?)", len(entries))
			}
			data, _ := os.ReadFile(f.Path())
			containsToken := bytes.Contains(data, []byte("refresh-b"))
			if containsToken != (tc.key == nil) {
				t.Errorf("file contains the refresh token in clear: %v, want %v", containsToken, tc.key == nil)
			}
			if !bytes.Contains(data, []byte(`"version": 1`)) {
				t.Errorf("file has no format version:\n%s", data)
			}

			// Another store on the same file, as after a restart, reads it.
			again, _ := tokenstore.NewFile(f.Path(), tc.key)
			if got, err := again.Get(context.Background(), "client-b"); err != nil || got == nil {
				t.Errorf("Get from a new store = %v, %v", got, err)
			}
		})
	}
}

func TestFileRemovedWhenEmpty(t *testing.T) {
	f := newFile(t, nil)
	ctx := context.Background()
	if err := f.Store(ctx, "k", sample("a")); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("token file still exists after its last token was deleted: %v", err)
	}
}

func TestFileReplacesAtomically(t *testing.T) {
	f := newFile(t, nil)
	ctx := context.Background()
	if err := f.Store(ctx, "k", sample("a")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(f.Path())
	if err := f.Store(ctx, "k", sample("b")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(f.Path())
	if os.SameFile(before, after) {
		t.Error("Store rewrote the file in place instead of renaming a new file over it")
	}
}

func TestFileTightensMode(t *testing.T) {
	f := newFile(t, nil)
	ctx := context.Background()
	if err := f.Store(ctx, "k", sample("a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Store(ctx, "k", sample("b")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(f.Path()); info.Mode().Perm() != tokenstore.FileMode {
		t.Errorf("file mode after Store = %v, want %v", info.Mode().Perm(), tokenstore.FileMode)
	}
}

func TestFileConcurrentStores(t *testing.T) {
	f := newFile(t, testKey(1))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := f.Store(ctx, fmt.Sprint("client-", i), sample(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		got, err := f.Get(ctx, fmt.Sprint("client-", i))
		if err != nil || got == nil || got.AccessToken.Reveal() != fmt.Sprint(i) {
			t.Errorf("client-%d: %v, %v", i, got, err)
		}
	}
}

// writeFile stores a valid token with key, then lets edit change the bytes
// on disk.
func writeFile(t *testing.T, key []byte, edit func([]byte) []byte) string {
	t.Helper()
	f := newFile(t, key)
	if err := f.Store(context.Background(), "k", sample("secret-access-token")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path(), edit(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return f.Path()
}

func TestFileErrors(t *testing.T) {
	key := testKey(1)
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
	}
	truncate := func(b []byte) []byte { return b[:len(b)/2] }
	tests := []struct {
		name     string
		writeKey []byte
		edit     func([]byte) []byte
		readKey  []byte
		want     error
	}{
		{"garbage", nil, func([]byte) []byte { return []byte("\x00\x01 not json") }, nil, tokenstore.ErrCorrupt},
		{"empty", nil, func([]byte) []byte { return nil }, nil, tokenstore.ErrCorrupt},
		{"truncated plain", nil, truncate, nil, tokenstore.ErrCorrupt},
		{"truncated encrypted", key, truncate, key, tokenstore.ErrCorrupt},
		{"not a token file", nil, func([]byte) []byte { return []byte(`{"tokens":{}}`) }, nil, tokenstore.ErrCorrupt},
		{"missing access token", nil, replace(`"access_token": "secret-access-token"`, `"access_token": ""`), nil, tokenstore.ErrCorrupt},
		{"wrong field type", nil, replace(`"scopes": [`, `"scopes": 5, "x": [`), nil, tokenstore.ErrCorrupt},
		{"future version", nil, replace(`"version": 1`, `"version": 2`), nil, tokenstore.ErrUnsupportedVersion},
		{"unknown cipher", key, replace(`"A256GCM"`, `"ROT13"`), key, tokenstore.ErrUnsupportedVersion},
		{"wrong key", key, func(b []byte) []byte { return b }, testKey(2), tokenstore.ErrWrongKey},
		{"altered ciphertext", key, func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"ciphertext": "`)) + len(`"ciphertext": "`)
			if b[i+4] == 'A' { // change one base64 digit, keeping it valid
				b[i+4] = 'B'
			} else {
				b[i+4] = 'A'
			}
			return b
		}, key, tokenstore.ErrWrongKey},
		{"encrypted without key", key, func(b []byte) []byte { return b }, nil, tokenstore.ErrKeyRequired},
		{"plain with key", nil, func(b []byte) []byte { return b }, key, tokenstore.ErrNotEncrypted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.writeKey, tt.edit)
			f, err := tokenstore.NewFile(path, tt.readKey)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := f.Get(context.Background(), "k")
			if tok != nil {
				t.Errorf("Get returned a token from a bad file: %v", tok)
			}
			var ferr *tokenstore.FileError
			if !errors.As(err, &ferr) || ferr.Op != "read" || ferr.Path != path || !errors.Is(err, tt.want) {
				t.Fatalf("Get error = %v (%T), want a read *FileError for %s wrapping %v", err, err, path, tt.want)
			}
			if strings.Contains(err.Error(), "secret-access-token") {
				t.Errorf("error reveals the token: %v", err)
			}
			// Store must not overwrite a file it cannot read. A bad record
			// in a readable file stays, reported by Get, until replaced.
			if tt.name == "missing access token" {
				return
			}
			if err := f.Store(context.Background(), "other", sample("x")); !errors.Is(err, tt.want) {
				t.Errorf("Store over a bad file = %v, want an error wrapping %v", err, tt.want)
			}
		})
	}
}

func TestFileUnreadable(t *testing.T) {
	// A directory in place of the file cannot be read, even by root.
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	f, _ := tokenstore.NewFile(path, nil)
	_, err := f.Get(context.Background(), "k")
	var ferr *tokenstore.FileError
	if !errors.As(err, &ferr) || ferr.Op != "read" {
		t.Fatalf("Get = %v, want a read *FileError", err)
	}

	if os.Geteuid() == 0 {
		t.Log("running as root: skipping the permission check")
		return
	}
	path = writeFile(t, nil, func(b []byte) []byte { return b })
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	f, _ = tokenstore.NewFile(path, nil)
	if _, err := f.Get(context.Background(), "k"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Get on an unreadable file = %v, want fs.ErrPermission", err)
	}
}

func TestFileWriteError(t *testing.T) {
	// The parent "directory" is a regular file, so nothing can be written.
	parent := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := tokenstore.NewFile(filepath.Join(parent, "tokens.json"), nil)
	err := f.Store(context.Background(), "k", sample("a"))
	var ferr *tokenstore.FileError
	if !errors.As(err, &ferr) {
		t.Fatalf("Store = %v, want a *FileError", err)
	}
}

func TestNewFileValidates(t *testing.T) {
	if _, err := tokenstore.NewFile("", nil); err == nil {
		t.Error("NewFile accepted an empty path")
	}
	if _, err := tokenstore.NewFile("x", make([]byte, 16)); err == nil {
		t.Error("NewFile accepted a 16-byte key")
	}
}

func TestParseKey(t *testing.T) {
	key := testKey(0xfb) // encodes with '+' / '/' in standard base64
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := tokenstore.ParseKey(secret.Secret(enc.EncodeToString(key)))
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", enc.EncodeToString(key), got, err)
		}
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, bad := range []string{"", "not base64!", short} {
		_, err := tokenstore.ParseKey(secret.Secret(bad))
		if err == nil {
			t.Errorf("ParseKey(%q) accepted a bad key", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error reveals the key: %v", err)
		}
	}
}

func TestEncodeDecodeToken(t *testing.T) {
	tok := sample("a")
	tok.ExpiresAt = time.Now().Add(time.Hour) // with a monotonic reading
	data, err := tokenstore.EncodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokenstore.DecodeToken(data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tok.ExpiresAt)
	}
	got.ExpiresAt = tok.ExpiresAt
	sameToken(t, tok, got)

	if _, err := tokenstore.EncodeToken(nil); err == nil {
		t.Error("EncodeToken(nil) succeeded")
	}
	for name, tc := range map[string]struct {
		data string
		want error
	}{
		"truncated":   {string(data[:len(data)-5]), tokenstore.ErrCorrupt},
		"not json":    {"access_token=abc", tokenstore.ErrCorrupt},
		"no version":  {`{"access_token":"abc"}`, tokenstore.ErrUnsupportedVersion},
		"no access":   {`{"version":1,"token_type":"Bearer"}`, tokenstore.ErrCorrupt},
		"wrong types": {`{"version":1,"access_token":5}`, tokenstore.ErrCorrupt},
	} {
		tok, err := tokenstore.DecodeToken([]byte(tc.data))
		if tok != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: DecodeToken = %v, %v; want an error wrapping %v", name, tok, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "abc") {
			t.Errorf("%s: error reveals the token: %v", name, err)
		}
	}
}
