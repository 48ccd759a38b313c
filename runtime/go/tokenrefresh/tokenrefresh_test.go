package tokenrefresh_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// flow is a fake grant: it records when it was called and answers with
// answer, which gets the 1-based call number.
type flow struct {
	mu     sync.Mutex
	calls  []time.Time
	answer func(n int, ctx context.Context) (*token.Token, error)
}

func (f *flow) fetch(ctx context.Context) (*token.Token, error) {
	f.mu.Lock()
	f.calls = append(f.calls, time.Now())
	n := len(f.calls)
	f.mu.Unlock()
	return f.answer(n, ctx)
}

func (f *flow) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *flow) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

// issue returns a bearer token named after n that lives for lifetime.
func issue(n int, lifetime time.Duration) *token.Token {
	return &token.Token{AccessToken: secret.Secret(fmt.Sprint("access-", n)), TokenType: "Bearer", ExpiresAt: time.Now().Add(lifetime)}
}

// always answers every call with a token of the given lifetime.
func always(lifetime time.Duration) func(int, context.Context) (*token.Token, error) {
	return func(n int, _ context.Context) (*token.Token, error) { return issue(n, lifetime), nil }
}

var (
	errUnavailable = &oautherr.Error{Op: "test", Code: oautherr.CodeServerError, StatusCode: 503, Retryable: true}
	errBadClient   = &oautherr.Error{Op: "test", Code: oautherr.CodeInvalidClient, StatusCode: 401}
	errBadGrant    = &oautherr.Error{Op: "test", Code: oautherr.CodeInvalidGrant, StatusCode: 400}
)

func wantCode(t *testing.T, err error, code string) *oautherr.Error {
	t.Helper()
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != code {
		t.Fatalf("error = %v, want an *oautherr.Error with code %q", err, code)
	}
	return oerr
}

// callers runs n goroutines that call Token at once and returns their
// results.
func callers(ctx context.Context, s *tokenrefresh.Source, n int) ([]*token.Token, []error) {
	toks, errs := make([]*token.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = s.Token(ctx) })
	}
	wg.Wait()
	return toks, errs
}

func TestFirstTokenIsFetchedOnceForAllCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			<-release
			return issue(n, time.Hour), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch})
		var toks []*token.Token
		var errs []error
		done := make(chan struct{})
		go func() {
			toks, errs = callers(context.Background(), s, 1000)
			close(done)
		}()
		synctest.Wait() // every caller is waiting for the one request
		close(release)
		<-done
		for i := range toks {
			if errs[i] != nil || toks[i] != toks[0] {
				t.Fatalf("caller %d: %v, %v; want the shared token", i, toks[i], errs[i])
			}
		}
		if n := f.count(); n != 1 {
			t.Errorf("%d requests for 1000 callers, want 1", n)
		}
	})
}

func TestHerdAtExpiryWithoutEarlyRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: always(time.Hour)}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RefreshBuffer: tokenrefresh.NoRefreshBuffer})
		first, err := s.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		toks, errs := callers(context.Background(), s, 1000)
		for i := range toks {
			if errs[i] != nil || toks[i] == first || toks[i] != toks[0] {
				t.Fatalf("caller %d: %v, %v; want one new token", i, toks[i], errs[i])
			}
		}
		if n := f.count(); n != 2 {
			t.Errorf("%d requests, want 2 (one per token)", n)
		}
	})
}

func TestEarlyRefreshNobodyWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			if n > 1 {
				<-release
			}
			return issue(n, time.Hour), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RefreshBuffer: 5 * time.Minute})
		first, _ := s.Token(context.Background())

		time.Sleep(55*time.Minute + time.Second) // inside the refresh buffer
		synctest.Wait()
		start := time.Now()
		toks, errs := callers(context.Background(), s, 1000)
		for i := range toks {
			if errs[i] != nil || toks[i] != first {
				t.Fatalf("caller %d: %v, %v; want the still-valid token at once", i, toks[i], errs[i])
			}
		}
		if time.Since(start) != 0 {
			t.Errorf("callers waited %v for an early refresh", time.Since(start))
		}
		synctest.Wait()
		if n := f.count(); n != 2 {
			t.Fatalf("%d requests, want 2: the first token and one background refresh", n)
		}
		close(release)
		synctest.Wait()
		second, _ := s.Token(context.Background())
		if second == first || second.AccessToken.Reveal() != "access-2" {
			t.Errorf("Token after the refresh = %v, want the new token", second)
		}
	})
}

func TestRefreshBufferScalesWithShortLifetimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: always(time.Minute)} // far below the 300 s default buffer
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch})
		first, _ := s.Token(context.Background())
		time.Sleep(29 * time.Second)
		synctest.Wait()
		s.Token(context.Background())
		synctest.Wait()
		if n := f.count(); n != 1 {
			t.Fatalf("refreshed after 29s of a 60s token, %d requests", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got, _ := s.Token(context.Background()); got != first {
			t.Error("half-way through its lifetime the token was not served while refreshing")
		}
		synctest.Wait()
		if n := f.count(); n != 2 {
			t.Errorf("%d requests half-way through a 60s token, want 2", n)
		}
	})
}

// backoffPolicy retries three times with delays of about 1, 2 and 4 s.
var backoffPolicy = retry.Policy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: time.Minute}

func TestFailingServerSeesOneRequestPerBackoffStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: func(int, context.Context) (*token.Token, error) { return nil, errUnavailable }}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Retry: backoffPolicy})

		_, errs := callers(context.Background(), s, 500)
		for i, err := range errs {
			if err != errUnavailable {
				t.Fatalf("caller %d: %v, want the server's error", i, err)
			}
		}
		calls := f.times()
		if len(calls) != 1+backoffPolicy.MaxRetries {
			t.Fatalf("%d requests for 500 waiting callers, want %d (one per backoff step)", len(calls), 1+backoffPolicy.MaxRetries)
		}
		for i, nominal := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			if gap := calls[i+1].Sub(calls[i]); gap <= nominal/2 || gap > nominal {
				t.Errorf("wait before retry %d = %v, want in (%v, %v]", i+1, gap, nominal/2, nominal)
			}
		}

		// Until the next backoff step, callers get the error without a
		// request.
		if _, err := s.Token(context.Background()); err != errUnavailable || f.count() != len(calls) {
			t.Errorf("Token during the backoff = %v after %d requests; want the last error, no request", err, f.count())
		}
		time.Sleep(8 * time.Second) // past the next step, whatever the jitter
		_, err := s.Token(context.Background())
		if err != errUnavailable || f.count() != 2*len(calls) {
			t.Errorf("Token after the backoff = %v after %d requests; want a new round of %d", err, f.count(), len(calls))
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &oautherr.Error{Code: oautherr.CodeTemporarilyUnavailable, StatusCode: 429, Retryable: true, RetryAfter: 10 * time.Second}
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			if n < 3 {
				return nil, busy
			}
			return issue(n, time.Hour), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Retry: retry.Policy{MaxRetries: 5, BaseDelay: 100 * time.Millisecond}})
		tok, err := s.Token(context.Background())
		if err != nil || tok == nil {
			t.Fatalf("Token = %v, %v", tok, err)
		}
		calls := f.times()
		for i := 1; i < len(calls); i++ {
			if gap := calls[i].Sub(calls[i-1]); gap != 10*time.Second {
				t.Errorf("request %d came %v after the previous one, want the 10s Retry-After", i+1, gap)
			}
		}
	})
}

func TestRetryAfterBeyondMaxDelayFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		later := &oautherr.Error{Code: oautherr.CodeServerError, StatusCode: 503, Retryable: true, RetryAfter: time.Hour}
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			if n == 1 {
				return nil, later
			}
			return issue(n, time.Hour), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Retry: retry.Policy{MaxRetries: 3, MaxDelay: time.Minute}})
		start := time.Now()
		if _, err := s.Token(context.Background()); err != later || time.Since(start) != 0 {
			t.Fatalf("Token = %v after %v; want the error at once", err, time.Since(start))
		}
		time.Sleep(59 * time.Minute)
		if _, err := s.Token(context.Background()); err != later || f.count() != 1 {
			t.Fatalf("Token before Retry-After passed = %v after %d requests", err, f.count())
		}
		time.Sleep(time.Minute)
		if tok, err := s.Token(context.Background()); err != nil || tok == nil || f.count() != 2 {
			t.Errorf("Token after Retry-After = %v, %v after %d requests", tok, err, f.count())
		}
	})
}

