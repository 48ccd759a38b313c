package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// CommandTimeout bounds the answer to one driver command.
const CommandTimeout = 90 * time.Second

// Answer is a driver's answer to one command (see conformance/README.md).
type Answer struct {
	// ID echoes the command's id.
	ID int64 `json:"id"`
	// OK reports success; Error is set otherwise.
	OK bool `json:"ok"`
	// Error is the typed error of a failed command.
	Error *WireError `json:"error,omitempty"`
	// Language and SDKVersion answer hello.
	Language   string `json:"language,omitempty"`
	SDKVersion string `json:"sdk_version,omitempty"`
	// Protocol is the protocol version, answering hello.
	Protocol int `json:"protocol,omitempty"`
	// Token is the token an operation returned, or the current token.
	Token *WireToken `json:"token,omitempty"`
	// AuthorizationRequest is start_authorization_code_flow's result.
	AuthorizationRequest *WireAuthorizationRequest `json:"authorization_request,omitempty"`
	// Introspection is introspect_token's result.
	Introspection *WireIntrospection `json:"introspection,omitempty"`
	// Value is the result of revoke_token and test_connection.
	Value *bool `json:"value,omitempty"`
	// Results are call_concurrent's answers, in caller order.
	Results []*Answer `json:"results,omitempty"`
	// DebugExport is get_debug_export's result.
	DebugExport json.RawMessage `json:"debug_export,omitempty"`
	// Stats is get_performance_stats's result.
	Stats map[string]map[string]float64 `json:"stats,omitempty"`
	// Logs is get_logs's result.
	Logs *string `json:"logs,omitempty"`
	// CallbackURL is the result of mock_control authorize and deny.
	CallbackURL string `json:"callback_url,omitempty"`
	// Seed is the result of mock_control seed.
	Seed *int64 `json:"seed,omitempty"`
	// Now is the virtual time (RFC 3339, UTC) that simulation_control
	// advance and now answer, and ElapsedSeconds the virtual seconds since
	// the client was created.
	Now            string   `json:"now,omitempty"`
	ElapsedSeconds *float64 `json:"elapsed_seconds,omitempty"`
	// SimulationStats is the result of simulation_control stats.
	SimulationStats *WireSimulationStats `json:"simulation_stats,omitempty"`
}

// WireSimulationStats are the request counters of a simulated server.
type WireSimulationStats struct {
	// Endpoints counts requests by endpoint: metadata, authorization,
	// token, revocation, introspection.
	Endpoints map[string]WireCounters `json:"endpoints"`
	// Grants counts token requests by grant_type.
	Grants map[string]WireCounters `json:"grants"`
	// AccessTokensIssued and RefreshTokensIssued count the tokens issued.
	AccessTokensIssued  int `json:"access_tokens_issued"`
	RefreshTokensIssued int `json:"refresh_tokens_issued"`
}

// WireCounters count the requests to one endpoint, or of one grant type.
type WireCounters struct {
	// Requests is the number of requests received.
	Requests int `json:"requests"`
	// Succeeded and Failed count the answers by outcome; Injected counts
	// the failures that an outage, a fault or the error rate produced.
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Injected  int `json:"injected"`
	// Abandoned counts the requests whose client gave up on them.
	Abandoned int `json:"abandoned"`
}

// WireError is the protocol's error shape.
type WireError struct {
	// Code is the SDK's typed error code, or driver_error or
	// untyped_error.
	Code string `json:"code"`
	// Description is the SDK's message for the error.
	Description string `json:"description"`
	// Retryable is the SDK's retryability flag.
	Retryable bool `json:"retryable"`
	// Status is the HTTP status of the server's answer, 0 without one.
	Status int `json:"status"`
	// RetryAfterSeconds is the server's Retry-After, when it sent one.
	RetryAfterSeconds *float64 `json:"retry_after_seconds,omitempty"`
}

// WireToken is the protocol's token shape.
type WireToken struct {
	// AccessToken is the access token value.
	AccessToken string `json:"access_token"`
	// TokenType is the token type as the SDK stores it.
	TokenType string `json:"token_type"`
	// Scopes are the granted scopes.
	Scopes []string `json:"scopes"`
	// ExpiresIn is the seconds left until expiry; nil without expiry.
	ExpiresIn *float64 `json:"expires_in"`
	// RefreshToken is the refresh token, if any.
	RefreshToken string `json:"refresh_token,omitempty"`
	// HasIDToken reports whether an ID token came with the token.
	HasIDToken bool `json:"has_id_token"`
}

