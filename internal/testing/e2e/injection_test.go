package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// injected holds a workflow command after every kind of line break the
// runner splits on, and the runner's legacy command form, which it obeys
// anywhere in a line.
const injected = "\n::notice title=injected::lf\r::notice title=injected::cr\r\n##[notice title=injected]legacy"

// TestNoWorkflowCommandInjection gives every GitHub setting (and
// DOCKER_CONFIG) a value carrying workflow commands, both after a line
// break and at the start of the value, and checks that the runner would
// act on none of them, whether the run succeeds (the value appears in an
// informational line) or fails (it appears in the error).
func TestNoWorkflowCommandInjection(t *testing.T) {
	f := newFixture(t)
	base := map[string]string{"role-to-assume": roleARN, "aws-region": region}
	type run struct {
		name   string
		inputs map[string]string
		args   []string
		env    map[string]string
	}
	var runs []run
	for _, s := range inputs.Table {
		if !s.Modes.Has(inputs.GitHub) {
			continue
		}
		for _, v := range []struct{ name, value string }{{"after a line break", "x" + injected}, {"leading", "::notice title=injected::lead" + injected}} {
			r := run{name: s.Name + " " + v.name, inputs: map[string]string{}}
			for k, val := range base {
				r.inputs[k] = val
			}
			value := v.value
			if s.Name == "docker-config" && v.name != "leading" {
				// A path that can be created, so the run succeeds and
				// prints it.
				value = filepath.Join(t.TempDir(), "docker"+injected)
			}
			if s.FromArgs {
				r.args = []string{"--" + s.Name + "=" + value}
			} else {
				r.inputs[s.Name] = value
			}
			runs = append(runs, r)
		}
	}
	runs = append(runs, run{name: "DOCKER_CONFIG", inputs: base, env: map[string]string{"DOCKER_CONFIG": filepath.Join(t.TempDir(), "docker"+injected)}})

	succeeded := 0
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			gr := newRunner(t)
			env := f.githubEnv(gr, r.inputs)
			for k, v := range r.env {
				env[k] = v
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: r.args, Timeout: runBound})
			if res.ExitCode == 0 {
				succeeded++
			}
			for _, c := range ghrunner.ParseWorkflowCommands(res.Stdout) {
				title, _ := c.Property("title")
				if strings.EqualFold(c.Name, "notice") || strings.Contains(title, "injected") {
					t.Errorf("line %d: the runner would run an injected command %s (title %q, data %q)\nstdout without the masks:\n%s", c.Line, c.Name, title, c.Data, withoutMaskCommands(res.Stdout))
				}
			}
		})
	}
	if succeeded == 0 {
		t.Errorf("no run succeeded: the values never reached an informational line")
	}
}
