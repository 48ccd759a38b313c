package model

import (
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The C++ package: C++17, CMake, vcpkg. Types are PascalCase, members and
// functions snake_case (the standard library's style for functions, the
// common one for types); durations are std::chrono types named by the
// field's unit; secrets are SecretString, which never prints its value.
//
// Everything the C++ templates print is computed here, in CppView and the
// per-construct views below, so that the templates make no decisions.

const (
	cppEmptyInit    = "{}" // value-initialization: "", empty list, zero
	cppSecretType   = "SecretString"
	cppStringType   = "std::string"
	cppListType     = "std::vector<std::string>"
	cppTestEnumText = "not-a-valid-value"
)

// cppLineWidth is the column limit of the generated .clang-format; long
// declarations are broken one parameter per line the way clang-format
// breaks them with that style.
const cppLineWidth = 100

// cppDocWidth is where doc comments are wrapped, not counting their indent.
const cppDocWidth = 76

func cppField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "bool", Default: strconvBool(defaultBool(f)), Parse: "parse_value"}
	case "int":
		return TypedValue{Type: "std::int64_t", Default: strconvInt(defaultInt(f)), Parse: "parse_value"}
	case "duration":
		t := cppChrono(f.Unit)
		return TypedValue{Type: t, Default: t + "{" + strconvInt(defaultInt(f)) + "}", Parse: "parse_value"}
	case "float":
		return TypedValue{Type: "double", Default: floatLiteral(defaultFloat(f)), Parse: "parse_value"}
	case "list":
		return TypedValue{Type: cppListType, Default: listLiteral(defaultList(f), "{", "}"), Parse: "parse_value"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "::" + v.Names.Pascal, Parse: "parse_value"}
	case "secret":
		return TypedValue{Type: cppSecretType, Default: cppStringDefault(f), Parse: "parse_value"}
	}
	return TypedValue{Type: cppStringType, Default: cppStringDefault(f), Parse: "parse_value"}
}

func cppStringDefault(f *Field) string {
	if s := defaultString(f); s != "" {
		return quote(s)
	}
	return cppEmptyInit
}

// cppChrono is the std::chrono type of a duration in unit ("ms" or "s").
func cppChrono(unit string) string {
	if unit == "ms" {
		return "std::chrono::milliseconds"
	}
	return "std::chrono::seconds"
}

// cppArgValueType is the by-value type of an operation argument.
func cppArgValueType(kind string) string {
	switch kind {
	case "bool":
		return "bool"
	case "int":
		return "std::int64_t"
	case "list":
		return cppListType
	case "secret":
		return cppSecretType
	}
	return cppStringType
}

func cppArg(a *Arg) TypedValue {
	t := cppArgValueType(a.Kind)
	if a.Kind != "bool" && a.Kind != "int" {
		t = "const " + t + "&"
	}
	if a.Optional {
		return TypedValue{Type: t, Default: cppEmptyInit}
	}
	return TypedValue{Type: t}
}

func cppOperation(op *Operation) OperationSig {
	var r string
	switch op.Result {
	case "auth_result":
		r = "AuthResult"
	case "token":
		r = "std::optional<AuthToken>"
	case "authorization_request":
		r = "AuthorizationRequest"
	case "bool":
		r = "bool"
	case "introspection":
		r = "IntrospectionResult"
	default:
		r = "void"
	}
	return OperationSig{Name: cppIdent(op.ID.Snake), AsyncName: op.ID.Snake + "_async", Result: r, AsyncResult: "std::future<" + r + ">"}
}

// cppKeywords are the C++ keywords and alternative tokens a snake_case spec
// name could collide with; such names get a trailing underscore.
var cppKeywords = map[string]bool{
	"alignas": true, "alignof": true, "and": true, "and_eq": true, "asm": true, "auto": true, "bitand": true,
	"bitor": true, "bool": true, "break": true, "case": true, "catch": true, "char": true, "class": true,
	"compl": true, "const": true, "const_cast": true, "constexpr": true, "continue": true, "decltype": true,
	"default": true, "delete": true, "do": true, "double": true, "dynamic_cast": true, "else": true, "enum": true,
	"explicit": true, "export": true, "extern": true, "false": true, "float": true, "for": true, "friend": true,
	"goto": true, "if": true, "inline": true, "int": true, "long": true, "mutable": true, "namespace": true,
	"new": true, "noexcept": true, "not": true, "not_eq": true, "nullptr": true, "operator": true, "or": true,
	"or_eq": true, "private": true, "protected": true, "public": true, "register": true,
	"reinterpret_cast": true, "return": true, "short": true, "signed": true, "sizeof": true, "static": true,
	"static_assert": true, "static_cast": true, "struct": true, "switch": true, "template": true, "this": true,
	"thread_local": true, "throw": true, "true": true, "try": true, "typedef": true, "typeid": true,
	"typename": true, "union": true, "unsigned": true, "using": true, "virtual": true, "void": true,
	"volatile": true, "wchar_t": true, "while": true, "xor": true, "xor_eq": true,
}

func cppIdent(snake string) string {
	if cppKeywords[snake] {
		return snake + "_"
	}
	return snake
}

// CppView is the data of every C++ template: the model and the C++ names,
// types, literals and test fixtures computed from it.
type CppView struct {
	*Model

	// DisplayTitle is the spec's title, or its name without one; Summary
	// adds the description when there is one.
	DisplayTitle string
	Summary      string
	// PackageName is the CMake package (find_package) and the library target.
	PackageName string
	// ExportName is the exported target's name without its namespace, so
	// that users link CMakeNamespace + ExportName (coyote::infra_security).
	ExportName string
	// Alias is CMakeNamespace + ExportName, also defined in the build tree.
	Alias string
	// OptionPrefix prefixes the CMake options (COYOTE_INFRA_SECURITY_BUILD_TESTS).
	OptionPrefix string
	// ExportMacro marks exported symbols; CMake's GenerateExportHeader
	// writes it to ExportHeader in the build tree.
	ExportMacro  string
	StaticDefine string
	ExportHeader string
	// NamespaceAlias is the short namespace alias README examples use.
	NamespaceAlias string
	// Umbrella is the include path of the header that includes all others.
	Umbrella string
	// Headers are the include paths of the public headers other than
	// Umbrella, sorted; Sources the library's .cpp files and Tests the test
	// files.
	Headers []string
	Sources []string
	Tests   []string
	// Example is the example program's source under examples/.
	Example string
	// ExampleTarget is the example program's CMake target.
	ExampleTarget string
	// TestTarget is the test executable's CMake target.
	TestTarget string

	Fields    []*CppField
	Enums     []*CppEnum
	ErrorEnum *CppEnum
	ModeEnum  *CppEnum
	// DefaultMode is the value of ModeEnum that applies when ModeEnv is
	// unset, DefaultModeConstant the constant that holds it, and
	// ModeFromEnv the function that reads ModeEnv.
	DefaultMode         *CppEnumValue
	DefaultModeConstant string
	ModeFromEnv         string
	Errors              []*CppErrorCode
	// RetryableErrors and PermanentErrors split Errors by classification.
	RetryableErrors []*CppErrorCode
	PermanentErrors []*CppErrorCode
	// Modes are the runtime modes that have options.
	Modes      []*CppMode
	Operations []*CppOperation
	// AuthModeField is the config field of the auth_mode enum, or nil;
	// ClientAuthMethodField the one of the client_auth_method enum.
	AuthModeField         *CppField
	ClientAuthMethodField *CppField
	// FlowChecks are the flow requirements beyond the always-required
	// fields, one per auth mode that has any; ValueChecks the fields that
	// an enum field's value requires, one per value that requires any.
	// Rules are both, in the order validate() checks them.
	FlowChecks  []*CppRule
	ValueChecks []*CppRule
	Rules       []*CppRule
	// AllowedMethods are the client authentication methods each auth mode
	// allows, one per flow that an auth mode selects; empty without both
	// AuthModeField and ClientAuthMethodField.
	AllowedMethods []*CppAllowedMethods
	// RefreshBuffer is the default buffer of AuthToken::needs_refresh, a
	// std::chrono::seconds expression: the refresh_buffer_seconds field's
	// default when the spec has it.
	RefreshBuffer string
	// ExampleField is the field the README sets in code: the first
	// required field, or the first field.
	ExampleField *CppField
	// EnvVariables are the environment variables the package reads, in
	// spec order (config fields, then the mode variable).
	EnvVariables []string

	// Test fixtures for the generated tests.
	Test *CppTestData
}

