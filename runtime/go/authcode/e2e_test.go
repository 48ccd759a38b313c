package authcode_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/keys"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
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

// serverFlow returns a Flow for one of the server's default clients, with
// the issuer check of RFC 9207 required as the server's metadata
// announces.
func serverFlow(t *testing.T, srv *authserver.Server, e *tokenendpoint.Endpoint, edit func(*authcode.Config)) *authcode.Flow {
	t.Helper()
	e.URL = srv.TokenURL()
	cfg := authcode.Config{
		AuthorizationURL: srv.AuthorizationURL(),
		Endpoint:         e,
		RedirectURI:      "http://127.0.0.1/callback",
		Scopes:           []string{"trading", "market-data"},
		Issuer:           srv.URL(),
		RequireIssuer:    true,
	}
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return authcode.New(cfg)
}

func publicClient() *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{ClientID: "public-client", AuthMethod: tokenendpoint.None}
}

// browse runs the browser's part: the authorization request to the server
// and the redirection to the loopback listener. edit may tamper with the
// redirection.
func browse(t *testing.T, authURL string, edit func(url.Values)) (int, string) {
	t.Helper()
	redirect := authorize(t, authURL)
	if edit != nil {
		q := redirect.Query()
		edit(q)
		redirect.RawQuery = q.Encode()
	}
	return deliver(t, redirect)
}

// loopbackResponse starts a request through a loopback listener, plays the
// browser and returns what the listener received.
func loopbackResponse(t *testing.T, f *authcode.Flow, scopes []string, edit func(url.Values)) (*authcode.Request, *authcode.Response, error) {
	t.Helper()
	l, err := f.ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req, err := f.Start(l.RedirectURI(), scopes)
	if err != nil {
		t.Fatal(err)
	}
	browse(t, req.URL, edit)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := l.Wait(ctx)
	return req, resp, err
}

// TestE2EPKCE runs the authorization code grant with PKCE against the
// fosite server through the loopback listener, the test playing the
// browser, for a public client and for each kind of confidential client.
func TestE2EPKCE(t *testing.T) {
	srv := startAuthServer(t)
	tk, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := keys.LoadSigningKey(tk.ECSEC1Path, keys.ES256, authserver.ECTestKeyID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		endpoint *tokenendpoint.Endpoint
	}{
		{"public client", publicClient()},
		{"client_secret_basic", &tokenendpoint.Endpoint{ClientID: "basic-client", ClientSecret: "basic-secret"}},
		{"client_secret_post", &tokenendpoint.Endpoint{ClientID: "post-client", ClientSecret: "post-secret", AuthMethod: tokenendpoint.ClientSecretPost}},
		{"private_key_jwt", &tokenendpoint.Endpoint{ClientID: "jwt-ec-client", AuthMethod: tokenendpoint.PrivateKeyJWT, SigningKey: ecKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := serverFlow(t, srv, tt.endpoint, nil)
			req, resp, err := loopbackResponse(t, f, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Issuer != srv.URL() || resp.State != req.State || resp.CodeVerifier != req.CodeVerifier {
				t.Errorf("Response = %+v", resp)
			}
			before := srv.TokenRequests()
			tok, err := f.Exchange(context.Background(), resp.Code, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.IsZero() || tok.RefreshToken.IsZero() || tok.ExpiresAt.IsZero() {
				t.Errorf("token = %v, want access and refresh tokens", tok)
			}
			if strings.Join(tok.Scopes, " ") != "trading market-data" {
				t.Errorf("Scopes = %v", tok.Scopes)
			}
			// Never twice: refused locally, the server sees no second
			// request.
			_, err = f.Exchange(context.Background(), resp.Code, resp.RedirectURI, resp.CodeVerifier)
			wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidGrant)
			if n := srv.TokenRequests() - before; n != 1 {
				t.Errorf("server saw %d token requests, want 1", n)
			}
		})
	}
}

// TestE2EAuthorizationCodeWithoutPKCE runs the plain grant of a
// confidential client.
func TestE2EAuthorizationCodeWithoutPKCE(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, &tokenendpoint.Endpoint{ClientID: "post-client", ClientSecret: "post-secret", AuthMethod: tokenendpoint.ClientSecretPost},
		func(c *authcode.Config) { c.DisablePKCE = true })
	req, resp, err := loopbackResponse(t, f, []string{"portfolio"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.CodeVerifier != "" || strings.Contains(req.URL, "code_challenge") {
		t.Errorf("request without PKCE: %s", req.URL)
	}
	tok, err := f.Exchange(context.Background(), resp.Code, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tok.Scopes, " ") != "portfolio" {
		t.Errorf("Scopes = %v", tok.Scopes)
	}
}

// TestE2EWrongVerifier sends the code with another verifier, as a second
// instance of a server application would when its session holds the wrong
// one: fosite refuses with invalid_grant.
func TestE2EWrongVerifier(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), nil)
	_, resp, err := loopbackResponse(t, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := authcode.NewCodeVerifier()
	other := serverFlow(t, srv, publicClient(), nil)
	_, err = other.Exchange(context.Background(), resp.Code, resp.RedirectURI, wrong)
	oerr := wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidGrant)
	if oerr.StatusCode != http.StatusBadRequest || oerr.Retryable {
		t.Errorf("error = %#v, want HTTP 400, not retryable", oerr)
	}
	// The same Flow refuses a verifier that is not the request's without
	// sending anything.
	before := srv.TokenRequests()
	_, err = f.Exchange(context.Background(), resp.Code, "", wrong)
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidRequest)
	if srv.TokenRequests() != before {
		t.Error("a mismatched verifier reached the server")
	}
}

