package model

func tsField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "boolean", Default: strconvBool(defaultBool(f)), Parse: "parseBool"}
	case "int", "duration":
		return TypedValue{Type: "number", Default: strconvInt(defaultInt(f)), Parse: "parseInteger"}
	case "float":
		return TypedValue{Type: "number", Default: floatLiteral(defaultFloat(f)), Parse: "parseNumber"}
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
	return []File{
		{Lang: "ts", Path: "package.json", Template: "package.json.tmpl", Data: m},
		{Lang: "ts", Path: "tsconfig.json", Template: "tsconfig.json.tmpl", Data: m},
		{Lang: "ts", Path: "src/config.ts", Template: "config.ts.tmpl", Data: m},
		{Lang: "ts", Path: "src/index.ts", Template: "index.ts.tmpl", Data: m},
	}
}