// Call spells the statement fn(args...); broken over lines the way
// clang-format breaks it when it is longer than the column limit.
func (v *CppView) Call(indent int, fn string, args ...string) string {
	return cppCall(indent, fn, args, ";")
}

// Decl spells prefix(params...)suffix, a declaration or the head of a
// definition, broken over lines the way clang-format breaks it.
func (v *CppView) Decl(indent int, prefix, suffix string, params ...string) string {
	return cppCall(indent, prefix, params, suffix)
}

// CppFile is the data of one C++ file: the view and the file's own names.
type CppFile struct {
	*CppView
	// Guard is the include guard of a header, empty for other files.
	Guard string
}

// CppField is a config field or a mode option as C++ declares it.
type CppField struct {
	*Field
	Member string
	Type   string
	// Initializer completes the member's declaration: " = true",
	// "{300}", `{"a", "b"}`, or "" for a default-constructed member.
	Initializer string
	// DefaultExpr is the default as a typed expression, for tests:
	// std::chrono::seconds{300}, SecretString{}, AuthMode::ClientCredentials.
	DefaultExpr string
	// DocLines are the member's doc comment: the spec doc, then where the
	// value comes from.
	DocLines []string
	// YAMLPath is the key under the YAML root, e.g. authentication.server_url,
	// or the option's name under its mode, e.g. mock.failure_rate.
	YAMLPath string
	// ProblemName names the field in validation problems.
	ProblemName string
	// C++ string literals of the environment variable, the YAML key, the
	// field's name, ProblemName, and where a required value can be set.
	EnvLit, KeyLit, NameLit, ProblemLit, SourcesLit string
	// Sources is where a value can be set: "COYOTE_AUTH_SERVER_URL or
	// authentication.server_url".
	Sources string
	// IsURL reports whether validation checks the value's URL syntax.
	IsURL bool
	// MinExpr and MaxExpr are the bounds as double literals, empty when unset.
	MinExpr string
	MaxExpr string
	// DefaultText is the default as README shows it; ExampleYAML the value
	// a YAML example sets.
	DefaultText string
	ExampleYAML string
	// ExampleExpr is ExampleYAML as a C++ value, for README examples.
	ExampleExpr string
	// InExample reports whether the README's YAML example sets the field:
	// required fields and fields with a default.
	InExample bool
	// Samples are values distinct from the default, per configuration
	// layer, for the generated tests.
	SampleFile, SampleEnv, SampleCode *CppSample
	// Below and Above are values out of the field's bounds, or nil.
	Below, Above *CppSample
}

// CppSample is one test value of a field in every spelling a test needs.
type CppSample struct {
	Env    string // the environment variable's text
	EnvLit string // Env as a C++ string literal
	YAML   string // the value as a YAML flow scalar or sequence
	Expr   string // the C++ value it parses to
}

// CppEnum is a closed set of values as a C++ enum class with its
// to_string / from_string functions.
type CppEnum struct {
	// ExportMacro marks the enum's functions exported from the library.
	ExportMacro string
	Type        string // AuthMode
	DocLines    []string
	FromString  string // auth_mode_from_string
	AllValues   string // kAuthModeValues
	Values      []*CppEnumValue
	// Declarations of the exported functions, and the heads of their
	// definitions, each broken over lines when long.
	ToStringDecl, FromStringDecl, StreamDecl string
	ToStringDef, FromStringDef, StreamDef    string
}

// CppEnumValue is one enumerator.
type CppEnumValue struct {
	Text     string // as in configuration and on the wire
	Member   string // ClientCredentials
	Expr     string // AuthMode::ClientCredentials
	DocLines []string
	// Pad follows "Expr," in the values array so that the trailing
	// comments line up, as clang-format aligns them.
	Pad string
}

// CppErrorCode is an error code with its retry classification.
type CppErrorCode struct {
	*ErrorCode
	Value *CppEnumValue
}

// CppMode is a runtime mode with options and the struct that holds them.
type CppMode struct {
	Value    *CppEnumValue
	Struct   string // MockOptions
	DocLines []string
	Options  []*CppField
}

// CppOperation is a client operation: the public non-virtual functions
// (with default arguments) and the private virtual functions an
// implementation overrides.
type CppOperation struct {
	*Operation
	Name      string
	AsyncName string
	Result    string
	// AsyncResult is std::future<Result>.
	AsyncResult string
	// Signature is the synchronous function on one line, for the README.
	Signature string
	// Virtual and AsyncVirtual are the private virtual functions.
	Virtual      string
	AsyncVirtual string
	Void         bool
	DocLines     []string
	Args         []*CppArg
	// Declarations of the four functions, broken over lines when long,
	// without the trailing body or "= 0;". Indented for a class body.
	SyncDecl         string
	AsyncDecl        string
	VirtualDecl      string
	AsyncVirtualDecl string
	// Calls forwarding the public functions to the virtual ones, and the
	// default asynchronous implementation.
	SyncForward    string
	AsyncForward   string
	AsyncDefault   string
	TestDoubleDecl string
	// Statements calling the public functions in tests: with every
	// argument, and with the required ones only; and the asynchronous
	// function with the required ones, waiting for its result.
	TestCall         string
	TestCallDefaults string
	TestAsyncCall    string
}

// CppArg is an operation argument.
type CppArg struct {
	*Arg
	Name      string
	ValueType string // by value, for the asynchronous functions
	ParamType string // const std::string& etc., for the synchronous ones
	// Default is the default argument, empty for required arguments and
	// optional ones followed by a required one.
	Default string
	// Sample is a C++ value of the argument's type for tests.
	Sample string
}

// CppRule is a validation rule: when the enum field On has Value, Fields
// must be set.
type CppRule struct {
	On    *CppField
	Value *CppEnumValue
	// Condition is `auth_mode is "jwt_bearer"`, ConditionLit its C++ literal.
	Condition    string
	ConditionLit string
	Fields       []*CppNeed
	// Test is the generated test of the rule.
	Test *CppRuleTest
}

