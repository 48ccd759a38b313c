// Command go is the conformance driver of the generated Go SDK
// (github.com/coyotesense/coyotegen/out/go/security): it reads JSON
// commands line by line on stdin, runs them against the SDK's public API,
// and answers one JSON line per command on stdout. The wire protocol is
// described in conformance/README.md.
//
// The driver writes nothing else to stdout, and never writes a token,
// secret or code anywhere but in the answers the protocol asks for.
package main

import "os"

func main() {
	os.Exit(serve(os.Stdin, os.Stdout, os.Stderr))
}
