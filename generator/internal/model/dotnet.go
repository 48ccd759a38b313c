package model

import (
	"fmt"
	"strconv"
	"strings"
)

func csField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "bool", Default: strconvBool(defaultBool(f)), Parse: "ParseBool"}
	case "int", "duration":
		return TypedValue{Type: "long", Default: strconvInt(defaultInt(f)), Parse: "ParseLong"}
	case "float":
		return TypedValue{Type: "double", Default: floatLiteral(defaultFloat(f)), Parse: "ParseDouble"}
	case "list":
		return TypedValue{Type: "List<string>", Default: csListLiteral(defaultList(f)), Parse: "ParseList"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "." + v.Names.Pascal, Parse: "Parse" + f.Enum.Name.Pascal}
	}
	return TypedValue{Type: "string", Default: quote(defaultString(f)), Parse: "ParseString"}
}

func csListLiteral(items []string) string {
	if len(items) == 0 {
		return "new List<string>()"
	}
	return listLiteral(items, "new List<string> { ", " }")
}

func csArg(a *Arg) TypedValue {
	switch a.Kind {
	case "bool":
		if a.Optional {
			return TypedValue{Type: "bool?", Default: "null"}
		}
		return TypedValue{Type: "bool"}
	case "int":
		if a.Optional {
			return TypedValue{Type: "long?", Default: "null"}
		}
		return TypedValue{Type: "long"}
	case "list":
		t := TypedValue{Type: "IEnumerable<string>"}
		if a.Optional {
			t.Default = "null"
		}
		return t
	}
	t := TypedValue{Type: "string"}
	if a.Optional {
		t.Default = "null"
	}
	return t
}

func csOperation(op *Operation) OperationSig {
	var r string
	switch op.Result {
	case "auth_result":
		r = "AuthResult"
	case "token":
		r = "AuthToken"
	case "authorization_request":
		r = "AuthorizationRequest"
	case "bool":
		r = "bool"
	case "introspection":
		r = "IntrospectionResult"
	default:
		r = "void"
	}
	async := "Task<" + r + ">"
	if r == "void" {
		async = "Task"
	}
	return OperationSig{Name: op.ID.Pascal, AsyncName: op.ID.Pascal + "Async", Result: r, AsyncResult: async}
}

func dotnetFiles(m *Model) []File {
	v := newDotnetView(m)
	f := func(path, tmpl string) File { return File{Lang: "dotnet", Path: path, Template: tmpl, Data: v} }
	return []File{
		f(v.PackageID+".csproj", "Package.csproj.tmpl"),
		f(".gitignore", "gitignore.tmpl"),
		f("README.md", "README.md.tmpl"),
		f("src/AssemblyInfo.cs", "AssemblyInfo.cs.tmpl"),
		f("src/AuthClientConfig.cs", "AuthClientConfig.cs.tmpl"),
		f("src/AuthErrors.cs", "AuthErrors.cs.tmpl"),
		f("src/AuthResults.cs", "AuthResults.cs.tmpl"),
		f("src/AuthToken.cs", "AuthToken.cs.tmpl"),
		f("src/ConfigFileReader.cs", "ConfigFileReader.cs.tmpl"),
		f("src/ConfigValue.cs", "ConfigValue.cs.tmpl"),
		f("src/Enums.cs", "Enums.cs.tmpl"),
		f("src/IAuthClient.cs", "IAuthClient.cs.tmpl"),
		f("src/IAuthTokenStorage.cs", "IAuthTokenStorage.cs.tmpl"),
		f("src/RuntimeMode.cs", "RuntimeMode.cs.tmpl"),
		f("tests/"+v.TestAssembly+".csproj", "Tests.csproj.tmpl"),
		f("tests/ConfigFileReaderTests.cs", "ConfigFileReaderTests.cs.tmpl"),
		f("tests/SmokeTests.cs", "SmokeTests.cs.tmpl"),
	}
}

// The .NET package's pinned build settings and dependencies.
const (
	dotnetTargetFramework     = "netstandard2.0"
	dotnetTestTargetFramework = "net8.0"
	dotnetLangVersion         = "7.2"
	// dotnetDocWidth is the column doc comments are wrapped at.
	dotnetDocWidth = 100
)

var (
	dotnetDeps     = []DotnetDep{{ID: "Newtonsoft.Json", Version: "13.0.3"}}
	dotnetTestDeps = []DotnetDep{
		{ID: "Microsoft.NET.Test.Sdk", Version: "17.9.0"},
		{ID: "NUnit", Version: "3.14.0"},
		{ID: "NUnit3TestAdapter", Version: "4.5.0"},
	}
)

// DotnetView is what every .NET template receives: the model with every
// C# identifier, literal, doc comment and check already spelled out.
type DotnetView struct {
	Notice, Title, Description, Version, License string

	Namespace, PackageID, TestAssembly, TestNamespace string
	TargetFramework, TestTargetFramework, LangVersion string
	Deps, TestDeps                                    []DotnetDep

	EnvPrefixLit, YAMLRootLit string
	YAMLRoot                  string
	EnvPrefix                 string

	Fields         []*DotnetField
	ListProperties []string // the list-typed properties, which Clone copies
	TimeSpans      []*DotnetTimeSpan
	Required       []*DotnetCheck
	URLChecks      []*DotnetCheck
	EnumChecks     []*DotnetCheck // enum properties holding a value no member names
	RangeChecks    []*DotnetCheck
	// Rules are the checks that hold only when an enum property has a
	// value: the fields an auth mode's flow needs, then the fields an enum
	// value needs, then the client authentication methods each auth mode's
	// flow allows.
	Rules        []*DotnetFlowCheck
	Enums        []*DotnetEnum // the configuration enums
	ErrorEnum    *DotnetEnum
	ModeEnum     *DotnetEnum
	Modes        []*DotnetMode
	OptionModes  []*DotnetMode // the modes that have options
	ModeEnvLit   string
	ModeEnv      string
	DefaultMode  string // C# expression of the default runtime mode
	Operations   []*DotnetOperation
	InvalidCode  string // the AuthErrorCode member configuration errors carry
	RefreshDelta string // C# expression of AuthToken's default refresh buffer

	Readme *DotnetReadme
	Test   *DotnetTests
}

// DotnetDep is a NuGet package reference.
type DotnetDep struct{ ID, Version string }

// DotnetField is a configuration field or a mode option as a C# property.
type DotnetField struct {
	*Field
	Property string
	Type     string
	Default  string
	Parse    string // the ConfigValue method that converts it
	Doc      string // doc comment, indented for a class member
	NameLit  string // snake name as a C# literal
	EnvLit   string
	KeyLit   string // YAML key as a C# literal
	Secret   string // "true" or "false"
	Show     string // C# expression of the value in ToString, secrets redacted
}

// DotnetTimeSpan is a TimeSpan view of a duration property.
type DotnetTimeSpan struct {
	Name string
	Expr string
	Doc  string
}

// DotnetCheck is one validation rule: when Cond holds, Message (a C#
// string expression) is a problem.
type DotnetCheck struct{ Cond, Message string }

// DotnetFlowCheck holds the checks that apply when Cond holds: the
// requirements of the flow an auth mode selects or of an enum value.
type DotnetFlowCheck struct {
	Title  string
	Cond   string
	Checks []*DotnetCheck
}

