package runner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/runner"
)

// writeScenarios writes name -> YAML scenario files to a new directory.
func writeScenarios(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fakeLanguage(kind string) runner.Language {
	return runner.Language{Name: "fake-" + kind, Start: []string{os.Args[0]}, Env: []string{fakeDriverEnv + "=" + kind}}
}

const basicScenario = `description: a token from the fosite server
servers:
  fosite: {}
steps:
  - create_client:
      server: fosite
      config: {client_id: basic-client, client_secret: basic-secret}
  - call: {op: get_valid_token}
`

const simScenario = `description: a token from the simulator
steps:
  - create_client:
      mode: simulation
      config: {server_url: "https://auth.simulated.invalid", client_id: sim-client, client_secret: sim-secret}
  - call: {op: get_valid_token}
`

// TestCannotRunIsFail: a language whose driver cannot run a scenario,
// or breaks the protocol, gets FAIL in the matrix, never a skip.
func TestCannotRunIsFail(t *testing.T) {
	dir := writeScenarios(t, map[string]string{"basic": basicScenario})
	langs := []runner.Language{fakeLanguage("not_implemented"), fakeLanguage("garbage"), fakeLanguage("exit")}
	report, err := runner.Run(context.Background(), runner.Options{ScenarioDir: dir, Languages: langs})
	if err != nil {
		t.Fatal(err)
	}
	if report.Err() == nil {
		t.Fatal("the run passed")
	}
	want := map[string]string{
		"fake-not_implemented": "not_implemented",
		"fake-garbage":         "not a protocol answer",
		"fake-exit":            "exited",
	}
	for lang, reason := range want {
		res := report.Results["basic"][lang]
		if res == nil || res.Passed || !strings.Contains(res.Err.Error(), reason) {
			t.Errorf("%s: result %+v, want a FAIL saying %q", lang, res, reason)
		}
	}
	var matrix bytes.Buffer
	report.WriteMatrix(&matrix)
	if got := matrix.String(); !strings.Contains(got, "basic") || strings.Count(got, "FAIL") < 6 || strings.Contains(got, "SKIP") {
		t.Errorf("matrix:\n%s", got)
	}
}

// TestWrongExpectationFails runs the Go driver through scenarios whose
// expectations the SDK does not meet, and checks each is a FAIL with a
// message that says why.
func TestWrongExpectationFails(t *testing.T) {
	dir := writeScenarios(t, map[string]string{
		"count": basicScenario + "  - expect_requests: {server: fosite, endpoint: token, count: 5}\n",
		"error": basicScenario + "  - call: {op: get_valid_token, expect: {error: {code: invalid_client}}}\n",
		"same":  basicScenario + "  - call: {op: clear_tokens}\n  - call: {op: get_valid_token, save_as: a}\n  - call: {op: clear_tokens}\n  - call: {op: get_valid_token, expect: {token: {same_as: a}}}\n",
		"var":   basicScenario + "  - call: {op: introspect_token, args: {token: \"${nothing.access_token}\"}}\n",
		"redact": `description: the secret must not appear
servers:
  fosite: {}
steps:
  - create_client:
      server: fosite
      mode: debug
      config: {client_id: basic-client, client_secret: basic-secret}
  - call: {op: get_valid_token}
  - expect_output: {sources: [debug_export], contains: [basic-client], not_contains: [basic-client]}
`,
		"simcount": simScenario + "  - expect_sim_requests: {grant_type: client_credentials, count: 5}\n",
		"simclock": simScenario + "  - simulation_control: {action: advance, value: 10, expect: {elapsed_seconds: {min: 20, max: 20}}}\n",
		"notsim":   basicScenario + "  - simulation_control: {action: now}\n",
	})
	go_, err := runner.LanguageByName("go")
	if err != nil {
		t.Fatal(err)
	}
	report, err := runner.Run(context.Background(), runner.Options{ScenarioDir: dir, Languages: []runner.Language{go_}, BuildEnv: buildEnv})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"count":    "fosite token requests = 1, want 5",
		"error":    "succeeded, want error invalid_client",
		"same":     "differs from a's, want the same",
		"var":      "unknown variable ${nothing.access_token}",
		"redact":   "debug_export contain a value that must be redacted",
		"simcount": "simulated client_credentials token requests = 1, want 5",
		"simclock": "elapsed_seconds = 10, want 20",
		"notsim":   "driver_error: client \"default\" is not in simulation mode",
	}
	for name, reason := range want {
		res := report.Results[name]["go"]
		if res == nil || res.Passed || !strings.Contains(res.Err.Error(), reason) {
			t.Errorf("%s: result %+v, want a FAIL saying %q", name, res, reason)
		}
	}
}

