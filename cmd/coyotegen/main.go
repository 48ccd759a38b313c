// Command coyotegen generates the coyotegen authentication SDKs from the
// spec; see `coyotegen --help`.
package main

import (
	"os"

	"github.com/coyotesense/coyotegen/cmd/coyotegen/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
