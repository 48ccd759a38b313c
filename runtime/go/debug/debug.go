// Package debug is the runtime of the "debug" mode: the real client plus
// tracing of its exchanges with the authorization server, per-operation
// performance statistics, and an export of both for bug reports.
//
// A [Debugger] does three things:
//
//   - [Debugger.WrapTransport], given as authcore.Config.WrapTransport,
//     traces every request to the authorization server and every
//     response through log/slog (the trace_requests and trace_responses
//     options), and keeps the max_traces most recent traces. Client
//     secrets, client assertions (RFC 7523), JWT bearer grants,
//     authorization codes, PKCE verifiers (RFC 7636), passwords, access,
//     refresh and ID tokens, the token parameter of revocation (RFC 7009)
//     and introspection (RFC 7662), Authorization, Cookie and DPoP headers
//     are replaced by "[REDACTED]" in the form bodies, JSON bodies,
//     headers, query strings and error messages of a trace, unless the
//     log_tokens option is set. Values redacted in a request are also
//     scrubbed from any free-text response body of the same exchange.
//   - [Debugger.Observe], which the generated client calls around each
//     operation, keeps per-operation statistics keyed by the spec's
//     operation ids (performance_tracking): call and error counts, the
//     last, average, minimum and maximum durations, and the 50th, 95th and
//     99th percentiles from a log-linear histogram with a relative error
//     below 3.2%. Observe takes no lock and allocates nothing for an
//     operation it has seen before, so it may wrap the token fast path.
//     [Debugger.Stats] returns a snapshot.
//   - [Debugger.ExportDebugInfo] returns a [DebugInfo] that encoding/json
//     serialises: the configuration with its secrets redacted, the
//     statistics, the recent traces and the current token's metadata
//     without any token value.
//
// [WithOperation] names the operation in the context of its exchanges, so
// that each trace says which operation sent it.
package debug

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// DefaultMaxTraces is the spec's default max_traces.
const DefaultMaxTraces = 100

// Options are the options of the debug mode (the spec's modes.debug
// options) and where its output goes. The zero value traces nothing and
// keeps no statistics; DefaultOptions returns the spec's defaults.
type Options struct {
	// TraceRequests logs and keeps every request to the authorization
	// server (trace_requests).
	TraceRequests bool
	// TraceResponses logs and keeps every response, or transport error
	// (trace_responses).
	TraceResponses bool
	// PerformanceTracking keeps the per-operation statistics
	// (performance_tracking). Without it Observe does nothing.
	PerformanceTracking bool
	// LogTokens shows secrets and tokens in traces instead of
	// "[REDACTED]" (log_tokens); for local debugging only. The exported
	// configuration and token metadata never show them.
	LogTokens bool
	// MaxTraces is how many of the most recent traces are kept for
	// ExportDebugInfo (max_traces); zero keeps none.
	MaxTraces int
	// Logger receives the traces. Nil means slog.Default().
	Logger *slog.Logger
	// Level is the level of trace records. The zero value is
	// slog.LevelInfo, which the default logger prints.
	Level slog.Level
	// SecretConfigFields are the configuration keys whose values
	// ExportDebugInfo redacts: the spec's fields of type secret, such as
	// "client_secret". Values of type secret.Secret, and keys containing
	// "secret" or "password", are redacted whether listed or not.
	SecretConfigFields []string
}

// DefaultOptions returns the spec's defaults: both traces, performance
// tracking and 100 traces on, log_tokens off.
func DefaultOptions() Options {
	return Options{TraceRequests: true, TraceResponses: true, PerformanceTracking: true, MaxTraces: DefaultMaxTraces}
}

// Validate reports an option out of its range, or nil.
func (o *Options) Validate() error {
	if o.MaxTraces < 0 {
		return fmt.Errorf("debug.max_traces: %d is negative", o.MaxTraces)
	}
	return nil
}

// Debugger traces exchanges and keeps statistics for one client. It is
// safe for concurrent use.
type Debugger struct {
	opts   Options
	logger *slog.Logger

	seq    atomic.Uint64
	mu     sync.Mutex
	traces []Trace // ring of at most MaxTraces, oldest at next once full
	next   int

	ops sync.Map // operation id -> *operation
}

