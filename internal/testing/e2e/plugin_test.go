package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// pluginEnv is what Drone or Woodpecker give a plugin step: the settings
// as PLUGIN_*, secrets as plain variables, the workspace as working
// directory.
func (f *fixture) pluginEnv(ci string, settings map[string]string, extra map[string]string) map[string]string {
	env := map[string]string{"SSL_CERT_FILE": f.bundle}
	for k, v := range f.fake.Env() {
		if k != "SSL_CERT_FILE" && k != "ACTIONS_ID_TOKEN_REQUEST_URL" && k != "ACTIONS_ID_TOKEN_REQUEST_TOKEN" {
			env[k] = v
		}
	}
	switch ci {
	case "drone":
		env["DRONE"] = "true"
		env["CI"] = "true"
		env["DRONE_BUILD_NUMBER"] = "17"
	case "woodpecker":
		env["CI"] = "woodpecker"
		env["CI_PIPELINE_NUMBER"] = "23"
		// Woodpecker 1.x also sets Drone's variables for Drone plugins
		// (pipeline/frontend/metadata/drone_compatibility.go).
		env["DRONE_BUILD_NUMBER"] = "23"
		env["DRONE_REPO"] = "octo-org/octo-repo"
	}
	for k, v := range settings {
		env["PLUGIN_"+strings.ToUpper(k)] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestPluginWithWebIdentityTokenFile: a Woodpecker/Drone step exchanges a
// token file for the role; the docker login and the variables land in the
// workspace, where a later step (crane, and a shell) uses them.
func TestPluginWithWebIdentityTokenFile(t *testing.T) {
	for _, ci := range []string{"drone", "woodpecker"} {
		t.Run(ci, func(t *testing.T) {
			f := newFixture(t)
			workspace := t.TempDir()
			token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject("repo:octo-org/octo-repo:ref:refs/heads/main"))
			must(t, err)
			tokenFile := filepath.Join(t.TempDir(), "token")
			must(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
			droneOutput := filepath.Join(t.TempDir(), "drone-output")
			must(t, os.WriteFile(droneOutput, nil, 0o600))

			env := f.pluginEnv(ci, map[string]string{
				"role_arn":                roleARN,
				"region":                  region,
				"web_identity_token_file": tokenFile,
				"formats":                 `["ecs","k8s-secret"]`, // Woodpecker passes lists as JSON
			}, map[string]string{"DRONE_OUTPUT": droneOutput})
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			// Nothing masks a plugin's log: no secret may appear, and no
			// GitHub workflow command either.
			if strings.Contains(res.Stdout, "::add-mask::") {
				t.Errorf("plugin output carries GitHub workflow commands")
			}
			assertNoLeaksAtAll(t, f.fake, res, token)
			if !strings.Contains(res.Stdout, "web identity token file") {
				t.Errorf("log does not say which credential source was used:\n%s", res.Stdout)
			}
			wantSession := map[string]string{"drone": "session Drone-17)", "woodpecker": "session Woodpecker-23)"}[ci]
			if !strings.Contains(res.Stdout, wantSession) {
				t.Errorf("log does not name the session %q:\n%s", wantSession, res.Stdout)
			}

			host := strings.TrimPrefix(f.reg.URL, "https://")
			dockerDir := filepath.Join(workspace, ".docker")
			crane := exec.Command(testenv.Crane(t), "catalog", host)
			crane.Env = []string{"DOCKER_CONFIG=" + dockerDir, "SSL_CERT_FILE=" + f.bundle, "HOME=" + t.TempDir()}
			if b, err := crane.CombinedOutput(); err != nil {
				t.Fatalf("a later step cannot use the workspace login: %v\n%s", err, b)
			}

			// A later step loads the variables with the shell.
			sh := exec.Command("sh", "-c", `set -a; . ./.ecr-credentials/ecr.env; set +a; printf '%s\n%s' "$ECR_REGISTRY" "$ECR_PASSWORD"`)
			sh.Dir = workspace
			out, err := sh.Output()
			must(t, err)
			if string(out) != host+"\n"+f.password {
				t.Errorf("ecr.env read back wrong (%d bytes)", len(out))
			}
			for name, mode := range map[string]os.FileMode{
				".ecr-credentials/ecr.env": 0o600, ".ecr-credentials/ecs-credentials.json": 0o600,
				".ecr-credentials/k8s-secret.yaml": 0o600, ".ecr-credentials": 0o700 | os.ModeDir, ".docker/config.json": 0o600,
			} {
				st, err := os.Stat(filepath.Join(workspace, name))
				if err != nil || st.Mode() != mode {
					t.Errorf("%s: mode %v, want %v (%v)", name, st.Mode(), mode, err)
				}
			}
			do, _ := os.ReadFile(droneOutput)
			if !strings.Contains(string(do), "ECR_REGISTRY='"+host+"'") {
				t.Errorf("DRONE_OUTPUT lacks the variables")
			}
		})
	}
}

// TestPluginStaticKeys: a plugin step with static keys given as secrets
// warns that they are the weakest option, and works.
func TestPluginStaticKeys(t *testing.T) {
	f := newFixture(t)
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/ci", ECR: true})
	must(t, err)
	workspace := t.TempDir()
	env := f.pluginEnv("drone", map[string]string{"region": region, "export_env": "false"},
		map[string]string{"PLUGIN_ACCESS_KEY": key.ID, "PLUGIN_SECRET_KEY": key.Secret})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, "WARNING: Using long-lived static access keys") {
		t.Errorf("no warning about static keys:\n%s", res.Stdout)
	}
	assertNoLeaksAtAll(t, f.fake, res, key.Secret, key.ID)
	if _, err := os.Stat(filepath.Join(workspace, ".ecr-credentials", "ecr.env")); !os.IsNotExist(err) {
		t.Errorf("export_env=false still wrote ecr.env")
	}
	if _, err := os.Stat(filepath.Join(workspace, ".docker", "config.json")); err != nil {
		t.Errorf("no docker login in the workspace: %v", err)
	}
}

// TestPluginBadSettings: typos and conflicts fail with the setting named,
// exit 1, and nothing in the workspace.
func TestPluginBadSettings(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		settings map[string]string
		extra    map[string]string
		inMsg    []string
	}{
		{"typo", map[string]string{"regoin": region, "role_arn": roleARN}, nil, []string{"[unknown-setting]", "PLUGIN_REGOIN", `"region"`}},
		{"keys and token", map[string]string{"region": region, "role_arn": roleARN, "access_key": "AKIAABCDEFGHIJKLMNOP", "secret_key": "x", "web_identity_token_file": "/nonexistent"}, nil,
			[]string{"[conflicting-settings]", "static access keys and a web identity token"}},
		{"half static keys", map[string]string{"region": region, "access_key": "AKIAABCDEFGHIJKLMNOP"}, nil, []string{"[missing-setting]", "secret_key"}},
		{"token file missing", map[string]string{"region": region, "role_arn": roleARN, "web_identity_token_file": "/nonexistent/token"}, nil,
			[]string{"[web-identity-token-unreadable]", "web_identity_token_file"}},
		{"token env names a value", map[string]string{"region": region, "role_arn": roleARN, "web_identity_token_env": "eyJ.abc.def"}, nil,
			[]string{"[invalid-setting]", "PLUGIN_WEB_IDENTITY_TOKEN_ENV"}},
		{"bad format", map[string]string{"region": region, "role_arn": roleARN, "formats": "yaml"}, nil, []string{"[invalid-setting]", "PLUGIN_FORMATS"}},
		{"no credentials", map[string]string{"region": region}, nil, []string{"[no-credentials]", "role-to-assume"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			workspace := t.TempDir()
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.pluginEnv("woodpecker", tt.settings, tt.extra), Dir: workspace})
			if res.ExitCode != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			for _, want := range tt.inMsg {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, res.Stdout)
				}
			}
			entries, _ := os.ReadDir(workspace)
			if len(entries) != 0 {
				t.Errorf("a failed run wrote into the workspace: %v", entries)
			}
		})
	}
}

// assertNoLeaksAtAll checks that no issued secret (and none of extra)
// appears anywhere in the output: without GitHub, nothing is masked later.
func assertNoLeaksAtAll(t *testing.T, fake *awsfake.Server, res testenv.Result, extra ...string) {
	t.Helper()
	text := res.Stdout + res.Stderr
	for _, secret := range append(fake.Issued(), extra...) {
		if len(secret) >= 8 && strings.Contains(text, secret) {
			t.Errorf("output contains a secret (%d chars)", len(secret))
		}
	}
}