// CppNeed is a field a rule requires.
type CppNeed struct {
	*CppField
	// Message is the problem validate() reports when the field is missing.
	Message string
}

// CppRuleTest checks one rule: a valid configuration with the rule's value
// and Missing cleared has exactly the problems Expect states, and, once
// Missing are set again, those ExpectRemaining states (a client
// authentication method the auth mode does not allow).
type CppRuleTest struct {
	Name    string // JwtBearerAuthModeNeedsItsFields
	Missing []*CppNeed
	// Expect and ExpectRemaining are EXPECT_EQ statements on
	// problem_text(config.validate()).
	Expect          string
	ExpectRemaining string
}

// CppAllowedMethods are the client authentication methods auth mode Mode
// allows, as the constant Constant of type Type.
type CppAllowedMethods struct {
	Mode         *CppEnumValue
	Condition    string
	ConditionLit string
	Constant     string // kJwtBearerClientAuthMethods
	Type         string // std::array<ClientAuthMethod, 4>
	Methods      []*CppEnumValue
}

// CppAllowedCase is one auth mode and client authentication method pair of
// the generated test; Expect is the EXPECT_EQ statement on the test's
// allowed(mode, method), the problem text of that pair.
type CppAllowedCase struct {
	Mode, Method *CppEnumValue
	Expect       string
}

// CppCaseVariant is a value of an enum field spelled in another case,
// which loading rejects.
type CppCaseVariant struct {
	Field   *CppField
	Text    string
	TextLit string
	// PaddedLit is the literal of the field's SampleEnv followed by a
	// blank, which loading rejects too.
	PaddedLit string
	// ExpectYAML is the statement that expects YAML setting the field to
	// Text to be an error.
	ExpectYAML string
}

// CppTestData are the choices of the generated tests.
type CppTestData struct {
	// DefaultProblems are the names of the problems of a configuration
	// left at its defaults, in the order validate() reports them.
	DefaultProblems []string
	// Required are the always-required fields; Valid the fields a valid
	// configuration under the default auth mode sets (with their SampleCode).
	Required []*CppField
	Valid    []*CppField
	// URLFields are the url fields; Bounded the fields with a min or max.
	URLFields []*CppField
	Bounded   []*CppField
	Secrets   []*CppField
	// Precedence: a field set only by the file, one set by file and
	// environment, one by file, environment and code; and one left at its
	// default. Nil when the spec has too few string fields.
	Precedence *CppPrecedence
	// First fields of kinds whose environment text can be invalid.
	EnumField, BoolField, IntField *CppField
	// EnumBadText is an invalid value for EnumField.
	EnumBadText string
	// ModeBadText is an invalid MODE value.
	ModeBadText string
	// RetryableCode and PermanentCode are an error code of each class, or nil.
	RetryableCode, PermanentCode *CppErrorCode
	// UnknownCode is an error code that is not in the spec.
	UnknownCode string
	// BoundedOptions are mode options with a min or max.
	BoundedOptions []*CppBoundedOption
	// AllNeeded are the fields any rule requires; AllowedCases every pair
	// of an auth mode with allowed methods and a client authentication
	// method.
	AllNeeded    []*CppField
	AllowedCases []*CppAllowedCase
	// CaseVariants are an enum value of each enum field in another case;
	// ModeCaseVariant a mode so spelled, as a literal, or "".
	CaseVariants    []*CppCaseVariant
	ModeCaseVariant string
	// URLBadSet sets the first url field to a URL that is not http or
	// https; URLBadExpect is the EXPECT_EQ of the problem text it causes.
	URLBadSet    string
	URLBadExpect string
}

// CppPrecedence are the fields of the precedence test.
type CppPrecedence struct {
	FileOnly, FileEnv, FileEnvCode, DefaultOnly *CppField
}

// CppBoundedOption is a mode option with a bound, and its mode's struct.
type CppBoundedOption struct {
	Mode   *CppMode
	Option *CppField
}

func cppFiles(m *Model) []File {
	v := newCppView(m)
	inc := "include/" + m.Cpp.IncludeDir + "/"
	var out []File
	add := func(p, tmpl string, data any) {
		out = append(out, File{Lang: "cpp", Path: p, Template: tmpl, Data: data})
	}
	file := &CppFile{CppView: v}
	for _, f := range []string{".clang-format", ".gitignore", "CMakeLists.txt", "README.md", "vcpkg.json"} {
		add(f, f+".tmpl", file)
	}
	add("cmake/"+v.PackageName+"-config.cmake.in", "config.cmake.in.tmpl", file)
	for _, h := range cppHeaders {
		include := m.Cpp.IncludeDir + "/" + h
		add("include/"+include, h+".tmpl", &CppFile{CppView: v, Guard: cppGuard(include)})
	}
	add(inc+path.Base(v.Umbrella), "umbrella.hpp.tmpl", &CppFile{CppView: v, Guard: cppGuard(v.Umbrella)})
	for _, s := range cppPrivateHeaders {
		add("src/"+s, s+".tmpl", &CppFile{CppView: v, Guard: cppGuard(m.Cpp.IncludeDir + "/src/" + s)})
	}
	for _, s := range cppSources {
		add("src/"+s, s+".tmpl", file)
	}
	for _, t := range cppTests {
		add("tests/"+t, t+".tmpl", &CppFile{CppView: v, Guard: cppGuard(m.Cpp.IncludeDir + "/tests/" + t)})
	}
	add("examples/CMakeLists.txt", "examples.CMakeLists.txt.tmpl", file)
	add("examples/"+v.Example, v.Example+".tmpl", file)
	return out
}

// The package's files by folder; each is rendered from the template of
// the same name plus ".tmpl".
var (
	cppHeaders        = []string{"auth_client.hpp", "config.hpp", "enums.hpp", "errors.hpp", "mode.hpp", "secret_string.hpp", "token.hpp", "token_storage.hpp"}
	cppPrivateHeaders = []string{"values.hpp", "yaml_section.hpp"}
	cppSources        = []string{"config.cpp", "enums.cpp", "errors.cpp", "mode.cpp", "secret_string.cpp", "token.cpp", "values.cpp", "yaml_section.cpp"}
	cppTests          = []string{"auth_client_test.cpp", "config_test.cpp", "environment.hpp", "errors_test.cpp", "mode_test.cpp", "token_test.cpp"}
)

// cppUmbrella names the header that includes all others after the last
// part of the namespace, unless another header has that name.
func cppUmbrella(last string) string {
	if slices.Contains(cppHeaders, last+".hpp") {
		return last + "_all.hpp"
	}
	return last + ".hpp"
}

func cppGuard(include string) string {
	return strings.ToUpper(wordSplit.ReplaceAllString(include, "_")) + "_"
}

