// Package runner is the conformance suite's runner: it loads the
// language-neutral scenarios of conformance/scenarios, starts the
// authorization servers they need on 127.0.0.1 (the fosite-based
// conformance/authserver, the mutual-TLS conformance/mtlsserver and the
// fault-injection conformance/faultserver), drives each SDK's driver
// through every scenario over the line-delimited JSON protocol of
// conformance/README.md, and reports a pass/fail matrix of scenarios by
// language.
//
// A scenario that a language cannot run is a failure, never a skip.
// `go test ./conformance/...` runs every scenario for every language in
// [Languages]; `go run ./conformance/cmd/conformance` runs a selection by
// hand.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Options configures a run.
type Options struct {
	// Root is the repository root; empty means the root found from the
	// working directory (FindRoot).
	Root string
	// Languages are the SDKs under test; nil means all of [Languages].
	Languages []Language
	// ScenarioDir holds the scenario files; empty means
	// conformance/scenarios under Root.
	ScenarioDir string
	// Scenarios are the names of the scenarios to run; nil means all.
	Scenarios []string
	// BuildEnv are extra environment variables of the drivers' build
	// commands, as KEY=value; GOFLAGS=-race builds the Go driver with the
	// race detector.
	BuildEnv []string
	// Parallel is how many scenario runs go at once; zero means
	// GOMAXPROCS, at least 4.
	Parallel int
	// Progress, when set, receives a line per finished scenario run.
	Progress io.Writer
}

// Result is the outcome of one scenario for one language.
type Result struct {
	// Scenario and Language name the cell of the matrix.
	Scenario, Language string
	// Passed reports success; Err says why not.
	Passed bool
	Err    error
	// Step is the 1-based step that failed, or 0.
	Step int
	// Duration is how long the run took.
	Duration time.Duration
}

// Report is the outcome of a run.
type Report struct {
	// Scenarios and Languages are the matrix's rows and columns.
	Scenarios []*Scenario
	Languages []string
	// Results holds every cell, by scenario then language.
	Results map[string]map[string]*Result
	// Duration is the run's wall time.
	Duration time.Duration
}

// Failed returns the failed cells, in matrix order.
func (r *Report) Failed() []*Result {
	var out []*Result
	for _, sc := range r.Scenarios {
		for _, lang := range r.Languages {
			if res := r.Results[sc.Name][lang]; res != nil && !res.Passed {
				out = append(out, res)
			}
		}
	}
	return out
}

// Err returns an error naming every failed cell, or nil.
func (r *Report) Err() error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, len(failed))
	for i, f := range failed {
		names[i] = f.Scenario + "/" + f.Language
	}
	return fmt.Errorf("%d of %d conformance runs failed: %s", len(failed), len(r.Scenarios)*len(r.Languages), strings.Join(names, ", "))
}

// WriteMatrix prints the pass/fail matrix and then the reason of every
// failure.
func (r *Report) WriteMatrix(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", strings.Join(r.Languages, "\t"))
	for _, sc := range r.Scenarios {
		cells := make([]string, len(r.Languages))
		for i, lang := range r.Languages {
			res := r.Results[sc.Name][lang]
			switch {
			case res == nil:
				cells[i] = "FAIL (not run)"
			case res.Passed:
				cells[i] = "PASS"
			default:
				cells[i] = "FAIL"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", sc.Name, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	passed, total := 0, len(r.Scenarios)*len(r.Languages)
	for _, sc := range r.Scenarios {
		for _, lang := range r.Languages {
			if res := r.Results[sc.Name][lang]; res != nil && res.Passed {
				passed++
			}
		}
	}
	fmt.Fprintf(w, "\n%d/%d passed in %v\n", passed, total, r.Duration.Round(time.Millisecond))
	for _, f := range r.Failed() {
		fmt.Fprintf(w, "\nFAIL %s/%s: %v\n", f.Scenario, f.Language, f.Err)
	}
	return nil
}

// FindRoot returns the repository root: the nearest directory upwards
// from the working directory that holds go.mod and conformance/.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isDir(filepath.Join(dir, "conformance", "scenarios")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no repository root (go.mod with conformance/scenarios) above the working directory")
		}
		dir = parent
	}
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }

// Run builds the drivers, runs the selected scenarios for every selected
// language, and returns the report. An error means the run could not
// start (a scenario file is invalid, a driver does not build); failed
// scenarios are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	root := opts.Root
	if root == "" {
		var err error
		if root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	spec, err := LoadSpec(filepath.Join(root, "spec", "security.yaml"))
	if err != nil {
		return nil, err
	}
	dir := opts.ScenarioDir
	if dir == "" {
		dir = filepath.Join(root, "conformance", "scenarios")
	}
	all, err := LoadScenarios(dir, spec)
	if err != nil {
		return nil, err
	}
	scenarios, err := selectScenarios(all, opts.Scenarios)
	if err != nil {
		return nil, err
	}
	langs := opts.Languages
	if langs == nil {
		langs = Languages
	}
	if len(langs) == 0 {
		return nil, errors.New("no language to test")
	}

	work, err := os.MkdirTemp("", "coyote-conformance-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	fixtures, err := WriteFixtures(filepath.Join(work, "fixtures"))
	if err != nil {
		return nil, err
	}
	built, err := buildLanguages(ctx, root, work, langs, scenarios, opts.BuildEnv)
	if err != nil {
		return nil, err
	}

	report := &Report{Scenarios: scenarios, Results: map[string]map[string]*Result{}}
	for _, l := range langs {
		report.Languages = append(report.Languages, l.Name)
	}
	for _, sc := range scenarios {
		report.Results[sc.Name] = map[string]*Result{}
	}
	type job struct {
		sc   *Scenario
		lang string
		n    int
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = max(runtime.GOMAXPROCS(0), 4)
	}
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				dir := filepath.Join(work, "runs", fmt.Sprintf("%03d-%s-%s", j.n, j.sc.Name, j.lang))
				res := runScenario(ctx, j.sc, j.lang, built, fixtures, dir)
				mu.Lock()
				report.Results[j.sc.Name][j.lang] = res
				if opts.Progress != nil {
					status := "PASS"
					if !res.Passed {
						status = "FAIL"
					}
					fmt.Fprintf(opts.Progress, "%s %s/%s (%v)\n", status, res.Scenario, res.Language, res.Duration.Round(time.Millisecond))
				}
				mu.Unlock()
			}
		}()
	}
	n := 0
	for _, sc := range scenarios {
		for _, l := range langs {
			n++
			jobs <- job{sc: sc, lang: l.Name, n: n}
		}
	}
	close(jobs)
	wg.Wait()
	report.Duration = time.Since(start)
	return report, nil
}

// selectScenarios picks the named scenarios; every name must exist.
func selectScenarios(all []*Scenario, names []string) ([]*Scenario, error) {
	if names == nil {
		return all, nil
	}
	byName := map[string]*Scenario{}
	var known []string
	for _, sc := range all {
		byName[sc.Name] = sc
		known = append(known, sc.Name)
	}
	var out []*Scenario
	for _, name := range names {
		sc, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q: want one of %s", name, strings.Join(known, ", "))
		}
		out = append(out, sc)
	}
	return out, nil
}

// buildLanguages builds the drivers of the languages under test and of
// the languages that setup steps name (create_client driver:).
func buildLanguages(ctx context.Context, root, work string, langs []Language, scenarios []*Scenario, env []string) (map[string]*builtLanguage, error) {
	need := map[string]Language{}
	for _, l := range langs {
		need[l.Name] = l
	}
	for _, sc := range scenarios {
		for _, st := range sc.Steps {
			if st.Kind != "create_client" {
				continue
			}
			var cc createClientStep
			if err := decode(st.body, &cc); err == nil && cc.Driver != "" {
				if _, ok := need[cc.Driver]; !ok {
					l, err := LanguageByName(cc.Driver)
					if err != nil {
						return nil, fmt.Errorf("%s:%d: %w", sc.File, st.Line, err)
					}
					need[l.Name] = l
				}
			}
		}
	}
	names := make([]string, 0, len(need))
	for name := range need {
		names = append(names, name)
	}
	sort.Strings(names)
	built := map[string]*builtLanguage{}
	for _, name := range names {
		bin := filepath.Join(work, "bin", name)
		if err := os.MkdirAll(bin, 0o700); err != nil {
			return nil, err
		}
		b, err := need[name].build(ctx, root, bin, env)
		if err != nil {
			return nil, err
		}
		built[name] = b
	}
	return built, nil
}

// runScenario runs one scenario for one language with fresh servers and
// fresh drivers.
func runScenario(ctx context.Context, sc *Scenario, lang string, langs map[string]*builtLanguage, fx *Fixtures, dir string) (res *Result) {
	start := time.Now()
	res = &Result{Scenario: sc.Name, Language: lang}
	defer func() {
		res.Duration = time.Since(start)
		if p := recover(); p != nil {
			res.Passed, res.Err = false, fmt.Errorf("runner panic: %v", p)
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		res.Err = err
		return res
	}
	env, err := startEnvironment(sc.Servers, fx, dir)
	if err != nil {
		res.Err = err
		return res
	}
	defer env.close()
	s := &session{
		ctx:     ctx,
		lang:    lang,
		langs:   langs,
		env:     env,
		drivers: map[string]*driverProcess{},
		clients: map[string]*driverProcess{},
	}
	defer s.close()
	for i, st := range sc.Steps {
		if err := runStep(s, st); err != nil {
			res.Step = i + 1
			res.Err = fmt.Errorf("step %d (%s, %s:%d): %w", i+1, st.Kind, filepath.Base(sc.File), st.Line, err)
			return res
		}
	}
	res.Passed = true
	return res
}

// runStep expands the step's variables, decodes it and runs it.
func runStep(s *session, st Step) error {
	body, err := s.env.expandAll(st.body)
	if err != nil {
		return err
	}
	v := stepTypes[st.Kind]()
	if err := decode(body, v); err != nil {
		return err
	}
	return v.run(s)
}
