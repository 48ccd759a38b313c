package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// pyLineWidth is the line length of the generated Python (black's and
// ruff's default); pyTextWidth is where comments and docstrings wrap.
const (
	pyLineWidth = 88
	pyTextWidth = 79
)

func pyField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		lit := "False"
		if defaultBool(f) {
			lit = "True"
		}
		return TypedValue{Type: "bool", Default: lit, Parse: "bool"}
	case "int", "duration":
		return TypedValue{Type: "int", Default: strconvInt(defaultInt(f)), Parse: "int"}
	case "float":
		return TypedValue{Type: "float", Default: floatLiteral(defaultFloat(f)), Parse: "float"}
	case "list":
		return TypedValue{Type: "list[str]", Default: pyListValue(defaultList(f)), Parse: "list"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "." + pyIdent(v.Names.UpperSnake), Parse: "enum"}
	}
	return TypedValue{Type: "str", Default: quote(defaultString(f)), Parse: "str"}
}

func pyArg(a *Arg) TypedValue {
	var t string
	switch a.Kind {
	case "bool":
		t = "bool"
	case "int":
		t = "int"
	case "list":
		t = "list[str]"
	default:
		t = "str"
	}
	if a.Optional {
		return TypedValue{Type: "Optional[" + t + "]", Default: "None"}
	}
	return TypedValue{Type: t}
}

func pyOperation(op *Operation) OperationSig {
	r := pyResults[op.Result].Type
	if r == "" {
		r = "None"
	}
	return OperationSig{Name: pyIdent(op.ID.Snake), AsyncName: pyIdent(op.ID.Snake + "_async"), Result: r, AsyncResult: r}
}

// pyResult is how an operation result kind reads in Python.
type pyResult struct {
	Type    string
	Returns string // the docstring's Returns section
}

var pyResults = map[string]pyResult{
	"auth_result":           {"AuthResult", "The token on success, otherwise the OAuth error code and description."},
	"authorization_request": {"AuthorizationRequest", "The URL to send the user to, the PKCE code verifier and the state; it unpacks as ``(authorization_url, code_verifier, state)``."},
	"token":                 {"Optional[AuthToken]", "The valid token, or None when no token can be obtained."},
	"bool":                  {"bool", "True on success, False otherwise."},
	"introspection":         {"IntrospectionResult", "The token's state as the introspection endpoint reports it."},
}

func pythonFiles(m *Model) []File {
	v := newPythonView(m)
	src := m.Python.SourceDir + "/"
	files := []File{
		{Path: "pyproject.toml", Template: "pyproject.toml.tmpl"},
		{Path: "README.md", Template: "README.md.tmpl"},
		{Path: src + "__init__.py", Template: "__init__.py.tmpl"},
		{Path: src + "py.typed", Template: "py.typed.tmpl"},
		{Path: src + "_fields.py", Template: "_fields.py.tmpl"},
		{Path: src + "enums.py", Template: "enums.py.tmpl"},
		{Path: src + "errors.py", Template: "errors.py.tmpl"},
		{Path: src + "config.py", Template: "config.py.tmpl"},
		{Path: src + "modes.py", Template: "modes.py.tmpl"},
		{Path: src + "tokens.py", Template: "tokens.py.tmpl"},
		{Path: src + "clock.py", Template: "clock.py.tmpl"},
		{Path: src + "storage.py", Template: "storage.py.tmpl"},
		{Path: src + "client.py", Template: "client.py.tmpl"},
		{Path: "examples/load_config.py", Template: "examples/load_config.py.tmpl"},
		{Path: "tests/test_config.py", Template: "tests/test_config.py.tmpl"},
		{Path: "tests/test_errors.py", Template: "tests/test_errors.py.tmpl"},
		{Path: "tests/test_modes.py", Template: "tests/test_modes.py.tmpl"},
		{Path: "tests/test_interfaces.py", Template: "tests/test_interfaces.py.tmpl"},
	}
	if v.HasRuntime {
		files = append(files,
			File{Path: src + "_protocol.py", Template: "_protocol.py.tmpl"},
			File{Path: src + "_signing.py", Template: "_signing.py.tmpl"},
			File{Path: src + "stores.py", Template: "stores.py.tmpl"},
			File{Path: src + "real.py", Template: "real.py.tmpl"},
			File{Path: src + "factory.py", Template: "factory.py.tmpl"},
			File{Path: src + "mock.py", Template: "mock.py.tmpl"},
			File{Path: src + "debug.py", Template: "debug.py.tmpl"},
			File{Path: src + "cassette.py", Template: "cassette.py.tmpl"},
			File{Path: "tests/conftest.py", Template: "tests/conftest.py.tmpl"},
			File{Path: "tests/test_real_client.py", Template: "tests/test_real_client.py.tmpl"},
			File{Path: "tests/test_faults.py", Template: "tests/test_faults.py.tmpl"},
			File{Path: "tests/test_jwt.py", Template: "tests/test_jwt.py.tmpl"},
			File{Path: "tests/test_authcode.py", Template: "tests/test_authcode.py.tmpl"},
			File{Path: "tests/test_storage.py", Template: "tests/test_storage.py.tmpl"},
			File{Path: "tests/test_mock.py", Template: "tests/test_mock.py.tmpl"},
			File{Path: "tests/test_debug.py", Template: "tests/test_debug.py.tmpl"},
			File{Path: "tests/test_mtls.py", Template: "tests/test_mtls.py.tmpl"},
			File{Path: "tests/test_cassette.py", Template: "tests/test_cassette.py.tmpl"},
			File{Path: src + "simulation.py", Template: "simulation.py.tmpl"},
			File{Path: "tests/test_simulation.py", Template: "tests/test_simulation.py.tmpl"},
			File{Path: "tests/test_readme.py", Template: "tests/test_readme.py.tmpl"},
			File{Path: "benchmarks/bench_token.py", Template: "benchmarks/bench_token.py.tmpl"},
			File{Path: "tests/test_driver.py", Template: "tests/test_driver.py.tmpl"},
			File{Path: "conformance/driver.py", Template: "conformance/driver.py.tmpl"},
		)
	}
	for i := range files {
		files[i].Lang = "python"
		files[i].Data = v
	}
	return files
}

