//go:build !race

package runner_test

// buildEnv adds nothing to the drivers' build without the race detector.
var buildEnv []string