func newCppView(m *Model) *CppView {
	parts := m.Cpp.NamespaceParts
	last := parts[len(parts)-1]
	exportName := strings.TrimPrefix(m.Cpp.CMakeTarget, parts[0]+"_")
	if exportName == "" {
		exportName = m.Cpp.CMakeTarget
	}
	stem := strings.ToUpper(m.Cpp.CMakeTarget)
	v := &CppView{
		Model:          m,
		PackageName:    m.Cpp.CMakeTarget,
		ExportName:     exportName,
		Alias:          m.Cpp.CMakeNamespace + exportName,
		OptionPrefix:   stem,
		ExportMacro:    m.Cpp.HeaderGuardStem + "_EXPORT",
		StaticDefine:   m.Cpp.HeaderGuardStem + "_STATIC_DEFINE",
		ExportHeader:   m.Cpp.IncludeDir + "/export.hpp",
		NamespaceAlias: last,
		Umbrella:       m.Cpp.IncludeDir + "/" + cppUmbrella(last),
		Example:        "print_config.cpp",
		ExampleTarget:  "print_config",
		TestTarget:     m.Cpp.CMakeTarget + "_tests",
		RefreshBuffer:  "std::chrono::seconds{300}",
	}
	v.DisplayTitle = m.Title
	if v.DisplayTitle == "" {
		v.DisplayTitle = m.Name
	}
	v.Summary = v.DisplayTitle
	if m.Description != "" {
		v.Summary += ": " + m.Description
	}
	for _, h := range cppHeaders {
		v.Headers = append(v.Headers, m.Cpp.IncludeDir+"/"+h)
	}
	sort.Strings(v.Headers)
	v.Sources = append(v.Sources, cppSources...)
	for _, t := range cppTests {
		if strings.HasSuffix(t, ".cpp") {
			v.Tests = append(v.Tests, t)
		}
	}

	enums := map[*Enum]*CppEnum{}
	for _, e := range m.Enums {
		ce := v.newEnum(e.Name, e.Doc)
		for _, val := range e.Values {
			ce.add(val.Value, val.Names, val.Doc)
		}
		enums[e] = ce
		v.Enums = append(v.Enums, ce)
	}

	for _, f := range m.Fields {
		cf := newCppField(f, enums, m.YAMLRoot+"."+f.YAMLKey, f.Name.Snake)
		cf.DocLines = append(cppDocLines(f.Doc), "")
		cf.DocLines = append(cf.DocLines, cppFieldSource(f, m.YAMLRoot)...)
		v.Fields = append(v.Fields, cf)
		v.EnvVariables = append(v.EnvVariables, f.Env)
		if f.Enum != nil && f.Enum == m.AuthModeEnum && v.AuthModeField == nil {
			v.AuthModeField = cf
		}
		if f.Enum != nil && f.Enum == m.ClientAuthMethodEnum && v.ClientAuthMethodField == nil {
			v.ClientAuthMethodField = cf
		}
		if f.Name.Snake == "refresh_buffer_seconds" && f.Kind == "duration" && f.Unit == "s" {
			v.RefreshBuffer = cf.DefaultExpr
		}
	}
	v.EnvVariables = append(v.EnvVariables, m.ModeEnv)
	for _, f := range v.Fields {
		if v.ExampleField == nil || (f.Required && !v.ExampleField.Required) {
			v.ExampleField = f
		}
	}

	v.ErrorEnum = v.newEnum(NewNames("error_code"), "The OAuth2 error codes the client knows: RFC 6749 section 5.2 and the extensions of the spec.")
	for _, e := range m.Errors {
		val := v.ErrorEnum.add(e.Code, e.Names, e.Doc)
		ce := &CppErrorCode{ErrorCode: e, Value: val}
		v.Errors = append(v.Errors, ce)
		if e.Retryable {
			v.RetryableErrors = append(v.RetryableErrors, ce)
		} else {
			v.PermanentErrors = append(v.PermanentErrors, ce)
		}
	}

	modeNames := NewNames("runtime_mode")
	v.ModeFromEnv = modeNames.Snake + "_from_env"
	v.DefaultModeConstant = "kDefault" + modeNames.Pascal
	v.ModeEnum = v.newEnum(modeNames, "How a client runs: against the authorization server, or without it for tests and debugging.")
	for _, md := range m.Modes {
		val := v.ModeEnum.add(md.ID.Snake, md.ID, md.Doc)
		if md == m.DefaultMode {
			v.DefaultMode = val
		}
		if len(md.Options) == 0 {
			continue
		}
		cm := &CppMode{Value: val, Struct: md.ID.Pascal + "Options",
			DocLines: cppDocLines("Options of the " + md.ID.Snake + " mode. " + md.Doc)}
		for _, o := range md.Options {
			co := newCppField(o, enums, md.ID.Snake+"."+o.YAMLKey, md.ID.Snake+"."+o.Name.Snake)
			co.DocLines = cppDocLines(o.Doc)
			cm.Options = append(cm.Options, co)
		}
		v.Modes = append(v.Modes, cm)
	}
	if v.DefaultMode == nil && len(v.ModeEnum.Values) > 0 {
		v.DefaultMode = v.ModeEnum.Values[0]
	}

	for _, op := range m.Operations {
		v.Operations = append(v.Operations, newCppOperation(op))
	}

	v.FlowChecks, v.ValueChecks = cppRules(m, v, enums)
	v.Rules = append(slices.Clone(v.FlowChecks), v.ValueChecks...)
	v.AllowedMethods = cppAllowedMethodsOf(m, v, enums)
	v.Test = cppTestData(m, v, enums)
	return v
}

func (v *CppView) newEnum(name Names, doc string) *CppEnum {
	e := &CppEnum{
		ExportMacro: v.ExportMacro,
		Type:        name.Pascal,
		DocLines:    cppDocLines(doc),
		FromString:  cppIdent(name.Snake) + "_from_string",
		AllValues:   "k" + name.Pascal + "Values",
	}
	exported := v.ExportMacro + " "
	toString := "std::string_view to_string"
	fromString := "std::optional<" + e.Type + "> " + e.FromString
	stream := "std::ostream& operator<<"
	value := e.Type + " value"
	e.ToStringDecl = cppCall(0, exported+toString, []string{value}, " noexcept;")
	e.FromStringDecl = cppCall(0, exported+fromString, []string{"std::string_view text"}, " noexcept;")
	e.StreamDecl = cppCall(0, exported+stream, []string{"std::ostream& out", value}, ";")
	e.ToStringDef = cppCall(0, toString, []string{value}, " noexcept {")
	e.FromStringDef = cppCall(0, fromString, []string{"std::string_view text"}, " noexcept {")
	e.StreamDef = cppCall(0, stream, []string{"std::ostream& out", value}, " {")
	return e
}

func (e *CppEnum) add(text string, n Names, doc string) *CppEnumValue {
	v := &CppEnumValue{Text: text, Member: n.Pascal, Expr: e.Type + "::" + n.Pascal, DocLines: cppDocLines(doc)}
	e.Values = append(e.Values, v)
	width := 0
	for _, x := range e.Values {
		width = max(width, len(x.Expr))
	}
	for _, x := range e.Values {
		x.Pad = strings.Repeat(" ", width-len(x.Expr)+2)
	}
	return v
}

func (e *CppEnum) value(text string) *CppEnumValue {
	for _, v := range e.Values {
		if v.Text == text {
			return v
		}
	}
	return nil
}

