package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Key identifiers of the test keys. The default clients and issuers
// register the test keys under these IDs, so JWTs signed with a test key
// may name it in their kid header; they may also omit kid.
const (
	RSATestKeyID = "conformance-rsa"
	ECTestKeyID  = "conformance-ec"
)

// The test key pairs, in PKCS #8. They are fixed so that every process
// and every language's test harness sees the same keys, and they protect
// nothing: never use them outside tests.
const (
	rsaTestKeyPEM = `-----BEGIN PRIVATE KEY-----
MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQC0onmjq5on3X3U
dlSCySEKH2g3teZ6n2apXJczsr/BmOJL7RhI72g4GMrwlLgPtBBvGSqCSzhUQlJM
0kPVm6W/oRSckqyPw7lXNR4+LK5e4RudIfOkLZXGRUqbaOgd2+/fP7ker55ZDq0b
3sY6OZjiQGJpbGO0jXHNUdriMK9mP25/6pQg4OHn0k+uaKHs+/9fmwdJZLGc3Y99
AzYZiHy5L532EpVW2Ba7omdRFyEIfvY3ln5D+fYc2q4pBJZp0YFRRP8AfNR8pINi
cdO3yP95AxntsKxYefS/OZblTSKtivOpbfdqC9Gtm6ySBVGdVUB5hX+sihxHHZSg
J7i/FxvVAgMBAAECgf8amNHQTsJc8aq4+l4Tqu1WCR8rv3lT2/oBy1Ii0bYjUoMc
DnCohXtaHIVTZz0koQJYrsaar9w+/aFnvI4VwjG68Esfws5eshaRHR2W32Dp3p8A
fOn4V/bZQfcWwFSJnzU5v1oJv/zCoDTO0Gk0/uKLGIxIlgmKE2YKwAnXGZsrwPoU
Y+F879eHEknUj0cJClMUWL031sCxpjsuS+sG3qHEDsHO7ZJz+f2y02AiqaE2XHXu
ZzYfwAh2Wqab35mq/YdS+J2wnpp9ABSTrWRyJRD8qhKKy/hB+8MWdwjaqBWw2nhq
KkmrNPnJ/qKTzBSmyF31r00BY84io+hB1A3onoECgYEA4kme35U7WPFNowUlWDSo
bMCSGVf9DoeDvaAGcqlxF/DXj3YIbkchYkqGPnP0yo1FWDtw6Hnb/Q3uMd/RCimJ
Nef9NQLInoIRDmRrysZjTkhSrsAfxKVC41YL0H1VrMZewI33dBypsIGP1AoTBzmR
66gN1oGy3U2X1N1O7FsGv1UCgYEAzFpJtcACX+Os+YsqyStSEnfDy1t2jMnNB0Xg
vLbEoSyNGclMzeHrJxW6H7INGyaVEefxTYo8mXp3ggIai8gP36GACWp3K6AStSzy
DuXTZ3nUDDRNebkxRiCD6ZeHcIZv9m1cPF10Y/ti88YYdP8CBsSqJeUQwAeqDu/Y
AOyZ6oECgYB16tU+Pz6g14WUaK8QKsiFe0fmqwI0WwucedJCV+eWCSvbFy/Hf4t2
88zGqJgsILe9BaSNkErBsEuqc64ztHdKvuwkfqHab37B2DSPgxfmiCuF4pnrWA7l
9kXLzDQkB28CujfzqqgGUU2IugM2ZZqTiYxEdmulhLSU+QoSglCezQKBgQCek1Gv
oBg3oM2Rt9Sz1tIRUq61F3yfM9nOUwNabdmX2KKF6BeZjD6WTd3oypow/3eeNYai
zSrJTqd+U3OWFOF8gC6DIALp74WU4hPUS7QJEBjkf5G/a145NPIoSlXnk+s+Jw70
KPEwxNq8oHRKFbjU17fRQDgHS+tDPAs6bF/kAQKBgCqNL0ATLswQ1d6PQsex+zZz
fNbhSNbSRBG24LR5Y3qyRGnxWu9khXQCfcpjGRLANzyZ+RKcvOHakelLO/ck2QlI
OHCaJnPfuPxGLmVLT5s0tN7UZifxkLOyWBDEYWhJsNwthTNyAs29TJdChgiGfxeq
N8pHlUWKYYa/PDnHEqtv
-----END PRIVATE KEY-----`
	ecTestKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGWrqxNbtwYkHIwTY
mjZiEV3oLJrxk9mfgavVekA6bl+hRANCAARWLVyySbb/oHMxp4iY5XOqfX9MdoOL
FTIGgtbOdHsDwvLc/3OPRxbVQny0wl88opShgzIf5wZxP+cUad+5qssQ
-----END PRIVATE KEY-----`
)

// RSATestKey returns the RSA 2048 test key pair. Each call returns a new
// copy.
func RSATestKey() *rsa.PrivateKey {
	return mustParseTestKey(rsaTestKeyPEM).(*rsa.PrivateKey)
}

// ECTestKey returns the ECDSA P-256 test key pair. Each call returns a new
// copy.
func ECTestKey() *ecdsa.PrivateKey {
	return mustParseTestKey(ecTestKeyPEM).(*ecdsa.PrivateKey)
}

func mustParseTestKey(s string) crypto.Signer {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		panic("authserver: test key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic("authserver: parse test key: " + err.Error())
	}
	return key.(crypto.Signer)
}

// TestKeys holds the paths of the PEM files that [WriteTestKeys] wrote:
// the test key pairs in every private key encoding a client may be handed,
// their public keys, and a key pair that no client or issuer trusts.
type TestKeys struct {
	// Dir is the directory that holds the files.
	Dir string
	// RSAPKCS1Path is the RSA test key in PKCS #1 ("RSA PRIVATE KEY").
	RSAPKCS1Path string
	// RSAPKCS8Path is the RSA test key in PKCS #8 ("PRIVATE KEY").
	RSAPKCS8Path string
	// RSAPublicPath is the RSA public key in PKIX ("PUBLIC KEY").
	RSAPublicPath string
	// ECSEC1Path is the EC P-256 test key in SEC 1 ("EC PRIVATE KEY").
	ECSEC1Path string
	// ECPKCS8Path is the EC P-256 test key in PKCS #8 ("PRIVATE KEY").
	ECPKCS8Path string
	// ECPublicPath is the EC public key in PKIX ("PUBLIC KEY").
	ECPublicPath string
	// UntrustedECPKCS8Path is a fresh EC P-256 key in PKCS #8 that no
	// default client or issuer knows: signatures made with it fail.
	UntrustedECPKCS8Path string
}

// WriteTestKeys writes the test key pairs to dir as PEM files with mode
// 0600 and returns their paths. The files are named rsa-pkcs1.pem,
// rsa-pkcs8.pem, rsa-public.pem, ec-sec1.pem, ec-pkcs8.pem, ec-public.pem
// and untrusted-ec-pkcs8.pem. dir must exist.
func WriteTestKeys(dir string) (TestKeys, error) {
	rsaKey, ecKey := RSATestKey(), ECTestKey()
	untrusted, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return TestKeys{}, err
	}
	keys := TestKeys{
		Dir:                  dir,
		RSAPKCS1Path:         filepath.Join(dir, "rsa-pkcs1.pem"),
		RSAPKCS8Path:         filepath.Join(dir, "rsa-pkcs8.pem"),
		RSAPublicPath:        filepath.Join(dir, "rsa-public.pem"),
		ECSEC1Path:           filepath.Join(dir, "ec-sec1.pem"),
		ECPKCS8Path:          filepath.Join(dir, "ec-pkcs8.pem"),
		ECPublicPath:         filepath.Join(dir, "ec-public.pem"),
		UntrustedECPKCS8Path: filepath.Join(dir, "untrusted-ec-pkcs8.pem"),
	}
	ecSEC1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		return TestKeys{}, err
	}
	files := []struct {
		path, blockType string
		der             []byte
	}{
		{path: keys.RSAPKCS1Path, blockType: "RSA PRIVATE KEY", der: x509.MarshalPKCS1PrivateKey(rsaKey)},
		{path: keys.RSAPKCS8Path, blockType: "PRIVATE KEY", der: mustPKCS8(rsaKey)},
		{path: keys.RSAPublicPath, blockType: "PUBLIC KEY", der: mustPKIX(rsaKey.Public())},
		{path: keys.ECSEC1Path, blockType: "EC PRIVATE KEY", der: ecSEC1},
		{path: keys.ECPKCS8Path, blockType: "PRIVATE KEY", der: mustPKCS8(ecKey)},
		{path: keys.ECPublicPath, blockType: "PUBLIC KEY", der: mustPKIX(ecKey.Public())},
		{path: keys.UntrustedECPKCS8Path, blockType: "PRIVATE KEY", der: mustPKCS8(untrusted)},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.blockType, Bytes: f.der})
		if err := os.WriteFile(f.path, data, 0o600); err != nil {
			return TestKeys{}, fmt.Errorf("write test key: %w", err)
		}
	}
	return keys, nil
}

// mustPKCS8 and mustPKIX marshal keys of the types crypto/x509 supports,
// for which marshalling cannot fail.
func mustPKCS8(key crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(errors.Join(errors.New("authserver: marshal test key"), err))
	}
	return der
}

func mustPKIX(key crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		panic(errors.Join(errors.New("authserver: marshal test public key"), err))
	}
	return der
}
