package release

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
)

// ourAction is how users refer to the action, in either form (the
// container action, or the native one in native/); the examples use it.
var ourAction = regexp.MustCompile(`ecr-credentials/ecr-credentials(/native)?@[^\s#]+`)

// workflowFiles returns the workflows and the example workflows of the
// repository, relative to root.
func workflowFiles(t *testing.T, root string) (workflows, examples []string) {
	t.Helper()
	for _, pat := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		m, _ := filepath.Glob(filepath.Join(root, pat))
		workflows = append(workflows, m...)
	}
	examples, _ = filepath.Glob(filepath.Join(root, "docs", "examples", "*.yml"))
	// The release has three workflows and the issue asks for five examples;
	// fewer means files went missing, and the tests below would check less.
	if len(workflows) < 3 || len(examples) < 5 {
		t.Fatalf("found %d workflows and %d examples, want at least 3 (ci, release, example) and 5", len(workflows), len(examples))
	}
	return workflows, examples
}

// lint runs actionlint on files of the project at dir with the repository's
// actionlint configuration (unless config is ""), and shellcheck on run:
// scripts when it is installed (it is optional; the Debian package is
// shellcheck). It returns the errors as actionlint prints them.
func lint(t *testing.T, dir, config string, files []string) []string {
	t.Helper()
	opts := &actionlint.LinterOptions{Color: actionlint.ColorOptionKindNever, ConfigFile: config, WorkingDir: dir}
	if p, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = p
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	proj, err := actionlint.NewProject(dir)
	if err != nil {
		t.Fatalf("actionlint project %s: %v", dir, err)
	}
	errs, err := l.LintFiles(files, proj)
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		rel, relErr := filepath.Rel(dir, e.Filepath)
		if relErr != nil {
			rel = e.Filepath
		}
		msgs[i] = fmt.Sprintf("%s:%d:%d: %s [%s]", rel, e.Line, e.Column, e.Message, e.Kind)
	}
	return msgs
}

