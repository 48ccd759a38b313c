package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Language is an SDK the runner drives: how to build its driver once per
// run, and how to start one driver process.
//
// In Build and Start, {root} is the repository root and {bin} a fresh
// temporary directory of the run, where Build may put a binary or a
// virtual environment. Commands run in the repository root.
type Language struct {
	// Name is the language's column in the matrix and its -lang value.
	Name string
	// Build are the commands, run in order, that prepare the driver.
	Build [][]string
	// Start is the command that starts one driver, which then speaks the
	// protocol of conformance/README.md on its stdin and stdout.
	Start []string
	// Env are extra environment variables of the driver, as KEY=value.
	Env []string
}

// Languages is the table of SDKs under test. Adding an SDK is one entry.
var Languages = []Language{
	{
		Name:  "go",
		Build: [][]string{{"go", "build", "-o", "{bin}/coyote-driver-go", "./conformance/drivers/go"}},
		Start: []string{"{bin}/coyote-driver-go"},
	},
	{
		// The generated package, installed (not editable) into a fresh
		// virtual environment as a user would install it, and the driver
		// generated with it.
		Name: "python",
		Build: [][]string{
			{"python3", "-m", "venv", "{bin}/venv"},
			{"{bin}/venv/bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "./out/python"},
		},
		Start: []string{"{bin}/venv/bin/python", "-B", "out/python/conformance/driver.py"},
		Env:   []string{"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"},
	},
	{
		// The generated package, installed and built in out/ts as its own
		// build does, and the driver generated with it, compiled with its
		// tests (dist/check is not published).
		Name: "ts",
		Build: [][]string{
			{"npm", "--prefix", "out/ts", "install", "--no-audit", "--no-fund", "--no-package-lock"},
			{"npm", "--prefix", "out/ts", "run", "build"},
			{"npm", "--prefix", "out/ts", "run", "build:check"},
		},
		Start: []string{"node", "out/ts/dist/check/conformance/driver.js"},
	},
}

// LanguageByName returns the registered language called name.
func LanguageByName(name string) (Language, error) {
	var names []string
	for _, l := range Languages {
		if l.Name == name {
			return l, nil
		}
		names = append(names, l.Name)
	}
	return Language{}, fmt.Errorf("unknown language %q: want one of %s", name, strings.Join(names, ", "))
}

// builtLanguage is a language whose driver is built, with its start
// command resolved.
type builtLanguage struct {
	Language
	argv []string
	root string
}

// build runs the language's build commands.
func (l Language) build(ctx context.Context, root, bin string, env []string) (*builtLanguage, error) {
	subst := func(s string) string {
		return strings.NewReplacer("{root}", root, "{bin}", bin).Replace(s)
	}
	for _, argv := range l.Build {
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = subst(a)
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("build the %s driver: %s: %v\n%s", l.Name, strings.Join(args, " "), err, out.String())
		}
	}
	if len(l.Start) == 0 {
		return nil, fmt.Errorf("language %s has no start command", l.Name)
	}
	argv := make([]string, len(l.Start))
	for i, a := range l.Start {
		argv[i] = subst(a)
	}
	return &builtLanguage{Language: l, argv: argv, root: root}, nil
}

// start starts one driver process.
func (b *builtLanguage) start() (*driverProcess, error) {
	return startDriver(b.Name, b.argv, b.root, b.Env)
}
