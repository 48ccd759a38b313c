package mock_test

import (
	"context"
	"errors"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/mock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

func newMock(t testing.TB, cfg authcore.Config, opts mock.Options) *mock.Client {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID = "trading-client"
	}
	c, err := mock.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func codeMock(t testing.TB, mode string, opts mock.Options) *mock.Client {
	return newMock(t, authcore.Config{AuthMode: mode, RedirectURI: "http://127.0.0.1:8080/callback", Scopes: []string{"profile", "trading"}}, opts)
}

func oauthError(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var e *oautherr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *oautherr.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %q, want %q: %v", e.Code, code, err)
	}
	return e
}

// TestMethodSet checks that every method of authcore.Client exists on
// mock.Client with the same signature, so that the generated package can
// put either behind its interface.
func TestMethodSet(t *testing.T) {
	real, fake := reflect.TypeFor[*authcore.Client](), reflect.TypeFor[*mock.Client]()
	if real.NumMethod() == 0 {
		t.Fatal("authcore.Client has no methods")
	}
	for i := range real.NumMethod() {
		m := real.Method(i)
		got, ok := fake.MethodByName(m.Name)
		if !ok {
			t.Errorf("mock.Client has no method %s", m.Name)
			continue
		}
		// Method types include the receiver: compare the rest.
		if !sameSignature(m.Type, got.Type) {
			t.Errorf("mock.Client.%s is %v, authcore.Client.%s is %v", m.Name, got.Type, m.Name, m.Type)
		}
	}
}

func sameSignature(a, b reflect.Type) bool {
	if a.NumIn() != b.NumIn() || a.NumOut() != b.NumOut() || a.IsVariadic() != b.IsVariadic() {
		return false
	}
	for i := 1; i < a.NumIn(); i++ {
		if a.In(i) != b.In(i) {
			return false
		}
	}
	for i := range a.NumOut() {
		if a.Out(i) != b.Out(i) {
			return false
		}
	}
	return true
}

func TestClientCredentials(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{Scopes: []string{"trading", "market-data"}}, mock.Options{TokenLifetime: 90 * time.Second})
	before := time.Now()
	tok, err := c.AuthenticateClientCredentials(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken.Reveal(), mock.AccessTokenPrefix) || len(tok.AccessToken.Reveal()) < len(mock.AccessTokenPrefix)+20 {
		t.Errorf("access token %q lacks the prefix or randomness", tok.AccessToken.Reveal())
	}
	if tok.TokenType != token.TypeBearer || !tok.RefreshToken.IsZero() {
		t.Errorf("token = %v, want a Bearer token without refresh token", tok)
	}
	if !slices.Equal(tok.Scopes, []string{"trading", "market-data"}) {
		t.Errorf("scopes = %q, want the default scopes", tok.Scopes)
	}
	if d := tok.ExpiresAt.Sub(before); d < 90*time.Second || d > 91*time.Second {
		t.Errorf("lifetime %v, want 90s", d)
	}
	if c.CurrentToken() != tok {
		t.Error("CurrentToken is not the new token")
	}
	other, err := c.AuthenticateClientCredentials(ctx, []string{"analytics"})
	if err != nil {
		t.Fatal(err)
	}
	if other.AccessToken == tok.AccessToken || !slices.Equal(other.Scopes, []string{"analytics"}) {
		t.Errorf("second token = %v %q", other, other.Scopes)
	}
	got, err := c.GetValidToken(ctx)
	if err != nil || got != other {
		t.Errorf("GetValidToken = %v, %v; want the current token", got, err)
	}
	if n := c.Exchanges(); n != 2 {
		t.Errorf("Exchanges = %d, want 2: GetValidToken served the cached token", n)
	}
}

func TestDefaults(t *testing.T) {
	c := newMock(t, authcore.Config{}, mock.Options{})
	before := time.Now()
	tok, err := c.GetValidToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(before); d < mock.DefaultTokenLifetime || d > mock.DefaultTokenLifetime+time.Second {
		t.Errorf("lifetime %v, want the default %v", d, mock.DefaultTokenLifetime)
	}
	if c.Seed() == 0 {
		t.Error("Seed() = 0 with a random seed")
	}
	if c.ResponseDelay() != 0 || c.FailureRate() != 0 {
		t.Errorf("delay %v, rate %v; want 0", c.ResponseDelay(), c.FailureRate())
	}
}

