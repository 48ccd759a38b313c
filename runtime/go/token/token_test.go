package token_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/token"
)

var now = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func TestAuthorizationHeader(t *testing.T) {
	for _, typ := range []string{"Bearer", "bearer", "BEARER", ""} {
		tok := &token.Token{AccessToken: "abc.def", TokenType: typ}
		if got := tok.AuthorizationHeader(); got != "Bearer abc.def" {
			t.Errorf("TokenType %q: AuthorizationHeader() = %q, want %q", typ, got, "Bearer abc.def")
		}
	}
	tok := &token.Token{AccessToken: "abc", TokenType: "DPoP"}
	if got := tok.AuthorizationHeader(); got != "DPoP abc" {
		t.Errorf("AuthorizationHeader() = %q, want %q", got, "DPoP abc")
	}
}

func TestExpiredAndNeedsRefresh(t *testing.T) {
	tests := []struct {
		name         string
		tok          *token.Token
		expired      bool
		needsRefresh bool // with a 10s buffer
	}{
		{"nil", nil, true, true},
		{"no expiry", &token.Token{AccessToken: "a"}, false, false},
		{"valid", &token.Token{ExpiresAt: now.Add(time.Minute)}, false, false},
		{"within buffer", &token.Token{ExpiresAt: now.Add(5 * time.Second)}, false, true},
		{"at buffer edge", &token.Token{ExpiresAt: now.Add(10 * time.Second)}, false, true},
		{"at expiry", &token.Token{ExpiresAt: now}, true, true},
		{"expired", &token.Token{ExpiresAt: now.Add(-time.Second)}, true, true},
	}
	for _, tt := range tests {
		if got := tt.tok.Expired(now); got != tt.expired {
			t.Errorf("%s: Expired() = %v, want %v", tt.name, got, tt.expired)
		}
		if got := tt.tok.NeedsRefresh(now, 10*time.Second); got != tt.needsRefresh {
			t.Errorf("%s: NeedsRefresh() = %v, want %v", tt.name, got, tt.needsRefresh)
		}
	}
}

func TestStringRedacts(t *testing.T) {
	tok := &token.Token{
		AccessToken:  "access-value",
		TokenType:    "Bearer",
		RefreshToken: "refresh-value",
		IDToken:      "id-value",
		ExpiresAt:    now,
		Scopes:       []string{"trading", "market-data"},
	}
	want := `Bearer token, expires 2026-01-02T15:04:05Z, scopes "trading market-data", refresh token, ID token`
	if got := tok.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (&token.Token{TokenType: "Bearer"}).String(); got != "Bearer token (empty), no expiry" {
		t.Errorf("String() = %q", got)
	}
	if got := (*token.Token)(nil).String(); got != "<nil token>" {
		t.Errorf("nil String() = %q", got)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, arg := range []any{tok, *tok} {
			got := fmt.Sprintf(format, arg)
			for _, v := range []string{"access-value", "refresh-value", "id-value"} {
				if strings.Contains(got, v) {
					t.Errorf("Sprintf(%q, %T) = %q, reveals %q", format, arg, got, v)
				}
			}
		}
	}
}
