package golang

import (
	"fmt"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

// coreFields maps config fields to the runtime core's Config: the field
// there and how the value converts. Fields the spec leaves out stay at
// their zero value in the core; fields the core does not know are only
// configuration for the facade.
var coreFields = map[string]struct {
	name    string
	convert func(*jen.Statement) *jen.Statement
}{
	"server_url":             {"ServerURL", nil},
	"client_id":              {"ClientID", nil},
	"client_secret":          {"ClientSecret", nil},
	"auth_mode":              {"AuthMode", asString},
	"client_auth_method":     {"ClientAuthMethod", asString},
	"default_scopes":         {"Scopes", nil},
	"auto_refresh":           {"AutoRefresh", nil},
	"refresh_buffer_seconds": {"RefreshBuffer", seconds},
	"timeout_ms":             {"Timeout", milliseconds},
	"verify_ssl":             {"VerifyTLS", nil},
	"client_cert_path":       {"ClientCertPath", nil},
	"client_key_path":        {"ClientKeyPath", nil},
	"ca_cert_path":           {"CACertPath", nil},
	"jwt_signing_key_path":   {"JWTSigningKeyPath", nil},
	"jwt_algorithm":          {"JWTAlgorithm", asString},
	"jwt_key_id":             {"JWTKeyID", nil},
	"jwt_issuer":             {"JWTIssuer", nil},
	"jwt_audience":           {"JWTAudience", nil},
	"jwt_lifetime_seconds":   {"JWTLifetime", seconds},
	"redirect_uri":           {"RedirectURI", nil},
	"token_url":              {"TokenURL", nil},
	"authorization_url":      {"AuthorizationURL", nil},
	"revocation_url":         {"RevocationURL", nil},
	"introspection_url":      {"IntrospectionURL", nil},
	"discovery":              {"Discovery", nil},
	"revoke_on_close":        {"RevokeOnClose", nil},
	"max_retries":            {"MaxRetries", nil},
	"token_storage_path":     {"TokenStoragePath", nil},
	"token_storage_key":      {"TokenStorageKey", nil},
}

func asString(v *jen.Statement) *jen.Statement { return jen.String().Parens(v) }

func seconds(v *jen.Statement) *jen.Statement {
	return jen.Qual("time", "Duration").Parens(v).Op("*").Qual("time", "Second")
}

func milliseconds(v *jen.Statement) *jen.Statement {
	return jen.Qual("time", "Duration").Parens(v).Op("*").Qual("time", "Millisecond")
}

// argType is an operation argument's Go type.
func argType(a *model.Arg) *jen.Statement {
	switch a.Kind {
	case "bool":
		return jen.Bool()
	case "int":
		return jen.Int()
	case "list":
		return jen.Index().String()
	}
	return jen.String()
}

// results is an operation's Go result list.
func results(op *model.Operation) []jen.Code {
	switch op.Result {
	case "auth_result", "token":
		return []jen.Code{jen.Op("*").Id("Token"), jen.Error()}
	case "authorization_request":
		return []jen.Code{jen.Op("*").Id("AuthorizationRequest"), jen.Error()}
	case "introspection":
		return []jen.Code{jen.Op("*").Id("Introspection"), jen.Error()}
	case "bool":
		return []jen.Code{jen.Bool(), jen.Error()}
	}
	return []jen.Code{jen.Error()}
}

func params(op *model.Operation) []jen.Code {
	ps := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	for _, a := range op.Args {
		ps = append(ps, jen.Id(a.Name.GoLower).Add(argType(a)))
	}
	return ps
}

func opDoc(op *model.Operation) []string {
	lines := []string{op.ID.Go + " " + lowerFirst(op.Doc) + " (operation " + op.ID.Snake + ")"}
	for _, a := range op.Args {
		opt := ""
		if a.Optional {
			opt = ", optional"
		}
		lines = append(lines, fmt.Sprintf("  - %s%s: %s", a.Name.GoLower, opt, a.Doc))
	}
	return lines
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func genClient(f *jen.File, m *model.Model) {
	f.Comment("Token is an OAuth2 token. Its secrets never print.")
	f.Type().Id("Token").Op("=").Qual(tokenPath, "Token")
	f.Line()
	f.Comment("AuthorizationRequest is the start of an authorization code flow: the URL to")
	f.Comment("send the user to, the PKCE code verifier and the state to check.")
	f.Type().Id("AuthorizationRequest").Op("=").Qual(authcorePath, "AuthorizationRequest")
	f.Line()
	f.Comment("Introspection is the answer of the introspection endpoint (RFC 7662).")
	f.Type().Id("Introspection").Op("=").Qual(authcorePath, "Introspection")
	f.Line()
	f.Comment("TokenStorage keeps tokens across restarts: implement it over Redis, a")
	f.Comment("database or a secret manager and pass it to WithStorage. Get returns nil")
	f.Comment("and no error when there is no token under the key.")
	f.Type().Id("TokenStorage").Op("=").Qual(tokenstorePath, "Store")
	f.Line()

	var methods []jen.Code
	for _, op := range m.Operations {
		for _, line := range opDoc(op) {
			methods = append(methods, jen.Comment(line))
		}
		methods = append(methods, jen.Id(op.ID.Go).Params(params(op)...).Params(results(op)...))
	}
	methods = append(methods,
		jen.Comment("Token returns a valid access token for a request, from the cache when it"),
		jen.Comment("holds one (no lock, no allocation), else from the authorization server."),
		jen.Id("Token").Params(jen.Id("ctx").Qual("context", "Context")).Params(jen.Op("*").Id("Token"), jen.Error()),
		jen.Comment("CurrentToken returns the cached token, valid or not, or nil."),
		jen.Id("CurrentToken").Params().Op("*").Id("Token"),
		jen.Comment("Close releases the client's resources."),
		jen.Id("Close").Params().Error(),
	)
	f.Comment("Client is the authentication client. Every method is safe for concurrent use")
	f.Comment("by any number of goroutines; each takes a context that bounds its network")
	f.Comment("exchanges, and returns an *Error when it fails.")
	f.Type().Id("Client").Interface(methods...)
	f.Line()

	genOptions(f)
	genNew(f, m)
	f.Comment("client is the Client over the runtime core.")
	genCore(f, m)
	f.Comment("observer records the duration and outcome of each operation (debug mode).")
	f.Type().Id("observer").Interface(jen.Id("Observe").Params(jen.Id("op").String(), jen.Id("d").Qual("time", "Duration"), jen.Id("err").Error()))
	f.Line()
	f.Type().Id("client").Struct(
		jen.Id("core").Id("core"),
		jen.Id("stats").Id("observer").Comment("nil unless performance tracking is on"),
	)
	f.Line()
	for _, op := range m.Operations {
		args := []jen.Code{jen.Id("ctx")}
		for _, a := range op.Args {
			args = append(args, jen.Id(a.Name.GoLower))
		}
		genObserved(f, op.ID.Go, op.ID.Snake, params(op), results(op), args)
	}
	genObserved(f, "Token", "get_valid_token", []jen.Code{jen.Id("ctx").Qual("context", "Context")}, []jen.Code{jen.Op("*").Id("Token"), jen.Error()}, []jen.Code{jen.Id("ctx")})
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("client")).Id("CurrentToken").Params().Op("*").Id("Token").Block(
		jen.Return(jen.Id("c").Dot("core").Dot("CurrentToken").Call()),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("client")).Id("Close").Params().Error().Block(
		jen.Return(jen.Id("c").Dot("core").Dot("Close").Call()),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("client")).Id("invalidate").Params(jen.Id("tok").Op("*").Id("Token")).Block(
		jen.Id("c").Dot("core").Dot("Invalidate").Call(jen.Id("tok")),
	)
	f.Line()
	genInterop(f)
}

func genOptions(f *jen.File) {
	f.Comment("Option changes how New builds a client.")
	f.Type().Id("Option").Func().Params(jen.Op("*").Id("options"))
	f.Line()
	f.Type().Id("options").Struct(
		jen.Id("httpClient").Op("*").Qual("net/http", "Client"),
		jen.Id("storage").Qual(tokenstorePath, "Store"),
		jen.Id("logger").Op("*").Qual("log/slog", "Logger"),
		jen.Id("simulator").Op("*").Qual(simulationPath, "Server"),
		jen.Id("mode").Id("Mode"),
		jen.Id("modeSet").Bool(),
		jen.Id("modeOptions").Id("ModeOptions"),
	)
	f.Line()
	f.Comment("WithHTTPClient makes the client send its requests through hc, whose")
	f.Comment("transport then also decides TLS; without it the client builds its own from")
	f.Comment("the configuration.")
	f.Func().Id("WithHTTPClient").Params(jen.Id("hc").Op("*").Qual("net/http", "Client")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(jen.Id("o").Dot("httpClient").Op("=").Id("hc"))),
	)
	f.Line()
	f.Comment("WithStorage keeps the client's token in store, so that it survives restarts")
	f.Comment("and can be shared; without it the token stays in memory, or in the file")
	f.Comment("that token_storage_path names.")
	f.Func().Id("WithStorage").Params(jen.Id("store").Id("TokenStorage")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(jen.Id("o").Dot("storage").Op("=").Id("store"))),
	)
	f.Line()
	f.Comment("WithLogger sends the traces of debug mode to logger instead of slog.Default().")
	f.Func().Id("WithLogger").Params(jen.Id("logger").Op("*").Qual("log/slog", "Logger")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(jen.Id("o").Dot("logger").Op("=").Id("logger"))),
	)
	f.Line()
	f.Comment("WithSimulator makes a client in simulation mode use srv, so that a test keeps")
	f.Comment("the handle on its virtual clock, outages and counters; without it the")
	f.Comment("client builds one from the simulation mode's options (see SimulatorOf).")
	f.Func().Id("WithSimulator").Params(jen.Id("srv").Op("*").Qual(simulationPath, "Server")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(jen.Id("o").Dot("simulator").Op("=").Id("srv"))),
	)
	f.Line()
	f.Comment("WithMode selects the runtime mode in code, overriding the ModeEnv variable.")
	f.Func().Id("WithMode").Params(jen.Id("mode").Id("Mode")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(
			jen.Id("o").Dot("mode").Op("=").Id("mode"),
			jen.Id("o").Dot("modeSet").Op("=").True(),
		)),
	)
	f.Line()
	f.Comment("WithModeOptions sets the options of the runtime modes.")
	f.Func().Id("WithModeOptions").Params(jen.Id("mo").Id("ModeOptions")).Id("Option").Block(
		jen.Return(jen.Func().Params(jen.Id("o").Op("*").Id("options")).Block(jen.Id("o").Dot("modeOptions").Op("=").Id("mo"))),
	)
	f.Line()
}

