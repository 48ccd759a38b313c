package authcode_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcode"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// browserClient plays the user's browser: it does not follow redirects,
// so the test sees where the authorization server sends the user.
var browserClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// authorize opens authURL like a browser and returns the redirection the
// server answers with.
func authorize(t *testing.T, authURL string) *url.URL {
	t.Helper()
	resp, err := browserClient.Get(authURL)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("authorization endpoint answered %s, want a redirect: %s", resp.Status, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// deliver follows the redirection to the loopback listener and returns
// the page it shows.
func deliver(t *testing.T, redirect *url.URL) (int, string) {
	t.Helper()
	resp, err := browserClient.Get(redirect.String())
	if err != nil {
		t.Fatalf("redirect to the listener: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// fakeAuthorizationServer approves every request by redirecting to its
// redirect_uri with code, the request's state and extra parameters.
func fakeAuthorizationServer(t *testing.T, extra url.Values) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
			http.Error(w, "bad request", 400)
			return
		}
		to, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			http.Error(w, "bad redirect_uri", 400)
			return
		}
		resp := to.Query()
		resp.Set("code", "the-code")
		resp.Set("state", q.Get("state"))
		for k, v := range extra {
			resp[k] = v
		}
		to.RawQuery = resp.Encode()
		http.Redirect(w, r, to.String(), http.StatusSeeOther)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/authorize"
}

func loopbackFlow(t *testing.T, ts *tokenServer, authURL string) *authcode.Flow {
	t.Helper()
	return newFlow(t, ts, func(c *authcode.Config) {
		c.AuthorizationURL = authURL
		c.RedirectURI = "http://127.0.0.1/callback"
	})
}

func TestLoopbackEndToEnd(t *testing.T) {
	ts := newTokenServer(t)
	f := loopbackFlow(t, ts, fakeAuthorizationServer(t, url.Values{"iss": {issuer}}))
	l, err := f.ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(l.RedirectURI())
	if u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" || u.Path != "/callback" {
		t.Fatalf("RedirectURI = %q, want 127.0.0.1 with the listening port", l.RedirectURI())
	}
	req, err := f.Start(l.RedirectURI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	redirect := authorize(t, req.URL)

	// A stray request to another path neither answers nor consumes.
	favicon := *redirect
	favicon.Path, favicon.RawQuery = "/favicon.ico", ""
	if status, _ := deliver(t, &favicon); status != http.StatusNotFound {
		t.Errorf("GET /favicon.ico = %d, want 404", status)
	}

	status, page := deliver(t, redirect)
	if status != http.StatusOK || !strings.Contains(page, "Sign-in complete") || strings.Contains(page, "the-code") {
		t.Errorf("listener answered %d %q", status, page)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := l.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code.Reveal() != "the-code" || resp.RedirectURI != l.RedirectURI() || resp.Issuer != issuer {
		t.Errorf("Response = %+v", resp)
	}
	if _, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		t.Error("listener still accepts connections after Wait")
	}
	if _, err := f.Exchange(ctx, resp.Code, "", ""); err != nil {
		t.Fatal(err)
	}
	got := ts.requests()[0]
	if got.Get("redirect_uri") != l.RedirectURI() || got.Get("code_verifier") != req.CodeVerifier.Reveal() {
		t.Errorf("token request %v, want the listener's redirect_uri and the verifier", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestLoopbackRejectsBadResponses(t *testing.T) {
	tests := []struct {
		name  string
		extra url.Values
		edit  func(q url.Values)
		code  string
	}{
		{"wrong state", nil, func(q url.Values) { q.Set("state", q.Get("state")+"x") }, authcode.CodeInvalidState},
		{"missing state", nil, func(q url.Values) { q.Del("state") }, authcode.CodeInvalidState},
		{"wrong issuer", url.Values{"iss": {"https://evil.example"}}, nil, authcode.CodeInvalidIssuer},
		{"access denied", url.Values{"error": {"access_denied"}, "error_description": {"<script>alert(1)</script>"}}, func(q url.Values) { q.Del("code") }, authcode.CodeAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t)
			f := loopbackFlow(t, ts, fakeAuthorizationServer(t, tt.extra))
			l, err := f.ListenLoopback("")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			req, _ := f.Start(l.RedirectURI(), nil)
			redirect := authorize(t, req.URL)
			if tt.edit != nil {
				q := redirect.Query()
				tt.edit(q)
				redirect.RawQuery = q.Encode()
			}
			status, page := deliver(t, redirect)
			if status != http.StatusBadRequest || !strings.Contains(page, tt.code) || strings.Contains(page, "<script>") {
				t.Errorf("listener answered %d %q", status, page)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = l.Wait(ctx)
			wantCode(t, err, authcode.OperationResponse, tt.code)
			if len(ts.requests()) != 0 {
				t.Error("a token request was sent")
			}
		})
	}
}

func TestLoopbackOnlyFirstResponseCounts(t *testing.T) {
	f := loopbackFlow(t, newTokenServer(t), fakeAuthorizationServer(t, nil))
	l, err := f.ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req, _ := f.Start(l.RedirectURI(), nil)
	redirect := authorize(t, req.URL)
	if status, _ := deliver(t, redirect); status != http.StatusOK {
		t.Fatalf("first response: %d", status)
	}
	if status, _ := deliver(t, redirect); status != http.StatusConflict {
		t.Errorf("second response: %d, want 409", status)
	}
	resp, err := l.Wait(context.Background())
	if err != nil || resp.Code.Reveal() != "the-code" {
		t.Errorf("Wait = %v, %v", resp, err)
	}
}

func TestLoopbackFixedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	f := loopbackFlow(t, newTokenServer(t), fakeAuthorizationServer(t, nil))
	want := "http://127.0.0.1:" + strconv.Itoa(port) + "/cb?app=cli"
	l, err := f.ListenLoopback(want)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.RedirectURI() != want {
		t.Errorf("RedirectURI = %q, want %q", l.RedirectURI(), want)
	}
	// The port is taken now.
	_, err = f.ListenLoopback(want)
	wantCode(t, err, authcode.OperationResponse, oautherr.CodeInvalidConfig)

	req, _ := f.Start(l.RedirectURI(), nil)
	redirect := authorize(t, req.URL)
	if redirect.Query().Get("app") != "cli" {
		t.Errorf("redirect lost the redirect_uri's query: %s", redirect)
	}
	if status, page := deliver(t, redirect); status != http.StatusOK {
		t.Errorf("listener answered %d %q", status, page)
	}
	if _, err := l.Wait(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestLoopbackRejectsRedirectURIs(t *testing.T) {
	f := loopbackFlow(t, newTokenServer(t), "https://as.example/authorize")
	for _, uri := range []string{
		"http://localhost:8080/callback",
		"https://127.0.0.1/callback",
		"http://192.0.2.1/callback",
		"http://example.com/callback",
		"http://127.0.0.1/callback#x",
		"com.example.app:/callback",
	} {
		_, err := f.ListenLoopback(uri)
		oerr := wantCode(t, err, authcode.OperationResponse, oautherr.CodeInvalidConfig)
		t.Logf("%s: %s", uri, oerr.Description)
	}
}

func TestLoopbackWaitCanceled(t *testing.T) {
	f := loopbackFlow(t, newTokenServer(t), "https://as.example/authorize")
	l, err := f.ListenLoopback("http://[::1]/cb")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = l.Wait(ctx)
	if oerr := wantCode(t, err, authcode.OperationResponse, oautherr.CodeCanceled); !errors.Is(oerr, context.DeadlineExceeded) {
		t.Errorf("error does not wrap the deadline: %v", err)
	}
}

func TestAuthorizeLoopback(t *testing.T) {
	ts := newTokenServer(t)
	f := loopbackFlow(t, ts, fakeAuthorizationServer(t, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := f.AuthorizeLoopback(ctx, "", []string{"trading"}, func(authURL string) error {
		go func() {
			// Open "the browser" asynchronously, as a real launcher does.
			resp, err := browserClient.Get(authURL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			r2, err := browserClient.Get(loc.String())
			if err != nil {
				t.Error(err)
				return
			}
			r2.Body.Close()
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exchange(ctx, resp.Code, "", ""); err != nil {
		t.Fatal(err)
	}

	_, err = f.AuthorizeLoopback(ctx, "", nil, func(string) error { return errors.New("no browser") })
	wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidConfig)
	_, err = f.AuthorizeLoopback(ctx, "", nil, nil)
	wantCode(t, err, authcode.OperationStart, oautherr.CodeInvalidConfig)
}