func TestCallersDoNotWaitOutABackoffAfterExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		later := &oautherr.Error{Code: oautherr.CodeServerError, StatusCode: 503, Retryable: true, RetryAfter: time.Hour}
		var failing atomic.Bool
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			if failing.Load() {
				return nil, later
			}
			return issue(n, 10*time.Minute), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RefreshBuffer: 5 * time.Minute, Retry: retry.Policy{MaxRetries: 3, MaxDelay: time.Minute}})
		first, _ := s.Token(context.Background())
		failing.Store(true)
		time.Sleep(6 * time.Minute)
		s.Token(context.Background()) // starts the early refresh, which fails
		synctest.Wait()
		s.Token(context.Background()) // starts one that waits out Retry-After
		time.Sleep(5 * time.Minute)   // the token expires meanwhile
		synctest.Wait()

		start := time.Now()
		tok, err := s.Token(context.Background())
		if err != later || time.Since(start) != 0 {
			t.Errorf("Token after expiry = %v, %v after %v; want the failure at once", tok, err, time.Since(start))
		}
		if f.count() != 2 || tok == first {
			t.Errorf("%d requests, want 2", f.count())
		}
		time.Sleep(time.Hour) // let the waiting refresh run out
		synctest.Wait()
	})
}

func TestPermanentErrorIsReturnedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: func(int, context.Context) (*token.Token, error) { return nil, errBadClient }}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Retry: backoffPolicy})
		start := time.Now()
		_, err := s.Token(context.Background())
		if err != errBadClient || f.count() != 1 || time.Since(start) != 0 {
			t.Fatalf("Token = %v after %d requests and %v; want invalid_client at once", err, f.count(), time.Since(start))
		}
		// Not transient, so not held back: the next caller asks again.
		s.Token(context.Background())
		if f.count() != 2 {
			t.Errorf("%d requests after two calls, want 2", f.count())
		}
	})
}

func TestEarlyRefreshFailureKeepsServingValidToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{{"transient", errUnavailable}, {"permanent", errBadClient}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var failing atomic.Bool
				f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
					if failing.Load() {
						return nil, tc.err
					}
					return issue(n, time.Hour), nil
				}}
				policy := retry.Policy{MaxRetries: 1, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}
				s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RefreshBuffer: 5 * time.Minute, Retry: policy})
				first, _ := s.Token(context.Background())
				failing.Store(true)

				time.Sleep(55 * time.Minute) // the refresh buffer begins
				synctest.Wait()
				for range 5 * 60 / 2 { // callers every 2 s until the old token expires
					tok, err := s.Token(context.Background())
					if err != nil || tok != first {
						t.Fatalf("at %v before expiry: Token = %v, %v; want the valid token", time.Until(first.ExpiresAt), tok, err)
					}
					time.Sleep(2 * time.Second)
				}
				// Requests were spaced by the backoff, not one per call.
				calls := f.times()[1:]
				if len(calls) < 5*60/10-1 || len(calls) > 5*60/5+1 {
					t.Errorf("%d refresh attempts in 5 minutes, want one per backoff step (10 s at most, 5 s at least)", len(calls))
				}
				for i := 1; i < len(calls); i++ {
					if gap := calls[i].Sub(calls[i-1]); gap < 5*time.Second {
						t.Errorf("refresh attempt %d came %v after the previous one", i+1, gap)
					}
				}

				// Once the server recovers, the token is replaced.
				failing.Store(false)
				time.Sleep(20 * time.Second)
				tok, err := s.Token(context.Background())
				if err != nil || tok == first {
					t.Errorf("Token after recovery = %v, %v; want a new token", tok, err)
				}
			})
		})
	}
}

func TestWaitingCallerHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := &flow{answer: func(n int, ctx context.Context) (*token.Token, error) {
			if n == 1 {
				return nil, errUnavailable
			}
			<-release
			return issue(n, time.Hour), nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Op: "get_valid_token", Fetch: f.fetch, Retry: retry.Policy{MaxRetries: 1, BaseDelay: time.Second}})

		// A patient caller starts the shared request.
		patient := make(chan error, 1)
		go func() {
			_, err := s.Token(context.Background())
			patient <- err
		}()

		// An impatient caller gives up while the request is retried.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.Token(ctx)
		if time.Since(start) != 100*time.Millisecond {
			t.Errorf("impatient caller returned after %v, want its 100ms deadline", time.Since(start))
		}
		oerr := wantCode(t, err, oautherr.CodeCanceled)
		if oerr.Op != "get_valid_token" || oerr.Retryable || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errUnavailable) {
			t.Errorf("error = %v; want a non-retryable canceled error wrapping the deadline and the last attempt", err)
		}

		// A caller whose context has already ended does not start anything.
		if _, err := s.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Token with an ended context = %v", err)
		}

		// The shared request goes on for the patient caller.
		close(release)
		if err := <-patient; err != nil {
			t.Errorf("patient caller: %v", err)
		}
		if n := f.count(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

func TestHungServerIsBoundedByRequestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: func(_ int, ctx context.Context) (*token.Token, error) {
			<-ctx.Done() // a server that never answers
			return nil, &oautherr.Error{Code: oautherr.CodeCanceled, Err: ctx.Err()}
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RequestTimeout: 2 * time.Second, Retry: retry.Policy{MaxRetries: 1, BaseDelay: time.Second}})
		start := time.Now()
		_, err := s.Token(context.Background())
		oerr := wantCode(t, err, oautherr.CodeNetworkError)
		if !oerr.Retryable || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want a retryable timeout", err)
		}
		// Two attempts of 2 s and a backoff of at most 1 s.
		if d := time.Since(start); d <= 4500*time.Millisecond || d > 5*time.Second {
			t.Errorf("Token returned after %v, want about two timeouts and one backoff", d)
		}
	})
}

// events records the order of storage writes and token requests.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, fmt.Sprintf(format, args...))
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// recordingStore is a tokenstore.Memory that logs writes and can fail.
type recordingStore struct {
	tokenstore.Memory
	events *events
	fail   atomic.Int32 // fail this many Store calls
}

func (r *recordingStore) Store(ctx context.Context, key string, tok *token.Token) error {
	if r.fail.Load() > 0 {
		r.fail.Add(-1)
		r.events.add("store failed")
		return errors.New("disk full")
	}
	r.events.add("store %s", tok.RefreshToken.Reveal())
	return r.Memory.Store(ctx, key, tok)
}

func TestRotatedRefreshTokenReachesStorageBeforeUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		store := &recordingStore{events: ev}
		var rotations atomic.Int32
		refresh := func(ctx context.Context, rt secret.Secret) (*token.Token, error) {
			ev.add("refresh with %s", rt.Reveal())
			stored, _ := store.Memory.Get(ctx, "k")
			if stored == nil || stored.RefreshToken != rt {
				t.Errorf("refresh token %s sent before it was stored (storage holds %v)", rt.Reveal(), stored)
			}
			n := rotations.Add(1)
			tok := issue(int(n), time.Hour)
			tok.RefreshToken = secret.Secret(fmt.Sprint("rt-", n))
			return tok, nil
		}
		fetch := func(context.Context) (*token.Token, error) {
			t.Error("Fetch called although a refresh token was available")
			return nil, errBadClient
		}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: fetch, Refresh: refresh, Storage: store, StorageKey: "k", RefreshBuffer: tokenrefresh.NoRefreshBuffer})
		initial := issue(0, time.Minute)
		initial.RefreshToken = "rt-0"
		if err := s.Set(context.Background(), initial); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			time.Sleep(time.Hour + time.Second)
			if _, err := s.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"store rt-0", "refresh with rt-0", "store rt-1", "refresh with rt-1", "store rt-2", "refresh with rt-2", "store rt-3"}
		if got := ev.list(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
	})
}

