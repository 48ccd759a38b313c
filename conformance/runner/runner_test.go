package runner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/runner"
)

// TestConformance runs every scenario for every registered language and
// fails on any failed cell of the matrix.
func TestConformance(t *testing.T) {
	report, err := runner.Run(context.Background(), runner.Options{BuildEnv: buildEnv})
	if err != nil {
		t.Fatal(err)
	}
	var matrix bytes.Buffer
	report.WriteMatrix(&matrix)
	t.Logf("conformance matrix:\n%s", matrix.String())
	// make test-go shows the matrix in CI logs, which go test keeps quiet
	// for a passing test.
	if path := os.Getenv("COYOTE_CONFORMANCE_MATRIX"); path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, matrix.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range report.Scenarios {
		for _, lang := range report.Languages {
			res := report.Results[sc.Name][lang]
			t.Run(sc.Name+"/"+lang, func(t *testing.T) {
				if res == nil {
					t.Fatal("not run")
				}
				if !res.Passed {
					t.Error(res.Err)
				}
			})
		}
	}
}
