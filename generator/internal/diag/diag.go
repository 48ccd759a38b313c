// Package diag carries spec problems with their file:line:col positions.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a spec file. Line and Col are 1-based; zero means
// unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem found in a spec.
type Diagnostic struct {
	Pos     Pos
	Message string
}

func (d Diagnostic) String() string { return d.Pos.String() + ": " + d.Message }

// List collects diagnostics; every stage appends to it instead of stopping
// at the first problem.
type List []Diagnostic

// Addf records a problem at pos.
func (l *List) Addf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// Err returns the list as an error, or nil when it is empty. The
// diagnostics are sorted by position so that output is stable.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	sorted := append(List(nil), l...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Pos, sorted[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &Error{Diagnostics: sorted}
}

// Error is the error every stage returns for spec problems.
type Error struct {
	Diagnostics List
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Join merges the diagnostics of several stage errors into one error; it
// returns nil when all are nil. Errors that are not *Error are returned
// as they are, first one wins.
func Join(errs ...error) error {
	var all List
	for _, err := range errs {
		if err == nil {
			continue
		}
		d, ok := err.(*Error)
		if !ok {
			return err
		}
		all = append(all, d.Diagnostics...)
	}
	return all.Err()
}
