package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/coyotesense/coyotegen/out/go/security"
)

// language and protocolVersion are what hello reports.
const (
	language        = "go"
	protocolVersion = 1
)

// callTimeout bounds one operation; scenarios finish far sooner.
const callTimeout = 60 * time.Second

// maxLine is the longest command line the driver accepts.
const maxLine = 16 << 20

// request is one command line. Which fields a command reads is listed in
// conformance/README.md.
type request struct {
	ID          json.RawMessage `json:"id,omitempty"`
	Cmd         string          `json:"cmd"`
	Client      string          `json:"client,omitempty"`
	Config      json.RawMessage `json:"config,omitempty"`
	Mode        string          `json:"mode,omitempty"`
	ModeOptions json.RawMessage `json:"mode_options,omitempty"`
	Op          string          `json:"op,omitempty"`
	Args        json.RawMessage `json:"args,omitempty"`
	Callers     int             `json:"callers,omitempty"`
	Action      string          `json:"action,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
}

// response is one answer line: ok with the command's result fields, or an
// error.
type response struct {
	ID                   json.RawMessage    `json:"id,omitempty"`
	OK                   bool               `json:"ok"`
	Error                *wireError         `json:"error,omitempty"`
	Language             string             `json:"language,omitempty"`
	SDKVersion           string             `json:"sdk_version,omitempty"`
	Protocol             int                `json:"protocol,omitempty"`
	Token                *wireToken         `json:"token,omitempty"`
	AuthorizationRequest *wireAuthRequest   `json:"authorization_request,omitempty"`
	Introspection        *wireIntrospection `json:"introspection,omitempty"`
	Value                *bool              `json:"value,omitempty"`
	Results              []*response        `json:"results,omitempty"`
	DebugExport          json.RawMessage    `json:"debug_export,omitempty"`
	Stats                json.RawMessage    `json:"stats,omitempty"`
	Logs                 *string            `json:"logs,omitempty"`
	CallbackURL          string             `json:"callback_url,omitempty"`
	Seed                 *int64             `json:"seed,omitempty"`
	// hasNullToken marks get_current_token without a token, which
	// answers "token": null.
	hasNullToken bool
}

// MarshalJSON writes "token": null for get_current_token without a token.
func (r *response) MarshalJSON() ([]byte, error) {
	type plain response
	data, err := json.Marshal((*plain)(r))
	if err != nil || !r.hasNullToken {
		return data, err
	}
	return append(data[:len(data)-1], []byte(`,"token":null}`)...), nil
}

// wireError is the error shape of the protocol.
type wireError struct {
	Code              string   `json:"code"`
	Description       string   `json:"description"`
	Retryable         bool     `json:"retryable"`
	Status            int      `json:"status"`
	RetryAfterSeconds *float64 `json:"retry_after_seconds,omitempty"`
}

// wireToken is the token shape of the protocol.
type wireToken struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	Scopes       []string `json:"scopes"`
	ExpiresIn    *float64 `json:"expires_in"`
	RefreshToken string   `json:"refresh_token,omitempty"`
	HasIDToken   bool     `json:"has_id_token"`
}

// wireAuthRequest is the result of start_authorization_code_flow.
type wireAuthRequest struct {
	URL          string `json:"url"`
	State        string `json:"state"`
	CodeVerifier string `json:"code_verifier"`
	RedirectURI  string `json:"redirect_uri"`
}

// wireIntrospection is the result of introspect_token.
type wireIntrospection struct {
	Active     bool     `json:"active"`
	Scopes     []string `json:"scopes"`
	ClientID   string   `json:"client_id,omitempty"`
	Username   string   `json:"username,omitempty"`
	TokenType  string   `json:"token_type,omitempty"`
	Subject    string   `json:"sub,omitempty"`
	Audience   []string `json:"aud,omitempty"`
	Issuer     string   `json:"iss,omitempty"`
	ExpiresAt  *int64   `json:"exp,omitempty"`
	CnfX5tS256 string   `json:"cnf_x5t_s256,omitempty"`
}

// args are the arguments of every operation, named as in the spec.
type args struct {
	Scopes            []string `json:"scopes"`
	RedirectURI       string   `json:"redirect_uri"`
	AuthorizationCode string   `json:"authorization_code"`
	CodeVerifier      string   `json:"code_verifier"`
	CallbackURL       string   `json:"callback_url"`
	Subject           string   `json:"subject"`
	RefreshToken      string   `json:"refresh_token"`
	Token             string   `json:"token"`
	TokenTypeHint     string   `json:"token_type_hint"`
}

// sdkClient is a client the runner created, with what its logger wrote.
type sdkClient struct {
	client security.Client
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the SDK's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// driver holds the clients of one session.
type driver struct {
	clients map[string]*sdkClient
}

// serve runs the protocol until stdin ends or a shutdown command, and
// returns the exit status.
func serve(stdin io.Reader, stdout, stderr io.Writer) int {
	d := &driver{clients: map[string]*sdkClient{}}
	defer d.closeAll()
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), maxLine)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		line := bytes.TrimSpace(in.Bytes())
		if len(line) == 0 {
			continue
		}
		var req request
		var resp *response
		if err := json.Unmarshal(line, &req); err != nil {
			resp = driverError("malformed command: %v", err)
		} else {
			resp = d.handle(&req)
			resp.ID = req.ID
		}
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintf(stderr, "go driver: write answer: %v\n", err)
			return 1
		}
		if err := out.Flush(); err != nil {
			fmt.Fprintf(stderr, "go driver: write answer: %v\n", err)
			return 1
		}
		if req.Cmd == "shutdown" {
			return 0
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(stderr, "go driver: read command: %v\n", err)
		return 1
	}
	return 0
}

func (d *driver) closeAll() {
	for name, c := range d.clients {
		c.client.Close()
		delete(d.clients, name)
	}
}

// handle runs one command.
func (d *driver) handle(req *request) *response {
	switch req.Cmd {
	case "hello":
		return &response{OK: true, Language: language, SDKVersion: security.Version, Protocol: protocolVersion}
	case "shutdown":
		d.closeAll()
		return &response{OK: true}
	case "create_client":
		return d.createClient(req)
	}
	c, ok := d.clients[req.Client]
	if !ok {
		return driverError("no client named %q: create it first", req.Client)
	}
	switch req.Cmd {
	case "call":
		return call(c.client, req.Op, req.Args)
	case "call_concurrent":
		return callConcurrent(c.client, req)
	case "get_current_token":
		tok := c.client.CurrentToken()
		if tok == nil {
			return &response{OK: true, hasNullToken: true}
		}
		return &response{OK: true, Token: tokenOf(tok)}
	case "get_debug_export":
		inspector, ok := c.client.(security.DebugInspector)
		if !ok {
			return driverError("client %q is not in debug mode", req.Client)
		}
		return rawAnswer(func(r *response, data json.RawMessage) { r.DebugExport = data }, inspector.ExportDebugInfo())
	case "get_performance_stats":
		inspector, ok := c.client.(security.DebugInspector)
		if !ok {
			return driverError("client %q is not in debug mode", req.Client)
		}
		return rawAnswer(func(r *response, data json.RawMessage) { r.Stats = data }, inspector.PerformanceStats())
	case "get_logs":
		logs := c.logs.String()
		return &response{OK: true, Logs: &logs}
	case "mock_control":
		return mockControl(c.client, req)
	case "save_cassette":
		rec, ok := c.client.(security.CassetteRecorder)
		if !ok {
			return driverError("client %q is not in record mode", req.Client)
		}
		if err := rec.SaveCassette(); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "close":
		delete(d.clients, req.Client)
		if err := c.client.Close(); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	}
	return driverError("unknown command %q", req.Cmd)
}

// createClient builds a client from the spec's configuration keys (the
// "authentication" section of the configuration file) and the mode
// options (the "modes" section).
func (d *driver) createClient(req *request) *response {
	if req.Client == "" {
		return driverError("create_client needs a client name")
	}
	if old, ok := d.clients[req.Client]; ok {
		old.client.Close()
		delete(d.clients, req.Client)
	}
	cfg := security.DefaultConfig()
	if len(req.Config) > 0 {
		// JSON is YAML: the configuration goes through the same loader as
		// the configuration file, with its checks of keys and types.
		doc, err := json.Marshal(map[string]json.RawMessage{"authentication": req.Config})
		if err != nil {
			return driverError("config: %v", err)
		}
		if err := cfg.ApplyYAML(doc, "config"); err != nil {
			return configError(err)
		}
	}
	opts := security.DefaultModeOptions()
	if len(req.ModeOptions) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.ModeOptions))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			return configError(fmt.Errorf("mode_options: %w", err))
		}
	}
	mode := security.ModeReal
	if req.Mode != "" {
		mode = security.Mode(req.Mode)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := security.New(cfg, security.WithMode(mode), security.WithModeOptions(opts), security.WithLogger(logger))
	if err != nil {
		return configError(err)
	}
	d.clients[req.Client] = &sdkClient{client: client, logs: logs}
	return &response{OK: true}
}

// call runs one operation of the spec.
func call(c security.Client, op string, raw json.RawMessage) *response {
	var a args
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return driverError("args of %s: %v", op, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	switch op {
	case "authenticate_client_credentials":
		return tokenAnswer(c.AuthenticateClientCredentials(ctx, a.Scopes))
	case "start_authorization_code_flow":
		req, err := c.StartAuthorizationCodeFlow(ctx, a.RedirectURI, a.Scopes)
		if err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true, AuthorizationRequest: &wireAuthRequest{
			URL:          req.URL,
			State:        req.State,
			CodeVerifier: req.CodeVerifier.Reveal(),
			RedirectURI:  req.RedirectURI,
		}}
	case "authenticate_authorization_code":
		return tokenAnswer(c.AuthenticateAuthorizationCode(ctx, a.AuthorizationCode, a.RedirectURI, a.CodeVerifier))
	case "complete_authorization_code_flow":
		return tokenAnswer(c.CompleteAuthorizationCodeFlow(ctx, a.CallbackURL))
	case "authenticate_jwt_bearer":
		return tokenAnswer(c.AuthenticateJWTBearer(ctx, a.Subject, a.Scopes))
	case "refresh_token":
		return tokenAnswer(c.RefreshToken(ctx, a.RefreshToken))
	case "get_valid_token":
		return tokenAnswer(c.GetValidToken(ctx))
	case "revoke_token":
		return boolAnswer(c.RevokeToken(ctx, a.Token, a.TokenTypeHint))
	case "introspect_token":
		info, err := c.IntrospectToken(ctx, a.Token)
		if err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true, Introspection: introspectionOf(info)}
	case "test_connection":
		return boolAnswer(c.TestConnection(ctx))
	case "clear_tokens":
		if err := c.ClearTokens(ctx); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	}
	return driverError("unknown operation %q", op)
}

// callConcurrent runs the same operation from req.Callers goroutines at
// once and answers every result, in caller order.
func callConcurrent(c security.Client, req *request) *response {
	if req.Callers < 1 {
		return driverError("call_concurrent needs callers >= 1")
	}
	results := make([]*response, req.Callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = call(c, req.Op, req.Args)
		}()
	}
	close(start)
	wg.Wait()
	return &response{OK: true, Results: results}
}

// mockControl changes a mock client at run time.
func mockControl(c security.Client, req *request) *response {
	ctl, ok := c.(security.MockController)
	if !ok {
		return driverError("client %q is not in mock mode", req.Client)
	}
	switch req.Action {
	case "set_failure_rate":
		var rate float64
		if err := json.Unmarshal(req.Value, &rate); err != nil {
			return driverError("set_failure_rate: value: %v", err)
		}
		if err := ctl.SetFailureRate(rate); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "set_response_delay":
		var ms float64
		if err := json.Unmarshal(req.Value, &ms); err != nil {
			return driverError("set_response_delay: value (milliseconds): %v", err)
		}
		if err := ctl.SetResponseDelay(time.Duration(ms * float64(time.Millisecond))); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "authorize", "deny":
		var authURL string
		if err := json.Unmarshal(req.Value, &authURL); err != nil {
			return driverError("%s: value (authorization URL): %v", req.Action, err)
		}
		play := ctl.Authorize
		if req.Action == "deny" {
			play = ctl.Deny
		}
		callback, err := play(authURL)
		if err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true, CallbackURL: callback}
	case "seed":
		seed := ctl.Seed()
		return &response{OK: true, Seed: &seed}
	}
	return driverError("unknown mock_control action %q", req.Action)
}

func tokenAnswer(tok *security.Token, err error) *response {
	if err != nil {
		return errorAnswer(err)
	}
	return &response{OK: true, Token: tokenOf(tok)}
}

func boolAnswer(v bool, err error) *response {
	if err != nil {
		return errorAnswer(err)
	}
	return &response{OK: true, Value: &v}
}

// rawAnswer answers v as JSON in the field that set fills.
func rawAnswer(set func(*response, json.RawMessage), v any) *response {
	data, err := json.Marshal(v)
	if err != nil {
		return driverError("encode: %v", err)
	}
	r := &response{OK: true}
	set(r, data)
	return r
}

func tokenOf(tok *security.Token) *wireToken {
	w := &wireToken{
		AccessToken:  tok.AccessToken.Reveal(),
		TokenType:    tok.TokenType,
		Scopes:       tok.Scopes,
		RefreshToken: tok.RefreshToken.Reveal(),
		HasIDToken:   !tok.IDToken.IsZero(),
	}
	if w.Scopes == nil {
		w.Scopes = []string{}
	}
	if !tok.ExpiresAt.IsZero() {
		in := math.Round(time.Until(tok.ExpiresAt).Seconds()*1000) / 1000
		w.ExpiresIn = &in
	}
	return w
}

func introspectionOf(info *security.Introspection) *wireIntrospection {
	w := &wireIntrospection{
		Active:    info.Active,
		Scopes:    info.Scopes,
		ClientID:  info.ClientID,
		Username:  info.Username,
		TokenType: info.TokenType,
		Subject:   info.Subject,
		Audience:  info.Audience,
		Issuer:    info.Issuer,
	}
	if w.Scopes == nil {
		w.Scopes = []string{}
	}
	if !info.ExpiresAt.IsZero() {
		exp := info.ExpiresAt.Unix()
		w.ExpiresAt = &exp
	}
	if info.Confirmation != nil {
		w.CnfX5tS256 = info.Confirmation.X5tS256
	}
	return w
}

// errorAnswer answers the SDK's typed error. An error that is not an
// *security.Error breaks the SDK's contract, and says so in its code.
func errorAnswer(err error) *response {
	var e *security.Error
	if !errors.As(err, &e) {
		return &response{Error: &wireError{Code: "untyped_error", Description: err.Error()}}
	}
	// The description is the error's whole message, with its cause: the
	// runtime's messages name what went wrong (such as the closest
	// recorded request of a replay) and never hold a secret.
	w := &wireError{Code: e.Code, Description: err.Error(), Retryable: e.Retryable, Status: e.StatusCode}
	if e.RetryAfter > 0 {
		s := e.RetryAfter.Seconds()
		w.RetryAfterSeconds = &s
	}
	return &response{Error: w}
}

// configError answers an error of create_client: the SDK's typed error if
// it is one, else invalid_config, since security.New reports configuration
// problems as a list of problems rather than an *Error.
func configError(err error) *response {
	if security.CodeOf(err) != "" {
		return errorAnswer(err)
	}
	return &response{Error: &wireError{Code: string(security.CodeInvalidConfig), Description: err.Error()}}
}

// driverError answers a command the driver could not run.
func driverError(format string, a ...any) *response {
	return &response{Error: &wireError{Code: "driver_error", Description: fmt.Sprintf(format, a...)}}
}