// DotnetEnum is a C# enum with its value conversions.
type DotnetEnum struct {
	Type        string
	ValuesClass string
	Doc         string // indented for a namespace member
	Label       string // in messages: "auth mode"
	LabelA      string // with its article: "an auth mode"
	AllowedLit  string // the values, comma separated, as a C# literal
	Parse       string // the ConfigValue method that converts it
	Values      []*DotnetEnumValue
}

// DotnetEnumValue is one member of a DotnetEnum.
type DotnetEnumValue struct {
	Member         string
	Wire           string
	WireLit        string
	Doc            string // indented for an enum member
	Retryable      bool
	DescriptionLit string
	RFC            string
}

// DotnetMode is a runtime mode and its options class.
type DotnetMode struct {
	Member       string
	Wire         string
	OptionsClass string // empty when the mode has no options
	Doc          string // doc comment of the options class
	Options      []*DotnetField
	RangeChecks  []*DotnetCheck
	TimeSpans    []*DotnetTimeSpan
}

// DotnetOperation is an IAuthClient method pair.
type DotnetOperation struct {
	Doc, Signature           string
	AsyncDoc, AsyncSignature string
}

func newDotnetView(m *Model) *DotnetView {
	v := &DotnetView{
		Notice:              m.Notice,
		Title:               m.Title,
		Description:         m.Description,
		Version:             m.Version,
		License:             m.License,
		Namespace:           m.Dotnet.Namespace,
		PackageID:           m.Dotnet.PackageID,
		TestAssembly:        m.Dotnet.PackageID + ".Tests",
		TestNamespace:       m.Dotnet.Namespace + ".Tests",
		TargetFramework:     dotnetTargetFramework,
		TestTargetFramework: dotnetTestTargetFramework,
		LangVersion:         dotnetLangVersion,
		Deps:                dotnetDeps,
		TestDeps:            dotnetTestDeps,
		EnvPrefixLit:        quote(m.EnvPrefix),
		EnvPrefix:           m.EnvPrefix,
		YAMLRootLit:         quote(m.YAMLRoot),
		YAMLRoot:            m.YAMLRoot,
		ModeEnvLit:          quote(m.ModeEnv),
		ModeEnv:             m.ModeEnv,
	}
	props := map[string]bool{}
	for _, f := range m.Fields {
		props[f.Name.Pascal] = true
	}
	for _, f := range m.Fields {
		df := newDotnetField(f, "")
		v.Fields = append(v.Fields, df)
		if f.Kind == "list" {
			v.ListProperties = append(v.ListProperties, f.Name.Pascal)
		}
		if ts := newDotnetTimeSpan(f, props); ts != nil {
			v.TimeSpans = append(v.TimeSpans, ts)
		}
		if f.Required {
			if c := requiredCheck(f, f.YAMLKey+" is required"+csWhereToSet(f)); c != nil {
				v.Required = append(v.Required, c)
			}
		}
		if f.Kind == "url" {
			p := f.Name.Pascal
			v.URLChecks = append(v.URLChecks, &DotnetCheck{
				Cond:    "!string.IsNullOrEmpty(" + p + ") && !ConfigText.IsHttpUrl(" + p + ")",
				Message: quote(f.YAMLKey+": invalid URL ") + " + ConfigText.Quote(" + p + ") + " + quote(": want an absolute http or https URL"),
			})
		}
		if f.Kind == "enum" && f.Enum != nil {
			p, t := f.Name.Pascal, f.Enum.Name.Pascal
			v.EnumChecks = append(v.EnumChecks, &DotnetCheck{
				Cond:    "!Enum.IsDefined(typeof(" + t + "), " + p + ")",
				Message: quote(f.YAMLKey+": unknown value ") + " + " + t + "Values.Show(" + p + ") + " + quote(": want one of "+csQuotedValues(f.Enum.Values)),
			})
		}
		v.RangeChecks = append(v.RangeChecks, rangeChecks(f, f.YAMLKey)...)
	}

	v.Rules = csRules(m)

	for _, e := range m.Enums {
		de := newDotnetEnum(e.Name, e.Doc)
		de.Parse = "Parse" + e.Name.Pascal
		for _, ev := range e.Values {
			de.Values = append(de.Values, &DotnetEnumValue{Member: ev.Names.Pascal, Wire: ev.Value, WireLit: quote(ev.Value), Doc: csDoc(8, ev.Doc)})
		}
		de.AllowedLit = allowedLit(de.Values)
		v.Enums = append(v.Enums, de)
	}

	v.ErrorEnum = newDotnetEnum(NewNames("auth_error_code"), "An OAuth2 error code (RFC 6749 section 5.2 and its extensions) or an error the client itself reports.")
	for _, e := range m.Errors {
		doc := e.Doc
		if e.RFC != "" {
			doc = strings.TrimSuffix(doc, ".") + " (" + e.RFC + ")."
		}
		if e.Retryable {
			doc += " Retryable."
		}
		v.ErrorEnum.Values = append(v.ErrorEnum.Values, &DotnetEnumValue{
			Member: e.Names.Pascal, Wire: e.Code, WireLit: quote(e.Code), Doc: csDoc(8, doc),
			Retryable: e.Retryable, DescriptionLit: quote(e.Doc), RFC: e.RFC,
		})
		if e.Code == "invalid_config" {
			v.InvalidCode = e.Names.Pascal
		}
	}
	if v.InvalidCode == "" && len(m.Errors) > 0 {
		v.InvalidCode = m.Errors[0].Names.Pascal
	}
	v.ErrorEnum.AllowedLit = allowedLit(v.ErrorEnum.Values)

	v.ModeEnum = newDotnetEnum(NewNames("runtime_mode"), "How a client runs: against the authorization server or one of the test and diagnostic modes. Chosen in code or by the "+m.ModeEnv+" environment variable.")
	for _, md := range m.Modes {
		v.ModeEnum.Values = append(v.ModeEnum.Values, &DotnetEnumValue{Member: md.ID.Pascal, Wire: md.ID.Snake, WireLit: quote(md.ID.Snake), Doc: csDoc(8, md.Doc)})
		dm := &DotnetMode{Member: md.ID.Pascal, Wire: md.ID.Snake}
		if len(md.Options) > 0 {
			dm.OptionsClass = md.ID.Pascal + "ModeOptions"
			dm.Doc = csDoc(4, fmt.Sprintf("Options of the %s mode: %s", md.ID.Snake, lowerFirst(md.Doc)))
			oprops := map[string]bool{}
			for _, o := range md.Options {
				oprops[o.Name.Pascal] = true
			}
			for _, o := range md.Options {
				dm.Options = append(dm.Options, newDotnetField(o, md.ID.Snake))
				dm.RangeChecks = append(dm.RangeChecks, rangeChecks(o, md.ID.Snake+"."+o.Name.Snake)...)
				if ts := newDotnetTimeSpan(o, oprops); ts != nil {
					dm.TimeSpans = append(dm.TimeSpans, ts)
				}
			}
			v.OptionModes = append(v.OptionModes, dm)
		}
		v.Modes = append(v.Modes, dm)
	}
	v.ModeEnum.AllowedLit = allowedLit(v.ModeEnum.Values)
	if m.DefaultMode != nil {
		v.DefaultMode = "RuntimeMode." + m.DefaultMode.ID.Pascal
	} else if len(m.Modes) > 0 {
		v.DefaultMode = "RuntimeMode." + m.Modes[0].ID.Pascal
	}

	for _, op := range m.Operations {
		v.Operations = append(v.Operations, newDotnetOperation(op))
	}

	v.RefreshDelta = "TimeSpan.FromSeconds(300)"
	if f := m.Field("refresh_buffer_seconds"); f != nil && f.HasDefault {
		v.RefreshDelta = "TimeSpan.FromSeconds(" + strconvInt(defaultInt(f)) + ")"
	}

	v.Readme = newDotnetReadme(m, v)
	v.Test = newDotnetTests(m, v)
	return v
}

