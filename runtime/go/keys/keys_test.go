package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
)

// testKeys are generated once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() (k struct {
	rsa2048, rsa1024 *rsa.PrivateKey
	p256, p384       *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
}) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var err error
	k.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024)
	must(err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

func pemBlock(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der, nil)
}

func sec1(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der, nil)
}

// ecParameters is the block that `openssl ecparam -genkey` writes before
// the key: the named curve OID of P-256.
func ecParameters(t *testing.T) []byte {
	der, err := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PARAMETERS", der, nil)
}

func TestParsePrivateKeyFormats(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name string
		pem  []byte
		want crypto.Signer
	}{
		{"RSA PKCS#1", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa2048), nil), k.rsa2048},
		{"RSA PKCS#8", pkcs8(t, k.rsa2048), k.rsa2048},
		{"EC SEC 1", sec1(t, k.p256), k.p256},
		{"EC SEC 1 after EC PARAMETERS", append(ecParameters(t), sec1(t, k.p256)...), k.p256},
		{"EC PKCS#8", pkcs8(t, k.p256), k.p256},
		{"EC P-384 PKCS#8", pkcs8(t, k.p384), k.p384},
		{"key after a certificate block and text", append([]byte("subject=CN=x\n"), append(pemBlock("CERTIFICATE", []byte{0x30, 0}, nil), pkcs8(t, k.p256)...)...), k.p256},
		{"CRLF line endings", bytes.ReplaceAll(pkcs8(t, k.rsa2048), []byte("\n"), []byte("\r\n")), k.rsa2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keys.ParsePrivateKey(tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			type equaler interface{ Equal(crypto.PrivateKey) bool }
			if !got.(equaler).Equal(tt.want) {
				t.Errorf("ParsePrivateKey returned a different key")
			}
		})
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	k := testKeys()
	rsaDER := x509.MarshalPKCS1PrivateKey(k.rsa2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(k.rsa2048.Public())
	tests := []struct {
		name, want string
		pem        []byte
	}{
		{"empty", "no PEM data found", nil},
		{"not PEM", "no PEM data found", []byte("ssh-rsa AAAA...")},
		{"public key only", `no private key found in PEM data: want a block of type "RSA PRIVATE KEY", "EC PRIVATE KEY" or "PRIVATE KEY"`, pemBlock("PUBLIC KEY", pubDER, nil)},
		{"EC parameters only", "no private key found", ecParameters(t)},
		{"legacy encrypted PKCS#1", `"RSA PRIVATE KEY" is encrypted`, pemBlock("RSA PRIVATE KEY", rsaDER, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"})},
		{"encrypted PKCS#8", `"ENCRYPTED PRIVATE KEY" is encrypted`, pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}, nil)},
		{"garbage PKCS#1", `PEM block "RSA PRIVATE KEY" is not a PKCS#1 RSA private key`, pemBlock("RSA PRIVATE KEY", []byte("garbage"), nil)},
		{"garbage SEC 1", `PEM block "EC PRIVATE KEY" is not a SEC 1 EC private key`, pemBlock("EC PRIVATE KEY", []byte("garbage"), nil)},
		{"garbage PKCS#8", `PEM block "PRIVATE KEY" is not a PKCS#8 private key`, pemBlock("PRIVATE KEY", []byte("garbage"), nil)},
		{"Ed25519 PKCS#8", "PKCS#8 private key is a ed25519.PrivateKey key: want an RSA or EC key", pkcs8(t, k.ed)},
		{"PKCS#8 labelled as PKCS#1", "is not a PKCS#1 RSA private key", pemBlock("RSA PRIVATE KEY", mustPKCS8DER(t, k.rsa2048), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := keys.ParsePrivateKey(tt.pem)
			if err == nil {
				t.Fatalf("ParsePrivateKey = %T, want an error", key)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func mustPKCS8DER(t *testing.T, key any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestAlgorithmCheckKey(t *testing.T) {
	k := testKeys()
	tests := []struct {
		alg  keys.Algorithm
		key  crypto.PrivateKey
		want string // "" means accepted
	}{
		{keys.RS256, k.rsa2048, ""},
		{keys.PS256, k.rsa2048, ""},
		{keys.ES256, k.p256, ""},
		{keys.RS256, k.p256, "RS256 needs an RSA private key, not an EC P-256 key"},
		{keys.PS256, k.p256, "PS256 needs an RSA private key, not an EC P-256 key"},
		{keys.ES256, k.rsa2048, "ES256 needs an EC P-256 private key, not an RSA key"},
		{keys.ES256, k.p384, "ES256 needs an EC P-256 private key, not an EC P-384 key"},
		{keys.RS256, k.rsa1024, "RS256 needs an RSA key of at least 2048 bits, not 1024 bits"},
		{keys.PS256, k.rsa1024, "PS256 needs an RSA key of at least 2048 bits, not 1024 bits"},
		{keys.RS256, k.ed, "RS256 needs an RSA private key, not a ed25519.PrivateKey key"},
		{keys.ES256, nil, "ES256 needs an EC P-256 private key, not no key"},
		{"HS256", k.rsa2048, `unknown JWT signing algorithm "HS256": want "RS256", "PS256" or "ES256"`},
		{"", k.rsa2048, `unknown JWT signing algorithm "": want "RS256", "PS256" or "ES256"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%T", tt.alg, tt.key), func(t *testing.T) {
			err := tt.alg.CheckKey(tt.key)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckKey = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("CheckKey = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, a := range []keys.Algorithm{keys.RS256, keys.PS256, keys.ES256} {
		got, err := keys.ParseAlgorithm(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", a, got, err)
		}
	}
	for _, s := range []string{"", "rs256", "HS256", "none", "EdDSA"} {
		_, err := keys.ParseAlgorithm(s)
		want := fmt.Sprintf(`unknown JWT signing algorithm %q: want "RS256", "PS256" or "ES256"`, s)
		if err == nil || err.Error() != want {
			t.Errorf("ParseAlgorithm(%q) error = %v, want %q", s, err, want)
		}
	}
}

func TestLoadSigningKey(t *testing.T) {
	k := testKeys()
	dir := t.TempDir()
	ecPath := filepath.Join(dir, "ec.pem")
	if err := os.WriteFile(ecPath, append(ecParameters(t), sec1(t, k.p256)...), 0o600); err != nil {
		t.Fatal(err)
	}
	rsaPath := filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(rsaPath, pkcs8(t, k.rsa2048), 0o600); err != nil {
		t.Fatal(err)
	}

	sk, err := keys.LoadSigningKey(ecPath, keys.ES256, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if sk.Algorithm() != keys.ES256 || sk.KeyID() != "key-1" {
		t.Errorf("key = %v %q", sk.Algorithm(), sk.KeyID())
	}
	if !k.p256.PublicKey.Equal(sk.Public()) || !k.p256.Equal(sk.Signer()) {
		t.Error("loaded key differs from the file's key")
	}

	if _, err := keys.LoadSigningKey(rsaPath, keys.PS256, ""); err != nil {
		t.Errorf("PS256 with RSA PKCS#8: %v", err)
	}
	_, err = keys.LoadSigningKey(rsaPath, keys.ES256, "")
	if want := rsaPath + ": ES256 needs an EC P-256 private key, not an RSA key"; err == nil || err.Error() != want {
		t.Errorf("ES256 with RSA key: error = %v, want %q", err, want)
	}
	missing := filepath.Join(dir, "missing.pem")
	if _, err := keys.LoadSigningKey(missing, keys.RS256, ""); err == nil || !os.IsNotExist(err) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error = %v, want a not-exist error naming the file", err)
	}
	badPath := filepath.Join(dir, "bad.pem")
	os.WriteFile(badPath, []byte("not a key"), 0o600)
	if _, err := keys.LoadPrivateKey(badPath); err == nil || !strings.HasPrefix(err.Error(), badPath+": no PEM data found") {
		t.Errorf("bad file: error = %v", err)
	}
}

// TestSigningKeyIsRedacted checks that no formatting path prints the key.
func TestSigningKeyIsRedacted(t *testing.T) {
	k := testKeys()
	rsaKey, err := keys.NewSigningKey(keys.RS256, k.rsa2048, "kid-7")
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := keys.NewSigningKey(keys.ES256, k.p256, "")
	if err != nil {
		t.Fatal(err)
	}
	leaks := []string{k.rsa2048.D.String(), k.rsa2048.Primes[0].String(), k.rsa2048.D.Text(16), k.p256.D.String(), k.p256.D.Text(16)}
	holder := struct{ Key *keys.SigningKey }{rsaKey}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", rsaKey, "ec", ecKey)
	outputs := []string{
		fmt.Sprint(rsaKey), fmt.Sprintf("%v %+v %#v %s %q %x", rsaKey, rsaKey, rsaKey, rsaKey, rsaKey, rsaKey),
		fmt.Sprintf("%v %+v %#v", *rsaKey, *ecKey, ecKey),
		fmt.Sprintf("%v %+v %#v", holder, holder, &holder),
		logged.String(),
	}
	for _, out := range outputs {
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Fatalf("output reveals key material: %s", out)
			}
		}
	}
	if got, want := rsaKey.String(), `RS256 signing key (kid "kid-7")`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%+v", ecKey), "ES256 signing key"; got != want {
		t.Errorf("%%+v = %q, want %q", got, want)
	}
	if _, err := keys.NewSigningKey(keys.ES256, k.rsa2048, ""); err == nil {
		t.Error("NewSigningKey(ES256, RSA key) = nil error")
	}
}

// TestLoadConformanceTestKeys reads the PEM files of the conformance
// server's test keys, which other languages' runtimes read too.
func TestLoadConformanceTestKeys(t *testing.T) {
	tk, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, ecPub := authserver.RSATestKey().Public(), authserver.ECTestKey().Public()
	tests := []struct {
		path string
		alg  keys.Algorithm
		want crypto.PublicKey
	}{
		{tk.RSAPKCS1Path, keys.RS256, rsaPub},
		{tk.RSAPKCS1Path, keys.PS256, rsaPub},
		{tk.RSAPKCS8Path, keys.RS256, rsaPub},
		{tk.ECSEC1Path, keys.ES256, ecPub},
		{tk.ECPKCS8Path, keys.ES256, ecPub},
	}
	for _, tt := range tests {
		k, err := keys.LoadSigningKey(tt.path, tt.alg, "")
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tt.path), err)
			continue
		}
		if !tt.want.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
			t.Errorf("%s: loaded another key", filepath.Base(tt.path))
		}
	}
	for _, path := range []string{tk.RSAPublicPath, tk.ECPublicPath} {
		if _, err := keys.LoadPrivateKey(path); err == nil || !strings.Contains(err.Error(), "no private key found") {
			t.Errorf("%s: error = %v, want no private key found", filepath.Base(path), err)
		}
	}
}