// New returns a Debugger with opts. An invalid option is an
// *oautherr.Error with code invalid_config.
func New(opts Options) (*Debugger, error) {
	if err := opts.Validate(); err != nil {
		return nil, &oautherr.Error{Op: "configure", Code: oautherr.CodeInvalidConfig, Description: err.Error()}
	}
	d := &Debugger{opts: opts, logger: opts.Logger}
	d.opts.SecretConfigFields = append([]string(nil), opts.SecretConfigFields...)
	if d.logger == nil {
		d.logger = slog.Default()
	}
	return d, nil
}

// Options returns the Debugger's options.
func (d *Debugger) Options() Options { return d.opts }

type operationKey struct{}

// WithOperation returns a context that names op, an operation id such as
// "authenticate_client_credentials", in the traces of the exchanges made
// with it.
func WithOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// OperationFrom returns the operation id that WithOperation put in ctx, or
// "".
func OperationFrom(ctx context.Context) string {
	op, _ := ctx.Value(operationKey{}).(string)
	return op
}

// keep adds t to the ring of recent traces.
func (d *Debugger) keep(t Trace) {
	if d.opts.MaxTraces == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.traces) < d.opts.MaxTraces {
		d.traces = append(d.traces, t)
		return
	}
	d.traces[d.next] = t
	d.next = (d.next + 1) % d.opts.MaxTraces
}

// Traces returns the kept traces in the order their exchanges ended,
// oldest first; concurrent exchanges may end out of ID order. The traces
// are shared: read them, do not modify them.
func (d *Debugger) Traces() []Trace {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Trace, 0, len(d.traces))
	out = append(out, d.traces[d.next:]...)
	return append(out, d.traces[:d.next]...)
}

// DebugInfo is what ExportDebugInfo returns; encoding/json serialises it
// with the field names of its tags.
type DebugInfo struct {
	// Mode is "debug".
	Mode string `json:"mode"`
	// ExportedAt is when the export was made.
	ExportedAt time.Time `json:"exported_at"`
	// Options are the debug mode's options.
	Options OptionsInfo `json:"options"`
	// Config is the client's configuration with its secrets redacted.
	Config map[string]any `json:"config"`
	// PerformanceStats are the per-operation statistics, keyed by
	// operation id.
	PerformanceStats map[string]OperationStats `json:"performance_stats"`
	// Traces are the recent traces, oldest first.
	Traces []Trace `json:"traces"`
	// Token describes the current token, or is nil when there is none.
	Token *TokenInfo `json:"token"`
}

// OptionsInfo are the debug options in an export.
type OptionsInfo struct {
	// TraceRequests is the trace_requests option.
	TraceRequests bool `json:"trace_requests"`
	// TraceResponses is the trace_responses option.
	TraceResponses bool `json:"trace_responses"`
	// PerformanceTracking is the performance_tracking option.
	PerformanceTracking bool `json:"performance_tracking"`
	// LogTokens is the log_tokens option.
	LogTokens bool `json:"log_tokens"`
	// MaxTraces is the max_traces option.
	MaxTraces int `json:"max_traces"`
}

// TokenInfo is a token's metadata, without any token value.
type TokenInfo struct {
	// Type is the token type, such as "Bearer".
	Type string `json:"type"`
	// ExpiresAt is when the access token expires; absent when the server
	// gave no lifetime.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// ExpiresInSeconds is the time left until ExpiresAt at the export, 0
	// when expired or without expiry.
	ExpiresInSeconds float64 `json:"expires_in_seconds"`
	// Expired reports whether the access token had expired at the export.
	Expired bool `json:"expired"`
	// Scopes are the granted scopes.
	Scopes []string `json:"scopes"`
	// HasRefreshToken reports whether there is a refresh token.
	HasRefreshToken bool `json:"has_refresh_token"`
	// HasIDToken reports whether there is an OpenID Connect ID token.
	HasIDToken bool `json:"has_id_token"`
}

// NewTokenInfo returns tok's metadata, or nil for a nil token.
func NewTokenInfo(tok *token.Token, now time.Time) *TokenInfo {
	if tok == nil {
		return nil
	}
	info := &TokenInfo{
		Type:            tok.TokenType,
		ExpiresAt:       tok.ExpiresAt,
		Expired:         tok.Expired(now),
		Scopes:          append([]string{}, tok.Scopes...),
		HasRefreshToken: !tok.RefreshToken.IsZero(),
		HasIDToken:      !tok.IDToken.IsZero(),
	}
	if !tok.ExpiresAt.IsZero() && !info.Expired {
		info.ExpiresInSeconds = tok.ExpiresAt.Sub(now).Seconds()
	}
	return info
}