// PythonView is what every Python template receives: the model plus the
// Python spelling of everything the templates print.
type PythonView struct {
	*Model
	// HasRuntime is true when the spec declares every configuration field,
	// enum value and mode the runtime modules read; a spec that does not
	// gets the configuration, types and interfaces only.
	HasRuntime  bool
	Fields      []*PythonField // the config fields
	Enums       []*PythonEnum
	Errors      []*PythonError
	Modes       []*PythonMode
	DefaultMode *PythonMode
	Operations  []*PythonOperation
	Flows       []*PythonFlow // the flows an auth mode selects
	// Rules are what config.py checks beyond each field: the fields a flow
	// or an enum value requires and the client authentication methods a
	// flow allows.
	Rules   []*PythonRule
	Exports []PythonImport // what the package's __init__ re-exports
	All     []string       // __all__, sorted
	// config.py's and modes.py's imports from dataclasses and .enums.
	DataclassImport, EnumImport           string
	ModesDataclassImport, ModesEnumImport string
	// ClientTyping and ClientTokens are client.py's imports.
	ClientTyping, ClientTokens string
	// InitDoc is the package docstring.
	InitDoc string
	// The README's introduction, the names its example imports, the
	// example's keyword arguments, an override for load() and the example
	// as YAML lines.
	ReadmeIntro, ReadmeImports, ReadmeOverride string
	ReadmeExample                              PythonFlowCase
	ReadmeYAML                                 []string
	// ConfigErrorCode is the error code of configuration problems.
	ConfigErrorCode string
	// RefreshBuffer is the default of AuthToken.needs_refresh's buffer.
	RefreshBuffer string
	// AuthModeField and ClientAuthMethodField are the config fields of those
	// enums (by enum, not by name), or nil.
	AuthModeField, ClientAuthMethodField *PythonField
	Test                                 PythonTest
	// Rt is what the runtime modules (_protocol.py, real.py, factory.py)
	// spell by the spec's names.
	Rt PythonRuntime
	// Docstrings of modules and classes whose text comes from the spec.
	ConfigDoc, ModeEnumDoc, ErrorCodeDoc string
}

// PythonRuntime maps the spec's names to their Python spelling for the
// runtime templates, which look them up by spec name so that a renamed or
// missing name fails generation (missingkey=error).
type PythonRuntime struct {
	Attr     map[string]string // config attribute by field name
	Env      map[string]string // environment variable by field name
	Code     map[string]string // ErrorCode member expression by code
	Method   map[string]string // ClientAuthMethod member expression by value
	AuthMode map[string]string // AuthMode member expression by value
	Mode     map[string]string // RuntimeMode member expression by mode id
	// Opt is the options attribute by mode id and option name.
	Opt map[string]map[string]string
	// Options is the options class by mode id.
	Options map[string]string
}

// pyRuntimeNeeds are the spec names the runtime modules read.
var pyRuntimeNeeds = struct {
	attrs, methods, authModes, modes []string
	options                          map[string][]string // option names by mode
}{
	attrs: []string{"auth_mode", "authorization_url", "auto_refresh", "ca_cert_path", "client_auth_method", "client_cert_path", "client_id",
		"client_key_path", "client_secret", "default_scopes", "discovery", "introspection_url", "max_retries", "refresh_buffer_seconds",
		"revocation_url", "revoke_on_close", "server_url", "timeout_ms", "token_url", "verify_ssl",
		"jwt_signing_key_path", "jwt_algorithm", "jwt_key_id", "jwt_issuer", "jwt_audience", "jwt_lifetime_seconds", "redirect_uri",
		"token_storage_path", "token_storage_key"},
	methods:   []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"},
	authModes: []string{"authorization_code", "client_credentials", "client_credentials_mtls", "jwt_bearer"},
	modes:     []string{"real", "mock", "debug", "record", "replay", "simulation"},
	options: map[string][]string{
		"record":     {"cassette_path"},
		"replay":     {"cassette_path"},
		"debug":      {"trace_requests", "trace_responses", "performance_tracking", "log_tokens", "max_traces"},
		"mock":       {"response_delay_ms", "failure_rate", "seed", "token_lifetime_seconds", "failure_error_code"},
		"simulation": {"token_lifetime_seconds", "latency_ms", "error_rate", "rotate_refresh_tokens", "seed"},
	},
}

// supportsRuntime reports whether rt holds every name the runtime reads.
func (rt PythonRuntime) supportsRuntime() bool {
	for _, need := range []struct {
		have  map[string]string
		names []string
	}{{rt.Attr, pyRuntimeNeeds.attrs}, {rt.Method, pyRuntimeNeeds.methods}, {rt.AuthMode, pyRuntimeNeeds.authModes}, {rt.Mode, pyRuntimeNeeds.modes}} {
		for _, n := range need.names {
			if _, ok := need.have[n]; !ok {
				return false
			}
		}
	}
	for mode, names := range pyRuntimeNeeds.options {
		for _, n := range names {
			if _, ok := rt.Opt[mode][n]; !ok {
				return false
			}
		}
	}
	return true
}

func pythonRuntime(v *PythonView) PythonRuntime {
	rt := PythonRuntime{Attr: map[string]string{}, Env: map[string]string{}, Code: map[string]string{}, Method: map[string]string{}, AuthMode: map[string]string{}, Mode: map[string]string{}, Opt: map[string]map[string]string{}, Options: map[string]string{}}
	for _, f := range v.Fields {
		rt.Attr[f.Name.Snake] = f.Attr
		rt.Env[f.Name.Snake] = f.Env
	}
	// Codes the runtime raises whatever the spec declares: a spec without
	// one gets its plain string, which AuthError accepts too.
	for _, code := range []string{"access_denied", "invalid_config", "invalid_grant", "invalid_issuer", "invalid_request", "invalid_state", "invalid_response", "invalid_token", "login_required", "network_error", "not_implemented", "server_error", "storage_error", "temporarily_unavailable"} {
		rt.Code[code] = quote(code)
	}
	for _, e := range v.Errors {
		rt.Code[e.Code] = "ErrorCode." + e.Member
	}
	for _, e := range v.Enums {
		var into map[string]string
		switch e.Enum {
		case v.Model.ClientAuthMethodEnum:
			into = rt.Method
		case v.Model.AuthModeEnum:
			into = rt.AuthMode
		default:
			continue
		}
		for i, mb := range e.Members {
			into[e.Values[i].Value] = mb.Expr
		}
	}
	for _, md := range v.Modes {
		rt.Mode[md.ID.Snake] = md.Expr
		opts := map[string]string{}
		for _, o := range md.Options {
			opts[o.Name.Snake] = o.Attr
		}
		rt.Opt[md.ID.Snake] = opts
		rt.Options[md.ID.Snake] = md.OptionsClass
	}
	return rt
}

