// Package templates embeds the text/template sources of the Python,
// TypeScript, C++ and .NET packages, one folder per language.
package templates

import "embed"

// FS holds python/, ts/, cpp/ and dotnet/.
//
//go:embed all:python all:ts all:cpp all:dotnet
var FS embed.FS
