package golang

import (
	"fmt"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

// goType is a field's Go type.
func goType(f *model.Field) *jen.Statement {
	switch f.Kind {
	case "secret":
		return jen.Qual(secretPath, "Secret")
	case "bool":
		return jen.Bool()
	case "int", "duration":
		return jen.Int()
	case "float":
		return jen.Float64()
	case "list":
		return jen.Index().String()
	case "enum":
		return jen.Id(f.Enum.Name.Go)
	}
	return jen.String()
}

// goDefault is a field's default value, or nil when it is the zero value.
func goDefault(f *model.Field) jen.Code {
	if !f.HasDefault {
		return nil
	}
	switch v := f.Default.(type) {
	case bool:
		if !v {
			return nil
		}
		return jen.True()
	case int64:
		if v == 0 {
			return nil
		}
		return jen.Lit(int(v))
	case float64:
		if v == 0 {
			return nil
		}
		return jen.Lit(v)
	case []string:
		items := make([]jen.Code, len(v))
		for i, s := range v {
			items[i] = jen.Lit(s)
		}
		return jen.Index().String().Values(items...)
	case string:
		if v == "" {
			return nil
		}
		if f.Kind == "enum" {
			for _, ev := range f.Enum.Values {
				if ev.Value == v {
					return jen.Id(enumConst(ev))
				}
			}
		}
		if f.Kind == "secret" {
			return jen.Qual(secretPath, "Secret").Parens(jen.Lit(v))
		}
		return jen.Lit(v)
	}
	return nil
}

// fieldDoc is a field's doc comment with where its value may come from.
func fieldDoc(f *model.Field, yamlRoot string) string {
	doc := f.Name.Go + ": " + f.Doc
	var from []string
	if f.Env != "" {
		from = append(from, "environment "+f.Env)
	}
	if yamlRoot != "" {
		from = append(from, "YAML "+yamlRoot+"."+f.YAMLKey)
	}
	if len(from) > 0 {
		doc += " (" + strings.Join(from, ", ") + ")"
	}
	if f.HasDefault {
		doc += fmt.Sprintf(" Default: %v.", defaultText(f))
	}
	if f.Unit != "" {
		doc += " Unit: " + map[string]string{"ms": "milliseconds", "s": "seconds"}[f.Unit] + "."
	}
	return doc
}

func defaultText(f *model.Field) string {
	switch v := f.Default.(type) {
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(f.Default)
}

func genConfig(f *jen.File, m *model.Model) {
	genConfigStruct(f, m)
	genDefaultConfig(f, m)
	genLoadConfig(f, m)
	genApplyEnv(f, m)
	genFileConfig(f, m)
	genApplyYAML(f, m)
	genValidate(f, m)
}

func genConfigStruct(f *jen.File, m *model.Model) {
	fields := make([]jen.Code, 0, len(m.Fields))
	for _, fd := range m.Fields {
		fields = append(fields, doc(fieldDoc(fd, m.YAMLRoot))...)
		fields = append(fields, jen.Id(fd.Name.Go).Add(goType(fd)).Tag(map[string]string{"yaml": fd.YAMLKey, "json": fd.YAMLKey}))
	}
	f.Comment("Config is the client configuration. DefaultConfig returns it with every")
	f.Comment("default set; LoadConfig also reads the configuration file and the")
	f.Comment(fmt.Sprintf("environment (%s* variables). Precedence, highest first: values set in", m.EnvPrefix))
	f.Comment("code, then the environment, then the file, then the defaults. Secrets are")
	f.Comment("secret.Secret values, which never print.")
	f.Type().Id("Config").Struct(fields...)
	f.Line()
}

func genDefaultConfig(f *jen.File, m *model.Model) {
	f.Comment("DefaultConfig returns the configuration with every default of the spec.")
	f.Func().Id("DefaultConfig").Params().Id("Config").Block(
		jen.Return(jen.Id("Config").Values(jen.DictFunc(func(d jen.Dict) {
			for _, fd := range m.Fields {
				if def := goDefault(fd); def != nil {
					d[jen.Id(fd.Name.Go)] = def
				}
			}
		}))),
	)
	f.Line()
}

func genLoadConfig(f *jen.File, m *model.Model) {
	f.Comment("LoadConfig returns the defaults overlaid with the YAML file at path (none when")
	f.Comment(fmt.Sprintf("path is empty) and then with the %s* environment variables. It", m.EnvPrefix))
	f.Comment("reports every bad value at once; call Validate on the result after setting")
	f.Comment("the values that come from code.")
	f.Func().Id("LoadConfig").Params(jen.Id("path").String()).Params(jen.Id("Config"), jen.Error()).Block(
		jen.Id("cfg").Op(":=").Id("DefaultConfig").Call(),
		jen.If(jen.Id("path").Op("!=").Lit("")).Block(
			jen.Var().Id("p").Qual(configloadPath, "Problems"),
			jen.Id("data").Op(":=").Qual(configloadPath, "ReadFile").Call(jen.Id("path"), jen.Op("&").Id("p")),
			jen.If(jen.Id("err").Op(":=").Id("p").Dot("Err").Call(), jen.Id("err").Op("!=").Nil()).Block(
				jen.Return(jen.Id("cfg"), jen.Id("err")),
			),
			jen.If(jen.Id("err").Op(":=").Id("cfg").Dot("ApplyYAML").Call(jen.Id("data"), jen.Id("path")), jen.Id("err").Op("!=").Nil()).Block(
				jen.Return(jen.Id("cfg"), jen.Id("err")),
			),
		),
		jen.Return(jen.Id("cfg"), jen.Id("cfg").Dot("ApplyEnv").Call(jen.Qual(configloadPath, "EnvLookup").Call())),
	)
	f.Line()
}

func genApplyEnv(f *jen.File, m *model.Model) {
	body := []jen.Code{jen.Var().Id("p").Qual(configloadPath, "Problems")}
	for _, fd := range m.Fields {
		if fd.Env == "" {
			continue
		}
		target := jen.Op("&").Id("c").Dot(fd.Name.Go)
		var call *jen.Statement
		switch fd.Kind {
		case "bool":
			call = jen.Qual(configloadPath, "Bool").Call(jen.Id("lookup"), jen.Lit(fd.Env), target, jen.Op("&").Id("p"))
		case "int", "duration":
			call = jen.Qual(configloadPath, "Int").Call(jen.Id("lookup"), jen.Lit(fd.Env), target, jen.Op("&").Id("p"))
		case "float":
			call = jen.Qual(configloadPath, "Float").Call(jen.Id("lookup"), jen.Lit(fd.Env), target, jen.Op("&").Id("p"))
		case "list":
			call = jen.Qual(configloadPath, "List").Call(jen.Id("lookup"), jen.Lit(fd.Env), target, jen.Op("&").Id("p"))
		case "enum":
			call = jen.Qual(configloadPath, "Enum").Call(jen.Id("lookup"), jen.Lit(fd.Env), jen.Parens(jen.Op("*").String()).Parens(target), jen.Id(enumValuesVar(fd.Enum)), jen.Op("&").Id("p"))
		case "secret":
			call = jen.Qual(configloadPath, "String").Call(jen.Id("lookup"), jen.Lit(fd.Env), jen.Parens(jen.Op("*").String()).Parens(target), jen.Op("&").Id("p"))
		default:
			call = jen.Qual(configloadPath, "String").Call(jen.Id("lookup"), jen.Lit(fd.Env), target, jen.Op("&").Id("p"))
		}
		body = append(body, call)
	}
	body = append(body, jen.Return(jen.Id("p").Dot("Err").Call()))
	f.Comment("ApplyEnv overlays the configuration with the environment variables that")
	f.Comment("lookup finds (configload.EnvLookup reads the process environment and treats")
	f.Comment("empty variables as unset). Lists are split on commas and spaces. Every bad")
	f.Comment("value is reported, naming its variable; the others are still applied.")
	f.Func().Params(jen.Id("c").Op("*").Id("Config")).Id("ApplyEnv").Params(jen.Id("lookup").Qual(configloadPath, "Lookup")).Error().Block(body...)
	f.Line()
}

// fileFieldType is the type of a field in the YAML file struct: a pointer,
// so that absent keys leave the value alone.
func fileFieldType(fd *model.Field) *jen.Statement {
	switch fd.Kind {
	case "bool":
		return jen.Op("*").Bool()
	case "int", "duration":
		return jen.Op("*").Int()
	case "float":
		return jen.Op("*").Float64()
	case "list":
		return jen.Op("*").Index().String()
	}
	return jen.Op("*").String()
}

func genFileConfig(f *jen.File, m *model.Model) {
	fields := make([]jen.Code, 0, len(m.Fields))
	keys := make([]jen.Code, 0, len(m.Fields))
	for _, fd := range m.Fields {
		fields = append(fields, jen.Id(fd.Name.Go).Add(fileFieldType(fd)).Tag(map[string]string{"yaml": fd.YAMLKey}))
		keys = append(keys, jen.Lit(fd.YAMLKey))
	}
	f.Comment(fmt.Sprintf("fileConfig is the %q section of the configuration file.", m.YAMLRoot))
	f.Type().Id("fileConfig").Struct(fields...)
	f.Line()
	f.Var().Id("fileKeys").Op("=").Index().String().Values(keys...)
	f.Line()
}

func genApplyYAML(f *jen.File, m *model.Model) {
	body := []jen.Code{
		jen.Var().Id("p").Qual(configloadPath, "Problems"),
		jen.Id("sec").Op(":=").Qual(configloadPath, "Section").Call(jen.Id("data"), jen.Id("name"), jen.Lit(m.YAMLRoot), jen.Id("fileKeys"), jen.Op("&").Id("p")),
		jen.If(jen.Id("sec").Op("==").Nil()).Block(jen.Return(jen.Id("p").Dot("Err").Call())),
		jen.Var().Id("fc").Id("fileConfig"),
		jen.Qual(configloadPath, "Decode").Call(jen.Id("sec"), jen.Id("name"), jen.Op("&").Id("fc"), jen.Op("&").Id("p")),
	}
	for _, fd := range m.Fields {
		src := jen.Id("fc").Dot(fd.Name.Go)
		var set jen.Code
		switch fd.Kind {
		case "secret":
			set = jen.Id("c").Dot(fd.Name.Go).Op("=").Qual(secretPath, "Secret").Parens(jen.Op("*").Add(src.Clone()))
		case "enum":
			set = jen.If(jen.Id(fd.Enum.Name.Go).Parens(jen.Op("*").Add(src.Clone())).Dot("Valid").Call()).Block(
				jen.Id("c").Dot(fd.Name.Go).Op("=").Id(fd.Enum.Name.Go).Parens(jen.Op("*").Add(src.Clone())),
			).Else().Block(
				jen.Qual(configloadPath, "CheckEnum").Call(jen.Op("&").Id("p"), jen.Id("name").Op("+").Lit(": "+m.YAMLRoot+"."+fd.YAMLKey), jen.Op("*").Add(src.Clone()), jen.Id(enumValuesVar(fd.Enum))),
			)
		default:
			set = jen.Id("c").Dot(fd.Name.Go).Op("=").Op("*").Add(src.Clone())
		}
		body = append(body, jen.If(src.Clone().Op("!=").Nil()).Block(set))
	}
	body = append(body, jen.Return(jen.Id("p").Dot("Err").Call()))
	f.Comment(fmt.Sprintf("ApplyYAML overlays the configuration with the %q section of a YAML", m.YAMLRoot))
	f.Comment("document; name is the file name used in messages. Unknown keys and values")
	f.Comment("of the wrong type are reported with their line; other sections of the")
	f.Comment("document are left to their owners.")
	f.Func().Params(jen.Id("c").Op("*").Id("Config")).Id("ApplyYAML").Params(jen.Id("data").Index().Byte(), jen.Id("name").String()).Error().Block(body...)
	f.Line()
}

// isEmpty is the test that a field has no value.
func isEmpty(fd *model.Field, recv string) *jen.Statement {
	sel := jen.Id(recv).Dot(fd.Name.Go)
	switch fd.Kind {
	case "secret":
		return sel.Dot("IsZero").Call()
	case "list":
		return jen.Len(sel).Op("==").Lit(0)
	case "bool":
		return jen.Op("!").Add(sel)
	case "int", "duration", "float":
		return sel.Op("==").Lit(0)
	}
	return sel.Op("==").Lit("")
}

// source names where a field may be set, for messages.
func source(fd *model.Field, yamlRoot string) string {
	if fd.Env != "" {
		return " (set " + fd.Env + " or " + yamlRoot + "." + fd.YAMLKey + ")"
	}
	return ""
}

func genValidate(f *jen.File, m *model.Model) {
	body := []jen.Code{jen.Var().Id("p").Qual(configloadPath, "Problems")}
	for _, fd := range m.Fields {
		if fd.Required {
			body = append(body, jen.If(isEmpty(fd, "c")).Block(
				jen.Id("p").Dot("Required").Call(jen.Lit(fd.YAMLKey), jen.Lit(""), jen.Lit(source(fd, m.YAMLRoot))),
			))
		}
		switch fd.Kind {
		case "url":
			body = append(body, jen.Qual(configloadPath, "CheckURL").Call(jen.Op("&").Id("p"), jen.Lit(fd.YAMLKey), jen.Id("c").Dot(fd.Name.Go)))
		case "enum":
			body = append(body, jen.Qual(configloadPath, "CheckEnum").Call(jen.Op("&").Id("p"), jen.Lit(fd.YAMLKey), jen.String().Parens(jen.Id("c").Dot(fd.Name.Go)), jen.Id(enumValuesVar(fd.Enum))))
		case "int", "duration", "float":
			if check := rangeCheck(fd, fd.YAMLKey, jen.Id("c").Dot(fd.Name.Go)); check != nil {
				body = append(body, check)
			}
		}
	}
	body = append(body, genValueRequirements(m)...)
	body = append(body, genFlowAuthMethods(m)...)
	body = append(body, jen.Return(jen.Id("p").Dot("Err").Call()))
	f.Comment("Validate reports every problem of the configuration: missing required")
	f.Comment("fields, malformed URLs, values out of range, and fields that the selected")
	f.Comment("flow or client authentication method needs. It returns a *configload.Error")
	f.Comment("listing them all, or nil.")
	f.Func().Params(jen.Id("c").Op("*").Id("Config")).Id("Validate").Params().Error().Block(body...)
	f.Line()
}

// genValueRequirements checks the fields an enum value of a config field
// requires: the flow's for auth_mode, the method's for client_auth_method.
func genValueRequirements(m *model.Model) []jen.Code {
	var out []jen.Code
	for _, fd := range m.Fields {
		if fd.Kind != "enum" {
			continue
		}
		var cases []jen.Code
		for _, v := range fd.Enum.Values {
			reqs := v.Requires
			for _, fl := range m.Flows {
				if fl.AuthMode == v && fd.Enum == m.AuthModeEnum {
					reqs = append(append([]*model.Field(nil), reqs...), fl.Requires...)
				}
			}
			var checks []jen.Code
			seen := map[string]bool{}
			for _, r := range reqs {
				if r == nil || seen[r.Name.Snake] || r.Required {
					continue
				}
				seen[r.Name.Snake] = true
				checks = append(checks, jen.If(isEmpty(r, "c")).Block(
					jen.Id("p").Dot("Required").Call(jen.Lit(r.YAMLKey), jen.Lit(fmt.Sprintf(" when %s is %q", fd.YAMLKey, v.Value)), jen.Lit(source(r, m.YAMLRoot))),
				))
			}
			if len(checks) > 0 {
				cases = append(cases, jen.Case(jen.Id(enumConst(v))).Block(checks...))
			}
		}
		if len(cases) > 0 {
			out = append(out, jen.Switch(jen.Id("c").Dot(fd.Name.Go)).Block(cases...))
		}
	}
	return out
}

// genFlowAuthMethods checks that the client authentication method is one
// the selected flow allows.
func genFlowAuthMethods(m *model.Model) []jen.Code {
	modeField, methodField := enumField(m, m.AuthModeEnum), enumField(m, m.ClientAuthMethodEnum)
	if modeField == nil || methodField == nil {
		return nil
	}
	var cases []jen.Code
	for _, fl := range m.Flows {
		if fl.AuthMode == nil || len(fl.ClientAuthMethods) == 0 {
			continue
		}
		var allowed []jen.Code
		var names []string
		for _, cam := range fl.ClientAuthMethods {
			allowed = append(allowed, jen.Id(enumConst(cam)))
			names = append(names, fmt.Sprintf("%q", cam.Value))
		}
		cases = append(cases, jen.Case(jen.Id(enumConst(fl.AuthMode))).Block(
			jen.Switch(jen.Id("c").Dot(methodField.Name.Go)).Block(
				jen.Case(allowed...),
				jen.Default().Block(jen.Id("p").Dot("Addf").Call(
					jen.Lit("%s %q is not allowed when %s is %q: want one of %s"),
					jen.Lit(methodField.YAMLKey), jen.Id("c").Dot(methodField.Name.Go), jen.Lit(modeField.YAMLKey), jen.Lit(fl.AuthMode.Value), jen.Lit(strings.Join(names, ", ")),
				)),
			),
		))
	}
	return []jen.Code{jen.Switch(jen.Id("c").Dot(modeField.Name.Go)).Block(cases...)}
}

func enumField(m *model.Model, e *model.Enum) *model.Field {
	if e == nil {
		return nil
	}
	for _, fd := range m.Fields {
		if fd.Enum == e {
			return fd
		}
	}
	return nil
}

// rangeCheck checks a numeric value against its bounds (durations are
// never negative), or is nil when the field has no bounds.
func rangeCheck(fd *model.Field, label string, value *jen.Statement) jen.Code {
	min, max := fd.Min, fd.Max
	if fd.Kind == "duration" && min == nil {
		zero := 0.0
		min = &zero
	}
	if min == nil && max == nil {
		return nil
	}
	bound := func(b *float64) jen.Code {
		if b == nil {
			return jen.Nil()
		}
		return jen.Qual(configloadPath, "Bound").Call(jen.Lit(*b))
	}
	return jen.Qual(configloadPath, "CheckRange").Call(jen.Op("&").Id("p"), jen.Lit(label), jen.Float64().Parens(value), bound(min), bound(max))
}