// TestWorkflowsLint lints the repository's workflows and examples as they
// are, with the checked-in action.yml behind `uses: ./`.
func TestWorkflowsLint(t *testing.T) {
	r := root(t)
	workflows, examples := workflowFiles(t, r)
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck is not installed, so the run: scripts are not checked (apt-get install -y shellcheck adds it)")
	}
	if errs := lint(t, r, filepath.Join(r, ".github", "actionlint.yaml"), append(workflows, examples...)); len(errs) > 0 {
		t.Errorf("actionlint found %d problem(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// actionForm is one way action.yml can run the action.
type actionForm struct {
	name       string
	runs       docs.Runs
	dockerfile bool // the project has a Dockerfile next to action.yml
}

func actionForms() []actionForm {
	release := docs.DefaultRuns
	release.Image = "docker://ghcr.io/ecr-credentials/ecr-credentials:v1.2.3"
	return []actionForm{
		{name: "dockerfile", runs: docs.DefaultRuns, dockerfile: true},
		// The release form must not need the Dockerfile: the temporary
		// project has none.
		{name: "release", runs: release},
	}
}

// project lays out a throw-away repository: action.yml in the given form,
// the real Dockerfile if asked, the actionlint configuration if asked, and
// workflows. It returns the directory and the workflow paths.
func project(t *testing.T, form actionForm, withConfig bool, workflows map[string][]byte) (string, []string) {
	t.Helper()
	r := root(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	action, err := docs.ActionYAML(form.runs)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "action.yml"), action)
	if form.dockerfile {
		write(t, filepath.Join(dir, "Dockerfile"), read(t, filepath.Join(r, "Dockerfile")))
	}
	if withConfig {
		write(t, filepath.Join(dir, ".github", "actionlint.yaml"), read(t, filepath.Join(r, ".github", "actionlint.yaml")))
	}
	var paths []string
	for name, content := range workflows {
		p := filepath.Join(dir, ".github", "workflows", name)
		write(t, p, content)
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return dir, paths
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// declared returns the inputs and outputs an action.yml declares.
func declared(t *testing.T, action []byte) (inputs, outputs []string) {
	t.Helper()
	var a struct {
		Inputs  map[string]any `yaml:"inputs"`
		Outputs map[string]any `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(action, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	for k := range a.Inputs {
		inputs = append(inputs, k)
	}
	for k := range a.Outputs {
		outputs = append(outputs, k)
	}
	sort.Strings(inputs)
	sort.Strings(outputs)
	if len(inputs) == 0 || len(outputs) == 0 {
		t.Fatalf("action.yml declares %d inputs and %d outputs", len(inputs), len(outputs))
	}
	return inputs, outputs
}

// everythingWorkflow uses the local action with every input it declares and
// reads every output, in a later step and through a job output.
func everythingWorkflow(inputs, outputs []string) []byte {
	return everythingWorkflowOf("./", inputs, outputs)
}

func everythingWorkflowOf(uses string, inputs, outputs []string) []byte {
	var b strings.Builder
	b.WriteString(`on: workflow_dispatch
permissions: {}
jobs:
  login:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    outputs:
      registry: ${{ steps.ecr.outputs.registry }}
    steps:
      - id: ecr
        uses: ` + uses + `
        with:
`)
	for _, in := range inputs {
		fmt.Fprintf(&b, "          %s: x\n", in)
	}
	b.WriteString("      - env:\n")
	for i, out := range outputs {
		fmt.Fprintf(&b, "          OUT_%d: ${{ steps.ecr.outputs.%s }}\n", i, out)
	}
	b.WriteString(`        run: env | grep -c '^OUT_'
  later:
    needs: login
    runs-on: ubuntu-latest
    steps:
      - env:
          REGISTRY: ${{ needs.login.outputs.registry }}
        run: echo "$REGISTRY"
`)
	return []byte(b.String())
}

// TestActionFormsLint lints, against action.yml in both forms, a workflow
// that passes every input and reads every output, and every example with
// its `uses: ecr-credentials/ecr-credentials@v1` replaced by `uses: ./`,
// so that actionlint checks the examples' inputs and outputs against the
// real action.yml.
func TestActionFormsLint(t *testing.T) {
	r := root(t)
	_, examples := workflowFiles(t, r)
	for _, form := range actionForms() {
		t.Run(form.name, func(t *testing.T) {
			action, err := docs.ActionYAML(form.runs)
			if err != nil {
				t.Fatal(err)
			}
			ins, outs := declared(t, action)
			files := map[string][]byte{"everything.yml": everythingWorkflow(ins, outs)}
			for _, ex := range examples {
				b := read(t, ex)
				if !ourAction.Match(b) {
					t.Errorf("%s does not use ecr-credentials/ecr-credentials@...", filepath.Base(ex))
				}
				// The native form is linted against native/action.yml.
				files[filepath.Base(ex)] = ourAction.ReplaceAllFunc(b, func(m []byte) []byte {
					if strings.Contains(string(m), "/native@") {
						return []byte("./native")
					}
					return []byte("./")
				})
			}
			dir, paths := project(t, form, true, files)
			addNative(t, dir)
			if errs := lint(t, dir, "", paths); len(errs) > 0 {
				t.Errorf("actionlint, action.yml runs %s: %d problem(s):\n%s", form.runs.Image, len(errs), strings.Join(errs, "\n"))
			}
		})
	}
}

// TestNativeActionLint lints, against native/action.yml as the generator
// writes it, a workflow that passes every input it declares and reads every
// output; and shows that the lint reads that file: the container form's
// own input host-runner-temp is refused there.
func TestNativeActionLint(t *testing.T) {
	native, err := docs.NativeActionYAML()
	if err != nil {
		t.Fatal(err)
	}
	ins, outs := declared(t, native)
	for _, tc := range []struct {
		name    string
		inputs  []string
		wantErr string
	}{
		{name: "every input", inputs: ins},
		{name: "container-only input", inputs: append(append([]string(nil), ins...), "host-runner-temp"), wantErr: `input "host-runner-temp" is not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, paths := project(t, actionForms()[1], true, map[string][]byte{"native.yml": everythingWorkflowOf("./native", tc.inputs, outs)})
			if err := os.Mkdir(filepath.Join(dir, "native"), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "native", "action.yml"), native)
			addLauncher(t, dir)
			errs := lint(t, dir, "", paths)
			if tc.wantErr == "" && len(errs) > 0 {
				t.Errorf("actionlint, native/action.yml: %d problem(s):\n%s", len(errs), strings.Join(errs, "\n"))
			}
			if tc.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0], tc.wantErr)) {
				t.Errorf("actionlint said %q, want one problem containing %q", errs, tc.wantErr)
			}
		})
	}
}

