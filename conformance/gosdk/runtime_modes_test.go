package gosdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/cassette"
)

func mockConfig() security.Config {
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.ClientID, cfg.ClientSecret = "https://auth.mock.invalid", "test-client", "mock-secret"
	cfg.DefaultScopes = []string{"trading"}
	cfg.MaxRetries = 0
	return cfg
}

func newMock(t *testing.T, mo security.MockOptions) (security.Client, security.MockController) {
	t.Helper()
	opts := security.DefaultModeOptions()
	opts.Mock = mo
	c, err := security.New(mockConfig(), security.WithMode(security.ModeMock), security.WithModeOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctl, ok := c.(security.MockController)
	if !ok {
		t.Fatal("a mock client is not a MockController")
	}
	return c, ctl
}

// failures runs n authentications and returns which failed.
func failures(t *testing.T, c security.Client, n int) []bool {
	t.Helper()
	out := make([]bool, n)
	for i := range out {
		_, err := c.AuthenticateClientCredentials(context.Background(), nil)
		if err != nil {
			var e *security.Error
			if !errors.As(err, &e) || e.Code != "temporarily_unavailable" || !e.Retryable || e.StatusCode != 503 {
				t.Fatalf("injected failure = %#v, want a retryable temporarily_unavailable with HTTP 503", err)
			}
		}
		out[i] = err != nil
	}
	return out
}

func TestMockModeFailureRateIsSeededAndHolds(t *testing.T) {
	mo := security.DefaultMockOptions()
	mo.FailureRate, mo.Seed = 0.1, 42
	c, _ := newMock(t, mo)
	first := failures(t, c, 4000)
	n := 0
	for _, f := range first {
		if f {
			n++
		}
	}
	// Binomial(4000, 0.1): mean 400, standard deviation 19; 5 sigma either way.
	if n < 305 || n > 495 {
		t.Errorf("%d failures in 4000 calls at rate 0.1", n)
	}
	again, _ := newMock(t, mo)
	if second := failures(t, again, 4000); !equalBools(first, second) {
		t.Error("the same seed gave a different failure sequence")
	}
}

func TestMockModeDelayAndControls(t *testing.T) {
	c, ctl := newMock(t, security.DefaultMockOptions())
	ctx := context.Background()
	if err := ctl.SetResponseDelay(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := c.AuthenticateClientCredentials(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Errorf("5 calls with a 20 ms delay took %v", elapsed)
	}
	if err := ctl.SetFailureRate(1.5); err == nil {
		t.Error("a failure rate of 1.5 was accepted")
	}
	if err := ctl.SetFailureRate(1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthenticateClientCredentials(ctx, nil); !security.IsRetryable(err) {
		t.Errorf("rate 1: err = %v", err)
	}
	ctl.SetFailureRate(0)
	ctl.SetResponseDelay(0)
	tok, err := c.Token(ctx)
	if err != nil || !strings.HasPrefix(tok.AccessToken.Reveal(), "mock_at_") {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	info, err := c.IntrospectToken(ctx, "")
	if err != nil || !info.Active {
		t.Errorf("introspection = %+v, %v", info, err)
	}
	if ok, err := c.RevokeToken(ctx, tok.AccessToken.Reveal(), ""); !ok || err != nil {
		t.Errorf("RevokeToken = %v, %v", ok, err)
	}
	if info, _ := c.IntrospectToken(ctx, tok.AccessToken.Reveal()); info == nil || info.Active {
		t.Errorf("a revoked mock token introspects as %+v", info)
	}
}

func TestDebugModeCountsAndRedacts(t *testing.T) {
	srv := startServer(t)
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	var logs bytes.Buffer
	c, err := security.New(cfg, security.WithMode(security.ModeDebug), security.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	tok, err := c.AuthenticateClientCredentials(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.GetValidToken(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.IntrospectToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	inspector, ok := c.(security.DebugInspector)
	if !ok {
		t.Fatal("a debug client is not a DebugInspector")
	}
	stats := inspector.PerformanceStats()
	if s := stats["authenticate_client_credentials"]; s.CallCount != 1 || s.LastDurationSeconds <= 0 {
		t.Errorf("authenticate_client_credentials stats = %+v", s)
	}
	if s := stats["get_valid_token"]; s.CallCount != 3 {
		t.Errorf("get_valid_token stats = %+v", s)
	}
	if s := stats["introspect_token"]; s.CallCount != 1 {
		t.Errorf("introspect_token stats = %+v", s)
	}
	export, err := json.Marshal(inspector.ExportDebugInfo())
	if err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 || len(inspector.Traces()) < 2 {
		t.Fatalf("no traces: %d bytes of logs, %d traces", logs.Len(), len(inspector.Traces()))
	}
	for _, leaked := range []string{"basic-secret", tok.AccessToken.Reveal()} {
		if strings.Contains(logs.String(), leaked) || strings.Contains(string(export), leaked) {
			t.Errorf("debug output contains %q", leaked[:6]+"...")
		}
	}
	if !strings.Contains(string(export), `"authenticate_client_credentials"`) || !strings.Contains(string(export), `"call_count"`) {
		t.Errorf("export lacks the statistics: %s", export)
	}
}

// replayChildEnv makes the test binary run TestReplayInFreshProcess as the
// child that replays a cassette.
const replayChildEnv = "COYOTE_TEST_REPLAY_CASSETTE"

func TestRecordThenReplayInAFreshProcess(t *testing.T) {
	srv := startServer(t)
	path := filepath.Join(t.TempDir(), "auth.cassette.json")
	cfg := serverConfig(srv, "basic-client")
	cfg.ClientSecret = "basic-secret"
	opts := security.DefaultModeOptions()
	opts.Record.CassettePath = path
	rec, err := security.New(cfg, security.WithMode(security.ModeRecord), security.WithModeOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rec.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info, err := rec.IntrospectToken(context.Background(), "")
	if err != nil || !info.Active {
		t.Fatal(info, err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, leaked := range []string{"basic-secret", tok.AccessToken.Reveal()} {
		if bytes.Contains(data, []byte(leaked)) {
			t.Fatalf("the cassette contains %q", leaked[:6]+"...")
		}
	}
	serverURL := srv.URL()
	srv.Close() // no network from here on

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), replayChildEnv+"="+path, "COYOTE_TEST_SERVER_URL="+serverURL)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "replayed: <<access_token:1>> active client basic-client") {
		t.Fatalf("replay in a fresh process: %v\n%s", err, out)
	}
}

// replayChild is the fresh process of TestRecordThenReplayInAFreshProcess:
// TestMain runs it instead of the tests when replayChildEnv is set. It
// prints what it replayed, or the error, and exits.
func replayChild(path string) int {
	fail := func(format string, args ...any) int {
		fmt.Printf("replay child: "+format+"\n", args...)
		return 1
	}
	cfg := security.DefaultConfig()
	cfg.ServerURL, cfg.ClientID, cfg.ClientSecret = os.Getenv("COYOTE_TEST_SERVER_URL"), "basic-client", "basic-secret"
	cfg.DefaultScopes = []string{"trading"}
	opts := security.DefaultModeOptions()
	opts.Replay.CassettePath = path
	c, err := security.New(cfg, security.WithMode(security.ModeReplay), security.WithModeOptions(opts))
	if err != nil {
		return fail("New: %v", err)
	}
	tok, err := c.Token(context.Background())
	if err != nil {
		return fail("Token: %v", err)
	}
	info, err := c.IntrospectToken(context.Background(), "")
	if err != nil || !info.Active {
		return fail("IntrospectToken: %+v, %v", info, err)
	}
	// A request the cassette does not hold is a clear, final error.
	_, err = c.AuthenticateClientCredentials(context.Background(), []string{"analytics"})
	var unmatched *cassette.UnmatchedError
	if !errors.As(err, &unmatched) || !strings.Contains(err.Error(), `"scope"`) {
		return fail("unmatched request: %v", err)
	}
	fmt.Printf("replayed: %s active client %s\n", tok.AccessToken.Reveal(), info.ClientID)
	return 0
}

func TestMain(m *testing.M) {
	if path := os.Getenv(replayChildEnv); path != "" {
		os.Exit(replayChild(path))
	}
	os.Exit(m.Run())
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