func genNew(f *jen.File, m *model.Model) {
	coreCfg := jen.Dict{}
	for _, fd := range m.Fields {
		cf, ok := coreFields[fd.Name.Snake]
		if !ok {
			continue
		}
		v := jen.Id("cfg").Dot(fd.Name.Go)
		if cf.convert != nil {
			v = cf.convert(v)
		}
		coreCfg[jen.Id(cf.name)] = v
	}
	coreCfg[jen.Id("HTTPClient")] = jen.Id("o").Dot("httpClient")
	coreCfg[jen.Id("Storage")] = jen.Id("o").Dot("storage")
	coreCfg[jen.Id("Classify")] = jen.Id("retryableCode")
	f.Comment("New validates the configuration and returns a client in the mode chosen by")
	f.Comment("WithMode, else by the " + m.ModeEnv + " environment variable, else " + m.DefaultMode.ID.Snake + ".")
	f.Func().Id("New").Params(jen.Id("cfg").Id("Config"), jen.Id("opts").Op("...").Id("Option")).Params(jen.Id("Client"), jen.Error()).Block(
		jen.Id("o").Op(":=").Id("options").Values(jen.Dict{jen.Id("modeOptions"): jen.Id("DefaultModeOptions").Call()}),
		jen.For(jen.List(jen.Id("_"), jen.Id("opt")).Op(":=").Range().Id("opts")).Block(jen.Id("opt").Call(jen.Op("&").Id("o"))),
		jen.If(jen.Op("!").Id("o").Dot("modeSet")).Block(
			jen.Id("mode").Op(",").Id("err").Op(":=").Id("ModeFromEnv").Call(jen.Qual(configloadPath, "EnvLookup").Call()),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
			jen.Id("o").Dot("mode").Op("=").Id("mode"),
		),
		jen.If(jen.Id("err").Op(":=").Id("cfg").Dot("Validate").Call(), jen.Id("err").Op("!=").Nil()).Block(
			jen.Comment("The typed error every failure is, wrapping the list of problems."),
			jen.Return(jen.Nil(), jen.Op("&").Id("Error").Values(jen.Dict{
				jen.Id("Op"):          jen.Lit("configure"),
				jen.Id("Code"):        jen.Qual(oautherrPath, "CodeInvalidConfig"),
				jen.Id("Description"): jen.Id("err").Dot("Error").Call(),
				jen.Id("Err"):         jen.Id("err"),
			})),
		),
		jen.Id("coreCfg").Op(":=").Qual(authcorePath, "Config").Values(coreCfg),
		jen.Switch(jen.Id("o").Dot("mode")).Block(modeCases(m)...),
		jen.Return(jen.Nil(), jen.Qual(oautherrPath, "NotImplemented").Call(jen.Lit("mode ").Op("+").String().Parens(jen.Id("o").Dot("mode")))),
	)
	f.Line()
	if hasCassette(m, "record") {
		genRecordingClient(f)
	}
	for _, md := range m.Modes {
		switch md.ID.Snake {
		case "mock":
			genMockClient(f)
		case "debug":
			genDebugClient(f, m)
		case "simulation":
			genSimulatedClient(f)
		}
	}
}