// cppFieldSource says where a config field's value comes from, one line
// each, for its doc.
func cppFieldSource(f *Field, root string) []string {
	var lines []string
	if f.Required {
		lines = append(lines, "Required.")
	}
	return append(lines, "Environment variable: "+f.Env+".", "YAML key: "+root+"."+f.YAMLKey+".")
}

func newCppField(f *Field, enums map[*Enum]*CppEnum, yamlPath, problemName string) *CppField {
	cf := &CppField{Field: f, Member: cppIdent(f.Name.Snake), Type: f.Cpp.Type, YAMLPath: yamlPath,
		ProblemName: problemName, IsURL: f.Kind == "url", DefaultText: cppDefaultText(f)}
	switch f.Kind {
	case "bool":
		cf.Initializer = " = " + f.Cpp.Default
		cf.DefaultExpr = f.Cpp.Default
	case "float":
		cf.Initializer = " = " + f.Cpp.Default
		cf.DefaultExpr = f.Cpp.Default
	case "enum":
		cf.Initializer = " = " + f.Cpp.Default
		cf.DefaultExpr = f.Cpp.Default
	case "int":
		cf.Initializer = " = " + f.Cpp.Default
		cf.DefaultExpr = "std::int64_t{" + f.Cpp.Default + "}"
	case "duration":
		cf.Initializer = "{" + strconvInt(defaultInt(f)) + "}"
		cf.DefaultExpr = f.Cpp.Default
	default: // string, url, path, secret, list
		// A list's default is a braced list already; a string's a literal.
		braced := f.Cpp.Default
		if f.Kind != "list" && braced != cppEmptyInit {
			braced = "{" + braced + "}"
		}
		if braced != cppEmptyInit {
			cf.Initializer = braced
		}
		cf.DefaultExpr = cppMacroSafe(f.Cpp.Type + braced)
	}
	cf.EnvLit = quote(f.Env)
	cf.KeyLit = quote(f.YAMLKey)
	cf.NameLit = quote(f.Name.Snake)
	cf.ProblemLit = quote(problemName)
	cf.Sources = yamlPath
	if f.Env != "" {
		cf.Sources = f.Env + " or " + yamlPath
	}
	cf.SourcesLit = quote(cf.Sources)
	if f.Min != nil {
		cf.MinExpr = floatLiteral(*f.Min)
	}
	if f.Max != nil {
		cf.MaxExpr = floatLiteral(*f.Max)
	}
	cf.ExampleYAML = cppYAMLDefault(f)
	e := enums[f.Enum]
	cf.SampleFile = cppSampleFor(f, e, "file")
	cf.SampleEnv = cppSampleFor(f, e, "env")
	cf.SampleCode = cppSampleFor(f, e, "code")
	cf.Below, cf.Above = cppOutOfBounds(f)
	for _, sample := range []*CppSample{cf.SampleFile, cf.SampleEnv, cf.SampleCode, cf.Below, cf.Above} {
		if sample != nil {
			sample.EnvLit = quote(sample.Env)
		}
	}
	cf.ExampleExpr = cf.DefaultExpr
	if cf.ExampleYAML == "" {
		cf.ExampleYAML, cf.ExampleExpr = cppExample(f)
	}
	cf.InExample = f.Required || f.HasDefault
	return cf
}

// cppDefaultText is a field's default as the README and doc comments show it.
func cppDefaultText(f *Field) string {
	if !f.HasDefault {
		return "none"
	}
	switch f.Kind {
	case "duration":
		return strconvInt(defaultInt(f)) + " " + f.Unit
	case "list":
		return "[" + strings.Join(defaultList(f), ", ") + "]"
	case "float":
		return strconv.FormatFloat(defaultFloat(f), 'g', -1, 64)
	case "int":
		return strconvInt(defaultInt(f))
	case "bool":
		return strconvBool(defaultBool(f))
	}
	return defaultString(f)
}

// cppYAMLDefault is the default as a YAML value, or "" without a default.
func cppYAMLDefault(f *Field) string {
	if !f.HasDefault {
		return ""
	}
	switch f.Kind {
	case "bool":
		return strconvBool(defaultBool(f))
	case "int", "duration":
		return strconvInt(defaultInt(f))
	case "float":
		return strconv.FormatFloat(defaultFloat(f), 'g', -1, 64)
	case "list":
		return listLiteral(defaultList(f), "[", "]")
	}
	return quote(defaultString(f))
}

// cppExample is a plausible value of a field without a default, as YAML
// and as C++, for README examples.
func cppExample(f *Field) (yaml, expr string) {
	var text string
	switch f.Kind {
	case "url":
		text = "https://auth.example.com"
	case "path":
		text = "/etc/coyote/" + f.Name.Kebab + ".pem"
	case "secret":
		return quote("${SECRET}"), cppSecretType + "{" + quote("...") + "}"
	case "list":
		items := []string{"trading", "market-data"}
		return listLiteral(items, "[", "]"), cppListType + listLiteral(items, "{", "}")
	case "bool", "int", "duration", "float", "enum":
		return cppYAMLDefault(f), f.Cpp.Default
	default:
		text = "my-" + f.Name.Kebab
	}
	return quote(text), quote(text)
}

// cppSampleFor is a value of f for one configuration layer ("file", "env"
// or "code"), distinct from the default and from the other layers where
// the field's type allows.
func cppSampleFor(f *Field, e *CppEnum, layer string) *CppSample {
	n := map[string]int{"file": 0, "env": 1, "code": 2}[layer]
	kebab := f.Name.Kebab
	switch f.Kind {
	case "bool":
		b := !defaultBool(f)
		env := map[bool][]string{true: {"true", "YES", "1"}, false: {"false", "No", "0"}}[b][n]
		return &CppSample{Env: env, YAML: strconvBool(b), Expr: strconvBool(b)}
	case "int", "duration":
		i := cppPickInt(f, n)
		s := strconvInt(i)
		expr := "std::int64_t{" + s + "}"
		if f.Kind == "duration" {
			expr = f.Cpp.Type + "{" + s + "}"
		}
		return &CppSample{Env: s, YAML: s, Expr: expr}
	case "float":
		x := cppPickFloat(f, n)
		s := strconv.FormatFloat(x, 'g', -1, 64)
		return &CppSample{Env: s, YAML: s, Expr: floatLiteral(x)}
	case "list":
		items := []string{layer + "-a", layer + "-b", layer + "-c"}
		return &CppSample{
			Env:  items[0] + ", " + items[1] + "  " + items[2],
			YAML: listLiteral(items, "[", "]"),
			Expr: cppMacroSafe(cppListType + listLiteral(items, "{", "}")),
		}
	case "enum":
		val := cppPickEnum(f, e, n)
		return &CppSample{Env: val.Text, YAML: quote(val.Text), Expr: val.Expr}
	case "url":
		s := "https://" + layer + ".example.com/" + kebab
		return &CppSample{Env: s, YAML: quote(s), Expr: quote(s)}
	case "path":
		s := "/etc/coyote/" + layer + "/" + kebab + ".pem"
		return &CppSample{Env: s, YAML: quote(s), Expr: quote(s)}
	case "secret":
		s := "s3cr3t-" + kebab + "-from-" + layer
		return &CppSample{Env: s, YAML: quote(s), Expr: cppSecretType + "{" + quote(s) + "}"}
	}
	s := kebab + "-from-" + layer
	return &CppSample{Env: s, YAML: quote(s), Expr: quote(s)}
}

