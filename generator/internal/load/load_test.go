package load

import (
	"strings"
	"testing"
)

func TestLoadKeepsPositionsAndCollectsProblems(t *testing.T) {
	src := "spec_version: 1\npackage:\n  name: acme\n  colour: blue\nconfig:\n  fields:\n    - name: a\n      required: maybe\n"
	spec, err := Load([]Source{{Name: "s.yaml", Data: []byte(src)}})
	if spec == nil {
		t.Fatal("no spec for a parsable file")
	}
	if got := spec.Package.Name.Pos.String(); got != "s.yaml:3:9" {
		t.Errorf("package.name at %s, want s.yaml:3:9", got)
	}
	msg := err.Error()
	for _, want := range []string{
		`s.yaml:4:3: package: unknown key "colour": want one of`,
		`s.yaml:8:17: config.fields[0].required: want true or false, got "maybe"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestLoadMergesFiles(t *testing.T) {
	a := Source{Name: "a.yaml", Data: []byte("spec_version: 1\nerrors:\n  - {code: x, retryable: false, doc: d}\n")}
	b := Source{Name: "b.yaml", Data: []byte("errors:\n  - {code: y, retryable: true, doc: d}\nspec_version: 1\n")}
	spec, err := Load([]Source{a, b})
	if len(spec.Errors) != 2 || spec.Errors[1].Code.Pos.File != "b.yaml" {
		t.Errorf("errors = %+v", spec.Errors)
	}
	if err == nil || !strings.Contains(err.Error(), "b.yaml:3:15: value already set at a.yaml:1:15") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadRefusesBadYAML(t *testing.T) {
	spec, err := Load([]Source{{Name: "s.yaml", Data: []byte("a: [1,\nb: 2\n")}})
	if spec != nil || err == nil || !strings.HasPrefix(err.Error(), "s.yaml:") || !strings.Contains(err.Error(), "invalid yaml") {
		t.Errorf("spec = %v, err = %v", spec, err)
	}
}
