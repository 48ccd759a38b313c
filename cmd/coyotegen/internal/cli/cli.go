// Package cli is the coyotegen command line. Run is the whole program:
// main calls it with the process's arguments and streams, and tests call it
// with buffers.
//
// Exit codes:
//
//	0  success; `token` printed a token
//	1  the spec has problems, `generate --check` found out/ stale, or
//	   `token` failed: the OAuth error code and description are on stderr
//	2  usage error (unknown command, flag or language; for `token`, a bad
//	   flag value or a configuration problem)
//	3  input/output or internal error (for `token`, an unreadable --config
//	   or --client-secret-file)
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes of Run.
const (
	ExitOK      = 0
	ExitProblem = 1
	ExitUsage   = 2
	ExitIO      = 3
)

// Version is the coyotegen release.
const Version = "0.1.0"

// exitError carries an exit code through cobra; its message, if any, has
// been printed already or is printed by Run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// Run executes the command line args and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "coyotegen:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors are usage errors: unknown commands and flags.
	fmt.Fprintln(stderr, "coyotegen:", err)
	return ExitUsage
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "coyotegen",
		Short: "Generate OAuth2, JWT and mTLS authentication SDKs for Go, Python, TypeScript, C++ and .NET",
		Long: `coyotegen turns one declarative spec of authentication flows, configuration
fields and runtime modes into the Go, Python, TypeScript, C++ and .NET
packages under out/.

Exit codes: 0 success; 1 spec problems, stale output (--check) or a
failed token request (token); 2 usage error or bad configuration;
3 input/output or internal error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newGenerateCmd(), newValidateCmd(), newVersionCmd(), newTokenCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the coyotegen version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "coyotegen %s\n", Version)
			return nil
		},
	}
}

// readSources reads the named spec files, or returns the embedded spec.
func readSources(paths []string) ([]source, error) {
	if len(paths) == 0 {
		return []source{embeddedSpec()}, nil
	}
	var out []source
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &exitError{code: ExitIO, err: err}
		}
		out = append(out, source{Name: p, Data: data})
	}
	return out, nil
}
