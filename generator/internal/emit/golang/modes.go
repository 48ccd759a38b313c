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
		groups = append(groups, jen.Comment(md.ID.Go+" holds the options of "+modeConst(md)+"."), jen.Id(md.ID.Go).Id(optionsType(md)))
		dict[jen.Id(md.ID.Go)] = jen.Id("Default" + optionsType(md)).Call()
	}
	f.Comment("ModeOptions holds the options of every mode.")
	f.Type().Id("ModeOptions").Struct(groups...)
	f.Line()
	f.Comment("DefaultModeOptions returns every mode's options at their defaults.")
	f.Func().Id("DefaultModeOptions").Params().Id("ModeOptions").Block(jen.Return(jen.Id("ModeOptions").Values(dict)))
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