// optionField maps a mode option onto a field of a runtime options struct.
type optionField struct {
	name    string
	convert func(*jen.Statement) *jen.Statement
}

var mockOptionFields = map[string]optionField{
	"response_delay_ms":      {"ResponseDelay", milliseconds},
	"failure_rate":           {"FailureRate", nil},
	"seed":                   {"Seed", func(v *jen.Statement) *jen.Statement { return jen.Int64().Parens(v) }},
	"token_lifetime_seconds": {"TokenLifetime", seconds},
	"failure_error_code":     {"FailureErrorCode", nil},
}

var simulationOptionFields = map[string]optionField{
	"token_lifetime_seconds": {"TokenLifetime", seconds},
	"latency_ms":             {"Latency", milliseconds},
	"error_rate":             {"ErrorRate", nil},
	"rotate_refresh_tokens":  {"KeepRefreshTokens", func(v *jen.Statement) *jen.Statement { return jen.Op("!").Add(v) }},
	"seed":                   {"Seed", func(v *jen.Statement) *jen.Statement { return jen.Int64().Parens(v) }},
}

var debugOptionFields = map[string]optionField{
	"trace_requests":       {"TraceRequests", nil},
	"trace_responses":      {"TraceResponses", nil},
	"performance_tracking": {"PerformanceTracking", nil},
	"log_tokens":           {"LogTokens", nil},
	"max_traces":           {"MaxTraces", nil},
}

