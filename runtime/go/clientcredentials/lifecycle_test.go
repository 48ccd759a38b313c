package clientcredentials_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/conformance/faultserver"
	"github.com/coyotesense/coyotegen/runtime/go/clientcredentials"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenendpoint"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

func startFaultServer(t *testing.T) *faultserver.Server {
	t.Helper()
	srv, err := faultserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func faultEndpoint(srv *faultserver.Server) *tokenendpoint.Endpoint {
	return &tokenendpoint.Endpoint{URL: srv.TokenURL(), ClientID: "c", ClientSecret: "s"}
}

// herd calls Token from n goroutines released at the same moment.
func herd(src *clientcredentials.Source, n int) ([]*token.Token, []error) {
	toks, errs := make([]*token.Token, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			toks[i], errs[i] = src.Token(context.Background())
		})
	}
	close(start)
	wg.Wait()
	return toks, errs
}

func TestHerdAtExpiryAgainstFosite(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t, authserver.Options{AccessTokenLifespan: 2 * time.Second})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint:      endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
		RefreshBuffer: tokenrefresh.NoRefreshBuffer,
	})
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(first.ExpiresAt) + 50*time.Millisecond)

	toks, errs := herd(src, 1000)
	for i := range toks {
		if errs[i] != nil || toks[i] == first || toks[i] != toks[0] {
			t.Fatalf("caller %d: %v, %v; want the one new token", i, toks[i], errs[i])
		}
	}
	if active, _ := introspect(t, srv, toks[0]); !active {
		t.Error("the new token is not active at the server")
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("fosite received %d token requests, want 2: one per token, none per caller", n)
	}
}

func TestHerdInRefreshBufferAgainstFosite(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t, authserver.Options{AccessTokenLifespan: 4 * time.Second})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint:      endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
		RefreshBuffer: 2 * time.Second,
	})
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// fosite rounds expires_in down to whole seconds, so the lifetime is
	// 3 to 4 s and the refresh buffer 1.5 to 2 s.
	time.Sleep(time.Until(first.ExpiresAt) - time.Second)

	toks, errs := herd(src, 1000)
	for i := range toks {
		// Nobody waits: a caller that got the old token did not wait for
		// the new one, and the old one is still valid.
		if errs[i] != nil || toks[i] == nil || toks[i].Expired(time.Now()) {
			t.Fatalf("caller %d: %v, %v; want a valid token", i, toks[i], errs[i])
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for src.Current() == first && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("fosite received %d token requests, want 2", n)
	}
}

