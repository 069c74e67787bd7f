package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// fakeGitHubRoot makes runner.Detect take root for the GitHub runner's
// /github mounts, for the duration of the test.
func fakeGitHubRoot(t *testing.T, root string) {
	t.Helper()
	old := runner.GitHubRoot
	runner.GitHubRoot = root
	t.Cleanup(func() { runner.GitHubRoot = old })
}

// TestContainerFormWarnsWhatItHides (issue 23 item 4): when the container
// action exports DOCKER_CONFIG to a new directory, it warns about what it
// can see it is about to hide from later steps, each signal on its own:
// BUILDX_BUILDER set (its builder lives under the old DOCKER_CONFIG), a
// DOCKER_CONFIG an earlier step exported that the export replaces, and
// buildx builders in that old directory with BUILDX_CONFIG unset; and it
// says the fix (run the step before setup-buildx and other logins, or the
// native form). Nothing is said when nothing is hidden: no signal,
// BUILDX_CONFIG keeping buildx's state elsewhere, or DOCKER_CONFIG naming
// the login's own directory. The previous code warned in no case.
func TestContainerFormWarnsWhatItHides(t *testing.T) {
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	const hostTemp = "/home/runner/work/_temp"
	tests := []struct {
		name   string
		act    bool                                // act's layout instead of the GitHub runner's
		env    func(root string) map[string]string // more environment (root: the container's /github)
		plant  func(t *testing.T, root string)
		want   []string // in the warning; nil: no warning
		export string   // DOCKER_CONFIG exported, relative to the host's runner temp
	}{
		{name: "nothing to hide", export: "_github_home/.docker"},
		{name: "BUILDX_BUILDER set",
			env:    func(string) map[string]string { return map[string]string{"BUILDX_BUILDER": "builder-3f2a"} },
			want:   []string{"BUILDX_BUILDER=builder-3f2a", "no builder", "DOCKER_CONFIG=" + hostTemp + "/_github_home/.docker"},
			export: "_github_home/.docker"},
		{name: "BUILDX_BUILDER set, BUILDX_CONFIG elsewhere",
			env: func(string) map[string]string {
				return map[string]string{"BUILDX_BUILDER": "builder-3f2a", "BUILDX_CONFIG": "/github/runner_temp/buildx"}
			},
			export: "_github_home/.docker"},
		{name: "DOCKER_CONFIG an earlier step exported, replaced",
			env: func(root string) map[string]string {
				return map[string]string{"DOCKER_CONFIG": root + "/runner_temp/docker", "INPUT_DOCKER-CONFIG": root + "/home/ecr"}
			},
			want:   []string{"DOCKER_CONFIG an earlier step exported", "/runner_temp/docker"},
			export: "_github_home/ecr"},
		{name: "DOCKER_CONFIG an earlier step exported, used",
			env: func(root string) map[string]string {
				return map[string]string{"DOCKER_CONFIG": root + "/runner_temp/docker"}
			},
			export: "docker"},
		{name: "buildx builders under the old DOCKER_CONFIG",
			env: func(root string) map[string]string {
				return map[string]string{"DOCKER_CONFIG": root + "/runner_temp/docker", "INPUT_DOCKER-CONFIG": root + "/home/ecr"}
			},
			plant: func(t *testing.T, root string) {
				must(t, os.MkdirAll(filepath.Join(root, "runner_temp", "docker", "buildx", "instances"), 0o700))
			},
			want:   []string{"buildx builders in", "/runner_temp/docker/buildx", "BUILDX_CONFIG is unset"},
			export: "_github_home/ecr"},
		{name: "act: BUILDX_BUILDER set", act: true,
			env:  func(string) map[string]string { return map[string]string{"BUILDX_BUILDER": "builder-3f2a"} },
			want: []string{"BUILDX_BUILDER=builder-3f2a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			fakeGitHubRoot(t, root)
			for _, d := range []string{"home", "workspace", "runner_temp", "file_commands"} {
				must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
			}
			files, err := ghrunner.NewStepFiles(filepath.Join(root, "file_commands"))
			must(t, err)
			step := ghrunner.Step{Files: files, Temp: hostTemp, Home: root + "/home"}
			env := step.Env()
			env["GITHUB_WORKSPACE"] = root + "/workspace"
			env["INPUT_AWS-REGION"], env["INPUT_VERIFY"] = "eu-west-1", "false"
			env["GITHUB_ACTION_REPOSITORY"] = "octo-org/ecr-fork"
			fakeMounts(t, true)
			if tt.act {
				// act's workspace: the job's own path, a mount (not below /github).
				ws := t.TempDir()
				env = map[string]string{"GITHUB_ACTIONS": "true", "ACT": "true", "GITHUB_WORKSPACE": ws,
					"GITHUB_ENV": files.Env, "GITHUB_STATE": files.State, "GITHUB_OUTPUT": files.Output,
					"INPUT_AWS-REGION": "eu-west-1", "INPUT_VERIFY": "false", "GITHUB_ACTION_REPOSITORY": "octo-org/ecr-fork"}
				fakeMounts(t, true, ws)
			}
			if tt.env != nil {
				for k, v := range tt.env(root) {
					env[k] = v
				}
			}
			if tt.plant != nil {
				tt.plant(t, root)
			}
			getenv := func(k string) string { return env[k] }
			cfg, _, err := inputs.Load(inputs.Source{Mode: inputs.GitHub, Getenv: getenv})
			must(t, err)
			cfg.DockerLogin, cfg.Verify = true, false
			var out bytes.Buffer
			con := output.NewConsole(output.StyleGitHub, &out, &out, false)
			where, err := detectRunner(Env{Getenv: getenv}, cfg, "", con)
			must(t, err)
			reg, err := registry.ParseHost(host)
			must(t, err)
			r := &run{ctx: context.Background(), cfg: cfg, e: Env{Getenv: getenv}, where: where, con: con,
				res: &flow.Result{Logins: []flow.Login{{Login: ecr.Login{Registry: reg, Username: "AWS", Password: "new-password-1234",
					ExpiresAt: time.Now().Add(time.Hour)}}}},
				fc: output.NewFileCommands(getenv)}
			sink := newLoginSinks(true).docker
			must(t, sink.stage(r))
			defer sink.undo(r)
			if tt.export != "" && !strings.Contains(sink.exportNote, "exported DOCKER_CONFIG="+hostTemp+"/"+tt.export) {
				t.Fatalf("export note %q, want DOCKER_CONFIG=%s/%s exported", sink.exportNote, hostTemp, tt.export)
			}
			var warnings []string
			for _, c := range ghrunner.ParseWorkflowCommands(out.String()) {
				if c.Name == "warning" {
					warnings = append(warnings, c.Data)
				}
			}
			if tt.want == nil {
				if len(warnings) != 0 {
					t.Fatalf("unexpected warning: %q", warnings)
				}
				return
			}
			if len(warnings) != 1 {
				t.Fatalf("want one warning, got %q\n%s", warnings, out.String())
			}
			for _, want := range append(tt.want, "before docker/setup-buildx-action", "uses: octo-org/ecr-fork/native@v1") {
				if !strings.Contains(warnings[0], want) {
					t.Errorf("the warning does not say %q: %s", want, warnings[0])
				}
			}
		})
	}
}