// optionDict is the runtime options literal of a mode, from the options
// the spec declares (read from the variable mo).
func optionDict(md *model.Mode, fields map[string]optionField) jen.Dict {
	d := jen.Dict{}
	for _, o := range md.Options {
		f, ok := fields[o.Name.Snake]
		if !ok {
			continue
		}
		v := jen.Id("mo").Dot(o.Name.Go)
		if f.convert != nil {
			v = f.convert(v)
		}
		d[jen.Id(f.name)] = v
	}
	return d
}

// genMockClient emits the client of mock mode and its controls.
func genMockClient(f *jen.File) {
	f.Comment("MockController is implemented by clients in mock mode: it changes the")
	f.Comment("simulated behaviour at run time and plays the user of an authorization code")
	f.Comment("flow.")
	f.Type().Id("MockController").Interface(
		jen.Comment("SetResponseDelay delays every operation that would reach the server."),
		jen.Id("SetResponseDelay").Params(jen.Id("d").Qual("time", "Duration")).Error(),
		jen.Comment("SetFailureRate makes that share of such operations fail (0 to 1)."),
		jen.Id("SetFailureRate").Params(jen.Id("rate").Float64()).Error(),
		jen.Comment("Authorize returns the redirection a user who approves would bring back."),
		jen.Id("Authorize").Params(jen.Id("authorizationURL").String()).Params(jen.String(), jen.Error()),
		jen.Comment("Deny returns the redirection of a user who refuses (access_denied)."),
		jen.Id("Deny").Params(jen.Id("authorizationURL").String()).Params(jen.String(), jen.Error()),
		jen.Comment("Seed returns the seed of the failure sequence, to reproduce a run."),
		jen.Id("Seed").Params().Int64(),
	)
	f.Line()
	f.Comment("mockClient is the client of mock mode.")
	f.Type().Id("mockClient").Struct(jen.Op("*").Id("client"), jen.Id("mock").Op("*").Qual(mockPath, "Client"))
	f.Line()
	for _, m := range []struct {
		name    string
		params  []jen.Code
		results []jen.Code
		args    []jen.Code
	}{
		{"SetResponseDelay", []jen.Code{jen.Id("d").Qual("time", "Duration")}, []jen.Code{jen.Error()}, []jen.Code{jen.Id("d")}},
		{"SetFailureRate", []jen.Code{jen.Id("rate").Float64()}, []jen.Code{jen.Error()}, []jen.Code{jen.Id("rate")}},
		{"Authorize", []jen.Code{jen.Id("authorizationURL").String()}, []jen.Code{jen.String(), jen.Error()}, []jen.Code{jen.Id("authorizationURL")}},
		{"Deny", []jen.Code{jen.Id("authorizationURL").String()}, []jen.Code{jen.String(), jen.Error()}, []jen.Code{jen.Id("authorizationURL")}},
		{"Seed", nil, []jen.Code{jen.Int64()}, nil},
	} {
		f.Func().Params(jen.Id("c").Op("*").Id("mockClient")).Id(m.name).Params(m.params...).Params(m.results...).Block(
			jen.Return(jen.Id("c").Dot("mock").Dot(m.name).Call(m.args...)),
		)
		f.Line()
	}
}