// PythonField is a config field or a mode option in Python.
type PythonField struct {
	*Field
	Attr       string
	Annotation string
	// Declaration is the dataclass default: a literal or field(...).
	Declaration string
	// Value is the default as a plain expression (tests, README).
	Value string
	// Comment is the #: doc comment block above the attribute.
	Comment string
	// SpecArgs are the keyword arguments of the field's FieldSpec row.
	SpecArgs []string
	// Readme columns.
	ReadmeType, ReadmeDefault, ReadmeDoc string

	// Samples for the tests: a valid environment string, the value it
	// parses to, and the same value in YAML.
	EnvSample, SampleValue, YAMLSample string
	// Rows of the tests' tables: (attr, default), (attr, env, text, value)
	// and (attr, yaml key, yaml text, value).
	DefaultRow, EnvRow, YAMLRow, SecretRow string
}

// PythonEnum is an enum class.
type PythonEnum struct {
	*Enum
	Class   string
	Doc     string // the class docstring
	Members []*PythonMember
}

// PythonMember is an enum member.
type PythonMember struct {
	Name    string // CLIENT_CREDENTIALS
	Value   string // "client_credentials"
	Expr    string // AuthMode.CLIENT_CREDENTIALS
	Comment string
}

// PythonError is an error code.
type PythonError struct {
	*ErrorCode
	Member    string
	Value     string
	Retryable string // True or False
	Comment   string
	ReadmeRFC string
	Row       string // (code, retryable) in test_errors.py
}

// PythonMode is a runtime mode and its options class.
type PythonMode struct {
	*Mode
	Member       string // MOCK
	Value        string // "mock"
	Expr         string // RuntimeMode.MOCK
	Comment      string
	OptionsClass string
	ClassDoc     string
	Options      []*PythonField
	Row          string // (value, member) in test_modes.py
}

// PythonOperation is a client operation.
type PythonOperation struct {
	*Operation
	Name, AsyncName, Result string
	// Params are the parameters after self, with annotation and default.
	Params []string
	// ArgNames are the parameter names, in order, for a call that passes them on.
	ArgNames []string
	Doc      string // docstring of the synchronous method
	AsyncDoc string
	// ReadmeCall is the synchronous call as the README lists it.
	ReadmeCall string
	MethodRow  string // (name, async name) in test_interfaces.py
}

// PythonFlow is a flow selected by an auth mode, with what it requires.
type PythonFlow struct {
	*Flow
	Mode     string   // AuthMode.JWT_BEARER
	Requires []string // field names, as literals
	Methods  []string // allowed ClientAuthMethod members
	// ReadmeRequires lists the required fields for the README.
	ReadmeRequires, ReadmeMethods string
}

// PythonRule is a check of config.py: when Field has Value, the Requires
// fields must be set and AllowedField, if any, must take one of Allowed.
type PythonRule struct {
	Field, Value string // literals
	Requires     []string
	AllowedField string
	Allowed      []string
}

// PythonImport is one `from .module import names` line of __init__.py.
type PythonImport struct {
	Line string
}

// PythonTest is the data of the generated smoke tests.
type PythonTest struct {
	ConfigImport string   // test_config.py's import of the package
	ModesImport  string   // test_modes.py's
	ParsedEnv    []string // variables of fields whose values parse (not text)
	RootLine     string   // the YAML file's first line, as a literal
	// Disallowed are (mode, method) rows of client authentication methods
	// that a flow does not allow.
	Disallowed   []string
	EnvFields    []*PythonField // config fields with an environment variable
	BadEnv       []PythonBadEnv
	BoolEnv      *PythonField // a bool field to try every spelling on
	Required     []string     // the fields required in every flow
	FlowCases    []PythonFlowCase
	URLField     *PythonField
	RangeCases   []PythonRangeCase
	Secrets      []*PythonField
	Precedence   *PythonPrecedence
	NotRetryable *PythonError
	BadOption    *PythonRangeCase
	ModeWithOpts *PythonMode
	// AbstractMethods are every IAuthClient abstract member, sorted.
	AbstractMethods []string
}

// PythonBadEnv is an invalid environment value and the words its error
// must name.
type PythonBadEnv struct {
	Env   string
	Text  string
	Names []string
}

// PythonFlowCase is a configuration that selects a flow.
type PythonFlowCase struct {
	Mode, Method string
	// Missing are the fields validate must name when only the mode and
	// method are set.
	Missing []string
	// Valid are keyword arguments that make the configuration valid,
	// the mode and method included; ValidDict the same as dict entries and
	// YAML as `key: value` lines.
	Valid, ValidDict, YAML []string
}

// PythonRangeCase is a value outside a field's min or max.
type PythonRangeCase struct {
	Attr, Value, Bound string
	Dict               string // {"attr": value}
}

// PythonPrecedence exercises code > environment > file > defaults.
type PythonPrecedence struct {
	Layered                                 *PythonField // set in the file, the environment and code
	FileOnly                                *PythonField // set only in the file
	DefaultOnly                             *PythonField // set nowhere
	FileValue, EnvText, EnvValue, CodeValue string
	// FileLines are the YAML file's lines as string literals.
	FileLines []string
}

