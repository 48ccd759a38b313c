// Command example obtains a client-credentials token with the generated Go
// package and prints the Authorization header a trading service would send
// (the token itself shortened, as logs should show it).
//
// Configuration comes from the optional YAML file named by -config and the
// COYOTE_AUTH_* environment variables; for example, against the test
// server (go run ./conformance/authserver/cmd/authserver):
//
//	COYOTE_AUTH_SERVER_URL=http://127.0.0.1:PORT \
//	COYOTE_AUTH_CLIENT_ID=basic-client COYOTE_AUTH_CLIENT_SECRET=basic-secret \
//	go run ./examples/go -scope trading
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/coyotesense/coyotegen/out/go/security"
)

func main() {
	configPath := flag.String("config", "", "YAML configuration file with an authentication: section")
	scope := flag.String("scope", "", "scope to request instead of default_scopes")
	flag.Parse()
	if err := run(*configPath, *scope); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(configPath, scope string) error {
	cfg, err := security.LoadConfig(configPath)
	if err != nil {
		return err
	}
	if scope != "" {
		cfg.DefaultScopes = []string{scope}
	}
	client, err := security.New(cfg)
	if err != nil {
		return err
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := client.Token(ctx)
	var authErr *security.Error
	if errors.As(err, &authErr) {
		return fmt.Errorf("%s (retryable: %v): %w", authErr.Code, security.IsRetryable(err), err)
	}
	if err != nil {
		return err
	}
	header := tok.AuthorizationHeader()
	if len(header) > 16 {
		header = header[:16] + "..."
	}
	fmt.Printf("Authorization: %s\nexpires in %s, scopes %v\n", header, time.Until(tok.ExpiresAt).Round(time.Second), tok.Scopes)
	return nil
}
