package spec

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles schema.json from memory; nothing is fetched.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile schema.json: %v", err)
	}
	return s
}

// asJSON converts a YAML document to the JSON value the schema checks.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProductSpecMatchesSchema(t *testing.T) {
	if err := compileSchema(t).Validate(asJSON(t, Security)); err != nil {
		t.Errorf("spec/security.yaml does not match spec/schema.json:\n%v", err)
	}
}

func TestSchemaRefusesUnknownKeysAndTypes(t *testing.T) {
	s := compileSchema(t)
	for name, doc := range map[string]string{
		"unknown top-level key": "spec_version: 1\nflavours: []\n",
		"unknown field type":    "spec_version: 1\nconfig:\n  env_prefix: A_\n  yaml_root: a\n  fields:\n    - {name: x, type: number, doc: d}\n",
		"unknown flow":          "spec_version: 1\nflows:\n  - {id: device_code, title: t, rfc: r, grant_type: g, client_auth_methods: [none], operations: [x]}\n",
	} {
		if err := s.Validate(asJSON(t, []byte(doc))); err == nil {
			t.Errorf("%s: schema accepted %q", name, doc)
		}
	}
}
