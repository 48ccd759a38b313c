package model

import (
	"strconv"
	"strings"
	"unicode"
)

// typeField computes a field's type and default literal in every
// template-rendered language.
func typeField(f *Field) {
	f.Py = pyField(f)
	f.TS = tsField(f)
	f.Cpp = cppField(f)
	f.CSharp = csField(f)
}

// typeArg computes an argument's type and default in every language.
func typeArg(a *Arg) {
	a.Py = pyArg(a)
	a.TS = tsArg(a)
	a.Cpp = cppArg(a)
	a.CSharp = csArg(a)
}

// signOperation names an operation and its result in every language.
func signOperation(op *Operation) {
	op.Py = pyOperation(op)
	op.TS = tsOperation(op)
	op.Cpp = cppOperation(op)
	op.CSharp = csOperation(op)
}

// quote spells s as a double-quoted literal that Python, TypeScript, C++
// and C# all read the same way (spec values are printable ASCII).
func quote(s string) string { return strconv.Quote(s) }

func floatLiteral(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func listLiteral(items []string, open, close string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return open + strings.Join(q, ", ") + close
}

// defaultString is the default of a string-like field, "" when unset.
func defaultString(f *Field) string {
	if s, ok := f.Default.(string); ok {
		return s
	}
	return ""
}

func defaultInt(f *Field) int64 {
	if i, ok := f.Default.(int64); ok {
		return i
	}
	return 0
}

func defaultFloat(f *Field) float64 {
	if x, ok := f.Default.(float64); ok {
		return x
	}
	return 0
}

func defaultBool(f *Field) bool {
	b, _ := f.Default.(bool)
	return b
}

func defaultList(f *Field) []string {
	l, _ := f.Default.([]string)
	return l
}

// defaultEnum is the enum member a field defaults to: its default, or the
// first member.
func defaultEnum(f *Field) *EnumValue {
	if f.Enum == nil || len(f.Enum.Values) == 0 {
		return nil
	}
	if v := findValue(f.Enum, defaultString(f)); v != nil {
		return v
	}
	return f.Enum.Values[0]
}

func strconvInt(i int64) string { return strconv.FormatInt(i, 10) }

func strconvBool(b bool) string { return strconv.FormatBool(b) }

// lowerFirst lower-cases the first letter of a sentence so that it can
// follow other words, leaving acronyms ("JWT bearer") alone.
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) == 0 || (len(r) > 1 && unicode.IsUpper(r[1])) {
		return s
	}
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
