package model

func csField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "bool", Default: strconvBool(defaultBool(f)), Parse: "ParseBool"}
	case "int", "duration":
		return TypedValue{Type: "long", Default: strconvInt(defaultInt(f)), Parse: "ParseLong"}
	case "float":
		return TypedValue{Type: "double", Default: floatLiteral(defaultFloat(f)), Parse: "ParseDouble"}
	case "list":
		return TypedValue{Type: "List<string>", Default: listLiteral(defaultList(f), "new List<string> { ", " }"), Parse: "ParseList"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "." + v.Names.Pascal, Parse: "Parse" + f.Enum.Name.Pascal}
	}
	return TypedValue{Type: "string", Default: quote(defaultString(f)), Parse: "ParseString"}
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
	return []File{
		{Lang: "dotnet", Path: m.Dotnet.PackageID + ".csproj", Template: "Package.csproj.tmpl", Data: m},
		{Lang: "dotnet", Path: "src/AuthClientConfig.cs", Template: "AuthClientConfig.cs.tmpl", Data: m},
	}
}
