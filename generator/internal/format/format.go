// Package format is the fifth stage: Go output goes through go/format;
// a Go file that does not parse is an error that shows the source with
// line numbers. The other languages are emitted already formatted.
package format

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"

	"github.com/coyotesense/coyotegen/generator/internal/files"
)

// Format formats every Go file in place.
func Format(out []files.File) error {
	for i, f := range out {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		src, err := format.Source(f.Content)
		if err != nil {
			return fmt.Errorf("%s: generated Go does not parse: %v\n%s", f.Path, err, numbered(f.Content))
		}
		out[i].Content = src
	}
	return nil
}

func numbered(src []byte) string {
	var b strings.Builder
	for i, line := range bytes.Split(src, []byte("\n")) {
		fmt.Fprintf(&b, "%5d\t%s\n", i+1, line)
	}
	return b.String()
}