func TestRefreshKeepsRefreshTokenWhenNoneIsIssued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var used []string
		refresh := func(_ context.Context, rt secret.Secret) (*token.Token, error) {
			used = append(used, rt.Reveal())
			return issue(len(used), time.Hour), nil // no new refresh token
		}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: (&flow{answer: always(time.Hour)}).fetch, Refresh: refresh, RefreshBuffer: tokenrefresh.NoRefreshBuffer})
		initial := issue(0, time.Minute)
		initial.RefreshToken = "rt-0"
		s.Set(context.Background(), initial)
		for range 2 {
			time.Sleep(time.Hour + time.Second)
			tok, err := s.Token(context.Background())
			if err != nil || tok.RefreshToken.Reveal() != "rt-0" {
				t.Fatalf("Token = %v, %v; want a token that keeps rt-0", tok, err)
			}
		}
		if fmt.Sprint(used) != "[rt-0 rt-0]" {
			t.Errorf("refresh tokens used: %v", used)
		}
	})
}

func TestRejectedRefreshTokenFallsBackToFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refreshes atomic.Int32
		refresh := func(context.Context, secret.Secret) (*token.Token, error) {
			refreshes.Add(1)
			return nil, errBadGrant
		}
		f := &flow{answer: always(time.Hour)}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Refresh: refresh})
		initial := issue(0, -time.Second)
		initial.RefreshToken = "revoked"
		s.Set(context.Background(), initial)
		tok, err := s.Token(context.Background())
		if err != nil || tok.AccessToken.Reveal() != "access-1" {
			t.Fatalf("Token = %v, %v; want a fetched token", tok, err)
		}
		if refreshes.Load() != 1 || f.count() != 1 {
			t.Errorf("%d refreshes and %d fetches, want 1 and 1", refreshes.Load(), f.count())
		}
	})
}

func TestTransientRefreshFailureIsRetriedWithRefreshToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refreshes atomic.Int32
		refresh := func(context.Context, secret.Secret) (*token.Token, error) {
			if refreshes.Add(1) == 1 {
				return nil, errUnavailable
			}
			return issue(9, time.Hour), nil
		}
		f := &flow{answer: always(time.Hour)}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Refresh: refresh, Retry: backoffPolicy})
		initial := issue(0, -time.Second)
		initial.RefreshToken = "rt"
		s.Set(context.Background(), initial)
		if tok, err := s.Token(context.Background()); err != nil || tok.AccessToken.Reveal() != "access-9" {
			t.Fatalf("Token = %v, %v", tok, err)
		}
		if refreshes.Load() != 2 || f.count() != 0 {
			t.Errorf("%d refreshes and %d fetches, want 2 and 0", refreshes.Load(), f.count())
		}
	})
}

func TestStorageFailureKeepsTheNewTokenUntilSaved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		store := &recordingStore{events: ev}
		store.fail.Store(1)
		f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
			tok := issue(n, time.Hour)
			tok.RefreshToken = "rt-new"
			return tok, nil
		}}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Storage: store, StorageKey: "k"})
		_, err := s.Token(context.Background())
		oerr := wantCode(t, err, tokenrefresh.CodeStorageError)
		if oerr.Err == nil || oerr.Err.Error() != "disk full" {
			t.Errorf("storage error does not wrap the cause: %v", err)
		}
		if s.Current() != nil {
			t.Error("a token that could not be saved is served")
		}
		tok, err := s.Token(context.Background())
		if err != nil || tok.AccessToken.Reveal() != "access-1" {
			t.Fatalf("Token = %v, %v; want the token saved on the second try", tok, err)
		}
		if f.count() != 1 {
			t.Errorf("%d requests, want 1: the unsaved token is not thrown away", f.count())
		}
		if got := fmt.Sprint(ev.list()); got != "[store failed store rt-new]" {
			t.Errorf("events = %s", got)
		}
	})
}

func TestTokenIsRestoredFromStorage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &tokenstore.Memory{}
		saved := issue(7, time.Hour)
		store.Store(ctx, "k", saved)
		f := &flow{answer: always(time.Hour)}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Storage: store, StorageKey: "k"})
		if tok, err := s.Token(ctx); err != nil || tok != saved || f.count() != 0 {
			t.Fatalf("Token = %v, %v after %d requests; want the stored token and no request", tok, err, f.count())
		}

		// An expired stored token is replaced with its refresh token.
		old := issue(8, -time.Minute)
		old.RefreshToken = "stored-rt"
		store.Store(ctx, "k2", old)
		var used secret.Secret
		refresh := func(_ context.Context, rt secret.Secret) (*token.Token, error) {
			used = rt
			return issue(9, time.Hour), nil
		}
		s = tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Refresh: refresh, Storage: store, StorageKey: "k2"})
		if tok, err := s.Token(ctx); err != nil || tok.AccessToken.Reveal() != "access-9" || used != "stored-rt" {
			t.Fatalf("Token = %v, %v, refresh token used %q", tok, err, used.Reveal())
		}
		if got, _ := store.Get(ctx, "k2"); got.AccessToken.Reveal() != "access-9" || got.RefreshToken.Reveal() != "stored-rt" {
			t.Errorf("storage holds %v, want the new token with the kept refresh token", got)
		}
	})
}

func TestCorruptStorageIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(`{"format":"coyotegen-tokens","version":1,"tok`), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := tokenstore.NewFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &flow{answer: always(time.Hour)}
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Storage: file, StorageKey: "k"})
	tok, err := s.Token(context.Background())
	if tok != nil {
		t.Errorf("Token = %v, want no token", tok)
	}
	wantCode(t, err, tokenrefresh.CodeStorageError)
	if !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("error = %v, want it to wrap tokenstore.ErrCorrupt", err)
	}
	if f.count() != 0 {
		t.Error("a corrupt token file was silently replaced by a new token")
	}
}

func TestInvalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flow{answer: always(time.Hour)}
		s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch})
		ctx := context.Background()
		first, _ := s.Token(ctx)

		// Many requests rejected with the same token cause one new token.
		var wg sync.WaitGroup
		var invalidated atomic.Int32
		for range 100 {
			wg.Go(func() {
				if s.Invalidate(first) {
					invalidated.Add(1)
				}
				if tok, err := s.Token(ctx); err != nil || tok == first {
					t.Errorf("Token after Invalidate = %v, %v", tok, err)
				}
			})
		}
		wg.Wait()
		if f.count() != 2 || invalidated.Load() < 1 {
			t.Errorf("%d requests and %d invalidations, want 2 requests", f.count(), invalidated.Load())
		}
		second := s.Current()
		if s.Invalidate(first) || s.Current() != second {
			t.Error("Invalidate of an old token touched the current one")
		}
	})
}

func TestSetClearDelete(t *testing.T) {
	ctx := context.Background()
	store := &tokenstore.Memory{}
	f := &flow{answer: always(time.Hour)}
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, Storage: store, StorageKey: "k"})
	tok := issue(42, time.Hour)
	if err := s.Set(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx); got != tok || f.count() != 0 {
		t.Errorf("Token after Set = %v after %d requests", got, f.count())
	}
	if got, _ := store.Get(ctx, "k"); got != tok {
		t.Error("Set did not save the token")
	}
	if err := s.Set(ctx, nil); err == nil {
		t.Error("Set(nil) succeeded")
	}

	s.Clear()
	if s.Current() != nil {
		t.Error("Current after Clear is not nil")
	}
	if got, _ := store.Get(ctx, "k"); got != tok {
		t.Error("Clear touched storage")
	}
	if got, _ := s.Token(ctx); got == tok || f.count() != 1 {
		t.Errorf("Token after Clear = %v after %d requests; want a new token", got, f.count())
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "k"); got != nil || s.Current() != nil {
		t.Errorf("after Delete: storage holds %v, cache %v", got, s.Current())
	}
}

func TestInvalidConfig(t *testing.T) {
	fetch := (&flow{answer: always(time.Hour)}).fetch
	for name, cfg := range map[string]tokenrefresh.Config{
		"no fetch":          {},
		"negative buffer":   {Fetch: fetch, RefreshBuffer: -2 * time.Second},
		"negative timeout":  {Fetch: fetch, RequestTimeout: -time.Second},
		"storage, no key":   {Fetch: fetch, Storage: &tokenstore.Memory{}},
		"negative retries":  {Fetch: fetch, Retry: retry.Policy{MaxRetries: -1}},
		"bad retry delays":  {Fetch: fetch, Retry: retry.Policy{BaseDelay: time.Minute, MaxDelay: time.Second}},
		"negative max wait": {Fetch: fetch, Retry: retry.Policy{MaxDelay: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			if cfg.Validate() == nil {
				t.Error("Validate() = nil")
			}
			s := tokenrefresh.New(cfg)
			_, err := s.Token(context.Background())
			wantCode(t, err, oautherr.CodeInvalidConfig)
			wantCode(t, s.Set(context.Background(), issue(1, time.Hour)), oautherr.CodeInvalidConfig)
		})
	}
}

