package model

func pyField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		lit := "False"
		if defaultBool(f) {
			lit = "True"
		}
		return TypedValue{Type: "bool", Default: lit, Parse: "bool"}
	case "int", "duration":
		return TypedValue{Type: "int", Default: strconvInt(defaultInt(f)), Parse: "int"}
	case "float":
		return TypedValue{Type: "float", Default: floatLiteral(defaultFloat(f)), Parse: "float"}
	case "list":
		return TypedValue{Type: "List[str]", Default: "field(default_factory=lambda: " + listLiteral(defaultList(f), "[", "]") + ")", Parse: "list"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "." + v.Names.UpperSnake, Parse: "enum"}
	}
	return TypedValue{Type: "str", Default: quote(defaultString(f)), Parse: "str"}
}

func pyArg(a *Arg) TypedValue {
	var t string
	switch a.Kind {
	case "bool":
		t = "bool"
	case "int":
		t = "int"
	case "list":
		t = "List[str]"
	default:
		t = "str"
	}
	if a.Optional {
		return TypedValue{Type: "Optional[" + t + "]", Default: "None"}
	}
	return TypedValue{Type: t}
}

func pyOperation(op *Operation) OperationSig {
	var r string
	switch op.Result {
	case "auth_result":
		r = "AuthResult"
	case "token":
		r = "Optional[AuthToken]"
	case "authorization_request":
		r = "Tuple[str, str, str]"
	case "bool":
		r = "bool"
	case "introspection":
		r = "IntrospectionResult"
	default:
		r = "None"
	}
	return OperationSig{Name: op.ID.Snake, AsyncName: op.ID.Snake + "_async", Result: r, AsyncResult: r}
}

func pythonFiles(m *Model) []File {
	src := m.Python.SourceDir + "/"
	return []File{
		{Lang: "python", Path: "pyproject.toml", Template: "pyproject.toml.tmpl", Data: m},
		{Lang: "python", Path: src + "__init__.py", Template: "__init__.py.tmpl", Data: m},
		{Lang: "python", Path: src + "py.typed", Template: "py.typed.tmpl", Data: m},
		{Lang: "python", Path: src + "config.py", Template: "config.py.tmpl", Data: m},
		{Lang: "python", Path: "tests/test_smoke.py", Template: "test_smoke.py.tmpl", Data: m},
	}
}
