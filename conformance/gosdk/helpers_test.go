package gosdk_test

import (
	"crypto/tls"
	"errors"
	"os"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tlsConfig(pki *mtlsserver.PKI, pair *mtlsserver.KeyPair) *tls.Config {
	cert := pair.TLSCertificate()
	return &tls.Config{RootCAs: pki.CertPool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
