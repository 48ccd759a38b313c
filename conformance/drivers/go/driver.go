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

// settleTimeout bounds, in real time, the wait for a simulated client's
// background work to finish or wait on the virtual clock.
const settleTimeout = 10 * time.Second

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
	Now                  string             `json:"now,omitempty"`
	ElapsedSeconds       *float64           `json:"elapsed_seconds,omitempty"`
	SimulationStats      *wireSimStats      `json:"simulation_stats,omitempty"`
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

// wireSimStats is the answer of simulation_control stats: the simulated
// server's request counters.
type wireSimStats struct {
	Endpoints           map[string]wireCounters `json:"endpoints"`
	Grants              map[string]wireCounters `json:"grants"`
	AccessTokensIssued  int                     `json:"access_tokens_issued"`
	RefreshTokensIssued int                     `json:"refresh_tokens_issued"`
}

// wireCounters count the requests to one endpoint, or of one grant type.
type wireCounters struct {
	Requests  int `json:"requests"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Injected  int `json:"injected"`
	Abandoned int `json:"abandoned"`
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
	// sim is the simulated server of a client in simulation mode, and
	// created the virtual time at which the client was created; sim is
	// nil in the other modes.
	sim     *security.SimulatedServer
	created time.Time
}

// now returns the time by which the client's tokens expire: the virtual
// clock's in simulation mode, the system's otherwise.
func (c *sdkClient) now() time.Time {
	if c.sim != nil {
		return c.sim.Clock().Now()
	}
	return time.Now()
}

// settle waits until the background work of a client in simulation mode
// (an early refresh, a retry sleeping out its backoff) has finished or
// waits on the virtual clock, so that what a command started has run
// before it is answered. Other clients have nothing to wait for.
func (c *sdkClient) settle() error {
	if c.sim == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := c.sim.Clock().BlockUntilIdle(ctx); err != nil {
		return fmt.Errorf("the simulated client's background work did not come to rest within %v", settleTimeout)
	}
	return nil
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
		return settled(c, call(c, req.Op, req.Args))
	case "call_concurrent":
		return settled(c, callConcurrent(c, req))
	case "get_current_token":
		tok := c.client.CurrentToken()
		if tok == nil {
			return &response{OK: true, hasNullToken: true}
		}
		return &response{OK: true, Token: tokenOf(tok, c.now())}
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
	case "simulation_control":
		return simulationControl(c, req)
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
	c := &sdkClient{client: client, logs: logs, sim: security.SimulatorOf(client)}
	if c.sim != nil {
		c.created = c.sim.Clock().Now()
	}
	d.clients[req.Client] = c
	return &response{OK: true}
}

// settled answers r once the client's background work has come to rest
// (see sdkClient.settle).
func settled(c *sdkClient, r *response) *response {
	if err := c.settle(); err != nil {
		return driverError("%v", err)
	}
	return r
}

// call runs one operation of the spec.
func call(sc *sdkClient, op string, raw json.RawMessage) *response {
	c := sc.client
	tokenAnswer := func(tok *security.Token, err error) *response {
		if err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true, Token: tokenOf(tok, sc.now())}
	}
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
func callConcurrent(c *sdkClient, req *request) *response {
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

// tokenOf is the wire shape of tok, whose expires_in is counted from now.
func tokenOf(tok *security.Token, now time.Time) *wireToken {
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
		in := math.Round(tok.ExpiresAt.Sub(now).Seconds()*1000) / 1000
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

// outageValue is the value of simulation_control add_outage.
type outageValue struct {
	StartInSeconds    float64  `json:"start_in_seconds"`
	DurationSeconds   *float64 `json:"duration_seconds"`
	Status            int      `json:"status"`
	RetryAfterSeconds float64  `json:"retry_after_seconds"`
	Endpoints         []string `json:"endpoints"`
}

// faultValue is the value of simulation_control inject.
type faultValue struct {
	Status            *int    `json:"status"`
	Code              string  `json:"code"`
	Description       string  `json:"description"`
	RetryAfterSeconds float64 `json:"retry_after_seconds"`
	Endpoint          string  `json:"endpoint"`
	GrantType         string  `json:"grant_type"`
	Times             *int    `json:"times"`
}

// simulationControl drives a client in simulation mode: its virtual
// clock, outages, faults and error rate, its counters, and the user of an
// authorization code flow. Every action is answered once the client's
// background work has come to rest.
func simulationControl(c *sdkClient, req *request) *response {
	if c.sim == nil {
		return driverError("client %q is not in simulation mode", req.Client)
	}
	if err := c.settle(); err != nil {
		return driverError("%v", err)
	}
	sim := c.sim
	vc := sim.Clock()
	switch req.Action {
	case "advance":
		var secs float64
		if err := json.Unmarshal(req.Value, &secs); err != nil || math.IsInf(secs, 0) || secs < 0 {
			return driverError("advance: value: want seconds of virtual time, 0 or more")
		}
		return advance(c, time.Duration(math.Round(secs*float64(time.Second))))
	case "now":
		return c.timeAnswer()
	case "add_outage":
		var v outageValue
		if err := decodeValue(req.Value, &v); err != nil || v.DurationSeconds == nil {
			return driverError("add_outage: value: want {start_in_seconds, duration_seconds, status, retry_after_seconds, endpoints}: %v", err)
		}
		from := vc.Now().Add(seconds(v.StartInSeconds))
		o := security.SimulatedOutage{
			From:       from,
			Until:      from.Add(seconds(*v.DurationSeconds)),
			Status:     v.Status,
			RetryAfter: seconds(v.RetryAfterSeconds),
		}
		for _, ep := range v.Endpoints {
			o.Endpoints = append(o.Endpoints, security.SimulatedEndpoint(ep))
		}
		if err := sim.AddOutage(o); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "inject":
		var v faultValue
		if err := decodeValue(req.Value, &v); err != nil || v.Status == nil {
			return driverError("inject: value: want {status, code, description, retry_after_seconds, endpoint, grant_type, times}: %v", err)
		}
		f := security.SimulatedFault{
			Endpoint:    security.SimulatedEndpoint(v.Endpoint),
			Grant:       v.GrantType,
			Status:      *v.Status,
			Code:        v.Code,
			Description: v.Description,
			RetryAfter:  seconds(v.RetryAfterSeconds),
			Times:       1,
		}
		if v.Times != nil {
			f.Times = *v.Times
		}
		if err := sim.Inject(f); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "set_error_rate":
		var rate float64
		if err := json.Unmarshal(req.Value, &rate); err != nil {
			return driverError("set_error_rate: value: want a number from 0 to 1")
		}
		if err := sim.SetErrorRate(rate); err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true}
	case "stats":
		st := sim.Stats()
		w := &wireSimStats{
			Endpoints:           map[string]wireCounters{},
			Grants:              map[string]wireCounters{},
			AccessTokensIssued:  st.AccessTokens,
			RefreshTokensIssued: st.RefreshTokens,
		}
		for ep, n := range st.Endpoints {
			w.Endpoints[string(ep)] = wireCounters(n)
		}
		for grant, n := range st.Grants {
			w.Grants[grant] = wireCounters(n)
		}
		return &response{OK: true, SimulationStats: w}
	case "authorize":
		var authURL string
		if err := json.Unmarshal(req.Value, &authURL); err != nil {
			return driverError("authorize: value (authorization URL): %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		callback, err := sim.Authorize(ctx, authURL)
		if err != nil {
			return errorAnswer(err)
		}
		return &response{OK: true, CallbackURL: callback}
	}
	return driverError("unknown simulation_control action %q", req.Action)
}

// advance moves the client's virtual clock forward by d, one wakeup at a
// time: before each timer due on the way fires, and after the last, the
// client's background work comes to rest, so that work woken at a time
// runs at that time and the answer comes after everything due has run.
func advance(c *sdkClient, d time.Duration) *response {
	vc := c.sim.Clock()
	target := vc.Now().Add(d)
	for {
		next, ok := vc.Next()
		if !ok || next.After(target) {
			break
		}
		vc.AdvanceToNext()
		if err := c.settle(); err != nil {
			return driverError("advance: %v", err)
		}
	}
	vc.Set(target)
	if err := c.settle(); err != nil {
		return driverError("advance: %v", err)
	}
	return c.timeAnswer()
}

// timeAnswer answers the virtual time, and the virtual seconds since the
// client was created.
func (c *sdkClient) timeAnswer() *response {
	now := c.sim.Clock().Now()
	elapsed := now.Sub(c.created).Seconds()
	return &response{OK: true, Now: now.UTC().Format(time.RFC3339Nano), ElapsedSeconds: &elapsed}
}

// decodeValue decodes a command's value into v, refusing unknown fields.
func decodeValue(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return errors.New("no value")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// seconds converts seconds to a duration, to the nanosecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}
