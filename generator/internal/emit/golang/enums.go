package golang

import (
	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

func genEnums(f *jen.File, m *model.Model) {
	for _, e := range m.Enums {
		genEnum(f, e)
	}
}

// enumConst is the Go constant of an enum value: AuthModeJWTBearer.
func enumConst(v *model.EnumValue) string { return v.Enum.Name.Go + v.Names.Go }

// enumValuesVar is the unexported list of an enum's values.
func enumValuesVar(e *model.Enum) string { return e.Name.GoLower + "Values" }

func genEnum(f *jen.File, e *model.Enum) {
	name := e.Name.Go
	fileDoc(f, name+": "+e.Doc)
	f.Type().Id(name).String()
	f.Line()
	consts := make([]jen.Code, 0, len(e.Values))
	values := make([]jen.Code, 0, len(e.Values))
	for _, v := range e.Values {
		consts = append(consts, doc(enumConst(v)+": "+v.Doc)...)
		consts = append(consts, jen.Id(enumConst(v)).Id(name).Op("=").Lit(v.Value))
		values = append(values, jen.Lit(v.Value))
	}
	f.Const().Defs(consts...)
	f.Line()
	f.Var().Id(enumValuesVar(e)).Op("=").Index().String().Values(values...)
	f.Line()
	f.Comment("Valid reports whether v is one of the declared values.")
	f.Func().Params(jen.Id("v").Id(name)).Id("Valid").Params().Bool().Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id(enumValuesVar(e))).Block(
			jen.If(jen.Id("s").Op("==").String().Parens(jen.Id("v"))).Block(jen.Return(jen.True())),
		),
		jen.Return(jen.False()),
	)
	f.Line()
	f.Commentf("%sValues returns every %s, in declaration order.", name, name)
	f.Func().Id(name+"Values").Params().Index().Id(name).Block(
		jen.Id("out").Op(":=").Make(jen.Index().Id(name), jen.Len(jen.Id(enumValuesVar(e)))),
		jen.For(jen.List(jen.Id("i"), jen.Id("s")).Op(":=").Range().Id(enumValuesVar(e))).Block(
			jen.Id("out").Index(jen.Id("i")).Op("=").Id(name).Parens(jen.Id("s")),
		),
		jen.Return(jen.Id("out")),
	)
}
