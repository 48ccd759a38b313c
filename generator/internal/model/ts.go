package model

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// The npm packages the TypeScript package depends on, pinned exactly: yaml
// (eemeli/yaml) and, with the runtime, jose (panva/jose, which signs the
// client's JWTs) and undici (the HTTP client of Node's fetch, whose Agent
// carries the TLS settings and the mutual-TLS client certificate; the major
// version Node 20 bundles) at run time; the compiler and Node's type
// declarations to build and test; prettier, eslint with its JavaScript
// rules and typescript-eslint for the format and lint gate.
const (
	tsYAMLVersion       = "2.9.1"
	tsJoseVersion       = "6.2.19"
	tsUndiciVersion     = "6.29.1"
	tsTypeScriptVersion = "5.9.3"
	tsNodeTypesVersion  = "20.19.43"
	tsPrettierVersion   = "3.10.1"
	tsESLintVersion     = "10.16.0"
	tsESLintJSVersion   = "10.0.1"
	tsTSESLintVersion   = "8.74.0"
	tsNodeEngine        = ">=20"
	// openid-client is what benchmarks/bench-token.ts compares the
	// package with; benchmarks/package.json pins it, apart from the
	// package's own dependencies.
	tsOpenIDClientVersion = "6.8.9"
)

// tsWidth is the line width the TypeScript output is laid out for, as
// prettier lays it out by default.
const tsWidth = 80

func tsField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "boolean", Default: strconvBool(defaultBool(f)), Parse: "parseBool"}
	case "int", "duration":
		return TypedValue{Type: "number", Default: strconvInt(defaultInt(f)), Parse: "parseInteger"}
	case "float":
		return TypedValue{Type: "number", Default: tsNumber(defaultFloat(f)), Parse: "parseNumber"}
	case "list":
		return TypedValue{Type: "string[]", Default: listLiteral(defaultList(f), "[", "]"), Parse: "parseList"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "." + v.Names.Pascal, Parse: "parseEnum"}
	}
	return TypedValue{Type: "string", Default: quote(defaultString(f)), Parse: "parseString"}
}

func tsArg(a *Arg) TypedValue {
	switch a.Kind {
	case "bool":
		return TypedValue{Type: "boolean"}
	case "int":
		return TypedValue{Type: "number"}
	case "list":
		return TypedValue{Type: "string[]"}
	}
	return TypedValue{Type: "string"}
}

func tsOperation(op *Operation) OperationSig {
	var r string
	switch op.Result {
	case "auth_result":
		r = "AuthResult"
	case "token":
		r = "AuthToken | null"
	case "authorization_request":
		r = "AuthorizationRequest"
	case "bool":
		r = "boolean"
	case "introspection":
		r = "IntrospectionResult"
	default:
		r = "void"
	}
	return OperationSig{Name: op.ID.Camel, AsyncName: op.ID.Camel, Result: r, AsyncResult: "Promise<" + r + ">"}
}

func tsFiles(m *Model) []File {
	v := newTSView(m)
	files := []File{
		{Path: "package.json", Template: "package.json.tmpl"},
		{Path: "tsconfig.json", Template: "tsconfig.json.tmpl"},
		{Path: "tsconfig.test.json", Template: "tsconfig.test.json.tmpl"},
		{Path: ".npmrc", Template: "npmrc.tmpl"},
		{Path: ".gitignore", Template: "gitignore.tmpl"},
		{Path: "eslint.config.js", Template: "eslint.config.js.tmpl"},
		{Path: "README.md", Template: "README.md.tmpl"},
		{Path: "src/index.ts", Template: "src/index.ts.tmpl"},
		{Path: "src/enums.ts", Template: "src/enums.ts.tmpl"},
		{Path: "src/errors.ts", Template: "src/errors.ts.tmpl"},
		{Path: "src/parse.ts", Template: "src/parse.ts.tmpl"},
		{Path: "src/fields.ts", Template: "src/fields.ts.tmpl"},
		{Path: "src/config.ts", Template: "src/config.ts.tmpl"},
		{Path: "src/modes.ts", Template: "src/modes.ts.tmpl"},
		{Path: "src/tokens.ts", Template: "src/tokens.ts.tmpl"},
		{Path: "src/storage.ts", Template: "src/storage.ts.tmpl"},
		{Path: "src/client.ts", Template: "src/client.ts.tmpl"},
		{Path: "examples/load-config.ts", Template: "examples/load-config.ts.tmpl"},
		{Path: "tests/helpers.ts", Template: "tests/helpers.ts.tmpl"},
		{Path: "tests/config.test.ts", Template: "tests/config.test.ts.tmpl"},
		{Path: "tests/errors.test.ts", Template: "tests/errors.test.ts.tmpl"},
		{Path: "tests/modes.test.ts", Template: "tests/modes.test.ts.tmpl"},
		{Path: "tests/tokens.test.ts", Template: "tests/tokens.test.ts.tmpl"},
	}
	if v.HasRuntime {
		files = append(files,
			File{Path: "src/protocol.ts", Template: "src/protocol.ts.tmpl"},
			File{Path: "src/signing.ts", Template: "src/signing.ts.tmpl"},
			File{Path: "src/stores.ts", Template: "src/stores.ts.tmpl"},
			File{Path: "src/transport.ts", Template: "src/transport.ts.tmpl"},
			File{Path: "src/real.ts", Template: "src/real.ts.tmpl"},
			File{Path: "src/factory.ts", Template: "src/factory.ts.tmpl"},
			File{Path: "src/cassette.ts", Template: "src/cassette.ts.tmpl"},
			File{Path: "tests/cassette.test.ts", Template: "tests/cassette.test.ts.tmpl"},
			File{Path: "src/logging.ts", Template: "src/logging.ts.tmpl"},
			File{Path: "src/debug.ts", Template: "src/debug.ts.tmpl"},
			File{Path: "tests/debug.test.ts", Template: "tests/debug.test.ts.tmpl"},
			File{Path: "tests/servers.ts", Template: "tests/servers.ts.tmpl"},
			File{Path: "tests/real.test.ts", Template: "tests/real.test.ts.tmpl"},
			File{Path: "tests/faults.test.ts", Template: "tests/faults.test.ts.tmpl"},
			File{Path: "tests/authcode.test.ts", Template: "tests/authcode.test.ts.tmpl"},
			File{Path: "tests/storage.test.ts", Template: "tests/storage.test.ts.tmpl"},
			File{Path: "tests/driver.test.ts", Template: "tests/driver.test.ts.tmpl"},
			File{Path: "conformance/driver.ts", Template: "conformance/driver.ts.tmpl"},
			File{Path: "tests/mtls.test.ts", Template: "tests/mtls.test.ts.tmpl"},
			File{Path: "tests/transport.test.ts", Template: "tests/transport.test.ts.tmpl"},
			File{Path: "src/mock.ts", Template: "src/mock.ts.tmpl"},
			File{Path: "tests/mock.test.ts", Template: "tests/mock.test.ts.tmpl"},
			File{Path: "src/simulation-clock.ts", Template: "src/simulation-clock.ts.tmpl"},
			File{Path: "src/simulation.ts", Template: "src/simulation.ts.tmpl"},
			File{Path: "tests/simulation.test.ts", Template: "tests/simulation.test.ts.tmpl"},
			File{Path: "tests/factory.test.ts", Template: "tests/factory.test.ts.tmpl"},
			File{Path: "tests/readme.test.ts", Template: "tests/readme.test.ts.tmpl"},
			File{Path: "benchmarks/package.json", Template: "benchmarks/package.json.tmpl"},
			File{Path: "benchmarks/tsconfig.json", Template: "benchmarks/tsconfig.json.tmpl"},
			File{Path: "benchmarks/bench-token.ts", Template: "benchmarks/bench-token.ts.tmpl"},
		)
	}
	for i := range files {
		files[i].Lang = "ts"
		files[i].Data = v
	}
	return files
}

