package revocation_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/introspection"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/revocation"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
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

func basicClient(srv *authserver.Server) *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "basic-secret"}
}

func clientCredentialsToken(t *testing.T, te *tokenendpoint.Endpoint) *token.Token {
	t.Helper()
	tok, err := te.Exchange(context.Background(), "test", url.Values{"grant_type": {"client_credentials"}, "scope": {"trading"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func active(t *testing.T, srv *authserver.Server, tok secret.Secret) bool {
	t.Helper()
	ie := &introspection.Endpoint{URL: srv.IntrospectionURL(), TokenEndpoint: basicClient(srv)}
	r, err := ie.Introspect(context.Background(), tok, "")
	if err != nil {
		t.Fatal(err)
	}
	return r.Active
}

func TestRevokeAccessToken(t *testing.T) {
	srv := startAuthServer(t)
	ecKey, err := keys.NewSigningKey(keys.ES256, authserver.ECTestKey(), authserver.ECTestKeyID)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*tokenendpoint.Endpoint{
		"client_secret_basic": basicClient(srv),
		"client_secret_post":  {URL: srv.TokenURL(), ClientID: "post-client", ClientSecret: "post-secret", AuthMethod: tokenendpoint.ClientSecretPost},
		"private_key_jwt":     {URL: srv.TokenURL(), ClientID: "jwt-ec-client", AuthMethod: tokenendpoint.PrivateKeyJWT, SigningKey: ecKey},
	}
	for name, te := range clients {
		t.Run(name, func(t *testing.T) {
			tok := clientCredentialsToken(t, te)
			if !active(t, srv, tok.AccessToken) {
				t.Fatal("fresh token is not active")
			}
			re := &revocation.Endpoint{URL: srv.RevocationURL(), TokenEndpoint: te}
			if err := re.Revoke(context.Background(), tok.AccessToken, revocation.HintAccessToken); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if active(t, srv, tok.AccessToken) {
				t.Error("revoked token is still active")
			}
		})
	}
}

// authorizationCodeToken runs the authorization code grant for
// basic-client, playing the browser, and returns a token with a refresh
// token.
func authorizationCodeToken(t *testing.T, srv *authserver.Server, te *tokenendpoint.Endpoint) *token.Token {
	t.Helper()
	redirect := "http://127.0.0.1/callback"
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {te.ClientID},
		"redirect_uri":  {redirect},
		"scope":         {"trading"},
		"state":         {"state-1234567890"},
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.AuthorizationURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorization response %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := te.Exchange(context.Background(), "test", url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {loc.Query().Get("code")},
		"redirect_uri": {redirect},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken.IsZero() {
		t.Fatal("no refresh token issued")
	}
	return tok
}

func TestRevokeRefreshToken(t *testing.T) {
	srv := startAuthServer(t)
	te := basicClient(srv)
	tok := authorizationCodeToken(t, srv, te)
	re := &revocation.Endpoint{URL: srv.RevocationURL(), TokenEndpoint: te}
	if err := re.Revoke(context.Background(), tok.RefreshToken, revocation.HintRefreshToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	_, err := te.Exchange(context.Background(), "test", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken.Reveal()}})
	wantCode(t, err, oautherr.CodeInvalidGrant)
}

func TestRevokeUnknownTokenSucceeds(t *testing.T) {
	srv := startAuthServer(t)
	re := &revocation.Endpoint{URL: srv.RevocationURL(), TokenEndpoint: basicClient(srv)}
	// RFC 7009 Section 2.2: invalid tokens do not cause an error.
	if err := re.Revoke(context.Background(), "not-a-token-this-server-issued", ""); err != nil {
		t.Errorf("Revoke(unknown) = %v, want nil", err)
	}
}

func TestRevokeWrongClientCredentials(t *testing.T) {
	srv := startAuthServer(t)
	tok := clientCredentialsToken(t, basicClient(srv))
	te := &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "basic-client", ClientSecret: "wrong-secret"}
	re := &revocation.Endpoint{URL: srv.RevocationURL(), TokenEndpoint: te}
	err := re.Revoke(context.Background(), tok.AccessToken, revocation.HintAccessToken)
	oerr := wantCode(t, err, oautherr.CodeInvalidClient)
	if oerr.Op != revocation.Operation || oerr.Retryable || oerr.StatusCode != http.StatusUnauthorized {
		t.Errorf("error = %#v", oerr)
	}
	if strings.Contains(err.Error(), tok.AccessToken.Reveal()) || strings.Contains(err.Error(), "wrong-secret") {
		t.Error("error message reveals a credential")
	}
	if !active(t, srv, tok.AccessToken) {
		t.Error("token revoked by a client that failed to authenticate")
	}
}

// recordingServer answers revocation requests with the given status,
// headers and body, and records the last request's form and credentials.
type recordingServer struct {
	*httptest.Server
	form url.Values
	user string
	pass string
}

func newRecordingServer(t *testing.T, status int, header http.Header, body string) *recordingServer {
	t.Helper()
	rs := &recordingServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		rs.form = r.PostForm
		rs.user, rs.pass, _ = r.BasicAuth()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) endpoint() *revocation.Endpoint {
	return &revocation.Endpoint{
		URL:           rs.URL + "/revoke",
		TokenEndpoint: &tokenendpoint.Endpoint{URL: rs.URL + "/token", ClientID: "bot", ClientSecret: "s3cret"},
	}
}

func TestRevokeRequest(t *testing.T) {
	rs := newRecordingServer(t, http.StatusOK, nil, "ignored body")
	if err := rs.endpoint().Revoke(context.Background(), "tok-123", revocation.HintRefreshToken); err != nil {
		t.Fatal(err)
	}
	if rs.form.Get("token") != "tok-123" || rs.form.Get("token_type_hint") != "refresh_token" || len(rs.form) != 2 {
		t.Errorf("form = %v", rs.form)
	}
	if rs.user != "bot" || rs.pass != "s3cret" {
		t.Errorf("basic auth = %q:%q", rs.user, rs.pass)
	}

	rs.endpoint().Revoke(context.Background(), "tok-123", "")
	if rs.form.Has("token_type_hint") {
		t.Error("empty hint sent")
	}
}

func TestRevokeErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		code       string
		retryable  bool
		retryAfter time.Duration
	}{
		{"unsupported token type", 400, nil, `{"error":"unsupported_token_type","error_description":"refresh tokens only"}`, revocation.CodeUnsupportedTokenType, false, 0},
		{"unavailable with Retry-After", 503, http.Header{"Retry-After": {"30"}}, ``, oautherr.CodeServerError, true, 30 * time.Second},
		{"rate limited", 429, nil, ``, oautherr.CodeTemporarilyUnavailable, true, 0},
		{"OAuth error from a 503", 503, nil, `{"error":"temporarily_unavailable"}`, oautherr.CodeTemporarilyUnavailable, true, 0},
		{"not found", 404, nil, `not here`, oautherr.CodeInvalidResponse, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRecordingServer(t, tt.status, tt.header, tt.body)
			err := rs.endpoint().Revoke(context.Background(), "tok-123", "")
			oerr := wantCode(t, err, tt.code)
			if oerr.Retryable != tt.retryable || oerr.RetryAfter != tt.retryAfter || oerr.StatusCode != tt.status || oerr.Op != revocation.Operation {
				t.Errorf("error = %#v", oerr)
			}
		})
	}
}

