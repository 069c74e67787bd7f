package e2e

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestContainerLayoutBeforeNetwork: a container action (act, Gitea,
// Forgejo) that shares no directory with later steps cannot leave a docker
// login or a registry auth file they would see. The step says so before
// the flow runs: it fails without a single request to the OIDC issuer,
// STS or ECR, and writes nothing.
func TestContainerLayoutBeforeNetwork(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"docker login", map[string]string{}, "a docker login would vanish with the container"},
		{"registry auth file", map[string]string{"docker-login": "false", "registry-auth-file": "/tmp/containers/auth.json"},
			"the registry auth file would vanish with the container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t)
			inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			env := f.githubEnv(r, inputs)
			// act's container: HOME is "/", and the workspace is no mount.
			env["ACT"], env["HOME"], env["GITHUB_WORKSPACE"] = "true", "/", t.TempDir()
			calls, conns := len(f.fake.Calls()), f.fake.Connections()
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			out := res.Stdout + res.Stderr
			if res.ExitCode != 1 || !strings.Contains(out, "::error") || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want 1 with an error saying %q\n%s", res.ExitCode, tt.want, out)
			}
			if got := f.fake.Calls()[calls:]; len(got) > 0 {
				t.Errorf("the step called AWS before refusing the layout: %+v", got)
			}
			if n := f.fake.Connections() - conns; n > 0 {
				t.Errorf("the step opened %d connections to the emulator before refusing the layout", n)
			}
			if b := readFileCommands(t, r.output); len(b) > 0 {
				t.Errorf("outputs written: %v", b)
			}
		})
	}
}
