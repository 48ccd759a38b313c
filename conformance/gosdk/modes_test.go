package gosdk_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/configload"
)

// noEnv is an environment with no variables set.
func noEnv(string) (string, bool) { return "", false }

// TestModeExamples loads and validates every example in modes/.
func TestModeExamples(t *testing.T) {
	for _, mode := range []security.Mode{security.ModeReal, security.ModeMock, security.ModeDebug, security.ModeRecord, security.ModeReplay, security.ModeSimulation} {
		t.Run(string(mode), func(t *testing.T) {
			path := filepath.Join("..", "..", "modes", string(mode), "auth.yaml")
			cfg := security.DefaultConfig()
			if err := cfg.ApplyYAML(readFile(t, path), path); err != nil {
				t.Fatal(err)
			}
			if cfg.ClientAuthMethod == security.ClientAuthMethodClientSecretBasic && cfg.ClientSecret.IsZero() {
				cfg.ClientSecret = "from-the-environment" // the examples keep real secrets out of files
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s does not validate: %v", path, err)
			}
			got, opts, err := security.LoadModeConfig(path, noEnv)
			if err != nil || got != mode {
				t.Fatalf("LoadModeConfig = %q, %v", got, err)
			}
			if mode == security.ModeMock && (opts.Mock.ResponseDelayMS != 100 || opts.Mock.FailureRate != 0.1 || opts.Mock.Seed != 42) {
				t.Errorf("mock options = %+v", opts.Mock)
			}
		})
	}
}

func TestModeConfigProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.yaml")
	writeFile(t, path, "mode: chaos\nmodes:\n  mock:\n    failure_rate: 2\n    jitter: 5\n  warp: {}\n")
	_, _, err := security.LoadModeConfig(path, noEnv)
	var ce *configload.Error
	if err == nil || !errorsAs(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`: mode: unknown value "chaos"`,
		path + `:5:5: modes.mock: unknown key "jitter"`,
		path + `:6:3: modes: unknown key "warp"`,
		`mock.failure_rate: 2 is above the maximum 1`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	mode, _, err := security.LoadModeConfig(filepath.Join("..", "..", "modes", "mock", "auth.yaml"), func(k string) (string, bool) {
		return "replay", k == "MODE"
	})
	if err != nil || mode != security.ModeReplay {
		t.Errorf("MODE does not override the file: %q, %v", mode, err)
	}
}
