package cassette_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coyotesense/coyotegen/runtime/go/cassette"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var schemaPath = filepath.Join("..", "..", "..", "spec", "cassette.schema.json")

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("cassette.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("cassette.schema.json")
})

// schemaErr validates a document against spec/cassette.schema.json.
func schemaErr(t *testing.T, data []byte) error {
	t.Helper()
	s, err := compiled()
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

func validateSchema(t *testing.T, data []byte) {
	t.Helper()
	if err := schemaErr(t, data); err != nil {
		t.Errorf("the cassette does not match %s:\n%v\n%s", schemaPath, err, data)
	}
}

const validDoc = `{
  "schema_version": 1,
  "recorder": {"sdk": "go", "version": "0.1.0"},
  "interactions": [
    {
      "request": {
        "method": "POST",
        "url": "https://auth.example.com/oauth2/token",
        "headers": {"Accept": "application/json", "Authorization": "Basic <<basic_credentials>>", "Content-Type": "application/x-www-form-urlencoded"},
        "form": [{"name": "grant_type", "value": "client_credentials"}, {"name": "scope", "value": "trading"}]
      },
      "response": {
        "status": 200,
        "headers": {"Cache-Control": "no-store", "Content-Type": "application/json"},
        "body_json": {"access_token": "<<access_token:1>>", "expires_in": 3600, "token_type": "bearer"}
      }
    },
    {
      "request": {"method": "GET", "url": "https://auth.example.com/.well-known/oauth-authorization-server"},
      "response": {"status": 503, "headers": {"Retry-After": "7"}, "body": "maintenance"}
    }
  ]
}`

// TestParseAndSchemaAgree feeds the same documents to Parse and to the
// JSON Schema: both accept the valid ones and refuse the others, so that
// the Go reader and the language-neutral schema define one format.
func TestParseAndSchemaAgree(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validDoc, old) {
			t.Fatalf("%q is not in the document", old)
		}
		return strings.Replace(validDoc, old, new, 1)
	}
	valid := map[string]string{
		"full":                     validDoc,
		"no interactions":          `{"schema_version": 1, "recorder": {"sdk": "python", "version": "1.2.3"}, "interactions": []}`,
		"bearer header":            edit(`Basic <<basic_credentials>>`, `Bearer <<access_token:3>>`),
		"empty redacted value":     edit(`{"name": "scope", "value": "trading"}`, `{"name": "client_secret", "value": ""}`),
		"redacted form parameters": edit(`{"name": "scope", "value": "trading"}`, `{"name": "code", "value": "<<authorization_code:1>>"}, {"name": "code_verifier", "value": "<<code_verifier>>"}, {"name": "token", "value": "<<refresh_token:2>>"}`),
		"array body":               edit(`"body": "maintenance"`, `"body_json": [1, 2]`),
		"text request body":        edit(`"form": [{"name": "grant_type", "value": "client_credentials"}, {"name": "scope", "value": "trading"}]`, `"body": "{}"`),
	}
	invalid := map[string]string{
		"version 2":                   edit(`"schema_version": 1`, `"schema_version": 2`),
		"no recorder":                 edit(`"recorder": {"sdk": "go", "version": "0.1.0"},`, ``),
		"empty sdk version":           edit(`"version": "0.1.0"`, `"version": ""`),
		"unknown member":              edit(`"schema_version": 1,`, `"schema_version": 1, "created_at": "2025-01-01",`),
		"lower-case method":           edit(`"method": "GET"`, `"method": "get"`),
		"relative URL":                edit(`"url": "https://auth.example.com/oauth2/token"`, `"url": "/oauth2/token"`),
		"unredacted client secret":    edit(`{"name": "scope", "value": "trading"}`, `{"name": "client_secret", "value": "hunter2"}`),
		"unredacted token parameter":  edit(`{"name": "scope", "value": "trading"}`, `{"name": "token", "value": "ory_at_abc"}`),
		"unredacted assertion":        edit(`{"name": "scope", "value": "trading"}`, `{"name": "client_assertion", "value": "eyJhbGciOi.x.y"}`),
		"unredacted Authorization":    edit(`Basic <<basic_credentials>>`, `Basic YTpi`),
		"unredacted access token":     edit(`"<<access_token:1>>"`, `"ory_at_abc"`),
		"placeholder numbered from 0": edit(`"<<access_token:1>>"`, `"<<access_token:0>>"`),
		"request header not kept":     edit(`"Accept": "application/json",`, `"Accept": "application/json", "User-Agent": "x",`),
		"response header not kept":    edit(`"Retry-After": "7"`, `"Set-Cookie": "a=b"`),
		"status 42":                   edit(`"status": 503`, `"status": 42`),
		"form and body":               edit(`"form": [`, `"body": "x", "form": [`),
		"body and body_json":          edit(`"body": "maintenance"`, `"body": "maintenance", "body_json": {}`),
		"string body_json":            edit(`"body": "maintenance"`, `"body_json": "maintenance"`),
		"parameter without a name":    edit(`{"name": "scope", "value": "trading"}`, `{"name": "", "value": "trading"}`),
		"interaction without response": edit(`,
      "response": {"status": 503, "headers": {"Retry-After": "7"}, "body": "maintenance"}`, ``),
	}
	for name, doc := range valid {
		t.Run("valid/"+name, func(t *testing.T) {
			if _, err := cassette.Parse([]byte(doc)); err != nil {
				t.Errorf("Parse: %v", err)
			}
			if err := schemaErr(t, []byte(doc)); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
	for name, doc := range invalid {
		t.Run("invalid/"+name, func(t *testing.T) {
			_, err := cassette.Parse([]byte(doc))
			var oerr *oautherr.Error
			if !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidConfig {
				t.Errorf("Parse: err = %v, want invalid_config", err)
			}
			if err := schemaErr(t, []byte(doc)); err == nil {
				t.Error("the schema accepts it")
			}
		})
	}
}

// TestDocumentedExample checks that the example cassette of
// docs/cassette.md is valid, for Parse and for the schema, and replays.
func TestDocumentedExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "cassette.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(data, -1)
	if len(blocks) == 0 {
		t.Fatal("docs/cassette.md has no json example")
	}
	for _, b := range blocks {
		c, err := cassette.Parse(b[1])
		if err != nil {
			t.Errorf("Parse: %v\n%s", err, b[1])
			continue
		}
		validateSchema(t, b[1])
		if _, err := cassette.NewReplayer(c); err != nil {
			t.Error(err)
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, b[1]) {
			t.Errorf("the example is not in the canonical encoding; Encode gives:\n%s", enc)
		}
	}
}