func TestAllowedScopes(t *testing.T) {
	c := newMock(t, authcore.Config{}, mock.Options{AllowedScopes: []string{"trading"}})
	_, err := c.AuthenticateClientCredentials(context.Background(), []string{"trading", "admin"})
	e := oauthError(t, err, oautherr.CodeInvalidScope)
	if e.StatusCode != 400 || e.Retryable || e.Op != "authenticate_client_credentials" {
		t.Errorf("error = %#v", e)
	}
	if _, err := c.AuthenticateClientCredentials(context.Background(), []string{"trading"}); err != nil {
		t.Error(err)
	}
}

func TestJWTBearer(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{AuthMode: authcore.ModeJWTBearer}, mock.Options{})
	tok, err := c.AuthenticateJWTBearer(ctx, "trader-001", []string{"trading"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.IntrospectToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.Subject != "trader-001" || in.ClientID != "trading-client" || !slices.Equal(in.Scopes, []string{"trading"}) || !in.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("introspection = %+v", in)
	}
	// get_valid_token uses the mode's grant, with the client id as subject.
	if err := c.ClearTokens(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err = c.GetValidToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := c.IntrospectToken(ctx, tok.AccessToken.Reveal()); in.Subject != "trading-client" {
		t.Errorf("subject %q, want the client id", in.Subject)
	}
}

func TestAuthorizationCodePKCE(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	if _, err := c.GetValidToken(ctx); err == nil {
		t.Fatal("GetValidToken before sign-in succeeded")
	} else {
		oauthError(t, err, authcore.CodeLoginRequired)
	}

	req, err := c.StartAuthorizationCodeFlow(ctx, "", []string{"profile", "trading"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host != mock.DefaultIssuer || u.Path != mock.AuthorizationPath {
		t.Errorf("authorization URL %q is not on the mock host", req.URL)
	}
	if q.Get("state") != req.State || req.State == "" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") != authcode.CodeChallengeS256(req.CodeVerifier) || q.Get("client_id") != "trading-client" ||
		q.Get("redirect_uri") != "http://127.0.0.1:8080/callback" || q.Get("scope") != "profile trading" {
		t.Errorf("authorization request %q", req.URL)
	}

	callback, err := c.Authorize(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := url.Parse(callback)
	if !strings.HasPrefix(callback, "http://127.0.0.1:8080/callback?") || !strings.HasPrefix(cb.Query().Get("code"), mock.CodePrefix) ||
		cb.Query().Get("state") != req.State || cb.Query().Get("iss") != mock.DefaultIssuer {
		t.Errorf("callback %q", callback)
	}
	tok, err := c.CompleteAuthorizationCodeFlow(ctx, callback)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.RefreshToken.Reveal(), mock.RefreshTokenPrefix) || !slices.Equal(tok.Scopes, []string{"profile", "trading"}) {
		t.Errorf("token = %v", tok)
	}
	if got, err := c.GetValidToken(ctx); err != nil || got != tok {
		t.Errorf("GetValidToken = %v, %v", got, err)
	}
	in, err := c.IntrospectToken(ctx, "")
	if err != nil || !in.Active || in.Subject != mock.Subject {
		t.Errorf("introspection = %+v, %v", in, err)
	}

	// The state is used once: the same redirection again is refused before
	// any exchange.
	n := c.Exchanges()
	_, err = c.CompleteAuthorizationCodeFlow(ctx, callback)
	oauthError(t, err, authcode.CodeInvalidState)
	if c.Exchanges() != n {
		t.Error("a replayed redirection reached the mock server")
	}
}

func TestAuthorizationCodeChecks(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	start := func() *authcore.AuthorizationRequest {
		t.Helper()
		req, err := c.StartAuthorizationCodeFlow(ctx, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	authorize := func(req *authcore.AuthorizationRequest) url.Values {
		t.Helper()
		callback, err := c.Authorize(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(callback)
		return u.Query()
	}

	t.Run("forged state", func(t *testing.T) {
		q := authorize(start())
		q.Set("state", "forged")
		_, err := c.CompleteAuthorizationCodeFlow(ctx, "http://127.0.0.1:8080/callback?"+q.Encode())
		oauthError(t, err, authcode.CodeInvalidState)
	})
	t.Run("wrong issuer", func(t *testing.T) {
		q := authorize(start())
		q.Set("iss", "https://evil.example")
		_, err := c.CompleteAuthorizationCodeFlow(ctx, "http://127.0.0.1:8080/callback?"+q.Encode())
		oauthError(t, err, authcode.CodeInvalidIssuer)
	})
	t.Run("denied", func(t *testing.T) {
		callback, err := c.Deny(start().URL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteAuthorizationCodeFlow(ctx, callback)
		oauthError(t, err, authcode.CodeAccessDenied)
	})
	t.Run("code and verifier by hand", func(t *testing.T) {
		req := start()
		code := authorize(req).Get("code")
		if _, err := c.AuthenticateAuthorizationCode(ctx, code, "", ""); err == nil {
			t.Fatal("exchange without verifier succeeded")
		} else {
			oauthError(t, err, oautherr.CodeInvalidRequest)
		}
		tok, err := c.AuthenticateAuthorizationCode(ctx, code, req.RedirectURI, req.CodeVerifier.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		// The code is sent once.
		_, err = c.AuthenticateAuthorizationCode(ctx, code, req.RedirectURI, req.CodeVerifier.Reveal())
		oauthError(t, err, oautherr.CodeInvalidGrant)
		if in, _ := c.IntrospectToken(ctx, tok.AccessToken.Reveal()); !in.Active {
			t.Error("token of the first exchange is inactive")
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		req := start()
		other := start()
		code := authorize(req).Get("code")
		_, err := c.AuthenticateAuthorizationCode(ctx, code, "", other.CodeVerifier.Reveal())
		e := oauthError(t, err, oautherr.CodeInvalidGrant)
		if e.StatusCode != 400 || e.Retryable {
			t.Errorf("error = %#v", e)
		}
	})
	t.Run("wrong redirect_uri", func(t *testing.T) {
		req := start()
		code := authorize(req).Get("code")
		_, err := c.AuthenticateAuthorizationCode(ctx, code, "http://127.0.0.1:9999/other", req.CodeVerifier.Reveal())
		oauthError(t, err, oautherr.CodeInvalidGrant)
	})
	t.Run("unknown code", func(t *testing.T) {
		_, err := c.AuthenticateAuthorizationCode(ctx, mock.CodePrefix+"unknown", "", start().CodeVerifier.Reveal())
		oauthError(t, err, oautherr.CodeInvalidGrant)
	})
	t.Run("not a mock request", func(t *testing.T) {
		_, err := c.Authorize("https://auth.example.com/oauth2/authorize?client_id=trading-client")
		oauthError(t, err, oautherr.CodeInvalidRequest)
	})
	t.Run("unknown scope", func(t *testing.T) {
		s := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{AllowedScopes: []string{"profile"}})
		req, err := s.StartAuthorizationCodeFlow(ctx, "", []string{"admin"})
		if err != nil {
			t.Fatal(err)
		}
		callback, err := s.Authorize(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CompleteAuthorizationCodeFlow(ctx, callback)
		oauthError(t, err, oautherr.CodeInvalidScope)
	})
}

func TestPlainAuthorizationCode(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCode, mock.Options{})
	req, err := c.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(req.URL, "code_challenge") || !req.CodeVerifier.IsZero() {
		t.Errorf("plain authorization code request %q has PKCE", req.URL)
	}
	callback, err := c.Authorize(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteAuthorizationCodeFlow(ctx, callback); err != nil {
		t.Fatal(err)
	}
}

func TestCodeFlowOutsideCodeModes(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{})
	_, err := c.StartAuthorizationCodeFlow(ctx, "http://127.0.0.1/callback", nil)
	oauthError(t, err, oautherr.CodeInvalidConfig)
	_, err = c.CompleteAuthorizationCodeFlow(ctx, "http://127.0.0.1/callback?code=x&state=y")
	oauthError(t, err, oautherr.CodeInvalidConfig)
	_, err = c.AuthenticateAuthorizationCode(ctx, "x", "", "")
	oauthError(t, err, oautherr.CodeInvalidConfig)
}

// signIn runs the authorization code flow and returns its token.
func signIn(t *testing.T, c *mock.Client) *token.Token {
	t.Helper()
	ctx := context.Background()
	req, err := c.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	callback, err := c.Authorize(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CompleteAuthorizationCodeFlow(ctx, callback)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func active(t *testing.T, c *mock.Client, v string) bool {
	t.Helper()
	in, err := c.IntrospectToken(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	return in.Active
}

func TestRefreshRotation(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	first := signIn(t, c)
	second, err := c.RefreshToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || c.CurrentToken() != second {
		t.Fatalf("refresh did not rotate: %v -> %v", first, second)
	}
	if active(t, c, first.AccessToken.Reveal()) || active(t, c, first.RefreshToken.Reveal()) {
		t.Error("tokens replaced by the refresh are still active")
	}
	if !active(t, c, second.AccessToken.Reveal()) || !active(t, c, second.RefreshToken.Reveal()) {
		t.Error("new tokens are inactive")
	}
	// Reusing the rotated refresh token fails and revokes the grant.
	_, err = c.RefreshToken(ctx, first.RefreshToken.Reveal())
	oauthError(t, err, oautherr.CodeInvalidGrant)
	if active(t, c, second.AccessToken.Reveal()) || active(t, c, second.RefreshToken.Reveal()) {
		t.Error("refresh token reuse left the grant active")
	}
	_, err = c.RefreshToken(ctx, "")
	oauthError(t, err, oautherr.CodeInvalidGrant)

	cc := newMock(t, authcore.Config{}, mock.Options{})
	if _, err := cc.AuthenticateClientCredentials(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = cc.RefreshToken(ctx, "")
	oauthError(t, err, oautherr.CodeInvalidRequest)
}

func TestRevokeAndIntrospect(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	tok := signIn(t, c)
	if ok, err := c.RevokeToken(ctx, "", ""); !ok || err != nil {
		t.Fatalf("RevokeToken = %v, %v", ok, err)
	}
	if c.CurrentToken() != nil {
		t.Error("revoking the current access token kept it")
	}
	if active(t, c, tok.AccessToken.Reveal()) {
		t.Error("revoked access token is active")
	}
	if !active(t, c, tok.RefreshToken.Reveal()) {
		t.Error("revoking the access token revoked the refresh token")
	}
	// Revoking a refresh token revokes the access tokens of its grant.
	tok = signIn(t, c)
	if ok, err := c.RevokeToken(ctx, tok.RefreshToken.Reveal(), "refresh_token"); !ok || err != nil {
		t.Fatalf("RevokeToken = %v, %v", ok, err)
	}
	if active(t, c, tok.AccessToken.Reveal()) || c.CurrentToken() != nil {
		t.Error("revoking the refresh token left its access token")
	}
	if ok, err := c.RevokeToken(ctx, "unknown-token", ""); !ok || err != nil {
		t.Errorf("revoking an unknown token = %v, %v; want success (RFC 7009 Section 2.2)", ok, err)
	}
	if active(t, c, "unknown-token") {
		t.Error("unknown token is active")
	}
	_, err := c.RevokeToken(ctx, "", "")
	oauthError(t, err, oautherr.CodeInvalidRequest)
	_, err = c.IntrospectToken(ctx, "")
	oauthError(t, err, oautherr.CodeInvalidRequest)
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{TokenLifetime: 30 * time.Millisecond})
	first, err := c.GetValidToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	if active(t, c, first.AccessToken.Reveal()) {
		t.Error("expired token is active")
	}
	// The cache's expiry timer may run late on a loaded machine: wait for
	// it rather than assume it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		second, err := c.GetValidToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if second.AccessToken != first.AccessToken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("GetValidToken still serves the expired token")
		}
	}
}

func TestInvalidateAndClear(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{})
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Invalidate(first) || c.Invalidate(first) {
		t.Error("Invalidate did not report one invalidation")
	}
	second, err := c.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("Token after Invalidate = %v, %v", second, err)
	}
	if err := c.ClearTokens(ctx); err != nil || c.CurrentToken() != nil {
		t.Errorf("ClearTokens = %v, current %v", err, c.CurrentToken())
	}
	if !active(t, c, second.AccessToken.Reveal()) {
		t.Error("ClearTokens revoked the token at the server")
	}
}

func TestCloseRevokes(t *testing.T) {
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	tok := signIn(t, c)
	if err := c.Close(); err != nil || c.CurrentToken() != tok {
		t.Fatalf("Close without revoke_on_close = %v, current %v", err, c.CurrentToken())
	}

	r := newMock(t, authcore.Config{AuthMode: authcore.ModeAuthorizationCodePKCE, RedirectURI: "http://127.0.0.1/cb", RevokeOnClose: true}, mock.Options{})
	tok = signIn(t, r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.CurrentToken() != nil || active(t, r, tok.AccessToken.Reveal()) || active(t, r, tok.RefreshToken.Reveal()) {
		t.Error("Close with revoke_on_close left the tokens")
	}
}

func TestStorage(t *testing.T) {
	ctx := context.Background()
	store := &tokenstore.Memory{}
	c := newMock(t, authcore.Config{Storage: store}, mock.Options{})
	tok, err := c.GetValidToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A second mock client over the same storage starts with the token.
	d := newMock(t, authcore.Config{Storage: store}, mock.Options{})
	got, err := d.GetValidToken(ctx)
	if err != nil || got.AccessToken != tok.AccessToken || d.Exchanges() != 0 {
		t.Errorf("restored token %v, %v, exchanges %d", got, err, d.Exchanges())
	}
}

func TestTestConnection(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{})
	if ok, err := c.TestConnection(ctx); !ok || err != nil {
		t.Errorf("TestConnection = %v, %v", ok, err)
	}
	if err := c.SetFailureRate(1); err != nil {
		t.Fatal(err)
	}
	ok, err := c.TestConnection(ctx)
	if ok {
		t.Error("TestConnection succeeded at failure rate 1")
	}
	oauthError(t, err, oautherr.CodeTemporarilyUnavailable)
}

// TestInjectedErrors checks that injected failures are the errors the real
// client reports for the same server answer.
func TestInjectedErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		code      string
		status    int
		retryable bool
	}{
		{"", 503, true}, // the default, temporarily_unavailable
		{oautherr.CodeServerError, 500, true},
		{oautherr.CodeInvalidClient, 401, false},
		{oautherr.CodeInvalidGrant, 400, false},
		{"slow_down", 400, true}, // retryable by the spec's table, given as Classify
		{oautherr.CodeNetworkError, 0, true},
	}
	spec := func(code string) bool { return oautherr.DefaultClassifier(code) || code == "slow_down" }
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c := newMock(t, authcore.Config{Classify: spec}, mock.Options{FailureRate: 1, FailureErrorCode: tt.code})
			code := tt.code
			if code == "" {
				code = oautherr.CodeTemporarilyUnavailable
			}
			_, err := c.AuthenticateClientCredentials(ctx, nil)
			e := oauthError(t, err, code)
			if e.StatusCode != tt.status || e.Retryable != tt.retryable || e.Op != "authenticate_client_credentials" || oautherr.IsRetryable(err) != tt.retryable {
				t.Errorf("error = %#v, want status %d, retryable %v", e, tt.status, tt.retryable)
			}
			if code == oautherr.CodeNetworkError && e.Err == nil {
				t.Error("network_error without an underlying error")
			}
		})
	}
}

// TestEveryOperationFails checks that every operation that reaches the
// server in the real mode can fail by injection, and that the local ones
// cannot.
func TestEveryOperationFails(t *testing.T) {
	ctx := context.Background()
	c := codeMock(t, authcore.ModeAuthorizationCodePKCE, mock.Options{})
	tok := signIn(t, c)
	req, err := c.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	callback, err := c.Authorize(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	req2, _ := c.StartAuthorizationCodeFlow(ctx, "", nil)
	callback2, _ := c.Authorize(req2.URL)
	code2, _ := url.Parse(callback2)

	if err := c.SetFailureRate(1); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"complete_authorization_code_flow": func() error { _, err := c.CompleteAuthorizationCodeFlow(ctx, callback); return err },
		"authenticate_authorization_code": func() error {
			_, err := c.AuthenticateAuthorizationCode(ctx, code2.Query().Get("code"), "", req2.CodeVerifier.Reveal())
			return err
		},
		"authenticate_client_credentials": func() error { _, err := c.AuthenticateClientCredentials(ctx, nil); return err },
		"authenticate_jwt_bearer":         func() error { _, err := c.AuthenticateJWTBearer(ctx, "", nil); return err },
		"refresh_token":                   func() error { _, err := c.RefreshToken(ctx, ""); return err },
		"revoke_token":                    func() error { _, err := c.RevokeToken(ctx, "", ""); return err },
		"introspect_token":                func() error { _, err := c.IntrospectToken(ctx, ""); return err },
		"test_connection":                 func() error { _, err := c.TestConnection(ctx); return err },
	}
	for op, call := range ops {
		err := call()
		if e := oauthError(t, err, oautherr.CodeTemporarilyUnavailable); e.Op != op {
			t.Errorf("%s failed with op %q", op, e.Op)
		}
	}
	// Local operations do not fail, and the cached token is still served.
	if _, err := c.StartAuthorizationCodeFlow(ctx, "", nil); err != nil {
		t.Error(err)
	}
	if got, err := c.Token(ctx); err != nil || got != tok {
		t.Errorf("Token = %v, %v; want the cached token", got, err)
	}
	if got, err := c.GetValidToken(ctx); err != nil || got != tok {
		t.Errorf("GetValidToken = %v, %v; want the cached token", got, err)
	}
	// get_valid_token fails when it must ask the server.
	if err := c.ClearTokens(ctx); err != nil {
		t.Fatal(err)
	}
	cc := newMock(t, authcore.Config{}, mock.Options{FailureRate: 1})
	_, err = cc.GetValidToken(ctx)
	if e := oauthError(t, err, oautherr.CodeTemporarilyUnavailable); e.Op != "get_valid_token" {
		t.Errorf("op %q", e.Op)
	}
}

// outcomes calls AuthenticateClientCredentials n times and reports which
// calls failed.
func outcomes(t *testing.T, c *mock.Client, n int) []bool {
	t.Helper()
	ctx := context.Background()
	failed := make([]bool, n)
	for i := range failed {
		_, err := c.AuthenticateClientCredentials(ctx, nil)
		if err != nil {
			oauthError(t, err, oautherr.CodeTemporarilyUnavailable)
			failed[i] = true
		}
	}
	return failed
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// TestFailureRateStatistics checks the injected failure rate against the
// binomial distribution: with n = 10 000 and p = 0.1 the number of
// failures has mean 1000 and standard deviation 30; each seed must land
// within 4.5 standard deviations (a false alarm once in 150 000 seeds, and
// the seeds are fixed).
func TestFailureRateStatistics(t *testing.T) {
	const n, p = 10000, 0.1
	mean, sd := n*p, math.Sqrt(n*p*(1-p))
	for _, seed := range []int64{1, 2, 3, 42, 20260101} {
		c := newMock(t, authcore.Config{}, mock.Options{FailureRate: p, Seed: seed})
		got := float64(count(outcomes(t, c, n)))
		if math.Abs(got-mean) > 4.5*sd {
			t.Errorf("seed %d: %v failures in %d calls, want %v ± %v", seed, got, n, mean, 4.5*sd)
		}
	}
}

func TestSeedReproducible(t *testing.T) {
	opts := mock.Options{FailureRate: 0.3, Seed: 7}
	a := outcomes(t, newMock(t, authcore.Config{}, opts), 2000)
	b := outcomes(t, newMock(t, authcore.Config{}, opts), 2000)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different failure sequences")
	}
	opts.Seed = 8
	if other := outcomes(t, newMock(t, authcore.Config{}, opts), 2000); slices.Equal(a, other) {
		t.Error("different seeds gave the same failure sequence")
	}
	// A random seed, reported by Seed, reproduces too.
	r := newMock(t, authcore.Config{}, mock.Options{FailureRate: 0.3})
	first := outcomes(t, r, 500)
	again := outcomes(t, newMock(t, authcore.Config{}, mock.Options{FailureRate: 0.3, Seed: r.Seed()}), 500)
	if !slices.Equal(first, again) {
		t.Errorf("Seed() = %d does not reproduce the sequence", r.Seed())
	}
}

func TestSetFailureRate(t *testing.T) {
	c := newMock(t, authcore.Config{}, mock.Options{Seed: 3})
	if n := count(outcomes(t, c, 1000)); n != 0 {
		t.Errorf("%d failures at rate 0", n)
	}
	if err := c.SetFailureRate(1); err != nil {
		t.Fatal(err)
	}
	if n := count(outcomes(t, c, 1000)); n != 1000 {
		t.Errorf("%d failures in 1000 at rate 1", n)
	}
	if err := c.SetFailureRate(0.5); err != nil {
		t.Fatal(err)
	}
	// n = 10 000, p = 0.5: sd 50.
	if n := count(outcomes(t, c, 10000)); n < 5000-225 || n > 5000+225 {
		t.Errorf("%d failures in 10000 at rate 0.5", n)
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := c.SetFailureRate(bad); err == nil {
			t.Errorf("SetFailureRate(%v) succeeded", bad)
		}
	}
	if c.FailureRate() != 0.5 {
		t.Errorf("an invalid rate changed the rate to %v", c.FailureRate())
	}
}

// TestResponseDelay checks that every simulated exchange takes at least
// the delay. Only lower bounds are asserted: a loaded machine may be
// slower, never faster.
func TestResponseDelay(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{ResponseDelay: 20 * time.Millisecond})
	for range 5 {
		start := time.Now()
		if _, err := c.AuthenticateClientCredentials(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Errorf("exchange took %v, want at least 20ms", d)
		}
	}
	if err := c.SetResponseDelay(40 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.IntrospectToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("exchange took %v after SetResponseDelay(40ms)", d)
	}
	if err := c.SetResponseDelay(-time.Second); err == nil || c.ResponseDelay() != 40*time.Millisecond {
		t.Errorf("SetResponseDelay(-1s) = %v, delay now %v", err, c.ResponseDelay())
	}
	// The cached token is served without the delay: no exchange.
	n := c.Exchanges()
	if _, err := c.Token(ctx); err != nil || c.Exchanges() != n {
		t.Errorf("Token on a cached token simulated an exchange: %v", err)
	}
}

func TestDelayHonoursContextAndTimeout(t *testing.T) {
	c := newMock(t, authcore.Config{Timeout: time.Hour}, mock.Options{ResponseDelay: 2 * time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := c.AuthenticateClientCredentials(ctx, nil)
	if e := oauthError(t, err, oautherr.CodeCanceled); !errors.Is(e, context.DeadlineExceeded) {
		t.Errorf("canceled error does not wrap the context's: %v", err)
	}
	// A delay beyond timeout_ms is a timeout, as with a real server.
	c = newMock(t, authcore.Config{Timeout: 20 * time.Millisecond}, mock.Options{ResponseDelay: time.Hour})
	_, err = c.AuthenticateClientCredentials(context.Background(), nil)
	if e := oauthError(t, err, oautherr.CodeNetworkError); !e.Retryable {
		t.Error("timeout is not retryable")
	}
}

// TestSingleFlight checks that concurrent callers without a token cause
// one simulated exchange, as with the real client.
func TestSingleFlight(t *testing.T) {
	c := newMock(t, authcore.Config{}, mock.Options{ResponseDelay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	tokens := make([]*token.Token, 64)
	for i := range tokens {
		wg.Go(func() {
			tok, err := c.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
	if n := c.Exchanges(); n != 1 {
		t.Errorf("%d exchanges for 64 concurrent callers, want 1", n)
	}
}

// TestTokenFastPath checks that Token on a valid cached token allocates
// nothing, as the real client's.
func TestTokenFastPath(t *testing.T) {
	ctx := context.Background()
	c := newMock(t, authcore.Config{}, mock.Options{})
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Token(ctx); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Token allocates %v times per call on a cached token", allocs)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []mock.Options{
		{ResponseDelay: -1},
		{FailureRate: 2},
		{FailureRate: math.NaN()},
		{TokenLifetime: -time.Second},
		{FailureErrorCode: "not a code"},
		{AllowedScopes: []string{""}},
	} {
		_, err := mock.New(authcore.Config{}, opts)
		if err == nil {
			t.Errorf("New(%+v) succeeded", opts)
			continue
		}
		oauthError(t, err, oautherr.CodeInvalidConfig)
	}
	_, err := mock.New(authcore.Config{AuthMode: "password"}, mock.Options{})
	oauthError(t, err, oautherr.CodeInvalidConfig)
	err = (&mock.Options{ResponseDelay: -1, FailureRate: 2}).Validate()
	if err == nil || !strings.Contains(err.Error(), "response_delay_ms") || !strings.Contains(err.Error(), "failure_rate") {
		t.Errorf("Validate() = %v, want both problems named", err)
	}
}

func TestStatusFor(t *testing.T) {
	for code, want := range map[string]int{
		"temporarily_unavailable": 503, "server_error": 500, "invalid_client": 401,
		"invalid_grant": 400, "invalid_scope": 400, "access_denied": 403, "network_error": 0,
	} {
		if got := mock.StatusFor(code); got != want {
			t.Errorf("StatusFor(%q) = %d, want %d", code, got, want)
		}
	}
}

func BenchmarkToken(b *testing.B) {
	ctx := context.Background()
	c := newMock(b, authcore.Config{}, mock.Options{})
	if _, err := c.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAuthenticateClientCredentials(b *testing.B) {
	ctx := context.Background()
	c := newMock(b, authcore.Config{}, mock.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AuthenticateClientCredentials(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
