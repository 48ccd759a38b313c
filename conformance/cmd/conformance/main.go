// Command conformance runs the conformance suite by hand: every scenario
// of conformance/scenarios, or some, for every registered language, or
// one, and prints the pass/fail matrix. It exits 1 when a run fails.
//
//	go run ./conformance/cmd/conformance -lang go -scenario client_credentials_basic
//	go run ./conformance/cmd/conformance -list
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/coyotesense/coyotegen/conformance/runner"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it parses args, runs the suite and prints the
// matrix, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "", "comma-separated languages to test (default: all registered)")
	scenario := fs.String("scenario", "", "comma-separated scenarios to run (default: all)")
	parallel := fs.Int("parallel", 0, "scenario runs at once (default: GOMAXPROCS, at least 4)")
	list := fs.Bool("list", false, "list the scenarios and languages, and exit")
	verbose := fs.Bool("v", false, "print each run as it finishes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *list {
		return listAll(stdout, stderr)
	}
	opts := runner.Options{Parallel: *parallel}
	if *lang != "" {
		for _, name := range split(*lang) {
			l, err := runner.LanguageByName(name)
			if err != nil {
				fmt.Fprintf(stderr, "conformance: %v\n", err)
				return 2
			}
			opts.Languages = append(opts.Languages, l)
		}
	}
	if *scenario != "" {
		opts.Scenarios = split(*scenario)
	}
	if *verbose {
		opts.Progress = stderr
	}
	report, err := runner.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	report.WriteMatrix(stdout)
	if report.Err() != nil {
		return 1
	}
	return 0
}

func listAll(stdout, stderr io.Writer) int {
	root, err := runner.FindRoot()
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	spec, err := runner.LoadSpec(root + "/spec/security.yaml")
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	scenarios, err := runner.LoadScenarios(root+"/conformance/scenarios", spec)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	for _, l := range runner.Languages {
		fmt.Fprintf(stdout, "language %s\n", l.Name)
	}
	for _, sc := range scenarios {
		fmt.Fprintf(stdout, "scenario %s: %s\n", sc.Name, strings.TrimSpace(sc.Description))
	}
	return 0
}

func split(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
