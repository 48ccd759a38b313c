// Package validate is the second stage: it checks every rule of the spec
// and collects every problem, each with its file:line:col.
package validate

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/ast"
	"github.com/coyotesense/coyotegen/generator/internal/diag"
	"gopkg.in/yaml.v3"
)

// Known sets. The generator and the runtimes implement exactly these, so a
// spec naming anything else is refused rather than emitted half-working.
var (
	// FieldTypes are the configuration field types.
	FieldTypes = []string{"bool", "duration", "enum", "float", "int", "list", "path", "secret", "string", "url"}
	// ArgTypes are the operation argument types.
	ArgTypes = []string{"bool", "int", "list", "secret", "string"}
	// ResultTypes are the operation result types.
	ResultTypes = []string{"auth_result", "authorization_request", "bool", "introspection", "none", "token"}
	// Flows are the flows the runtimes implement.
	Flows = []string{"authorization_code", "authorization_code_pkce", "client_credentials", "jwt_bearer", "mtls", "refresh_token"}
	// Operations are the operations the runtimes implement.
	Operations = []string{"authenticate_authorization_code", "authenticate_client_credentials", "authenticate_jwt_bearer", "clear_tokens", "complete_authorization_code_flow", "get_valid_token", "introspect_token", "refresh_token", "revoke_token", "start_authorization_code_flow", "test_connection"}
	// Modes are the runtime modes the runtimes implement.
	Modes = []string{"debug", "mock", "real", "record", "replay", "simulation"}
	// ParamSources are where a token request parameter may come from.
	ParamSources = []string{"argument", "computed", "config", "constant"}
	// Units are the units of duration fields.
	Units = []string{"ms", "s"}
	// Computed are the values the runtime computes for a parameter.
	Computed = []string{"client_assertion", "jwt_assertion"}
)

