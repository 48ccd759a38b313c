// Package load is the first stage: it reads spec files into the ast,
// keeping file:line:col on every element and collecting every structural
// problem (bad YAML, unknown keys, wrong types) instead of stopping at the
// first.
package load

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/ast"
	"github.com/coyotesense/coyotegen/generator/internal/diag"
	"gopkg.in/yaml.v3"
)

// Source is one spec file: the name used in messages and its bytes.
type Source struct {
	Name string
	Data []byte
}

// Load parses every source and merges them into one spec. Lists are
// concatenated in source order; a scalar set in two files is a problem.
// When every file is valid YAML the spec is returned even if it has
// problems, so that the validate stage can report its own problems too;
// it is nil when a file could not be parsed at all.
func Load(sources []Source) (*ast.Spec, error) {
	var diags diag.List
	merged := &ast.Spec{}
	parsed := true
	for i, src := range sources {
		spec := decodeFile(src, &diags)
		if spec == nil {
			parsed = false
			continue
		}
		if i == 0 {
			*merged = *spec
			continue
		}
		mergeInto(reflect.ValueOf(merged).Elem(), reflect.ValueOf(spec).Elem(), &diags)
	}
	if len(sources) == 0 {
		diags.Addf(diag.Pos{}, "no spec files given")
		parsed = false
	}
	if !parsed {
		return nil, diags.Err()
	}
	return merged, diags.Err()
}

func decodeFile(src Source, diags *diag.List) *ast.Spec {
	var doc yaml.Node
	if err := yaml.Unmarshal(src.Data, &doc); err != nil {
		diags.Addf(yamlErrorPos(src.Name, err), "invalid yaml: %s", yamlErrorMessage(err))
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		diags.Addf(diag.Pos{File: src.Name, Line: 1, Col: 1}, "empty spec file")
		return nil
	}
	spec := &ast.Spec{}
	d := decoder{file: src.Name, diags: diags}
	d.decode(doc.Content[0], reflect.ValueOf(spec).Elem(), "")
	return spec
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlErrorPos(file string, err error) diag.Pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return diag.Pos{File: file, Line: line, Col: 1}
	}
	return diag.Pos{File: file, Line: 1, Col: 1}
}

func yamlErrorMessage(err error) string {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

type decoder struct {
	file  string
	diags *diag.List
}

func (d *decoder) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

var (
	strType   = reflect.TypeOf(ast.Str{})
	intType   = reflect.TypeOf(ast.Int{})
	floatType = reflect.TypeOf(ast.Float{})
	boolType  = reflect.TypeOf(ast.Bool{})
	nodeType  = reflect.TypeOf(ast.Node{})
	posType   = reflect.TypeOf(ast.Pos{})
)

// decode fills v from n; what names the element in messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, what string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch v.Type() {
	case strType:
		if !d.scalar(n, what, "a string") {
			v.Set(reflect.ValueOf(ast.Str{Pos: d.pos(n), Bad: true}))
			return
		}
		v.Set(reflect.ValueOf(ast.Str{Pos: d.pos(n), Value: n.Value}))
		return
	case intType:
		if !d.scalar(n, what, "an integer") {
			v.Set(reflect.ValueOf(ast.Int{Pos: d.pos(n), Bad: true}))
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil || n.Tag != "!!int" {
			d.diags.Addf(d.pos(n), "%s: want an integer, got %q", what, n.Value)
			v.Set(reflect.ValueOf(ast.Int{Pos: d.pos(n), Bad: true}))
			return
		}
		v.Set(reflect.ValueOf(ast.Int{Pos: d.pos(n), Value: i, Set: true}))
		return
	case floatType:
		if !d.scalar(n, what, "a number") {
			v.Set(reflect.ValueOf(ast.Float{Pos: d.pos(n), Bad: true}))
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.diags.Addf(d.pos(n), "%s: want a number, got %q", what, n.Value)
			v.Set(reflect.ValueOf(ast.Float{Pos: d.pos(n), Bad: true}))
			return
		}
		v.Set(reflect.ValueOf(ast.Float{Pos: d.pos(n), Value: f, Set: true}))
		return
	case boolType:
		if !d.scalar(n, what, "true or false") {
			v.Set(reflect.ValueOf(ast.Bool{Pos: d.pos(n), Bad: true}))
			return
		}
		if n.Tag != "!!bool" {
			d.diags.Addf(d.pos(n), "%s: want true or false, got %q", what, n.Value)
			v.Set(reflect.ValueOf(ast.Bool{Pos: d.pos(n), Bad: true}))
			return
		}
		v.Set(reflect.ValueOf(ast.Bool{Pos: d.pos(n), Value: n.Value == "true", Set: true}))
		return
	case nodeType:
		v.Set(reflect.ValueOf(ast.Node{Pos: d.pos(n), Node: n}))
		return
	}
	switch v.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.diags.Addf(d.pos(n), "%s: want a list, got %s", what, kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", what, i))
		}
		v.Set(s)
	case reflect.Struct:
		d.decodeStruct(n, v, what)
	default:
		panic(fmt.Sprintf("load: unsupported field type %s", v.Type()))
	}
}

func (d *decoder) scalar(n *yaml.Node, what, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.diags.Addf(d.pos(n), "%s: want %s, got %s", what, want, kindName(n))
		return false
	}
	return true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, what string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Type == posType && t.Field(i).Name == "Pos" {
			v.Field(i).Set(reflect.ValueOf(d.pos(n)))
		}
	}
	if n.Kind != yaml.MappingNode {
		d.diags.Addf(d.pos(n), "%s: want a mapping, got %s", orRoot(what), kindName(n))
		return
	}
	fields := map[string]int{}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			fields[tag] = i
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[key.Value]
		if !ok {
			d.diags.Addf(d.pos(key), "%s: unknown key %q: want one of %s", orRoot(what), key.Value, quoteAll(keys))
			continue
		}
		if seen[key.Value] {
			d.diags.Addf(d.pos(key), "%s: duplicate key %q", orRoot(what), key.Value)
			continue
		}
		seen[key.Value] = true
		d.decode(val, v.Field(idx), join(what, key.Value))
	}
}

func join(what, key string) string {
	if what == "" {
		return key
	}
	return what + "." + key
}

func orRoot(what string) string {
	if what == "" {
		return "spec"
	}
	return what
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

// mergeInto adds src to dst: slices are appended, set scalars must not
// collide.
func mergeInto(dst, src reflect.Value, diags *diag.List) {
	switch dst.Type() {
	case strType, intType, floatType, boolType, nodeType:
		if isSet(src) {
			if isSet(dst) {
				diags.Addf(src.FieldByName("Pos").Interface().(diag.Pos), "value already set at %s", dst.FieldByName("Pos").Interface().(diag.Pos))
				return
			}
			dst.Set(src)
		}
		return
	}
	switch dst.Kind() {
	case reflect.Slice:
		dst.Set(reflect.AppendSlice(dst, src))
	case reflect.Struct:
		for i := 0; i < dst.NumField(); i++ {
			if dst.Type().Field(i).Type == posType {
				if dst.Field(i).Interface().(diag.Pos).Line == 0 {
					dst.Field(i).Set(src.Field(i))
				}
				continue
			}
			mergeInto(dst.Field(i), src.Field(i), diags)
		}
	}
}

func isSet(v reflect.Value) bool {
	switch x := v.Interface().(type) {
	case ast.Str:
		return x.Pos.Line != 0 && !x.Bad
	case ast.Int:
		return x.Set
	case ast.Float:
		return x.Set
	case ast.Bool:
		return x.Set
	case ast.Node:
		return x.Node != nil
	}
	return false
}