// genDebugClient emits the client of debug mode and its inspection API.
func genDebugClient(f *jen.File, m *model.Model) {
	f.Comment("OperationStats are the timing statistics of one operation in debug mode.")
	f.Type().Id("OperationStats").Op("=").Qual(debugPath, "OperationStats")
	f.Line()
	f.Comment("DebugInfo is what ExportDebugInfo returns; it serialises to JSON and holds no")
	f.Comment("secret or token value.")
	f.Type().Id("DebugInfo").Op("=").Qual(debugPath, "DebugInfo")
	f.Line()
	f.Comment("Trace is one recorded exchange with the authorization server, redacted.")
	f.Type().Id("Trace").Op("=").Qual(debugPath, "Trace")
	f.Line()
	f.Comment("DebugInspector is implemented by clients in debug mode.")
	f.Type().Id("DebugInspector").Interface(
		jen.Comment("PerformanceStats returns the statistics of every operation called so"),
		jen.Comment("far, keyed by the spec's operation ids."),
		jen.Id("PerformanceStats").Params().Map(jen.String()).Id("OperationStats"),
		jen.Comment("ExportDebugInfo returns the configuration with secrets redacted, the"),
		jen.Comment("statistics, the recent traces and the current token's metadata."),
		jen.Id("ExportDebugInfo").Params().Op("*").Id("DebugInfo"),
		jen.Comment("Traces returns the recent exchanges with the authorization server."),
		jen.Id("Traces").Params().Index().Id("Trace"),
	)
	f.Line()
	f.Comment("debugClient is the client of debug mode.")
	f.Type().Id("debugClient").Struct(
		jen.Op("*").Id("client"),
		jen.Id("debugger").Op("*").Qual(debugPath, "Debugger"),
		jen.Id("config").Map(jen.String()).Any(),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("debugClient")).Id("PerformanceStats").Params().Map(jen.String()).Id("OperationStats").Block(
		jen.Return(jen.Id("c").Dot("debugger").Dot("Stats").Call()),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("debugClient")).Id("ExportDebugInfo").Params().Op("*").Id("DebugInfo").Block(
		jen.Return(jen.Id("c").Dot("debugger").Dot("ExportDebugInfo").Call(jen.Id("c").Dot("config"), jen.Id("c").Dot("core").Dot("CurrentToken").Call())),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("debugClient")).Id("Traces").Params().Index().Id("Trace").Block(
		jen.Return(jen.Id("c").Dot("debugger").Dot("Traces").Call()),
	)
	f.Line()
	d := jen.Dict{}
	for _, fd := range m.Fields {
		d[jen.Lit(fd.YAMLKey)] = jen.Id("c").Dot(fd.Name.Go)
	}
	f.Comment("debugMap is the configuration keyed as in the YAML file, for ExportDebugInfo;")
	f.Comment("secrets stay secret.Secret values, which the export redacts.")
	f.Func().Params(jen.Id("c").Op("*").Id("Config")).Id("debugMap").Params().Map(jen.String()).Any().Block(
		jen.Return(jen.Map(jen.String()).Any().Values(d)),
	)
	f.Line()
}

// newCore is the statement list that builds the runtime core from coreCfg
// and returns the client that wrap makes of it.
func newCore(wrap func(core jen.Code) jen.Code) []jen.Code {
	return []jen.Code{
		jen.List(jen.Id("core"), jen.Id("err")).Op(":=").Qual(authcorePath, "New").Call(jen.Id("coreCfg")),
		jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
		jen.Return(wrap(jen.Op("&").Id("client").Values(jen.Dict{jen.Id("core"): jen.Id("core")})), jen.Nil()),
	}
}

// hasCassette reports whether the spec declares mode id with a
// cassette_path option.
func hasCassette(m *model.Model, id string) bool {
	for _, md := range m.Modes {
		if md.ID.Snake != id {
			continue
		}
		for _, o := range md.Options {
			if o.Name.Snake == "cassette_path" {
				return true
			}
		}
	}
	return false
}

