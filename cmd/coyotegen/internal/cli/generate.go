package cli

import (
	"fmt"
	"strings"

	"github.com/coyotesense/coyotegen/generator"
	"github.com/coyotesense/coyotegen/generator/write"
	"github.com/coyotesense/coyotegen/spec"
	"github.com/spf13/cobra"
)

type source = generator.Source

func embeddedSpec() source { return source{Name: spec.Name, Data: spec.Security} }

func newGenerateCmd() *cobra.Command {
	var (
		specs []string
		out   string
		langs []string
		check bool
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate the SDKs from the spec into out/",
		Long: `Generate runs load, validate, model, emit and format on the spec (the
embedded product spec unless --spec is given) and writes the packages of
the selected languages under --out. Files the spec no longer produces are
removed. With --check nothing is written: the command exits 1 and prints a
unified diff when the output folder is stale.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sources, err := readSources(specs)
			if err != nil {
				return err
			}
			var selected []string
			for _, l := range langs {
				for _, part := range strings.Split(l, ",") {
					if part = strings.TrimSpace(part); part != "" {
						selected = append(selected, part)
					}
				}
			}
			files, err := generator.Generate(sources, selected)
			if err != nil {
				return classify(err)
			}
			if len(selected) == 0 {
				selected = generator.Languages
			}
			changes, err := write.Plan(out, selected, files)
			if err != nil {
				return &exitError{code: ExitIO, err: err}
			}
			if check {
				if len(changes) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date (%d files)\n", out, len(files))
					return nil
				}
				fmt.Fprint(cmd.OutOrStdout(), write.Diff(changes))
				return &exitError{code: ExitProblem, err: fmt.Errorf("%s is stale: %d files differ; run `coyotegen generate`", out, len(changes))}
			}
			if err := write.Apply(out, changes); err != nil {
				return &exitError{code: ExitIO, err: err}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "coyotegen: %d files in %s, %d changed\n", len(files), out, len(changes))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&specs, "spec", nil, "spec file (repeat for a spec split in several files; default: the embedded spec)")
	cmd.Flags().StringVar(&out, "out", "out", "output folder; each language goes to a folder of its name")
	cmd.Flags().StringArrayVar(&langs, "lang", nil, "language to generate: go, python, ts, cpp, dotnet (repeat or comma-separate; default: all)")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 with a diff when the output is stale")
	return cmd
}

// classify maps a generator error to an exit code: spec problems are
// printed as file:line:col lines and exit 1, an unknown language is a usage
// error, anything else an internal error.
func classify(err error) error {
	if diags := generator.Diagnostics(err); diags != nil {
		return &exitError{code: ExitProblem, err: &problemsError{diags: diags}}
	}
	if strings.HasPrefix(err.Error(), "unknown language") {
		return &exitError{code: ExitUsage, err: err}
	}
	return &exitError{code: ExitIO, err: err}
}

// problemsError prints spec problems one per line.
type problemsError struct{ diags []generator.Diagnostic }

func (p *problemsError) Error() string {
	lines := make([]string, len(p.diags))
	for i, d := range p.diags {
		lines[i] = d.String()
	}
	return fmt.Sprintf("%s in the spec:\n%s", plural(len(p.diags), "problem"), strings.Join(lines, "\n"))
}
