package main

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// session runs the driver over the command lines and returns its answers.
func session(t *testing.T, lines ...string) []map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := serve(strings.NewReader(strings.Join(lines, "\n")+"\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var answers []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("answer %q is not JSON: %v", line, err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(lines) {
		t.Fatalf("%d answers to %d commands:\n%s", len(answers), len(lines), stdout.String())
	}
	return answers
}

func errorCode(a map[string]any) string {
	e, _ := a["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

const mockClient = `{"id":2,"cmd":"create_client","client":"m","mode":"mock","mode_options":{"mock":{"seed":7}},"config":{"server_url":"https://auth.mock.invalid","client_id":"c","client_secret":"s","default_scopes":["trading"]}}`

func TestProtocol(t *testing.T) {
	answers := session(t,
		`{"id":1,"cmd":"hello"}`,
		mockClient,
		`{"id":3,"cmd":"get_current_token","client":"m"}`,
		`{"id":4,"cmd":"call","client":"m","op":"get_valid_token"}`,
		`{"id":5,"cmd":"call_concurrent","client":"m","op":"get_valid_token","callers":3}`,
		`{"id":6,"cmd":"call","client":"m","op":"fly"}`,
		`{"id":7,"cmd":"call","client":"m","op":"get_valid_token","args":{"scope":"x"}}`,
		`{"id":8,"cmd":"call","client":"nobody","op":"get_valid_token"}`,
		`not json`,
		`{"id":10,"cmd":"get_debug_export","client":"m"}`,
		`{"id":11,"cmd":"mock_control","client":"m","action":"seed"}`,
		`{"id":12,"cmd":"create_client","client":"bad","config":{"client_id":"c","nonsense":1}}`,
		`{"id":13,"cmd":"shutdown"}`,
	)
	if a := answers[0]; a["ok"] != true || a["language"] != "go" || a["protocol"] != float64(1) || a["id"] != float64(1) {
		t.Errorf("hello = %v", a)
	}
	if a := answers[2]; a["ok"] != true || a["token"] != nil {
		t.Errorf("get_current_token before a token = %v, want token null", a)
	} else if _, ok := a["token"]; !ok {
		t.Errorf("get_current_token has no token member: %v", a)
	}
	tok, _ := answers[3]["token"].(map[string]any)
	if tok == nil || tok["token_type"] != "Bearer" || tok["access_token"] == "" || tok["expires_in"] == nil {
		t.Errorf("get_valid_token = %v", answers[3])
	}
	if results, _ := answers[4]["results"].([]any); len(results) != 3 {
		t.Errorf("call_concurrent = %v", answers[4])
	}
	for i, want := range map[int]string{5: "driver_error", 6: "driver_error", 7: "driver_error", 8: "driver_error", 9: "driver_error", 11: "invalid_config"} {
		if got := errorCode(answers[i]); got != want || answers[i]["ok"] != false {
			t.Errorf("answer %d = %v, want error %s", i+1, answers[i], want)
		}
	}
	if a := answers[10]; a["ok"] != true || a["seed"] != float64(7) {
		t.Errorf("seed = %v", a)
	}
	if a := answers[12]; a["ok"] != true || a["id"] != float64(13) {
		t.Errorf("shutdown = %v", a)
	}
}

// TestTypedErrors: a failure of the SDK is its typed error on the wire.
func TestTypedErrors(t *testing.T) {
	answers := session(t,
		mockClient,
		`{"id":3,"cmd":"mock_control","client":"m","action":"set_failure_rate","value":1}`,
		`{"id":4,"cmd":"call","client":"m","op":"authenticate_client_credentials"}`,
	)
	e, _ := answers[2]["error"].(map[string]any)
	if e["code"] != "temporarily_unavailable" || e["retryable"] != true || e["status"] != float64(503) || e["description"] == "" {
		t.Errorf("injected failure = %v", answers[2])
	}
}

const simClient = `{"id":1,"cmd":"create_client","client":"s","mode":"simulation","mode_options":{"simulation":{"token_lifetime_seconds":600}},"config":{"server_url":"https://auth.simulated.invalid","client_id":"c","client_secret":"s","refresh_buffer_seconds":60,"max_retries":0}}`

// TestSimulationControl: a simulation client's tokens live on the virtual
// clock, advance answers once the background refresh it made due has run,
// and the simulator's counters, outages and faults are on the wire.
func TestSimulationControl(t *testing.T) {
	answers := session(t,
		simClient,
		`{"id":2,"cmd":"call","client":"s","op":"get_valid_token"}`,
		`{"id":3,"cmd":"simulation_control","client":"s","action":"advance","value":540}`,
		`{"id":4,"cmd":"call","client":"s","op":"get_valid_token"}`,
		`{"id":5,"cmd":"get_current_token","client":"s"}`,
		`{"id":6,"cmd":"simulation_control","client":"s","action":"stats"}`,
		`{"id":7,"cmd":"simulation_control","client":"s","action":"add_outage","value":{"duration_seconds":60,"retry_after_seconds":30,"endpoints":["token"]}}`,
		`{"id":8,"cmd":"call","client":"s","op":"authenticate_client_credentials"}`,
		`{"id":9,"cmd":"simulation_control","client":"s","action":"advance","value":60}`,
		`{"id":10,"cmd":"simulation_control","client":"s","action":"inject","value":{"status":500}}`,
		`{"id":11,"cmd":"call","client":"s","op":"authenticate_client_credentials"}`,
		`{"id":12,"cmd":"simulation_control","client":"s","action":"set_error_rate","value":2}`,
		`{"id":13,"cmd":"simulation_control","client":"s","action":"advance","value":-1}`,
		`{"id":14,"cmd":"simulation_control","client":"s","action":"inject","value":{"status":503,"bogus":1}}`,
		`{"id":15,"cmd":"simulation_control","client":"s","action":"rewind"}`,
		mockClient,
		`{"id":17,"cmd":"simulation_control","client":"m","action":"now"}`,
		`{"id":18,"cmd":"simulation_control","client":"s","action":"now"}`,
	)
	expiresIn := func(a map[string]any) any {
		tok, _ := a["token"].(map[string]any)
		return tok["expires_in"]
	}
	accessToken := func(a map[string]any) any {
		tok, _ := a["token"].(map[string]any)
		return tok["access_token"]
	}
	if got := expiresIn(answers[1]); got != float64(600) {
		t.Errorf("a new token expires in %v, want 600 virtual seconds", got)
	}
	if a := answers[2]; a["ok"] != true || a["elapsed_seconds"] != float64(540) || a["now"] != "2030-01-01T00:09:00Z" {
		t.Errorf("advance = %v", a)
	}
	if accessToken(answers[3]) != accessToken(answers[1]) || expiresIn(answers[3]) != float64(60) {
		t.Errorf("at the refresh point get_valid_token = %v, want the first token with 60 s left", answers[3])
	}
	if accessToken(answers[4]) == accessToken(answers[1]) || expiresIn(answers[4]) != float64(600) {
		t.Errorf("current token after the call = %v, want the refreshed one", answers[4])
	}
	stats, _ := answers[5]["simulation_stats"].(map[string]any)
	grants, _ := stats["grants"].(map[string]any)
	if cc, _ := grants["client_credentials"].(map[string]any); cc["requests"] != float64(2) || cc["succeeded"] != float64(2) {
		t.Errorf("stats = %v, want 2 client credentials requests", answers[5])
	}
	if e, _ := answers[7]["error"].(map[string]any); e["code"] != "temporarily_unavailable" || e["status"] != float64(503) || e["retry_after_seconds"] != float64(30) || e["retryable"] != true {
		t.Errorf("during the outage = %v", answers[7])
	}
	if e, _ := answers[10]["error"].(map[string]any); e["code"] != "server_error" || e["status"] != float64(500) {
		t.Errorf("after an injected 500 = %v", answers[10])
	}
	for i, want := range map[int]string{11: "invalid_config", 12: "driver_error", 13: "driver_error", 14: "driver_error", 16: "driver_error"} {
		if got := errorCode(answers[i]); got != want {
			t.Errorf("answer %d = %v, want error %s", i+1, answers[i], want)
		}
	}
	if a := answers[17]; a["elapsed_seconds"] != float64(600) {
		t.Errorf("now = %v, want 600 virtual seconds since creation", a)
	}
}

// TestOnlyThePublicAPI keeps the driver on the generated package's public
// API, as a user's program would be: no package of the runtime core.
func TestOnlyThePublicAPI(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/coyotesense/coyotegen/") && path != "github.com/coyotesense/coyotegen/out/go/security" {
				t.Errorf("%s imports %s; the driver uses only out/go/security", fset.Position(imp.Pos()), path)
			}
		}
	}
}