// TSView is what every TypeScript template receives: the model plus the
// TypeScript spellings, literals, doc comments, table layouts and test
// data worked out from it. Fields named ...Lines are finished lines of
// code, laid out as prettier lays them out.
type TSView struct {
	M *Model

	Package     string // the npm package name
	PackageJSON string // the npm package name as a JSON string
	NoticeJSON  string // the generated-code notice as a JSON string
	VersionJSON string
	DescJSON    string
	LicenseJSON string
	NodeJSON    string // the supported Node versions as a JSON string
	Node        string // the supported Node versions as written
	Title       string
	PackageDoc  []string // the package's doc comment lines
	Deps        []TSDep  // dependencies
	DevDeps     []TSDep  // devDependencies
	BenchDeps   []TSDep  // dependencies of benchmarks/package.json

	YAMLRoot     string
	YAMLRootLit  string
	EnvPrefix    string
	EnvPrefixLit string
	ModeEnv      string
	ModeEnvLit   string

	Enums []*TSEnum
	// ConfigEnums are the enums some config field is typed with, sorted.
	ConfigEnums []*TSEnum
	// ConfigParsers are the parse functions the config fields use, sorted.
	ConfigParsers []string
	Fields        []*TSField
	// FieldTableLines declares configFields, the table of every field.
	FieldTableLines []string
	// FlowRequirementLines and ValueRequirementLines declare
	// flowRequirements and valueRequirements.
	FlowRequirementLines  []string
	ValueRequirementLines []string
	// AuthModeKey and ClientAuthMethodKey are the config keys (as TS
	// string literals) of the fields typed with those enums; empty when
	// the spec has no such field.
	AuthModeKey         string
	ClientAuthMethodKey string

	ErrorTableLines []string
	Errors          []*TSError

	Modes   []*TSMode
	Default *TSMode // the default runtime mode
	// ModeOptionFieldLines declare modeOptionFields, each mode's options.
	ModeOptionFieldLines []string

	Operations []*TSOperation
	// ClientTokenImports are the result types the client interface names.
	ClientTokenImports []string
	// TokenOperation is the operation that returns a valid token, or "".
	TokenOperation string

	// Import and export statements whose names depend on the spec.
	ClientImportLines     []string
	ConfigEnumImportLines []string
	ParserImportLines     []string
	EnumExportLines       []string
	ModeExportLines       []string
	TestConfigImportLines []string
	ReadmeImportLines     []string

	// RefreshBufferSeconds is the default buffer of AuthToken.needsRefresh:
	// the default of the refresh_buffer_seconds field, else 300.
	RefreshBufferSeconds string

	// Rt is what the runtime templates (protocol.ts, real.ts, factory.ts
	// and their tests) read, by spec name; HasRuntime is true when the spec
	// declares every name they read and no operation they do not implement.
	Rt         TSRuntime
	HasRuntime bool

	Readme *TSReadme
	Test   *TSTest
}

// TSRuntime maps the spec's names to their TypeScript spelling for the
// runtime templates, which look them up by spec name so that a renamed or
// missing name fails generation (missingkey=error).
type TSRuntime struct {
	Key  map[string]string // config property by field name
	Env  map[string]string // environment variable by field name
	Code map[string]string // ErrorCode member expression by code
	// MethodType and AuthModeType name the enums of client_auth_method and
	// auth_mode.
	MethodType, AuthModeType string
	// Opt is the options property of each runtime mode's option, by mode id
	// then option name.
	Opt map[string]map[string]string
}

// tsRuntimeNeeds are the spec names the TypeScript runtime reads, and the
// operations it implements.
var tsRuntimeNeeds = struct {
	keys, codes, methods, authModes, operations []string
	// modeOptions are the runtime modes the runtime implements, each with
	// the options it reads.
	modeOptions map[string][]string
}{
	modeOptions: map[string][]string{
		"record":     {"cassette_path"},
		"replay":     {"cassette_path"},
		"debug":      {"trace_requests", "trace_responses", "performance_tracking", "log_tokens", "max_traces"},
		"mock":       {"response_delay_ms", "failure_rate", "seed", "token_lifetime_seconds", "failure_error_code"},
		"simulation": {"token_lifetime_seconds", "latency_ms", "error_rate", "rotate_refresh_tokens", "seed"},
	},
	codes: []string{"canceled", "invalid_config", "invalid_grant", "invalid_issuer", "invalid_request", "invalid_response",
		"invalid_state", "login_required", "network_error", "not_implemented", "server_error", "storage_error",
		"temporarily_unavailable", "invalid_token"},
	keys: []string{"auth_mode", "auto_refresh", "client_auth_method", "client_id", "client_secret", "default_scopes",
		"discovery", "introspection_url", "max_retries", "refresh_buffer_seconds", "revocation_url", "revoke_on_close",
		"server_url", "timeout_ms", "token_url", "authorization_url", "jwt_signing_key_path", "jwt_algorithm",
		"jwt_key_id", "jwt_issuer", "jwt_audience", "jwt_lifetime_seconds", "token_storage_path", "token_storage_key",
		"redirect_uri", "verify_ssl", "ca_cert_path", "client_cert_path", "client_key_path"},
	methods: []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth",
		"self_signed_tls_client_auth"},
	authModes: []string{"client_credentials", "jwt_bearer", "authorization_code", "authorization_code_pkce",
		"client_credentials_mtls"},
	operations: []string{"authenticate_client_credentials", "start_authorization_code_flow", "authenticate_authorization_code",
		"complete_authorization_code_flow", "authenticate_jwt_bearer", "refresh_token", "get_valid_token", "revoke_token",
		"introspect_token", "test_connection", "clear_tokens"},
}

func newTSRuntime(m *Model) (TSRuntime, bool) {
	rt := TSRuntime{Key: map[string]string{}, Env: map[string]string{}, Code: map[string]string{}}
	for _, f := range m.Fields {
		rt.Key[f.Name.Snake] = f.Name.Camel
		rt.Env[f.Name.Snake] = f.Env
	}
	for _, e := range m.Errors {
		rt.Code[e.Code] = "ErrorCode." + e.Names.Pascal
	}
	ok := m.ClientAuthMethodEnum != nil && m.AuthModeEnum != nil
	for _, code := range tsRuntimeNeeds.codes {
		if _, found := rt.Code[code]; !found {
			ok = false
		}
	}
	if ok {
		rt.MethodType = m.ClientAuthMethodEnum.Name.Pascal
		rt.AuthModeType = m.AuthModeEnum.Name.Pascal
		ok = tsHasValues(m.ClientAuthMethodEnum, tsRuntimeNeeds.methods) && tsHasValues(m.AuthModeEnum, tsRuntimeNeeds.authModes)
	}
	for _, k := range tsRuntimeNeeds.keys {
		if _, found := rt.Key[k]; !found {
			ok = false
		}
	}
	real := false
	rt.Opt = map[string]map[string]string{}
	for _, md := range m.Modes {
		real = real || md.ID.Snake == "real"
		opts := map[string]string{}
		for _, o := range md.Options {
			opts[o.Name.Snake] = o.Name.Camel
		}
		rt.Opt[md.ID.Snake] = opts
	}
	ok = ok && real
	for mode, names := range tsRuntimeNeeds.modeOptions {
		for _, name := range names {
			if _, found := rt.Opt[mode][name]; !found {
				ok = false
			}
		}
	}
	for _, op := range m.Operations {
		known := false
		for _, id := range tsRuntimeNeeds.operations {
			known = known || op.ID.Snake == id
		}
		ok = ok && known
	}
	return rt, ok
}

func tsHasValues(e *Enum, values []string) bool {
	for _, want := range values {
		found := false
		for _, ev := range e.Values {
			found = found || ev.Value == want
		}
		if !found {
			return false
		}
	}
	return true
}

// TSDep is a pinned npm dependency, as JSON strings.
type TSDep struct {
	Name, Version string
	Comma         string // "," unless last
}

// TSField is a config field or mode option as TypeScript declares it.
type TSField struct {
	F       *Field
	Key     string // camelCase property
	Name    string // snake_case name, as in the spec and YAML
	Type    string
	Default string   // TypeScript literal
	Doc     []string // doc comment lines for two spaces of indent
	// ClassLines declare the field with its default in a class body.
	ClassLines []string
	spec       tsObj
}

// TSEnum is a closed set of string values: a frozen object of members and
// a union type of the same name.
type TSEnum struct {
	Name       string   // Pascal type and object name
	Doc        []string // at top level
	ValuesVar  string   // authModeValues
	Guard      string   // isAuthMode
	GuardLines []string // the guard's signature line(s), up to "{"
	Members    []*TSEnumMember
}

// TSEnumMember is one value of a TSEnum.
type TSEnumMember struct {
	Name  string // Pascal member name
	Value string // TS string literal
	Doc   []string
}

// TSError is an error code.
type TSError struct {
	Member    string // Pascal member of ErrorCode
	Code      string // TS string literal
	Retryable bool
	Doc       []string
}

// TSMode is a runtime mode.
type TSMode struct {
	Member      string // Pascal member of RuntimeMode
	Value       string // TS string literal
	Raw         string
	Doc         []string
	OptionsType string // MockModeOptions
	DefaultsVar string // defaultMockModeOptions
	Options     []*TSField
	OptionsDoc  []string // the options interface's doc comment
}

// TSOperation is a client operation as a method of the client interface.
type TSOperation struct {
	Doc  []string
	Decl string // the method signature, laid out for two spaces of indent
}

// TSReadme is the README's generated parts.
type TSReadme struct {
	YAML       []string // an example configuration file
	Fields     []string // Markdown table lines
	Enums      []string // list items
	Modes      []string
	Errors     []string
	Operations []string
}