// cppMacroSafe parenthesizes an expression with a comma, so that it can be
// an argument of a macro such as EXPECT_EQ.
func cppMacroSafe(expr string) string {
	if strings.Contains(expr, ",") {
		return "(" + expr + ")"
	}
	return expr
}

func cppInBounds(f *Field, x float64) bool {
	return (f.Min == nil || x >= *f.Min) && (f.Max == nil || x <= *f.Max)
}

// cppPickInt is the n-th integer distinct from the default within bounds,
// searching upwards first, then downwards.
func cppPickInt(f *Field, n int) int64 {
	def := defaultInt(f)
	var found []int64
	for d := int64(1); d <= 8 && len(found) <= n; d++ {
		if x := def + d; cppInBounds(f, float64(x)) {
			found = append(found, x)
		}
	}
	for d := int64(1); d <= 8 && len(found) <= n; d++ {
		if x := def - d; cppInBounds(f, float64(x)) {
			found = append(found, x)
		}
	}
	if n < len(found) {
		return found[n]
	}
	return def
}

func cppPickFloat(f *Field, n int) float64 {
	def := defaultFloat(f)
	var found []float64
	for _, d := range []float64{0.25, 0.5, 0.75, -0.25, -0.5, -0.75} {
		if x := def + d; cppInBounds(f, x) && len(found) <= n {
			found = append(found, x)
		}
	}
	if n < len(found) {
		return found[n]
	}
	return def
}

func cppPickEnum(f *Field, e *CppEnum, n int) *CppEnumValue {
	def := defaultEnum(f)
	var others []*CppEnumValue
	for _, v := range e.Values {
		if v.Text != def.Value {
			others = append(others, v)
		}
	}
	if len(others) == 0 {
		return e.value(def.Value)
	}
	return others[n%len(others)]
}

// cppOutOfBounds are values just below the minimum and above the maximum.
func cppOutOfBounds(f *Field) (below, above *CppSample) {
	mk := func(x float64) *CppSample {
		switch f.Kind {
		case "int":
			s := strconvInt(int64(x))
			return &CppSample{Env: s, YAML: s, Expr: "std::int64_t{" + s + "}"}
		case "duration":
			s := strconvInt(int64(x))
			return &CppSample{Env: s, YAML: s, Expr: f.Cpp.Type + "{" + s + "}"}
		case "float":
			return &CppSample{Env: floatLiteral(x), YAML: floatLiteral(x), Expr: floatLiteral(x)}
		}
		return nil
	}
	step := 1.0
	if f.Kind == "float" {
		step = 0.5
	}
	if f.Min != nil {
		below = mk(*f.Min - step)
	}
	if f.Max != nil {
		above = mk(*f.Max + step)
	}
	return below, above
}

func newCppOperation(op *Operation) *CppOperation {
	co := &CppOperation{
		Operation:    op,
		Name:         op.Cpp.Name,
		AsyncName:    op.Cpp.AsyncName,
		Result:       op.Cpp.Result,
		AsyncResult:  op.Cpp.AsyncResult,
		Virtual:      "do_" + op.ID.Snake,
		AsyncVirtual: "do_" + op.ID.Snake + "_async",
		Void:         op.Cpp.Result == "void",
	}
	co.DocLines = cppDocLines(op.Doc)
	for i, a := range op.Args {
		if i == 0 {
			co.DocLines = append(co.DocLines, "")
		}
		co.DocLines = append(co.DocLines, cppDocLines("@param "+cppIdent(a.Name.Snake)+" "+a.Doc)...)
	}

	// A default argument is only allowed when every later one has one.
	trailing := true
	for i := len(op.Args) - 1; i >= 0; i-- {
		a := op.Args[i]
		ca := &CppArg{Arg: a, Name: cppIdent(a.Name.Snake), ValueType: cppArgValueType(a.Kind), ParamType: a.Cpp.Type}
		trailing = trailing && a.Optional
		if trailing {
			ca.Default = a.Cpp.Default
		}
		ca.Sample = cppArgSample(a)
		co.Args = append([]*CppArg{ca}, co.Args...)
	}

	var syncParams, asyncParams, virtualParams, asyncVirtualParams, names, moved, samples []string
	for _, a := range co.Args {
		def := ""
		if a.Default != "" {
			def = " = " + a.Default
		}
		syncParams = append(syncParams, a.ParamType+" "+a.Name+def)
		asyncParams = append(asyncParams, a.ValueType+" "+a.Name+def)
		virtualParams = append(virtualParams, a.ParamType+" "+a.Name)
		asyncVirtualParams = append(asyncVirtualParams, a.ValueType+" "+a.Name)
		names = append(names, a.Name)
		moved = append(moved, "std::move("+a.Name+")")
		samples = append(samples, a.Sample)
	}
	const member = 2 // indent of a class member
	const body = 4   // indent of a statement in an inline member function
	co.Signature = co.Result + " " + co.Name + "(" + strings.Join(syncParams, ", ") + ")"
	co.SyncDecl = cppCall(member, co.Result+" "+co.Name, syncParams, " {")
	co.AsyncDecl = cppCall(member, co.AsyncResult+" "+co.AsyncName, asyncParams, " {")
	co.VirtualDecl = cppCall(member, "virtual "+co.Result+" "+co.Virtual, virtualParams, " = 0;")
	co.AsyncVirtualDecl = cppCall(member, "virtual "+co.AsyncResult+" "+co.AsyncVirtual, asyncVirtualParams, " {")
	ret := "return "
	if co.Void {
		ret = ""
	}
	co.SyncForward = cppCall(body, ret+co.Virtual, names, ";")
	co.AsyncForward = cppCall(body, "return "+co.AsyncVirtual, moved, ";")
	co.AsyncDefault = cppCall(body, "return std::async",
		append([]string{"std::launch::async", "&AuthClient::" + co.Virtual, "this"}, moved...), ";")
	co.TestDoubleDecl = cppCall(member, co.Result+" "+co.Virtual, virtualParams, " override {")
	var required []string
	for _, a := range co.Args {
		if a.Default == "" {
			required = append(required, a.Sample)
		}
	}
	co.TestCall = cppCall(member, "client."+co.Name, samples, ";")
	co.TestCallDefaults = cppCall(member, "client."+co.Name, required, ";")
	co.TestAsyncCall = cppCall(member, "client."+co.AsyncName, required, ".get();")
	return co
}

func cppArgSample(a *Arg) string {
	switch a.Kind {
	case "bool":
		return "true"
	case "int":
		return "std::int64_t{7}"
	case "list":
		return cppListType + "{\"" + a.Name.Kebab + "\"}"
	case "secret":
		return cppSecretType + "{\"" + a.Name.Kebab + "\"}"
	}
	return quote(a.Name.Kebab)
}

