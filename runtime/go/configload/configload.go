// Package configload reads configuration values from environment
// variables and from the YAML configuration file for the generated
// package. Every reader records a problem instead of stopping, so that a
// caller sees every bad value at once; problems name the variable or the
// file:line and never contain the value of a secret.
package configload

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Lookup reads one environment variable; os.LookupEnv is one.
type Lookup func(name string) (string, bool)

// Problems collects configuration problems.
type Problems []string

// Addf records a problem.
func (p *Problems) Addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// Required records that field is missing, unless it was reported missing
// already (a field can be needed by both the flow and the client
// authentication method): "client_secret is required when
// client_auth_method is \"client_secret_basic\" (set ...)".
func (p *Problems) Required(field, when, source string) {
	prefix := field + " is required"
	for _, s := range *p {
		if strings.HasPrefix(s, prefix) {
			return
		}
	}
	*p = append(*p, prefix+when+source)
}

// Merge adds the problems of err, a *Error from another check, or err's
// text for any other error; nil adds nothing.
func (p *Problems) Merge(err error) {
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e):
		*p = append(*p, e.Problems...)
	default:
		*p = append(*p, err.Error())
	}
}

// Err returns the problems as a *Error, or nil when there are none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: append([]string(nil), p...)}
}

// Error reports every problem of a configuration.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid configuration: %d problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// EnvLookup returns os.LookupEnv, treating an empty variable as unset.
func EnvLookup() Lookup {
	return func(name string) (string, bool) {
		v, ok := os.LookupEnv(name)
		return v, ok && v != ""
	}
}

// String sets *dst from the variable when it is set.
func String(lookup Lookup, name string, dst *string, _ *Problems) {
	if v, ok := lookup(name); ok {
		*dst = v
	}
}

// Bool sets *dst from the variable: true, false, 1, 0, yes, no, on, off
// in any case.
func Bool(lookup Lookup, name string, dst *bool, p *Problems) {
	v, ok := lookup(name)
	if !ok {
		return
	}
	b, err := ParseBool(v)
	if err != nil {
		p.Addf("%s: %v", name, err)
		return
	}
	*dst = b
}

// ParseBool reads a boolean as Bool accepts it.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q: want true or false", v)
}

// Int sets *dst from the variable, a base-10 integer.
func Int(lookup Lookup, name string, dst *int, p *Problems) {
	v, ok := lookup(name)
	if !ok {
		return
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.Addf("%s: invalid integer %q", name, v)
		return
	}
	*dst = i
}

// Float sets *dst from the variable, a decimal number.
func Float(lookup Lookup, name string, dst *float64, p *Problems) {
	v, ok := lookup(name)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.Addf("%s: invalid number %q", name, v)
		return
	}
	*dst = f
}

// List sets *dst from the variable, items separated by commas or spaces.
func List(lookup Lookup, name string, dst *[]string, _ *Problems) {
	if v, ok := lookup(name); ok {
		*dst = SplitList(v)
	}
}

// SplitList splits a list given as one string on commas and white space.
func SplitList(v string) []string {
	fields := strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
	if fields == nil {
		return []string{}
	}
	return fields
}

// Enum sets *dst from the variable when it is one of allowed.
func Enum(lookup Lookup, name string, dst *string, allowed []string, p *Problems) {
	v, ok := lookup(name)
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	if !contains(allowed, v) {
		p.Addf("%s: unknown value %q: want one of %s", name, v, quoteAll(allowed))
		return
	}
	*dst = v
}

// CheckEnum records a problem when v is not one of allowed.
func CheckEnum(p *Problems, field, v string, allowed []string) {
	if !contains(allowed, v) {
		p.Addf("%s: unknown value %q: want one of %s", field, v, quoteAll(allowed))
	}
}

// CheckURL records a problem when v is set and is not an absolute http
// or https URL.
func CheckURL(p *Problems, field, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Addf("%s: invalid URL %q: want an absolute http or https URL", field, v)
	}
}

// CheckRange records a problem when v is outside [min, max]; a nil bound
// is open.
func CheckRange(p *Problems, field string, v float64, min, max *float64) {
	if min != nil && v < *min {
		p.Addf("%s: %v is below the minimum %v", field, v, *min)
	}
	if max != nil && v > *max {
		p.Addf("%s: %v is above the maximum %v", field, v, *max)
	}
}

// Bound returns a pointer to v, for CheckRange.
func Bound(v float64) *float64 { return &v }

// Section finds the mapping under root in a YAML document, checks that it
// has only known keys (unless known is nil) and returns it for decoding;
// nil when the document has no such section. name is the file name used
// in messages.
func Section(data []byte, name, root string, known []string, p *Problems) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.Addf("%s: %v", name, err)
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		p.Addf("%s:%d:%d: want a mapping with the key %q", name, top.Line, top.Column, root)
		return nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != root {
			continue
		}
		sec := top.Content[i+1]
		if sec.Kind != yaml.MappingNode {
			p.Addf("%s:%d:%d: %s: want a mapping", name, sec.Line, sec.Column, root)
			return nil
		}
		if known == nil {
			return sec
		}
		sorted := append([]string(nil), known...)
		sort.Strings(sorted)
		for j := 0; j+1 < len(sec.Content); j += 2 {
			k := sec.Content[j]
			if !contains(known, k.Value) {
				p.Addf("%s:%d:%d: %s: unknown key %q: want one of %s", name, k.Line, k.Column, root, k.Value, quoteAll(sorted))
			}
		}
		return sec
	}
	return nil
}

// Decode decodes a YAML section into dst, recording type errors with
// their file:line.
func Decode(sec *yaml.Node, name string, dst any, p *Problems) {
	if err := sec.Decode(dst); err != nil {
		if te, ok := err.(*yaml.TypeError); ok {
			for _, e := range te.Errors {
				p.Addf("%s: %s", name, strings.TrimPrefix(e, "yaml: "))
			}
			return
		}
		p.Addf("%s: %v", name, err)
	}
}

// ReadFile reads the configuration file; a missing file is a problem.
func ReadFile(path string, p *Problems) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		p.Addf("%v", err)
		return nil
	}
	return data
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// Scalar returns the top-level scalar under key in a YAML document, and
// whether the document has it.
func Scalar(data []byte, name, key string, p *Problems) (string, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", false // Section reports a malformed document
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != key {
			continue
		}
		v := top.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			p.Addf("%s:%d:%d: %s: want a single value", name, v.Line, v.Column, key)
			return "", false
		}
		return v.Value, true
	}
	return "", false
}

// DecodeStrict decodes a YAML mapping into dst, a pointer to a struct
// whose fields carry yaml tags, after checking that every key, at every
// depth, names a field; path names the mapping in messages ("modes").
// Fields whose keys are absent keep their values.
func DecodeStrict(node *yaml.Node, name, path string, dst any, p *Problems) {
	checkKeys(node, name, path, reflect.TypeOf(dst), p)
	Decode(node, name, dst, p)
}

func checkKeys(n *yaml.Node, name, path string, t reflect.Type, p *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return
	}
	fields := map[string]reflect.Type{}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = t.Field(i).Type
		known = append(known, tag)
	}
	sort.Strings(known)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			p.Addf("%s:%d:%d: %s: unknown key %q: want one of %s", name, k.Line, k.Column, path, k.Value, quoteAll(known))
			continue
		}
		checkKeys(n.Content[i+1], name, path+"."+k.Value, ft, p)
	}
}