// TSTest is the data of the generated smoke tests, as declarations.
type TSTest struct {
	// Config tests.
	DefaultsLines  []string
	SpellingALines []string
	SpellingBLines []string
	BadEnvLines    []string
	// Precedence: set when the spec has three fields for it.
	HasPrecedence      bool
	PrecedenceLines    []string
	UnknownKeyYAML     []string
	RequiredLines      []string
	RequiredNamesLines []string
	CompleteLines      []string
	BoundsLines        []string
	URLLines           []string // urlFields: every url field; nil when none
	FlowLines          []string
	SecretLines        []string // nil when no secret field
	SecretYAML         []string
	SecretValue        string

	// ValueRuleLines declare valueCases: for each enum value that needs
	// other fields, a configuration without them and the exact problems
	// validate() reports. MethodRuleLines declare methodCases: each flow
	// with each client auth method it allows (no problem) and with one it
	// does not (that problem). Nil when there is no such case.
	ValueRuleLines  []string
	MethodRuleLines []string
	// MiscasedLines declare miscased: each config enum field with a value
	// spelled in another case, which must be refused.
	MiscasedLines []string

	// Mode tests.
	ModeValuesLines   []string
	ModeSpellingLines []string // miscasedModes: each mode in another case
	ModeDefaultsLines []string
	ModeOverrideLines []string // nil when no option
	ModeBoundsLines   []string
	BadMode           string

	// Error tests.
	ErrorLines   []string
	NonRetryable string // a code that is not retryable, or ""
}

func newTSView(m *Model) *TSView {
	v := &TSView{
		M:            m,
		Package:      m.TS.Package,
		PackageJSON:  tsJSON(m.TS.Package),
		NoticeJSON:   tsJSON(m.Notice),
		VersionJSON:  tsJSON(m.Version),
		DescJSON:     tsJSON(m.Description),
		LicenseJSON:  tsJSON(m.License),
		NodeJSON:     tsJSON(tsNodeEngine),
		Node:         tsNodeEngine,
		Title:        m.Title,
		YAMLRoot:     m.YAMLRoot,
		YAMLRootLit:  quote(m.YAMLRoot),
		EnvPrefix:    m.EnvPrefix,
		EnvPrefixLit: quote(m.EnvPrefix),
		ModeEnv:      m.ModeEnv,
		ModeEnvLit:   quote(m.ModeEnv),
	}
	if v.Title == "" {
		v.Title = m.TS.Package
	}
	v.PackageDoc = tsDoc(0, v.Title+": "+m.Description)
	v.Rt, v.HasRuntime = newTSRuntime(m)
	if v.HasRuntime {
		v.Deps = tsDeps([][2]string{{"jose", tsJoseVersion}, {"undici", tsUndiciVersion}, {"yaml", tsYAMLVersion}})
	} else {
		v.Deps = tsDeps([][2]string{{"yaml", tsYAMLVersion}})
	}
	v.DevDeps = tsDeps([][2]string{{"@eslint/js", tsESLintJSVersion}, {"@types/node", tsNodeTypesVersion},
		{"eslint", tsESLintVersion}, {"prettier", tsPrettierVersion}, {"typescript", tsTypeScriptVersion},
		{"typescript-eslint", tsTSESLintVersion}})

	v.BenchDeps = tsDeps([][2]string{{"openid-client", tsOpenIDClientVersion}})

	enums := map[*Enum]*TSEnum{}
	for _, e := range m.Enums {
		te := newTSEnum(e)
		enums[e] = te
		v.Enums = append(v.Enums, te)
	}

	parsers := map[string]bool{}
	var table tsArr
	for _, f := range m.Fields {
		tf := newTSField(f, m.YAMLRoot, enums)
		v.Fields = append(v.Fields, tf)
		table = append(table, tf.spec)
		parsers[f.TS.Parse] = true
		if f.Enum != nil && !tsContainsEnum(v.ConfigEnums, enums[f.Enum]) {
			v.ConfigEnums = append(v.ConfigEnums, enums[f.Enum])
		}
		if f.Enum != nil && f.Enum == m.AuthModeEnum && v.AuthModeKey == "" {
			v.AuthModeKey = quote(tf.Key)
		}
		if f.Enum != nil && f.Enum == m.ClientAuthMethodEnum && v.ClientAuthMethodKey == "" {
			v.ClientAuthMethodKey = quote(tf.Key)
		}
	}
	sort.Slice(v.ConfigEnums, func(i, j int) bool {
		return strings.ToLower(v.ConfigEnums[i].Name) < strings.ToLower(v.ConfigEnums[j].Name)
	})
	for p := range parsers {
		v.ConfigParsers = append(v.ConfigParsers, p)
	}
	sort.Strings(v.ConfigParsers)
	v.FieldTableLines = tsRender(tsCall("Object.freeze", table), 0,
		"export const configFields: readonly FieldSpec<ConfigKey>[] = ", ";")

	var flows tsArr
	if v.AuthModeKey != "" {
		for _, fl := range m.Flows {
			if fl.AuthMode == nil {
				continue
			}
			var reqs, methods tsArr
			for _, r := range fl.Requires {
				if r != nil && !r.Required {
					reqs = append(reqs, tsRaw(quote(r.Name.Camel)))
				}
			}
			if v.ClientAuthMethodKey != "" {
				for _, cam := range fl.ClientAuthMethods {
					methods = append(methods, tsRaw(tsEnumMember(cam)))
				}
			}
			flows = append(flows, tsObj{
				{"authMode", tsRaw(tsEnumMember(fl.AuthMode))},
				{"requires", reqs},
				{"clientAuthMethods", methods},
			})
		}
	}
	v.FlowRequirementLines = tsRender(flows, 0, "const flowRequirements: readonly FlowRequirement[] = ", ";")

	var values tsArr
	for _, f := range m.Fields {
		if f.Enum == nil {
			continue
		}
		for _, ev := range f.Enum.Values {
			var reqs tsArr
			for _, r := range ev.Requires {
				if r != nil && !r.Required {
					reqs = append(reqs, tsRaw(quote(r.Name.Camel)))
				}
			}
			if len(reqs) > 0 {
				values = append(values, tsObj{
					{"key", tsRaw(quote(f.Name.Camel))},
					{"value", tsRaw(tsEnumMember(ev))},
					{"requires", reqs},
				})
			}
		}
	}
	v.ValueRequirementLines = tsRender(values, 0, "const valueRequirements: readonly ValueRequirement[] = ", ";")

	var errTable tsArr
	for _, e := range m.Errors {
		te := &TSError{Member: e.Names.Pascal, Code: quote(e.Code), Retryable: e.Retryable, Doc: tsBlock(2, tsDoc(2, e.Doc))}
		v.Errors = append(v.Errors, te)
		rfc := "null"
		if e.RFC != "" {
			rfc = quote(e.RFC)
		}
		errTable = append(errTable, tsObj{
			{"code", tsRaw("ErrorCode." + te.Member)},
			{"retryable", tsRaw(strconvBool(e.Retryable))},
			{"rfc", tsRaw(rfc)},
			{"description", tsRaw(quote(e.Doc))},
		})
	}
	v.ErrorTableLines = tsRender(tsCall("Object.freeze", errTable), 0,
		"export const errorCodes: readonly ErrorCodeInfo[] = ", ";")

	optionFields := tsObj{}
	for _, md := range m.Modes {
		tm := newTSMode(md)
		v.Modes = append(v.Modes, tm)
		if md == m.DefaultMode {
			v.Default = tm
		}
		var specs tsArr
		for _, o := range tm.Options {
			specs = append(specs, o.spec)
		}
		optionFields = append(optionFields, tsKV{tm.Raw, specs})
	}
	if v.Default == nil && len(v.Modes) > 0 {
		v.Default = v.Modes[0]
	}
	v.ModeOptionFieldLines = tsRender(optionFields, 0, "const modeOptionFields: ModeTable<readonly FieldSpec[]> = ", ";")

	results := map[string]bool{"AuthToken": true}
	for _, op := range m.Operations {
		v.Operations = append(v.Operations, newTSOperation(op))
		switch op.Result {
		case "auth_result":
			results["AuthResult"] = true
		case "authorization_request":
			results["AuthorizationRequest"] = true
		case "introspection":
			results["IntrospectionResult"] = true
		case "token":
			if v.TokenOperation == "" {
				v.TokenOperation = op.TS.Name
			}
		}
	}
	for _, name := range []string{"AuthorizationRequest", "AuthResult", "AuthToken", "IntrospectionResult"} {
		if results[name] {
			v.ClientTokenImports = append(v.ClientTokenImports, name)
		}
	}

	v.ClientImportLines = tsImport("import type", v.ClientTokenImports, "./tokens.js")
	var names, enumExports, testNames []string
	for _, e := range v.ConfigEnums {
		names = append(names, e.Name, e.ValuesVar)
		testNames = append(testNames, e.Name)
	}
	v.ConfigEnumImportLines = tsImport("import", names, "./enums.js")
	v.ParserImportLines = tsImport("import", append(append([]string{}, v.ConfigParsers...), "ValueError"), "./parse.js")
	for _, e := range v.Enums {
		enumExports = append(enumExports, e.Name, e.ValuesVar, e.Guard)
	}
	v.EnumExportLines = tsImport("export", append(enumExports, "valuesOf", "type ValueOf"), "./enums.js")
	modeNames := []string{"defaultRuntimeMode", "isRuntimeMode", "loadModeConfig", "modeOptions", "modeOptionsYAMLKey", "RuntimeMode", "runtimeModeEnv",
		"runtimeModeFromEnv", "runtimeModeValues", "runtimeModeYAMLKey", "unknownModeOptions", "validateModeOptions"}
	for _, tm := range v.Modes {
		modeNames = append(modeNames, tm.DefaultsVar, "type "+tm.OptionsType)
	}
	v.ModeExportLines = tsImport("export", append(modeNames, "type ModeConfig", "type RuntimeModeOptions"), "./modes.js")
	testNames = append([]string{"AuthClientConfig", "ConfigError"}, testNames...)
	testNames = append(testNames, "type AuthClientConfigInit", "type AuthClientSettings", "type ConfigKey")
	v.TestConfigImportLines = tsImport("import", testNames, m.TS.Package)
	v.ReadmeImportLines = tsImport("import", []string{"AuthClientConfig", "runtimeModeFromEnv"}, m.TS.Package)

	v.RefreshBufferSeconds = "300"
	if f := m.Field("refresh_buffer_seconds"); f != nil && f.HasDefault {
		v.RefreshBufferSeconds = f.TS.Default
	}
	v.Readme = newTSReadme(m, v)
	v.Test = newTSTest(m, v)
	return v
}

