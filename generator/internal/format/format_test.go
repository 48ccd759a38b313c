package format

import (
	"strings"
	"testing"

	"github.com/coyotesense/coyotegen/generator/internal/files"
)

func TestFormatGo(t *testing.T) {
	out := []files.File{
		{Path: "go/a/a.go", Content: []byte("package a\nfunc  F( ) {}\n")},
		{Path: "python/a.py", Content: []byte("x  =  1\n")},
	}
	if err := Format(out); err != nil {
		t.Fatal(err)
	}
	if string(out[0].Content) != "package a\n\nfunc F() {}\n" || string(out[1].Content) != "x  =  1\n" {
		t.Errorf("got %q and %q", out[0].Content, out[1].Content)
	}
}

func TestUnparsableGoShowsNumberedSource(t *testing.T) {
	err := Format([]files.File{{Path: "go/a/a.go", Content: []byte("package a\n\nfunc F() {\n")}})
	if err == nil || !strings.Contains(err.Error(), "go/a/a.go: generated Go does not parse") || !strings.Contains(err.Error(), "    3\tfunc F() {") {
		t.Errorf("err = %v", err)
	}
}
