package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// hostileEndpoint is a proxyEndpoint whose "host" carries shell syntax and
// the separators of the helper's settings (= and ,).
const hostileEndpoint = `https://a'$(id)"b;c&d!e=f,g<h>.example`

// TestHostileProxyEndpoint: ECR's answer names a registry host that is no
// DNS name or IP. Every mode refuses it with ecr-failed before anything is
// written (verify is off, so that nothing but this check stands between
// the answer and the sinks): no config.json, ecr.env, DRONE_OUTPUT, outputs, state or
// refresh helper (helper.json) anywhere.
func TestHostileProxyEndpoint(t *testing.T) {
	f := newEmulatorFixture(t, awsfake.Options{})
	f.fake.MapRegistry(account, region, hostileEndpoint)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)

	for _, tt := range []struct {
		name string
		mode string
		set  map[string]string
	}{
		{"GitHub", "github", map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false"}},
		{"GitHub refresh", "github", map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false", "refresh": "true"}},
		{"Drone", "drone", nil},
		{"Woodpecker", "woodpecker", map[string]string{"refresh": "true"}},
		{"CLI login", "cli", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			opts := testenv.RunOptions{Timeout: runBound}
			var roots []string
			var r *runner
			switch tt.mode {
			case "github":
				r = newRunner(t)
				opts.Env = f.githubEnv(r, tt.set)
				opts.Env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
				must(t, os.WriteFile(opts.Env["GITHUB_PATH"], nil, 0o644))
				roots = []string{r.dir}
			case "drone", "woodpecker":
				opts.Dir = t.TempDir()
				tokenFile := filepath.Join(t.TempDir(), "token")
				must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
				set := map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile, "formats": "ecs,dotenv", "verify": "false"}
				for k, v := range tt.set {
					set[k] = v
				}
				droneOutput := filepath.Join(t.TempDir(), "drone-output")
				must(t, os.WriteFile(droneOutput, nil, 0o600))
				opts.Env = f.pluginEnv(tt.mode, set, map[string]string{"HOME": home, "DRONE_OUTPUT": droneOutput})
				roots = []string{opts.Dir, home, droneOutput}
			case "cli":
				opts.Env = f.cliEnv(t)
				opts.Env["HOME"] = home
				opts.Args = []string{"login", "--verify=false"}
				roots = []string{home}
			}
			before := takeSnapshot(t, roots...)
			res := testenv.RunProgram(t, f.bin, opts)
			switch tt.mode {
			case "github":
				wantGitHubFailure(t, res, "ecr-failed", "proxyEndpoint", "https://<host>[:port]")
				assertStepUntouched(t, r)
			case "cli":
				wantPlainFailure(t, res, res.Stderr, "ecr-failed", "proxyEndpoint", "https://<host>[:port]")
			default:
				wantPlainFailure(t, res, res.Stdout, "ecr-failed", "proxyEndpoint", "https://<host>[:port]")
			}
			if d := before.diff(takeSnapshot(t, roots...)); len(d) != 0 {
				t.Errorf("a refused proxyEndpoint still changed files: %v", d)
			}
			// The host is named in one console line only, never as a line of its own.
			for _, line := range strings.Split(res.Stdout+res.Stderr, "\n") {
				if strings.Contains(line, "$(id)") && !strings.Contains(line, "proxyEndpoint") {
					t.Errorf("the hostile host appears outside the error line: %q", line)
				}
			}
		})
	}
}