// ExportDebugInfo returns the debug information of the client whose
// configuration is config and whose current token is current (nil when
// there is none): config redacted by RedactConfig with the
// SecretConfigFields option, the statistics, the kept traces and the
// token's metadata. The traces show secrets only with log_tokens.
func (d *Debugger) ExportDebugInfo(config map[string]any, current *token.Token) *DebugInfo {
	now := time.Now()
	return &DebugInfo{
		Mode:       "debug",
		ExportedAt: now,
		Options: OptionsInfo{
			TraceRequests:       d.opts.TraceRequests,
			TraceResponses:      d.opts.TraceResponses,
			PerformanceTracking: d.opts.PerformanceTracking,
			LogTokens:           d.opts.LogTokens,
			MaxTraces:           d.opts.MaxTraces,
		},
		Config:           RedactConfig(config, d.opts.SecretConfigFields...),
		PerformanceStats: d.Stats(),
		Traces:           d.Traces(),
		Token:            NewTokenInfo(current, now),
	}
}

// RedactConfig returns a copy of config in which secrets read
// "[REDACTED]": the values of the keys secretFields names and of keys
// containing "secret" or "password", at any depth, and every
// secret.Secret value. An empty secret stays empty, so the export still
// shows that it is unset. Nested map[string]any and []any values are
// copied; other values are shared.
func RedactConfig(config map[string]any, secretFields ...string) map[string]any {
	if config == nil {
		return nil
	}
	named := make(map[string]bool, len(secretFields))
	for _, f := range secretFields {
		named[strings.ToLower(f)] = true
	}
	return redactMap(config, named)
}

func redactMap(m map[string]any, named map[string]bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		lk := strings.ToLower(k)
		if named[lk] || strings.Contains(lk, "secret") || strings.Contains(lk, "password") {
			out[k] = redactAll(v)
			continue
		}
		out[k] = redactConfigValue(v, named)
	}
	return out
}

func redactConfigValue(v any, named map[string]bool) any {
	switch v := v.(type) {
	case secret.Secret:
		return v.String()
	case map[string]any:
		return redactMap(v, named)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactConfigValue(e, named)
		}
		return out
	}
	return v
}

// redactAll redacts a value that is secret as a whole, keeping only
// whether it was set.
func redactAll(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return ""
		}
	case secret.Secret:
		return v.String()
	}
	return secret.Redacted
}

// Observe records that operation op took dur and ended with err (nil on
// success). The generated client calls it around every operation. For an
// operation seen before it takes no lock and, on success, allocates
// nothing.
func (d *Debugger) Observe(op string, dur time.Duration, err error) {
	if !d.opts.PerformanceTracking {
		return
	}
	o, ok := d.ops.Load(op)
	if !ok {
		o, _ = d.ops.LoadOrStore(op, newOperation())
	}
	o.(*operation).observe(dur, err)
}

// Stats returns a snapshot of the statistics of every operation observed
// so far, keyed by operation id. Counters read while other goroutines
// observe may be one call apart from each other.
func (d *Debugger) Stats() map[string]OperationStats {
	out := make(map[string]OperationStats)
	d.ops.Range(func(k, v any) bool {
		out[k.(string)] = v.(*operation).snapshot()
		return true
	})
	return out
}

// Operations returns the ids of the observed operations, sorted.
func (d *Debugger) Operations() []string {
	var ops []string
	d.ops.Range(func(k, _ any) bool {
		ops = append(ops, k.(string))
		return true
	})
	sort.Strings(ops)
	return ops
}

// errorCode is the code Observe records for err: its OAuth code, or
// "error" for an error that is not an *oautherr.Error.
func errorCode(err error) string {
	var e *oautherr.Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return "error"
}

// logTrace writes the request or response part of t.
func (d *Debugger) logTrace(ctx context.Context, msg string, attrs ...slog.Attr) {
	d.logger.LogAttrs(ctx, d.opts.Level, msg, attrs...)
}