func TestPanickingFlowDoesNotStrandCallers(t *testing.T) {
	var calls atomic.Int32
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: func(context.Context) (*token.Token, error) {
		if calls.Add(1) == 1 {
			panic("flow bug")
		}
		return issue(2, time.Hour), nil
	}})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the flow's panic was swallowed")
			}
		}()
		s.Token(context.Background()) // runs the flight on this goroutine
	}()
	if tok, err := s.Token(context.Background()); err != nil || tok == nil {
		t.Errorf("Token after a panicking flight = %v, %v", tok, err)
	}
}

func TestFlowReturningNoTokenIsAnError(t *testing.T) {
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: func(context.Context) (*token.Token, error) { return nil, nil }})
	_, err := s.Token(context.Background())
	wantCode(t, err, oautherr.CodeInvalidResponse)
}

func TestCachedTokenDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: (&flow{answer: always(time.Hour)}).fetch})
	if _, err := s.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Token(ctx) }); n != 0 {
		t.Errorf("Token on a fresh token allocates %v times, want 0", n)
	}

	// Due for refresh, with the refresh in flight: still no allocation.
	release := make(chan struct{})
	defer close(release)
	f := &flow{answer: func(n int, _ context.Context) (*token.Token, error) {
		if n > 1 {
			<-release
		}
		return issue(n, 2*time.Second), nil
	}}
	s = tokenrefresh.New(tokenrefresh.Config{Fetch: f.fetch, RefreshBuffer: time.Second})
	first, _ := s.Token(ctx)
	for time.Until(first.ExpiresAt) > time.Second || f.count() < 2 {
		time.Sleep(10 * time.Millisecond)
		s.Token(ctx)
	}
	if n := testing.AllocsPerRun(100, func() {
		if tok, _ := s.Token(ctx); tok != first {
			t.Fatal("early refresh replaced the token")
		}
	}); n != 0 {
		t.Errorf("Token on a token due for refresh allocates %v times, want 0", n)
	}
}

func TestConcurrentStress(t *testing.T) {
	// Real time and short lifetimes, for the race detector.
	var n atomic.Int32
	fetch := func(context.Context) (*token.Token, error) {
		if n.Add(1)%3 == 0 {
			return nil, errUnavailable
		}
		return issue(int(n.Load()), 20*time.Millisecond), nil
	}
	s := tokenrefresh.New(tokenrefresh.Config{
		Fetch:         fetch,
		RefreshBuffer: 10 * time.Millisecond,
		Retry:         retry.Policy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
		Storage:       &tokenstore.Memory{},
		StorageKey:    "k",
	})
	var wg sync.WaitGroup
	deadline := time.Now().Add(300 * time.Millisecond)
	for i := range 32 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				tok, err := s.Token(ctx)
				cancel()
				switch {
				case err == nil && tok == nil:
					t.Error("nil token without error")
				case err == nil && i%8 == 0:
					s.Invalidate(tok)
				case i == 1:
					s.Clear()
				}
			}
		})
	}
	wg.Wait()
}