// cppCall spells prefix(args...)suffix at indent, on one line when it fits
// in cppLineWidth, else one argument per line aligned after the opening
// parenthesis (clang-format with BinPackParameters and BinPackArguments
// off), or, when even that does not fit, every argument on its own line
// indented by four more than the statement.
func cppCall(indent int, prefix string, args []string, suffix string) string {
	pad := strings.Repeat(" ", indent)
	one := pad + prefix + "(" + strings.Join(args, ", ") + ")" + suffix
	if len(one) <= cppLineWidth || len(args) == 0 {
		return one
	}
	col := indent + len(prefix) + 1
	fits := true
	for i, a := range args {
		end := ","
		if i == len(args)-1 {
			end = ")" + suffix
		}
		fits = fits && col+len(a)+len(end) <= cppLineWidth
	}
	sep := ",\n" + strings.Repeat(" ", col)
	if fits {
		return pad + prefix + "(" + strings.Join(args, sep) + ")" + suffix
	}
	sep = ",\n" + strings.Repeat(" ", indent+4)
	return pad + prefix + "(\n" + strings.Repeat(" ", indent+4) + strings.Join(args, sep) + ")" + suffix
}

// cppDocLines wraps paragraphs at cppDocWidth, with an empty line between
// paragraphs.
func cppDocLines(paragraphs ...string) []string {
	var out []string
	for i, p := range paragraphs {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if i > 0 && len(out) > 0 {
			out = append(out, "")
		}
		line := ""
		for _, w := range strings.Fields(p) {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) > cppDocWidth:
				out = append(out, line)
				line = w
			default:
				line += " " + w
			}
		}
		out = append(out, line)
	}
	return out
}

// cppRules are the rules of validate() beyond the always-required fields:
// the fields each flow's auth mode requires, then the fields each value of
// an enum field requires.
func cppRules(m *Model, v *CppView, enums map[*Enum]*CppEnum) (flows, values []*CppRule) {
	byField := map[*Field]*CppField{}
	for _, f := range v.Fields {
		byField[f.Field] = f
	}
	rule := func(on *CppField, value *CppEnumValue, requires []*Field) *CppRule {
		if value == nil {
			return nil
		}
		r := &CppRule{On: on, Value: value, Condition: on.Name.Snake + " is " + quote(value.Text)}
		r.ConditionLit = quote(r.Condition)
		seen := map[*CppField]bool{}
		for _, f := range requires {
			cf := byField[f]
			if cf == nil || cf.Required || seen[cf] {
				continue
			}
			seen[cf] = true
			r.Fields = append(r.Fields, &CppNeed{CppField: cf, Message: "required when " + r.Condition + "; set " + cf.Sources})
		}
		if len(r.Fields) == 0 {
			return nil
		}
		return r
	}
	if v.AuthModeField != nil {
		for _, fl := range m.Flows {
			if fl.AuthMode == nil {
				continue
			}
			if r := rule(v.AuthModeField, enums[fl.AuthMode.Enum].value(fl.AuthMode.Value), fl.Requires); r != nil {
				flows = append(flows, r)
			}
		}
	}
	for _, f := range v.Fields {
		if f.Kind != "enum" || f.Field.Enum == nil {
			continue
		}
		for _, val := range f.Field.Enum.Values {
			if r := rule(f, enums[f.Field.Enum].value(val.Value), val.Requires); r != nil {
				values = append(values, r)
			}
		}
	}
	return flows, values
}

// cppAllowedMethodsOf are the client authentication methods each flow's auth
// mode allows, the first flow of a mode winning.
func cppAllowedMethodsOf(m *Model, v *CppView, enums map[*Enum]*CppEnum) []*CppAllowedMethods {
	if v.AuthModeField == nil || v.ClientAuthMethodField == nil {
		return nil
	}
	methods := enums[v.ClientAuthMethodField.Field.Enum]
	seen := map[*CppEnumValue]bool{}
	var out []*CppAllowedMethods
	for _, fl := range m.Flows {
		if fl.AuthMode == nil || len(fl.ClientAuthMethods) == 0 {
			continue
		}
		mode := enums[fl.AuthMode.Enum].value(fl.AuthMode.Value)
		if mode == nil || seen[mode] {
			continue
		}
		seen[mode] = true
		a := &CppAllowedMethods{Mode: mode, Condition: v.AuthModeField.Name.Snake + " is " + quote(mode.Text)}
		a.ConditionLit = quote(a.Condition)
		a.Constant = "k" + mode.Member + methods.Type + "s"
		for _, cam := range fl.ClientAuthMethods {
			if val := methods.value(cam.Value); val != nil {
				a.Methods = append(a.Methods, val)
			}
		}
		a.Type = "std::array<" + methods.Type + ", " + strconv.Itoa(len(a.Methods)) + ">"
		out = append(out, a)
	}
	return out
}

// allows reports whether method is one of the allowed methods.
func (a *CppAllowedMethods) allows(method *CppEnumValue) bool {
	return slices.Contains(a.Methods, method)
}

// problem is the problem validate() reports for a method the mode does
// not allow, as ConfigProblem::to_string() spells it.
func (a *CppAllowedMethods) problem(field *CppField, method *CppEnumValue) string {
	want := make([]string, len(a.Methods))
	for i, x := range a.Methods {
		want[i] = quote(x.Text)
	}
	return field.ProblemName + ": " + quote(method.Text) + " is not allowed when " + a.Condition +
		": want one of " + strings.Join(want, ", ")
}

// cppProblemText is problems as the tests' problem_text() spells them: each
// followed by a newline.
func cppProblemText(problems []string) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p + "\n")
	}
	return b.String()
}

// cppExpectText spells the statement EXPECT_EQ(lhs, text) at indent, with
// text as a string literal broken the way clang-format breaks a long one:
// after each newline and, when a line is still too long, between words.
func cppExpectText(indent int, lhs, text string) string {
	pad := strings.Repeat(" ", indent)
	one := pad + "EXPECT_EQ(" + lhs + ", " + quote(text) + ");"
	if len(one) <= cppLineWidth {
		return one
	}
	col := indent + len("EXPECT_EQ(")
	var pieces []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		piece := ""
		for _, w := range strings.SplitAfter(line, " ") {
			// The last piece is followed by ");", the others by nothing.
			if piece != "" && col+len(quote(piece+w))+2 > cppLineWidth {
				pieces = append(pieces, quote(piece))
				piece = ""
			}
			piece += w
		}
		pieces = append(pieces, quote(piece))
	}
	if len(pieces) == 0 {
		pieces = []string{quote("")}
	}
	sep := "\n" + strings.Repeat(" ", col)
	return pad + "EXPECT_EQ(" + lhs + "," + sep + strings.Join(pieces, sep) + ");"
}