func newPythonView(m *Model) *PythonView {
	v := &PythonView{Model: m, ConfigErrorCode: quote("invalid_config"), RefreshBuffer: "300"}
	v.ReadmeIntro = m.Description
	if m.Title != "" {
		v.ReadmeIntro = m.Title + ": " + lowerFirst(m.Description)
	}
	if v.ReadmeIntro == "" {
		v.ReadmeIntro = "The " + m.Python.Distribution + " authentication client."
	}
	v.ConfigDoc = pyDocstring(4, "Configuration of an authentication client.",
		"Build it in code with keyword arguments, from the "+m.EnvPrefix+"* environment variables (from_env), from the `"+m.YAMLRoot+":` section of a YAML file (from_yaml), or from all three with load(), where code wins over the environment, the environment over the file and the file over the defaults. validate() names every problem; repr() never shows a secret.")
	v.ModeEnumDoc = pyDocstring(4, "How a client runs; chosen in code or by the "+m.ModeEnv+" environment variable.")
	v.ErrorCodeDoc = pyDocstring(4, "The OAuth error codes and the client's own, each with its retry classification in RETRYABLE_ERROR_CODES.")
	if f := m.Field("refresh_buffer_seconds"); f != nil && f.HasDefault {
		v.RefreshBuffer = f.Py.Default
	}
	for _, f := range m.Fields {
		pf := newPythonField(m, f, true)
		v.Fields = append(v.Fields, pf)
		if f.Enum != nil && f.Enum == m.AuthModeEnum && v.AuthModeField == nil {
			v.AuthModeField = pf
		}
		if f.Enum != nil && f.Enum == m.ClientAuthMethodEnum && v.ClientAuthMethodField == nil {
			v.ClientAuthMethodField = pf
		}
	}
	for _, e := range m.Enums {
		pe := &PythonEnum{Enum: e, Class: e.Name.Pascal, Doc: pyDocstring(4, e.Doc)}
		for _, ev := range e.Values {
			name := pyIdent(ev.Names.UpperSnake)
			pe.Members = append(pe.Members, &PythonMember{Name: name, Value: quote(ev.Value), Expr: pe.Class + "." + name, Comment: pyComment(4, ev.Doc)})
		}
		v.Enums = append(v.Enums, pe)
	}
	for _, e := range m.Errors {
		doc := e.Doc
		if e.RFC != "" {
			doc += " See " + e.RFC + "."
		}
		if e.Retryable {
			doc += " Retryable."
		}
		pe := &PythonError{ErrorCode: e, Member: pyIdent(e.Names.UpperSnake), Value: quote(e.Code), Retryable: pyBool(e.Retryable), Comment: pyComment(4, doc), ReadmeRFC: e.RFC}
		pe.Row = pyRow(4, pe.Value, pe.Retryable)
		v.Errors = append(v.Errors, pe)
	}
	for _, md := range m.Modes {
		pm := &PythonMode{Mode: md, Member: pyIdent(md.ID.UpperSnake), Value: quote(md.ID.Snake), Comment: pyComment(4, md.Doc), OptionsClass: md.ID.Pascal + "ModeOptions"}
		pm.Expr = "RuntimeMode." + pm.Member
		pm.Row = pyRow(4, pm.Value, pm.Expr)
		if len(md.Options) == 0 {
			pm.ClassDoc = pyDocstring(4, "Options of the "+md.ID.Snake+" mode, which has none.")
		} else {
			pm.ClassDoc = pyDocstring(4, "Options of the "+md.ID.Snake+" mode: "+lowerFirst(md.Doc))
		}
		for _, o := range md.Options {
			pm.Options = append(pm.Options, newPythonField(m, o, false))
		}
		v.Modes = append(v.Modes, pm)
		if md == m.DefaultMode {
			v.DefaultMode = pm
		}
	}
	for _, op := range m.Operations {
		v.Operations = append(v.Operations, newPythonOperation(op))
	}
	for _, fl := range m.Flows {
		if fl.AuthMode == nil || v.AuthModeField == nil || fl.AuthMode.Enum != v.AuthModeField.Enum {
			continue
		}
		pf := &PythonFlow{Flow: fl, Mode: fl.AuthMode.Enum.Name.Pascal + "." + pyIdent(fl.AuthMode.Names.UpperSnake)}
		var names, methods []string
		for _, r := range fl.Requires {
			pf.Requires = append(pf.Requires, quote(r.Name.Snake))
			names = append(names, "`"+r.Name.Snake+"`")
		}
		for _, cam := range fl.ClientAuthMethods {
			pf.Methods = append(pf.Methods, cam.Enum.Name.Pascal+"."+pyIdent(cam.Names.UpperSnake))
			methods = append(methods, "`"+cam.Value+"`")
		}
		pf.ReadmeRequires = strings.Join(names, ", ")
		pf.ReadmeMethods = strings.Join(methods, ", ")
		v.Flows = append(v.Flows, pf)
	}
	v.Rules = pythonRules(v)
	v.Rt = pythonRuntime(v)
	v.HasRuntime = v.Rt.supportsRuntime()
	v.DataclassImport, v.EnumImport = pythonFieldImports(v.Fields)
	var options []*PythonField
	for _, md := range v.Modes {
		options = append(options, md.Options...)
	}
	v.ModesDataclassImport, v.ModesEnumImport = pythonFieldImports(options)
	v.Exports, v.All = pythonExports(v)
	v.ClientTyping, v.ClientTokens = pythonClientImports(v)
	v.Test = pythonTest(v)
	title := m.Title
	if title == "" {
		title = m.Python.Distribution
	}
	v.InitDoc = pyDocstring(0, strings.TrimSuffix(title, ".")+".",
		strings.TrimSpace(m.Description+" This package holds the configuration (AuthClientConfig), the enums, the error codes (AuthError), the runtime modes, the token types and the client and storage interfaces."))
	imports := []string{"AuthClientConfig"}
	if v.AuthModeField != nil && len(v.Flows) > 0 {
		imports = append(imports, v.AuthModeField.Enum.Name.Pascal)
		if v.ReadmeExample.Method != "" {
			imports = append(imports, v.ClientAuthMethodField.Enum.Name.Pascal)
		}
	}
	v.ReadmeImports = strings.Join(imports, ", ")
	if p := v.Test.Precedence; p != nil {
		v.ReadmeOverride = p.Layered.Attr + "=" + p.CodeValue
	}
	v.ReadmeYAML = v.ReadmeExample.YAML
	return v
}

