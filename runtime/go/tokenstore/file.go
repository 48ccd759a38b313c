package tokenstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// KeySize is the size in bytes of a token file key: an AES-256 key.
const KeySize = 32

// fileFormat identifies a token file.
const fileFormat = "coyotegen-tokens"

// cipherName names the encryption of an encrypted token file.
const cipherName = "A256GCM"

// FileMode is the permission of a token file: readable and writable by its
// owner only.
const FileMode fs.FileMode = 0o600

// fileEnvelope is the top-level JSON object of a token file. A plain file
// holds Tokens; an encrypted file holds Nonce and Ciphertext, the AES-GCM
// sealing of a fileTokens object with additional data fileAAD.
type fileEnvelope struct {
	Format     string            `json:"format"`
	Version    int               `json:"version"`
	Encryption string            `json:"encryption,omitempty"`
	Nonce      []byte            `json:"nonce,omitempty"`
	Ciphertext []byte            `json:"ciphertext,omitempty"`
	Tokens     map[string]record `json:"tokens,omitempty"`
}

// fileTokens is the plaintext of an encrypted token file.
type fileTokens struct {
	Tokens map[string]record `json:"tokens"`
}

// fileAAD binds the ciphertext to the format and version, so that the
// envelope cannot be relabelled.
var fileAAD = []byte(fmt.Sprintf("%s/%d/%s", fileFormat, FormatVersion, cipherName))

// FileError reports a token file that cannot be read, decoded, decrypted
// or written. Err wraps the cause: an fs error such as fs.ErrPermission,
// or one of ErrCorrupt, ErrUnsupportedVersion, ErrWrongKey, ErrKeyRequired
// and ErrNotEncrypted. The message never contains token data or the key.
type FileError struct {
	// Op is "read", "write" or "delete".
	Op string
	// Path is the token file.
	Path string
	// Err is the cause.
	Err error
}

// Error formats the error as "token storage: <op> <path>: <cause>".
func (e *FileError) Error() string {
	return "token storage: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// ParseKey decodes a token file key given in configuration
// (token_storage_key): 32 bytes in standard or URL-safe base64, with or
// without padding. Errors never contain the key.
func ParseKey(encoded secret.Secret) ([]byte, error) {
	s := encoded.Reveal()
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("token storage key is %d bytes, want %d (AES-256)", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("token storage key is not valid base64")
}

// File keeps tokens in one local file, as a versioned JSON document that is
// optionally encrypted with AES-256-GCM. Every Store and Delete writes a
// new file and renames it over the old one, so a crash leaves either the
// old or the new file, never a partial one; the file has mode 0600.
//
// A File serialises its own operations; it does not lock against other
// processes that use the same path. Create one with NewFile.
type File struct {
	path string
	aead cipher.AEAD // nil for a plain file

	mu sync.Mutex
}

var _ Store = (*File)(nil)

// NewFile returns a store that keeps tokens in the file at path. With a
// nil key the file is plain JSON; otherwise key must be KeySize bytes and
// the file is encrypted. The file is not touched until the first call.
func NewFile(path string, key []byte) (*File, error) {
	if path == "" {
		return nil, errors.New("token file path is empty")
	}
	f := &File{path: path}
	if key != nil {
		if len(key) != KeySize {
			return nil, fmt.Errorf("token storage key is %d bytes, want %d (AES-256)", len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if f.aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Path returns the token file's path.
func (f *File) Path() string { return f.path }

// Get returns the token saved under key, or nil when the file does not
// exist or holds nothing under key. A file that cannot be read or decoded
// is a *FileError.
func (f *File) Get(ctx context.Context, key string) (*token.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tokens, err := f.read()
	if err != nil {
		return nil, &FileError{Op: "read", Path: f.path, Err: err}
	}
	r, ok := tokens[key]
	if !ok {
		return nil, nil
	}
	t, err := r.token()
	if err != nil {
		return nil, &FileError{Op: "read", Path: f.path, Err: err}
	}
	return t, nil
}

// Store saves tok under key, keeping the other keys' tokens. The new file
// is written to a temporary file in the same directory, synced, and
// renamed over the old one. Store refuses to overwrite a file that it
// cannot read, since that would discard the tokens it holds.
func (f *File) Store(ctx context.Context, key string, tok *token.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tok == nil {
		return errors.New("cannot store a nil token")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tokens, err := f.read()
	if err != nil {
		return &FileError{Op: "read", Path: f.path, Err: err}
	}
	if tokens == nil {
		tokens = make(map[string]record, 1)
	}
	tokens[key] = newRecord(tok)
	if err := f.write(tokens); err != nil {
		return &FileError{Op: "write", Path: f.path, Err: err}
	}
	return nil
}

// Delete removes the token saved under key, and the file once it holds no
// token.
func (f *File) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tokens, err := f.read()
	if err != nil {
		return &FileError{Op: "read", Path: f.path, Err: err}
	}
	if _, ok := tokens[key]; !ok {
		return nil
	}
	delete(tokens, key)
	if len(tokens) == 0 {
		err = os.Remove(f.path)
		if err == nil {
			err = syncDir(filepath.Dir(f.path))
		}
	} else {
		err = f.write(tokens)
	}
	if err != nil {
		return &FileError{Op: "delete", Path: f.path, Err: err}
	}
	return nil
}

// read loads and decodes the file, returning nil when it does not exist.
func (f *File) read() (map[string]record, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: file is empty", ErrCorrupt)
	}
	var env fileEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, corrupt(err)
	}
	if env.Format != fileFormat {
		return nil, fmt.Errorf("%w: not a token file (format %q, want %q)", ErrCorrupt, env.Format, fileFormat)
	}
	if env.Version != FormatVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrUnsupportedVersion, env.Version, FormatVersion)
	}
	switch {
	case env.Encryption == "" && f.aead != nil:
		return nil, ErrNotEncrypted
	case env.Encryption == "":
		return env.Tokens, nil
	case env.Encryption != cipherName:
		return nil, fmt.Errorf("%w: unknown encryption %q, want %q", ErrUnsupportedVersion, env.Encryption, cipherName)
	case f.aead == nil:
		return nil, ErrKeyRequired
	case len(env.Nonce) != f.aead.NonceSize() || len(env.Ciphertext) < f.aead.Overhead():
		return nil, fmt.Errorf("%w: encrypted payload is truncated", ErrCorrupt)
	}
	plain, err := f.aead.Open(nil, env.Nonce, env.Ciphertext, fileAAD)
	if err != nil {
		// GCM authentication cannot tell a wrong key from altered data.
		return nil, ErrWrongKey
	}
	var ft fileTokens
	if err := json.Unmarshal(plain, &ft); err != nil {
		return nil, corrupt(err)
	}
	return ft.Tokens, nil
}

// write encodes tokens and atomically replaces the file with them.
func (f *File) write(tokens map[string]record) error {
	env := fileEnvelope{Format: fileFormat, Version: FormatVersion}
	if f.aead == nil {
		env.Tokens = tokens
	} else {
		plain, err := json.Marshal(fileTokens{Tokens: tokens})
		if err != nil {
			return err
		}
		nonce := make([]byte, f.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		env.Encryption = cipherName
		env.Nonce = nonce
		env.Ciphertext = f.aead.Seal(nil, nonce, plain, fileAAD)
	}
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(f.path, append(data, '\n'))
}

// writeAtomic replaces the file at path with data: it writes a temporary
// file with mode 0600 in the same directory, syncs it, renames it over
// path and syncs the directory, so that the rename itself is durable.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(FileMode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or removal in dir durable. Systems that cannot
// sync a directory (Windows) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return nil
}
