package introspection_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/introspection"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/mtls"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/revocation"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

func startAuthServer(t *testing.T) *authserver.Server {
	t.Helper()
	srv, err := authserver.Start(authserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func wantCode(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("err = %v, want an *oautherr.Error with code %q", err, code)
	}
	if oerr.Code != code {
		t.Fatalf("code = %q (%v), want %q", oerr.Code, err, code)
	}
	return oerr
}

func TestIntrospectAgainstAuthServer(t *testing.T) {
	srv := startAuthServer(t)
	rsaKey, err := keys.NewSigningKey(keys.RS256, authserver.RSATestKey(), authserver.RSATestKeyID)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*tokenendpoint.Endpoint{
		"client_secret_basic": {URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"},
		"client_secret_post":  {URL: srv.TokenURL(), ClientID: "post-client", ClientSecret: "post-secret", AuthMethod: tokenendpoint.ClientSecretPost},
		"private_key_jwt":     {URL: srv.TokenURL(), ClientID: "jwt-rsa-client", AuthMethod: tokenendpoint.PrivateKeyJWT, SigningKey: rsaKey},
	}
	for name, te := range clients {
		t.Run(name, func(t *testing.T) {
			before := time.Now().Add(-2 * time.Second)
			tok, err := te.Exchange(context.Background(), "test", url.Values{"grant_type": {"client_credentials"}, "scope": {"trading market-data"}})
			if err != nil {
				t.Fatal(err)
			}
			ie := &introspection.Endpoint{URL: srv.IntrospectionURL(), TokenEndpoint: te}
			r, err := ie.Introspect(context.Background(), tok.AccessToken, introspection.HintAccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Active || r.ClientID != te.ClientID || r.Subject != te.ClientID {
				t.Errorf("response = %+v", r)
			}
			slices.Sort(r.Scopes)
			if !slices.Equal(r.Scopes, []string{"market-data", "trading"}) {
				t.Errorf("Scopes = %q", r.Scopes)
			}
			if r.ExpiresAt.Before(time.Now().Add(50*time.Minute)) || r.IssuedAt.Before(before) || r.IssuedAt.After(time.Now().Add(time.Second)) {
				t.Errorf("ExpiresAt = %v, IssuedAt = %v", r.ExpiresAt, r.IssuedAt)
			}
			if r.Confirmation != nil {
				t.Errorf("Confirmation = %+v for a token that is not certificate-bound", r.Confirmation)
			}

			// Revoked, the token is inactive, which is not an error.
			re := &revocation.Endpoint{URL: srv.RevocationURL(), TokenEndpoint: te}
			if err := re.Revoke(context.Background(), tok.AccessToken, revocation.HintAccessToken); err != nil {
				t.Fatal(err)
			}
			r, err = ie.Introspect(context.Background(), tok.AccessToken, "")
			if err != nil || r.Active {
				t.Errorf("after revocation: %+v, %v; want inactive", r, err)
			}
		})
	}
}

func TestIntrospectUnknownToken(t *testing.T) {
	srv := startAuthServer(t)
	te := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"}
	ie := &introspection.Endpoint{URL: srv.IntrospectionURL(), TokenEndpoint: te}
	r, err := ie.Introspect(context.Background(), "made-up", "")
	if err != nil || r.Active {
		t.Errorf("Introspect(unknown) = %+v, %v; want inactive", r, err)
	}
}

func TestIntrospectWrongCredentials(t *testing.T) {
	srv := startAuthServer(t)
	te := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "wrong"}
	ie := &introspection.Endpoint{URL: srv.IntrospectionURL(), TokenEndpoint: te}
	_, err := ie.Introspect(context.Background(), "some-token", "")
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.StatusCode != http.StatusUnauthorized || oerr.Retryable || oerr.Op != introspection.Operation {
		t.Fatalf("err = %#v, want a non-retryable 401 error", err)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), "some-token") {
		t.Errorf("error %q reveals a credential", err)
	}
}

// fakeServer answers introspection requests with a fixed response and
// records the last form.
func fakeServer(t *testing.T, status int, body string) (*introspection.Endpoint, *url.Values) {
	t.Helper()
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &introspection.Endpoint{
		URL:           srv.URL + "/introspect",
		TokenEndpoint: &tokenendpoint.Endpoint{URL: srv.URL + "/token", ClientID: "bot", ClientSecret: "s3cret", AuthMethod: tokenendpoint.ClientSecretPost},
	}, &form
}

func TestIntrospectParsesEveryMember(t *testing.T) {
	body := `{
		"active": true,
		"scope": "trading  market-data",
		"client_id": "bot",
		"username": "jdoe",
		"token_type": "Bearer",
		"exp": 1893456000,
		"iat": 1893452400.5,
		"nbf": 1893452400,
		"sub": "Z5O3upPC88QrAjx00dis",
		"aud": "https://api.example",
		"iss": "https://as.example",
		"jti": "jti-1",
		"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
		"extension": {"ignored": true}
	}`
	ie, form := fakeServer(t, 200, body)
	r, err := ie.Introspect(context.Background(), "tok-1", introspection.HintRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	want := &introspection.Response{
		Active:       true,
		Scopes:       []string{"trading", "market-data"},
		ClientID:     "bot",
		Username:     "jdoe",
		TokenType:    "Bearer",
		ExpiresAt:    time.Unix(1893456000, 0),
		IssuedAt:     time.Unix(1893452400, 5e8),
		NotBefore:    time.Unix(1893452400, 0),
		Subject:      "Z5O3upPC88QrAjx00dis",
		Audience:     []string{"https://api.example"},
		Issuer:       "https://as.example",
		JWTID:        "jti-1",
		Confirmation: &mtls.Confirmation{X5tS256: "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	wantForm := url.Values{"token": {"tok-1"}, "token_type_hint": {"refresh_token"}, "client_id": {"bot"}, "client_secret": {"s3cret"}}
	if diff := cmp.Diff(wantForm, *form); diff != "" {
		t.Errorf("request form (-want +got):\n%s", diff)
	}
}

func TestIntrospectResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *introspection.Response
	}{
		{"inactive", `{"active":false}`, &introspection.Response{}},
		{"inactive ignores the rest", `{"active":false,"scope":"trading","exp":"soon"}`, &introspection.Response{}},
		{"audience array", `{"active":true,"aud":["a","b"]}`, &introspection.Response{Active: true, Audience: []string{"a", "b"}}},
		{"numeric string date", `{"active":true,"exp":"1893456000"}`, &introspection.Response{Active: true, ExpiresAt: time.Unix(1893456000, 0)}},
		{"null members", `{"active":true,"aud":null,"cnf":null,"exp":null}`, &introspection.Response{Active: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ie, _ := fakeServer(t, 200, tt.body)
			r, err := ie.Introspect(context.Background(), "tok", "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIntrospectInvalidResponses(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `<html>`, "not a valid JSON object"},
		{"array", `[]`, "not a valid JSON object"},
		{"empty", ``, "not a valid JSON object"},
		{"no active", `{"scope":"trading"}`, `no "active" member`},
		{"active as string", `{"active":"true"}`, `"active" has the wrong type`},
		{"exp not a number", `{"active":true,"exp":"tomorrow"}`, `"exp" has the wrong type`},
		{"exp negative", `{"active":true,"exp":-5}`, `"exp" is not a valid NumericDate`},
		{"aud object", `{"active":true,"aud":{"a":1}}`, `"aud" has the wrong type`},
		{"active null", `{"active":null}`, `"active" has the wrong type`},
		{"cnf string", `{"active":true,"cnf":"x"}`, `"cnf" has the wrong type`},
		{"null", `null`, "not a valid JSON object"},
		{"scope number", `{"active":true,"scope":7}`, `"scope" has the wrong type`},
		{"too large", `{"active":true,"jti":"` + strings.Repeat("x", tokenendpoint.MaxResponseBytes) + `"}`, "exceeds 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ie, _ := fakeServer(t, 200, tt.body)
			_, err := ie.Introspect(context.Background(), "secret-token-value", "")
			oerr := wantCode(t, err, oautherr.CodeInvalidResponse)
			if !strings.Contains(oerr.Description, tt.want) || oerr.Op != introspection.Operation || oerr.StatusCode != 200 {
				t.Errorf("error = %#v, want a description containing %q", oerr, tt.want)
			}
			if strings.Contains(err.Error(), "secret-token-value") {
				t.Error("error reveals the token")
			}
		})
	}
}

func TestIntrospectErrorResponses(t *testing.T) {
	ie, _ := fakeServer(t, 401, `{"error":"invalid_client","error_description":"unknown client"}`)
	_, err := ie.Introspect(context.Background(), "tok", "")
	if oerr := wantCode(t, err, oautherr.CodeInvalidClient); oerr.Description != "unknown client" || oerr.Retryable {
		t.Errorf("error = %#v", oerr)
	}
	ie, _ = fakeServer(t, 503, ``)
	_, err = ie.Introspect(context.Background(), "tok", "")
	if oerr := wantCode(t, err, oautherr.CodeServerError); !oerr.Retryable {
		t.Errorf("error = %#v, want retryable", oerr)
	}
}

func TestIntrospectConfigErrors(t *testing.T) {
	te := &tokenendpoint.Endpoint{URL: "https://as.example/token", ClientID: "bot", ClientSecret: "s"}
	for name, e := range map[string]*introspection.Endpoint{
		"nil":          nil,
		"no URL":       {TokenEndpoint: te},
		"relative URL": {URL: "introspect", TokenEndpoint: te},
		"no client":    {URL: "https://as.example/introspect"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Introspect(context.Background(), "tok", "")
			wantCode(t, err, oautherr.CodeInvalidConfig)
		})
	}
	e := &introspection.Endpoint{URL: "https://as.example/introspect", TokenEndpoint: te}
	_, err := e.Introspect(context.Background(), "", "")
	wantCode(t, err, oautherr.CodeInvalidConfig)
}