func pythonRules(v *PythonView) []*PythonRule {
	var rules []*PythonRule
	if v.AuthModeField != nil {
		for _, fl := range v.Flows {
			r := &PythonRule{Field: quote(v.AuthModeField.Name.Snake), Value: fl.Mode, Requires: fl.Requires}
			if v.ClientAuthMethodField != nil && len(fl.Methods) > 0 {
				r.AllowedField, r.Allowed = quote(v.ClientAuthMethodField.Name.Snake), fl.Methods
			}
			rules = append(rules, r)
		}
	}
	for _, f := range v.Fields {
		if f.Enum == nil {
			continue
		}
		for _, ev := range f.Enum.Values {
			if len(ev.Requires) == 0 {
				continue
			}
			r := &PythonRule{Field: quote(f.Name.Snake), Value: f.Enum.Name.Pascal + "." + pyIdent(ev.Names.UpperSnake)}
			for _, req := range ev.Requires {
				r.Requires = append(r.Requires, quote(req.Name.Snake))
			}
			rules = append(rules, r)
		}
	}
	return rules
}

// pythonFieldImports are the imports from dataclasses and .enums that
// dataclasses with these fields need.
func pythonFieldImports(fields []*PythonField) (dataclasses, enums string) {
	names := []string{"dataclass"}
	used := map[string]bool{}
	var classes []string
	for _, f := range fields {
		if f.Kind == "list" && len(names) == 1 {
			names = append(names, "field")
		}
		if f.Enum != nil && !used[f.Enum.Name.Pascal] {
			used[f.Enum.Name.Pascal] = true
			classes = append(classes, f.Enum.Name.Pascal)
		}
	}
	if len(classes) > 0 {
		enums = pyImport(".enums", pySortNames(classes))
	}
	return pyImport("dataclasses", names), enums
}

func newPythonField(m *Model, f *Field, config bool) *PythonField {
	pf := &PythonField{Field: f, Attr: pyIdent(f.Name.Snake), Annotation: f.Py.Type, Value: f.Py.Default, Declaration: f.Py.Default}
	if f.Kind == "list" {
		pf.Declaration = "field(default_factory=list)"
		if items := defaultList(f); len(items) > 0 {
			pf.Declaration = "field(default_factory=lambda: " + pf.Value + ")"
		}
	}
	doc := f.Doc
	if f.Unit != "" {
		doc = strings.TrimSuffix(doc, ".") + ". In " + pyUnitWords[f.Unit] + "."
	}
	if config {
		doc += " Environment: " + f.Env + "; YAML: " + m.YAMLRoot + "." + f.YAMLKey + "."
	}
	pf.Comment = pyComment(4, doc)

	pf.SpecArgs = []string{"name=" + quote(f.Name.Snake), "kind=" + quote(f.Kind)}
	if f.Env != "" {
		pf.SpecArgs = append(pf.SpecArgs, "env="+quote(f.Env))
	}
	pf.SpecArgs = append(pf.SpecArgs, "yaml_key="+quote(f.YAMLKey))
	if f.Secret {
		pf.SpecArgs = append(pf.SpecArgs, "secret=True")
	}
	if f.Required {
		pf.SpecArgs = append(pf.SpecArgs, "required=True")
	}
	if f.Enum != nil {
		pf.SpecArgs = append(pf.SpecArgs, "enum="+f.Enum.Name.Pascal)
	}
	if f.Min != nil {
		pf.SpecArgs = append(pf.SpecArgs, "minimum="+pyNumber(f, *f.Min))
	}
	if f.Max != nil {
		pf.SpecArgs = append(pf.SpecArgs, "maximum="+pyNumber(f, *f.Max))
	}

	pf.ReadmeType = f.Kind
	if f.Unit != "" {
		pf.ReadmeType += " (" + f.Unit + ")"
	}
	if f.Enum != nil {
		pf.ReadmeType = "`" + f.Enum.Name.Pascal + "`"
	}
	pf.ReadmeDefault = ""
	switch {
	case !f.HasDefault:
	case f.Kind == "enum":
		pf.ReadmeDefault = "`" + defaultEnum(f).Value + "`"
	case f.Kind == "bool":
		pf.ReadmeDefault = "`" + pf.Value + "`"
	default:
		pf.ReadmeDefault = "`" + fmt.Sprint(f.Default) + "`"
	}
	pf.ReadmeDoc = strings.ReplaceAll(f.Doc, "|", `\|`)
	if f.Required {
		pf.ReadmeDoc = "**Required.** " + pf.ReadmeDoc
	}
	pythonSample(pf)
	indent := 4
	if !config {
		indent = 12 // inside test_modes.py's OPTION_DEFAULTS
	}
	pf.DefaultRow = pyRow(indent, quote(pf.Attr), pf.Value)
	pf.EnvRow = pyRow(4, quote(pf.Attr), quote(f.Env), pf.EnvSample, pf.SampleValue)
	pf.YAMLRow = pyRow(4, quote(pf.Attr), quote(f.YAMLKey), pyStr(pf.YAMLSample), pf.SampleValue)
	pf.SecretRow = pyRow(4, quote(pf.Attr), quote(f.Env), pf.SampleValue)
	return pf
}

var pyUnitWords = map[string]string{"ms": "milliseconds", "s": "seconds"}

// pythonSample fills a field's test samples: a valid value that differs
// from the default where the type allows it.
func pythonSample(pf *PythonField) {
	f := pf.Field
	switch f.Kind {
	case "bool":
		if defaultBool(f) {
			pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote("NO"), "False", "false"
		} else {
			pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote("Yes"), "True", "true"
		}
	case "int", "duration":
		n := defaultInt(f) + 1
		if f.Max != nil && float64(n) > *f.Max {
			n = int64(*f.Max) - 1
		}
		if f.Min != nil && float64(n) < *f.Min {
			n = int64(*f.Min)
		}
		s := strconvInt(n)
		pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote(s), s, s
	case "float":
		x := defaultFloat(f) + 0.5
		if f.Max != nil && x > *f.Max {
			x = *f.Max
			if f.Min != nil {
				x = (*f.Min + *f.Max) / 2
			}
		}
		s := floatLiteral(x)
		pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote(s), s, s
	case "list":
		pf.EnvSample = quote("alpha, beta  gamma")
		pf.SampleValue = pyListValue([]string{"alpha", "beta", "gamma"})
		pf.YAMLSample = "[alpha, beta, gamma]"
	case "enum":
		last := f.Enum.Values[len(f.Enum.Values)-1]
		pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote(last.Value), f.Enum.Name.Pascal+"."+pyIdent(last.Names.UpperSnake), quote(last.Value)
	default:
		var s string
		switch f.Kind {
		case "url":
			s = "https://auth.example.test/" + f.Name.Kebab
		case "path":
			s = "/etc/coyote/" + f.Name.Kebab + ".pem"
		case "secret":
			s = "s3cr3t-" + f.Name.Kebab + "-value"
		default:
			s = "sample-" + f.Name.Kebab
		}
		pf.EnvSample, pf.SampleValue, pf.YAMLSample = quote(s), quote(s), quote(s)
	}
}

