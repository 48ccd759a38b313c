// Package golang emits the Go package through jennifer: one gen function
// per construct, other packages referred to only through jen.Qual.
package golang

import (
	"github.com/coyotesense/coyotegen/generator/internal/files"
	"github.com/coyotesense/coyotegen/generator/internal/model"
)

// Emit returns the Go package's files.
func Emit(m *model.Model) ([]files.File, error) {
	return nil, nil
}
