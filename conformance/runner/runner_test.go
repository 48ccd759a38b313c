package runner_test

import (
	"bytes"
	"context"
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