func newPythonOperation(op *Operation) *PythonOperation {
	po := &PythonOperation{Operation: op, Name: op.Py.Name, AsyncName: op.Py.AsyncName, Result: op.Py.Result}
	// Required arguments come first, as Python requires.
	args := append([]*Arg(nil), op.Args...)
	sort.SliceStable(args, func(i, j int) bool { return !args[i].Optional && args[j].Optional })
	var argDocs, callArgs []string
	for _, a := range args {
		p := pyIdent(a.Name.Snake) + ": " + a.Py.Type
		if a.Py.Default != "" {
			p += " = " + a.Py.Default
		} else {
			callArgs = append(callArgs, pyIdent(a.Name.Snake))
		}
		po.Params = append(po.Params, p)
		po.ArgNames = append(po.ArgNames, pyIdent(a.Name.Snake))
		argDocs = append(argDocs, pyIdent(a.Name.Snake)+": "+a.Doc)
	}
	var sections []string
	if len(argDocs) > 0 {
		sections = append(sections, pySection("Args:", argDocs))
	}
	if r, ok := pyResults[op.Result]; ok {
		sections = append(sections, "Returns:\n"+r.Returns)
	}
	po.Doc = pyDocstring(8, op.Doc, sections...)
	po.AsyncDoc = pyDocstring(8, "Asynchronous form of "+po.Name+"; see there.")
	po.ReadmeCall = po.Name + "(" + strings.Join(callArgs, ", ") + ")"
	po.MethodRow = pyRow(8, quote(po.Name), quote(po.AsyncName))
	return po
}

func pythonExports(v *PythonView) ([]PythonImport, []string) {
	var enums, modes []string
	for _, e := range v.Enums {
		enums = append(enums, e.Class)
	}
	modes = []string{"DEFAULT_MODE", "MODE_ENV", "MODE_OPTIONS", "MODE_YAML_KEY", "MODES_YAML_KEY", "ModeOptions", "RuntimeMode", "load_mode_config", "mode_from_env", "mode_options"}
	for _, md := range v.Modes {
		modes = append(modes, md.OptionsClass)
	}
	// The modules in isort's order, by name.
	groups := []struct {
		module string
		names  []string
	}{
		{"_protocol", runtimeNames(v, "RetryPolicy")},
		{"cassette", runtimeNames(v, "RecordingAuthClient", "ReplayAuthClient")},
		{"client", []string{"IAuthClient"}},
		{"clock", []string{"Clock"}},
		{"config", []string{"AuthClientConfig"}},
		{"debug", runtimeNames(v, "DebugAuthClient")},
		{"enums", enums},
		{"errors", []string{"RETRYABLE_ERROR_CODES", "AuthError", "ConfigError", "ErrorCode", "is_retryable"}},
		{"factory", runtimeNames(v, "create_auth_client", "create_auth_client_from_file")},
		{"mock", runtimeNames(v, "MockAuthClient")},
		{"modes", modes},
		{"real", runtimeNames(v, "RealAuthClient")},
		{"simulation", runtimeNames(v, "SimulatedAuthClient", "SimulatedServer", "VirtualClock", "simulator_of")},
		{"storage", []string{"IAuthTokenStorage"}},
		{"stores", runtimeNames(v, "FileTokenStorage", "MemoryTokenStorage", "token_storage_from_config")},
		{"tokens", []string{"AuthorizationRequest", "AuthResult", "AuthToken", "IntrospectionResult"}},
	}
	var imports []PythonImport
	var all []string
	for _, g := range groups {
		if len(g.names) == 0 {
			continue
		}
		names := pySortNames(g.names)
		imports = append(imports, PythonImport{Line: pyImport("."+g.module, names)})
		all = append(all, names...)
	}
	// __all__ is sorted as ruff's RUF022 wants: by kind, then case-sensitively.
	all = append(all, "__version__")
	sort.SliceStable(all, func(i, j int) bool {
		if ri, rj := pyNameRank(all[i]), pyNameRank(all[j]); ri != rj {
			return ri < rj
		}
		return all[i] < all[j]
	})
	return imports, all
}

func pythonClientImports(v *PythonView) (typing, tokens string) {
	// Optional is current_token's; list arguments are spelled list[str].
	tokenNames := map[string]bool{"AuthToken": true}
	resultNames := map[string]string{"auth_result": "AuthResult", "authorization_request": "AuthorizationRequest", "introspection": "IntrospectionResult"}
	for _, op := range v.Operations {
		if name, ok := resultNames[op.Operation.Result]; ok {
			tokenNames[name] = true
		}
	}
	return pyImport("typing", []string{"Optional"}), pyImport(".tokens", pySortNames(pyKeys(tokenNames)))
}