// modeCases builds the client of each mode the runtime implements; a
// declared mode without a case is refused at run time as not implemented.
func modeCases(m *model.Model) []jen.Code {
	same := func(core jen.Code) jen.Code { return core }
	var cases []jen.Code
	for _, md := range m.Modes {
		var body []jen.Code
		switch md.ID.Snake {
		case "real":
			body = newCore(same)
		case "record":
			if !hasCassette(m, "record") {
				continue
			}
			body = append([]jen.Code{
				jen.Id("rec").Op(":=").Op("&").Qual(cassettePath, "Recorder").Values(jen.Dict{
					jen.Id("Path"):       jen.Id("o").Dot("modeOptions").Dot(md.ID.Go).Dot("CassettePath"),
					jen.Id("SDKVersion"): jen.Id("Version"),
				}),
				jen.Id("coreCfg").Dot("WrapTransport").Op("=").Id("rec").Dot("Wrap"),
			}, newCore(func(core jen.Code) jen.Code {
				return jen.Op("&").Id("recordingClient").Values(jen.Dict{jen.Id("client"): core, jen.Id("recorder"): jen.Id("rec")})
			})...)
		case "replay":
			if !hasCassette(m, "replay") {
				continue
			}
			body = append([]jen.Code{
				jen.List(jen.Id("cas"), jen.Id("err")).Op(":=").Qual(cassettePath, "Load").Call(jen.Id("o").Dot("modeOptions").Dot(md.ID.Go).Dot("CassettePath")),
				jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
				jen.List(jen.Id("replayer"), jen.Id("err")).Op(":=").Qual(cassettePath, "NewReplayer").Call(jen.Id("cas")),
				jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
				jen.Id("coreCfg").Dot("WrapTransport").Op("=").Id("replayer").Dot("Wrap"),
				jen.Id("coreCfg").Dot("Retryable").Op("=").Qual(cassettePath, "Retryable"),
			}, newCore(same)...)
		case "mock":
			opts := optionDict(md, mockOptionFields)
			body = []jen.Code{
				jen.Id("mo").Op(":=").Id("o").Dot("modeOptions").Dot(md.ID.Go),
				jen.List(jen.Id("m"), jen.Id("err")).Op(":=").Qual(mockPath, "New").Call(jen.Id("coreCfg"), jen.Qual(mockPath, "Options").Values(opts)),
				jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
				jen.Return(jen.Op("&").Id("mockClient").Values(jen.Dict{
					jen.Id("client"): jen.Op("&").Id("client").Values(jen.Dict{jen.Id("core"): jen.Id("m")}),
					jen.Id("mock"):   jen.Id("m"),
				}), jen.Nil()),
			}
		case "debug":
			opts := optionDict(md, debugOptionFields)
			opts[jen.Id("Logger")] = jen.Id("o").Dot("logger")
			var secrets []jen.Code
			for _, fd := range m.Fields {
				if fd.Secret {
					secrets = append(secrets, jen.Lit(fd.YAMLKey))
				}
			}
			opts[jen.Id("SecretConfigFields")] = jen.Index().String().Values(secrets...)
			body = []jen.Code{
				jen.Id("mo").Op(":=").Id("o").Dot("modeOptions").Dot(md.ID.Go),
				jen.List(jen.Id("d"), jen.Id("err")).Op(":=").Qual(debugPath, "New").Call(jen.Qual(debugPath, "Options").Values(opts)),
				jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
				jen.Id("coreCfg").Dot("WrapTransport").Op("=").Id("d").Dot("WrapTransport"),
				jen.List(jen.Id("core"), jen.Id("err")).Op(":=").Qual(authcorePath, "New").Call(jen.Id("coreCfg")),
				jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
				jen.Return(jen.Op("&").Id("debugClient").Values(jen.Dict{
					jen.Id("client"):   jen.Op("&").Id("client").Values(jen.Dict{jen.Id("core"): jen.Id("core"), jen.Id("stats"): jen.Id("d")}),
					jen.Id("debugger"): jen.Id("d"),
					jen.Id("config"):   jen.Id("cfg").Dot("debugMap").Call(),
				}), jen.Nil()),
			}
		case "simulation":
			opts := optionDict(md, simulationOptionFields)
			body = append([]jen.Code{
				jen.Id("mo").Op(":=").Id("o").Dot("modeOptions").Dot(md.ID.Go),
				jen.Id("sim").Op(":=").Id("o").Dot("simulator"),
				jen.If(jen.Id("sim").Op("==").Nil()).Block(
					jen.Var().Id("err").Error(),
					jen.If(jen.List(jen.Id("sim"), jen.Id("err")).Op("=").Qual(simulationPath, "New").Call(jen.Qual(simulationPath, "Config").Values(opts)), jen.Id("err").Op("!=").Nil()).Block(
						jen.Return(jen.Nil(), jen.Id("err")),
					),
				),
				jen.Id("coreCfg").Dot("WrapTransport").Op("=").Id("sim").Dot("WrapTransport"),
				jen.Id("coreCfg").Dot("Clock").Op("=").Id("sim").Dot("Clock").Call(),
			}, newCore(func(core jen.Code) jen.Code {
				return jen.Op("&").Id("simulatedClient").Values(jen.Dict{jen.Id("client"): core, jen.Id("server"): jen.Id("sim")})
			})...)
		default:
			continue
		}
		cases = append(cases, jen.Case(jen.Id(modeConst(md))).Block(body...))
	}
	return cases
}