// flowRequires are the fields a flow needs beyond the ones every
// configuration needs, which Validate already reports.
func flowRequires(fl *Flow) []*Field {
	return csConditionalRequires(fl.Requires)
}

// csConditionalRequires are the fields of requires that Validate checks
// only under a condition: not the always-required ones, which it already
// reports, and not the kinds that always have a value.
func csConditionalRequires(requires []*Field) []*Field {
	var out []*Field
	for _, r := range requires {
		if r != nil && !r.Required && emptyCond(r) != "" {
			out = append(out, r)
		}
	}
	return out
}

// csEnumField is the configuration field of enum e, or nil.
func csEnumField(m *Model, e *Enum) *Field {
	if e == nil {
		return nil
	}
	for _, f := range m.Fields {
		if f.Kind == "enum" && f.Enum == e {
			return f
		}
	}
	return nil
}

// csWhereToSet is the hint of a "required" problem: " (set key or ENV)".
func csWhereToSet(f *Field) string {
	if f.Env == "" {
		return " (set " + f.YAMLKey + ")"
	}
	return " (set " + f.YAMLKey + " or " + f.Env + ")"
}

// csRequiredWhen is the problem of a field that is required because the
// field when has the value value.
func csRequiredWhen(r, when *Field, value string) string {
	return r.YAMLKey + " is required when " + when.YAMLKey + " is " + strconv.Quote(value) + csWhereToSet(r)
}

// csMember is the C# expression of an enum value.
func csMember(v *EnumValue) string { return v.Enum.Name.Pascal + "." + v.Names.Pascal }

// csQuotedValues spells enum values for messages: "a", "b".
func csQuotedValues(vs []*EnumValue) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v.Value)
	}
	return strings.Join(q, ", ")
}

// csNotAllowed is the problem of a client authentication method that the
// flow of auth mode mode does not allow, after the method's own spelling.
func csNotAllowed(modeField *Field, fl *Flow) string {
	return " is not allowed when " + modeField.YAMLKey + " is " + strconv.Quote(fl.AuthMode.Value) + ": want one of " + csQuotedValues(fl.ClientAuthMethods)
}

// csRules computes the conditional checks of Validate from the model: the
// fields each auth mode's flow requires, the fields each enum value
// requires, and the client authentication methods each auth mode's flow
// allows.
func csRules(m *Model) []*DotnetFlowCheck {
	var rules []*DotnetFlowCheck
	modeField := csEnumField(m, m.AuthModeEnum)
	methodField := csEnumField(m, m.ClientAuthMethodEnum)
	if modeField != nil {
		for _, fl := range m.Flows {
			if fl.AuthMode == nil {
				continue
			}
			rule := &DotnetFlowCheck{Title: fl.Title, Cond: modeField.Name.Pascal + " == " + csMember(fl.AuthMode)}
			for _, r := range flowRequires(fl) {
				rule.Checks = append(rule.Checks, requiredCheck(r, csRequiredWhen(r, modeField, fl.AuthMode.Value)))
			}
			if len(rule.Checks) > 0 {
				rules = append(rules, rule)
			}
		}
	}
	for _, f := range m.Fields {
		if f.Kind != "enum" || f.Enum == nil {
			continue
		}
		for _, ev := range f.Enum.Values {
			rule := &DotnetFlowCheck{Title: f.YAMLKey + " " + ev.Value, Cond: f.Name.Pascal + " == " + csMember(ev)}
			for _, r := range csConditionalRequires(ev.Requires) {
				rule.Checks = append(rule.Checks, requiredCheck(r, csRequiredWhen(r, f, ev.Value)))
			}
			if len(rule.Checks) > 0 {
				rules = append(rules, rule)
			}
		}
	}
	if modeField != nil && methodField != nil {
		p := methodField.Name.Pascal
		for _, fl := range m.Flows {
			if fl.AuthMode == nil || len(fl.ClientAuthMethods) == 0 {
				continue
			}
			var differs []string
			for _, cam := range fl.ClientAuthMethods {
				differs = append(differs, p+" != "+csMember(cam))
			}
			rules = append(rules, &DotnetFlowCheck{
				Title: fl.Title + ": client authentication methods",
				Cond:  modeField.Name.Pascal + " == " + csMember(fl.AuthMode),
				Checks: []*DotnetCheck{{
					Cond:    strings.Join(differs, "\n                    && "),
					Message: quote(methodField.YAMLKey+" ") + " + " + methodField.Enum.Name.Pascal + "Values.Show(" + p + ") + " + quote(csNotAllowed(modeField, fl)),
				}},
			})
		}
	}
	return rules
}

func newDotnetField(f *Field, mode string) *DotnetField {
	df := &DotnetField{
		Field:    f,
		Property: f.Name.Pascal,
		Type:     f.CSharp.Type,
		Default:  f.CSharp.Default,
		Parse:    f.CSharp.Parse,
		NameLit:  quote(f.Name.Snake),
		EnvLit:   quote(f.Env),
		KeyLit:   quote(f.YAMLKey),
		Secret:   strconvBool(f.Secret),
	}
	var remarks []string
	if f.Env != "" {
		remarks = append(remarks, "Environment variable <c>"+f.Env+"</c>, YAML key <c>"+f.YAMLKey+"</c>.")
	}
	if d := defaultText(f); d != "" {
		remarks = append(remarks, "Default: "+d+".")
	}
	if f.Unit != "" {
		remarks = append(remarks, "Unit: "+unitWord(f.Unit)+".")
	}
	if f.Min != nil {
		remarks = append(remarks, "Minimum: "+boundText(f, *f.Min)+".")
	}
	if f.Max != nil {
		remarks = append(remarks, "Maximum: "+boundText(f, *f.Max)+".")
	}
	if f.Required {
		remarks = append(remarks, "Required.")
	}
	if f.Secret {
		remarks = append(remarks, "Secret: redacted in ToString and never shown in errors.")
	}
	df.Doc = csDocTags(8, docTag{"summary", "", f.Doc}, docTag{"remarks", "", strings.Join(remarks, " ")})
	switch {
	case f.Secret:
		df.Show = "ConfigText.Redact(" + df.Property + ")"
	case f.Kind == "enum":
		df.Show = df.Property + ".ToWireValue()"
	default:
		df.Show = "ConfigText.Show(" + df.Property + ")"
	}
	return df
}

// defaultText is the default as the user writes it in YAML, or "" when
// the field has none worth stating.
func defaultText(f *Field) string {
	if !f.HasDefault {
		return ""
	}
	switch f.Kind {
	case "bool":
		return "<c>" + strconvBool(defaultBool(f)) + "</c>"
	case "int", "duration":
		return "<c>" + strconvInt(defaultInt(f)) + "</c>"
	case "float":
		return "<c>" + strconv.FormatFloat(defaultFloat(f), 'g', -1, 64) + "</c>"
	case "list":
		if len(defaultList(f)) == 0 {
			return ""
		}
		return "<c>" + strings.Join(defaultList(f), ", ") + "</c>"
	}
	if s := defaultString(f); s != "" {
		return "<c>" + xmlEscape(s) + "</c>"
	}
	return ""
}