func pyKeys(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pythonTest(v *PythonView) PythonTest {
	m := v.Model
	t := PythonTest{}
	required := map[string]bool{}
	for _, f := range v.Fields {
		if f.Env != "" {
			t.EnvFields = append(t.EnvFields, f)
			switch f.Kind {
			case "bool", "int", "duration", "float", "enum":
				t.ParsedEnv = append(t.ParsedEnv, f.Env)
			}
		}
		if f.Required {
			t.Required = append(t.Required, f.Attr)
			required[f.Name.Snake] = true
		}
		if f.Secret {
			t.Secrets = append(t.Secrets, f)
		}
		if f.Kind == "url" && t.URLField == nil {
			t.URLField = f
		}
		if f.Kind == "bool" && f.Env != "" && t.BoolEnv == nil {
			t.BoolEnv = f
		}
		if rc := pythonRangeCase(f); rc != nil {
			t.RangeCases = append(t.RangeCases, *rc)
		}
	}
	seen := map[string]bool{}
	for _, f := range t.EnvFields {
		if seen[f.Kind] {
			continue
		}
		switch f.Kind {
		case "bool":
			t.BadEnv = append(t.BadEnv, PythonBadEnv{Env: f.Env, Text: "maybe", Names: []string{"maybe", "true", "false", "1", "0", "yes", "no"}})
		case "int", "duration":
			t.BadEnv = append(t.BadEnv, PythonBadEnv{Env: f.Env, Text: "12abc", Names: []string{"12abc", "integer"}})
		case "float":
			t.BadEnv = append(t.BadEnv, PythonBadEnv{Env: f.Env, Text: "half", Names: []string{"half", "number"}})
		case "enum":
			b := PythonBadEnv{Env: f.Env, Text: "no_such_value", Names: []string{"no_such_value"}}
			for _, ev := range f.Enum.Values {
				b.Names = append(b.Names, ev.Value)
			}
			t.BadEnv = append(t.BadEnv, b)
		default:
			continue
		}
		seen[f.Kind] = true
	}
	t.RootLine = pyStr(m.YAMLRoot + ":")
	for _, fl := range v.Flows {
		t.FlowCases = append(t.FlowCases, pythonFlowCase(v, fl, required))
		if v.ClientAuthMethodField == nil || len(fl.ClientAuthMethods) == 0 {
			continue
		}
		allowed := map[*EnumValue]bool{}
		for _, cam := range fl.ClientAuthMethods {
			allowed[cam] = true
		}
		for _, ev := range v.ClientAuthMethodField.Enum.Values {
			if !allowed[ev] {
				t.Disallowed = append(t.Disallowed, pyRow(8, fl.Mode, ev.Enum.Name.Pascal+"."+pyIdent(ev.Names.UpperSnake)))
				break
			}
		}
	}
	if len(v.Flows) == 0 {
		v.ReadmeExample = pythonFlowCase(v, nil, required)
	} else {
		v.ReadmeExample = t.FlowCases[0]
	}
	t.Precedence = pythonPrecedence(v)
	for _, e := range v.Errors {
		if !e.ErrorCode.Retryable && t.NotRetryable == nil {
			t.NotRetryable = e
		}
	}
	for _, md := range v.Modes {
		for _, o := range md.Options {
			if rc := pythonRangeCase(o); rc != nil && t.BadOption == nil {
				t.BadOption, t.ModeWithOpts = rc, md
			}
		}
	}
	names := []string{"AuthClientConfig", "AuthError", "ConfigError"}
	seenEnum := map[string]bool{}
	for _, f := range v.Fields {
		if f.Enum != nil && !seenEnum[f.Enum.Name.Pascal] {
			seenEnum[f.Enum.Name.Pascal] = true
			names = append(names, f.Enum.Name.Pascal)
		}
	}
	t.ConfigImport = pyImport(m.Python.Module, pySortNames(names))
	names = []string{"DEFAULT_MODE", "MODE_OPTIONS", "ConfigError", "RuntimeMode", "mode_from_env", "mode_options"}
	if v.HasRuntime {
		names = append(names, "MODE_ENV", "MODE_YAML_KEY", "MODES_YAML_KEY", "AuthClientConfig", "MockAuthClient",
			"create_auth_client", "create_auth_client_from_file", "load_mode_config")
	}
	for _, md := range v.Modes {
		for _, o := range md.Options {
			if o.Enum != nil && !seenEnum[o.Enum.Name.Pascal+" option"] {
				seenEnum[o.Enum.Name.Pascal+" option"] = true
				names = append(names, o.Enum.Name.Pascal)
			}
		}
	}
	t.ModesImport = pyImport(m.Python.Module, pySortNames(names))
	t.AbstractMethods = []string{"current_token"}
	for _, op := range v.Operations {
		t.AbstractMethods = append(t.AbstractMethods, op.Name, op.AsyncName)
	}
	sort.Strings(t.AbstractMethods)
	return t
}

// pythonFlowCase is the configuration of a flow (nil: of no flow in
// particular) with every field it needs.
func pythonFlowCase(v *PythonView, fl *PythonFlow, required map[string]bool) PythonFlowCase {
	fc := PythonFlowCase{}
	needed := map[string]bool{}
	set := func(f *PythonField, py, yaml string) {
		fc.Valid = append(fc.Valid, f.Attr+"="+py)
		fc.ValidDict = append(fc.ValidDict, quote(f.Attr)+": "+py)
		fc.YAML = append(fc.YAML, f.YAMLKey+": "+yaml)
	}
	if fl != nil {
		fc.Mode = fl.Mode
		set(v.AuthModeField, fl.Mode, quote(fl.AuthMode.Value))
		for _, r := range fl.Flow.Requires {
			needed[r.Name.Snake] = true
		}
		if len(fl.ClientAuthMethods) > 0 && v.ClientAuthMethodField != nil {
			method := fl.ClientAuthMethods[0]
			fc.Method = fl.Methods[0]
			set(v.ClientAuthMethodField, fc.Method, quote(method.Value))
			for _, r := range method.Requires {
				needed[r.Name.Snake] = true
			}
		}
	}
	for _, f := range v.Fields {
		if needed[f.Name.Snake] || required[f.Name.Snake] {
			fc.Missing = append(fc.Missing, f.Attr)
			set(f, f.SampleValue, f.YAMLSample)
		}
	}
	return fc
}

// pythonRangeCase is a value just outside a numeric field's bounds.
func pythonRangeCase(f *PythonField) *PythonRangeCase {
	if f.Kind != "int" && f.Kind != "duration" && f.Kind != "float" {
		return nil
	}
	step := 1.0
	if f.Kind == "float" {
		step = 0.5
	}
	var rc *PythonRangeCase
	switch {
	case f.Max != nil:
		rc = &PythonRangeCase{Attr: f.Attr, Value: pyNumber(f.Field, *f.Max+step), Bound: pyNumber(f.Field, *f.Max)}
	case f.Min != nil:
		rc = &PythonRangeCase{Attr: f.Attr, Value: pyNumber(f.Field, *f.Min-step), Bound: pyNumber(f.Field, *f.Min)}
	default:
		return nil
	}
	rc.Dict = "{" + quote(rc.Attr) + ": " + rc.Value + "}"
	return rc
}

// pythonPrecedence picks a plain string field to set in every layer, a
// second field to set only in the file and a field with a default to set
// nowhere.
func pythonPrecedence(v *PythonView) *PythonPrecedence {
	p := &PythonPrecedence{}
	for _, f := range v.Fields {
		switch {
		case f.Env == "" || f.Secret:
		case p.Layered == nil && (f.Kind == "string" || f.Kind == "path" || f.Kind == "url"):
			p.Layered = f
		case p.FileOnly == nil && f.Kind != "enum":
			p.FileOnly = f
		case p.DefaultOnly == nil && f.HasDefault:
			p.DefaultOnly = f
		}
	}
	if p.Layered == nil || p.FileOnly == nil || p.DefaultOnly == nil {
		return nil
	}
	value := func(layer string) string {
		if p.Layered.Kind == "url" {
			return "https://" + layer + ".example.test"
		}
		return layer + "-value"
	}
	p.FileValue = quote(value("file"))
	p.FileLines = []string{
		pyStr(v.YAMLRoot + ":"),
		pyStr("  " + p.Layered.YAMLKey + ": " + quote(value("file"))),
		pyStr("  " + p.FileOnly.YAMLKey + ": " + p.FileOnly.YAMLSample),
	}
	p.EnvText = quote(value("env"))
	p.EnvValue = p.EnvText
	p.CodeValue = quote(value("code"))
	return p
}

// pyIdent makes a name safe as a Python identifier.
func pyIdent(s string) string {
	if pyKeywords[s] {
		return s + "_"
	}
	return s
}

var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyNumber spells a bound of a numeric field as a literal of its type.
func pyNumber(f *Field, x float64) string {
	if f.Kind == "float" {
		return floatLiteral(x)
	}
	return strconv.FormatInt(int64(x), 10)
}

func pyListValue(items []string) string { return listLiteral(items, "[", "]") }

// pyWrap breaks text into lines of at most width characters.
func pyWrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// pyComment is a `#:` documentation comment, indented, without the final
// newline.
func pyComment(indent int, text string) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for i, l := range pyWrap(text, pyTextWidth-indent-3) {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(pad + "#: " + l)
	}
	return b.String()
}

