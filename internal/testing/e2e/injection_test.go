package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
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

// TestNoForgedLogLinesInPlainModes: in plugin and CLI mode nothing
// interprets workflow commands, but a value must not start a line of the
// log either (a forged "Login Succeeded" or error line). Every setting of
// the mode gets a value with line breaks; no line of the log may begin
// with what followed a break, and the legacy marker never survives.
func TestNoForgedLogLinesInPlainModes(t *testing.T) {
	f := newFixture(t)
	const forged = "FORGED"
	value := "x\n" + forged + " line\r" + forged + " cr\r\n" + forged + " crlf ##[notice]legacy"
	for _, mode := range []inputs.Mode{inputs.Plugin, inputs.CLI} {
		for _, s := range inputs.Table {
			if !s.Modes.Has(mode) || (mode == inputs.Plugin && len(s.Plugin) == 0) || (mode == inputs.CLI && len(s.Flag) == 0) {
				continue
			}
			t.Run(string(mode)+" "+s.Name, func(t *testing.T) {
				v := value
				if s.Name == "docker-config" {
					v = filepath.Join(t.TempDir(), "docker"+"\n"+forged+" path")
				}
				var opts testenv.RunOptions
				var log func(testenv.Result) string
				switch mode {
				case inputs.Plugin:
					opts = testenv.RunOptions{Dir: t.TempDir(), Timeout: runBound,
						Env: f.pluginEnv("drone", map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFileFor(t, f), s.Plugin[0]: v},
							map[string]string{"HOME": t.TempDir()})}
					log = func(r testenv.Result) string { return r.Stdout + r.Stderr }
				default:
					env := f.cliEnv(t)
					env["HOME"] = t.TempDir()
					opts = testenv.RunOptions{Env: env, Timeout: runBound, Args: []string{"login", "--" + s.Flag[0] + "=" + v}}
					log = func(r testenv.Result) string { return r.Stderr }
				}
				res := testenv.RunProgram(t, f.bin, opts)
				text := log(res)
				for i, line := range strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n") {
					if strings.HasPrefix(strings.TrimSpace(line), forged) {
						t.Errorf("log line %d was started by the value: %q", i+1, line)
					}
				}
				if strings.Contains(text, "##[") {
					t.Errorf("the legacy command marker survived in the log")
				}
			})
		}
	}
}

// tokenFileFor writes a fresh web identity token for the plugin runs.
func tokenFileFor(t *testing.T, f *fixture) string {
	t.Helper()
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	p := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(p, []byte(token), 0o600))
	return p
}
