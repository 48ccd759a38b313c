package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is one conformance scenario: the servers it needs and the
// steps a driver goes through. Scenarios are language-neutral YAML files;
// conformance/README.md describes their format.
type Scenario struct {
	// Name identifies the scenario in the matrix; it is the file name
	// without ".yaml".
	Name string
	// Description says what the scenario proves.
	Description string
	// Servers are the servers started, fresh, for each run of the
	// scenario.
	Servers ServerSet
	// Steps are run in order; the first that fails ends the run.
	Steps []Step
	// File is the scenario's path.
	File string
}

// ServerSet names the servers a scenario needs, with their options. A nil
// field means the server is not started.
type ServerSet struct {
	// Fosite is the fosite-based authorization server
	// (conformance/authserver).
	Fosite *FositeOptions `yaml:"fosite"`
	// MTLS is the mutual-TLS authorization server
	// (conformance/mtlsserver).
	MTLS *MTLSOptions `yaml:"mtls"`
	// Fault is the fault-injection token endpoint
	// (conformance/faultserver).
	Fault *FaultOptions `yaml:"fault"`
}

// FositeOptions are the options of the fosite-based server.
type FositeOptions struct {
	// AccessTokenLifetimeSeconds is the lifetime of access tokens; zero
	// means one hour.
	AccessTokenLifetimeSeconds int `yaml:"access_token_lifetime_seconds"`
}

// MTLSOptions are the options of the mutual-TLS server.
type MTLSOptions struct {
	// AccessTokenLifetimeSeconds is the lifetime of access tokens; zero
	// means one hour.
	AccessTokenLifetimeSeconds int `yaml:"access_token_lifetime_seconds"`
}

// FaultOptions are the options of the fault-injection server.
type FaultOptions struct{}

// Step is one step of a scenario: its kind (the single key of the step's
// YAML mapping) and its body, decoded when the step runs, after the
// ${...} variables in its strings are expanded.
type Step struct {
	// Kind is the step kind, such as "call" or "browser".
	Kind string
	// Line is the step's line in the scenario file.
	Line int
	body any
}

// scenarioFile is the YAML document of a scenario.
type scenarioFile struct {
	Description string      `yaml:"description"`
	Servers     ServerSet   `yaml:"servers"`
	Steps       []yaml.Node `yaml:"steps"`
}

// LoadScenarios loads every *.yaml file in dir, sorted by name, and checks
// each step against its kind's fields and the spec's operations. It
// reports every problem, each as "file:line: message".
func LoadScenarios(dir string, spec *Spec) ([]*Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no scenarios (*.yaml) in %s", dir)
	}
	sort.Strings(paths)
	var scenarios []*Scenario
	var problems []string
	for _, path := range paths {
		sc, errs := LoadScenario(path, spec)
		for _, err := range errs {
			problems = append(problems, err.Error())
		}
		if sc != nil {
			scenarios = append(scenarios, sc)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return scenarios, nil
}

// LoadScenario loads and checks one scenario file.
func LoadScenario(path string, spec *Spec) (*Scenario, []error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	var f scenarioFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	sc := &Scenario{
		Name:        strings.TrimSuffix(filepath.Base(path), ".yaml"),
		Description: f.Description,
		Servers:     f.Servers,
		File:        path,
	}
	var errs []error
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, a...)))
	}
	if strings.TrimSpace(f.Description) == "" {
		fail(1, "the scenario has no description")
	}
	if len(f.Steps) == 0 {
		fail(1, "the scenario has no steps")
	}
	for i := range f.Steps {
		node := &f.Steps[i]
		if node.Kind != yaml.MappingNode || len(node.Content) != 2 {
			fail(node.Line, "a step is a mapping with one key, the step kind: want one of %s", strings.Join(stepKinds(), ", "))
			continue
		}
		kind := node.Content[0].Value
		var body any
		if err := node.Content[1].Decode(&body); err != nil {
			fail(node.Line, "%s: %v", kind, err)
			continue
		}
		step := Step{Kind: kind, Line: node.Line, body: normalize(body)}
		if err := step.check(spec, sc); err != nil {
			fail(node.Line, "%s: %v", kind, err)
			continue
		}
		sc.Steps = append(sc.Steps, step)
	}
	return sc, errs
}

// normalize turns the map[string]any that yaml.v3 decodes into values
// encoding/json can marshal.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
		return v
	}
	return v
}

// decode decodes a step body into the typed step, refusing unknown
// fields.
func decode(body any, into any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	return nil
}

// check decodes the step without expanding variables and checks what can
// be checked before it runs: its fields, operation ids and arguments,
// server and source names.
func (s *Step) check(spec *Spec, sc *Scenario) error {
	kind, ok := stepTypes[s.Kind]
	if !ok {
		return fmt.Errorf("unknown step kind: want one of %s", strings.Join(stepKinds(), ", "))
	}
	v := kind()
	if err := decode(s.body, v); err != nil {
		return err
	}
	return v.check(spec, sc)
}

// stepKinds returns the step kinds, sorted.
func stepKinds() []string {
	kinds := make([]string, 0, len(stepTypes))
	for k := range stepTypes {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// Spec is what the runner needs from spec/security.yaml: the operations
// and their parameters.
type Spec struct {
	// Operations maps each operation id to its parameter names.
	Operations map[string][]string
}

// LoadSpec reads the operations of the spec at path.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Operations []struct {
			ID   string `yaml:"id"`
			Args []struct {
				Name string `yaml:"name"`
			} `yaml:"args"`
		} `yaml:"operations"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	spec := &Spec{Operations: map[string][]string{}}
	for _, op := range doc.Operations {
		var names []string
		for _, p := range op.Args {
			names = append(names, p.Name)
		}
		spec.Operations[op.ID] = names
	}
	if len(spec.Operations) == 0 {
		return nil, fmt.Errorf("%s: no operations", path)
	}
	return spec, nil
}

// checkCall checks an operation id and its arguments against the spec.
func (s *Spec) checkCall(op string, args map[string]any) error {
	params, ok := s.Operations[op]
	if !ok {
		ops := make([]string, 0, len(s.Operations))
		for id := range s.Operations {
			ops = append(ops, id)
		}
		slices.Sort(ops)
		return fmt.Errorf("unknown operation %q: want one of %s", op, strings.Join(ops, ", "))
	}
	for name := range args {
		if !slices.Contains(params, name) {
			return fmt.Errorf("operation %s has no parameter %q: want one of %q", op, name, params)
		}
	}
	return nil
}
