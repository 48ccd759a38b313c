package debug_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/debug"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// roundTripFunc is a base transport that answers in process.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, contentType, body string, header ...string) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		h := http.Header{"Content-Type": {contentType}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Add(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

func newDebugger(t *testing.T, opts debug.Options) (*debug.Debugger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	opts.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	d, err := debug.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, &buf
}

func send(t *testing.T, rt http.RoundTripper, method, target, contentType string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(debug.WithOperation(context.Background(), "test_op"), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// opaqueBody hides strings.Reader from http.NewRequest, so that the
// request has no GetBody.
type opaqueBody struct{ io.Reader }

func TestTraceRedaction(t *testing.T) {
	d, log := newDebugger(t, debug.DefaultOptions())
	const (
		clientSecret = "s3cr3t-Value"
		code         = "authz-code-123456"
		verifier     = "verifier-abcdefghijklmnopqrstuvwxyz0123456789ABC"
		access       = "at-0123456789"
		refresh      = "rt-9876543210"
	)
	basic := base64.StdEncoding.EncodeToString([]byte("client-1:" + clientSecret))
	// A server that echoes a credential in a free-text error body.
	base := answer(400, "text/plain", "bad code "+code+" for client secret "+clientSecret, "Set-Cookie", "session=abcdef", "Location", "https://app.example/cb?code="+code+"&state=xyz")
	form := "grant_type=authorization_code&code=" + code + "&code_verifier=" + verifier + "&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb"
	_, got := send(t, d.WrapTransport(base), "POST", "https://as.example/token?access_token="+access, "application/x-www-form-urlencoded",
		opaqueBody{strings.NewReader(form)}, "Authorization", "Basic "+basic, "DPoP", "proof.jwt.value")
	if !strings.HasPrefix(got, "bad code "+code) {
		t.Errorf("the client got %q: the tracer changed the body", got)
	}

	// A JSON token response.
	base = answer(200, "application/json", `{"access_token":"`+access+`","refresh_token":"`+refresh+`","token_type":"Bearer","expires_in":3600,"nested":{"id_token":"idt-1234567"}}`)
	_, got = send(t, d.WrapTransport(base), "POST", "https://as.example/token", "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=refresh_token&refresh_token="+refresh+"&client_secret="+clientSecret))
	if !strings.Contains(got, access) {
		t.Errorf("the client got %q without the token", got)
	}

	out := log.String()
	export, _ := json.Marshal(d.Traces())
	out += string(export)
	for _, v := range []string{clientSecret, basic, code, verifier, access, refresh, "idt-1234567", "session=abcdef", "proof.jwt.value"} {
		if strings.Contains(out, v) {
			t.Errorf("the traces contain %q", v)
		}
	}
	for _, v := range []string{"Basic [REDACTED]", "grant_type", "authorization_code", "redirect_uri", "state=xyz", "token_type", "expires_in", `"status":400`} {
		if !strings.Contains(out, v) {
			t.Errorf("the traces lack %q", v)
		}
	}
	traces := d.Traces()
	if len(traces) != 2 || traces[0].Operation != "test_op" || traces[1].Response.Status != 200 {
		t.Fatalf("traces = %+v", traces)
	}
	body := traces[1].Response.Body.(map[string]any)
	if body["nested"].(map[string]any)["id_token"] != secret.Redacted || body["expires_in"] != json.Number("3600") {
		t.Errorf("JSON body traced as %v", body)
	}
}

func TestTraceLogTokens(t *testing.T) {
	opts := debug.DefaultOptions()
	opts.LogTokens = true
	d, log := newDebugger(t, opts)
	send(t, d.WrapTransport(answer(200, "application/json", `{"access_token":"at-visible-123"}`)), "POST", "https://as.example/token",
		"application/x-www-form-urlencoded", strings.NewReader("client_secret=visible-secret"), "Authorization", "Bearer bearer-visible")
	for _, v := range []string{"at-visible-123", "visible-secret", "Bearer bearer-visible"} {
		if !strings.Contains(log.String(), v) {
			t.Errorf("with log_tokens the log lacks %q", v)
		}
	}
}

func TestTraceSwitches(t *testing.T) {
	base := answer(200, "application/json", `{"access_token":"x"}`)
	d, _ := newDebugger(t, debug.Options{MaxTraces: 10})
	if rt := d.WrapTransport(base); rt == nil || len(d.Traces()) != 0 {
		t.Fatal("WrapTransport")
	}
	if _, ok := d.WrapTransport(base).(roundTripFunc); !ok {
		t.Error("without trace_requests and trace_responses WrapTransport wraps anyway")
	}

	d, log := newDebugger(t, debug.Options{TraceRequests: true, MaxTraces: 10})
	send(t, d.WrapTransport(base), "POST", "https://as.example/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	tr := d.Traces()
	if len(tr) != 1 || tr[0].Request == nil || tr[0].Response != nil || strings.Contains(log.String(), "coyote auth response") {
		t.Errorf("trace_requests only: %+v", tr)
	}

	d, log = newDebugger(t, debug.Options{TraceResponses: true, MaxTraces: 10})
	send(t, d.WrapTransport(base), "POST", "https://as.example/token", "", nil)
	tr = d.Traces()
	if len(tr) != 1 || tr[0].Request != nil || tr[0].Response == nil || strings.Contains(log.String(), "coyote auth request") {
		t.Errorf("trace_responses only: %+v", tr)
	}
}

func TestTraceRing(t *testing.T) {
	opts := debug.DefaultOptions()
	opts.MaxTraces = 3
	d, _ := newDebugger(t, opts)
	rt := d.WrapTransport(answer(200, "application/json", `{}`))
	for range 7 {
		send(t, rt, "GET", "https://as.example/.well-known/oauth-authorization-server", "", nil)
	}
	tr := d.Traces()
	if len(tr) != 3 || tr[0].ID != 5 || tr[1].ID != 6 || tr[2].ID != 7 {
		t.Errorf("kept traces %+v, want ids 5, 6, 7", tr)
	}

	opts.MaxTraces = 0
	d, log := newDebugger(t, opts)
	send(t, d.WrapTransport(answer(200, "application/json", `{}`)), "GET", "https://as.example/", "", nil)
	if len(d.Traces()) != 0 || log.Len() == 0 {
		t.Error("max_traces 0 kept a trace, or stopped the log")
	}
	if _, err := debug.New(debug.Options{MaxTraces: -1}); err == nil {
		t.Error("New accepted max_traces -1")
	}
}

func TestTraceLargeBody(t *testing.T) {
	d, _ := newDebugger(t, debug.DefaultOptions())
	big := strings.Repeat("a", debug.MaxBodyBytes+1000)
	resp, got := send(t, d.WrapTransport(answer(200, "text/plain", big)), "POST", "https://as.example/token", "text/plain", opaqueBody{strings.NewReader(big)})
	if got != big || resp.StatusCode != 200 {
		t.Errorf("the client got %d bytes, want %d", len(got), len(big))
	}
	tr := d.Traces()[0]
	if !tr.Request.Truncated || !tr.Response.Truncated || len(tr.Response.Body.(string)) != debug.MaxBodyBytes {
		t.Errorf("large bodies: request truncated %v, response truncated %v", tr.Request.Truncated, tr.Response.Truncated)
	}
}

func TestTraceTransportError(t *testing.T) {
	d, log := newDebugger(t, debug.DefaultOptions())
	failing := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("dial failed for https://as.example/token?token=leaky-token-value")
	})
	req, _ := http.NewRequest("POST", "https://as.example/token", strings.NewReader("token=leaky-token-value"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := d.WrapTransport(failing).RoundTrip(req); err == nil {
		t.Fatal("the error was lost")
	}
	tr := d.Traces()
	if len(tr) != 1 || tr[0].Error == "" || tr[0].Response != nil {
		t.Fatalf("traces %+v", tr)
	}
	if strings.Contains(log.String(), "leaky-token-value") || strings.Contains(tr[0].Error, "leaky-token-value") {
		t.Error("the transport error leaked the token")
	}
}

func TestRedactConfig(t *testing.T) {
	in := map[string]any{
		"client_id":          "svc",
		"client_secret":      secret.Secret("abc"),
		"token_storage_key":  "plain-string-key",
		"db_password":        "hunter2",
		"empty_secret":       secret.Secret(""),
		"jwt_key_id":         "kid-1",
		"nested":             map[string]any{"token_storage_key": "again", "other": secret.Secret("x"), "url": "https://as.example"},
		"list":               []any{secret.Secret("y"), "z"},
		"unset_named_secret": "",
	}
	out := debug.RedactConfig(in, "token_storage_key", "unset_named_secret")
	data, _ := json.Marshal(out)
	for _, v := range []string{"abc", "plain-string-key", "hunter2", "again", `"x"`, `"y"`} {
		if strings.Contains(string(data), v) {
			t.Errorf("redacted config %s contains %s", data, v)
		}
	}
	if out["client_id"] != "svc" || out["jwt_key_id"] != "kid-1" || out["empty_secret"] != "" || out["unset_named_secret"] != "" ||
		out["nested"].(map[string]any)["url"] != "https://as.example" || out["list"].([]any)[1] != "z" {
		t.Errorf("RedactConfig removed too much: %s", data)
	}
	if in["token_storage_key"] != "plain-string-key" || in["nested"].(map[string]any)["token_storage_key"] != "again" {
		t.Error("RedactConfig modified its input")
	}
}

func TestTokenInfo(t *testing.T) {
	now := time.Now()
	tok := &token.Token{AccessToken: "at-never-shown", RefreshToken: "rt-never-shown", TokenType: "Bearer", ExpiresAt: now.Add(time.Minute), Scopes: []string{"trading"}}
	info := debug.NewTokenInfo(tok, now)
	data, _ := json.Marshal(info)
	if strings.Contains(string(data), "never-shown") {
		t.Errorf("token info %s contains a token", data)
	}
	if info.Type != "Bearer" || !info.HasRefreshToken || info.HasIDToken || info.Expired || info.ExpiresInSeconds != 60 {
		t.Errorf("token info %+v", info)
	}
	if info := debug.NewTokenInfo(tok, now.Add(2*time.Minute)); !info.Expired || info.ExpiresInSeconds != 0 {
		t.Errorf("expired token info %+v", info)
	}
	if debug.NewTokenInfo(nil, now) != nil {
		t.Error("NewTokenInfo(nil) is not nil")
	}
	if data, _ := json.Marshal(debug.NewTokenInfo(&token.Token{AccessToken: "x"}, now)); strings.Contains(string(data), "expires_at") {
		t.Errorf("a token without expiry exports %s", data)
	}
}

func BenchmarkTransport(b *testing.B) {
	d, err := debug.New(debug.Options{TraceRequests: true, TraceResponses: true, MaxTraces: 100, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	rt := d.WrapTransport(answer(200, "application/json", `{"access_token":"abc","token_type":"Bearer","expires_in":3600}`))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", "https://as.example/token", strings.NewReader("grant_type=client_credentials&scope=trading"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic Y2xpZW50OnNlY3JldA==")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