// genRecordingClient emits the client of record mode: Close writes the
// cassette after the core's last exchange (revoke_on_close included).
func genRecordingClient(f *jen.File) {
	f.Comment("CassetteRecorder is implemented by clients in record mode.")
	f.Type().Id("CassetteRecorder").Interface(
		jen.Comment("SaveCassette writes the exchanges recorded so far, atomically."),
		jen.Id("SaveCassette").Params().Error(),
	)
	f.Line()
	f.Comment("recordingClient is the client of record mode.")
	f.Type().Id("recordingClient").Struct(
		jen.Op("*").Id("client"),
		jen.Id("recorder").Op("*").Qual(cassettePath, "Recorder"),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("recordingClient")).Id("SaveCassette").Params().Error().Block(
		jen.Return(jen.Id("c").Dot("recorder").Dot("Save").Call()),
	)
	f.Line()
	f.Func().Params(jen.Id("c").Op("*").Id("recordingClient")).Id("Close").Params().Error().Block(
		jen.Id("err").Op(":=").Id("c").Dot("client").Dot("Close").Call(),
		jen.If(jen.Id("cerr").Op(":=").Id("c").Dot("recorder").Dot("Close").Call(), jen.Id("err").Op("==").Nil()).Block(jen.Id("err").Op("=").Id("cerr")),
		jen.Return(jen.Id("err")),
	)
	f.Line()
}

// genInterop emits the adapters to golang.org/x/oauth2 and net/http.
func genInterop(f *jen.File) {
	f.Comment("TokenSource adapts c to golang.org/x/oauth2's TokenSource, for libraries")
	f.Comment("that take one; ctx bounds every token request the adapter makes.")
	f.Func().Id("TokenSource").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("c").Id("Client")).Qual("golang.org/x/oauth2", "TokenSource").Block(
		jen.Return(jen.Qual(transportPath, "TokenSource").Call(jen.Id("ctx"), jen.Id("c"))),
	)
	f.Line()
	f.Comment("Transport returns an http.RoundTripper that sends each request through base")
	f.Comment("(http.DefaultTransport when nil) with c's token in the Authorization header,")
	f.Comment("and retries once with a new token when the resource server answers 401.")
	f.Func().Id("Transport").Params(jen.Id("c").Id("Client"), jen.Id("base").Qual("net/http", "RoundTripper")).Qual("net/http", "RoundTripper").Block(
		jen.Id("t").Op(":=").Op("&").Qual(transportPath, "Transport").Values(jen.Dict{jen.Id("Source"): jen.Id("c"), jen.Id("Base"): jen.Id("base")}),
		jen.If(jen.List(jen.Id("inv"), jen.Id("ok")).Op(":=").Id("c").Assert(jen.Interface(jen.Id("invalidate").Params(jen.Op("*").Id("Token")))), jen.Id("ok")).Block(
			jen.Id("t").Dot("Invalidate").Op("=").Id("inv").Dot("invalidate"),
		),
		jen.Return(jen.Id("t")),
	)
}

// genCore emits the interface the client delegates to, implemented by the
// runtime core and by the mock.
func genCore(f *jen.File, m *model.Model) {
	var methods []jen.Code
	for _, op := range m.Operations {
		methods = append(methods, jen.Id(op.ID.Go).Params(params(op)...).Params(results(op)...))
	}
	methods = append(methods,
		jen.Id("Token").Params(jen.Id("ctx").Qual("context", "Context")).Params(jen.Op("*").Id("Token"), jen.Error()),
		jen.Id("CurrentToken").Params().Op("*").Id("Token"),
		jen.Id("Invalidate").Params(jen.Op("*").Id("Token")).Bool(),
		jen.Id("Close").Params().Error(),
	)
	f.Comment("core runs the operations: the runtime core (authcore) in every mode that")
	f.Comment("speaks HTTP, the mock in mode mock.")
	f.Type().Id("core").Interface(methods...)
	f.Line()
}

