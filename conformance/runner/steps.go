package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/conformance/faultserver"
)

// stepRunner is a decoded step.
type stepRunner interface {
	// check checks the step before any variable is expanded.
	check(spec *Spec, sc *Scenario) error
	// run runs the step in a session.
	run(s *session) error
}

// stepTypes maps each step kind to a new value of its type.
var stepTypes = map[string]func() stepRunner{
	"create_client":   func() stepRunner { return &createClientStep{} },
	"call":            func() stepRunner { return &callStep{} },
	"concurrent":      func() stepRunner { return &concurrentStep{} },
	"repeat":          func() stepRunner { return &repeatStep{} },
	"current_token":   func() stepRunner { return &currentTokenStep{} },
	"browser":         func() stepRunner { return &browserStep{} },
	"tamper":          func() stepRunner { return &tamperStep{} },
	"wait":            func() stepRunner { return &waitStep{} },
	"fault":           func() stepRunner { return &faultStep{} },
	"expect_requests": func() stepRunner { return &requestsStep{} },
	"expect_output":   func() stepRunner { return &outputStep{} },
	"expect_file":     func() stepRunner { return &fileStep{} },
	"expect_stats":    func() stepRunner { return &statsStep{} },
	"mock_control":    func() stepRunner { return &mockStep{} },
	"save_cassette":   func() stepRunner { return &clientOnlyStep{cmd: "save_cassette"} },
	"close":           func() stepRunner { return &clientOnlyStep{cmd: "close"} },
	"stop_server":     func() stepRunner { return &stopServerStep{} },

	"simulation_control":  func() stepRunner { return &simulationStep{} },
	"expect_sim_requests": func() stepRunner { return &simRequestsStep{} },
}

// defaultClient is the client name when a step names none.
const defaultClient = "default"

func clientName(name string) string {
	if name == "" {
		return defaultClient
	}
	return name
}

// session is one run of one scenario for one language.
type session struct {
	ctx     context.Context
	lang    string
	langs   map[string]*builtLanguage
	env     *environment
	drivers map[string]*driverProcess // by language
	clients map[string]*driverProcess // by client name
}

// driver returns the running driver of lang, starting it on first use.
func (s *session) driver(lang string) (*driverProcess, error) {
	if d, ok := s.drivers[lang]; ok {
		return d, nil
	}
	b, ok := s.langs[lang]
	if !ok {
		return nil, fmt.Errorf("language %q is not built for this run", lang)
	}
	d, err := b.start()
	if err != nil {
		return nil, err
	}
	s.drivers[lang] = d
	a, err := d.send(s.ctx, map[string]any{"cmd": "hello"})
	if err != nil {
		return nil, err
	}
	if !a.OK {
		return nil, errNotOK(lang+" driver hello", a)
	}
	if a.Protocol != protocolVersion {
		return nil, fmt.Errorf("%s driver speaks protocol %d, want %d", lang, a.Protocol, protocolVersion)
	}
	return d, nil
}

// client returns the driver that holds the named client.
func (s *session) client(name string) (*driverProcess, error) {
	d, ok := s.clients[clientName(name)]
	if !ok {
		return nil, fmt.Errorf("no client %q: create it with create_client first", clientName(name))
	}
	return d, nil
}

// send sends a command for a client.
func (s *session) send(client string, cmd map[string]any) (*Answer, error) {
	d, err := s.client(client)
	if err != nil {
		return nil, err
	}
	cmd["client"] = clientName(client)
	return d.send(s.ctx, cmd)
}

func (s *session) close() {
	for _, d := range s.drivers {
		d.close()
	}
}

// protocolVersion is the wire protocol version this runner speaks.
const protocolVersion = 1

// ---- create_client

// createClientStep creates a client in a driver.
type createClientStep struct {
	// Client is the client's name; "default" when empty.
	Client string `json:"client"`
	// Driver is the language whose driver holds the client; the language
	// under test when empty. Setup steps use it, for example to record a
	// cassette with the Go SDK that another language replays.
	Driver string `json:"driver"`
	// Server fills in the configuration for a server: server_url (and
	// for mtls ca_cert_path; for fault token_url and discovery false),
	// unless the configuration sets them.
	Server string `json:"server"`
	// Mode is the runtime mode; real when empty.
	Mode string `json:"mode"`
	// ModeOptions are the options of the modes, keyed as the spec's
	// modes section.
	ModeOptions map[string]any `json:"mode_options"`
	// Config is the client configuration, keyed as the authentication
	// section of the configuration file.
	Config map[string]any `json:"config"`
	// Expect, when set, is what create_client must answer, such as an
	// invalid_config error.
	Expect *expectation `json:"expect"`
}

func (st *createClientStep) check(*Spec, *Scenario) error {
	switch st.Server {
	case "", "none", "fosite", "mtls", "fault":
	default:
		return fmt.Errorf("unknown server %q: want fosite, mtls, fault or none", st.Server)
	}
	return st.Expect.check()
}

func (st *createClientStep) run(s *session) error {
	lang := st.Driver
	if lang == "" {
		lang = s.lang
	}
	d, err := s.driver(lang)
	if err != nil {
		return err
	}
	cfg := map[string]any{}
	for k, v := range st.Config {
		cfg[k] = v
	}
	setDefault := func(k string, v any) {
		if _, ok := cfg[k]; !ok {
			cfg[k] = v
		}
	}
	switch st.Server {
	case "fosite":
		if s.env.fosite == nil {
			return errors.New("server fosite is not running: declare it under servers")
		}
		setDefault("server_url", s.env.fosite.URL())
	case "mtls":
		if s.env.mtls == nil {
			return errors.New("server mtls is not running: declare it under servers")
		}
		setDefault("server_url", s.env.mtls.URL())
		setDefault("ca_cert_path", s.env.fixtures.PKI.CA.CertPath)
	case "fault":
		if s.env.fault == nil {
			return errors.New("server fault is not running: declare it under servers")
		}
		setDefault("server_url", s.env.fault.URL())
		setDefault("token_url", s.env.fault.TokenURL())
		setDefault("discovery", false)
	}
	cmd := map[string]any{"cmd": "create_client", "client": clientName(st.Client), "config": cfg}
	if st.Mode != "" {
		cmd["mode"] = st.Mode
	}
	if st.ModeOptions != nil {
		cmd["mode_options"] = st.ModeOptions
	}
	a, err := d.send(s.ctx, cmd)
	if err != nil {
		return err
	}
	if a.OK {
		s.clients[clientName(st.Client)] = d
	}
	if st.Expect != nil {
		return st.Expect.verify(a, s.env)
	}
	if !a.OK {
		return errNotOK("create_client "+clientName(st.Client), a)
	}
	return nil
}

