package main

import (
	"bytes"
	"encoding/json"
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
