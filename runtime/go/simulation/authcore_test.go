package simulation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/retry"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/simulation"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenrefresh"
)

// rig is a client of the simulation mode: an authcore.Client whose every
// request goes, through its own HTTP code path, to a simulation.Server,
// and a tokenrefresh.Source on the server's virtual clock that keeps the
// current token with the client's operations.
//
// authcore.Config has no Clock yet, so the client computes ExpiresAt on
// the system clock; virtual puts it back on the virtual clock from the
// server's record. With authcore.Config.Clock (see the package's report),
// the client's own Token does all of this.
type rig struct {
	srv  *simulation.Server
	vc   *clock.Virtual
	core *authcore.Client
	src  *tokenrefresh.Source
}

// newRig returns a rig whose Source gets new tokens with fetch, or with
// the client credentials grant when fetch is nil.
func newRig(t *testing.T, scfg simulation.Config, ccfg authcore.Config, buffer time.Duration, fetch tokenrefresh.FetchFunc) *rig {
	t.Helper()
	srv := newServer(t, scfg)
	if ccfg.ServerURL == "" {
		ccfg.ServerURL = simulation.DefaultServerURL
	}
	if ccfg.ClientID == "" {
		ccfg.ClientID, ccfg.ClientSecret = "svc", "s3cret"
	}
	ccfg.Discovery = true
	ccfg.AutoRefresh = true
	ccfg.Scopes = []string{"trading"}
	ccfg.WrapTransport = srv.WrapTransport
	core, err := authcore.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	r := &rig{srv: srv, vc: srv.Clock(), core: core}
	if fetch == nil {
		fetch = r.fetch
	}
	r.src = tokenrefresh.New(tokenrefresh.Config{
		Clock:         r.vc,
		Fetch:         fetch,
		Refresh:       r.refresh,
		RefreshBuffer: buffer,
		Retry:         retry.Policy{MaxRetries: 3},
	})
	return r
}

func (r *rig) fetch(ctx context.Context) (*token.Token, error) {
	tok, err := r.core.AuthenticateClientCredentials(ctx, nil)
	return r.virtual(tok, err)
}

func (r *rig) refresh(ctx context.Context, rt secret.Secret) (*token.Token, error) {
	tok, err := r.core.RefreshToken(ctx, rt.Reveal())
	return r.virtual(tok, err)
}

// virtual returns tok with the virtual ExpiresAt the server gave it.
func (r *rig) virtual(tok *token.Token, err error) (*token.Token, error) {
	if err != nil {
		return nil, err
	}
	info, ok := r.srv.Lookup(tok.AccessToken.Reveal())
	if !ok {
		return nil, errors.New("the server did not issue the token")
	}
	copied := *tok
	copied.ExpiresAt = info.ExpiresAt
	return &copied, nil
}

// tokenRequests returns the token endpoint's counters.
func (r *rig) tokenRequests() simulation.Counters {
	return r.srv.Stats().Endpoints[simulation.EndpointToken]
}

// herd has n goroutines call Token at once and returns their results.
func herd(ctx context.Context, src *tokenrefresh.Source, n int) ([]*token.Token, []error) {
	toks, errs := make([]*token.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = src.Token(ctx) })
	}
	wg.Wait()
	return toks, errs
}

// allGot checks that every caller got want.
func allGot(t *testing.T, toks []*token.Token, errs []error, want *token.Token) {
	t.Helper()
	for i := range toks {
		if errs[i] != nil || toks[i] != want {
			t.Fatalf("caller %d got %v, %v; want %v", i, toks[i], errs[i], want)
		}
	}
}