func cppTestData(m *Model, v *CppView, enums map[*Enum]*CppEnum) *CppTestData {
	t := &CppTestData{UnknownCode: "coyotegen_unknown_error_code", EnumBadText: cppTestEnumText, ModeBadText: cppTestEnumText}
	valid := map[*CppField]bool{}
	for _, f := range v.Fields {
		if f.Required {
			t.Required = append(t.Required, f)
			valid[f] = true
		}
		if f.IsURL {
			t.URLFields = append(t.URLFields, f)
		}
		if f.MinExpr != "" || f.MaxExpr != "" {
			t.Bounded = append(t.Bounded, f)
		}
		if f.Secret {
			t.Secrets = append(t.Secrets, f)
		}
		switch {
		case f.Kind == "enum" && t.EnumField == nil:
			t.EnumField = f
		case f.Kind == "bool" && t.BoolField == nil:
			t.BoolField = f
		case (f.Kind == "int" || f.Kind == "duration") && t.IntField == nil:
			t.IntField = f
		}
	}
	for _, f := range t.Required {
		t.DefaultProblems = append(t.DefaultProblems, f.ProblemName)
	}
	// The requirements of the default values belong to a valid config.
	defaults := map[*CppField]*CppEnumValue{}
	for _, f := range v.Fields {
		if f.Kind == "enum" && f.Field.Enum != nil {
			if d := defaultEnum(f.Field); d != nil {
				defaults[f] = enums[f.Field.Enum].value(d.Value)
			}
		}
	}
	for _, r := range cppFiring(v, defaults) {
		for _, n := range r.Fields {
			if !valid[n.CppField] {
				valid[n.CppField] = true
				t.DefaultProblems = append(t.DefaultProblems, n.ProblemName)
			}
		}
	}
	for _, f := range v.Fields {
		if valid[f] {
			t.Valid = append(t.Valid, f)
		}
	}
	for _, r := range v.Rules {
		r.Test = cppRuleTest(v, r, defaults)
	}
	needed := map[*CppField]bool{}
	for _, r := range v.Rules {
		for _, n := range r.Fields {
			needed[n.CppField] = true
		}
	}
	for _, f := range v.Fields {
		if needed[f] {
			t.AllNeeded = append(t.AllNeeded, f)
		}
	}
	if len(v.AllowedMethods) > 0 {
		methods := v.ClientAuthMethodField
		for _, a := range v.AllowedMethods {
			for _, method := range v.enumOf(methods).Values {
				c := &CppAllowedCase{Mode: a.Mode, Method: method}
				text := ""
				if !a.allows(method) {
					text = cppProblemText([]string{a.problem(methods, method)})
				}
				c.Expect = cppExpectText(2, "allowed("+a.Mode.Expr+", "+method.Expr+")", text)
				t.AllowedCases = append(t.AllowedCases, c)
			}
		}
	}
	for _, f := range v.Fields {
		if f.Kind != "enum" || f.Field.Enum == nil {
			continue
		}
		for _, val := range f.Field.Enum.Values {
			if other := cppOtherCase(val.Value); other != "" {
				yaml := quote(m.YAMLRoot + ":\n  " + f.YAMLKey + ": " + other + "\n")
				t.CaseVariants = append(t.CaseVariants, &CppCaseVariant{Field: f, Text: other, TextLit: quote(other),
					PaddedLit:  quote(f.SampleEnv.Env + " "),
					ExpectYAML: cppCall(2, "EXPECT_TRUE", []string{"yaml_error(" + yaml + ").has_value()"}, ";")})
				break
			}
		}
	}
	for _, val := range v.ModeEnum.Values {
		if other := cppOtherCase(val.Text); other != "" {
			t.ModeCaseVariant = quote(other)
			break
		}
	}
	if len(t.URLFields) > 0 {
		f := t.URLFields[0]
		bad := "ftp://auth.example.com/token"
		t.URLBadSet = "config." + f.Member + " = " + quote(bad) + ";"
		t.URLBadExpect = cppExpectText(2, "problem_text(config.validate())",
			cppProblemText([]string{f.ProblemName + ": invalid URL " + quote(bad) + ": want an absolute http or https URL"}))
	}

	var strs []*CppField
	var withDefault *CppField
	for _, f := range v.Fields {
		switch f.Kind {
		case "string", "url", "path":
			strs = append(strs, f)
		}
	}
	for _, f := range v.Fields {
		if f.HasDefault && (len(strs) < 3 || (f != strs[0] && f != strs[1] && f != strs[2])) {
			withDefault = f
			break
		}
	}
	if len(strs) >= 3 && withDefault != nil {
		t.Precedence = &CppPrecedence{FileOnly: strs[0], FileEnv: strs[1], FileEnvCode: strs[2], DefaultOnly: withDefault}
	}

	for _, e := range v.Errors {
		if e.Retryable && t.RetryableCode == nil {
			t.RetryableCode = e
		}
		if !e.Retryable && t.PermanentCode == nil {
			t.PermanentCode = e
		}
	}
	for _, md := range v.Modes {
		for _, o := range md.Options {
			if o.MinExpr != "" || o.MaxExpr != "" {
				t.BoundedOptions = append(t.BoundedOptions, &CppBoundedOption{Mode: md, Option: o})
			}
		}
	}
	return t
}

// cppFiring are the rules that apply when the enum fields have the values
// of ctx, in the order validate() checks them.
func cppFiring(v *CppView, ctx map[*CppField]*CppEnumValue) []*CppRule {
	var out []*CppRule
	for _, r := range v.Rules {
		if ctx[r.On] == r.Value {
			out = append(out, r)
		}
	}
	return out
}

// cppNotAllowed is the problem of the client authentication method of ctx
// when the auth mode of ctx does not allow it, as a list of none or one.
func cppNotAllowed(v *CppView, ctx map[*CppField]*CppEnumValue) []string {
	if v.AuthModeField == nil || v.ClientAuthMethodField == nil {
		return nil
	}
	method := ctx[v.ClientAuthMethodField]
	for _, a := range v.AllowedMethods {
		if a.Mode == ctx[v.AuthModeField] && method != nil && !a.allows(method) {
			return []string{a.problem(v.ClientAuthMethodField, method)}
		}
	}
	return nil
}

// cppRuleTest is the test of rule r, starting from the valid configuration
// of the tests, whose enum fields have the values of defaults.
func cppRuleTest(v *CppView, r *CppRule, defaults map[*CppField]*CppEnumValue) *CppRuleTest {
	ctx := maps.Clone(defaults)
	ctx[r.On] = r.Value
	// Fields other applying rules require are set by the valid
	// configuration and stay set.
	others := map[*CppField]bool{}
	for _, o := range cppFiring(v, ctx) {
		if o != r {
			for _, n := range o.Fields {
				others[n.CppField] = true
			}
		}
	}
	t := &CppRuleTest{Name: r.Value.Member + r.On.Name.Pascal + "NeedsItsFields"}
	var problems []string
	for _, n := range r.Fields {
		if !others[n.CppField] {
			t.Missing = append(t.Missing, n)
			problems = append(problems, n.ProblemName+": "+n.Message)
		}
	}
	remaining := cppNotAllowed(v, ctx)
	const lhs = "problem_text(config.validate())"
	t.Expect = cppExpectText(2, lhs, cppProblemText(append(problems, remaining...)))
	t.ExpectRemaining = cppExpectText(2, lhs, cppProblemText(remaining))
	return t
}

// cppOtherCase is text with its letters' case changed (upper case, or lower
// case for text that is upper case already); "" when that changes nothing.
func cppOtherCase(text string) string {
	other := strings.ToUpper(text)
	if other == text {
		other = strings.ToLower(text)
	}
	if other == text {
		return ""
	}
	return other
}

// enumOf is the C++ enum of an enum field.
func (v *CppView) enumOf(f *CppField) *CppEnum {
	for _, e := range v.Enums {
		if f.Field.Enum != nil && e.Type == f.Field.Enum.Name.Pascal {
			return e
		}
	}
	return nil
}