// genObserved emits a client method that delegates to the core and, in
// debug mode, records the call under the spec's operation id.
func genObserved(f *jen.File, name, opID string, params, results, args []jen.Code) {
	call := jen.Id("c").Dot("core").Dot(name).Call(args...)
	traced := append([]jen.Code{jen.Qual(debugPath, "WithOperation").Call(jen.Id("ctx"), jen.Lit(opID))}, args[1:]...)
	if name == "Token" {
		traced = args // the hot path stays free of allocations
	}
	var names []jen.Code
	for i := range results {
		if i == len(results)-1 {
			names = append(names, jen.Id("err"))
		} else {
			names = append(names, jen.Id(fmt.Sprintf("r%d", i)))
		}
	}
	f.Func().Params(jen.Id("c").Op("*").Id("client")).Id(name).Params(params...).Params(results...).Block(
		jen.If(jen.Id("c").Dot("stats").Op("==").Nil()).Block(jen.Return(call)),
		jen.Id("start").Op(":=").Qual("time", "Now").Call(),
		jen.List(names...).Op(":=").Id("c").Dot("core").Dot(name).Call(traced...),
		jen.Id("c").Dot("stats").Dot("Observe").Call(jen.Lit(opID), jen.Qual("time", "Since").Call(jen.Id("start")), jen.Id("err")),
		jen.Return(names...),
	)
	f.Line()
}

// genSimulatedClient emits the client of simulation mode and the access to
// its simulated server.
func genSimulatedClient(f *jen.File) {
	f.Comment("SimulatedServer is the in-process authorization server of simulation mode:")
	f.Comment("its virtual clock (Clock().Advance), outages (AddOutage), injected faults")
	f.Comment("(Inject) and counters (Stats).")
	f.Type().Id("SimulatedServer").Op("=").Qual(simulationPath, "Server")
	f.Line()
	f.Comment("SimulationConfig configures a SimulatedServer built with NewSimulatedServer.")
	f.Type().Id("SimulationConfig").Op("=").Qual(simulationPath, "Config")
	f.Line()
	for _, alias := range []struct{ name, target, doc string }{
		{"SimulatedOutage", "Outage", "SimulatedOutage takes endpoints of a SimulatedServer down for a window of virtual time (AddOutage)."},
		{"SimulatedFault", "Fault", "SimulatedFault is a failure a SimulatedServer answers to the next matching requests (Inject)."},
		{"SimulatedEndpoint", "Endpoint", "SimulatedEndpoint names an endpoint of a SimulatedServer: token, authorization, revocation, introspection or metadata."},
		{"SimulationStats", "Stats", "SimulationStats are the counters of a SimulatedServer (Stats)."},
	} {
		f.Comment(alias.doc)
		f.Type().Id(alias.name).Op("=").Qual(simulationPath, alias.target)
		f.Line()
	}
	f.Comment("NewSimulatedServer returns a simulated authorization server on a virtual")
	f.Comment("clock, for WithSimulator.")
	f.Func().Id("NewSimulatedServer").Params(jen.Id("cfg").Id("SimulationConfig")).Params(jen.Op("*").Id("SimulatedServer"), jen.Error()).Block(
		jen.Return(jen.Qual(simulationPath, "New").Call(jen.Id("cfg"))),
	)
	f.Line()
	f.Comment("SimulatorOf returns the simulated server of a client in simulation mode, or")
	f.Comment("nil for a client in another mode.")
	f.Func().Id("SimulatorOf").Params(jen.Id("c").Id("Client")).Op("*").Id("SimulatedServer").Block(
		jen.If(jen.List(jen.Id("s"), jen.Id("ok")).Op(":=").Id("c").Assert(jen.Op("*").Id("simulatedClient")), jen.Id("ok")).Block(jen.Return(jen.Id("s").Dot("server"))),
		jen.Return(jen.Nil()),
	)
	f.Line()
	f.Comment("simulatedClient is the client of simulation mode.")
	f.Type().Id("simulatedClient").Struct(jen.Op("*").Id("client"), jen.Id("server").Op("*").Qual(simulationPath, "Server"))
	f.Line()
}