func TestRevokeConfigErrors(t *testing.T) {
	te := &tokenendpoint.Endpoint{URL: "https://as.example/token", ClientID: "bot", ClientSecret: "s"}
	for name, e := range map[string]*revocation.Endpoint{
		"nil":          nil,
		"no URL":       {TokenEndpoint: te},
		"relative URL": {URL: "/revoke", TokenEndpoint: te},
		"no client":    {URL: "https://as.example/revoke"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, e.Revoke(context.Background(), "tok", ""), oautherr.CodeInvalidConfig)
		})
	}
	e := &revocation.Endpoint{URL: "https://as.example/revoke", TokenEndpoint: te}
	wantCode(t, e.Revoke(context.Background(), "", ""), oautherr.CodeInvalidConfig)
}

func TestRevokeNetworkAndCancel(t *testing.T) {
	rs := newRecordingServer(t, 200, nil, "")
	e := rs.endpoint()
	rs.Close()
	if oerr := wantCode(t, e.Revoke(context.Background(), "tok", ""), oautherr.CodeNetworkError); !oerr.Retryable {
		t.Error("network error not retryable")
	}

	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	e = &revocation.Endpoint{URL: hung.URL, TokenEndpoint: &tokenendpoint.Endpoint{URL: hung.URL, ClientID: "bot", ClientSecret: "s"}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	wantCode(t, e.Revoke(ctx, "tok", ""), oautherr.CodeCanceled)
}
