package gosdk_test

import (
	"context"
	"testing"

	"github.com/coyotesense/coyotegen/conformance/authserver"
	"github.com/coyotesense/coyotegen/out/go/security"
	"golang.org/x/oauth2/clientcredentials"
)

// benchServer starts the fosite server for a benchmark.
func benchServer(b *testing.B) *authserver.Server {
	b.Helper()
	srv, err := authserver.Start(authserver.Options{Clients: authserver.DefaultClients()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

// BenchmarkCachedToken compares a cached token through the generated
// package with golang.org/x/oauth2's clientcredentials TokenSource, the
// library a Go user would pick instead, in the same run.
func BenchmarkCachedToken(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("coyotegen", func(b *testing.B) {
		cfg := security.DefaultConfig()
		cfg.ServerURL, cfg.TokenURL = srv.URL(), srv.TokenURL()
		cfg.ClientID, cfg.ClientSecret = "basic-client", "basic-secret"
		c, err := security.New(cfg, security.WithMode(security.ModeReal))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Token(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Token(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("x-oauth2", func(b *testing.B) {
		ts := (&clientcredentials.Config{ClientID: "basic-client", ClientSecret: "basic-secret", TokenURL: srv.TokenURL()}).TokenSource(ctx)
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ts.Token(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