// pySection is a Google-style docstring section: a heading and entries
// indented under it, continuation lines indented once more.
func pySection(heading string, entries []string) string {
	return heading + "\n" + strings.Join(entries, "\n")
}

// pyDocstring is a docstring indented by indent spaces (the first line
// unindented): the summary and each section, separated by blank lines.
func pyDocstring(indent int, summary string, sections ...string) string {
	pad := strings.Repeat(" ", indent)
	width := pyTextWidth - indent
	var lines []string
	lines = append(lines, pyWrap(summary, width-3)...)
	if len(sections) == 0 && len(lines) == 1 && !strings.HasSuffix(summary, `"`) {
		return `"""` + summary + `"""`
	}
	for _, s := range sections {
		lines = append(lines, "")
		parts := strings.Split(s, "\n")
		if len(parts) == 1 {
			lines = append(lines, pyWrap(parts[0], width)...)
			continue
		}
		lines = append(lines, parts[0])
		if parts[0] == "Returns:" {
			for _, l := range pyWrap(strings.Join(parts[1:], " "), width-4) {
				lines = append(lines, "    "+l)
			}
			continue
		}
		for _, entry := range parts[1:] {
			for i, l := range pyWrap(entry, width-8) {
				if i == 0 {
					lines = append(lines, "    "+l)
				} else {
					lines = append(lines, "        "+l)
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString(`"""`)
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\n")
			if l != "" {
				b.WriteString(pad)
			}
		}
		b.WriteString(l)
	}
	b.WriteString("\n" + pad + `"""`)
	return b.String()
}

// pyStr is a Python string literal as black writes it: double quotes
// unless the text holds double quotes and no single ones.
func pyStr(s string) string {
	if strings.Contains(s, `"`) && !strings.Contains(s, "'") && !strings.Contains(s, `\`) {
		return "'" + s + "'"
	}
	return quote(s)
}

// pyRow is a tuple as an element of a list, indented, with its trailing
// comma: on one line when it fits, else one item a line, as black writes it.
func pyRow(indent int, items ...string) string {
	pad := strings.Repeat(" ", indent)
	inner := strings.Join(items, ", ")
	if len(items) == 1 {
		inner += ","
	}
	if line := pad + "(" + inner + "),"; len(line) <= pyLineWidth {
		return line
	}
	return pad + "(\n" + pad + "    " + strings.Join(items, ",\n"+pad+"    ") + ",\n" + pad + "),"
}

// pyImport is `from module import names`, exploded one name a line when
// it does not fit, as black writes it.
func pyImport(module string, names []string) string {
	line := "from " + module + " import " + strings.Join(names, ", ")
	if len(line) <= pyLineWidth {
		return line
	}
	return "from " + module + " import (\n    " + strings.Join(names, ",\n    ") + ",\n)"
}

// pyNameRank orders constants before classes before everything else.
func pyNameRank(s string) int {
	switch {
	case strings.ToUpper(s) == s && strings.ToLower(s) != s:
		return 0
	case unicode.IsUpper(rune(s[0])):
		return 1
	}
	return 2
}

// pySortNames orders imported names as isort does: constants, classes,
// then functions, each alphabetically.
func pySortNames(names []string) []string {
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := pyNameRank(out[i]), pyNameRank(out[j]); ri != rj {
			return ri < rj
		}
		return strings.ToLower(out[i]) < strings.ToLower(out[j])
	})
	return out
}

// runtimeNames are names that exist only in a package with the runtime.
func runtimeNames(v *PythonView, names ...string) []string {
	if !v.HasRuntime {
		return nil
	}
	return names
}
