// Command mtlsserver runs the mutual-TLS conformance authorization server
// with the default clients until interrupted. It first writes a fresh test
// PKI into the -pki-dir directory (see mtlsserver.WriteTestPKI: ca.pem,
// server.pem, client.pem, self-signed.pem and their -key.pem files), then
// prints the issuer URL as the first line of standard output and the
// base URL of the mutual-TLS endpoint aliases as the second, so that test
// harnesses in other languages can start it and read where it listens.
//
// Usage:
//
//	mtlsserver -pki-dir dir [-addr 127.0.0.1:0] [-mtls-addr 127.0.0.1:0] [-access-token-lifespan 1h]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coyotesense/coyotegen/conformance/mtlsserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mtlsserver:", err)
		os.Exit(1)
	}
}

// run writes the PKI, starts the server, prints its URLs to stdout and
// serves until ctx ends. Flag errors and usage go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mtlsserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("pki-dir", "", "existing `directory` to write the test PKI to (required)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` of the issuer's endpoints")
	mtlsAddr := fs.String("mtls-addr", "127.0.0.1:0", "loopback `address` of the mutual-TLS endpoint aliases")
	lifespan := fs.Duration("access-token-lifespan", time.Hour, "lifetime of issued access tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-pki-dir is required")
	}
	pki, err := mtlsserver.WriteTestPKI(*dir)
	if err != nil {
		return err
	}
	srv, err := mtlsserver.Start(mtlsserver.Options{PKI: pki, Addr: *addr, MTLSAddr: *mtlsAddr, AccessTokenLifespan: *lifespan})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n%s\n", srv.URL(), srv.MTLSURL()); err != nil {
		srv.Close()
		return err
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