func TestFailingServerSeesOneRequestPerBackoffStep(t *testing.T) {
	t.Parallel()
	srv := startFaultServer(t)
	srv.SetFallback(faultserver.Unavailable(""))
	policy := retry.Policy{MaxRetries: 3, BaseDelay: 40 * time.Millisecond, MaxDelay: time.Second}
	src := clientcredentials.New(clientcredentials.Config{Endpoint: faultEndpoint(srv), Retry: policy})

	_, errs := herd(src, 200)
	for i, err := range errs {
		oerr := wantCode(t, err, oautherr.CodeServerError)
		if oerr.StatusCode != 503 || !oerr.Retryable {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := srv.Requests(); n != int64(1+policy.MaxRetries) {
		t.Errorf("server received %d requests from 200 waiting callers, want %d (one per backoff step)", n, 1+policy.MaxRetries)
	}
	if n := srv.MaxConcurrent(); n != 1 {
		t.Errorf("%d requests were in flight at once, want 1", n)
	}
	log := srv.Log()
	for i := 1; i < len(log); i++ {
		nominal := policy.BaseDelay << (i - 1)
		if gap := log[i].At.Sub(log[i-1].At); gap < nominal/2 {
			t.Errorf("request %d came %v after the previous one, before the backoff (at least %v)", i+1, gap, nominal/2)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	for name, retryAfter := range map[string]func() string{
		"seconds": func() string { return faultserver.RetryAfterSeconds(1) },
		"date":    func() string { return faultserver.RetryAfterDate(time.Now().Add(2 * time.Second)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startFaultServer(t)
			srv.Script(faultserver.Unavailable(retryAfter()))
			src := clientcredentials.New(clientcredentials.Config{
				Endpoint: faultEndpoint(srv),
				Retry:    retry.Policy{MaxRetries: 2, BaseDelay: 10 * time.Millisecond},
			})
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			log := srv.Log()
			if len(log) != 2 {
				t.Fatalf("%d requests, want 2", len(log))
			}
			// An HTTP date has whole seconds: two seconds ahead is at
			// least one.
			if gap := log[1].At.Sub(log[0].At); gap < time.Second {
				t.Errorf("retried after %v, before the Retry-After of at least 1s", gap)
			}
		})
	}
}

func TestEarlyRefreshFailureKeepsServingTheValidToken(t *testing.T) {
	t.Parallel()
	srv := startFaultServer(t)
	srv.Script(faultserver.Token(4 * time.Second))
	srv.SetFallback(faultserver.Unavailable(""))
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint:      faultEndpoint(srv),
		RefreshBuffer: 2 * time.Second,
		Retry:         retry.Policy{MaxRetries: 1, BaseDelay: 100 * time.Millisecond},
	})
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(first.ExpiresAt) - 1900*time.Millisecond)

	calls := 0
	for time.Until(first.ExpiresAt) > 500*time.Millisecond {
		tok, err := src.Token(context.Background())
		if err != nil || tok != first {
			t.Fatalf("%v before expiry: Token = %v, %v; want the valid token", time.Until(first.ExpiresAt), tok, err)
		}
		calls++
		time.Sleep(2 * time.Millisecond)
	}
	attempts := srv.Requests() - 1
	if attempts < 2 || attempts > int64(calls)/10 {
		t.Errorf("%d refresh attempts during %d calls; want retries spaced by backoff, not one per call", attempts, calls)
	}

	srv.SetFallback(faultserver.Token(time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for src.Current() == first && time.Now().Before(deadline) {
		src.Token(context.Background())
		time.Sleep(10 * time.Millisecond)
	}
	if src.Current() == first {
		t.Error("the token was not replaced once the server recovered")
	}
}

func TestHungServerNeverHoldsCallersPastTheirContext(t *testing.T) {
	t.Parallel()
	srv := startFaultServer(t)
	srv.SetFallback(faultserver.Hang())
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint:       faultEndpoint(srv),
		RequestTimeout: 300 * time.Millisecond,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := src.Token(ctx)
	wantCode(t, err, oautherr.CodeCanceled)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}

	// A caller without a deadline is bounded by the request timeout.
	_, err = src.Token(context.Background())
	oerr := wantCode(t, err, oautherr.CodeNetworkError)
	if !oerr.Retryable {
		t.Errorf("timeout error = %v, want it retryable", err)
	}
	if n := srv.Requests(); n != 1 {
		t.Errorf("server received %d requests, want 1 shared by both callers", n)
	}
}

func TestBadResponsesAreTypedErrors(t *testing.T) {
	srv := startFaultServer(t)
	for name, reply := range map[string]faultserver.Reply{
		"malformed JSON":      faultserver.MalformedJSON(),
		"missing token":       faultserver.MissingAccessToken(),
		"oversized body":      faultserver.Oversized(),
		"wrong token_type":    faultserver.WrongTokenType(),
		"negative expires_in": faultserver.NegativeExpiresIn(),
	} {
		t.Run(name, func(t *testing.T) {
			srv.Script(reply)
			src := clientcredentials.New(clientcredentials.Config{Endpoint: faultEndpoint(srv), Retry: retry.Policy{MaxRetries: 3}})
			before := srv.Requests()
			tok, err := src.Token(context.Background())
			if tok != nil {
				t.Errorf("token = %v, want none", tok)
			}
			oerr := wantCode(t, err, oautherr.CodeInvalidResponse)
			if oerr.Retryable || srv.Requests() != before+1 {
				t.Errorf("invalid response retried: %v after %d requests", err, srv.Requests()-before)
			}
		})
	}
}

func TestAuthenticateRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	srv := startFaultServer(t)
	srv.Script(faultserver.TooManyRequests(""), faultserver.Unavailable(""))
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: faultEndpoint(srv),
		Retry:    retry.Policy{MaxRetries: 2, BaseDelay: 10 * time.Millisecond},
	})
	tok, err := src.Authenticate(context.Background(), nil)
	if err != nil || tok == nil || srv.Requests() != 3 {
		t.Fatalf("Authenticate = %v, %v after %d requests; want a token after 3", tok, err, srv.Requests())
	}
	if got, _ := src.Token(context.Background()); got != tok {
		t.Error("Token does not return the token Authenticate obtained")
	}
}

func TestTokenSurvivesRestartInEncryptedFile(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t, authserver.Options{})
	path := filepath.Join(t.TempDir(), "tokens.json")
	key, err := tokenstore.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	newSource := func() *clientcredentials.Source {
		file, err := tokenstore.NewFile(path, key)
		if err != nil {
			t.Fatal(err)
		}
		return clientcredentials.New(clientcredentials.Config{
			Endpoint: endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
			Scopes:   []string{"trading"},
			Storage:  file,
		})
	}
	ctx := context.Background()
	first, err := newSource().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(first.AccessToken.Reveal())) {
		t.Error("the token file holds the access token in clear")
	}

	restarted := newSource()
	again, err := restarted.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != first.AccessToken || srv.TokenRequests() != 1 {
		t.Errorf("after a restart: same token %v, %d requests; want the stored token and no request",
			again.AccessToken == first.AccessToken, srv.TokenRequests())
	}

	if err := restarted.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("token file still exists after Delete: %v", err)
	}
}

func TestInvalidateAfterRejection(t *testing.T) {
	srv := startAuthServer(t, authserver.Options{})
	src := clientcredentials.New(clientcredentials.Config{
		Endpoint: endpoint(srv, "basic-client", "basic-secret", tokenendpoint.ClientSecretBasic),
	})
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !src.Invalidate(first) || src.Invalidate(first) {
		t.Error("Invalidate did not report one invalidation")
	}
	second, err := src.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("Token after Invalidate = %v, %v; want a new token", second, err)
	}
	if src.Invalidate(first) {
		t.Error("Invalidate of the old token touched its replacement")
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("fosite received %d token requests, want 2", n)
	}
}