// waitFor polls cond, in real time, for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestProactiveRefreshNoCallerWaits drives a token through five
// lifetimes. Each exchange takes 200ms of virtual time, during which the
// request waits at the server: callers that waited for a refresh would
// hang, since only the test moves the clock.
func TestProactiveRefreshNoCallerWaits(t *testing.T) {
	const lifetime, buffer, latency = 10 * time.Minute, time.Minute, 200 * time.Millisecond
	r := newRig(t, simulation.Config{TokenLifetime: lifetime, Latency: latency, BlockOnLatency: true}, authcore.Config{}, buffer, nil)
	ctx := testContext(t)
	start := r.vc.Now()

	// Cold start: the first caller has no token and waits for discovery
	// and the token request.
	first := make(chan *token.Token)
	go func() {
		tok, err := r.src.Token(ctx)
		if err != nil {
			t.Error(err)
		}
		first <- tok
	}()
	for range 2 {
		if err := r.vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		r.vc.Advance(latency)
	}
	prev := <-first
	if want := start.Add(2 * latency).Add(lifetime); !prev.ExpiresAt.Equal(want) {
		t.Fatalf("first token expires at %v, want %v", prev.ExpiresAt, want)
	}

	for cycle := 1; cycle <= 5; cycle++ {
		due := prev.ExpiresAt.Add(-buffer)
		r.vc.Set(due.Add(-time.Nanosecond))
		toks, errs := herd(ctx, r.src, 100)
		allGot(t, toks, errs, prev)

		r.vc.Set(due)
		toks, errs = herd(ctx, r.src, 100) // returns while the refresh is at the server
		allGot(t, toks, errs, prev)
		if err := r.vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if n := r.tokenRequests().Succeeded; n != cycle {
			t.Fatalf("cycle %d: %d token requests answered before the refresh's latency elapsed, want %d", cycle, n, cycle)
		}
		r.vc.Advance(latency)
		waitFor(t, "the refreshed token", func() bool { return r.src.Current() != prev })
		next := r.src.Current()
		if want := due.Add(latency).Add(lifetime); !next.ExpiresAt.Equal(want) {
			t.Fatalf("cycle %d: new token expires at %v, want %v", cycle, next.ExpiresAt, want)
		}
		toks, errs = herd(ctx, r.src, 100)
		allGot(t, toks, errs, next)
		prev = next
	}

	st := r.srv.Stats()
	if c := st.Endpoints[simulation.EndpointToken]; c.Requests != 6 || c.Succeeded != 6 {
		t.Errorf("token endpoint %+v; want 6 requests for 6 lifetimes and 1000+ callers", c)
	}
	if c := st.Endpoints[simulation.EndpointMetadata]; c.Requests != 1 {
		t.Errorf("metadata %+v; want one discovery", c)
	}
	if st.Latency != 7*latency {
		t.Errorf("total simulated latency %v, want %v", st.Latency, 7*latency)
	}
}

// TestOutageWithConcurrentCallers takes the token endpoint down over the
// refresh point: 100 concurrent callers keep the still-valid token until
// it expires, then get the typed error; the server sees one request per
// backoff step (the 30s Retry-After) however many callers ask; and the
// client recovers when the outage ends.
func TestOutageWithConcurrentCallers(t *testing.T) {
	const lifetime, buffer, retryAfter = 10 * time.Minute, time.Minute, 30 * time.Second
	r := newRig(t, simulation.Config{TokenLifetime: lifetime}, authcore.Config{}, buffer, nil)
	ctx := testContext(t)
	s := r.vc.Now()
	at := func(d time.Duration) time.Time { return s.Add(d) }
	if err := r.srv.AddOutage(simulation.Outage{From: at(530 * time.Second), Until: at(700 * time.Second), RetryAfter: retryAfter, Endpoints: []simulation.Endpoint{simulation.EndpointToken}}); err != nil {
		t.Fatal(err)
	}
	tok0, err := r.src.Token(ctx)
	if err != nil || !tok0.ExpiresAt.Equal(at(lifetime)) {
		t.Fatalf("first token %v, %v", tok0, err)
	}

	// step advances by one backoff step once the refresh waits it out.
	step := func() {
		t.Helper()
		if err := r.vc.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		r.vc.Advance(retryAfter)
	}

	// 540s: refresh due, the server is down. Callers keep the token.
	r.vc.Set(at(540 * time.Second))
	for range 2 {
		toks, errs := herd(ctx, r.src, 100)
		allGot(t, toks, errs, tok0)
	}
	step() // 570s
	if err := r.srv.AwaitRequests(ctx, simulation.EndpointToken, 3); err != nil {
		t.Fatal(err)
	}
	toks, errs := herd(ctx, r.src, 100)
	allGot(t, toks, errs, tok0)
	if n := r.tokenRequests().Requests; n != 3 {
		t.Fatalf("%d token requests by 570s, want 3 (one per step)", n)
	}

	// 600s: the token expires. Callers now join the refresh in flight and
	// get its typed error when it gives up (MaxRetries 3) at 630s.
	step()
	var wg sync.WaitGroup
	errs = make([]error, 100)
	for i := range errs {
		wg.Go(func() {
			tok, err := r.src.Token(ctx)
			if tok != nil {
				t.Errorf("caller %d got %v after expiry during the outage", i, tok)
			}
			errs[i] = err
		})
	}
	step() // 630s
	wg.Wait()
	wantOutageError := func(err error) {
		t.Helper()
		var oerr *oautherr.Error
		if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeTemporarilyUnavailable || oerr.StatusCode != 503 || !oerr.Retryable || oerr.RetryAfter != retryAfter {
			t.Fatalf("error %#v, want the typed 503 temporarily_unavailable with Retry-After", err)
		}
	}
	for _, err := range errs {
		wantOutageError(err)
	}

	// 630s-660s: the failure's backoff lasts; callers get it at once.
	_, errs = herd(ctx, r.src, 100)
	for _, err := range errs {
		wantOutageError(err)
	}
	if n := r.tokenRequests().Requests; n != 5 {
		t.Fatalf("%d token requests by 630s, want 5", n)
	}

	// 660s: the next caller starts a new request; 100 callers wait for it,
	// and get a new token at 720s, the first step after the outage.
	r.vc.Advance(retryAfter)
	results := make(chan *token.Token, 100)
	for range 100 {
		wg.Go(func() {
			tok, err := r.src.Token(ctx)
			if err != nil {
				t.Errorf("after recovery: %v", err)
			}
			results <- tok
		})
	}
	step() // 690s
	step() // 720s
	wg.Wait()
	close(results)
	tok1 := r.src.Current()
	for tok := range results {
		if tok != tok1 {
			t.Fatalf("caller got %v, want the new token %v", tok, tok1)
		}
	}
	if !tok1.ExpiresAt.Equal(at(720*time.Second + lifetime)) {
		t.Errorf("new token expires at %v", tok1.ExpiresAt)
	}

	// One request per backoff step, and nothing else.
	var times []time.Duration
	var statuses []int
	for _, x := range r.srv.Exchanges() {
		if x.Endpoint == simulation.EndpointToken {
			times = append(times, x.At.Sub(s))
			statuses = append(statuses, x.Status)
		}
	}
	wantTimes := []time.Duration{0, 540 * time.Second, 570 * time.Second, 600 * time.Second, 630 * time.Second, 660 * time.Second, 690 * time.Second, 720 * time.Second}
	wantStatuses := []int{200, 503, 503, 503, 503, 503, 503, 200}
	if !slices.Equal(times, wantTimes) || !slices.Equal(statuses, wantStatuses) {
		t.Errorf("token requests at %v with %v\nwant at %v with %v", times, statuses, wantTimes, wantStatuses)
	}
	if c := r.tokenRequests(); c.Injected != 6 {
		t.Errorf("token counters %+v, want 6 injected failures", c)
	}

	// Recovery: the next lifetime refreshes normally, once.
	r.vc.Set(tok1.ExpiresAt.Add(-buffer))
	toks, errs = herd(ctx, r.src, 100)
	waitFor(t, "the refreshed token", func() bool { return r.src.Current() != tok1 })
	for i := range toks {
		// The refresh answers at once: late callers get its token.
		if errs[i] != nil || (toks[i] != tok1 && toks[i] != r.src.Current()) {
			t.Fatalf("caller %d got %v, %v", i, toks[i], errs[i])
		}
	}
	if c := r.tokenRequests(); c.Requests != 9 || c.Succeeded != 3 {
		t.Errorf("token counters after recovery %+v", c)
	}
}

