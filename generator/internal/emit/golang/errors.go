package golang

import (
	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

func errorConst(e *model.ErrorCode) string { return "Code" + e.Names.Go }

func genErrors(f *jen.File, m *model.Model) {
	f.Comment("ErrorCode is an OAuth error code (RFC 6749 section 5.2 and extensions) or a")
	f.Comment("coyotegen code for failures that have no OAuth error response.")
	f.Type().Id("ErrorCode").String()
	f.Line()
	var consts, retryable []jen.Code
	for _, e := range m.Errors {
		text := errorConst(e) + ": " + e.Doc
		if e.RFC != "" {
			text += " (" + e.RFC + ")"
		}
		consts = append(consts, doc(text)...)
		consts = append(consts, jen.Id(errorConst(e)).Id("ErrorCode").Op("=").Lit(e.Code))
		if e.Retryable {
			retryable = append(retryable, jen.Id(errorConst(e)))
		}
	}
	f.Const().Defs(consts...)
	f.Line()
	body := []jen.Code{}
	if len(retryable) > 0 {
		body = append(body, jen.Switch(jen.Id("c")).Block(jen.Case(retryable...).Block(jen.Return(jen.True()))))
	}
	body = append(body, jen.Return(jen.False()))
	f.Comment("Retryable reports whether a request that failed with this code may succeed")
	f.Comment("when sent again, as the spec classifies it.")
	f.Func().Params(jen.Id("c").Id("ErrorCode")).Id("Retryable").Params().Bool().Block(body...)
	f.Line()
	f.Comment("Error is the typed error every operation returns: the OAuth code, description")
	f.Comment("and URI, the HTTP status, the server's Retry-After and whether a retry may")
	f.Comment("succeed. Use errors.As to read it.")
	f.Type().Id("Error").Op("=").Qual(oautherrPath, "Error")
	f.Line()
	f.Comment("IsRetryable reports whether err is an *Error that a retry may cure.")
	f.Func().Id("IsRetryable").Params(jen.Id("err").Error()).Bool().Block(
		jen.Return(jen.Qual(oautherrPath, "IsRetryable").Call(jen.Id("err"))),
	)
	f.Line()
	f.Comment("CodeOf returns the ErrorCode of err, or the empty code when err is not an *Error.")
	f.Func().Id("CodeOf").Params(jen.Id("err").Error()).Id("ErrorCode").Block(
		jen.Var().Id("e").Op("*").Id("Error"),
		jen.If(jen.Qual("errors", "As").Call(jen.Id("err"), jen.Op("&").Id("e"))).Block(
			jen.Return(jen.Id("ErrorCode").Parens(jen.Id("e").Dot("Code"))),
		),
		jen.Return(jen.Lit("")),
	)
	f.Line()
	f.Comment("retryableCode is the runtime's oautherr.Classifier for this spec's codes.")
	f.Func().Id("retryableCode").Params(jen.Id("code").String()).Bool().Block(
		jen.Return(jen.Id("ErrorCode").Parens(jen.Id("code")).Dot("Retryable").Call()),
	)
}