func tsContainsEnum(list []*TSEnum, e *TSEnum) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

func tsDeps(deps [][2]string) []TSDep {
	out := make([]TSDep, len(deps))
	for i, d := range deps {
		out[i] = TSDep{Name: tsJSON(d[0]), Version: tsJSON(d[1])}
		if i < len(deps)-1 {
			out[i].Comma = ","
		}
	}
	return out
}

func newTSEnum(e *Enum) *TSEnum {
	te := &TSEnum{
		Name:      e.Name.Pascal,
		Doc:       tsBlock(0, tsDoc(0, e.Doc)),
		ValuesVar: e.Name.Camel + "Values",
		Guard:     "is" + e.Name.Pascal,
	}
	te.GuardLines = tsSignature(0, "export function "+te.Guard, []string{"value: unknown"}, ": value is "+te.Name+" {")
	for _, ev := range e.Values {
		te.Members = append(te.Members, &TSEnumMember{Name: ev.Names.Pascal, Value: quote(ev.Value), Doc: tsBlock(2, tsDoc(2, ev.Doc))})
	}
	return te
}

func tsEnumMember(ev *EnumValue) string { return ev.Enum.Name.Pascal + "." + ev.Names.Pascal }

// newTSField describes a config field (yamlRoot set) or a mode option
// (yamlRoot empty: no environment variable, YAML key or parser).
func newTSField(f *Field, yamlRoot string, enums map[*Enum]*TSEnum) *TSField {
	config := yamlRoot != ""
	tf := &TSField{
		F:       f,
		Key:     f.Name.Camel,
		Name:    f.Name.Snake,
		Type:    f.TS.Type,
		Default: f.TS.Default,
	}
	tf.ClassLines = tsRender(tsRaw(f.TS.Default), 2, tf.Key+": "+tf.Type+" = ", ";")

	var meta []string
	if f.Required {
		meta = append(meta, "Required.")
	}
	if f.Secret {
		meta = append(meta, "Secret: redacted from every string form.")
	}
	if f.HasDefault {
		meta = append(meta, "Default: `"+tsDocValue(f)+"`"+tsUnitWords(f.Unit)+".")
	} else if f.Unit != "" {
		meta = append(meta, "In"+tsUnitWords(f.Unit)+".")
	}
	if f.Min != nil {
		meta = append(meta, "Minimum: "+tsNumber(*f.Min)+".")
	}
	if f.Max != nil {
		meta = append(meta, "Maximum: "+tsNumber(*f.Max)+".")
	}
	if f.Env != "" {
		meta = append(meta, "Environment: `"+f.Env+"`.")
	}
	if config {
		meta = append(meta, "YAML: `"+yamlRoot+"."+f.YAMLKey+"`.")
	}
	tf.Doc = tsDoc(2, f.Doc)
	if len(meta) > 0 {
		tf.Doc = append(tf.Doc, " *")
		tf.Doc = append(tf.Doc, tsDoc(2, strings.Join(meta, " "))...)
	}
	tf.Doc = tsBlock(2, tf.Doc)

	spec := tsObj{
		{"key", tsRaw(quote(tf.Key))},
		{"name", tsRaw(quote(f.Name.Snake))},
	}
	if f.Env != "" {
		spec = append(spec, tsKV{"env", tsRaw(quote(f.Env))})
	}
	if config {
		spec = append(spec, tsKV{"yamlKey", tsRaw(quote(f.YAMLKey))})
	}
	spec = append(spec, tsKV{"kind", tsRaw(quote(f.Kind))})
	if f.Secret {
		spec = append(spec, tsKV{"secret", tsRaw("true")})
	}
	if f.Required {
		spec = append(spec, tsKV{"required", tsRaw("true")})
	}
	if f.Min != nil {
		spec = append(spec, tsKV{"min", tsRaw(tsNumber(*f.Min))})
	}
	if f.Max != nil {
		spec = append(spec, tsKV{"max", tsRaw(tsNumber(*f.Max))})
	}
	if f.Enum != nil && enums[f.Enum] != nil {
		spec = append(spec, tsKV{"allowed", tsRaw(enums[f.Enum].ValuesVar)})
	}
	if config {
		spec = append(spec, tsKV{"parse", tsRaw(f.TS.Parse)})
	}
	tf.spec = spec
	return tf
}

// tsDocValue is a field's default as documentation shows it.
func tsDocValue(f *Field) string {
	switch f.Kind {
	case "bool", "int", "duration", "float":
		return f.TS.Default
	case "list":
		return strings.Join(defaultList(f), " ")
	case "enum":
		if v := defaultEnum(f); v != nil {
			return v.Value
		}
	}
	return defaultString(f)
}

func tsUnitWords(unit string) string {
	switch unit {
	case "ms":
		return " milliseconds"
	case "s":
		return " seconds"
	}
	return ""
}

func newTSMode(md *Mode) *TSMode {
	tm := &TSMode{
		Member:      md.ID.Pascal,
		Value:       quote(md.ID.Snake),
		Raw:         md.ID.Snake,
		Doc:         tsBlock(2, tsDoc(2, md.Doc)),
		OptionsType: md.ID.Pascal + "ModeOptions",
		DefaultsVar: "default" + md.ID.Pascal + "ModeOptions",
	}
	tm.OptionsDoc = tsBlock(0, tsDoc(0, "Options of the "+md.ID.Snake+" runtime mode: "+tsLowerFirst(md.Doc)))
	for _, o := range md.Options {
		tm.Options = append(tm.Options, newTSField(o, "", nil))
	}
	return tm
}

// tsLowerFirst lower-cases the first letter of a sentence so that it can
// follow a colon.
func tsLowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func newTSOperation(op *Operation) *TSOperation {
	to := &TSOperation{Doc: tsDoc(2, op.Doc)}
	var params []string
	if len(op.Args) > 0 {
		to.Doc = append(to.Doc, " *")
	}
	for _, a := range op.Args {
		p := a.Name.Camel
		if a.Optional {
			p += "?"
		}
		params = append(params, p+": "+a.TS.Type)
		to.Doc = append(to.Doc, tsDoc(2, "@param "+a.Name.Camel+" - "+a.Doc)...)
	}
	to.Doc = tsBlock(2, to.Doc)
	to.Decl = strings.Join(tsSignature(2, op.TS.Name, params, ": "+op.TS.AsyncResult+";"), "\n")
	return to
}

// ---- layout ----

// tsDoc lays text out as the body lines of a /** */ comment (" * ..."),
// wrapped to the line width at the given indent; the template indents.
func tsDoc(indent int, text string) []string {
	text = strings.ReplaceAll(text, "*/", "*\\/")
	width := tsWidth - indent - 3
	var lines []string
	var cur string
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, " * "+cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(" * "+cur, " "))
	}
	return lines
}