// loginRequired is the fetch of the authorization code modes: without a
// refresh token, only the user can grant a new token.
func loginRequired(context.Context) (*token.Token, error) {
	return nil, &oautherr.Error{Op: "get_valid_token", Code: authcore.CodeLoginRequired, Description: "the user must sign in"}
}

// TestAuthorizationCodeRotationThroughAuthcore runs the PKCE flow of a
// public client through authcore, then refreshes with rotation on the
// virtual clock, until an injected invalid_grant ends the refreshes.
func TestAuthorizationCodeRotationThroughAuthcore(t *testing.T) {
	r := newRig(t,
		simulation.Config{TokenLifetime: 5 * time.Minute, Clients: []simulation.Client{{ID: "spa"}}},
		authcore.Config{ClientID: "spa", AuthMode: authcore.ModeAuthorizationCodePKCE, ClientAuthMethod: "none", RedirectURI: "http://127.0.0.1:8765/callback"},
		time.Minute, loginRequired)
	ctx := testContext(t)
	req, err := r.core.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	callback, err := r.srv.Authorize(ctx, req.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.virtual(r.core.CompleteAuthorizationCodeFlow(ctx, callback))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.src.Set(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if info, err := r.core.IntrospectToken(ctx, tok.AccessToken.Reveal()); err != nil || !info.Active || !info.ExpiresAt.Equal(tok.ExpiresAt.Truncate(time.Second)) || info.Subject != simulation.Subject {
		t.Fatalf("introspection %+v, %v", info, err)
	}

	prev := tok
	for cycle := 1; cycle <= 3; cycle++ {
		r.vc.Set(prev.ExpiresAt.Add(-time.Minute))
		toks, errs := herd(ctx, r.src, 50)
		waitFor(t, "the refreshed token", func() bool { return r.src.Current() != prev })
		next := r.src.Current()
		for i := range toks {
			// The refresh answers at once: late callers get its token.
			if errs[i] != nil || (toks[i] != prev && toks[i] != next) {
				t.Fatalf("cycle %d: caller %d got %v, %v", cycle, i, toks[i], errs[i])
			}
		}
		if next.RefreshToken == prev.RefreshToken || next.RefreshToken.IsZero() {
			t.Fatalf("cycle %d: refresh token not rotated", cycle)
		}
		if info, _ := r.srv.Lookup(prev.RefreshToken.Reveal()); !info.Rotated {
			t.Fatalf("cycle %d: the server did not retire the old refresh token: %+v", cycle, info)
		}
		prev = next
	}
	if g := r.srv.Stats().Grants[simulation.GrantRefreshToken]; g.Requests != 3 || g.Succeeded != 3 {
		t.Errorf("refresh grant %+v", g)
	}

	// The server rejects the next refresh: callers keep the valid token,
	// then get the typed error once it expires (a public client cannot
	// get a new grant without the user: login_required).
	if err := r.srv.Inject(simulation.Fault{Endpoint: simulation.EndpointToken, Grant: simulation.GrantRefreshToken, Status: 400, Code: oautherr.CodeInvalidGrant}); err != nil {
		t.Fatal(err)
	}
	r.vc.Set(prev.ExpiresAt.Add(-time.Minute))
	toks, errs := herd(ctx, r.src, 50)
	allGot(t, toks, errs, prev)
	if err := r.srv.AwaitRequests(ctx, simulation.EndpointToken, 5); err != nil {
		t.Fatal(err)
	}
	r.vc.Set(prev.ExpiresAt)
	_, err = r.src.Token(ctx)
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != authcore.CodeLoginRequired {
		t.Fatalf("after a rejected refresh and expiry: %v, want login_required", err)
	}
	if g := r.srv.Stats().Grants[simulation.GrantRefreshToken]; g.Succeeded != 3 || g.Injected != 1 {
		t.Errorf("refresh grant %+v; want 3 refreshes and the injected invalid_grant", g)
	}
	// The injected invalid_grant killed the refresh token: every later
	// refresh attempt (how many depends on when the early refreshes
	// ran) was rejected by the server itself.
	var refreshes []simulation.Exchange
	for _, x := range r.srv.Exchanges() {
		if x.Grant == simulation.GrantRefreshToken {
			refreshes = append(refreshes, x)
		}
	}
	for _, x := range refreshes[4:] {
		if x.Code != oautherr.CodeInvalidGrant || x.Injected {
			t.Errorf("refresh after the injected fault: %+v", x)
		}
	}

	// Revoking the refresh token through the client ends the grant.
	if ok, err := r.core.RevokeToken(ctx, prev.RefreshToken.Reveal(), "refresh_token"); !ok || err != nil {
		t.Fatalf("revoke: %v, %v", ok, err)
	}
	if info, err := r.core.IntrospectToken(ctx, prev.AccessToken.Reveal()); err != nil || info.Active {
		t.Errorf("after revocation: %+v, %v", info, err)
	}
}

func TestJWTBearerAndConnectionThroughAuthcore(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, simulation.Config{}, authcore.Config{
		AuthMode: authcore.ModeJWTBearer, JWTSigningKeyPath: path, JWTAlgorithm: "ES256",
		JWTIssuer: "algo-service", JWTAudience: simulation.DefaultServerURL,
	}, 0, nil)
	ctx := testContext(t)
	if ok, err := r.core.TestConnection(ctx); !ok || err != nil {
		t.Fatalf("TestConnection = %v, %v", ok, err)
	}
	tok, err := r.core.AuthenticateJWTBearer(ctx, "trader-001", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := r.srv.Lookup(tok.AccessToken.Reveal()); info.Subject != "trader-001" || info.ClientID != "svc" {
		t.Errorf("issued %+v", info)
	}
	if g := r.srv.Stats().Grants[simulation.GrantJWTBearer]; g.Succeeded != 1 {
		t.Errorf("jwt-bearer grant %+v", g)
	}
}

// TestSeededRunsRepeatThroughAuthcore checks that a seed reproduces a run
// with injected errors, tokens included.
func TestSeededRunsRepeatThroughAuthcore(t *testing.T) {
	run := func(seed int64) []string {
		r := newRig(t, simulation.Config{ErrorRate: 0.3, Seed: seed}, authcore.Config{}, 0, nil)
		var out []string
		for range 100 {
			tok, err := r.core.AuthenticateClientCredentials(context.Background(), nil)
			var oerr *oautherr.Error
			switch {
			case err == nil:
				out = append(out, tok.AccessToken.Reveal())
			case errors.As(err, &oerr) && oerr.StatusCode == 503 && oerr.Retryable:
				out = append(out, "503")
			default:
				t.Fatal(err)
			}
		}
		return out
	}
	a, b := run(42), run(42)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different runs")
	}
	if n := len(slices.DeleteFunc(slices.Clone(a), func(s string) bool { return s != "503" })); n < 10 || n > 55 {
		t.Errorf("%d of 100 failed at error_rate 0.3", n)
	}
}
