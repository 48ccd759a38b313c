// Package generator turns a coyotegen spec into the files of the Go,
// Python, TypeScript, C++ and .NET packages. It runs one visible chain of
// named stages:
//
//	load -> validate -> model -> emit -> format
//
// and returns the files in memory; writing them is the caller's job (see
// package write).
package generator

import (
	"errors"
	"fmt"
	"sort"

	"github.com/coyotesense/coyotegen/generator/internal/ast"
	"github.com/coyotesense/coyotegen/generator/internal/diag"
	"github.com/coyotesense/coyotegen/generator/internal/emit/golang"
	"github.com/coyotesense/coyotegen/generator/internal/emit/tmpl"
	"github.com/coyotesense/coyotegen/generator/internal/files"
	"github.com/coyotesense/coyotegen/generator/internal/format"
	"github.com/coyotesense/coyotegen/generator/internal/load"
	"github.com/coyotesense/coyotegen/generator/internal/model"
	"github.com/coyotesense/coyotegen/generator/internal/validate"
	"github.com/coyotesense/coyotegen/templates"
)

// File is one generated file; Path starts with the language folder.
type File = files.File

// Source is one spec file.
type Source = load.Source

// Languages are the languages the generator emits, in output order.
var Languages = model.Languages

// Check loads and validates the spec and returns every problem found, or nil.
func Check(sources []Source) error {
	_, err := check(sources)
	return err
}

// check runs load and validate; the spec is nil whenever the error is not.
// Problems of both stages are reported together: a spec with a wrong type
// in one place and an unknown flow in another shows both.
func check(sources []Source) (*ast.Spec, error) {
	spec, err := load.Load(sources)
	if spec == nil {
		return nil, err
	}
	if err := diag.Join(err, validate.Validate(spec)); err != nil {
		return nil, err
	}
	return spec, nil
}

// Generate runs the whole chain for the given languages (all when empty)
// and returns the files sorted by path.
func Generate(sources []Source, langs []string) ([]File, error) {
	if err := checkLanguages(langs); err != nil {
		return nil, err
	}
	if len(langs) == 0 {
		langs = Languages
	}
	spec, err := check(sources)
	if err != nil {
		return nil, err
	}
	m := model.Build(spec)
	var out []File
	for _, lang := range langs {
		emitted, err := emit(m, lang)
		if err != nil {
			return nil, err
		}
		out = append(out, emitted...)
	}
	if err := format.Format(out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func emit(m *model.Model, lang string) ([]File, error) {
	if lang == "go" {
		return golang.Emit(m)
	}
	return tmpl.Render(templates.FS, m, lang)
}

func checkLanguages(langs []string) error {
	for _, l := range langs {
		known := false
		for _, k := range Languages {
			known = known || k == l
		}
		if !known {
			return fmt.Errorf("unknown language %q: want one of \"go\", \"python\", \"ts\", \"cpp\", \"dotnet\"", l)
		}
	}
	return nil
}

// Diagnostic is one spec problem with its file:line:col.
type Diagnostic = diag.Diagnostic

// Diagnostics returns the spec problems an error of Check or Generate
// carries, or nil when err is not about the spec.
func Diagnostics(err error) []Diagnostic {
	var d *diag.Error
	if errors.As(err, &d) {
		return d.Diagnostics
	}
	return nil
}
