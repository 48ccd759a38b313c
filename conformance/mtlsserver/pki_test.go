package mtlsserver_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
)

func pemType(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return block.Type
}

func TestWriteTestPKI(t *testing.T) {
	pki := writePKI(t)
	pairs := map[string]*mtlsserver.KeyPair{"ca": pki.CA, "server": pki.Server, "client": pki.Client, "self-signed": pki.SelfSigned}
	for name, kp := range pairs {
		if kp.CertPath != filepath.Join(pki.Dir, name+".pem") || kp.KeyPath != filepath.Join(pki.Dir, name+"-key.pem") {
			t.Errorf("%s: files %s and %s", name, kp.CertPath, kp.KeyPath)
		}
		// The files load as a client runtime loads them.
		if _, err := tls.LoadX509KeyPair(kp.CertPath, kp.KeyPath); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, path := range []string{kp.CertPath, kp.KeyPath} {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
			}
		}
		if got := pemType(t, kp.CertPath); got != "CERTIFICATE" {
			t.Errorf("%s holds %q", kp.CertPath, got)
		}
	}
	for path, want := range map[string]string{
		pki.CA.KeyPath:         "PRIVATE KEY",
		pki.Server.KeyPath:     "PRIVATE KEY",
		pki.Client.KeyPath:     "PRIVATE KEY",
		pki.SelfSigned.KeyPath: "EC PRIVATE KEY",
	} {
		if got := pemType(t, path); got != want {
			t.Errorf("%s holds %q, want %q", path, got, want)
		}
	}
	entries, err := os.ReadDir(pki.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 8 {
		t.Errorf("%d files in the directory, want 8 (no leftover temporary files)", len(entries))
	}

	roots := pki.CertPool()
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		_, err := pki.Server.Certificate.Verify(x509.VerifyOptions{DNSName: host, Roots: roots})
		if err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	_, err = pki.Client.Certificate.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if got := pki.Client.Certificate.Subject.String(); got != mtlsserver.ClientSubjectDN {
		t.Errorf("client subject = %q, want %q", got, mtlsserver.ClientSubjectDN)
	}
	self := pki.SelfSigned.Certificate
	if self.IsCA {
		t.Error("the self-signed client certificate is a CA")
	}
	if err := self.CheckSignature(self.SignatureAlgorithm, self.RawTBSCertificate, self.Signature); err != nil {
		t.Errorf("self-signed certificate is not signed by its own key: %v", err)
	}
	if _, err := self.Verify(x509.VerifyOptions{Roots: roots}); err == nil {
		t.Error("the self-signed certificate chains to the test CA")
	}

	sum := sha256.Sum256(pki.Client.Certificate.Raw)
	if got, want := pki.Client.Thumbprint(), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("Thumbprint() = %q, want %q", got, want)
	}

	if _, err := mtlsserver.WriteTestPKI(filepath.Join(pki.Dir, "missing")); err == nil {
		t.Error("WriteTestPKI into a missing directory succeeded")
	}
}

func TestReissueClientCertificate(t *testing.T) {
	pki := writePKI(t)
	old := pki.Client
	oldPEM, err := os.ReadFile(old.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := pki.ReissueClientCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if pki.Client != renewed || renewed.CertPath != old.CertPath || renewed.KeyPath != old.KeyPath {
		t.Fatal("the reissued pair is not in the same files")
	}
	newPEM, err := os.ReadFile(renewed.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(newPEM) == string(oldPEM) || renewed.PrivateKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(old.PrivateKey.Public()) {
		t.Error("the certificate file or the key did not change")
	}
	loaded, err := tls.LoadX509KeyPair(renewed.CertPath, renewed.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Leaf.SerialNumber.Cmp(renewed.Certificate.SerialNumber) != 0 {
		t.Error("the files do not hold the reissued certificate")
	}
	if renewed.Certificate.Subject.String() != mtlsserver.ClientSubjectDN {
		t.Errorf("subject = %q", renewed.Certificate.Subject)
	}
}