// TestE2EWrongRedirectURI sends the code with another redirect_uri than
// the authorization request's; fosite refuses it.
func TestE2EWrongRedirectURI(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), nil)
	_, resp, err := loopbackResponse(t, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := serverFlow(t, srv, publicClient(), nil)
	_, err = other.Exchange(context.Background(), resp.Code, "http://127.0.0.1:1/callback", resp.CodeVerifier)
	wantCode(t, err, authcode.OperationExchange, oautherr.CodeInvalidGrant)
}

func TestE2EInvalidState(t *testing.T) {
	srv := startAuthServer(t)
	for name, edit := range map[string]func(url.Values){
		"wrong state":   func(q url.Values) { q.Set("state", "forged-"+q.Get("state")) },
		"missing state": func(q url.Values) { q.Del("state") },
	} {
		t.Run(name, func(t *testing.T) {
			f := serverFlow(t, srv, publicClient(), nil)
			req, _, err := loopbackResponse(t, f, nil, edit)
			wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidState)
			// The state was not used up by the forgery; nothing was sent.
			if _, err := f.HandleResponse(url.Values{"state": {req.State}, "code": {"x"}, "iss": {srv.URL()}}); err != nil {
				t.Errorf("real state refused after a forged one: %v", err)
			}
		})
	}
}

func TestE2EInvalidIssuer(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), func(c *authcode.Config) { c.Issuer = "https://other-as.example" })
	_, _, err := loopbackResponse(t, f, nil, nil)
	wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidIssuer)

	stripped := serverFlow(t, srv, publicClient(), nil)
	_, _, err = loopbackResponse(t, stripped, nil, func(q url.Values) { q.Del("iss") })
	wantCode(t, err, authcode.OperationResponse, authcode.CodeInvalidIssuer)
}

// TestE2EErrorResponse asks for a scope the client may not have: fosite
// redirects with error=invalid_scope, the state and iss.
func TestE2EErrorResponse(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), nil)
	_, _, err := loopbackResponse(t, f, []string{"admin"}, nil)
	oerr := wantCode(t, err, authcode.OperationResponse, oautherr.CodeInvalidScope)
	t.Logf("error response: %v", oerr)
}

func TestE2EAccessDenied(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), nil)
	// The test user denies consent: the browser comes back with
	// error=access_denied instead of the code (RFC 6749 Section 4.1.2.1).
	_, _, err := loopbackResponse(t, f, nil, func(q url.Values) {
		q.Del("code")
		q.Del("scope")
		q.Set("error", "access_denied")
		q.Set("error_description", "The resource owner denied the request")
	})
	oerr := wantCode(t, err, authcode.OperationResponse, authcode.CodeAccessDenied)
	if oerr.Description != "The resource owner denied the request" {
		t.Errorf("Description = %q", oerr.Description)
	}
}

func TestE2EAuthorizeLoopback(t *testing.T) {
	srv := startAuthServer(t)
	f := serverFlow(t, srv, publicClient(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := f.AuthorizeLoopback(ctx, "", nil, func(authURL string) error {
		// A launched browser runs on its own: report failures with
		// t.Error, which is safe outside the test goroutine.
		go func() {
			r, err := browserClient.Get(authURL)
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			loc, err := r.Location()
			if err != nil {
				t.Error(err)
				return
			}
			if r, err = browserClient.Get(loc.String()); err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.Exchange(ctx, secret.Secret(resp.Code.Reveal()), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken.IsZero() {
		t.Error("no access token")
	}
}
