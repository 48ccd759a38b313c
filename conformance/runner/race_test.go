//go:build race

package runner_test

// buildEnv builds the drivers with the race detector when the tests run
// with it, so that the SDKs' concurrency is checked too.
var buildEnv = []string{"GOFLAGS=-race"}
