package oautherr_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *oautherr.Error
		want string
	}{
		{
			&oautherr.Error{Op: "authenticate_client_credentials", Code: "invalid_client", Description: "Client authentication failed", StatusCode: 401},
			"coyote auth: authenticate_client_credentials: invalid_client: Client authentication failed (HTTP 401)",
		},
		{
			&oautherr.Error{Op: "authenticate_client_credentials", Code: "network_error", Description: "token request failed", Err: io.ErrUnexpectedEOF},
			"coyote auth: authenticate_client_credentials: network_error: token request failed: unexpected EOF",
		},
		{&oautherr.Error{Code: "invalid_scope"}, "coyote auth: invalid_scope"},
		{&oautherr.Error{}, "coyote auth: error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestUnwrapAndIsRetryable(t *testing.T) {
	base := &oautherr.Error{Code: "network_error", Retryable: true, Err: io.ErrUnexpectedEOF}
	wrapped := fmt.Errorf("calling API: %w", base)
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Error("errors.Is does not reach the underlying error")
	}
	var got *oautherr.Error
	if !errors.As(wrapped, &got) || got != base {
		t.Error("errors.As does not find the *Error")
	}
	if !oautherr.IsRetryable(wrapped) {
		t.Error("IsRetryable(wrapped retryable error) = false")
	}
	if oautherr.IsRetryable(&oautherr.Error{Code: "invalid_client"}) {
		t.Error("IsRetryable(non-retryable error) = true")
	}
	if oautherr.IsRetryable(io.EOF) || oautherr.IsRetryable(nil) {
		t.Error("IsRetryable(non-oautherr error) = true")
	}
}

func TestNotImplemented(t *testing.T) {
	err := oautherr.NotImplemented("authenticate_device_code")
	if err.Op != "authenticate_device_code" || err.Code != oautherr.CodeNotImplemented || err.Retryable {
		t.Errorf("NotImplemented() = %#v", err)
	}
	if want := "coyote auth: authenticate_device_code: not_implemented: operation is not implemented yet"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestDefaultClassifier(t *testing.T) {
	var c oautherr.Classifier = oautherr.DefaultClassifier
	for code, want := range map[string]bool{
		"temporarily_unavailable": true,
		"server_error":            true,
		"invalid_client":          false,
		"invalid_grant":           false,
		"invalid_scope":           false,
		"slow_down":               false,
	} {
		if got := c(code); got != want {
			t.Errorf("DefaultClassifier(%q) = %v, want %v", code, got, want)
		}
	}
}