// tsBlock makes doc comment body lines a /** */ comment: on one line when
// the body is one line and fits.
func tsBlock(indent int, body []string) []string {
	if len(body) == 1 {
		one := "/** " + strings.TrimPrefix(body[0], " * ") + " */"
		if indent+len(one) <= tsWidth {
			return []string{one}
		}
	}
	return append(append([]string{"/**"}, body...), " */")
}

// tsSignature lays out a function or method head: on one line when it
// fits, else one parameter a line with a trailing comma.
func tsSignature(indent int, head string, params []string, tail string) []string {
	pad := strings.Repeat(" ", indent)
	one := pad + head + "(" + strings.Join(params, ", ") + ")" + tail
	if len(one) <= tsWidth || len(params) == 0 {
		return []string{one}
	}
	lines := []string{pad + head + "("}
	for _, p := range params {
		lines = append(lines, pad+"  "+p+",")
	}
	return append(lines, pad+")"+tail)
}

// tsImport lays out an import or export statement: on one line when it
// fits, else one name a line.
func tsImport(kw string, names []string, from string) []string {
	one := kw + " { " + strings.Join(names, ", ") + " } from " + quote(from) + ";"
	if len(one) <= tsWidth {
		return []string{one}
	}
	lines := []string{kw + " {"}
	for _, n := range names {
		lines = append(lines, "  "+n+",")
	}
	return append(lines, "} from "+quote(from)+";")
}

// tsLit is a TypeScript literal to lay out: tsRaw, tsObj, tsArr or tsCallLit.
type tsLit interface{}

// tsRaw is an expression printed as is.
type tsRaw string

// tsObj is an object literal, always laid out one property a line (which
// prettier keeps).
type tsObj []tsKV

// tsKV is a property of a tsObj.
type tsKV struct {
	Key string
	Val tsLit
}

// tsArr is an array literal: on one line when it holds only expressions
// and fits, else one item a line.
type tsArr []tsLit

// tsCallLit is a call with one literal argument, hugged: f([ ... ]).
type tsCallLit struct {
	Fn  string
	Arg tsLit
}

func tsCall(fn string, arg tsLit) tsCallLit { return tsCallLit{fn, arg} }

// tsRender lays out v at indent, after prefix and before suffix on its
// first and last lines.
func tsRender(v tsLit, indent int, prefix, suffix string) []string {
	pad := strings.Repeat(" ", indent)
	switch v := v.(type) {
	case tsRaw:
		line := pad + prefix + string(v) + suffix
		// A string too long for the line moves to the next one, unless its
		// key is shorter than five characters (prettier's tab width plus
		// three), which prettier leaves on the key's line.
		shortKey := len(strings.TrimSuffix(prefix, ": ")) < 5
		if len(line) > tsWidth && strings.HasSuffix(prefix, ": ") && !shortKey && (strings.HasPrefix(string(v), `"`) || strings.HasPrefix(string(v), "'")) {
			return []string{pad + strings.TrimSuffix(prefix, " "), pad + "  " + string(v) + suffix}
		}
		if len(line) > tsWidth && strings.HasSuffix(prefix, " = ") && !strings.HasPrefix(prefix, "const ") {
			return []string{pad + strings.TrimSuffix(prefix, " "), pad + "  " + string(v) + suffix}
		}
		return []string{line}
	case tsObj:
		if len(v) == 0 {
			return []string{pad + prefix + "{}" + suffix}
		}
		lines := []string{pad + prefix + "{"}
		for _, kv := range v {
			lines = append(lines, tsRender(kv.Val, indent+2, kv.Key+": ", ",")...)
		}
		return append(lines, pad+"}"+suffix)
	case tsArr:
		if len(v) == 0 {
			return []string{pad + prefix + "[]" + suffix}
		}
		flat := true
		items := make([]string, len(v))
		for i, item := range v {
			raw, ok := item.(tsRaw)
			flat = flat && ok
			items[i] = string(raw)
		}
		if one := pad + prefix + "[" + strings.Join(items, ", ") + "]" + suffix; flat && len(one) <= tsWidth {
			return []string{one}
		}
		lines := []string{pad + prefix + "["}
		for _, item := range v {
			lines = append(lines, tsRender(item, indent+2, "", ",")...)
		}
		return append(lines, pad+"]"+suffix)
	case tsCallLit:
		return tsRender(v.Arg, indent, prefix+v.Fn+"(", ")"+suffix)
	}
	panic("tsRender: unknown literal")
}

// tsNumber spells a number the way TypeScript and prettier do.
func tsNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// tsJSON spells s as a JSON string, without escaping <, > and &.
func tsJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// ---- README ----

func newTSReadme(m *Model, v *TSView) *TSReadme {
	r := &TSReadme{YAML: []string{m.YAMLRoot + ":"}}
	rows := [][]string{{"Field", "YAML key", "Type", "Default", "Environment", "Description"}}
	for _, f := range m.Fields {
		switch {
		case f.Required:
			r.YAML = append(r.YAML, "  "+f.YAMLKey+": "+tsSample(f).yamlA)
		case f.HasDefault:
			r.YAML = append(r.YAML, "  "+f.YAMLKey+": "+tsYAMLDefault(f))
		}
		kind := f.Kind
		if f.Unit != "" {
			kind += " (" + f.Unit + ")"
		}
		if f.Enum != nil {
			kind = f.Enum.Name.Pascal
		}
		def := ""
		if f.HasDefault {
			def = tsCode(tsDocValue(f))
		}
		rows = append(rows, []string{tsCode(f.Name.Camel), tsCode(f.YAMLKey), kind, def, tsCode(f.Env), f.Doc})
	}
	r.Fields = tsMDTable(rows)
	for _, e := range m.Enums {
		var vals []string
		for _, ev := range e.Values {
			vals = append(vals, tsCode(ev.Value))
		}
		r.Enums = append(r.Enums, "- `"+e.Name.Pascal+"`: "+strings.Join(vals, ", ")+".")
	}
	rows = [][]string{{"Mode", "Description", "Options (default)"}}
	for _, md := range m.Modes {
		var opts []string
		for _, o := range md.Options {
			opts = append(opts, tsCode(o.Name.Camel)+" ("+tsCode(tsDocValue(o))+")")
		}
		if len(opts) == 0 {
			opts = []string{"none"}
		}
		rows = append(rows, []string{tsCode(md.ID.Snake), md.Doc, strings.Join(opts, ", ")})
	}
	r.Modes = tsMDTable(rows)
	rows = [][]string{{"Code", "Retryable", "Defined by", "Description"}}
	for _, e := range m.Errors {
		retry := "no"
		if e.Retryable {
			retry = "yes"
		}
		rows = append(rows, []string{tsCode(e.Code), retry, e.RFC, e.Doc})
	}
	r.Errors = tsMDTable(rows)
	rows = [][]string{{"Method", "Returns", "Description"}}
	for _, op := range m.Operations {
		var names []string
		for _, a := range op.Args {
			n := a.Name.Camel
			if a.Optional {
				n += "?"
			}
			names = append(names, n)
		}
		rows = append(rows, []string{tsCode(op.TS.Name + "(" + strings.Join(names, ", ") + ")"), tsCode(op.TS.AsyncResult), op.Doc})
	}
	r.Operations = tsMDTable(rows)
	return r
}

func tsCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// tsMDTable lays out a Markdown table with padded columns, as prettier does.
func tsMDTable(rows [][]string) []string {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			row[i] = strings.ReplaceAll(cell, "|", `\|`)
			if len(row[i]) > widths[i] {
				widths[i] = len(row[i])
			}
		}
	}
	line := func(cells []string) string {
		parts := make([]string, len(cells))
		for i, c := range cells {
			parts[i] = c + strings.Repeat(" ", widths[i]-len(c))
		}
		return "| " + strings.Join(parts, " | ") + " |"
	}
	out := []string{line(rows[0])}
	sep := make([]string, len(widths))
	for i, w := range widths {
		sep[i] = strings.Repeat("-", w)
	}
	out = append(out, line(sep))
	for _, row := range rows[1:] {
		out = append(out, line(row))
	}
	return out
}

func tsYAMLDefault(f *Field) string {
	switch f.Kind {
	case "bool", "int", "duration", "float":
		return f.TS.Default
	case "list":
		return "[" + strings.Join(defaultList(f), ", ") + "]"
	case "enum":
		return defaultEnum(f).Value
	}
	return quote(defaultString(f))
}

// ---- test data ----

// tsSampleValues are two valid values of a field, A differing from the
// default and B from A when the field admits two, in each spelling.
type tsSampleValues struct {
	envA, envB   string // environment text
	yamlA, yamlB string // YAML plain scalars or flow sequences
	tsA, tsB     string // TS literals
	distinct     bool
}