// TestScenarioProblems: invalid scenario files are reported, each with
// its file and line, before anything runs.
func TestScenarioProblems(t *testing.T) {
	root, err := runner.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := runner.LoadSpec(filepath.Join(root, "spec", "security.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeScenarios(t, map[string]string{
		"bad": `description: broken
servers:
  fosite: {}
steps:
  - call: {op: fetch_token}
  - call: {op: get_valid_token, args: {scopes: [a]}}
  - teleport: {to: mars}
  - call: {op: get_valid_token, expect: {eror: {code: x}}}
  - expect_requests: {server: fault, count: 1}
  - create_client: {server: moon}
`,
		"empty": "description: nothing\nsteps: []\n",
		"typo":  "descripton: x\nsteps: []\n",
		"sim": `description: broken simulation steps
steps:
  - simulation_control: {action: rewind, value: 10}
  - simulation_control: {action: advance, value: -5}
  - simulation_control: {action: advance}
  - simulation_control: {action: stats, value: 1}
  - simulation_control: {action: add_outage, value: {start_in_seconds: 10}}
  - simulation_control: {action: add_outage, value: {duration_seconds: 10, endpoints: [userinfo]}}
  - simulation_control: {action: inject, value: {status: 503, retry_after: 3}}
  - simulation_control: {action: inject, value: {status: 400, endpoint: revocation, grant_type: refresh_token}}
  - simulation_control: {action: inject, value: {status: 503, times: 0}}
  - simulation_control: {action: authorize}
  - simulation_control: {action: now, expect: {error: {code: x}, elapsed_seconds: {min: 1}}}
  - expect_sim_requests: {endpoint: userinfo, count: 1}
  - expect_sim_requests: {endpoint: revocation, grant_type: refresh_token, count: 1}
  - expect_sim_requests: {outcome: lost, count: 1}
  - expect_sim_requests: {grant_type: client_credentials}
  - simulation_control: {action: advance, value: 1.5, expect: {elapsed_seconds: {min: 1.5, max: 1.5}}}
  - simulation_control:
      action: add_outage
      value: {start_in_seconds: 1, duration_seconds: 2, status: 429, retry_after_seconds: 3, endpoints: [token, metadata]}
  - simulation_control: {action: inject, value: {status: 400, code: invalid_grant, endpoint: token, grant_type: refresh_token, times: 2}}
  - expect_sim_requests: {endpoint: metadata, outcome: succeeded, min: 1, max: 2}
`,
	})
	_, err = runner.LoadScenarios(dir, spec)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "sim.yaml:18") || strings.Contains(err.Error(), "sim.yaml:19") || strings.Contains(err.Error(), "sim.yaml:22") || strings.Contains(err.Error(), "sim.yaml:23") {
		t.Errorf("a valid simulation step is reported:\n%v", err)
	}
	for _, want := range []string{
		"bad.yaml:5: call: unknown operation \"fetch_token\": want one of",
		"bad.yaml:6: call: operation get_valid_token has no parameter \"scopes\"",
		"bad.yaml:7: teleport: unknown step kind: want one of",
		"bad.yaml:8: call: json: unknown field \"eror\"",
		"bad.yaml:9: expect_requests: the scenario does not start the fault server",
		"bad.yaml:10: create_client: unknown server \"moon\"",
		"empty.yaml:1: the scenario has no steps",
		"typo.yaml: yaml: unmarshal errors",
		"sim.yaml:3: simulation_control: unknown action \"rewind\": want advance, now,",
		"sim.yaml:4: simulation_control: advance needs a value: the seconds of virtual time to advance, 0 or more",
		"sim.yaml:5: simulation_control: advance needs a value",
		"sim.yaml:6: simulation_control: stats takes no value",
		"sim.yaml:7: simulation_control: add_outage needs duration_seconds",
		"sim.yaml:8: simulation_control: add_outage: unknown endpoint \"userinfo\"",
		"sim.yaml:9: simulation_control: inject: json: unknown field \"retry_after\"",
		"sim.yaml:10: simulation_control: inject: grant_type needs the token endpoint",
		"sim.yaml:11: simulation_control: inject: times must be at least 1",
		"sim.yaml:12: simulation_control: authorize needs a value: an authorization URL",
		"sim.yaml:13: simulation_control: expect: an error excludes",
		"sim.yaml:14: expect_sim_requests: unknown endpoint \"userinfo\"",
		"sim.yaml:15: expect_sim_requests: grant_type counts token requests",
		"sim.yaml:16: expect_sim_requests: unknown outcome \"lost\"",
		"sim.yaml:17: expect_sim_requests: give count, min or max",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// TestScenariosLoad checks every scenario of the suite, and that each
// required area of issue 5 has one.
func TestScenariosLoad(t *testing.T) {
	root, err := runner.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := runner.LoadSpec(filepath.Join(root, "spec", "security.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := runner.LoadScenarios(filepath.Join(root, "conformance", "scenarios"), spec)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, sc := range scenarios {
		have[sc.Name] = true
	}
	for _, name := range []string{
		"client_credentials_basic", "client_credentials_post", "client_credentials_private_key_jwt",
		"authorization_code_pkce", "authorization_code_wrong_verifier", "authorization_code_state",
		"jwt_bearer", "jwt_bearer_rejected", "mtls_certificate_bound", "mtls_missing_certificate",
		"refresh_rotation", "revocation", "introspection", "discovery", "expiry", "expiry_proactive_refresh",
		"concurrent_single_request", "fault_503_retry_after", "fault_429", "fault_invalid_responses",
		"fault_timeout", "mock_failure_rate", "replay_cassette", "debug_redaction",
		"simulation_token_lifetime", "simulation_outage_retry_after", "simulation_error_rate_seeded",
		"simulation_authorization_code",
	} {
		if !have[name] {
			t.Errorf("no scenario %s", name)
		}
	}
}
