// Package transport connects coyotegen token sources to the rest of the
// Go HTTP ecosystem.
//
// [TokenSource] adapts any [token.Source] to
// golang.org/x/oauth2's TokenSource, so that libraries written against
// x/oauth2 (gRPC credentials, cloud SDKs, oauth2.NewClient) can use a
// coyotegen client. [Transport] is an http.RoundTripper that presents the
// access token to resource servers in the Authorization header (RFC 6750
// Section 2.1) and, when a resource server rejects it with 401 (RFC 6750
// Section 3.1), discards it and retries once with a fresh one.
package transport

import (
	"context"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/coyotesense/coyotegen/runtime/go/token"
)

// TokenSource returns an oauth2.TokenSource that takes its tokens from
// src, calling src.Token with ctx, since x/oauth2's Token method has no
// context of its own. Errors from src are returned unchanged, so they stay
// [*oautherr.Error] values rather than *oauth2.RetrieveError.
//
// The returned source converts each distinct token once and returns the
// same *oauth2.Token while src returns the same *token.Token; as x/oauth2
// requires, callers must not modify it. It is safe for concurrent use.
func TokenSource(ctx context.Context, src token.Source) oauth2.TokenSource {
	return &oauth2Source{ctx: ctx, src: src}
}

type oauth2Source struct {
	ctx  context.Context
	src  token.Source
	last atomic.Pointer[convertedToken]
}

// convertedToken pairs a token with its x/oauth2 form.
type convertedToken struct {
	from *token.Token
	to   *oauth2.Token
}

// Token returns the current token of the wrapped source in x/oauth2's
// form.
func (s *oauth2Source) Token() (*oauth2.Token, error) {
	t, err := s.src.Token(s.ctx)
	if err != nil {
		return nil, err
	}
	if c := s.last.Load(); c != nil && c.from == t {
		return c.to, nil
	}
	c := &convertedToken{from: t, to: OAuth2Token(t)}
	s.last.Store(c)
	return c.to, nil
}

// OAuth2Token converts t to x/oauth2's form: the access token, the
// canonical token type, the expiry, and the ID token as the "id_token"
// extra value, as x/oauth2 reports it. It returns nil for a nil token.
//
// The refresh token is left out on purpose: the coyotegen source refreshes
// its tokens itself, and code that used the refresh token on its own would
// rotate it (RFC 6749 Section 10.4) behind the source's back.
func OAuth2Token(t *token.Token) *oauth2.Token {
	if t == nil {
		return nil
	}
	typ := t.TokenType
	if typ == "" {
		typ = token.TypeBearer
	}
	out := &oauth2.Token{
		AccessToken: t.AccessToken.Reveal(),
		TokenType:   typ,
		Expiry:      t.ExpiresAt,
	}
	if !t.IDToken.IsZero() {
		out = out.WithExtra(map[string]any{"id_token": t.IDToken.Reveal()})
	}
	return out
}