func unitWord(u string) string {
	switch u {
	case "ms":
		return "milliseconds"
	case "s":
		return "seconds"
	}
	return u
}

func boundText(f *Field, b float64) string {
	if f.Kind == "float" {
		return strconv.FormatFloat(b, 'g', -1, 64)
	}
	return strconvInt(int64(b))
}

func boundLiteral(f *Field, b float64) string {
	if f.Kind == "float" {
		return floatLiteral(b)
	}
	return strconvInt(int64(b))
}

// emptyCond is the C# condition under which a field counts as unset, or ""
// for kinds that always have a value.
func emptyCond(f *Field) string {
	switch f.Kind {
	case "string", "secret", "url", "path":
		return "string.IsNullOrEmpty(" + f.Name.Pascal + ")"
	case "list":
		return "(" + f.Name.Pascal + " == null || " + f.Name.Pascal + ".Count == 0)"
	}
	return ""
}

func requiredCheck(f *Field, msg string) *DotnetCheck {
	c := emptyCond(f)
	if c == "" {
		return nil
	}
	return &DotnetCheck{Cond: c, Message: quote(msg)}
}

func rangeChecks(f *Field, name string) []*DotnetCheck {
	if f.Kind != "int" && f.Kind != "duration" && f.Kind != "float" {
		return nil
	}
	var out []*DotnetCheck
	p := f.Name.Pascal
	if f.Min != nil {
		out = append(out, &DotnetCheck{
			Cond:    p + " < " + boundLiteral(f, *f.Min),
			Message: quote(name+": ") + " + ConfigText.Show(" + p + ") + " + quote(" is below the minimum "+boundText(f, *f.Min)),
		})
	}
	if f.Max != nil {
		out = append(out, &DotnetCheck{
			Cond:    p + " > " + boundLiteral(f, *f.Max),
			Message: quote(name+": ") + " + ConfigText.Show(" + p + ") + " + quote(" is above the maximum "+boundText(f, *f.Max)),
		})
	}
	return out
}

// newDotnetTimeSpan names the TimeSpan view of a duration, its name being
// the property's without the unit ("TimeoutMs" -> "Timeout"); nil when the
// field is no duration or the name is taken.
func newDotnetTimeSpan(f *Field, taken map[string]bool) *DotnetTimeSpan {
	if f.Kind != "duration" {
		return nil
	}
	ws := words(f.Name.Snake)
	if n := len(ws); n > 1 && (ws[n-1] == "ms" || ws[n-1] == "s" || ws[n-1] == "seconds" || ws[n-1] == "milliseconds") {
		ws = ws[:n-1]
	} else {
		return nil
	}
	name := NewNames(strings.Join(ws, "_")).Pascal
	if taken[name] {
		return nil
	}
	from := "TimeSpan.FromSeconds"
	if f.Unit == "ms" {
		from = "TimeSpan.FromMilliseconds"
	}
	return &DotnetTimeSpan{
		Name: name,
		Expr: from + "(" + f.Name.Pascal + ")",
		Doc:  csDoc(8, `<see cref="`+f.Name.Pascal+`"/> as a <see cref="TimeSpan"/>.`),
	}
}

func newDotnetEnum(n Names, doc string) *DotnetEnum {
	label := strings.Join(words(n.Snake), " ")
	article := "a "
	if strings.ContainsAny(label[:1], "aeio") {
		article = "an "
	}
	return &DotnetEnum{
		Type:        n.Pascal,
		ValuesClass: n.Pascal + "Values",
		Doc:         csDoc(4, doc),
		Label:       label,
		LabelA:      article + label,
	}
}

func allowedLit(vs []*DotnetEnumValue) string {
	w := make([]string, len(vs))
	for i, v := range vs {
		w[i] = v.Wire
	}
	return quote(strings.Join(w, ", "))
}

func newDotnetOperation(op *Operation) *DotnetOperation {
	sig := op.CSharp
	var params []string
	var tags []docTag
	tags = append(tags, docTag{"summary", "", op.Doc})
	for _, a := range op.Args {
		p := a.CSharp.Type + " " + csIdent(a.Name.Camel)
		if a.Optional && a.CSharp.Default != "" {
			p += " = " + a.CSharp.Default
		}
		params = append(params, p)
		tags = append(tags, docTag{"param", `name="` + csIdent(a.Name.Camel) + `"`, a.Doc})
	}
	returns := resultDoc(op.Result)
	syncTags := tags
	if returns != "" {
		syncTags = append(append([]docTag{}, tags...), docTag{"returns", "", returns})
	}
	asyncParams := append(append([]string{}, params...), "CancellationToken cancellationToken = default(CancellationToken)")
	asyncTags := append(append([]docTag{}, tags...), docTag{"param", `name="cancellationToken"`, "Cancels the operation."})
	if returns != "" {
		asyncTags = append(asyncTags, docTag{"returns", "", "A task whose result is " + lowerFirst(returns)})
	} else {
		asyncTags = append(asyncTags, docTag{"returns", "", "A task that completes when the operation has."})
	}
	return &DotnetOperation{
		Doc:            csDocTags(8, syncTags...),
		Signature:      csSignature(8, sig.Result+" "+sig.Name, params),
		AsyncDoc:       csDocTags(8, asyncTags...),
		AsyncSignature: csSignature(8, sig.AsyncResult+" "+sig.AsyncName, asyncParams),
	}
}

func resultDoc(result string) string {
	switch result {
	case "auth_result":
		return "The outcome: the token on success, the OAuth error code and description on failure."
	case "authorization_request":
		return "The URL to send the user to, with the state and PKCE verifier to keep for the token exchange."
	case "token":
		return "A token that is valid for at least the refresh buffer."
	case "bool":
		return "<c>true</c> on success."
	case "introspection":
		return "What the introspection endpoint says about the token."
	}
	return ""
}

// csSignature spells an interface method declaration, one parameter a
// line when it does not fit in dotnetDocWidth columns.
func csSignature(indent int, head string, params []string) string {
	pad := strings.Repeat(" ", indent)
	one := pad + head + "(" + strings.Join(params, ", ") + ");"
	if len(one) <= dotnetDocWidth+20 || len(params) == 0 {
		return one
	}
	inner := strings.Repeat(" ", indent+4)
	return pad + head + "(\n" + inner + strings.Join(params, ",\n"+inner) + ");"
}

var csKeywords = map[string]bool{
	"abstract": true, "as": true, "base": true, "bool": true, "break": true, "byte": true, "case": true, "catch": true,
	"char": true, "checked": true, "class": true, "const": true, "continue": true, "decimal": true, "default": true,
	"delegate": true, "do": true, "double": true, "else": true, "enum": true, "event": true, "explicit": true,
	"extern": true, "false": true, "finally": true, "fixed": true, "float": true, "for": true, "foreach": true,
	"goto": true, "if": true, "implicit": true, "in": true, "int": true, "interface": true, "internal": true,
	"is": true, "lock": true, "long": true, "namespace": true, "new": true, "null": true, "object": true,
	"operator": true, "out": true, "override": true, "params": true, "private": true, "protected": true,
	"public": true, "readonly": true, "ref": true, "return": true, "sbyte": true, "sealed": true, "short": true,
	"sizeof": true, "stackalloc": true, "static": true, "string": true, "struct": true, "switch": true,
	"this": true, "throw": true, "true": true, "try": true, "typeof": true, "uint": true, "ulong": true,
	"unchecked": true, "unsafe": true, "ushort": true, "using": true, "virtual": true, "void": true,
	"volatile": true, "while": true,
}

