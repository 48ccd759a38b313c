package model

func cppField(f *Field) TypedValue {
	switch f.Kind {
	case "bool":
		return TypedValue{Type: "bool", Default: strconvBool(defaultBool(f)), Parse: "parse_bool"}
	case "int", "duration":
		return TypedValue{Type: "std::int64_t", Default: strconvInt(defaultInt(f)), Parse: "parse_int"}
	case "float":
		return TypedValue{Type: "double", Default: floatLiteral(defaultFloat(f)), Parse: "parse_double"}
	case "list":
		return TypedValue{Type: "std::vector<std::string>", Default: listLiteral(defaultList(f), "{", "}"), Parse: "parse_list"}
	case "enum":
		v := defaultEnum(f)
		return TypedValue{Type: f.Enum.Name.Pascal, Default: f.Enum.Name.Pascal + "::" + v.Names.Pascal, Parse: "parse_" + f.Enum.Name.Snake}
	}
	lit := "{}"
	if s := defaultString(f); s != "" {
		lit = quote(s)
	}
	return TypedValue{Type: "std::string", Default: lit, Parse: "parse_string"}
}

func cppArg(a *Arg) TypedValue {
	var t string
	switch a.Kind {
	case "bool":
		t = "bool"
	case "int":
		t = "std::int64_t"
	case "list":
		t = "std::vector<std::string>"
	default:
		t = "std::string"
	}
	if a.Optional {
		return TypedValue{Type: "const " + t + "&", Default: "{}"}
	}
	return TypedValue{Type: "const " + t + "&"}
}

func cppOperation(op *Operation) OperationSig {
	var r string
	switch op.Result {
	case "auth_result":
		r = "AuthResult"
	case "token":
		r = "std::optional<AuthToken>"
	case "authorization_request":
		r = "AuthorizationRequest"
	case "bool":
		r = "bool"
	case "introspection":
		r = "IntrospectionResult"
	default:
		r = "void"
	}
	return OperationSig{Name: op.ID.Snake, AsyncName: op.ID.Snake + "_async", Result: r, AsyncResult: "std::future<" + r + ">"}
}

func cppFiles(m *Model) []File {
	inc := "include/" + m.Cpp.IncludeDir + "/"
	return []File{
		{Lang: "cpp", Path: "CMakeLists.txt", Template: "CMakeLists.txt.tmpl", Data: m},
		{Lang: "cpp", Path: "vcpkg.json", Template: "vcpkg.json.tmpl", Data: m},
		{Lang: "cpp", Path: inc + "config.hpp", Template: "config.hpp.tmpl", Data: m},
		{Lang: "cpp", Path: "src/config.cpp", Template: "config.cpp.tmpl", Data: m},
	}
}
