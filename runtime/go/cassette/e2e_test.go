package cassette_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/runtime/go/authcore"
	"github.com/coyotesense/coyotegen/runtime/go/cassette"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
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

// noNetwork is an HTTP client whose transport fails the test if a request
// ever reaches it: replaying clients are built on it.
func noNetwork(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("replay sent %s %s to the network", r.Method, r.URL)
		return nil, errors.New("no network in replay")
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newCore(t *testing.T, cfg authcore.Config) *authcore.Client {
	t.Helper()
	c, err := authcore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// replayer loads the cassette at path, as a fresh process would.
func replayer(t *testing.T, path string) *cassette.Replayer {
	t.Helper()
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cassette.NewReplayer(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// readCassette returns the file's text after checking its permissions
// and that it matches spec/cassette.schema.json.
func readCassette(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("cassette permissions = %v, want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	validateSchema(t, data)
	return string(data)
}

// assertAbsent fails for every secret that the cassette text contains.
func assertAbsent(t *testing.T, text string, secrets map[string]string) {
	t.Helper()
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("no value to search for: %s", what)
		}
		for _, form := range []string{s, url.QueryEscape(s)} {
			if strings.Contains(text, form) {
				t.Errorf("the cassette contains the %s", what)
			}
		}
	}
	if strings.Contains(text, "eyJ") {
		t.Error("the cassette contains a JWT")
	}
}

// countPlaceholder returns how many times the cassette holds p.
func countPlaceholder(text, p string) int { return strings.Count(text, `"`+p+`"`) }

type ccClient struct {
	name   string
	cfg    func(*authserver.Server, authserver.TestKeys) authcore.Config
	secret string // the credential the cassette must not contain
}

func ccClients() []ccClient {
	return []ccClient{
		{"client_secret_basic", func(s *authserver.Server, _ authserver.TestKeys) authcore.Config {
			return authcore.Config{ClientID: "basic-client", ClientSecret: "basic-secret", ClientAuthMethod: "client_secret_basic"}
		}, "basic-secret"},
		{"client_secret_post", func(s *authserver.Server, _ authserver.TestKeys) authcore.Config {
			return authcore.Config{ClientID: "post-client", ClientSecret: "post-secret", ClientAuthMethod: "client_secret_post"}
		}, "post-secret"},
		{"private_key_jwt", func(s *authserver.Server, k authserver.TestKeys) authcore.Config {
			return authcore.Config{ClientID: "jwt-rsa-client", ClientAuthMethod: "private_key_jwt",
				JWTSigningKeyPath: k.RSAPKCS8Path, JWTAlgorithm: "RS256", JWTKeyID: authserver.RSATestKeyID}
		}, ""},
	}
}

// ccResults are what a client sees through a client credentials session.
type ccResults struct {
	Token        *token.Token
	Active       *authcore.Introspection
	Revoked      bool
	AfterRevoke  *authcore.Introspection
	AccessTokens []string
}

// ccSession runs the session that the test records and replays: a token,
// its introspection, its revocation, and its introspection again.
func ccSession(t *testing.T, c *authcore.Client) ccResults {
	t.Helper()
	ctx := context.Background()
	var r ccResults
	var err error
	if r.Token, err = c.AuthenticateClientCredentials(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if r.Active, err = c.IntrospectToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if r.Revoked, err = c.RevokeToken(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if r.AfterRevoke, err = c.IntrospectToken(ctx, r.Token.AccessToken.Reveal()); err != nil {
		t.Fatal(err)
	}
	if !r.Active.Active || !r.Revoked || r.AfterRevoke.Active {
		t.Fatalf("session: active %v, revoked %v, active after revocation %v; want true, true, false", r.Active.Active, r.Revoked, r.AfterRevoke.Active)
	}
	return r
}

// TestRecordReplayClientCredentials records a client credentials token,
// its introspection and its revocation against the fosite server through
// authcore, for each client authentication method; checks that the
// cassette holds no secret, assertion or token and matches the schema;
// then replays it in a fresh client with the server closed and gets the
// same results, the tokens being the placeholders.
func TestRecordReplayClientCredentials(t *testing.T) {
	keys, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range ccClients() {
		t.Run(tc.name, func(t *testing.T) {
			srv := startAuthServer(t)
			cfg := tc.cfg(srv, keys)
			cfg.TokenURL, cfg.RevocationURL, cfg.IntrospectionURL = srv.TokenURL(), srv.RevocationURL(), srv.IntrospectionURL()
			cfg.Scopes = []string{"trading", "market-data"}
			cfg.Timeout = 10 * time.Second

			path := filepath.Join(t.TempDir(), "cc.cassette.json")
			rec := &cassette.Recorder{Path: path, SDKVersion: "0.1.0"}
			recCfg := cfg
			recCfg.WrapTransport = rec.Wrap
			client := newCore(t, recCfg)
			live := ccSession(t, client)
			if err := client.Close(); err != nil {
				t.Fatal(err)
			}
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}

			text := readCassette(t, path)
			secrets := map[string]string{"access token": live.Token.AccessToken.Reveal()}
			if tc.secret != "" {
				secrets["client secret"] = tc.secret
				secrets["Basic credentials"] = base64.StdEncoding.EncodeToString([]byte(cfg.ClientID + ":" + tc.secret))
			}
			assertAbsent(t, text, secrets)
			// The token issued in interaction 1 is presented in 2, 3 and 4
			// under the same placeholder.
			if n := countPlaceholder(text, "<<access_token:1>>"); n != 4 {
				t.Errorf("<<access_token:1>> appears %d times, want 4 (issued, introspected, revoked, introspected):\n%s", n, text)
			}
			switch tc.name {
			case "client_secret_basic":
				if countPlaceholder(text, "Basic <<basic_credentials>>") != 4 {
					t.Errorf("want a redacted Basic header on every request:\n%s", text)
				}
			case "client_secret_post":
				if countPlaceholder(text, "<<client_secret>>") != 4 {
					t.Errorf("want a redacted client_secret on every request:\n%s", text)
				}
			case "private_key_jwt":
				if countPlaceholder(text, "<<client_assertion>>") != 4 {
					t.Errorf("want a redacted client_assertion on every request:\n%s", text)
				}
			}

			// Replay in a fresh client, the server gone.
			srv.Close()
			rp := replayer(t, path)
			repCfg := cfg
			repCfg.HTTPClient = noNetwork(t)
			repCfg.WrapTransport = rp.Wrap
			replayed := ccSession(t, newCore(t, repCfg))
			if got := replayed.Token.AccessToken.Reveal(); got != "<<access_token:1>>" {
				t.Errorf("replayed access token = %q, want the placeholder <<access_token:1>>", got)
			}
			if !reflect.DeepEqual(replayed.Token.Scopes, live.Token.Scopes) || replayed.Token.TokenType != live.Token.TokenType {
				t.Errorf("replayed token %v, recorded %v", replayed.Token, live.Token)
			}
			if d := replayed.Token.ExpiresAt.Sub(live.Token.ExpiresAt); d < 0 {
				t.Errorf("replayed token expires %v before the recorded one: expires_in is not replayed", -d)
			}
			if !reflect.DeepEqual(replayed.Active, live.Active) || !reflect.DeepEqual(replayed.AfterRevoke, live.AfterRevoke) {
				t.Errorf("replayed introspections %+v, %+v; recorded %+v, %+v", replayed.Active, replayed.AfterRevoke, live.Active, live.AfterRevoke)
			}
			if u := rp.Unused(); len(u) != 0 {
				t.Errorf("interactions %v were not replayed", u)
			}
		})
	}
}

// TestReplayUnmatched checks the error of a request the cassette did not
// record: typed, naming the closest interaction and how it differs,
// without secrets; and of a recorded request replayed once too often.
func TestReplayUnmatched(t *testing.T) {
	srv := startAuthServer(t)
	cfg := authcore.Config{ClientID: "post-client", ClientSecret: "post-secret", ClientAuthMethod: "client_secret_post",
		TokenURL: srv.TokenURL(), IntrospectionURL: srv.IntrospectionURL(), Scopes: []string{"trading"}}
	path := filepath.Join(t.TempDir(), "c.json")
	rec := &cassette.Recorder{Path: path}
	recCfg := cfg
	recCfg.WrapTransport = rec.Wrap
	client := newCore(t, recCfg)
	ctx := context.Background()
	if _, err := client.AuthenticateClientCredentials(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.IntrospectToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	rp := replayer(t, path)
	cfg.HTTPClient = noNetwork(t)
	cfg.WrapTransport = rp.Wrap
	replay := newCore(t, cfg)

	_, err := replay.AuthenticateClientCredentials(ctx, []string{"analytics"})
	var oerr *oautherr.Error
	if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeNetworkError || oerr.Op != "authenticate_client_credentials" {
		t.Fatalf("err = %v, want a network_error of authenticate_client_credentials", err)
	}
	var unmatched *cassette.UnmatchedError
	if !errors.As(err, &unmatched) {
		t.Fatalf("err = %v, want an *UnmatchedError inside", err)
	}
	want := `form parameter "scope": recorded "trading", got "analytics"`
	if unmatched.Closest != 1 || unmatched.Method != "POST" || !reflect.DeepEqual(unmatched.Differences, []string{want}) {
		t.Errorf("UnmatchedError = %+v, want interaction 1 and the scope difference", unmatched)
	}
	msg := err.Error()
	for _, part := range []string{"no recorded interaction matches POST " + srv.TokenURL(), "closest is interaction 1", want} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q does not contain %q", msg, part)
		}
	}
	if strings.Contains(msg, "post-secret") {
		t.Errorf("message %q contains the secret", msg)
	}

	// The recorded exchanges replay; the introspection cannot be
	// replayed twice.
	if _, err := replay.AuthenticateClientCredentials(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.IntrospectToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	_, err = replay.IntrospectToken(ctx, "")
	if !errors.As(err, &unmatched) || unmatched.Closest != 2 || !strings.Contains(err.Error(), "already replayed") {
		t.Errorf("err = %v, want interaction 2 already replayed", err)
	}
	// A token that the cassette never issued is described, not shown.
	_, err = replay.IntrospectToken(ctx, "live-token-value-1234")
	if !errors.As(err, &unmatched) || !strings.Contains(err.Error(), `form parameter "token": recorded "<<access_token:1>>", got a value that is not a placeholder of this cassette`) {
		t.Errorf("err = %v, want the token difference", err)
	}
	if strings.Contains(err.Error(), "live-token-value-1234") {
		t.Errorf("message %q contains the token", err)
	}
}

// browser plays the user agent: it sends the authorization request and
// returns the redirection back to the client without following it.
func browser(t *testing.T, authURL string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		t.Fatalf("authorization endpoint answered %s, want a redirection: %s", resp.Status, body)
	}
	return loc
}

// TestRecordReplayPKCE records an authorization code flow with PKCE of a
// public client, found by discovery, and a refresh with rotation; then
// replays it in a fresh client whose state and code verifier differ and
// whose code is made up, which the normalisation ignores.
func TestRecordReplayPKCE(t *testing.T) {
	srv := startAuthServer(t)
	issuer := srv.URL()
	cfg := authcore.Config{
		ServerURL: srv.URL(), Discovery: true,
		ClientID: "public-client", ClientAuthMethod: "none", AuthMode: authcore.ModeAuthorizationCodePKCE,
		RedirectURI: "http://127.0.0.1/callback", Scopes: []string{"trading", "portfolio"},
		Timeout: 10 * time.Second,
	}
	path := filepath.Join(t.TempDir(), "pkce.cassette.json")
	rec := &cassette.Recorder{Path: path}
	recCfg := cfg
	recCfg.WrapTransport = rec.Wrap
	client := newCore(t, recCfg)
	ctx := context.Background()

	start, err := client.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	callback := browser(t, start.URL)
	code := mustQuery(t, callback).Get("code")
	live, err := client.CompleteAuthorizationCodeFlow(ctx, callback)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := client.RefreshToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Save(); err != nil { // on demand, before Close
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	text := readCassette(t, path)
	assertAbsent(t, text, map[string]string{
		"authorization code":    code,
		"code verifier":         start.CodeVerifier.Reveal(),
		"access token":          live.AccessToken.Reveal(),
		"refresh token":         live.RefreshToken.Reveal(),
		"rotated access token":  rotated.AccessToken.Reveal(),
		"rotated refresh token": rotated.RefreshToken.Reveal(),
	})
	for p, n := range map[string]int{
		"<<authorization_code:1>>": 1,
		"<<code_verifier>>":        1,
		"<<access_token:1>>":       1,
		"<<refresh_token:1>>":      2, // issued, then presented
		"<<access_token:2>>":       1,
		"<<refresh_token:2>>":      1,
	} {
		if got := countPlaceholder(text, p); got != n {
			t.Errorf("%s appears %d times, want %d", p, got, n)
		}
	}

	srv.Close()
	rp := replayer(t, path)
	repCfg := cfg
	repCfg.HTTPClient = noNetwork(t)
	repCfg.WrapTransport = rp.Wrap
	replay := newCore(t, repCfg)
	again, err := replay.StartAuthorizationCodeFlow(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.State == start.State || again.CodeVerifier == start.CodeVerifier {
		t.Fatal("state and code verifier are the same in both runs: the test proves nothing")
	}
	// The user agent is gone too: the redirection is made up, with the
	// new state and a code the server never issued.
	back := again.RedirectURI + "?" + url.Values{"code": {"made-up-code"}, "state": {again.State}, "iss": {issuer}}.Encode()
	got, err := replay.CompleteAuthorizationCodeFlow(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "<<access_token:1>>" || got.RefreshToken != "<<refresh_token:1>>" || !reflect.DeepEqual(got.Scopes, live.Scopes) {
		t.Errorf("replayed token %+v, want the placeholders and scopes %v", got, live.Scopes)
	}
	got, err = replay.RefreshToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "<<access_token:2>>" || got.RefreshToken != "<<refresh_token:2>>" || !reflect.DeepEqual(got.Scopes, rotated.Scopes) {
		t.Errorf("replayed rotation %+v, want <<access_token:2>> and <<refresh_token:2>>", got)
	}
	if u := rp.Unused(); len(u) != 0 {
		t.Errorf("interactions %v were not replayed", u)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestRecordReplayJWTBearer records JWT bearer grants, whose assertions
// are signed anew, with a new jti, for every request, and replays them.
func TestRecordReplayJWTBearer(t *testing.T) {
	srv := startAuthServer(t)
	keys, err := authserver.WriteTestKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := authcore.Config{
		ClientID: "basic-client", ClientSecret: "basic-secret", AuthMode: authcore.ModeJWTBearer,
		TokenURL: srv.TokenURL(), JWTIssuer: "conformance-issuer",
		JWTSigningKeyPath: keys.RSAPKCS8Path, JWTAlgorithm: "RS256", JWTKeyID: authserver.RSATestKeyID,
	}
	run := func(c *authcore.Client) []*token.Token {
		var out []*token.Token
		for _, subject := range []string{"trader-001", "trader-002"} {
			tok, err := c.AuthenticateJWTBearer(context.Background(), subject, []string{"trading"})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tok)
		}
		return out
	}
	path := filepath.Join(t.TempDir(), "jwt.cassette.json")
	rec := &cassette.Recorder{Path: path}
	recCfg := cfg
	recCfg.WrapTransport = rec.Wrap
	live := run(newCore(t, recCfg))
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	text := readCassette(t, path)
	assertAbsent(t, text, map[string]string{"client secret": "basic-secret", "first token": live[0].AccessToken.Reveal(), "second token": live[1].AccessToken.Reveal()})
	if countPlaceholder(text, "<<assertion>>") != 2 {
		t.Errorf("want two redacted assertions:\n%s", text)
	}

	srv.Close()
	cfg.HTTPClient = noNetwork(t)
	cfg.WrapTransport = replayer(t, path).Wrap
	replayed := run(newCore(t, cfg))
	for i, want := range []secret.Secret{"<<access_token:1>>", "<<access_token:2>>"} {
		if replayed[i].AccessToken != want {
			t.Errorf("replayed token %d = %q, want %q", i+1, replayed[i].AccessToken.Reveal(), want)
		}
	}
}

// TestRecorderClosed checks that a closed recorder refuses requests
// rather than dropping them from the cassette.
func TestRecorderClosed(t *testing.T) {
	srv := startAuthServer(t)
	rec := &cassette.Recorder{Path: filepath.Join(t.TempDir(), "c.json")}
	client := newCore(t, authcore.Config{ClientID: "basic-client", ClientSecret: "basic-secret", TokenURL: srv.TokenURL(), WrapTransport: rec.Wrap})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := client.AuthenticateClientCredentials(context.Background(), nil)
	if !errors.Is(err, cassette.ErrRecorderClosed) {
		t.Errorf("err = %v, want ErrRecorderClosed", err)
	}
	if n := srv.TokenRequests(); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}
	data, err := os.ReadFile(rec.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"interactions": []`)) {
		t.Errorf("cassette = %s, want no interactions", data)
	}
}