var (
	snakeName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	envName   = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	semver    = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	goImport  = regexp.MustCompile(`^[a-z0-9.-]+(/[A-Za-z0-9._~-]+)+$`)
	goIdent   = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	pyModule  = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	pyDist    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	npmName   = regexp.MustCompile(`^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$`)
	dotted    = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$`)
	cppNS     = regexp.MustCompile(`^[a-z_][a-z0-9_]*(::[a-z_][a-z0-9_]*)*$`)
	portName  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Validate checks spec and returns every problem as a *diag.Error.
func Validate(spec *ast.Spec) error {
	v := &validator{}
	v.spec(spec)
	return v.diags.Err()
}

type validator struct {
	diags  diag.List
	enums  map[string]*ast.Enum
	fields map[string]bool
	ops    map[string]bool
}

func (v *validator) spec(s *ast.Spec) {
	if !s.SpecVersion.Set {
		v.diags.Addf(s.Pos, "missing required key %q", "spec_version")
	} else if s.SpecVersion.Value != 1 {
		v.diags.Addf(s.SpecVersion.Pos, "unsupported spec_version %d: want 1", s.SpecVersion.Value)
	}
	v.pkg(&s.Package)
	v.enumDecls(s.Enums)
	v.config(&s.Config)
	v.operations(s.Operations)
	v.flows(s.Flows)
	v.errors(s.Errors)
	v.modes(&s.Modes)
}

// required reports a missing key of the element at pos.
func (v *validator) required(pos diag.Pos, what, key string, val ast.Str) bool {
	if val.Bad {
		return false
	}
	if val.Value == "" {
		v.diags.Addf(pos, "%s: missing required key %q", what, key)
		return false
	}
	return true
}

func (v *validator) match(re *regexp.Regexp, val ast.Str, what, want string) {
	if val.Value != "" && !re.MatchString(val.Value) {
		v.diags.Addf(val.Pos, "invalid %s %q: want %s", what, val.Value, want)
	}
}

func (v *validator) pkg(p *ast.Package) {
	for _, r := range []struct {
		key string
		val ast.Str
		re  *regexp.Regexp
		why string
	}{
		{"name", p.Name, portName, "lower-case words joined by '-'"},
		{"version", p.Version, semver, "a semantic version such as \"1.2.3\""},
		{"license", p.License, nil, ""},
		{"go.import_path", p.Go.ImportPath, goImport, "a Go import path such as \"example.com/auth\""},
		{"go.package", p.Go.Package, goIdent, "a lower-case Go package name"},
		{"python.distribution", p.Python.Distribution, pyDist, "a PEP 508 distribution name"},
		{"python.module", p.Python.Module, pyModule, "a lower-case Python module name"},
		{"ts.package", p.TS.Package, npmName, "an npm package name such as \"@scope/name\""},
		{"dotnet.package_id", p.Dotnet.PackageID, dotted, "dotted PascalCase such as \"Company.Product\""},
		{"dotnet.namespace", p.Dotnet.Namespace, dotted, "dotted PascalCase such as \"Company.Product\""},
		{"cpp.vcpkg_port", p.Cpp.VcpkgPort, portName, "lower-case words joined by '-'"},
		{"cpp.namespace", p.Cpp.Namespace, cppNS, "a C++ namespace such as \"company::product\""},
		{"cpp.cmake_target", p.Cpp.CMakeTarget, pyModule, "a lower-case identifier"},
	} {
		if v.required(p.Pos, "package", r.key, r.val) && r.re != nil {
			v.match(r.re, r.val, "package "+r.key, r.why)
		}
	}
}

func (v *validator) enumDecls(enums []ast.Enum) {
	v.enums = map[string]*ast.Enum{}
	names := uniq{v: v, what: "enum"}
	for i := range enums {
		e := &enums[i]
		if !v.required(e.Pos, "enum", "name", e.Name) {
			continue
		}
		v.match(snakeName, e.Name, "enum name", "snake_case")
		names.add(e.Name)
		v.enums[e.Name.Value] = e
		if len(e.Values) == 0 {
			v.diags.Addf(e.Pos, "enum %q: missing required key %q", e.Name.Value, "values")
		}
		vals := uniq{v: v, what: fmt.Sprintf("value of enum %q", e.Name.Value)}
		for _, val := range e.Values {
			if v.required(val.Pos, "enum value", "value", val.Value) {
				vals.add(val.Value)
			}
		}
	}
}

func (v *validator) config(c *ast.Config) {
	v.required(c.Pos, "config", "env_prefix", c.EnvPrefix)
	v.required(c.Pos, "config", "yaml_root", c.YAMLRoot)
	if c.EnvPrefix.Value != "" && !strings.HasSuffix(c.EnvPrefix.Value, "_") {
		v.diags.Addf(c.EnvPrefix.Pos, "invalid env_prefix %q: want a prefix ending in '_' such as \"COYOTE_AUTH_\"", c.EnvPrefix.Value)
	}
	v.fields = map[string]bool{}
	names := uniq{v: v, what: "config field"}
	envs := uniq{v: v, what: "environment variable"}
	keys := uniq{v: v, what: "yaml key"}
	for i := range c.Fields {
		f := &c.Fields[i]
		if !v.field(f, "config field") {
			continue
		}
		unique := names.add(f.Name)
		v.fields[f.Name.Value] = true
		if f.Env.Value != "" {
			envs.add(f.Env)
			if c.EnvPrefix.Value != "" && !strings.HasPrefix(f.Env.Value, c.EnvPrefix.Value) {
				v.diags.Addf(f.Env.Pos, "field %q: unknown environment variable %q: want a name in the %q namespace such as %q", f.Name.Value, f.Env.Value, c.EnvPrefix.Value, c.EnvPrefix.Value+strings.ToUpper(f.Name.Value))
			}
		}
		key := f.YAMLKey
		if key.Value == "" {
			// The key is the name: a duplicate name is reported already.
			if !unique {
				continue
			}
			key = ast.Str{Pos: f.Name.Pos, Value: f.Name.Value}
		}
		keys.add(key)
	}
	for _, e := range v.enums {
		for _, val := range e.Values {
			for _, r := range val.Requires {
				if !v.fields[r.Value] {
					v.diags.Addf(r.Pos, "enum value %q: requires unknown config field %q", val.Value.Value, r.Value)
				}
			}
		}
	}
}

// field checks a config field or mode option; it reports false when the
// field has no name to refer to it by.
func (v *validator) field(f *ast.Field, what string) bool {
	if !v.required(f.Pos, what, "name", f.Name) {
		return false
	}
	v.match(snakeName, f.Name, what+" name", "snake_case")
	what = fmt.Sprintf("%s %q", what, f.Name.Value)
	v.required(f.Pos, what, "doc", f.Doc)
	if f.Env.Value != "" {
		v.match(envName, f.Env, "environment variable", "UPPER_SNAKE_CASE")
	}
	if f.YAMLKey.Value != "" {
		v.match(snakeName, f.YAMLKey, "yaml key", "snake_case")
	}
	if !v.required(f.Pos, what, "type", f.Type) {
		return true
	}
	if !v.oneOf(f.Type, "type", FieldTypes) {
		return true
	}
	switch f.Type.Value {
	case "enum":
		if v.required(f.Pos, what, "enum", f.Enum) && v.enums[f.Enum.Value] == nil {
			v.diags.Addf(f.Enum.Pos, "%s: unknown enum %q: want one of %s", what, f.Enum.Value, quoteAll(sortedKeys(v.enums)))
		}
	case "duration":
		if v.required(f.Pos, what, "unit", f.Unit) {
			v.oneOf(f.Unit, "unit", Units)
		}
	}
	if f.Type.Value != "enum" && f.Enum.Value != "" {
		v.diags.Addf(f.Enum.Pos, "%s: key %q is only allowed with type \"enum\"", what, "enum")
	}
	if f.Type.Value != "duration" && f.Unit.Value != "" {
		v.diags.Addf(f.Unit.Pos, "%s: key %q is only allowed with type \"duration\"", what, "unit")
	}
	numeric := f.Type.Value == "int" || f.Type.Value == "float" || f.Type.Value == "duration"
	for _, b := range []struct {
		key string
		val ast.Float
	}{{"min", f.Min}, {"max", f.Max}} {
		if b.val.Set && !numeric {
			v.diags.Addf(b.val.Pos, "%s: key %q is only allowed with a numeric type", what, b.key)
		}
	}
	if f.Min.Set && f.Max.Set && f.Min.Value > f.Max.Value {
		v.diags.Addf(f.Max.Pos, "%s: max %v is below min %v", what, f.Max.Value, f.Min.Value)
	}
	if f.Default.Node != nil {
		v.defaultValue(f, what)
	}
	if f.Required.Value && f.Default.Node != nil {
		v.diags.Addf(f.Required.Pos, "%s: a required field cannot have a default", what)
	}
	return true
}

func (v *validator) defaultValue(f *ast.Field, what string) {
	n := f.Default.Node
	bad := func(want string) {
		v.diags.Addf(f.Default.Pos, "%s: default %s does not match type %q: want %s", what, show(n), f.Type.Value, want)
	}
	if f.Type.Value == "list" {
		if n.Kind != yaml.SequenceNode {
			bad("a list of strings")
			return
		}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
				v.diags.Addf(diag.Pos{File: f.Default.Pos.File, Line: item.Line, Col: item.Column}, "%s: default item %s: want a string", what, show(item))
			}
		}
		return
	}
	if n.Kind != yaml.ScalarNode {
		bad("a single value")
		return
	}
	var num float64
	switch f.Type.Value {
	case "bool":
		if n.Tag != "!!bool" {
			bad("true or false")
		}
		return
	case "int", "duration":
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Tag != "!!int" || err != nil {
			bad("an integer")
			return
		}
		num = float64(i)
		if f.Type.Value == "duration" && i < 0 {
			v.diags.Addf(f.Default.Pos, "%s: default %d is negative", what, i)
		}
	case "float":
		x, err := strconv.ParseFloat(n.Value, 64)
		if (n.Tag != "!!float" && n.Tag != "!!int") || err != nil {
			bad("a number")
			return
		}
		num = x
	case "enum":
		e := v.enums[f.Enum.Value]
		if e == nil {
			return
		}
		var allowed []string
		for _, val := range e.Values {
			allowed = append(allowed, val.Value.Value)
		}
		if !contains(allowed, n.Value) {
			v.diags.Addf(f.Default.Pos, "%s: default %q is not a value of enum %q: want one of %s", what, n.Value, e.Name.Value, quoteAll(allowed))
		}
		return
	default:
		if n.Tag != "!!str" {
			bad("a string")
		}
		return
	}
	if f.Min.Set && num < f.Min.Value {
		v.diags.Addf(f.Default.Pos, "%s: default %v is below min %v", what, n.Value, f.Min.Value)
	}
	if f.Max.Set && num > f.Max.Value {
		v.diags.Addf(f.Default.Pos, "%s: default %v is above max %v", what, n.Value, f.Max.Value)
	}
}

func (v *validator) operations(ops []ast.Operation) {
	v.ops = map[string]bool{}
	ids := uniq{v: v, what: "operation"}
	for i := range ops {
		op := &ops[i]
		if !v.required(op.Pos, "operation", "id", op.ID) {
			continue
		}
		v.match(snakeName, op.ID, "operation id", "snake_case")
		ids.add(op.ID)
		v.ops[op.ID.Value] = true
		if !contains(Operations, op.ID.Value) {
			v.diags.Addf(op.ID.Pos, "unknown operation %q: want one of %s", op.ID.Value, quoteAll(Operations))
		}
		what := fmt.Sprintf("operation %q", op.ID.Value)
		v.required(op.Pos, what, "doc", op.Doc)
		if v.required(op.Pos, what, "result", op.Result) {
			v.oneOf(op.Result, "result", ResultTypes)
		}
		args := uniq{v: v, what: "argument of " + what}
		for _, a := range op.Args {
			if !v.required(a.Pos, what+" argument", "name", a.Name) {
				continue
			}
			v.match(snakeName, a.Name, "argument name", "snake_case")
			args.add(a.Name)
			if v.required(a.Pos, fmt.Sprintf("argument %q", a.Name.Value), "type", a.Type) {
				v.oneOf(a.Type, "argument type", ArgTypes)
			}
		}
	}
}

func (v *validator) flows(flows []ast.Flow) {
	ids := uniq{v: v, what: "flow"}
	authModes := v.enumValues("auth_mode")
	authMethods := v.enumValues("client_auth_method")
	for i := range flows {
		f := &flows[i]
		if !v.required(f.Pos, "flow", "id", f.ID) {
			continue
		}
		ids.add(f.ID)
		if !contains(Flows, f.ID.Value) {
			v.diags.Addf(f.ID.Pos, "unknown flow %q: want one of %s", f.ID.Value, quoteAll(Flows))
		}
		what := fmt.Sprintf("flow %q", f.ID.Value)
		v.required(f.Pos, what, "title", f.Title)
		v.required(f.Pos, what, "rfc", f.RFC)
		v.required(f.Pos, what, "grant_type", f.GrantType)
		if f.AuthMode.Value != "" && authModes != nil && !contains(authModes, f.AuthMode.Value) {
			v.diags.Addf(f.AuthMode.Pos, "%s: unknown auth_mode %q: want one of %s", what, f.AuthMode.Value, quoteAll(authModes))
		}
		if len(f.ClientAuthMethods) == 0 {
			v.diags.Addf(f.Pos, "%s: missing required key %q", what, "client_auth_methods")
		}
		for _, m := range f.ClientAuthMethods {
			if authMethods != nil && !contains(authMethods, m.Value) {
				v.diags.Addf(m.Pos, "%s: unknown client authentication method %q: want one of %s", what, m.Value, quoteAll(authMethods))
			}
		}
		for _, r := range f.Requires {
			if !v.fields[r.Value] {
				v.diags.Addf(r.Pos, "%s: requires unknown config field %q", what, r.Value)
			}
		}
		if len(f.Operations) == 0 {
			v.diags.Addf(f.Pos, "%s: missing required key %q", what, "operations")
		}
		for _, o := range f.Operations {
			if !v.ops[o.Value] {
				v.diags.Addf(o.Pos, "%s: unknown operation %q: want one of %s", what, o.Value, quoteAll(sortedKeys(v.ops)))
			}
		}
		for _, p := range f.Params {
			if !v.required(p.Pos, what+" param", "name", p.Name) || !v.required(p.Pos, fmt.Sprintf("param %q", p.Name.Value), "from", p.From) {
				continue
			}
			if !v.oneOf(p.From, "param source", ParamSources) {
				continue
			}
			pw := fmt.Sprintf("param %q", p.Name.Value)
			switch p.From.Value {
			case "constant":
				v.required(p.Pos, pw, "value", p.Value)
			case "config":
				if v.required(p.Pos, pw, "source", p.Source) && !v.fields[p.Source.Value] {
					v.diags.Addf(p.Source.Pos, "%s: unknown config field %q", pw, p.Source.Value)
				}
			case "computed":
				if v.required(p.Pos, pw, "source", p.Source) {
					v.oneOf(p.Source, "computed value", Computed)
				}
			case "argument":
				v.required(p.Pos, pw, "source", p.Source)
			}
		}
	}
}

func (v *validator) errors(codes []ast.ErrorCode) {
	seen := uniq{v: v, what: "error code"}
	for _, c := range codes {
		if !v.required(c.Pos, "error", "code", c.Code) {
			continue
		}
		v.match(snakeName, c.Code, "error code", "snake_case")
		seen.add(c.Code)
		what := fmt.Sprintf("error %q", c.Code.Value)
		v.required(c.Pos, what, "doc", c.Doc)
		if !c.Retryable.Set && !c.Retryable.Bad {
			v.diags.Addf(c.Pos, "%s: missing required key %q", what, "retryable")
		}
	}
}

func (v *validator) modes(m *ast.Modes) {
	v.required(m.Pos, "modes", "env", m.Env)
	v.match(envName, m.Env, "environment variable", "UPPER_SNAKE_CASE")
	v.required(m.Pos, "modes", "yaml_key", m.YAMLKey)
	v.match(snakeName, m.YAMLKey, "yaml key", "snake_case")
	v.required(m.Pos, "modes", "options_key", m.OptionsKey)
	v.match(snakeName, m.OptionsKey, "yaml key", "snake_case")
	ids := uniq{v: v, what: "mode"}
	var declared []string
	for i := range m.Values {
		md := &m.Values[i]
		if !v.required(md.Pos, "mode", "id", md.ID) {
			continue
		}
		ids.add(md.ID)
		declared = append(declared, md.ID.Value)
		if !contains(Modes, md.ID.Value) {
			v.diags.Addf(md.ID.Pos, "unknown mode %q: want one of %s", md.ID.Value, quoteAll(Modes))
		}
		what := fmt.Sprintf("mode %q", md.ID.Value)
		v.required(md.Pos, what, "doc", md.Doc)
		opts := uniq{v: v, what: "option of " + what}
		for j := range md.Options {
			o := &md.Options[j]
			if v.field(o, "option") {
				opts.add(o.Name)
			}
			if o.Env.Value != "" {
				v.diags.Addf(o.Env.Pos, "option %q: key %q is not allowed on mode options", o.Name.Value, "env")
			}
		}
	}
	if v.required(m.Pos, "modes", "default", m.Default) && !contains(declared, m.Default.Value) {
		v.diags.Addf(m.Default.Pos, "unknown default mode %q: want one of %s", m.Default.Value, quoteAll(declared))
	}
}

func (v *validator) enumValues(name string) []string {
	e := v.enums[name]
	if e == nil {
		return nil
	}
	var out []string
	for _, val := range e.Values {
		out = append(out, val.Value.Value)
	}
	return out
}

func (v *validator) oneOf(val ast.Str, what string, allowed []string) bool {
	if contains(allowed, val.Value) {
		return true
	}
	v.diags.Addf(val.Pos, "unknown %s %q: want one of %s", what, val.Value, quoteAll(allowed))
	return false
}

// uniq reports names declared twice, pointing at the first declaration.
type uniq struct {
	v    *validator
	what string
	seen map[string]diag.Pos
}

// add records s and reports whether it is the first of its name.
func (u *uniq) add(s ast.Str) bool {
	if u.seen == nil {
		u.seen = map[string]diag.Pos{}
	}
	if first, ok := u.seen[s.Value]; ok {
		u.v.diags.Addf(s.Pos, "duplicate %s %q: first declared at %s", u.what, s.Value, first)
		return false
	}
	u.seen[s.Value] = s.Pos
	return true
}

func show(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	if n.Kind == yaml.SequenceNode {
		return "a list"
	}
	return "a mapping"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