// ---- call

// callStep calls one operation.
type callStep struct {
	Client string         `json:"client"`
	Op     string         `json:"op"`
	Args   map[string]any `json:"args"`
	// SaveAs saves the result for ${name.field} and comparisons.
	SaveAs string       `json:"save_as"`
	Expect *expectation `json:"expect"`
	// ElapsedMS bounds the time the call took, as the runner measures
	// it; use lower bounds (a wait was honoured), not upper ones.
	ElapsedMS *bounds `json:"elapsed_ms"`
}

func (st *callStep) check(spec *Spec, _ *Scenario) error {
	if err := spec.checkCall(st.Op, st.Args); err != nil {
		return err
	}
	return st.Expect.check()
}

func (st *callStep) run(s *session) error {
	start := time.Now()
	a, err := s.send(st.Client, map[string]any{"cmd": "call", "op": st.Op, "args": orEmpty(st.Args)})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := st.Expect.verify(a, s.env); err != nil {
		return fmt.Errorf("%s: %w", st.Op, err)
	}
	if st.ElapsedMS != nil {
		if err := st.ElapsedMS.verify("elapsed milliseconds", float64(elapsed.Milliseconds())); err != nil {
			return fmt.Errorf("%s: %w", st.Op, err)
		}
	}
	return s.env.save(st.SaveAs, resultValues(a))
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// resultValues flattens an answer into the values a step can save.
func resultValues(a *Answer) map[string]string {
	v := map[string]string{"ok": strconv.FormatBool(a.OK)}
	if a.Error != nil {
		v["error_code"] = a.Error.Code
	}
	if t := a.Token; t != nil {
		v["access_token"] = t.AccessToken
		v["refresh_token"] = t.RefreshToken
		v["token_type"] = t.TokenType
		v["scopes"] = strings.Join(t.Scopes, " ")
	}
	if r := a.AuthorizationRequest; r != nil {
		v["url"] = r.URL
		v["state"] = r.State
		v["code_verifier"] = r.CodeVerifier
		v["redirect_uri"] = r.RedirectURI
	}
	if i := a.Introspection; i != nil {
		v["active"] = strconv.FormatBool(i.Active)
		v["client_id"] = i.ClientID
		v["sub"] = i.Subject
	}
	if a.Value != nil {
		v["value"] = strconv.FormatBool(*a.Value)
	}
	if a.CallbackURL != "" {
		v["url"] = a.CallbackURL
	}
	if a.Now != "" {
		v["now"] = a.Now
	}
	if a.ElapsedSeconds != nil {
		v["elapsed_seconds"] = strconv.FormatFloat(*a.ElapsedSeconds, 'f', -1, 64)
	}
	return v
}

// ---- concurrent

// concurrentStep calls one operation from many callers at once.
type concurrentStep struct {
	Client  string         `json:"client"`
	Callers int            `json:"callers"`
	Op      string         `json:"op"`
	Args    map[string]any `json:"args"`
	// Expect is checked against every caller's result.
	Expect *expectation `json:"expect"`
	// AllSameToken requires every caller to get the same access token.
	AllSameToken bool `json:"all_same_token"`
	// SaveAs saves the first caller's result.
	SaveAs string `json:"save_as"`
}

func (st *concurrentStep) check(spec *Spec, _ *Scenario) error {
	if st.Callers < 2 {
		return errors.New("callers must be at least 2")
	}
	if err := spec.checkCall(st.Op, st.Args); err != nil {
		return err
	}
	return st.Expect.check()
}

func (st *concurrentStep) run(s *session) error {
	a, err := s.send(st.Client, map[string]any{"cmd": "call_concurrent", "op": st.Op, "args": orEmpty(st.Args), "callers": st.Callers})
	if err != nil {
		return err
	}
	if !a.OK {
		return errNotOK("call_concurrent", a)
	}
	if len(a.Results) != st.Callers {
		return fmt.Errorf("call_concurrent answered %d results, want %d", len(a.Results), st.Callers)
	}
	for i, r := range a.Results {
		if r == nil {
			return fmt.Errorf("caller %d: no result", i+1)
		}
		if err := st.Expect.verify(r, s.env); err != nil {
			return fmt.Errorf("caller %d of %d: %w", i+1, st.Callers, err)
		}
		if st.AllSameToken {
			if r.Token == nil || a.Results[0].Token == nil {
				return fmt.Errorf("caller %d: no token to compare", i+1)
			}
			if r.Token.AccessToken != a.Results[0].Token.AccessToken {
				return fmt.Errorf("caller %d got another access token than caller 1", i+1)
			}
		}
	}
	return s.env.save(st.SaveAs, resultValues(a.Results[0]))
}

// ---- repeat

// repeatStep calls one operation many times in a row, counting failures.
type repeatStep struct {
	Client string         `json:"client"`
	Times  int            `json:"times"`
	Op     string         `json:"op"`
	Args   map[string]any `json:"args"`
	// Failures bounds how many calls may fail.
	Failures *bounds `json:"failures"`
	// Error is what every failure must be.
	Error *errorExpect `json:"error"`
	// SaveAs saves the outcome sequence (as "pattern", one character per
	// call: "." success, "x" failure).
	SaveAs string `json:"save_as"`
	// SameOutcomesAs requires the same outcome sequence as a saved one.
	SameOutcomesAs string `json:"same_outcomes_as"`
}

func (st *repeatStep) check(spec *Spec, _ *Scenario) error {
	if st.Times < 1 {
		return errors.New("times must be at least 1")
	}
	return spec.checkCall(st.Op, st.Args)
}

func (st *repeatStep) run(s *session) error {
	var pattern strings.Builder
	failures := 0
	for i := 0; i < st.Times; i++ {
		a, err := s.send(st.Client, map[string]any{"cmd": "call", "op": st.Op, "args": orEmpty(st.Args)})
		if err != nil {
			return err
		}
		if a.OK {
			pattern.WriteByte('.')
			continue
		}
		pattern.WriteByte('x')
		failures++
		if st.Error != nil {
			if err := st.Error.verify(a.Error); err != nil {
				return fmt.Errorf("call %d: %w", i+1, err)
			}
		}
	}
	if st.Failures != nil {
		if err := st.Failures.verify(fmt.Sprintf("failures in %d calls", st.Times), float64(failures)); err != nil {
			return err
		}
	}
	if st.SameOutcomesAs != "" {
		prev, err := s.env.saved(st.SameOutcomesAs)
		if err != nil {
			return err
		}
		if prev["pattern"] != pattern.String() {
			return fmt.Errorf("outcomes differ from %s's (same seed):\n  %s\n  %s", st.SameOutcomesAs, prev["pattern"], pattern.String())
		}
	}
	return s.env.save(st.SaveAs, map[string]string{"pattern": pattern.String(), "failures": strconv.Itoa(failures)})
}

// ---- current_token

// currentTokenStep reads the client's cached token without a request.
type currentTokenStep struct {
	Client string `json:"client"`
	SaveAs string `json:"save_as"`
	// None requires that there is no current token.
	None   bool         `json:"none"`
	Expect *expectation `json:"expect"`
}

func (st *currentTokenStep) check(*Spec, *Scenario) error { return st.Expect.check() }

func (st *currentTokenStep) run(s *session) error {
	a, err := s.send(st.Client, map[string]any{"cmd": "get_current_token"})
	if err != nil {
		return err
	}
	if !a.OK {
		return errNotOK("get_current_token", a)
	}
	if st.None {
		if a.Token != nil {
			return errors.New("there is a current token, want none")
		}
		return nil
	}
	if a.Token == nil {
		return errors.New("there is no current token")
	}
	if err := st.Expect.verify(a, s.env); err != nil {
		return err
	}
	return s.env.save(st.SaveAs, resultValues(a))
}

// ---- browser

// browserStep plays the user agent: it follows an authorization URL,
// where the test servers approve at once, and saves the redirection
// without following it.
type browserStep struct {
	URL    string `json:"url"`
	SaveAs string `json:"save_as"`
}

func (st *browserStep) check(*Spec, *Scenario) error {
	if st.URL == "" || st.SaveAs == "" {
		return errors.New("browser needs url and save_as")
	}
	return nil
}

func (st *browserStep) run(s *session) error {
	resp, err := s.env.browserClient().Get(st.URL)
	if err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return fmt.Errorf("browser: the authorization endpoint answered %d without a redirection", resp.StatusCode)
	}
	return s.env.save(st.SaveAs, callbackValues(loc))
}