func tsSample(f *Field) tsSampleValues {
	var s tsSampleValues
	s.distinct = true
	plain := func(a, b string) {
		s.envA, s.envB, s.yamlA, s.yamlB, s.tsA, s.tsB = a, b, a, b, quote(a), quote(b)
	}
	kebab := f.Name.Kebab
	switch f.Kind {
	case "bool":
		a := !defaultBool(f)
		s.envA = map[bool]string{true: "YES", false: "No"}[a]
		s.envB = map[bool]string{true: "1", false: "0"}[!a]
		s.yamlA, s.yamlB = strconvBool(a), strconvBool(!a)
		s.tsA, s.tsB = s.yamlA, s.yamlB
	case "int", "duration":
		d := float64(defaultInt(f))
		a, b := tsPickNumbers(f, d, []float64{d + 7, d + 1, d - 1, d - 7})
		s.distinct = a != b
		s.envA, s.envB = tsNumber(a), tsNumber(b)
		s.yamlA, s.yamlB, s.tsA, s.tsB = s.envA, s.envB, s.envA, s.envB
	case "float":
		d := defaultFloat(f)
		a, b := tsPickNumbers(f, d, []float64{d + 0.25, d - 0.25, d + 0.5, d - 0.5})
		s.distinct = a != b
		s.envA, s.envB = tsNumber(a), tsNumber(b)
		s.yamlA, s.yamlB, s.tsA, s.tsB = s.envA, s.envB, s.envA, s.envB
	case "list":
		s.envA, s.envB = "alpha, beta gamma", "delta"
		s.yamlA, s.yamlB = "[alpha, beta, gamma]", "[delta]"
		s.tsA, s.tsB = `["alpha", "beta", "gamma"]`, `["delta"]`
	case "enum":
		def := defaultEnum(f)
		a, b := def, def
		for i := len(f.Enum.Values) - 1; i >= 0; i-- {
			if f.Enum.Values[i] != def {
				a = f.Enum.Values[i]
				break
			}
		}
		s.distinct = a != b
		s.envA, s.envB, s.yamlA, s.yamlB = a.Value, b.Value, a.Value, b.Value
		s.tsA, s.tsB = tsEnumMember(a), tsEnumMember(b)
	case "url":
		plain("https://a.example.test/"+kebab, "https://b.example.test/"+kebab)
	case "path":
		plain("/etc/coyote/a/"+kebab+".pem", "/etc/coyote/b/"+kebab+".pem")
	case "secret":
		plain("s3cr3t-a-"+kebab+"-Zq9", "s3cr3t-b-"+kebab+"-Xw4")
	default:
		plain("a-"+kebab, "b-"+kebab)
	}
	return s
}

// tsPickNumbers returns the first candidate within the field's bounds that
// differs from the default, and a second value within bounds that differs
// from the first (the default when it does).
func tsPickNumbers(f *Field, def float64, cands []float64) (float64, float64) {
	in := func(x float64) bool {
		return (f.Min == nil || x >= *f.Min) && (f.Max == nil || x <= *f.Max)
	}
	if f.Min != nil {
		cands = append(cands, *f.Min)
	}
	if f.Max != nil {
		cands = append(cands, *f.Max)
	}
	a := def
	for _, c := range cands {
		if in(c) && c != def {
			a = c
			break
		}
	}
	b := def
	if b == a {
		for _, c := range cands {
			if in(c) && c != a {
				b = c
				break
			}
		}
	}
	return a, b
}

// tsBounds are values just beyond a numeric field's minimum and maximum.
func tsBounds(f *Field) []string {
	step := 1.0
	if f.Kind == "float" {
		step = 0.5
	}
	var out []string
	if f.Min != nil {
		out = append(out, tsNumber(*f.Min-step))
	}
	if f.Max != nil {
		out = append(out, tsNumber(*f.Max+step))
	}
	return out
}

func tsStrings(items []string) tsArr {
	out := make(tsArr, len(items))
	for i, s := range items {
		out[i] = tsRaw(quote(s))
	}
	return out
}

