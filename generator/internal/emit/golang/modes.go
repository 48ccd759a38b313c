package golang

import (
	"fmt"

	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

func modeConst(md *model.Mode) string { return "Mode" + md.ID.Go }

func optionsType(md *model.Mode) string { return md.ID.Go + "Options" }

func genModes(f *jen.File, m *model.Model) {
	f.Comment("Mode is a runtime mode, chosen in code with WithMode or by the " + m.ModeEnv + " environment variable.")
	f.Type().Id("Mode").String()
	f.Line()
	var consts, values []jen.Code
	for _, md := range m.Modes {
		consts = append(consts, doc(modeConst(md)+": "+md.Doc)...)
		consts = append(consts, jen.Id(modeConst(md)).Id("Mode").Op("=").Lit(md.ID.Snake))
		values = append(values, jen.Lit(md.ID.Snake))
	}
	f.Const().Defs(consts...)
	f.Line()
	f.Comment("ModeEnv is the environment variable that selects the mode.")
	f.Const().Id("ModeEnv").Op("=").Lit(m.ModeEnv)
	f.Line()
	f.Var().Id("modeValues").Op("=").Index().String().Values(values...)
	f.Line()
	f.Comment(fmt.Sprintf("ModeFromEnv returns the mode named by %s, or %s when it is unset.", m.ModeEnv, modeConst(m.DefaultMode)))
	f.Func().Id("ModeFromEnv").Params(jen.Id("lookup").Qual(configloadPath, "Lookup")).Params(jen.Id("Mode"), jen.Error()).Block(
		jen.Var().Id("p").Qual(configloadPath, "Problems"),
		jen.Id("mode").Op(":=").String().Parens(jen.Id(modeConst(m.DefaultMode))),
		jen.Qual(configloadPath, "Enum").Call(jen.Id("lookup"), jen.Id("ModeEnv"), jen.Op("&").Id("mode"), jen.Id("modeValues"), jen.Op("&").Id("p")),
		jen.Return(jen.Id("Mode").Parens(jen.Id("mode")), jen.Id("p").Dot("Err").Call()),
	)
	f.Line()
	var groups []jen.Code
	dict := jen.Dict{}
	for _, md := range m.Modes {
		if len(md.Options) == 0 {
			continue
		}
		genModeOptions(f, md)
		groups = append(groups, jen.Comment(md.ID.Go+" holds the options of "+modeConst(md)+"."), jen.Id(md.ID.Go).Id(optionsType(md)).Tag(map[string]string{"yaml": md.ID.Snake, "json": md.ID.Snake}))
		dict[jen.Id(md.ID.Go)] = jen.Id("Default" + optionsType(md)).Call()
	}
	f.Comment("ModeOptions holds the options of every mode.")
	f.Type().Id("ModeOptions").Struct(groups...)
	f.Line()
	f.Comment("DefaultModeOptions returns every mode's options at their defaults.")
	f.Func().Id("DefaultModeOptions").Params().Id("ModeOptions").Block(jen.Return(jen.Id("ModeOptions").Values(dict)))
	f.Line()
	genLoadModeConfig(f, m)
}

func genModeOptions(f *jen.File, md *model.Mode) {
	name := optionsType(md)
	var fields []jen.Code
	for _, o := range md.Options {
		fields = append(fields, doc(fieldDoc(o, ""))...)
		fields = append(fields, jen.Id(o.Name.Go).Add(goType(o)).Tag(map[string]string{"yaml": o.YAMLKey, "json": o.YAMLKey}))
	}
	fileDoc(f, fmt.Sprintf("%s are the options of mode %q: %s", name, md.ID.Snake, md.Doc))
	f.Type().Id(name).Struct(fields...)
	f.Line()
	f.Comment(fmt.Sprintf("Default%s returns the options of mode %q at their defaults.", name, md.ID.Snake))
	f.Func().Id("Default" + name).Params().Id(name).Block(
		jen.Return(jen.Id(name).Values(jen.DictFunc(func(d jen.Dict) {
			for _, o := range md.Options {
				if def := goDefault(o); def != nil {
					d[jen.Id(o.Name.Go)] = def
				}
			}
		}))),
	)
	f.Line()
	var body []jen.Code
	body = append(body, jen.Var().Id("p").Qual(configloadPath, "Problems"))
	for _, o := range md.Options {
		if check := rangeCheck(o, md.ID.Snake+"."+o.YAMLKey, jen.Id("o").Dot(o.Name.Go)); check != nil {
			body = append(body, check)
		}
	}
	body = append(body, jen.Return(jen.Id("p").Dot("Err").Call()))
	f.Comment("Validate reports every option out of its range.")
	f.Func().Params(jen.Id("o").Op("*").Id(name)).Id("Validate").Params().Error().Block(body...)
	f.Line()
}

// genLoadModeConfig emits the reader of the mode and its options from the
// configuration file and the environment.
func genLoadModeConfig(f *jen.File, m *model.Model) {
	body := []jen.Code{
		jen.Id("mode").Op(":=").String().Parens(jen.Id(modeConst(m.DefaultMode))),
		jen.Id("opts").Op(":=").Id("DefaultModeOptions").Call(),
		jen.Var().Id("p").Qual(configloadPath, "Problems"),
		jen.If(jen.Id("path").Op("!=").Lit("")).Block(
			jen.If(jen.Id("data").Op(":=").Qual(configloadPath, "ReadFile").Call(jen.Id("path"), jen.Op("&").Id("p")), jen.Id("data").Op("!=").Nil()).Block(
				jen.If(jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Qual(configloadPath, "Scalar").Call(jen.Id("data"), jen.Id("path"), jen.Lit(m.ModeYAMLKey), jen.Op("&").Id("p")), jen.Id("ok")).Block(
					jen.Qual(configloadPath, "CheckEnum").Call(jen.Op("&").Id("p"), jen.Id("path").Op("+").Lit(": "+m.ModeYAMLKey), jen.Id("v"), jen.Id("modeValues")),
					jen.Id("mode").Op("=").Id("v"),
				),
				jen.If(jen.Id("sec").Op(":=").Qual(configloadPath, "Section").Call(jen.Id("data"), jen.Id("path"), jen.Lit(m.ModeOptionsKey), jen.Nil(), jen.Op("&").Id("p")), jen.Id("sec").Op("!=").Nil()).Block(
					jen.Qual(configloadPath, "DecodeStrict").Call(jen.Id("sec"), jen.Id("path"), jen.Lit(m.ModeOptionsKey), jen.Op("&").Id("opts"), jen.Op("&").Id("p")),
				),
			),
		),
		jen.Qual(configloadPath, "Enum").Call(jen.Id("lookup"), jen.Id("ModeEnv"), jen.Op("&").Id("mode"), jen.Id("modeValues"), jen.Op("&").Id("p")),
	}
	for _, md := range m.Modes {
		if len(md.Options) == 0 {
			continue
		}
		body = append(body, jen.Id("p").Dot("Merge").Call(jen.Id("opts").Dot(md.ID.Go).Dot("Validate").Call()))
	}
	body = append(body, jen.Return(jen.Id("Mode").Parens(jen.Id("mode")), jen.Id("opts"), jen.Id("p").Dot("Err").Call()))
	fileDoc(f, fmt.Sprintf("LoadModeConfig returns the runtime mode and the modes' options: the defaults, overlaid with the %q and %q keys of the YAML file at path (none when path is empty), and the mode with the %s environment variable that lookup finds. Every problem is reported, naming its file and line or variable.", m.ModeYAMLKey, m.ModeOptionsKey, m.ModeEnv))
	f.Func().Id("LoadModeConfig").Params(jen.Id("path").String(), jen.Id("lookup").Qual(configloadPath, "Lookup")).Params(jen.Id("Mode"), jen.Id("ModeOptions"), jen.Error()).Block(body...)
}