// callbackValues are the saved values of a redirection URL.
func callbackValues(raw string) map[string]string {
	v := map[string]string{"url": raw}
	if u, err := url.Parse(raw); err == nil {
		q := u.Query()
		for _, k := range []string{"code", "state", "iss", "error"} {
			v[k] = q.Get(k)
		}
	}
	return v
}

// ---- tamper

// tamperStep changes the query of a redirection URL, as an attacker or a
// broken user agent would.
type tamperStep struct {
	URL    string            `json:"url"`
	Set    map[string]string `json:"set"`
	Remove []string          `json:"remove"`
	SaveAs string            `json:"save_as"`
}

func (st *tamperStep) check(*Spec, *Scenario) error {
	if st.URL == "" || st.SaveAs == "" {
		return errors.New("tamper needs url and save_as")
	}
	if len(st.Set) == 0 && len(st.Remove) == 0 {
		return errors.New("tamper changes nothing: give set or remove")
	}
	return nil
}

func (st *tamperStep) run(s *session) error {
	u, err := url.Parse(st.URL)
	if err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	q := u.Query()
	for k, v := range st.Set {
		q.Set(k, v)
	}
	for _, k := range st.Remove {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return s.env.save(st.SaveAs, callbackValues(u.String()))
}

// ---- wait

// waitStep lets real time pass, for expiry and proactive refresh.
type waitStep struct {
	MS int `json:"ms"`
}

func (st *waitStep) check(*Spec, *Scenario) error {
	if st.MS <= 0 || st.MS > 10000 {
		return errors.New("ms must be from 1 to 10000")
	}
	return nil
}

func (st *waitStep) run(s *session) error {
	select {
	case <-time.After(time.Duration(st.MS) * time.Millisecond):
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// ---- fault

// faultStep scripts the fault server's next replies.
type faultStep struct {
	Script   []faultReply `json:"script"`
	Fallback *faultReply  `json:"fallback"`
}

// faultReply is one scripted reply of the fault server.
type faultReply struct {
	// Reply is the kind: token, unavailable, too_many_requests,
	// malformed_json, missing_access_token, oversized, wrong_token_type,
	// negative_expires_in, oauth_error or hang.
	Reply string `json:"reply"`
	// RetryAfter is the Retry-After value of unavailable and
	// too_many_requests.
	RetryAfter string `json:"retry_after"`
	// LifetimeSeconds is the expires_in of a token reply.
	LifetimeSeconds int `json:"lifetime_seconds"`
	// RefreshToken adds a refresh token to a token reply.
	RefreshToken bool `json:"refresh_token"`
	// Status and Code are the HTTP status and error of oauth_error.
	Status int    `json:"status"`
	Code   string `json:"code"`
	// DelayMS delays the reply.
	DelayMS int `json:"delay_ms"`
}

func (r faultReply) build() (faultserver.Reply, error) {
	var out faultserver.Reply
	switch r.Reply {
	case "token":
		lifetime := time.Duration(r.LifetimeSeconds) * time.Second
		if lifetime == 0 {
			lifetime = time.Hour
		}
		out = faultserver.Token(lifetime)
		out.RefreshToken = r.RefreshToken
	case "unavailable":
		out = faultserver.Unavailable(r.RetryAfter)
	case "too_many_requests":
		out = faultserver.TooManyRequests(r.RetryAfter)
	case "malformed_json":
		out = faultserver.MalformedJSON()
	case "missing_access_token":
		out = faultserver.MissingAccessToken()
	case "oversized":
		out = faultserver.Oversized()
	case "wrong_token_type":
		out = faultserver.WrongTokenType()
	case "negative_expires_in":
		out = faultserver.NegativeExpiresIn()
	case "oauth_error":
		if r.Status == 0 || r.Code == "" {
			return out, errors.New("oauth_error needs status and code")
		}
		out = faultserver.OAuthError(r.Status, r.Code)
	case "hang":
		out = faultserver.Hang()
	default:
		return out, fmt.Errorf("unknown reply %q: want token, unavailable, too_many_requests, malformed_json, missing_access_token, oversized, wrong_token_type, negative_expires_in, oauth_error or hang", r.Reply)
	}
	if r.DelayMS > 0 {
		out = faultserver.Slow(time.Duration(r.DelayMS)*time.Millisecond, out)
	}
	return out, nil
}

func (st *faultStep) check(_ *Spec, sc *Scenario) error {
	if sc.Servers.Fault == nil {
		return errors.New("the scenario does not start the fault server: declare servers.fault")
	}
	for _, r := range st.Script {
		if _, err := r.build(); err != nil {
			return err
		}
	}
	if st.Fallback != nil {
		if _, err := st.Fallback.build(); err != nil {
			return err
		}
	}
	return nil
}

func (st *faultStep) run(s *session) error {
	if s.env.fault == nil {
		return errors.New("the fault server is not running")
	}
	var replies []faultserver.Reply
	for _, r := range st.Script {
		reply, err := r.build()
		if err != nil {
			return err
		}
		replies = append(replies, reply)
	}
	s.env.fault.Script(replies...)
	if st.Fallback != nil {
		reply, err := st.Fallback.build()
		if err != nil {
			return err
		}
		s.env.fault.SetFallback(reply)
	}
	return nil
}

// ---- expect_requests

// requestsStep checks how many requests a server has received since it
// started.
type requestsStep struct {
	Server string `json:"server"`
	// Endpoint is token, authorization, revocation, introspection or
	// metadata (both metadata documents). The fault server has only
	// token.
	Endpoint string `json:"endpoint"`
	// GrantType counts token requests of one grant type (fosite only).
	GrantType string `json:"grant_type"`
	// Count is the exact number; Min and Max bound it instead.
	Count *int `json:"count"`
	Min   *int `json:"min"`
	Max   *int `json:"max"`
	// MaxConcurrent bounds the fault server's largest number of requests
	// in flight at once.
	MaxConcurrent *int `json:"max_concurrent"`
}

func (st *requestsStep) check(_ *Spec, sc *Scenario) error {
	switch st.Server {
	case "fosite":
		if sc.Servers.Fosite == nil {
			return errors.New("the scenario does not start the fosite server")
		}
	case "mtls":
		if sc.Servers.MTLS == nil {
			return errors.New("the scenario does not start the mtls server")
		}
		if st.GrantType != "" {
			return errors.New("the mtls server does not count grant types")
		}
	case "fault":
		if sc.Servers.Fault == nil {
			return errors.New("the scenario does not start the fault server")
		}
		if st.Endpoint != "" && st.Endpoint != "token" {
			return errors.New("the fault server has only the token endpoint")
		}
	default:
		return fmt.Errorf("unknown server %q: want fosite, mtls or fault", st.Server)
	}
	switch st.Endpoint {
	case "", "token", "authorization", "revocation", "introspection", "metadata":
	default:
		return fmt.Errorf("unknown endpoint %q: want token, authorization, revocation, introspection or metadata", st.Endpoint)
	}
	if st.Count == nil && st.Min == nil && st.Max == nil && st.MaxConcurrent == nil {
		return errors.New("give count, min, max or max_concurrent")
	}
	return nil
}

func (st *requestsStep) run(s *session) error {
	endpoint := st.Endpoint
	if endpoint == "" {
		endpoint = "token"
	}
	var n int64
	what := st.Server + " " + endpoint + " requests"
	switch st.Server {
	case "fosite":
		srv := s.env.fosite
		if srv == nil {
			return errors.New("the fosite server is not running")
		}
		if st.GrantType != "" {
			n = srv.GrantRequests(st.GrantType)
			what = st.Server + " " + st.GrantType + " token requests"
		} else {
			for _, p := range fositePaths(endpoint) {
				n += srv.Requests(p)
			}
		}
	case "mtls":
		srv := s.env.mtls
		if srv == nil {
			return errors.New("the mtls server is not running")
		}
		for _, p := range fositePaths(endpoint) {
			n += srv.Requests(p)
		}
	case "fault":
		srv := s.env.fault
		if srv == nil {
			return errors.New("the fault server is not running")
		}
		n = srv.Requests()
		if st.MaxConcurrent != nil {
			if m := srv.MaxConcurrent(); m > int64(*st.MaxConcurrent) {
				return fmt.Errorf("the fault server had %d requests in flight at once, want at most %d", m, *st.MaxConcurrent)
			}
		}
	}
	b := bounds{Min: intPtrFloat(st.Min), Max: intPtrFloat(st.Max)}
	if st.Count != nil {
		c := float64(*st.Count)
		b = bounds{Min: &c, Max: &c}
	}
	return b.verify(what, float64(n))
}

// fositePaths are the paths of an endpoint on both fosite-based servers,
// which share their layout.
func fositePaths(endpoint string) []string {
	switch endpoint {
	case "token":
		return []string{"/oauth2/token"}
	case "authorization":
		return []string{"/oauth2/auth"}
	case "revocation":
		return []string{"/oauth2/revoke"}
	case "introspection":
		return []string{"/oauth2/introspect"}
	case "metadata":
		return []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}
	}
	return nil
}

func intPtrFloat(p *int) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}

// ---- expect_output

// outputStep searches what a client logged and exported for text that
// must, or must not, be there.
type outputStep struct {
	Client string `json:"client"`
	// Sources are logs and debug_export; both when empty.
	Sources     []string `json:"sources"`
	Contains    []string `json:"contains"`
	NotContains []string `json:"not_contains"`
	// MinBytes requires each source to hold at least that much text, so
	// that an empty log cannot pass a not_contains check.
	MinBytes int `json:"min_bytes"`
}

func (st *outputStep) check(*Spec, *Scenario) error {
	for _, src := range st.Sources {
		if src != "logs" && src != "debug_export" {
			return fmt.Errorf("unknown source %q: want logs or debug_export", src)
		}
	}
	if len(st.Contains) == 0 && len(st.NotContains) == 0 {
		return errors.New("give contains or not_contains")
	}
	return nil
}

func (st *outputStep) run(s *session) error {
	sources := st.Sources
	if len(sources) == 0 {
		sources = []string{"logs", "debug_export"}
	}
	for _, src := range sources {
		var text string
		switch src {
		case "logs":
			a, err := s.send(st.Client, map[string]any{"cmd": "get_logs"})
			if err != nil {
				return err
			}
			if !a.OK || a.Logs == nil {
				return errNotOK("get_logs", a)
			}
			text = *a.Logs
		case "debug_export":
			a, err := s.send(st.Client, map[string]any{"cmd": "get_debug_export"})
			if err != nil {
				return err
			}
			if !a.OK || len(a.DebugExport) == 0 {
				return errNotOK("get_debug_export", a)
			}
			text = string(a.DebugExport)
		}
		if len(text) < st.MinBytes {
			return fmt.Errorf("%s hold %d bytes, want at least %d", src, len(text), st.MinBytes)
		}
		for _, want := range st.Contains {
			if !strings.Contains(text, want) {
				return fmt.Errorf("%s do not contain %q", src, want)
			}
		}
		for _, banned := range st.NotContains {
			if banned == "" {
				return errors.New("not_contains has an empty string (an unset variable?)")
			}
			if strings.Contains(text, banned) {
				return fmt.Errorf("%s contain a value that must be redacted (%s)", src, hint(banned))
			}
		}
	}
	return nil
}

// hint names a secret in an error message without revealing it.
func hint(secret string) string {
	if len(secret) <= 8 {
		return fmt.Sprintf("%d characters", len(secret))
	}
	return secret[:4] + "..." + fmt.Sprintf(" (%d characters)", len(secret))
}

// ---- expect_file

// fileStep searches a file an SDK wrote, such as a cassette.
type fileStep struct {
	Path        string   `json:"path"`
	Contains    []string `json:"contains"`
	NotContains []string `json:"not_contains"`
}

func (st *fileStep) check(*Spec, *Scenario) error {
	if st.Path == "" {
		return errors.New("expect_file needs a path")
	}
	if len(st.Contains) == 0 && len(st.NotContains) == 0 {
		return errors.New("give contains or not_contains")
	}
	return nil
}

func (st *fileStep) run(*session) error {
	data, err := os.ReadFile(st.Path)
	if err != nil {
		return err
	}
	text := string(data)
	for _, want := range st.Contains {
		if !strings.Contains(text, want) {
			return fmt.Errorf("%s does not contain %q", filepath.Base(st.Path), want)
		}
	}
	for _, banned := range st.NotContains {
		if banned == "" {
			return errors.New("not_contains has an empty string (an unset variable?)")
		}
		if strings.Contains(text, banned) {
			return fmt.Errorf("%s contains a value that must be redacted (%s)", filepath.Base(st.Path), hint(banned))
		}
	}
	return nil
}

// ---- expect_stats

// statsStep checks a debug client's statistics of one operation.
type statsStep struct {
	Client     string `json:"client"`
	Op         string `json:"op"`
	CallCount  *int   `json:"call_count"`
	ErrorCount *int   `json:"error_count"`
	// Timed requires positive last_duration_seconds and
	// average_duration_seconds.
	Timed bool `json:"timed"`
}

func (st *statsStep) check(spec *Spec, _ *Scenario) error {
	return spec.checkCall(st.Op, nil)
}

func (st *statsStep) run(s *session) error {
	a, err := s.send(st.Client, map[string]any{"cmd": "get_performance_stats"})
	if err != nil {
		return err
	}
	if !a.OK {
		return errNotOK("get_performance_stats", a)
	}
	stats, ok := a.Stats[st.Op]
	if !ok {
		return fmt.Errorf("no statistics for %s", st.Op)
	}
	for _, c := range []struct {
		name string
		want *int
	}{{"call_count", st.CallCount}, {"error_count", st.ErrorCount}} {
		if c.want != nil && stats[c.name] != float64(*c.want) {
			return fmt.Errorf("%s %s = %v, want %d", st.Op, c.name, stats[c.name], *c.want)
		}
	}
	if st.Timed {
		for _, name := range []string{"last_duration_seconds", "average_duration_seconds"} {
			if !(stats[name] > 0) {
				return fmt.Errorf("%s %s = %v, want > 0", st.Op, name, stats[name])
			}
		}
	}
	return nil
}

// ---- mock_control

// mockStep changes a mock client at run time, or plays its user.
type mockStep struct {
	Client string `json:"client"`
	// Action is set_failure_rate, set_response_delay (ms), authorize or
	// deny (an authorization URL), or seed.
	Action string       `json:"action"`
	Value  any          `json:"value"`
	SaveAs string       `json:"save_as"`
	Expect *expectation `json:"expect"`
}

func (st *mockStep) check(*Spec, *Scenario) error {
	switch st.Action {
	case "set_failure_rate", "set_response_delay", "authorize", "deny", "seed":
	default:
		return fmt.Errorf("unknown action %q: want set_failure_rate, set_response_delay, authorize, deny or seed", st.Action)
	}
	return st.Expect.check()
}

func (st *mockStep) run(s *session) error {
	return control(s, "mock_control", st.Client, st.Action, st.Value, st.Expect, st.SaveAs)
}

// control sends a mode's control command (mock_control,
// simulation_control), checks its answer and saves its values.
func control(s *session, name, client, action string, value any, expect *expectation, saveAs string) error {
	cmd := map[string]any{"cmd": name, "action": action}
	if value != nil {
		cmd["value"] = value
	}
	a, err := s.send(client, cmd)
	if err != nil {
		return err
	}
	if err := expect.verify(a, s.env); err != nil {
		return fmt.Errorf("%s %s: %w", name, action, err)
	}
	values := resultValues(a)
	if a.CallbackURL != "" {
		values = callbackValues(a.CallbackURL)
	}
	return s.env.save(saveAs, values)
}

// ---- simulation_control

// simulationStep drives a client in simulation mode: its virtual clock,
// the simulated server's outages, faults and error rate, its counters, and
// the user of an authorization code flow.
type simulationStep struct {
	Client string `json:"client"`
	// Action is one of simulationActions; Value its argument.
	Action string       `json:"action"`
	Value  any          `json:"value"`
	SaveAs string       `json:"save_as"`
	Expect *expectation `json:"expect"`
}

// simulationActions are the actions of simulation_control.
var simulationActions = []string{"advance", "now", "add_outage", "inject", "set_error_rate", "stats", "authorize"}

// simEndpoints are the endpoints of a simulated server.
var simEndpoints = []string{"metadata", "authorization", "token", "revocation", "introspection"}

// simOutage is the value of simulation_control add_outage: a window of
// virtual time, from start_in_seconds after now for duration_seconds,
// during which the endpoints (all when empty) answer status (503 when
// omitted) with Retry-After.
type simOutage struct {
	StartInSeconds    *float64 `json:"start_in_seconds"`
	DurationSeconds   *float64 `json:"duration_seconds"`
	Status            *int     `json:"status"`
	RetryAfterSeconds *float64 `json:"retry_after_seconds"`
	Endpoints         []string `json:"endpoints"`
}

// simFault is the value of simulation_control inject: the next times
// (one when omitted) requests to endpoint (any but metadata when empty),
// of grant_type when set, are answered status, with an OAuth error object
// of code when set and Retry-After.
type simFault struct {
	Status            *int     `json:"status"`
	Code              string   `json:"code"`
	Description       string   `json:"description"`
	RetryAfterSeconds *float64 `json:"retry_after_seconds"`
	Endpoint          string   `json:"endpoint"`
	GrantType         string   `json:"grant_type"`
	Times             *int     `json:"times"`
}

func (st *simulationStep) check(*Spec, *Scenario) error {
	if err := st.checkValue(); err != nil {
		return err
	}
	return st.Expect.check()
}

// checkValue checks the value's shape for the action; the values
// themselves (a status, a rate) are the SDK's to judge.
func (st *simulationStep) checkValue() error {
	switch st.Action {
	case "advance":
		secs, ok := st.Value.(float64)
		if !ok || secs < 0 || math.IsInf(secs, 0) {
			return errors.New("advance needs a value: the seconds of virtual time to advance, 0 or more")
		}
	case "now", "stats":
		if st.Value != nil {
			return fmt.Errorf("%s takes no value", st.Action)
		}
	case "set_error_rate":
		if _, ok := st.Value.(float64); !ok {
			return errors.New("set_error_rate needs a value: a number from 0 to 1")
		}
	case "authorize":
		if u, ok := st.Value.(string); !ok || u == "" {
			return errors.New("authorize needs a value: an authorization URL")
		}
	case "add_outage":
		var o simOutage
		if err := decode(st.Value, &o); err != nil {
			return fmt.Errorf("add_outage: %w", err)
		}
		if o.DurationSeconds == nil {
			return errors.New("add_outage needs duration_seconds")
		}
		for _, ep := range o.Endpoints {
			if !slices.Contains(simEndpoints, ep) {
				return fmt.Errorf("add_outage: unknown endpoint %q: want one of %s", ep, strings.Join(simEndpoints, ", "))
			}
		}
	case "inject":
		var f simFault
		if err := decode(st.Value, &f); err != nil {
			return fmt.Errorf("inject: %w", err)
		}
		if f.Status == nil {
			return errors.New("inject needs a status")
		}
		if f.Endpoint != "" && !slices.Contains(simEndpoints, f.Endpoint) {
			return fmt.Errorf("inject: unknown endpoint %q: want one of %s", f.Endpoint, strings.Join(simEndpoints, ", "))
		}
		if f.GrantType != "" && f.Endpoint != "" && f.Endpoint != "token" {
			return errors.New("inject: grant_type needs the token endpoint")
		}
		if f.Times != nil && *f.Times < 1 {
			return errors.New("inject: times must be at least 1")
		}
	default:
		return fmt.Errorf("unknown action %q: want %s", st.Action, strings.Join(simulationActions, ", "))
	}
	return nil
}

func (st *simulationStep) run(s *session) error {
	return control(s, "simulation_control", st.Client, st.Action, st.Value, st.Expect, st.SaveAs)
}

// ---- expect_sim_requests

// simRequestsStep checks the request counters of a simulation client's
// simulated server.
type simRequestsStep struct {
	Client string `json:"client"`
	// Endpoint is one of simEndpoints; token when empty.
	Endpoint string `json:"endpoint"`
	// GrantType counts the token requests of one grant type.
	GrantType string `json:"grant_type"`
	// Outcome counts only the requests answered so: succeeded, failed,
	// injected (the failures of an outage, a fault or the error rate) or
	// abandoned; every request when empty.
	Outcome string `json:"outcome"`
	// Count is the exact number; Min and Max bound it instead.
	Count *int `json:"count"`
	Min   *int `json:"min"`
	Max   *int `json:"max"`
}

func (st *simRequestsStep) check(*Spec, *Scenario) error {
	if st.Endpoint != "" && !slices.Contains(simEndpoints, st.Endpoint) {
		return fmt.Errorf("unknown endpoint %q: want one of %s", st.Endpoint, strings.Join(simEndpoints, ", "))
	}
	if st.GrantType != "" && st.Endpoint != "" && st.Endpoint != "token" {
		return errors.New("grant_type counts token requests: it needs the token endpoint")
	}
	switch st.Outcome {
	case "", "succeeded", "failed", "injected", "abandoned":
	default:
		return fmt.Errorf("unknown outcome %q: want succeeded, failed, injected or abandoned", st.Outcome)
	}
	if st.Count == nil && st.Min == nil && st.Max == nil {
		return errors.New("give count, min or max")
	}
	return nil
}

func (st *simRequestsStep) run(s *session) error {
	a, err := s.send(st.Client, map[string]any{"cmd": "simulation_control", "action": "stats"})
	if err != nil {
		return err
	}
	if !a.OK {
		return errNotOK("simulation_control stats", a)
	}
	if a.SimulationStats == nil {
		return errors.New("simulation_control stats answered no simulation_stats")
	}
	endpoint := st.Endpoint
	if endpoint == "" {
		endpoint = "token"
	}
	counters, what := a.SimulationStats.Endpoints[endpoint], "simulated "+endpoint+" requests"
	if st.GrantType != "" {
		counters, what = a.SimulationStats.Grants[st.GrantType], "simulated "+st.GrantType+" token requests"
	}
	n := counters.Requests
	switch st.Outcome {
	case "succeeded":
		n = counters.Succeeded
	case "failed":
		n = counters.Failed
	case "injected":
		n = counters.Injected
	case "abandoned":
		n = counters.Abandoned
	}
	if st.Outcome != "" {
		what += " " + st.Outcome
	}
	b := bounds{Min: intPtrFloat(st.Min), Max: intPtrFloat(st.Max)}
	if st.Count != nil {
		c := float64(*st.Count)
		b = bounds{Min: &c, Max: &c}
	}
	return b.verify(what, float64(n))
}

// ---- save_cassette, close

// clientOnlyStep sends a command that takes only a client.
type clientOnlyStep struct {
	cmd    string
	Client string `json:"client"`
}

func (st *clientOnlyStep) check(*Spec, *Scenario) error { return nil }

func (st *clientOnlyStep) run(s *session) error {
	a, err := s.send(st.Client, map[string]any{"cmd": st.cmd})
	if err != nil {
		return err
	}
	if !a.OK {
		return errNotOK(st.cmd, a)
	}
	if st.cmd == "close" {
		delete(s.clients, clientName(st.Client))
	}
	return nil
}

// ---- stop_server

// stopServerStep stops a server, for example to prove that replay needs
// no network.
type stopServerStep struct {
	Server string `json:"server"`
}

func (st *stopServerStep) check(*Spec, *Scenario) error {
	switch st.Server {
	case "fosite", "mtls", "fault":
		return nil
	}
	return fmt.Errorf("unknown server %q: want fosite, mtls or fault", st.Server)
}

func (st *stopServerStep) run(s *session) error { return s.env.stop(st.Server) }

// ---- expectations

// expectation is what an answer must be. With no error expected, the
// answer must be ok.
type expectation struct {
	Error                *errorExpect         `json:"error"`
	Token                *tokenExpect         `json:"token"`
	Value                *bool                `json:"value"`
	Introspection        *introspectionExpect `json:"introspection"`
	AuthorizationRequest *authRequestExpect   `json:"authorization_request"`
	// ElapsedSeconds bounds the virtual seconds since a simulation client
	// was created (simulation_control advance and now).
	ElapsedSeconds *bounds `json:"elapsed_seconds"`
}

func (e *expectation) check() error {
	if e == nil {
		return nil
	}
	if e.Error != nil && (e.Token != nil || e.Value != nil || e.Introspection != nil || e.AuthorizationRequest != nil || e.ElapsedSeconds != nil) {
		return errors.New("expect: an error excludes token, value, introspection, authorization_request and elapsed_seconds")
	}
	if e.Error != nil && e.Error.Code == "" {
		return errors.New("expect.error needs a code")
	}
	return nil
}

// verify checks an answer; a nil expectation asks only for success.
func (e *expectation) verify(a *Answer, env *environment) error {
	if e == nil {
		e = &expectation{}
	}
	if e.Error != nil {
		if a.OK {
			return fmt.Errorf("succeeded, want error %s", e.Error.Code)
		}
		return e.Error.verify(a.Error)
	}
	if !a.OK {
		return errNotOK("the command", a)
	}
	if e.Token != nil {
		if a.Token == nil {
			return errors.New("no token in the answer")
		}
		if err := e.Token.verify(a.Token, env); err != nil {
			return err
		}
	}
	if e.Value != nil {
		if a.Value == nil {
			return errors.New("no value in the answer")
		}
		if *a.Value != *e.Value {
			return fmt.Errorf("value = %v, want %v", *a.Value, *e.Value)
		}
	}
	if e.Introspection != nil {
		if a.Introspection == nil {
			return errors.New("no introspection in the answer")
		}
		if err := e.Introspection.verify(a.Introspection); err != nil {
			return err
		}
	}
	if e.AuthorizationRequest != nil {
		if a.AuthorizationRequest == nil {
			return errors.New("no authorization_request in the answer")
		}
		if err := e.AuthorizationRequest.verify(a.AuthorizationRequest); err != nil {
			return err
		}
	}
	if e.ElapsedSeconds != nil {
		if a.ElapsedSeconds == nil {
			return errors.New("no elapsed_seconds in the answer")
		}
		if err := e.ElapsedSeconds.verify("elapsed_seconds", *a.ElapsedSeconds); err != nil {
			return err
		}
	}
	return nil
}

// errorExpect is the typed error an answer must carry.
type errorExpect struct {
	Code      string `json:"code"`
	Retryable *bool  `json:"retryable"`
	Status    *int   `json:"status"`
	// DescriptionContains is text the description must contain.
	DescriptionContains string `json:"description_contains"`
	// RetryAfterSeconds bounds the error's retry_after_seconds.
	RetryAfterSeconds *bounds `json:"retry_after_seconds"`
}

func (e *errorExpect) verify(got *WireError) error {
	if got == nil {
		return fmt.Errorf("no error, want %s", e.Code)
	}
	if got.Code != e.Code {
		return fmt.Errorf("error %s (%s), want %s", got.Code, got.Description, e.Code)
	}
	if e.Retryable != nil && got.Retryable != *e.Retryable {
		return fmt.Errorf("error %s retryable = %v, want %v", got.Code, got.Retryable, *e.Retryable)
	}
	if e.Status != nil && got.Status != *e.Status {
		return fmt.Errorf("error %s status = %d, want %d", got.Code, got.Status, *e.Status)
	}
	if e.DescriptionContains != "" && !strings.Contains(got.Description, e.DescriptionContains) {
		return fmt.Errorf("error %s description %q does not contain %q", got.Code, got.Description, e.DescriptionContains)
	}
	if e.RetryAfterSeconds != nil {
		if got.RetryAfterSeconds == nil {
			return fmt.Errorf("error %s has no retry_after_seconds", got.Code)
		}
		if err := e.RetryAfterSeconds.verify("retry_after_seconds", *got.RetryAfterSeconds); err != nil {
			return err
		}
	}
	return nil
}

// tokenExpect is what a token must be.
type tokenExpect struct {
	TokenType string `json:"token_type"`
	// Scopes are the exact scopes, in any order.
	Scopes []string `json:"scopes"`
	// AccessToken is the exact access token (a replay placeholder).
	AccessToken     string  `json:"access_token"`
	HasRefreshToken *bool   `json:"has_refresh_token"`
	ExpiresIn       *bounds `json:"expires_in"`
	// SameAs and DiffersFrom compare the access token with a saved one.
	SameAs      string `json:"same_as"`
	DiffersFrom string `json:"differs_from"`
	// RefreshDiffersFrom compares the refresh token with a saved one.
	RefreshDiffersFrom string `json:"refresh_differs_from"`
}

func (e *tokenExpect) verify(t *WireToken, env *environment) error {
	if t.AccessToken == "" {
		return errors.New("the token has an empty access_token")
	}
	if e.TokenType != "" && t.TokenType != e.TokenType {
		return fmt.Errorf("token_type = %q, want %q", t.TokenType, e.TokenType)
	}
	if e.Scopes != nil && !sameSet(t.Scopes, e.Scopes) {
		return fmt.Errorf("scopes = %q, want %q", t.Scopes, e.Scopes)
	}
	if e.AccessToken != "" && t.AccessToken != e.AccessToken {
		return fmt.Errorf("access_token is not %q", e.AccessToken)
	}
	if e.HasRefreshToken != nil && (t.RefreshToken != "") != *e.HasRefreshToken {
		return fmt.Errorf("has refresh token = %v, want %v", t.RefreshToken != "", *e.HasRefreshToken)
	}
	if e.ExpiresIn != nil {
		if t.ExpiresIn == nil {
			return errors.New("the token has no expires_in")
		}
		if err := e.ExpiresIn.verify("expires_in", *t.ExpiresIn); err != nil {
			return err
		}
	}
	if e.SameAs != "" {
		prev, err := env.saved(e.SameAs)
		if err != nil {
			return err
		}
		if prev["access_token"] != t.AccessToken {
			return fmt.Errorf("the access token differs from %s's, want the same", e.SameAs)
		}
	}
	if e.DiffersFrom != "" {
		prev, err := env.saved(e.DiffersFrom)
		if err != nil {
			return err
		}
		if prev["access_token"] == t.AccessToken {
			return fmt.Errorf("the access token is %s's, want a new one", e.DiffersFrom)
		}
	}
	if e.RefreshDiffersFrom != "" {
		prev, err := env.saved(e.RefreshDiffersFrom)
		if err != nil {
			return err
		}
		if t.RefreshToken == "" || prev["refresh_token"] == t.RefreshToken {
			return fmt.Errorf("the refresh token is %s's or empty, want a rotated one", e.RefreshDiffersFrom)
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// introspectionExpect is what an introspection result must be.
type introspectionExpect struct {
	Active     *bool    `json:"active"`
	ClientID   string   `json:"client_id"`
	Subject    string   `json:"sub"`
	Scopes     []string `json:"scopes"`
	CnfX5tS256 string   `json:"cnf_x5t_s256"`
}

func (e *introspectionExpect) verify(got *WireIntrospection) error {
	if e.Active != nil && got.Active != *e.Active {
		return fmt.Errorf("introspection active = %v, want %v", got.Active, *e.Active)
	}
	if e.ClientID != "" && got.ClientID != e.ClientID {
		return fmt.Errorf("introspection client_id = %q, want %q", got.ClientID, e.ClientID)
	}
	if e.Subject != "" && got.Subject != e.Subject {
		return fmt.Errorf("introspection sub = %q, want %q", got.Subject, e.Subject)
	}
	if e.Scopes != nil && !sameSet(got.Scopes, e.Scopes) {
		return fmt.Errorf("introspection scopes = %q, want %q", got.Scopes, e.Scopes)
	}
	if e.CnfX5tS256 != "" && got.CnfX5tS256 != e.CnfX5tS256 {
		return fmt.Errorf("introspection cnf x5t#S256 = %q, want %q", got.CnfX5tS256, e.CnfX5tS256)
	}
	return nil
}

// authRequestExpect is what start_authorization_code_flow must return.
type authRequestExpect struct {
	URLContains     []string `json:"url_contains"`
	URLNotContains  []string `json:"url_not_contains"`
	HasCodeVerifier *bool    `json:"has_code_verifier"`
}

func (e *authRequestExpect) verify(got *WireAuthorizationRequest) error {
	if got.URL == "" || got.State == "" {
		return errors.New("the authorization request has no url or no state")
	}
	for _, s := range e.URLContains {
		if !strings.Contains(got.URL, s) {
			return fmt.Errorf("the authorization URL does not contain %q", s)
		}
	}
	for _, s := range e.URLNotContains {
		if strings.Contains(got.URL, s) {
			return fmt.Errorf("the authorization URL contains %q", s)
		}
	}
	if e.HasCodeVerifier != nil {
		n := len(got.CodeVerifier)
		if *e.HasCodeVerifier && (n < 43 || n > 128) {
			return fmt.Errorf("the code verifier has %d characters, want 43 to 128 (RFC 7636 Section 4.1)", n)
		}
		if !*e.HasCodeVerifier && n != 0 {
			return errors.New("the authorization request has a code verifier, want none")
		}
	}
	return nil
}

// bounds is an inclusive range; either end may be open.
type bounds struct {
	Min *float64 `json:"min"`
	Max *float64 `json:"max"`
}

func (b *bounds) verify(what string, v float64) error {
	if math.IsNaN(v) {
		return fmt.Errorf("%s is NaN", what)
	}
	if b.Min != nil && b.Max != nil && *b.Min == *b.Max && v != *b.Min {
		return fmt.Errorf("%s = %v, want %v", what, v, *b.Min)
	}
	if b.Min != nil && v < *b.Min {
		return fmt.Errorf("%s = %v, want at least %v", what, v, *b.Min)
	}
	if b.Max != nil && v > *b.Max {
		return fmt.Errorf("%s = %v, want at most %v", what, v, *b.Max)
	}
	return nil
}