func newTSTest(m *Model, v *TSView) *TSTest {
	t := &TSTest{}
	samples := map[*Field]tsSampleValues{}
	var defaults, required, secrets tsObj
	var requiredNames []string
	var spellA, spellB, bounds, urls, miscased tsArr
	for _, f := range m.Fields {
		s := tsSample(f)
		samples[f] = s
		defaults = append(defaults, tsKV{f.Name.Camel, tsRaw(f.TS.Default)})
		if f.Env != "" {
			spellA = append(spellA, tsObj{
				{"key", tsRaw(quote(f.Name.Camel))},
				{"env", tsRaw(quote(f.Env))},
				{"text", tsRaw(quote(s.envA))},
				{"want", tsRaw(s.tsA)},
			})
			spellB = append(spellB, tsObj{
				{"key", tsRaw(quote(f.Name.Camel))},
				{"env", tsRaw(quote(f.Env))},
				{"text", tsRaw(quote(s.envB))},
				{"want", tsRaw(s.tsB)},
			})
		}
		if f.Required {
			required = append(required, tsKV{f.Name.Camel, tsRaw(s.tsA)})
			requiredNames = append(requiredNames, f.Name.Snake)
		}
		if f.Secret {
			secrets = append(secrets, tsKV{f.Name.Camel, tsRaw(s.tsA)})
			if t.SecretYAML == nil {
				t.SecretYAML = []string{m.YAMLRoot + ":", "  " + f.YAMLKey + ": [" + s.yamlA + "]"}
				t.SecretValue = quote(s.envA)
			}
		}
		for _, b := range tsBounds(f) {
			bounds = append(bounds, tsObj{
				{"key", tsRaw(quote(f.Name.Camel))},
				{"field", tsRaw(quote(f.Name.Snake))},
				{"value", tsRaw(b)},
			})
		}
		if f.Kind == "url" {
			urls = append(urls, tsObj{
				{"key", tsRaw(quote(f.Name.Camel))},
				{"field", tsRaw(quote(f.Name.Snake))},
			})
		}
		if f.Enum != nil {
			if text, ok := tsMiscase(f.Enum, defaultEnum(f)); ok {
				c := tsObj{
					{"key", tsRaw(quote(f.Name.Camel))},
					{"field", tsRaw(quote(f.Name.Snake))},
				}
				if f.Env != "" {
					c = append(c, tsKV{"env", tsRaw(quote(f.Env))})
				}
				c = append(c, tsKV{"yamlKey", tsRaw(quote(f.YAMLKey))}, tsKV{"text", tsRaw(quote(text))})
				miscased = append(miscased, c)
			}
		}
	}
	t.DefaultsLines = tsRender(defaults, 0, "const defaults: AuthClientSettings = ", ";")
	t.SpellingALines = tsRender(spellA, 0, "const spellingA: EnvCase[] = ", ";")
	t.SpellingBLines = tsRender(spellB, 0, "const spellingB: EnvCase[] = ", ";")
	t.RequiredLines = tsRender(required, 0, "const required: AuthClientConfigInit = ", ";")
	t.RequiredNamesLines = tsRender(tsStrings(requiredNames), 0, "const requiredFields: string[] = ", ";")
	t.BoundsLines = tsRender(bounds, 0, "const outOfBounds: BoundCase[] = ", ";")
	if urls != nil {
		t.URLLines = tsRender(urls, 0, "const urlFields: BoundCase[] = ", ";")
	}
	if miscased != nil {
		t.MiscasedLines = tsRender(miscased, 0, "const miscased: MiscasedCase[] = ", ";")
	}
	if secrets != nil {
		t.SecretLines = tsRender(secrets, 0, "const secrets: AuthClientConfigInit = ", ";")
	}

	// Bad environment values: the first field of each parsed kind.
	var bad tsArr
	seen := map[string]bool{}
	for _, f := range m.Fields {
		kind := f.Kind
		if kind == "duration" {
			kind = "int"
		}
		var text string
		var parts []string
		switch kind {
		case "bool":
			text, parts = "maybe", []string{"true", "false", "1", "0", "yes", "no"}
		case "int":
			text, parts = "12abc", []string{"integer"}
		case "float":
			text, parts = "1.5x", []string{"number"}
		case "enum":
			text = "bogus_value"
			for _, ev := range f.Enum.Values {
				parts = append(parts, ev.Value)
			}
		default:
			continue
		}
		if f.Env == "" || seen[kind] {
			continue
		}
		seen[kind] = true
		bad = append(bad, tsObj{
			{"env", tsRaw(quote(f.Env))},
			{"text", tsRaw(quote(text))},
			{"parts", tsStrings(append([]string{f.Env, text}, parts...))},
		})
	}
	t.BadEnvLines = tsRender(bad, 0, "const badEnv: BadEnvCase[] = ", ";")

	// Precedence: the first three non-secret fields with an environment
	// variable and two distinct samples; P1 in the file, P2 in the file
	// and the environment, P3 in the file, the environment and code.
	var p []*Field
	for _, f := range m.Fields {
		if f.Env != "" && !f.Secret && samples[f].distinct && len(p) < 3 {
			p = append(p, f)
		}
	}
	if len(p) == 3 {
		t.HasPrecedence = true
		s1, s2, s3 := samples[p[0]], samples[p[1]], samples[p[2]]
		yaml := []string{
			m.YAMLRoot + ":",
			"  " + p[0].YAMLKey + ": " + s1.yamlA,
			"  " + p[1].YAMLKey + ": " + s2.yamlB,
			"  " + p[2].YAMLKey + ": " + s3.yamlA,
		}
		var lines []string
		lines = append(lines, "const precedenceYAML = `"+strings.Join(yaml, "\n")+"\n`;", "")
		lines = append(lines, tsRender(tsObj{
			{p[0].Name.Camel, tsRaw(s1.tsA)},
			{p[1].Name.Camel, tsRaw(s2.tsB)},
			{p[2].Name.Camel, tsRaw(s3.tsA)},
		}, 0, "const fromFile: AuthClientConfigInit = ", ";")...)
		lines = append(lines, "")
		lines = append(lines, tsRender(tsObj{
			{p[1].Env, tsRaw(quote(s2.envA))},
			{p[2].Env, tsRaw(quote(s3.envB))},
		}, 0, "const precedenceEnv: Record<string, string> = ", ";")...)
		lines = append(lines, "")
		lines = append(lines, tsRender(tsObj{
			{p[2].Name.Camel, tsRaw(s3.tsA)},
		}, 0, "const precedenceCode: AuthClientConfigInit = ", ";")...)
		lines = append(lines, "")
		lines = append(lines, tsRender(tsObj{
			{p[0].Name.Camel, tsRaw(s1.tsA)},
			{p[1].Name.Camel, tsRaw(s2.tsA)},
			{p[2].Name.Camel, tsRaw(s3.tsA)},
		}, 0, "const precedenceWant: AuthClientConfigInit = ", ";")...)
		t.PrecedenceLines = lines
		t.UnknownKeyYAML = []string{
			m.YAMLRoot + ":",
			"  " + p[0].YAMLKey + ": " + s1.yamlA,
			"  bogus_key: 1",
			"  another_unknown: two",
		}
	}

	// A complete configuration: the required fields, and what the default
	// flow and the default value of each enum field need.
	complete := append(tsObj{}, required...)
	have := map[*Field]bool{}
	for _, f := range m.Fields {
		have[f] = f.Required
	}
	need := func(obj tsObj, f *Field, have map[*Field]bool) tsObj {
		if f == nil || have[f] {
			return obj
		}
		have[f] = true
		return append(obj, tsKV{f.Name.Camel, tsRaw(samples[f].tsA)})
	}
	var authMode *Field
	for _, f := range m.Fields {
		if f.Enum != nil && f.Enum == m.AuthModeEnum && authMode == nil {
			authMode = f
		}
	}
	for _, f := range m.Fields {
		if f.Enum != nil && f.HasDefault {
			for _, r := range defaultEnum(f).Requires {
				complete = need(complete, r, have)
			}
		}
	}
	if authMode != nil {
		for _, fl := range m.Flows {
			if fl.AuthMode != nil && fl.AuthMode == defaultEnum(authMode) {
				for _, r := range fl.Requires {
					complete = need(complete, r, have)
				}
			}
		}
	}
	t.CompleteLines = tsRender(complete, 0, "const complete: AuthClientConfigInit = ", ";")

	// Flows: what each needs beyond the required fields, and values that
	// make its configuration valid with its first client auth method.
	var flows tsArr
	if v.AuthModeKey != "" {
		for _, fl := range m.Flows {
			if fl.AuthMode == nil {
				continue
			}
			var missing []string
			values := tsObj{{authMode.Name.Camel, tsRaw(tsEnumMember(fl.AuthMode))}}
			have := map[*Field]bool{}
			for _, f := range m.Fields {
				have[f] = f.Required
			}
			have[authMode] = true
			for _, r := range fl.Requires {
				if r != nil && !r.Required {
					missing = append(missing, r.Name.Snake)
				}
			}
			for _, r := range fl.Requires {
				values = need(values, r, have)
			}
			if v.ClientAuthMethodKey != "" && len(fl.ClientAuthMethods) > 0 {
				method := fl.ClientAuthMethods[0]
				values = append(values, tsKV{strings.Trim(v.ClientAuthMethodKey, `"`), tsRaw(tsEnumMember(method))})
				for _, r := range method.Requires {
					values = need(values, r, have)
				}
			}
			flows = append(flows, tsObj{
				{"flow", tsRaw(quote(fl.ID.Snake))},
				{"bare", tsObj{{authMode.Name.Camel, tsRaw(tsEnumMember(fl.AuthMode))}}},
				{"missing", tsStrings(missing)},
				{"values", values},
			})
		}
	}
	t.FlowLines = tsRender(flows, 0, "const flowCases: FlowCase[] = ", ";")
	t.ValueRuleLines, t.MethodRuleLines = tsRuleCases(m, v, samples)

	// Runtime modes.
	var modeValues, spellings, modeBounds tsArr
	var modeRaws []string
	for _, tm := range v.Modes {
		modeRaws = append(modeRaws, tm.Raw)
	}
	modeDefaults := tsObj{}
	for _, tm := range v.Modes {
		modeValues = append(modeValues, tsRaw(tm.Value))
		if text, ok := tsMiscaseText(tm.Raw, modeRaws); ok {
			spellings = append(spellings, tsRaw(quote(text)))
		}
		var opts tsObj
		for _, o := range tm.Options {
			opts = append(opts, tsKV{o.Key, tsRaw(o.Default)})
			s := tsSample(o.F)
			if t.ModeOverrideLines == nil && s.distinct {
				t.ModeOverrideLines = tsRender(tsObj{
					{"mode", tsRaw("RuntimeMode." + tm.Member)},
					{"key", tsRaw(quote(o.Key))},
					{"value", tsRaw(s.tsA)},
				}, 0, "const override: OptionCase = ", ";")
			}
			for _, b := range tsBounds(o.F) {
				modeBounds = append(modeBounds, tsObj{
					{"mode", tsRaw("RuntimeMode." + tm.Member)},
					{"key", tsRaw(quote(o.Key))},
					{"field", tsRaw(quote(o.Name))},
					{"value", tsRaw(b)},
				})
			}
		}
		modeDefaults = append(modeDefaults, tsKV{tm.Raw, opts})
	}
	t.ModeValuesLines = tsRender(modeValues, 4, "assert.deepEqual(runtimeModeValues, ", ");")
	t.ModeSpellingLines = tsRender(spellings, 0, "const miscasedModes: string[] = ", ";")
	t.ModeDefaultsLines = tsRender(modeDefaults, 0, "const expectedDefaults: RuntimeModeOptions = ", ";")
	t.ModeBoundsLines = tsRender(modeBounds, 0, "const outOfBounds: OptionCase[] = ", ";")
	t.BadMode = quote("bogus_mode")

	// Error codes.
	var codes tsArr
	for _, e := range v.Errors {
		codes = append(codes, tsArr{tsRaw("ErrorCode." + e.Member), tsRaw(strconvBool(e.Retryable))})
	}
	t.ErrorLines = tsRender(codes, 0, "const expected: [ErrorCode, boolean][] = ", ";")
	for _, e := range m.Errors {
		if !e.Retryable {
			t.NonRetryable = quote(e.Code)
			break
		}
	}
	return t
}

// tsMiscaseText spells s in another case: upper case, else lower case. It
// reports false when no letter changes or the spelling is one of taken.
func tsMiscaseText(s string, taken []string) (string, bool) {
	text := strings.ToUpper(s)
	if text == s {
		text = strings.ToLower(s)
	}
	if text == s {
		return "", false
	}
	for _, t := range taken {
		if t == text {
			return "", false
		}
	}
	return text, true
}

// tsMiscase is a value of e (first) or another of its values, spelled in
// another case that is none of its values.
func tsMiscase(e *Enum, first *EnumValue) (string, bool) {
	var taken []string
	for _, ev := range e.Values {
		taken = append(taken, ev.Value)
	}
	for _, ev := range append([]*EnumValue{first}, e.Values...) {
		if ev == nil {
			continue
		}
		if text, ok := tsMiscaseText(ev.Value, taken); ok {
			return text, true
		}
	}
	return "", false
}

// tsOptionalRequires are the fields of list that are not required anyway,
// as validate() checks them.
func tsOptionalRequires(list []*Field) []*Field {
	var out []*Field
	for _, f := range list {
		if f != nil && !f.Required {
			out = append(out, f)
		}
	}
	return out
}

func tsHasValue(list []*EnumValue, ev *EnumValue) bool {
	for _, x := range list {
		if x == ev {
			return true
		}
	}
	return false
}

