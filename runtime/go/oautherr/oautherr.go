// Package oautherr defines the typed error that every coyotegen runtime
// operation returns.
//
// An [Error] carries the fields of an OAuth 2.0 error response (RFC 6749
// Section 5.2: error, error_description, error_uri), the HTTP status code,
// and the server's Retry-After hint (RFC 9110 Section 10.2.3), together with
// the operation that failed and whether retrying it may succeed. Failures
// that happen before or instead of an OAuth error response, such as a
// network failure or a malformed token response, use the coyotegen codes
// declared below so that callers can branch on Code alone.
package oautherr

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Error codes defined by RFC 6749 Section 5.2 for the token endpoint.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
)

// Error codes defined by RFC 6749 Section 4.1.2.1 that servers also return
// from the token endpoint, and that coyotegen uses for HTTP 5xx and 429
// responses that carry no OAuth error object.
const (
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Error codes that coyotegen itself assigns.
const (
	// CodeNetworkError means the request could not be sent or the response
	// could not be read. Err holds the transport error.
	CodeNetworkError = "network_error"
	// CodeInvalidResponse means the server answered, but not as the
	// specification requires (malformed JSON, a missing access_token, an
	// oversized body, an unsupported token_type, and so on).
	CodeInvalidResponse = "invalid_response"
	// CodeInvalidConfig means the client was configured incorrectly and no
	// request was sent.
	CodeInvalidConfig = "invalid_config"
	// CodeCanceled means the caller's context ended before the operation
	// finished. Err wraps the context's error.
	CodeCanceled = "canceled"
	// CodeNotImplemented means the operation exists in the API description
	// but the runtime does not implement it yet.
	CodeNotImplemented = "not_implemented"
)

// Error is the error returned by coyotegen runtime operations.
//
// Error messages never contain client secrets or tokens: Description and
// URI come from the server's error response, and Err is a transport or
// decoding error that does not include request or response bodies.
type Error struct {
	// Op is the operation id, such as "authenticate_client_credentials".
	Op string
	// Code is the RFC 6749 Section 5.2 "error" value, or one of the
	// coyotegen codes declared in this package.
	Code string
	// Description is the server's "error_description", or a coyotegen
	// explanation for coyotegen codes.
	Description string
	// URI is the server's "error_uri", if any.
	URI string
	// StatusCode is the HTTP status of the response, or 0 when no response
	// was received.
	StatusCode int
	// RetryAfter is the delay the server asked for in its Retry-After
	// header, or 0 when it gave none.
	RetryAfter time.Duration
	// Retryable reports whether sending the same request again may
	// succeed.
	Retryable bool
	// Err is the underlying error, if any.
	Err error
}

// Error formats the error as
//
//	coyote auth: <op>: <code>: <description> (HTTP <status>): <cause>
//
// leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("coyote auth: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("error")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.StatusCode != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is, or wraps, an [*Error] whose Retryable
// field is set.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// NotImplemented returns the error for an operation that the runtime does
// not implement yet.
func NotImplemented(op string) *Error {
	return &Error{
		Op:          op,
		Code:        CodeNotImplemented,
		Description: "operation is not implemented yet",
	}
}

// Classifier reports whether an OAuth error code returned by the server
// means that the same request may succeed if retried. Generated packages
// build one from the retry table of their API description.
type Classifier func(code string) bool

// DefaultClassifier is the [Classifier] used when none is configured: it
// treats "temporarily_unavailable" and "server_error" as retryable.
func DefaultClassifier(code string) bool {
	return code == CodeTemporarilyUnavailable || code == CodeServerError
}
