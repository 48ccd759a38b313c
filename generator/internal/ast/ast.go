// Package ast is the spec as written: every element keeps the position it
// was read from, so that later stages report problems as file:line:col.
package ast

import (
	"github.com/coyotesense/coyotegen/generator/internal/diag"
	"gopkg.in/yaml.v3"
)

// Pos is the position of an element in its spec file.
type Pos = diag.Pos

// Str is a string scalar with its position.
type Str struct {
	Pos   Pos
	Value string
	Bad   bool // present but not a string; already reported
}

// Int is an integer scalar with its position; Set is false when the key is absent.
type Int struct {
	Pos   Pos
	Value int64
	Set   bool
	Bad   bool // present but not an integer; already reported
}

// Float is a number scalar with its position; Set is false when the key is absent.
type Float struct {
	Pos   Pos
	Value float64
	Set   bool
	Bad   bool // present but not a number; already reported
}

// Bool is a boolean scalar with its position; Set is false when the key is absent.
type Bool struct {
	Pos   Pos
	Value bool
	Set   bool
	Bad   bool // present but not a boolean; already reported
}

// Node is a value whose type depends on a sibling key (a field default);
// the validate stage checks it against that type.
type Node struct {
	Pos  Pos
	Node *yaml.Node
}

// Spec is the root document.
type Spec struct {
	Pos         Pos
	SpecVersion Int         `yaml:"spec_version"`
	Package     Package     `yaml:"package"`
	Config      Config      `yaml:"config"`
	Enums       []Enum      `yaml:"enums"`
	Operations  []Operation `yaml:"operations"`
	Flows       []Flow      `yaml:"flows"`
	Errors      []ErrorCode `yaml:"errors"`
	Modes       Modes       `yaml:"modes"`
}

// Package names the product in every language.
type Package struct {
	Pos         Pos
	Name        Str           `yaml:"name"`
	Title       Str           `yaml:"title"`
	Description Str           `yaml:"description"`
	Version     Str           `yaml:"version"`
	License     Str           `yaml:"license"`
	Go          GoPackage     `yaml:"go"`
	Python      PythonPackage `yaml:"python"`
	TS          TSPackage     `yaml:"ts"`
	Dotnet      DotnetPackage `yaml:"dotnet"`
	Cpp         CppPackage    `yaml:"cpp"`
}

// GoPackage is the Go import path and package name.
type GoPackage struct {
	Pos        Pos
	ImportPath Str `yaml:"import_path"`
	Package    Str `yaml:"package"`
}

// PythonPackage is the distribution and import names.
type PythonPackage struct {
	Pos          Pos
	Distribution Str `yaml:"distribution"`
	Module       Str `yaml:"module"`
}

// TSPackage is the npm package name.
type TSPackage struct {
	Pos     Pos
	Package Str `yaml:"package"`
}

// DotnetPackage is the NuGet id and root namespace.
type DotnetPackage struct {
	Pos       Pos
	PackageID Str `yaml:"package_id"`
	Namespace Str `yaml:"namespace"`
}

// CppPackage is the vcpkg port, C++ namespace and CMake target.
type CppPackage struct {
	Pos         Pos
	VcpkgPort   Str `yaml:"vcpkg_port"`
	Namespace   Str `yaml:"namespace"`
	CMakeTarget Str `yaml:"cmake_target"`
}

// Config lists the configuration fields.
type Config struct {
	Pos       Pos
	EnvPrefix Str     `yaml:"env_prefix"`
	YAMLRoot  Str     `yaml:"yaml_root"`
	Fields    []Field `yaml:"fields"`
}

// Field is one configuration field, or one option of a mode.
type Field struct {
	Pos      Pos
	Name     Str   `yaml:"name"`
	Type     Str   `yaml:"type"`
	Enum     Str   `yaml:"enum"`
	Unit     Str   `yaml:"unit"`
	Default  Node  `yaml:"default"`
	Env      Str   `yaml:"env"`
	YAMLKey  Str   `yaml:"yaml_key"`
	Doc      Str   `yaml:"doc"`
	Required Bool  `yaml:"required"`
	Min      Float `yaml:"min"`
	Max      Float `yaml:"max"`
}

// Enum is a closed set of string values.
type Enum struct {
	Pos    Pos
	Name   Str         `yaml:"name"`
	Doc    Str         `yaml:"doc"`
	Values []EnumValue `yaml:"values"`
}

// EnumValue is one member of an enum.
type EnumValue struct {
	Pos      Pos
	Value    Str   `yaml:"value"`
	Doc      Str   `yaml:"doc"`
	Requires []Str `yaml:"requires"`
}

// Operation is a language-neutral client operation.
type Operation struct {
	Pos    Pos
	ID     Str   `yaml:"id"`
	Doc    Str   `yaml:"doc"`
	Args   []Arg `yaml:"args"`
	Result Str   `yaml:"result"`
}

// Arg is one argument of an operation.
type Arg struct {
	Pos      Pos
	Name     Str  `yaml:"name"`
	Type     Str  `yaml:"type"`
	Optional Bool `yaml:"optional"`
	Doc      Str  `yaml:"doc"`
}

// Flow is an OAuth2 grant as the client runs it.
type Flow struct {
	Pos               Pos
	ID                Str     `yaml:"id"`
	Title             Str     `yaml:"title"`
	RFC               Str     `yaml:"rfc"`
	GrantType         Str     `yaml:"grant_type"`
	AuthMode          Str     `yaml:"auth_mode"`
	ClientAuthMethods []Str   `yaml:"client_auth_methods"`
	Requires          []Str   `yaml:"requires"`
	Params            []Param `yaml:"params"`
	Operations        []Str   `yaml:"operations"`
}

// Param is one token request parameter and where its value comes from.
type Param struct {
	Pos    Pos
	Name   Str `yaml:"name"`
	From   Str `yaml:"from"`
	Value  Str `yaml:"value"`
	Source Str `yaml:"source"`
}

// ErrorCode is an OAuth error code with its retry classification.
type ErrorCode struct {
	Pos       Pos
	Code      Str  `yaml:"code"`
	RFC       Str  `yaml:"rfc"`
	Retryable Bool `yaml:"retryable"`
	Doc       Str  `yaml:"doc"`
}

// Modes lists the runtime modes.
type Modes struct {
	Pos        Pos
	Env        Str    `yaml:"env"`
	YAMLKey    Str    `yaml:"yaml_key"`
	OptionsKey Str    `yaml:"options_key"`
	Default    Str    `yaml:"default"`
	Values     []Mode `yaml:"values"`
}

// Mode is one runtime mode and its options.
type Mode struct {
	Pos     Pos
	ID      Str     `yaml:"id"`
	Doc     Str     `yaml:"doc"`
	Options []Field `yaml:"options"`
}
