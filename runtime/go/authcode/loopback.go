package authcode

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// DefaultLoopbackRedirectURI is the redirect URI of a loopback listener
// when neither ListenLoopback nor the Config names one: the IPv4 loopback
// literal on a free port (RFC 8252 Sections 7.3 and 8.3).
const DefaultLoopbackRedirectURI = "http://127.0.0.1/callback"

// loopbackShutdownTimeout bounds how long Wait lets the browser's
// connection finish after the response arrived.
const loopbackShutdownTimeout = 5 * time.Second

// Loopback is a one-shot HTTP server on a loopback address that receives
// the authorization response for a command-line or desktop program (RFC
// 8252 Section 7.3). The first request to the redirect path is checked
// with Flow.HandleResponse, answered with a short page for the browser and
// reported by Wait, after which the server shuts down. Requests to other
// paths get 404 and are otherwise ignored.
type Loopback struct {
	flow        *Flow
	redirectURI string
	path        string
	srv         *http.Server
	served      chan struct{} // closed when Serve returns

	answered  sync.Once
	result    chan loopbackResult // buffered; receives the one response
	closeOnce sync.Once
	closeErr  error
}

type loopbackResult struct {
	resp *Response
	err  error
}

// ListenLoopback starts a Loopback for redirectURI, or for the configured
// redirect URI, or DefaultLoopbackRedirectURI, whichever is set first. The
// URI must use http and the loopback literal 127.0.0.1 or [::1]; the name
// localhost is refused because it may resolve to another interface (RFC
// 8252 Section 8.3). Without a port, or with port 0, the listener takes a
// free port, and RedirectURI reports the URI with that port; servers that
// follow RFC 8252 Section 7.3 accept any port for a registered loopback
// URI.
func (f *Flow) ListenLoopback(redirectURI string) (*Loopback, error) {
	if f.configErr != nil {
		return nil, f.configError(OperationResponse)
	}
	if redirectURI == "" {
		redirectURI = f.cfg.RedirectURI
	}
	if redirectURI == "" {
		redirectURI = DefaultLoopbackRedirectURI
	}
	u, host, port, err := parseLoopbackURI(redirectURI)
	if err != nil {
		return nil, &oautherr.Error{Op: OperationResponse, Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, &oautherr.Error{Op: OperationResponse, Code: oautherr.CodeInvalidConfig, Description: "cannot listen for the authorization response on " + net.JoinHostPort(host, port), Err: err}
	}
	_, actualPort, _ := net.SplitHostPort(ln.Addr().String())
	u.Host = net.JoinHostPort(host, actualPort)
	path := u.Path
	if path == "" {
		path = "/"
	}
	l := &Loopback{
		flow:        f,
		redirectURI: u.String(),
		path:        path,
		served:      make(chan struct{}),
		result:      make(chan loopbackResult, 1),
	}
	l.srv = &http.Server{Handler: http.HandlerFunc(l.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		l.srv.Serve(ln)
		close(l.served)
	}()
	return l, nil
}

// parseLoopbackURI checks a loopback redirect URI and returns it with the
// host literal and port to listen on.
func parseLoopbackURI(s string) (u *url.URL, host, port string, err error) {
	u, err = url.Parse(s)
	if err != nil {
		return nil, "", "", fmt.Errorf("loopback redirect_uri %q cannot be parsed", s)
	}
	if u.Scheme != "http" {
		return nil, "", "", fmt.Errorf("loopback redirect_uri %q does not use http: want http://127.0.0.1[:port]/path (RFC 8252 Section 7.3)", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, "", "", fmt.Errorf("loopback redirect_uri %q has a fragment (RFC 6749 Section 3.1.2)", s)
	}
	host, port = u.Hostname(), u.Port()
	if host == "localhost" {
		return nil, "", "", fmt.Errorf("loopback redirect_uri %q uses localhost: want the literal 127.0.0.1 or [::1] (RFC 8252 Section 8.3)", s)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, "", "", fmt.Errorf("loopback redirect_uri %q is not on a loopback address: want 127.0.0.1 or [::1]", s)
	}
	if port == "" {
		port = "0"
	}
	return u, host, port, nil
}

// RedirectURI returns the redirect URI to send in the authorization
// request, with the port the listener actually uses.
func (l *Loopback) RedirectURI() string { return l.redirectURI }

// Wait waits for the authorization response, or for ctx to end, then
// shuts the listener down. It returns what Flow.HandleResponse returned
// for the response: the Response, or an *oautherr.Error such as
// "invalid_state", "invalid_issuer" or the server's "access_denied". When
// ctx ends first, the error has code "canceled".
func (l *Loopback) Wait(ctx context.Context) (*Response, error) {
	select {
	case r := <-l.result:
		l.Close()
		return r.resp, r.err
	case <-ctx.Done():
		l.Close()
		return nil, &oautherr.Error{Op: OperationResponse, Code: oautherr.CodeCanceled, Description: "context ended before the authorization response arrived", Err: context.Cause(ctx)}
	}
}

// Close shuts the listener down, giving a request in progress a few
// seconds to finish. Calling it again does nothing.
func (l *Loopback) Close() error {
	l.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), loopbackShutdownTimeout)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.closeErr = err
			l.srv.Close()
		}
		<-l.served
	})
	return l.closeErr
}

func (l *Loopback) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")

	first := false
	l.answered.Do(func() { first = true })
	if !first {
		w.WriteHeader(http.StatusConflict)
		writePage(w, "Sign-in already handled", "This sign-in has already been handled. You can close this window.")
		return
	}
	resp, err := l.flow.HandleResponse(r.URL.Query())
	if err != nil {
		code := oautherr.CodeInvalidResponse
		var oerr *oautherr.Error
		if errors.As(err, &oerr) {
			code = oerr.Code
		}
		w.WriteHeader(http.StatusBadRequest)
		writePage(w, "Sign-in failed", "Sign-in failed: "+code+". Return to the application for details. You can close this window.")
	} else {
		writePage(w, "Sign-in complete", "Sign-in complete. You can close this window and return to the application.")
	}
	l.result <- loopbackResult{resp: resp, err: err}
}

func writePage(w http.ResponseWriter, title, message string) {
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body><p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(message))
}

// AuthorizeLoopback runs the browser part of the grant for a command-line
// or desktop program: it starts a Loopback for redirectURI (see
// ListenLoopback), starts an authorization request for it with scopes,
// calls open with the request URL (to launch the browser, or print the URL
// for the user), and waits for the response until ctx ends. Pass the
// returned Response's Code to Exchange.
func (f *Flow) AuthorizeLoopback(ctx context.Context, redirectURI string, scopes []string, open func(authURL string) error) (*Response, error) {
	if open == nil {
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidConfig, Description: "no function to open the authorization URL"}
	}
	l, err := f.ListenLoopback(redirectURI)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	req, err := f.Start(l.RedirectURI(), scopes)
	if err != nil {
		return nil, err
	}
	if err := open(req.URL); err != nil {
		f.mu.Lock()
		if p := f.byState[digestOf(req.State)]; p != nil {
			f.forgetLocked(p)
		}
		f.mu.Unlock()
		return nil, &oautherr.Error{Op: OperationStart, Code: oautherr.CodeInvalidConfig, Description: "cannot open the authorization URL", Err: err}
	}
	return l.Wait(ctx)
}
