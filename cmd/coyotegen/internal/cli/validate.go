package cli

import (
	"fmt"
	"strings"

	"github.com/coyotesense/coyotegen/generator"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var errorFormat string
	cmd := &cobra.Command{
		Use:   "validate [spec files]",
		Short: "Check a spec and print every problem as file:line:col: message",
		Long: `Validate loads and checks the given spec files (the embedded product spec
when none are given) and prints every problem, one per line, as
file:line:col: message. It exits 1 when there are problems. With
--error-format=github-actions each problem is printed as a GitHub Actions
error annotation instead.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if errorFormat != "text" && errorFormat != "github-actions" {
				return &exitError{code: ExitUsage, err: fmt.Errorf("unknown --error-format %q: want \"text\" or \"github-actions\"", errorFormat)}
			}
			sources, err := readSources(args)
			if err != nil {
				return err
			}
			err = generator.Check(sources)
			if err == nil {
				names := make([]string, len(sources))
				for i, s := range sources {
					names[i] = s.Name
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", strings.Join(names, ", "))
				return nil
			}
			diags := generator.Diagnostics(err)
			if diags == nil {
				return &exitError{code: ExitIO, err: err}
			}
			for _, d := range diags {
				if errorFormat == "github-actions" {
					fmt.Fprintf(cmd.OutOrStdout(), "::error file=%s,line=%d,col=%d::%s\n", d.Pos.File, d.Pos.Line, d.Pos.Col, escapeAnnotation(d.Message))
					continue
				}
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			return &exitError{code: ExitProblem, err: fmt.Errorf("%s", plural(len(diags), "problem"))}
		},
	}
	cmd.Flags().StringVar(&errorFormat, "error-format", "text", "how problems are printed: text or github-actions")
	return cmd
}

// escapeAnnotation escapes a message for a GitHub Actions workflow command.
func escapeAnnotation(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// plural spells a count with its noun: "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
