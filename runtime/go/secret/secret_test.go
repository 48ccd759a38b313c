package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coyotesense/coyotegen/runtime/go/secret"
)

const raw = "s3cr3t-value"

func TestFormatNeverRevealsValue(t *testing.T) {
	s := secret.Secret(raw)
	type holder struct {
		Name   string
		Secret secret.Secret
		Ptr    *secret.Secret
	}
	h := holder{Name: "client", Secret: s, Ptr: &s}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%-20v", "%d", "%T %v"} {
		for _, arg := range []any{s, &s, h, &h, []secret.Secret{s}, map[string]secret.Secret{"k": s}} {
			got := fmt.Sprintf(format, arg)
			if strings.Contains(got, raw) {
				t.Errorf("Sprintf(%q, %T) = %q, reveals the secret", format, arg, got)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	s := secret.Secret(raw)
	var empty secret.Secret
	tests := []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", s, "[REDACTED]"},
		{"%+v", s, "[REDACTED]"},
		{"%s", s, "[REDACTED]"},
		{"%q", s, `"[REDACTED]"`},
		{"%#v", s, `"[REDACTED]"`},
		{"%12s|", s, "  [REDACTED]|"},
		{"%v", empty, ""},
		{"%q", empty, `""`},
		{"%#v", empty, `""`},
		{"%+v", struct{ S secret.Secret }{s}, "{S:[REDACTED]}"},
		{"%#v", struct{ S secret.Secret }{s}, `struct { S secret.Secret }{S:"[REDACTED]"}`},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, tt.arg); got != tt.want {
			t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
	if got := s.String(); got != "[REDACTED]" {
		t.Errorf("String() = %q", got)
	}
	if got := s.GoString(); got != `"[REDACTED]"` {
		t.Errorf("GoString() = %q", got)
	}
	if got := empty.String(); got != "" {
		t.Errorf("empty String() = %q, want \"\"", got)
	}
}

func TestRevealAndIsZero(t *testing.T) {
	s := secret.Secret(raw)
	if got := s.Reveal(); got != raw {
		t.Errorf("Reveal() = %q, want %q", got, raw)
	}
	if s.IsZero() {
		t.Error("IsZero() = true for a non-empty secret")
	}
	if !secret.Secret("").IsZero() {
		t.Error("IsZero() = false for the empty secret")
	}
}

func TestJSON(t *testing.T) {
	got, err := json.Marshal(struct {
		A secret.Secret `json:"a"`
		B secret.Secret `json:"b"`
	}{A: raw})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"[REDACTED]","b":""}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}

	// Decoding still yields the raw value, so configuration can be loaded
	// into Secret fields.
	var in struct{ A secret.Secret }
	if err := json.Unmarshal([]byte(`{"A":"`+raw+`"}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.A.Reveal() != raw {
		t.Errorf("json.Unmarshal gave %q", in.A.Reveal())
	}
}

func TestSlog(t *testing.T) {
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("token", "secret", secret.Secret(raw), slog.Any("any", secret.Secret(raw)), slog.Group("g", "s", secret.Secret(raw)))
	}
	out := buf.String()
	if strings.Contains(out, raw) {
		t.Errorf("log output reveals the secret:\n%s", out)
	}
	if n := strings.Count(out, "[REDACTED]"); n != 6 {
		t.Errorf("log output has %d redactions, want 6:\n%s", n, out)
	}
	if v := secret.Secret(raw).LogValue(); v.String() != "[REDACTED]" {
		t.Errorf("LogValue() = %v", v)
	}
}