func csIdent(s string) string {
	if csKeywords[s] {
		return "@" + s
	}
	return s
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// docTag is one element of an XML doc comment; its text is XML already
// (the spec's prose is escaped by csDoc and csDocTags' callers).
type docTag struct{ name, attrs, text string }

// csDoc is a <summary> doc comment of spec prose.
func csDoc(indent int, text string) string {
	return csDocTags(indent, docTag{"summary", "", escapeProse(text)})
}

// escapeProse escapes spec prose for XML but keeps the tags this file
// writes itself (<c>, <see .../>).
func escapeProse(s string) string {
	if strings.Contains(s, "<c>") || strings.Contains(s, "<see ") {
		return s
	}
	return xmlEscape(s)
}

// csDocTags spells XML doc elements as /// lines wrapped at dotnetDocWidth.
func csDocTags(indent int, tags ...docTag) string {
	pad := strings.Repeat(" ", indent) + "/// "
	var lines []string
	for _, t := range tags {
		if t.text == "" {
			continue
		}
		text := escapeProse(t.text)
		open := "<" + t.name
		if t.attrs != "" {
			open += " " + t.attrs
		}
		open += ">"
		closing := "</" + t.name + ">"
		if one := pad + open + text + closing; len(one) <= dotnetDocWidth {
			lines = append(lines, one)
			continue
		}
		lines = append(lines, pad+open)
		lines = append(lines, wrap(pad, text, dotnetDocWidth)...)
		lines = append(lines, pad+closing)
	}
	return strings.Join(lines, "\n")
}

// wrap breaks text at spaces into lines of at most width columns, each
// starting with prefix; an XML tag is never split.
func wrap(prefix, text string, width int) []string {
	var tokens []string
	for _, w := range strings.Fields(text) {
		if n := len(tokens); n > 0 && strings.Count(tokens[n-1], "<") > strings.Count(tokens[n-1], ">") {
			tokens[n-1] += " " + w
			continue
		}
		tokens = append(tokens, w)
	}
	var lines []string
	line := prefix
	for _, t := range tokens {
		if line != prefix && len(line)+1+len(t) > width {
			lines = append(lines, line)
			line = prefix
		}
		if line == prefix {
			line += t
		} else {
			line += " " + t
		}
	}
	if line != prefix {
		lines = append(lines, line)
	}
	return lines
}

// DotnetReadme holds the README's tables.
type DotnetReadme struct {
	Fields     []DotnetReadmeRow
	Errors     []DotnetReadmeRow
	Modes      []DotnetReadmeRow
	Operations []DotnetReadmeRow
	Enums      []DotnetReadmeRow
	// Example is a YAML configuration file with the required fields.
	Example []string
	// Override is a statement that sets a field in code.
	Override string
}

// DotnetReadmeRow is one table row; every cell is Markdown already.
type DotnetReadmeRow struct{ Cells []string }

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

func newDotnetReadme(m *Model, v *DotnetView) *DotnetReadme {
	r := &DotnetReadme{}
	for _, f := range m.Fields {
		def := ""
		if f.HasDefault {
			switch f.Kind {
			case "bool":
				def = strconvBool(defaultBool(f))
			case "int", "duration":
				def = strconvInt(defaultInt(f))
			case "float":
				def = strconv.FormatFloat(defaultFloat(f), 'g', -1, 64)
			case "list":
				def = strings.Join(defaultList(f), ", ")
			default:
				def = defaultString(f)
			}
		}
		doc := f.Doc
		if f.Required {
			doc = "**Required.** " + doc
		}
		typ := code(f.CSharp.Type)
		if f.Unit != "" {
			typ += " (" + unitWord(f.Unit) + ")"
		}
		if f.Secret {
			typ += " (secret)"
		}
		r.Fields = append(r.Fields, DotnetReadmeRow{Cells: []string{
			code(f.Name.Pascal), code(f.Env), code(f.YAMLKey), mdCell(typ), code(def), mdCell(doc),
		}})
	}
	for _, e := range v.Enums {
		var vals []string
		for _, ev := range e.Values {
			vals = append(vals, code(ev.Wire))
		}
		r.Enums = append(r.Enums, DotnetReadmeRow{Cells: []string{code(e.Type), strings.Join(vals, ", ")}})
	}
	for _, e := range m.Errors {
		retry := "no"
		if e.Retryable {
			retry = "yes"
		}
		r.Errors = append(r.Errors, DotnetReadmeRow{Cells: []string{code(e.Code), code("AuthErrorCode." + e.Names.Pascal), retry, mdCell(e.RFC), mdCell(e.Doc)}})
	}
	for _, md := range v.Modes {
		var opts []string
		for _, o := range md.Options {
			opts = append(opts, code(o.Property)+" = "+code(o.Default))
		}
		cls := ""
		if md.OptionsClass != "" {
			cls = code(md.OptionsClass)
		}
		var doc string
		for _, mm := range m.Modes {
			if mm.ID.Pascal == md.Member {
				doc = mm.Doc
			}
		}
		r.Modes = append(r.Modes, DotnetReadmeRow{Cells: []string{code(md.Wire), mdCell(doc), cls, mdCell(strings.Join(opts, ", "))}})
	}
	for _, op := range m.Operations {
		r.Operations = append(r.Operations, DotnetReadmeRow{Cells: []string{
			code(op.CSharp.Name), code(op.CSharp.AsyncName), code(op.CSharp.AsyncResult), mdCell(op.Doc),
		}})
	}
	for _, f := range m.Fields {
		if f.Kind == "string" && r.Override == "" {
			r.Override = "c." + f.Name.Pascal + " = " + quote(readmeSample(f)) + ";"
		}
	}
	r.Example = append(r.Example, m.YAMLRoot+":")
	for _, f := range m.Fields {
		if !f.Required && !(m.AuthModeEnum != nil && f.Enum == m.AuthModeEnum) && f.Kind != "list" {
			continue
		}
		r.Example = append(r.Example, "  "+f.YAMLKey+": "+readmeSample(f))
	}
	return r
}

func readmeSample(f *Field) string {
	switch f.Kind {
	case "url":
		return "https://auth.example.com"
	case "list":
		return "[trading, market-data]"
	case "enum":
		return defaultEnum(f).Value
	}
	return "trading-client-001"
}

// DotnetTests is the data of the generated smoke tests: sample values for
// every field and the cases each rule of the spec yields.
type DotnetTests struct {
	EnvNames         []string // C# literals of every variable the tests touch
	Fields           []*DotnetFieldTest
	YAMLLines        []string           // C# literals: a configuration file setting every field
	PrecedenceEnv    []*DotnetFieldTest // the fields the precedence test sets in the environment
	OverrideSet      string             // the statement that sets one field in code
	BadValues        []*DotnetBadValue
	BadYAMLLit       string // a configuration file with a bad value on line 3
	BadYAMLWant      string // the start of its problem
	UnknownYAMLLit   string // a configuration file with unknown keys on lines 2 and 3
	RequiredNames    []string
	URLFields        []*DotnetFieldTest
	RangeCases       []*DotnetCase
	URLAndRangeNames []string // C# literals of the fields the URL and bounds test breaks
	FlowCases        []*DotnetFlowCase
	ValueCases       []*DotnetFlowCase   // the fields enum values require
	MethodCases      []*DotnetMethodCase // the client authentication methods each auth mode allows
	URLCases         []*DotnetURLCase
	MemberCases      []*DotnetMemberCase // enum properties holding no member
	EnumCases        []*DotnetEnumCase   // exact, case-sensitive enum values
	ModeVariants     []*DotnetVariant    // case variants of the runtime modes
	Secrets          []*DotnetSecretCase
	Retryable        string // AuthErrorCode members
	NotRetryable     string
	OptionCases      []*DotnetCase
}

// DotnetFieldTest holds one field's sample values and assertions.
type DotnetFieldTest struct {
	Property        string
	NameLit         string
	EnvLit          string
	EnvValueLit     string
	CheckDefault    string
	CheckEnv        string
	CheckFile       string
	CheckPrecedence string // what the precedence test expects
}

// DotnetBadValue is an environment value that must be rejected with a
// message holding every fragment.
type DotnetBadValue struct {
	Method                   string // the test method
	EnvLit, KeyLit, ValueLit string
	Fragments                []string
}

// DotnetCase is a statement that breaks one rule and the name the problem
// must carry.
type DotnetCase struct {
	Class   string // for mode options
	Set     string
	NameLit string
}

// DotnetFlowCase selects an auth mode or an enum value, checks that the
// full configuration stays valid, clears what the selection requires and
// expects exactly these problems among the result.
type DotnetFlowCase struct {
	Set         []string // statements that make the selection
	CheckValid  bool     // whether the selection alone is valid
	Clear       []string
	NamesLit    []string
	MessagesLit []string
}

// DotnetMethodCase sets each client authentication method under one auth
// mode: the full configuration stays valid with the allowed ones and has
// exactly their problem with the others.
type DotnetMethodCase struct {
	SetMode   string
	Allowed   []*DotnetMethodValue
	Forbidden []*DotnetMethodValue
}

// DotnetMethodValue sets one client authentication method.
type DotnetMethodValue struct {
	Set        string
	MessageLit string // the problem when the method is not allowed
}

// DotnetURLCase sets a URL property; MessageLit is its exact problem, or
// empty when the URL is valid and no problem may start with PrefixLit.
type DotnetURLCase struct {
	Property, ValueLit, MessageLit, PrefixLit string
}

// DotnetMemberCase sets an enum property to a number no member has.
type DotnetMemberCase struct{ Set, MessageLit string }

// DotnetEnumCase checks that a configuration enum takes its values exactly
// as the spec writes them and rejects other spellings.
type DotnetEnumCase struct {
	Property, Member, ValuesClass string
	EnvLit, KeyLit, ExactLit      string
	YAMLLit                       string // a configuration file setting the exact value
	Variants                      []*DotnetVariant
}

// DotnetVariant is a spelling that differs from a value only in case.
type DotnetVariant struct {
	Lit       string // as a C# literal
	QuotedLit string // double-quoted as messages show it, as a C# literal
	YAMLLit   string // a configuration file setting it, when for a config enum
}

// DotnetSecretCase sets a secret to a recognisable value.
type DotnetSecretCase struct{ Property, PropertyLit, ValueLit string }

type sample struct{ env, envExpect, yaml, yamlExpect string }

func fieldSample(f *Field) sample {
	k := f.Name.Kebab
	switch f.Kind {
	case "bool":
		if defaultBool(f) {
			return sample{"No", "false", "false", "false"}
		}
		return sample{"YES", "true", "true", "true"}
	case "int", "duration":
		e, y := sampleInt(f, 7), sampleInt(f, 3)
		return sample{strconvInt(e), strconvInt(e) + "L", strconvInt(y), strconvInt(y) + "L"}
	case "float":
		e, y := sampleFloat(f, 0.25), sampleFloat(f, 0.5)
		es, ys := strconv.FormatFloat(e, 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64)
		return sample{es, floatLiteral(e), ys, floatLiteral(y)}
	case "enum":
		var others []*EnumValue
		def := defaultEnum(f)
		for _, v := range f.Enum.Values {
			if v != def {
				others = append(others, v)
			}
		}
		if len(others) == 0 {
			others = []*EnumValue{def}
		}
		e, y := others[len(others)-1], others[0]
		t := f.Enum.Name.Pascal + "."
		return sample{e.Value, t + e.Names.Pascal, y.Value, t + y.Names.Pascal}
	case "list":
		return sample{"env-a, env-b env-c", `new[] { "env-a", "env-b", "env-c" }`, `[file-a, "file-b"]`, `new[] { "file-a", "file-b" }`}
	case "secret":
		return sample{"env-secret-" + k, quote("env-secret-" + k), "'file-secret-" + k + "'", quote("file-secret-" + k)}
	case "url":
		return sample{"https://env.example.com/" + k, quote("https://env.example.com/" + k), "https://file.example.com/" + k + "  # a comment", quote("https://file.example.com/" + k)}
	case "path":
		return sample{"/env/" + k + ".pem", quote("/env/" + k + ".pem"), "/file/" + k + ".pem", quote("/file/" + k + ".pem")}
	}
	return sample{"env-" + k, quote("env-" + k), `"file-` + k + `"`, quote("file-" + k)}
}

func sampleInt(f *Field, delta int64) int64 {
	d := defaultInt(f)
	v := d + delta
	if f.Max != nil && float64(v) > *f.Max {
		v = d - delta
	}
	if f.Min != nil && float64(v) < *f.Min {
		v = int64(*f.Min)
	}
	return v
}

func sampleFloat(f *Field, delta float64) float64 {
	d := defaultFloat(f)
	v := d + delta
	if f.Max != nil && v > *f.Max {
		v = d - delta
	}
	if f.Min != nil && v < *f.Min {
		v = *f.Min
	}
	return v
}

func csAssert(f *Field, expected, actual string) string {
	if f.Kind == "list" {
		return "CollectionAssert.AreEqual(" + expected + ", " + actual + ", " + quote(f.Name.Snake) + ");"
	}
	return "Assert.AreEqual(" + expected + ", " + actual + ", " + quote(f.Name.Snake) + ");"
}

func csDefaultExpect(f *Field) string {
	switch f.Kind {
	case "int", "duration":
		return strconvInt(defaultInt(f)) + "L"
	case "list":
		if len(defaultList(f)) == 0 {
			return "new string[0]"
		}
		return listLiteral(defaultList(f), "new[] { ", " }")
	}
	return f.CSharp.Default
}

func newDotnetTests(m *Model, v *DotnetView) *DotnetTests {
	t := &DotnetTests{}
	for _, f := range m.Fields {
		t.EnvNames = append(t.EnvNames, quote(f.Env))
	}
	t.EnvNames = append(t.EnvNames, quote(m.ModeEnv))

	t.UnknownYAMLLit = quote(m.YAMLRoot + ":\n  no_such_key: 1\n  other_unknown: [a]\n")
	t.YAMLLines = append(t.YAMLLines, quote("# every field, with a value that differs from its default"), quote(m.YAMLRoot+":"))
	overrideAt := -1
	for i, f := range m.Fields {
		if overrideAt < 0 && (f.Kind == "string" || f.Kind == "url" || f.Kind == "path") {
			overrideAt = i
		}
	}
	for i, f := range m.Fields {
		s := csTestSample(m, f)
		actual := "config." + f.Name.Pascal
		ft := &DotnetFieldTest{
			Property:     f.Name.Pascal,
			NameLit:      quote(f.YAMLKey),
			EnvLit:       quote(f.Env),
			EnvValueLit:  quote(s.env),
			CheckDefault: csAssert(f, csDefaultExpect(f), actual),
			CheckEnv:     csAssert(f, s.envExpect, actual),
			CheckFile:    csAssert(f, s.yamlExpect, actual),
		}
		ft.CheckPrecedence = ft.CheckFile
		if i%2 == 0 || i == overrideAt {
			t.PrecedenceEnv = append(t.PrecedenceEnv, ft)
			ft.CheckPrecedence = ft.CheckEnv
		}
		t.Fields = append(t.Fields, ft)
		t.YAMLLines = append(t.YAMLLines, quote("  "+f.YAMLKey+": "+s.yaml))
		if f.Kind == "url" {
			t.URLFields = append(t.URLFields, ft)
			t.URLAndRangeNames = append(t.URLAndRangeNames, quote(f.YAMLKey))
		}
		if i == overrideAt {
			value := "code-" + f.Name.Kebab
			if f.Kind == "url" {
				value = "https://code.example.com/" + f.Name.Kebab
			}
			t.OverrideSet = "c." + f.Name.Pascal + " = " + quote(value) + ";"
			ft.CheckPrecedence = csAssert(f, quote(value), actual)
		}
		if f.Required {
			t.RequiredNames = append(t.RequiredNames, quote(f.YAMLKey))
		}
		if f.Secret {
			t.Secrets = append(t.Secrets, &DotnetSecretCase{Property: f.Name.Pascal, PropertyLit: quote(f.Name.Pascal), ValueLit: quote("s3cr3t-" + f.Name.Kebab + "-value")})
		}
		for _, c := range rangeCases(f, "config", f.YAMLKey, "") {
			t.RangeCases = append(t.RangeCases, c)
			t.URLAndRangeNames = append(t.URLAndRangeNames, c.NameLit)
		}
	}

	seen := map[string]bool{}
	for _, f := range m.Fields {
		kind := f.Kind
		if kind == "duration" {
			kind = "int"
		}
		if seen[kind] {
			continue
		}
		var raw string
		var frags []string
		switch kind {
		case "bool":
			raw, frags = "maybe", []string{"true, false, 1, 0, yes, no"}
		case "int":
			raw = "12abc"
		case "float":
			raw = "1.5.2"
		case "enum":
			raw = "no-such-" + f.Enum.Name.Kebab
			for _, e := range v.Enums {
				if e.Type == f.Enum.Name.Pascal {
					frags = append(frags, e.AllowedLit[1:len(e.AllowedLit)-1])
				}
			}
		default:
			continue
		}
		seen[kind] = true
		bv := &DotnetBadValue{Method: "Bad" + NewNames(f.Env).Pascal + "IsNamed", EnvLit: quote(f.Env), KeyLit: quote(f.YAMLKey), ValueLit: quote(raw)}
		if t.BadYAMLLit == "" {
			t.BadYAMLLit = quote(m.YAMLRoot + ":\n  # a comment\n  " + f.YAMLKey + ": " + raw + "\n")
			t.BadYAMLWant = quote("auth.yaml:3: " + m.YAMLRoot + "." + f.YAMLKey + ": ")
		}
		bv.Fragments = append(bv.Fragments, quote(f.Env), quote(`"`+raw+`"`))
		for _, fr := range frags {
			bv.Fragments = append(bv.Fragments, quote(fr))
		}
		t.BadValues = append(t.BadValues, bv)
	}

	csRuleTests(m, t)
	csURLTests(m, t)
	csEnumTests(m, v, t)

	for _, e := range m.Errors {
		if e.Retryable && t.Retryable == "" {
			t.Retryable = e.Names.Pascal
		}
		if !e.Retryable && t.NotRetryable == "" {
			t.NotRetryable = e.Names.Pascal
		}
	}

	for _, md := range m.Modes {
		for _, o := range md.Options {
			t.OptionCases = append(t.OptionCases, rangeCases(o, "options", md.ID.Snake+"."+o.Name.Snake, md.ID.Pascal+"ModeOptions")...)
		}
	}
	return t
}

func rangeCases(f *Field, recv, name, class string) []*DotnetCase {
	var out []*DotnetCase
	step := func(b, d float64) string {
		if f.Kind == "float" {
			return floatLiteral(b + d/2)
		}
		return strconvInt(int64(b + d))
	}
	if f.Kind != "int" && f.Kind != "duration" && f.Kind != "float" {
		return nil
	}
	if f.Min != nil {
		out = append(out, &DotnetCase{Class: class, Set: recv + "." + f.Name.Pascal + " = " + step(*f.Min, -1) + ";", NameLit: quote(name)})
	}
	if f.Max != nil {
		out = append(out, &DotnetCase{Class: class, Set: recv + "." + f.Name.Pascal + " = " + step(*f.Max, 1) + ";", NameLit: quote(name)})
	}
	return out
}

// csTestSample is fieldSample, except that the file value of the client
// authentication method is one that the flow of the auth mode's file value
// allows, so that the full configuration file is valid.
func csTestSample(m *Model, f *Field) sample {
	s := fieldSample(f)
	modeField := csEnumField(m, m.AuthModeEnum)
	if modeField == nil || f != csEnumField(m, m.ClientAuthMethodEnum) {
		return s
	}
	fl := csFlowOf(m, findValue(modeField.Enum, fieldSample(modeField).yaml))
	if fl == nil || len(fl.ClientAuthMethods) == 0 || csAllows(fl, findValue(f.Enum, s.yaml)) {
		return s
	}
	allowed := fl.ClientAuthMethods[0]
	s.yaml, s.yamlExpect = allowed.Value, csMember(allowed)
	return s
}

// csFileValue is the enum value the full configuration file gives f.
func csFileValue(m *Model, f *Field) *EnumValue {
	return findValue(f.Enum, csTestSample(m, f).yaml)
}

// csFlowOf is the flow auth mode mode selects, or nil.
func csFlowOf(m *Model, mode *EnumValue) *Flow {
	if mode == nil {
		return nil
	}
	for _, fl := range m.Flows {
		if fl.AuthMode == mode {
			return fl
		}
	}
	return nil
}

// csAllows reports whether flow fl allows client authentication method
// method; a flow that lists no methods allows every one.
func csAllows(fl *Flow, method *EnumValue) bool {
	if len(fl.ClientAuthMethods) == 0 {
		return true
	}
	for _, v := range fl.ClientAuthMethods {
		if v == method {
			return true
		}
	}
	return false
}

// csSetEnum is the statement that sets the config's enum property f to v.
func csSetEnum(f *Field, v *EnumValue) string {
	return "config." + f.Name.Pascal + " = " + csMember(v) + ";"
}

// csClear is the statement that unsets the config's property r.
func csClear(r *Field) string {
	if r.Kind == "list" {
		return "config." + r.Name.Pascal + ".Clear();"
	}
	return "config." + r.Name.Pascal + " = \"\";"
}

// csRuleTests fills the cases of the conditional rules: what each auth
// mode's flow requires, what each enum value requires, and which client
// authentication methods each auth mode allows.
func csRuleTests(m *Model, t *DotnetTests) {
	modeField := csEnumField(m, m.AuthModeEnum)
	methodField := csEnumField(m, m.ClientAuthMethodEnum)
	var fileMethod *EnumValue
	if methodField != nil {
		fileMethod = csFileValue(m, methodField)
	}

	for _, fl := range m.Flows {
		if fl.AuthMode == nil || modeField == nil {
			continue
		}
		req := flowRequires(fl)
		if len(req) == 0 {
			continue
		}
		fc := &DotnetFlowCase{Set: []string{csSetEnum(modeField, fl.AuthMode)}, CheckValid: true}
		if methodField != nil && !csAllows(fl, fileMethod) {
			fc.Set = append(fc.Set, csSetEnum(methodField, fl.ClientAuthMethods[0]))
		}
		for _, r := range req {
			fc.Clear = append(fc.Clear, csClear(r))
			fc.NamesLit = append(fc.NamesLit, quote(r.YAMLKey))
			fc.MessagesLit = append(fc.MessagesLit, quote(csRequiredWhen(r, modeField, fl.AuthMode.Value)))
		}
		t.FlowCases = append(t.FlowCases, fc)
	}

	for _, f := range m.Fields {
		if f.Kind != "enum" || f.Enum == nil {
			continue
		}
		for _, ev := range f.Enum.Values {
			req := csConditionalRequires(ev.Requires)
			if len(req) == 0 {
				continue
			}
			vc := &DotnetFlowCase{CheckValid: true}
			if f == methodField && modeField != nil {
				// Select an auth mode whose flow allows the method: the
				// file's when it does, else the first that does.
				mode := csFileValue(m, modeField)
				if fl := csFlowOf(m, mode); fl == nil || !csAllows(fl, ev) {
					mode = nil
					for _, fl := range m.Flows {
						if fl.AuthMode != nil && csAllows(fl, ev) {
							mode = fl.AuthMode
							break
						}
					}
					if mode != nil {
						vc.Set = append(vc.Set, csSetEnum(modeField, mode))
					} else {
						vc.CheckValid = false
					}
				}
			}
			vc.Set = append(vc.Set, csSetEnum(f, ev))
			for _, r := range req {
				vc.Clear = append(vc.Clear, csClear(r))
				vc.NamesLit = append(vc.NamesLit, quote(r.YAMLKey))
				vc.MessagesLit = append(vc.MessagesLit, quote(csRequiredWhen(r, f, ev.Value)))
			}
			t.ValueCases = append(t.ValueCases, vc)
		}
	}

	if modeField == nil || methodField == nil {
		return
	}
	for _, fl := range m.Flows {
		if fl.AuthMode == nil || len(fl.ClientAuthMethods) == 0 {
			continue
		}
		mc := &DotnetMethodCase{SetMode: csSetEnum(modeField, fl.AuthMode)}
		for _, method := range methodField.Enum.Values {
			mv := &DotnetMethodValue{
				Set:        csSetEnum(methodField, method),
				MessageLit: quote(methodField.YAMLKey + " " + strconv.Quote(method.Value) + csNotAllowed(modeField, fl)),
			}
			if csAllows(fl, method) {
				mc.Allowed = append(mc.Allowed, mv)
			} else {
				mc.Forbidden = append(mc.Forbidden, mv)
			}
		}
		t.MethodCases = append(t.MethodCases, mc)
	}
}

// The URLs the URL test gives the first URL property: an absolute http or
// https URL with a host is valid, anything else is not.
var (
	csBadURLs = []string{
		"ftp://auth.example.com/token", "not a url", "https://", "/relative/path", "auth.example.com/token",
		"mailto:user@example.com", "http:auth.example.com", "http:///token", " https://auth.example.com/token",
		"file:///etc/passwd",
	}
	csGoodURLs = []string{
		"https://auth.example.com/oauth2/token?audience=x", "http://localhost:8080/callback",
		"HTTPS://AUTH.EXAMPLE.COM/token", "http://127.0.0.1:9000", "http://[::1]:8080/cb",
	}
)

func csURLMessage(f *Field, value string) string {
	return f.YAMLKey + ": invalid URL " + strconv.Quote(value) + ": want an absolute http or https URL"
}

// csURLTests fills the URL cases: "ftp://x" for every URL property, then
// every bad and good URL for the first.
func csURLTests(m *Model, t *DotnetTests) {
	var first *Field
	for _, f := range m.Fields {
		if f.Kind != "url" {
			continue
		}
		if first == nil {
			first = f
		}
		t.URLCases = append(t.URLCases, &DotnetURLCase{Property: f.Name.Pascal, ValueLit: quote("ftp://x"), MessageLit: quote(csURLMessage(f, "ftp://x"))})
	}
	if first == nil {
		return
	}
	for _, u := range csBadURLs {
		t.URLCases = append(t.URLCases, &DotnetURLCase{Property: first.Name.Pascal, ValueLit: quote(u), MessageLit: quote(csURLMessage(first, u))})
	}
	for _, u := range csGoodURLs {
		t.URLCases = append(t.URLCases, &DotnetURLCase{Property: first.Name.Pascal, ValueLit: quote(u), PrefixLit: quote(first.YAMLKey + ": ")})
	}
}

// csCaseVariants are the spellings of value in upper case, lower case and
// with only its first letter upper, leaving out value itself.
func csCaseVariants(value string) []string {
	var out []string
	seen := map[string]bool{value: true}
	title := strings.ToLower(value)
	if title != "" {
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	for _, v := range []string{strings.ToUpper(value), strings.ToLower(value), title} {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// csEnumTests fills the cases of enum membership and of exact,
// case-sensitive matching of configuration enums and runtime modes.
func csEnumTests(m *Model, v *DotnetView, t *DotnetTests) {
	for _, f := range m.Fields {
		if f.Kind != "enum" || f.Enum == nil || len(f.Enum.Values) == 0 {
			continue
		}
		t.MemberCases = append(t.MemberCases, &DotnetMemberCase{
			Set:        "config." + f.Name.Pascal + " = (" + f.Enum.Name.Pascal + ")999;",
			MessageLit: quote(f.YAMLKey + ": unknown value 999: want one of " + csQuotedValues(f.Enum.Values)),
		})
		var ev *EnumValue
		var variants []string
		for _, cand := range f.Enum.Values {
			if variants = csCaseVariants(cand.Value); len(variants) > 0 {
				ev = cand
				break
			}
		}
		if ev == nil {
			continue
		}
		yaml := func(value string) string { return quote(m.YAMLRoot + ":\n  " + f.YAMLKey + ": " + value + "\n") }
		ec := &DotnetEnumCase{
			Property:    f.Name.Pascal,
			Member:      csMember(ev),
			ValuesClass: f.Enum.Name.Pascal + "Values",
			EnvLit:      quote(f.Env),
			KeyLit:      quote(f.YAMLKey),
			ExactLit:    quote(ev.Value),
			YAMLLit:     yaml(ev.Value),
		}
		for _, variant := range variants {
			ec.Variants = append(ec.Variants, &DotnetVariant{Lit: quote(variant), QuotedLit: quote(strconv.Quote(variant)), YAMLLit: yaml(variant)})
		}
		t.EnumCases = append(t.EnumCases, ec)
	}
	for _, md := range v.ModeEnum.Values {
		for _, variant := range csCaseVariants(md.Wire) {
			t.ModeVariants = append(t.ModeVariants, &DotnetVariant{Lit: quote(variant), QuotedLit: quote(strconv.Quote(variant))})
		}
	}
}
