package mtlsserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Common names of the default client certificates, and the subject DN of
// the CA-issued one in the string form (RFC 4514, as
// crypto/x509/pkix.Name.String writes it) that the default tls_client_auth
// client registers as its tls_client_auth_subject_dn.
const (
	ClientCommonName     = "mtls-client"
	SelfSignedCommonName = "self-signed-client"
	ClientSubjectDN      = "CN=" + ClientCommonName + ",O=" + certificateOrg
)

const (
	certificateOrg        = "Coyote Conformance"
	certificateLifetime   = 24 * time.Hour
	certificateBackdating = time.Hour
)

// KeyPair is a certificate and its private key, both written as PEM files.
type KeyPair struct {
	// CertPath is the certificate file (a "CERTIFICATE" block).
	CertPath string
	// KeyPath is the private key file: PKCS #8 ("PRIVATE KEY") or, for
	// self-signed client certificates, SEC 1 ("EC PRIVATE KEY").
	KeyPath string
	// Certificate is the parsed certificate.
	Certificate *x509.Certificate
	// PrivateKey is the certificate's ECDSA P-256 private key.
	PrivateKey crypto.Signer
}

// TLSCertificate returns the key pair for use in a tls.Config.
func (kp *KeyPair) TLSCertificate() tls.Certificate {
	return tls.Certificate{
		Certificate: [][]byte{kp.Certificate.Raw},
		PrivateKey:  kp.PrivateKey,
		Leaf:        kp.Certificate,
	}
}

// Thumbprint returns the certificate's x5t#S256 value.
func (kp *KeyPair) Thumbprint() string { return Thumbprint(kp.Certificate) }

// Thumbprint returns the X.509 certificate SHA-256 thumbprint of RFC 8705
// Section 3.1: the base64url encoding, without padding, of the SHA-256
// hash of the certificate's DER encoding.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PKI is a test public key infrastructure written to a directory: a
// certificate authority, a server certificate it issued, a client
// certificate it issued and a self-signed client certificate. Its methods
// are not safe for concurrent use.
type PKI struct {
	// Dir is the directory that holds the files.
	Dir string
	// CA is the certificate authority (ca.pem, ca-key.pem). Clients use
	// CA.CertPath as their ca_cert_path; the server trusts it for
	// tls_client_auth.
	CA *KeyPair
	// Server is the server certificate for 127.0.0.1, ::1 and localhost
	// (server.pem, server-key.pem).
	Server *KeyPair
	// Client is the CA-issued client certificate with subject
	// ClientSubjectDN (client.pem, client-key.pem).
	Client *KeyPair
	// SelfSigned is the self-signed client certificate with common name
	// SelfSignedCommonName (self-signed.pem, self-signed-key.pem, the
	// key in SEC 1).
	SelfSigned *KeyPair
}

// WriteTestPKI generates a test PKI and writes it as PEM files with mode
// 0600 into dir, which must exist. Certificates are valid from an hour ago
// for a day; every key is a fresh ECDSA P-256 key.
func WriteTestPKI(dir string) (*PKI, error) {
	p := &PKI{Dir: dir}
	var err error
	if p.CA, err = p.newCA(); err != nil {
		return nil, err
	}
	if p.Server, err = p.newServerCertificate(); err != nil {
		return nil, err
	}
	if p.Client, err = p.IssueClientCertificate("client", ClientCommonName); err != nil {
		return nil, err
	}
	if p.SelfSigned, err = p.SelfSignedClientCertificate("self-signed", SelfSignedCommonName); err != nil {
		return nil, err
	}
	return p, nil
}

// CertPool returns a pool that holds the CA certificate.
func (p *PKI) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Certificate)
	return pool
}

// IssueClientCertificate issues a client certificate with a fresh key for
// the subject "CN=<commonName>,O=Coyote Conformance" and writes it as
// <name>.pem and <name>-key.pem (PKCS #8). Files of the same name are
// replaced, each atomically, the key first.
func (p *PKI) IssueClientCertificate(name, commonName string) (*KeyPair, error) {
	return p.writeKeyPair(name, &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{certificateOrg}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, p.CA, false)
}

// SelfSignedClientCertificate creates a self-signed client certificate
// with a fresh key for the subject "CN=<commonName>,O=Coyote Conformance"
// and writes it as <name>.pem and <name>-key.pem (SEC 1). Files of the
// same name are replaced, each atomically, the key first.
func (p *PKI) SelfSignedClientCertificate(name, commonName string) (*KeyPair, error) {
	return p.writeKeyPair(name, &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{certificateOrg}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, nil, true)
}

// ReissueClientCertificate replaces Client with a new certificate and key
// for the same subject, rewriting client.pem and client-key.pem in place,
// as a certificate rotation does. The server accepts the new certificate
// at once, since it matches tls_client_auth clients by CA and subject.
func (p *PKI) ReissueClientCertificate() (*KeyPair, error) {
	kp, err := p.IssueClientCertificate("client", ClientCommonName)
	if err != nil {
		return nil, err
	}
	p.Client = kp
	return kp, nil
}

// ReissueSelfSignedCertificate replaces SelfSigned with a new certificate
// and key, rewriting self-signed.pem and self-signed-key.pem in place. The
// server knows self-signed certificates by thumbprint: register the new
// one with [Server.TrustSelfSignedCertificate] before using it.
func (p *PKI) ReissueSelfSignedCertificate() (*KeyPair, error) {
	kp, err := p.SelfSignedClientCertificate("self-signed", SelfSignedCommonName)
	if err != nil {
		return nil, err
	}
	p.SelfSigned = kp
	return kp, nil
}

func (p *PKI) newCA() (*KeyPair, error) {
	return p.writeKeyPair("ca", &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Coyote Conformance Test CA", Organization: []string{certificateOrg}},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}, nil, false)
}

func (p *PKI) newServerCertificate() (*KeyPair, error) {
	return p.writeKeyPair("server", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1", Organization: []string{certificateOrg}},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, p.CA, false)
}

// writeKeyPair signs template with a fresh key, by issuer or, when issuer
// is nil, by the key itself, and writes the pair to <name>.pem and
// <name>-key.pem.
func (p *PKI) writeKeyPair(name string, template *x509.Certificate, issuer *KeyPair, sec1 bool) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	template.SerialNumber = serial
	template.NotBefore = now.Add(-certificateBackdating)
	template.NotAfter = now.Add(certificateLifetime)
	parent, signer := template, crypto.Signer(key)
	if issuer != nil {
		parent, signer = issuer.Certificate, issuer.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	var keyBlock *pem.Block
	if sec1 {
		b, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		keyBlock = &pem.Block{Type: "EC PRIVATE KEY", Bytes: b}
	} else {
		b, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		keyBlock = &pem.Block{Type: "PRIVATE KEY", Bytes: b}
	}
	kp := &KeyPair{
		CertPath:    filepath.Join(p.Dir, name+".pem"),
		KeyPath:     filepath.Join(p.Dir, name+"-key.pem"),
		Certificate: cert,
		PrivateKey:  key,
	}
	if err := writeFileAtomic(kp.KeyPath, pem.EncodeToMemory(keyBlock)); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(kp.CertPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return nil, err
	}
	return kp, nil
}

// writeFileAtomic writes data to path with mode 0600 (os.CreateTemp's)
// through a temporary file and a rename, so that readers see the old or the new content only.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
