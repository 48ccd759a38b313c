// Package golang emits the Go package through jennifer: one gen function
// per construct, other packages referred to only through jen.Qual. The Go
// package is a typed facade over the handwritten runtime core in
// runtime/go: the spec decides its configuration, enums, error codes,
// modes and operations; the core does the work.
package golang

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/files"
	"github.com/coyotesense/coyotegen/generator/internal/model"
	jen "github.com/dave/jennifer/jen"
)

// Import paths of the runtime core.
const (
	runtimePath    = "github.com/coyotesense/coyotegen/runtime/go/"
	configloadPath = runtimePath + "configload"
	secretPath     = runtimePath + "secret"
	oautherrPath   = runtimePath + "oautherr"
	tokenPath      = runtimePath + "token"
	authcorePath   = runtimePath + "authcore"
	tokenstorePath = runtimePath + "tokenstore"
	transportPath  = runtimePath + "transport"
	cassettePath   = runtimePath + "cassette"
	mockPath       = runtimePath + "mock"
	debugPath      = runtimePath + "debug"
	simulationPath = runtimePath + "simulation"
)

// Emit returns the Go package's files.
func Emit(m *model.Model) ([]files.File, error) {
	var out []files.File
	for _, unit := range []struct {
		name string
		gen  func(*jen.File, *model.Model)
	}{
		{"doc.go", genDoc},
		{"enums.go", genEnums},
		{"config.go", genConfig},
		{"errors.go", genErrors},
		{"modes.go", genModes},
		{"client.go", genClient},
	} {
		f := newFile(m)
		unit.gen(f, m)
		var buf bytes.Buffer
		if err := f.Render(&buf); err != nil {
			return nil, fmt.Errorf("go/%s: %w", unit.name, err)
		}
		out = append(out, files.File{Path: path.Join("go", m.Go.Dir, unit.name), Content: buf.Bytes()})
	}
	return out, nil
}

func newFile(m *model.Model) *jen.File {
	f := jen.NewFilePathName(m.Go.ImportPath, m.Go.Package)
	f.HeaderComment(model.GeneratedNotice)
	f.ImportName(configloadPath, "configload")
	f.ImportName(secretPath, "secret")
	f.ImportName(oautherrPath, "oautherr")
	f.ImportName(tokenPath, "token")
	f.ImportName(authcorePath, "authcore")
	f.ImportName(tokenstorePath, "tokenstore")
	f.ImportName(transportPath, "transport")
	f.ImportName(cassettePath, "cassette")
	f.ImportName(mockPath, "mock")
	f.ImportName(debugPath, "debug")
	f.ImportName(simulationPath, "simulation")
	f.ImportName("golang.org/x/oauth2", "oauth2")
	return f
}

func genDoc(f *jen.File, m *model.Model) {
	f.PackageComment(fmt.Sprintf("Package %s is the Go client of %s: %s", m.Go.Package, m.Title, m.Description))
	f.PackageComment("")
	f.PackageComment("Create a client from a Config (DefaultConfig, LoadConfig or a literal) with")
	f.PackageComment("New, then call Token on every request; the client keeps the token valid.")
	f.PackageComment("Every exported type here is generated from the coyotegen spec; the work is")
	f.PackageComment("done by the runtime core in github.com/coyotesense/coyotegen/runtime/go.")
	f.PackageComment("")
	f.Comment("Version is the version of this package, as the spec declares it.")
	f.Const().Id("Version").Op("=").Lit(m.Version)
	f.PackageComment("Flows:")
	f.PackageComment("")
	for _, fl := range m.Flows {
		f.PackageComment(fmt.Sprintf("  - %s (%s), grant type %s", fl.Title, fl.RFC, fl.GrantType))
	}
}

// commentWidth is where doc comments wrap, leaving room for indentation.
const commentWidth = 76

// doc wraps text into comment lines.
func doc(text string) []jen.Code {
	var out []jen.Code
	for _, line := range wrap(text, commentWidth) {
		out = append(out, jen.Comment(line))
	}
	return out
}

// fileDoc adds text to f as a wrapped comment.
func fileDoc(f *jen.File, text string) {
	for _, line := range wrap(text, commentWidth) {
		f.Comment(line)
	}
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
