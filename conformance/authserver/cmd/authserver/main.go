// Command authserver runs the conformance authorization server with the
// default clients and issuers until interrupted. It prints the server's
// base URL as the first line of standard output, so that test harnesses in
// other languages can start it and read where it listens. With -keys-dir
// it first writes the test keys there as PEM files (see
// authserver.WriteTestKeys), for clients that sign with them.
//
// Usage:
//
//	authserver [-addr 127.0.0.1:0] [-access-token-lifespan 1h] [-refresh-token-lifespan 720h] [-keys-dir dir]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coyotesense/coyotegen/conformance/authserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "authserver:", err)
		os.Exit(1)
	}
}

// run starts the server, prints its URL to stdout and serves until ctx
// ends. Flag errors and usage go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("authserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` to listen on")
	lifespan := fs.Duration("access-token-lifespan", time.Hour, "lifetime of issued access tokens")
	refreshLifespan := fs.Duration("refresh-token-lifespan", 30*24*time.Hour, "lifetime of issued refresh tokens")
	keysDir := fs.String("keys-dir", "", "existing `directory` to write the test keys to as PEM files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keysDir != "" {
		if _, err := authserver.WriteTestKeys(*keysDir); err != nil {
			return err
		}
	}
	srv, err := authserver.Start(authserver.Options{
		Addr:                 *addr,
		AccessTokenLifespan:  *lifespan,
		RefreshTokenLifespan: *refreshLifespan,
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, srv.URL()); err != nil {
		srv.Close()
		return err
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
