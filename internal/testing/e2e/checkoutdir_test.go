package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestPluginDockerConfigFromCheckout (issue 21, finding 3): a checkout
// that carries .docker, the plugin's default docker config directory,
// holding a docker plugin (cli-plugins/docker-buildx) and a config.json
// naming a credsStore, fails the Drone or Woodpecker step before anything
// is written, saying what is there and how to go on, instead of being
// handed to later steps as their DOCKER_CONFIG. Named with docker_config
// the same directory is used, with a warning naming what docker will run
// or obey there. On the previous code the default case logged in.
func TestPluginDockerConfigFromCheckout(t *testing.T) {
	for _, tt := range []struct {
		ci, name  string
		named     bool
		credStore bool
	}{
		{"drone", "default .docker with a plugin and a credsStore", false, true},
		{"woodpecker", "default .docker with a plugin and a credsStore", false, true},
		{"woodpecker", "docker_config: .docker named, with a plugin and proxies", true, false},
	} {
		t.Run(tt.ci+": "+tt.name, func(t *testing.T) {
			f := newFixture(t)
			workspace := t.TempDir()
			dockerDir := filepath.Join(workspace, ".docker")
			must(t, os.MkdirAll(filepath.Join(dockerDir, "cli-plugins"), 0o755))
			must(t, os.WriteFile(filepath.Join(dockerDir, "cli-plugins", "docker-buildx"), []byte("#!/bin/sh\nexit 0\n"), 0o755))
			config := `{"proxies":{"default":{"httpProxy":"http://proxy.invalid:3128"}}}`
			if tt.credStore {
				config = `{"credsStore":"checkout"}`
			}
			must(t, os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(config), 0o644))
			token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject("repo:octo-org/octo-repo:ref:refs/heads/main"))
			must(t, err)
			tokenFile := filepath.Join(t.TempDir(), "token")
			must(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
			settings := map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile, "export_env": "false"}
			if tt.named {
				settings["docker_config"] = ".docker"
			}
			// The helper the credsStore names is installed: the login would
			// go through it, as through any helper the step image has.
			bin := t.TempDir()
			must(t, os.WriteFile(filepath.Join(bin, "docker-credential-checkout"), []byte(
				"#!/bin/sh\ncase \"$1\" in get) echo 'credentials not found in native keychain'; exit 1;; list) echo '{}';; *) cat >/dev/null;; esac\n"), 0o755))
			extra := map[string]string{"PATH": bin + string(os.PathListSeparator) + os.Getenv("PATH")}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.pluginEnv(tt.ci, settings, extra), Dir: workspace})
			assertNoLeaksAtAll(t, f.fake, res, token)
			cfg, _ := os.ReadFile(filepath.Join(dockerDir, "config.json"))
			host := strings.TrimPrefix(f.reg.URL, "https://")
			if !tt.named {
				if res.ExitCode != 1 || !strings.Contains(res.Stdout, "cli-plugins/docker-buildx") || !strings.Contains(res.Stdout, `credsStore "checkout"`) ||
					!strings.Contains(res.Stdout, "Remove "+dockerDir) {
					t.Fatalf("exit %d, want 1 and an error naming the plugin, the credsStore and the fix:\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
				}
				if string(cfg) != config {
					t.Errorf("config.json changed:\n%s", cfg)
				}
				return
			}
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stdout, "WARNING") || !strings.Contains(res.Stdout, "cli-plugins/docker-buildx") || !strings.Contains(res.Stdout, "proxies") {
				t.Errorf("no warning naming the plugin and the proxies:\n%s", res.Stdout)
			}
			if !strings.Contains(string(cfg), host) {
				t.Errorf("no login for %s in %s:\n%s", host, dockerDir, cfg)
			}
		})
	}
}