func TestRunsOnVirtualClock(t *testing.T) {
	vc := clock.NewVirtual(time.Time{})
	var mu sync.Mutex
	var calls []time.Time
	fail := true
	fetch := func(context.Context) (*token.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, vc.Now())
		if len(calls) > 1 && fail {
			return nil, &oautherr.Error{Op: "test", Code: oautherr.CodeTemporarilyUnavailable, StatusCode: 503, Retryable: true, RetryAfter: 20 * time.Second}
		}
		return &token.Token{AccessToken: secret.Secret(fmt.Sprint("access-", len(calls))), ExpiresAt: vc.Now().Add(10 * time.Minute)}, nil
	}
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: fetch, Clock: vc, RefreshBuffer: time.Minute, Retry: retry.Policy{MaxRetries: 5}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Nine virtual minutes later the token is due: the caller gets it at
	// once, and the refresh waits out each Retry-After on the virtual
	// clock.
	vc.Advance(9 * time.Minute)
	if tok, err := s.Token(ctx); tok != first || err != nil {
		t.Fatalf("Token() = %v, %v; want the current token", tok, err)
	}
	for range 2 {
		if err := vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		vc.Advance(20 * time.Second)
	}
	if err := vc.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	vc.Advance(20 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for s.Current() == first && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < len(calls); i++ {
		gaps = append(gaps, calls[i].Sub(calls[0]))
	}
	want := []time.Duration{9 * time.Minute, 9*time.Minute + 20*time.Second, 9*time.Minute + 40*time.Second, 10 * time.Minute}
	if !slices.Equal(gaps, want) {
		t.Errorf("requests at %v after the first, want %v", gaps, want)
	}
	if next := s.Current(); next == first || !next.ExpiresAt.Equal(vc.Now().Add(10*time.Minute)) {
		t.Errorf("current token %v, want the refreshed one", next)
	}
}

// TestBackgroundRefreshIsAClockTask: on a virtual clock the early refresh
// is a task of the clock, so BlockUntilIdle returns once it has finished
// or waits out its backoff on the clock, with no polling of the outcome.
func TestBackgroundRefreshIsAClockTask(t *testing.T) {
	vc := clock.NewVirtual(time.Time{})
	var mu sync.Mutex
	var calls []time.Duration
	fetch := func(context.Context) (*token.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, vc.Since(clock.DefaultStart))
		if len(calls) == 2 {
			return nil, &oautherr.Error{Op: "test", Code: oautherr.CodeTemporarilyUnavailable, StatusCode: 503, Retryable: true, RetryAfter: 30 * time.Second}
		}
		return &token.Token{AccessToken: secret.Secret(fmt.Sprint("access-", len(calls))), ExpiresAt: vc.Now().Add(10 * time.Minute)}, nil
	}
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: fetch, Clock: vc, RefreshBuffer: time.Minute, Retry: retry.Policy{MaxRetries: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := s.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vc.Advance(9 * time.Minute)
	if tok, _ := s.Token(ctx); tok != first {
		t.Fatal("the due token was not served at once")
	}
	// The refresh fails and sleeps out the Retry-After.
	if err := vc.BlockUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if vc.Tasks() != 1 || vc.Waiting() != 1 || s.Current() != first {
		t.Fatalf("after the failed refresh: %d tasks, %d waiting, current %v", vc.Tasks(), vc.Waiting(), s.Current())
	}
	// Its retry succeeds and the task ends with the new token cached.
	vc.Advance(30 * time.Second)
	if err := vc.BlockUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(calls)
	mu.Unlock()
	if want := []time.Duration{0, 9 * time.Minute, 9*time.Minute + 30*time.Second}; !slices.Equal(got, want) {
		t.Errorf("requests at %v, want %v", got, want)
	}
	if vc.Tasks() != 0 || s.Current() == first {
		t.Errorf("after the retry: %d tasks, current token %v, want none and the new token", vc.Tasks(), s.Current())
	}
}

func TestFlowErrorIsNotRewrittenAsTimeout(t *testing.T) {
	vc := clock.NewVirtual(time.Time{})
	fetch := func(ctx context.Context) (*token.Token, error) {
		vc.Advance(time.Minute) // the request timeout passes meanwhile
		return nil, errBadClient
	}
	s := tokenrefresh.New(tokenrefresh.Config{Fetch: fetch, Clock: vc, RequestTimeout: time.Second})
	_, err := s.Token(context.Background())
	if err != errBadClient {
		t.Errorf("Token() = %v, want the flow's own error", err)
	}
	hung := func(ctx context.Context) (*token.Token, error) {
		vc.Advance(time.Minute)
		<-ctx.Done()
		return nil, &oautherr.Error{Code: oautherr.CodeCanceled, Err: ctx.Err()}
	}
	s = tokenrefresh.New(tokenrefresh.Config{Fetch: hung, Clock: vc, RequestTimeout: time.Second})
	_, err = s.Token(context.Background())
	if oerr := wantCode(t, err, oautherr.CodeNetworkError); !oerr.Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a virtual timeout: %v, want a retryable network_error", err)
	}
}