// tsFlowOf is the flow that validate() applies for an auth_mode value: the
// first that the value selects.
func tsFlowOf(m *Model, mode *EnumValue) *Flow {
	for _, fl := range m.Flows {
		if fl.AuthMode != nil && fl.AuthMode == mode {
			return fl
		}
	}
	return nil
}

// tsWhereToSet is what validate() appends to a missing field's message.
func tsWhereToSet(m *Model, f *Field) string {
	var places []string
	if f.Env != "" {
		places = append(places, f.Env)
	}
	places = append(places, m.YAMLRoot+"."+f.YAMLKey)
	return " (set " + strings.Join(places, " or ") + ")"
}

// tsRuleCase is a configuration for the rule tests: the enum fields set
// explicitly, and the fields left empty on purpose.
type tsRuleCase struct {
	name  string
	set   map[*Field]*EnumValue
	empty map[*Field]bool
}

// tsRuleCases are the value and method rule cases of the config tests:
// each configuration with the exact problems validate() reports for it,
// worked out from the model's flows and enum value requirements.
func tsRuleCases(m *Model, v *TSView, samples map[*Field]tsSampleValues) (valueLines, methodLines []string) {
	var authMode, method *Field
	for _, f := range m.Fields {
		if f.Enum != nil && f.Enum == m.AuthModeEnum && authMode == nil && v.AuthModeKey != "" {
			authMode = f
		}
		if f.Enum != nil && f.Enum == m.ClientAuthMethodEnum && method == nil && v.ClientAuthMethodKey != "" {
			method = f
		}
	}
	if authMode == nil {
		method = nil // validate() checks methods against the selected flow only
	}

	// Enum values that need fields: each with those fields empty, under a
	// flow that needs none of them, allowing the value when one does.
	var values []tsRuleCase
	for _, ef := range m.Fields {
		if ef.Enum == nil {
			continue
		}
		for _, ev := range ef.Enum.Values {
			reqs := tsOptionalRequires(ev.Requires)
			if len(reqs) == 0 {
				continue
			}
			c := tsRuleCase{
				name:  ef.Name.Snake + " " + ev.Value,
				set:   map[*Field]*EnumValue{ef: ev},
				empty: map[*Field]bool{},
			}
			for _, r := range reqs {
				c.empty[r] = true
			}
			if authMode != nil && ef != authMode {
				var best *Flow
				bestScore := 4
				for _, fl := range m.Flows {
					if fl.AuthMode == nil || tsFlowOf(m, fl.AuthMode) != fl {
						continue
					}
					overlap := false
					for _, r := range tsOptionalRequires(fl.Requires) {
						overlap = overlap || c.empty[r]
					}
					allows := ef != method || len(fl.ClientAuthMethods) == 0 || tsHasValue(fl.ClientAuthMethods, ev)
					score := 3
					switch {
					case allows && !overlap:
						score = 0
					case !overlap:
						score = 1
					case allows:
						score = 2
					}
					if score < bestScore {
						best, bestScore = fl, score
					}
				}
				if best != nil {
					c.set[authMode] = best.AuthMode
				}
			}
			values = append(values, c)
		}
	}

	// Each flow with each client auth method it allows, and with the first
	// it does not.
	var methods []tsRuleCase
	if method != nil {
		for _, fl := range m.Flows {
			if fl.AuthMode == nil || len(fl.ClientAuthMethods) == 0 || tsFlowOf(m, fl.AuthMode) != fl {
				continue
			}
			var disallowed *EnumValue
			for _, ev := range method.Enum.Values {
				if !tsHasValue(fl.ClientAuthMethods, ev) && disallowed == nil {
					disallowed = ev
				}
			}
			list := append(append([]*EnumValue{}, fl.ClientAuthMethods...), disallowed)
			for _, ev := range list {
				if ev == nil {
					continue
				}
				methods = append(methods, tsRuleCase{
					name:  authMode.Name.Snake + " " + fl.AuthMode.Value + ", " + method.Name.Snake + " " + ev.Value,
					set:   map[*Field]*EnumValue{authMode: fl.AuthMode, method: ev},
					empty: map[*Field]bool{},
				})
			}
		}
	}

	render := func(cases []tsRuleCase, name string) []string {
		if len(cases) == 0 {
			return nil
		}
		var arr tsArr
		for _, c := range cases {
			obj, want := tsRuleExpect(m, samples, authMode, method, c)
			arr = append(arr, tsObj{
				{"name", tsRaw(tsString(c.name))},
				{"values", obj},
				{"want", want},
			})
		}
		return tsRender(arr, 0, "const "+name+": RuleCase[] = ", ";")
	}
	return render(values, "valueCases"), render(methods, "methodCases")
}

// tsRuleExpect builds a rule case's configuration, filling every field
// validation asks for except those the case leaves empty, and works out
// the problems validate() reports for it, in its order.
func tsRuleExpect(m *Model, samples map[*Field]tsSampleValues, authMode, method *Field, c tsRuleCase) (tsObj, tsArr) {
	current := func(f *Field) *EnumValue {
		if ev, ok := c.set[f]; ok {
			return ev
		}
		return defaultEnum(f)
	}
	var flow *Flow
	if authMode != nil {
		flow = tsFlowOf(m, current(authMode))
	}
	// A method left at its default takes the flow's first when the flow
	// does not allow the default.
	if method != nil && flow != nil && len(flow.ClientAuthMethods) > 0 {
		if _, ok := c.set[method]; !ok && !tsHasValue(flow.ClientAuthMethods, current(method)) {
			c.set[method] = flow.ClientAuthMethods[0]
		}
	}

	values := tsObj{}
	filled := map[*Field]bool{}
	fill := func(f *Field) {
		if f == nil || filled[f] || c.empty[f] {
			return
		}
		if _, ok := c.set[f]; ok {
			return
		}
		filled[f] = true
		values = append(values, tsKV{f.Name.Camel, tsRaw(samples[f].tsA)})
	}
	for _, f := range m.Fields {
		if ev, ok := c.set[f]; ok {
			values = append(values, tsKV{f.Name.Camel, tsRaw(tsEnumMember(ev))})
		} else if f.Required {
			fill(f)
		}
	}
	if flow != nil {
		for _, r := range flow.Requires {
			fill(r)
		}
	}
	for _, f := range m.Fields {
		if f.Enum != nil && current(f) != nil {
			for _, r := range current(f).Requires {
				fill(r)
			}
		}
	}

	// What validate() reports, in its order.
	isEmpty := func(f *Field) bool {
		if _, ok := c.set[f]; ok || filled[f] {
			return false
		}
		return f.TS.Default == `""` || f.TS.Default == "[]"
	}
	var want tsArr
	problem := func(f *Field, message string) {
		want = append(want, tsObj{
			{"field", tsRaw(quote(f.Name.Snake))},
			{"message", tsRaw(tsString(message))},
		})
	}
	missing := map[*Field]bool{}
	need := func(f *Field, reason string) {
		if missing[f] || !isEmpty(f) {
			return
		}
		missing[f] = true
		problem(f, f.Name.Snake+" is required"+reason+tsWhereToSet(m, f))
	}
	for _, f := range m.Fields {
		if f.Required {
			need(f, "")
		}
	}
	if flow != nil {
		mode := current(authMode)
		for _, r := range tsOptionalRequires(flow.Requires) {
			need(r, " when "+authMode.Name.Snake+" is "+tsJSON(mode.Value))
		}
		if method != nil && len(flow.ClientAuthMethods) > 0 && !tsHasValue(flow.ClientAuthMethods, current(method)) {
			var allowed []string
			for _, ev := range flow.ClientAuthMethods {
				allowed = append(allowed, tsJSON(ev.Value))
			}
			problem(method, method.Name.Snake+" "+tsJSON(current(method).Value)+" is not allowed when "+
				authMode.Name.Snake+" is "+tsJSON(mode.Value)+": want one of "+strings.Join(allowed, ", "))
		}
	}
	for _, f := range m.Fields {
		if f.Enum == nil {
			continue
		}
		for _, ev := range f.Enum.Values {
			if current(f) != ev {
				continue
			}
			for _, r := range tsOptionalRequires(ev.Requires) {
				need(r, " when "+f.Name.Snake+" is "+tsJSON(ev.Value))
			}
		}
	}
	return values, want
}

// tsString spells s as a TypeScript string literal the way prettier
// does: in double quotes, unless s holds more double than single quotes.
func tsString(s string) string {
	lit := tsJSON(s)
	if strings.Count(s, `"`) <= strings.Count(s, "'") {
		return lit
	}
	body := lit[1 : len(lit)-1]
	body = strings.ReplaceAll(body, `\"`, `"`)
	body = strings.ReplaceAll(body, "'", `\'`)
	return "'" + body + "'"
}
