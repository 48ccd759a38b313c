package runner

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/conformance/faultserver"
	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
)

// ExpiredIssuer is the JWT bearer issuer that the fosite server trusted
// with the RSA and EC test keys until an hour before it started: its
// assertions fail as expired grants would.
const ExpiredIssuer = "expired-issuer"

// Fixtures are the files shared by every scenario of a run: the test keys
// and the test PKI. Scenarios name them through ${keys.*} and ${mtls.*}.
type Fixtures struct {
	// Keys are the JWT test keys (authserver.WriteTestKeys).
	Keys authserver.TestKeys
	// PKI is the mutual-TLS test PKI (mtlsserver.WriteTestPKI).
	PKI *mtlsserver.PKI
}

// WriteFixtures writes the test keys and PKI under dir.
func WriteFixtures(dir string) (*Fixtures, error) {
	keyDir, pkiDir := dir+"/keys", dir+"/pki"
	for _, d := range []string{keyDir, pkiDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	keys, err := authserver.WriteTestKeys(keyDir)
	if err != nil {
		return nil, fmt.Errorf("write test keys: %w", err)
	}
	pki, err := mtlsserver.WriteTestPKI(pkiDir)
	if err != nil {
		return nil, fmt.Errorf("write test PKI: %w", err)
	}
	return &Fixtures{Keys: keys, PKI: pki}, nil
}

// environment is what one run of a scenario sees: its servers, its
// directory and its variables.
type environment struct {
	dir      string
	fixtures *Fixtures
	fosite   *authserver.Server
	mtls     *mtlsserver.Server
	fault    *faultserver.Server
	// vars holds the ${group.name} variables: the servers', the
	// fixtures', and the results saved by steps (save_as).
	vars map[string]map[string]string
}

// startEnvironment starts the servers that set names and fills in the
// variables.
func startEnvironment(set ServerSet, fx *Fixtures, dir string) (*environment, error) {
	env := &environment{dir: dir, fixtures: fx, vars: map[string]map[string]string{}}
	k := fx.Keys
	env.vars["run"] = map[string]string{"dir": dir}
	env.vars["keys"] = map[string]string{
		"rsa_pkcs1":          k.RSAPKCS1Path,
		"rsa_pkcs8":          k.RSAPKCS8Path,
		"ec_sec1":            k.ECSEC1Path,
		"ec_pkcs8":           k.ECPKCS8Path,
		"untrusted_ec_pkcs8": k.UntrustedECPKCS8Path,
		"rsa_kid":            authserver.RSATestKeyID,
		"ec_kid":             authserver.ECTestKeyID,
	}
	if o := set.Fosite; o != nil {
		issuers := authserver.DefaultIssuers()
		for _, ti := range authserver.DefaultIssuers() {
			if ti.Issuer == "conformance-issuer" {
				ti.Issuer = ExpiredIssuer
				ti.ExpiresAt = time.Now().Add(-time.Hour)
				issuers = append(issuers, ti)
			}
		}
		srv, err := authserver.Start(authserver.Options{
			Issuers:             issuers,
			AccessTokenLifespan: time.Duration(o.AccessTokenLifetimeSeconds) * time.Second,
		})
		if err != nil {
			env.close()
			return nil, fmt.Errorf("start the fosite server: %w", err)
		}
		env.fosite = srv
		env.vars["fosite"] = map[string]string{
			"url":               srv.URL(),
			"token_url":         srv.TokenURL(),
			"authorization_url": srv.AuthorizationURL(),
			"revocation_url":    srv.RevocationURL(),
			"introspection_url": srv.IntrospectionURL(),
			"expired_issuer":    ExpiredIssuer,
		}
	}
	if o := set.MTLS; o != nil {
		srv, err := mtlsserver.Start(mtlsserver.Options{
			PKI:                 fx.PKI,
			AccessTokenLifespan: time.Duration(o.AccessTokenLifetimeSeconds) * time.Second,
		})
		if err != nil {
			env.close()
			return nil, fmt.Errorf("start the mTLS server: %w", err)
		}
		env.mtls = srv
		p := fx.PKI
		env.vars["mtls"] = map[string]string{
			"url":                    srv.URL(),
			"mtls_url":               srv.MTLSURL(),
			"token_url":              srv.MTLSTokenURL(),
			"revocation_url":         srv.MTLSRevocationURL(),
			"introspection_url":      srv.MTLSIntrospectionURL(),
			"authorization_url":      srv.AuthorizationURL(),
			"ca_cert":                p.CA.CertPath,
			"client_cert":            p.Client.CertPath,
			"client_key":             p.Client.KeyPath,
			"client_thumbprint":      p.Client.Thumbprint(),
			"self_signed_cert":       p.SelfSigned.CertPath,
			"self_signed_key":        p.SelfSigned.KeyPath,
			"self_signed_thumbprint": p.SelfSigned.Thumbprint(),
		}
	}
	if set.Fault != nil {
		srv, err := faultserver.Start()
		if err != nil {
			env.close()
			return nil, fmt.Errorf("start the fault server: %w", err)
		}
		env.fault = srv
		env.vars["fault"] = map[string]string{"url": srv.URL(), "token_url": srv.TokenURL()}
	}
	return env, nil
}

// close stops every server still running.
func (env *environment) close() {
	if env.fosite != nil {
		env.fosite.Close()
	}
	if env.mtls != nil {
		env.mtls.Close()
	}
	if env.fault != nil {
		env.fault.Close()
	}
}

// stop stops one server, as a scenario's stop_server step asks.
func (env *environment) stop(name string) error {
	switch name {
	case "fosite":
		if env.fosite == nil {
			return errors.New("the fosite server is not running")
		}
		err := env.fosite.Close()
		env.fosite = nil
		return err
	case "mtls":
		if env.mtls == nil {
			return errors.New("the mTLS server is not running")
		}
		err := env.mtls.Close()
		env.mtls = nil
		return err
	case "fault":
		if env.fault == nil {
			return errors.New("the fault server is not running")
		}
		err := env.fault.Close()
		env.fault = nil
		return err
	}
	return fmt.Errorf("unknown server %q: want fosite, mtls or fault", name)
}

// browserClient is the user agent of browser steps: it trusts the test CA
// and never follows redirections.
func (env *environment) browserClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: env.fixtures.PKI.CertPool(), MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// varPattern matches ${group.name}.
var varPattern = regexp.MustCompile(`\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_#-]+)\}`)

// expand replaces every ${group.name} in s; an unknown variable is an
// error.
func (env *environment) expand(s string) (string, error) {
	var missing []string
	out := varPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := varPattern.FindStringSubmatch(m)
		if v, ok := env.vars[sub[1]][sub[2]]; ok {
			return v
		}
		missing = append(missing, m)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variable %s", strings.Join(missing, ", "))
	}
	if strings.Contains(out, "${") {
		return "", fmt.Errorf("malformed variable in %q: want ${group.name}", s)
	}
	return out, nil
}

// expandAll expands the variables in every string of a decoded YAML
// value.
func (env *environment) expandAll(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return env.expand(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			x, err := env.expandAll(e)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			x, err := env.expandAll(e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v, nil
}

// save stores a step's result under name for later ${name.field}
// variables and comparisons.
func (env *environment) save(name string, values map[string]string) error {
	if name == "" {
		return nil
	}
	switch name {
	case "run", "keys", "fosite", "mtls", "fault":
		return fmt.Errorf("save_as %q: the name is reserved", name)
	}
	env.vars[name] = values
	return nil
}

// saved returns the values saved under name.
func (env *environment) saved(name string) (map[string]string, error) {
	v, ok := env.vars[name]
	if !ok {
		return nil, fmt.Errorf("nothing saved as %q", name)
	}
	return v, nil
}
