package faultserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/faultserver"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
)

func start(t *testing.T) *faultserver.Server {
	t.Helper()
	srv, err := faultserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func endpoint(srv *faultserver.Server) *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "c", ClientSecret: "s"}
}

func exchange(ctx context.Context, srv *faultserver.Server) (*token.Token, error) {
	return endpoint(srv).Exchange(ctx, "test", url.Values{"grant_type": {"client_credentials"}})
}

func TestListensOnLoopback(t *testing.T) {
	srv := start(t)
	u, err := url.Parse(srv.URL())
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("URL() = %q, want a 127.0.0.1 address", srv.URL())
	}
}

func TestTokenWithLifetime(t *testing.T) {
	srv := start(t)
	srv.Script(faultserver.Token(90*time.Second), faultserver.TokenWithRefresh(time.Hour))
	before := time.Now()
	tok, err := exchange(context.Background(), srv)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(before); d < 89*time.Second || d > 91*time.Second {
		t.Errorf("lifetime = %v, want 90s", d)
	}
	if tok.AccessToken.Reveal() != "fault-access-1" || !tok.RefreshToken.IsZero() {
		t.Errorf("first token = %q, refresh %q", tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
	}
	tok, err = exchange(context.Background(), srv)
	if err != nil || tok.RefreshToken.Reveal() != "fault-refresh-2" {
		t.Fatalf("second token = %v, %v; want a refresh token", tok, err)
	}
	// Beyond the script: the fallback, a one-hour token.
	if tok, err = exchange(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(tok.ExpiresAt); tok.AccessToken.IsZero() || left < 55*time.Minute || left > time.Hour {
		t.Errorf("fallback token = %v, expiring in %v; want a one-hour token", tok, left)
	}
	if srv.Requests() != 3 || len(srv.Log()) != 3 || srv.Log()[2].GrantType != "client_credentials" {
		t.Errorf("Requests() = %d, Log() = %+v", srv.Requests(), srv.Log())
	}
}

func TestFaultsGiveTypedErrors(t *testing.T) {
	date := time.Now().Add(20 * time.Second)
	tests := []struct {
		name       string
		reply      faultserver.Reply
		code       string
		status     int
		retryable  bool
		retryAfter time.Duration // approximate, for date values
	}{
		{"503 with seconds", faultserver.Unavailable(faultserver.RetryAfterSeconds(7)), oautherr.CodeServerError, 503, true, 7 * time.Second},
		{"503 with date", faultserver.Unavailable(faultserver.RetryAfterDate(date)), oautherr.CodeServerError, 503, true, 20 * time.Second},
		{"503 without retry-after", faultserver.Unavailable(""), oautherr.CodeServerError, 503, true, 0},
		{"429", faultserver.TooManyRequests(faultserver.RetryAfterSeconds(3)), oautherr.CodeTemporarilyUnavailable, 429, true, 3 * time.Second},
		{"oauth error", faultserver.OAuthError(401, "invalid_client"), oautherr.CodeInvalidClient, 401, false, 0},
		{"temporarily_unavailable", faultserver.OAuthError(400, "temporarily_unavailable"), oautherr.CodeTemporarilyUnavailable, 400, true, 0},
		{"malformed json", faultserver.MalformedJSON(), oautherr.CodeInvalidResponse, 200, false, 0},
		{"missing access_token", faultserver.MissingAccessToken(), oautherr.CodeInvalidResponse, 200, false, 0},
		{"oversized body", faultserver.Oversized(), oautherr.CodeInvalidResponse, 200, false, 0},
		{"wrong token_type", faultserver.WrongTokenType(), oautherr.CodeInvalidResponse, 200, false, 0},
		{"negative expires_in", faultserver.NegativeExpiresIn(), oautherr.CodeInvalidResponse, 200, false, 0},
	}
	srv := start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Script(tt.reply)
			tok, err := exchange(context.Background(), srv)
			if tok != nil {
				t.Errorf("token = %v, want none", tok)
			}
			var oerr *oautherr.Error
			if !errors.As(err, &oerr) {
				t.Fatalf("error = %v (%T), want *oautherr.Error", err, err)
			}
			if oerr.Code != tt.code || oerr.StatusCode != tt.status || oerr.Retryable != tt.retryable {
				t.Errorf("error = %+v; want code %q, status %d, retryable %v", oerr, tt.code, tt.status, tt.retryable)
			}
			// An HTTP date has whole seconds, so allow for rounding.
			if oerr.RetryAfter < tt.retryAfter-2*time.Second || oerr.RetryAfter > tt.retryAfter {
				t.Errorf("RetryAfter = %v, want about %v", oerr.RetryAfter, tt.retryAfter)
			}
		})
	}
}

func TestSlowReply(t *testing.T) {
	srv := start(t)
	srv.Script(faultserver.Slow(200*time.Millisecond, faultserver.Token(time.Hour)))
	start := time.Now()
	if _, err := exchange(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("slow reply came after %v, want 200ms or more", d)
	}
}

func TestHangEndsWhenClientGivesUp(t *testing.T) {
	srv := start(t)
	srv.Script(faultserver.Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := exchange(ctx, srv)
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeCanceled || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want canceled after the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung request held the client for %v", d)
	}
}

func TestCloseEndsHungRequests(t *testing.T) {
	srv, err := faultserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFallback(faultserver.Hang())
	done := make(chan error, 1)
	go func() {
		_, err := exchange(context.Background(), srv)
		done <- err
	}()
	for srv.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	select {
	case err := <-done:
		if !oautherr.IsRetryable(err) {
			t.Errorf("error = %v, want a retryable network error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the hung request")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestCountsConcurrentRequests(t *testing.T) {
	srv := start(t)
	srv.SetFallback(faultserver.Slow(100*time.Millisecond, faultserver.Token(time.Hour)))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := exchange(context.Background(), srv); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if srv.Requests() != 5 || srv.MaxConcurrent() < 2 {
		t.Errorf("Requests() = %d, MaxConcurrent() = %d; want 5 and several at once", srv.Requests(), srv.MaxConcurrent())
	}
}

func TestRecordsRefreshGrant(t *testing.T) {
	srv := start(t)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-1"}, "scope": {"trading"}}
	resp, err := http.PostForm(srv.TokenURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	log := srv.Log()
	if len(log) != 1 || log[0].GrantType != "refresh_token" || log[0].RefreshToken != "rt-1" || log[0].Scope != "trading" || log[0].N != 1 {
		t.Errorf("Log() = %+v", log)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}