// WireAuthorizationRequest is the protocol's shape of the result of
// start_authorization_code_flow.
type WireAuthorizationRequest struct {
	// URL is the authorization request URL.
	URL string `json:"url"`
	// State is the request's state.
	State string `json:"state"`
	// CodeVerifier is the PKCE code verifier; empty without PKCE.
	CodeVerifier string `json:"code_verifier"`
	// RedirectURI is the redirection URI the request names.
	RedirectURI string `json:"redirect_uri"`
}

// WireIntrospection is the protocol's shape of an introspection result.
type WireIntrospection struct {
	// Active reports whether the token is active.
	Active bool `json:"active"`
	// Scopes are the token's scopes.
	Scopes []string `json:"scopes"`
	// ClientID, Username, TokenType, Subject, Audience and Issuer are
	// the members of RFC 7662 Section 2.2 the server gave.
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	// ExpiresAt is exp in Unix seconds.
	ExpiresAt *int64 `json:"exp,omitempty"`
	// CnfX5tS256 is the thumbprint of the certificate the token is bound
	// to (RFC 8705 Section 3.2).
	CnfX5tS256 string `json:"cnf_x5t_s256,omitempty"`
}

// driverProcess is one running driver.
type driverProcess struct {
	lang    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte // stdout lines; closed at EOF
	stderr  *tailBuffer
	nextID  int64
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// startDriver starts argv in dir with a clean environment: the variables
// that would change an SDK's configuration (MODE, COYOTE_AUTH_*) are
// removed.
func startDriver(lang string, argv []string, dir string, extraEnv []string) (*driverProcess, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ()), extraEnv...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d := &driverProcess{
		lang:   lang,
		cmd:    cmd,
		stdin:  stdin,
		lines:  make(chan []byte, 16),
		stderr: &tailBuffer{max: 8 << 10},
		done:   make(chan struct{}),
	}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s driver %q: %w", lang, argv[0], err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			d.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(d.lines)
	}()
	go func() {
		d.waitErr = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// cleanEnv drops the variables that configure an SDK.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "MODE=") || strings.HasPrefix(kv, "COYOTE_AUTH_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// send sends one command and waits for its answer. A driver that answers
// something other than one JSON line with the command's id is broken, and
// the error says so.
func (d *driverProcess) send(ctx context.Context, cmd map[string]any) (*Answer, error) {
	d.nextID++
	id := d.nextID
	cmd["id"] = id
	line, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := d.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("%s driver: write %s: %w%s", d.lang, cmd["cmd"], err, d.stderrTail())
	}
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	select {
	case raw, ok := <-d.lines:
		if !ok {
			<-d.done
			return nil, fmt.Errorf("%s driver exited (%v) before answering %s%s", d.lang, d.waitErr, cmd["cmd"], d.stderrTail())
		}
		var a Answer
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&a); err != nil {
			return nil, fmt.Errorf("%s driver: answer to %s is not a protocol answer: %v: %.200q", d.lang, cmd["cmd"], err, raw)
		}
		if a.ID != id {
			return nil, fmt.Errorf("%s driver: answer id %d, want %d", d.lang, a.ID, id)
		}
		if !a.OK && a.Error == nil {
			return nil, fmt.Errorf("%s driver: answer to %s has neither ok nor error", d.lang, cmd["cmd"])
		}
		return &a, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s driver: no answer to %s within %v%s", d.lang, cmd["cmd"], CommandTimeout, d.stderrTail())
	}
}

// close asks the driver to shut down and kills it if it does not.
func (d *driverProcess) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.send(ctx, map[string]any{"cmd": "shutdown"})
	d.stdin.Close()
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	// Drain what is left so the reader goroutine ends.
	for range d.lines {
	}
}

func (d *driverProcess) stderrTail() string {
	s := strings.TrimSpace(d.stderr.String())
	if s == "" {
		return ""
	}
	return "\n  driver stderr:\n    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// errNotOK is returned when a command that must succeed failed.
func errNotOK(what string, a *Answer) error {
	if a.Error == nil {
		return fmt.Errorf("%s failed", what)
	}
	return fmt.Errorf("%s failed: %s: %s", what, a.Error.Code, a.Error.Description)
}