// addNative puts the generated native/action.yml and the launcher's entry
// points into a lint project at dir.
func addNative(t *testing.T, dir string) {
	t.Helper()
	native, err := docs.NativeActionYAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "native"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "native", "action.yml"), native)
	addLauncher(t, dir)
}

// addLauncher copies native/main.js and native/post.js, which actionlint
// checks exist (runs.main, runs.post).
func addLauncher(t *testing.T, dir string) {
	t.Helper()
	for _, js := range []string{"main.js", "post.js"} {
		write(t, filepath.Join(dir, "native", js), read(t, filepath.Join(root(t), "native", js)))
	}
}

// TestLintCatchesMistakes shows the lint above can fail: each case breaks
// one thing and expects actionlint to say so.
func TestLintCatchesMistakes(t *testing.T) {
	const step = `on: workflow_dispatch
permissions: {}
jobs:
  j:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - id: ecr
        uses: ./
        with:
          %s
      - env:
          V: ${{ steps.ecr.outputs.%s }}
        run: echo "$V"
`
	forms := actionForms()
	noDockerfile := forms[0]
	noDockerfile.dockerfile = false
	tests := []struct {
		name     string
		form     actionForm
		with     string
		output   string
		wantPart string
	}{
		{"misspelt input", forms[0], "rolle-to-assume: x", "registry", `input "rolle-to-assume" is not defined`},
		{"misspelt input, release form", forms[1], "aws_region: x", "registry", `input "aws_region" is not defined`},
		{"unknown output", forms[0], "aws-region: x", "docker-password", `property "docker-password" is not defined`},
		{"camelCase output", forms[1], "aws-region: x", "proxyEndpoint", `property "proxyendpoint" is not defined`},
		{"Dockerfile form without a Dockerfile", noDockerfile, "aws-region: x", "registry", `file "Dockerfile" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, paths := project(t, tt.form, true, map[string][]byte{"w.yml": fmt.Appendf(nil, step, tt.with, tt.output)})
			errs := lint(t, dir, "", paths)
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e, tt.wantPart)
			}
			if !found {
				t.Errorf("actionlint said %q; want a problem containing %q", errs, tt.wantPart)
			}
		})
	}
}

// TestLintIgnoreIsNarrow checks that the one message .github/actionlint.yaml
// ignores is the only thing actionlint has against a correct use of the
// action, and that it is about the post-entrypoint, which lives in the image.
func TestLintIgnoreIsNarrow(t *testing.T) {
	var cfg struct {
		Paths map[string]struct {
			Ignore []string `yaml:"ignore"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(read(t, filepath.Join(root(t), ".github", "actionlint.yaml")), &cfg); err != nil {
		t.Fatalf(".github/actionlint.yaml: %v", err)
	}
	var ignores []*regexp.Regexp
	for glob, p := range cfg.Paths {
		for _, pat := range p.Ignore {
			re, err := regexp.Compile(pat)
			if err != nil {
				t.Fatalf("%s ignore %q: %v", glob, pat, err)
			}
			ignores = append(ignores, re)
		}
	}
	if len(ignores) != 1 {
		t.Fatalf("actionlint.yaml ignores %d patterns; this test expects exactly the post-entrypoint one", len(ignores))
	}
	for _, form := range actionForms() {
		t.Run(form.name, func(t *testing.T) {
			action, err := docs.ActionYAML(form.runs)
			if err != nil {
				t.Fatal(err)
			}
			ins, outs := declared(t, action)
			dir, paths := project(t, form, false, map[string][]byte{"everything.yml": everythingWorkflow(ins, outs)})
			errs := lint(t, dir, "", paths)
			if len(errs) != 1 || !ignores[0].MatchString(errs[0]) || !strings.Contains(errs[0], form.runs.PostEntrypoint) {
				t.Errorf("without the configuration actionlint said:\n%s\nwant exactly one problem, the post-entrypoint %s, matched by %q",
					strings.Join(errs, "\n"), form.runs.PostEntrypoint, ignores[0])
			}
		})
	}
}
