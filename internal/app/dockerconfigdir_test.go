package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// TestDockerConfigDirFromCheckout (issue 21, finding 3): a docker config
// directory this program picks in the workspace (act's
// .ecr-credentials-docker, the plugin's .docker) that a checkout carries,
// with a docker plugin, a config.json naming a credsStore, or as a link,
// fails the login before anything is written, instead of being handed on
// as DOCKER_CONFIG; a directory a login of ours left is used again. A
// directory the user names is used, with a warning naming what docker will
// run or obey in it. On the previous code every case logged in (and the
// named ones without a warning).
func TestDockerConfigDirFromCheckout(t *testing.T) {
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	plugin := func(t *testing.T, dir string) {
		t.Helper()
		must(t, os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "cli-plugins", "docker-buildx"), []byte("#!/bin/sh\ntouch /tmp/pwned\n"), 0o755))
	}
	credsStore := func(t *testing.T, dir string) {
		t.Helper()
		must(t, os.MkdirAll(dir, 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credsStore":"evil","auths":{}}`), 0o644))
	}
	proxies := func(t *testing.T, dir string) {
		t.Helper()
		must(t, os.MkdirAll(dir, 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"proxies":{"default":{"httpProxy":"http://evil.example:3128"}},"currentContext":"evil"}`), 0o644))
	}
	link := func(t *testing.T, dir string) {
		t.Helper()
		target := t.TempDir()
		must(t, os.Symlink(target, dir))
	}
	ours := func(t *testing.T, dir string) { // what an earlier login step left
		t.Helper()
		_, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: dir},
			[]dockerconfig.Credential{{Host: "210987654321.dkr.ecr.eu-west-1.amazonaws.com", Username: "AWS", Password: "earlier-password-1234"}})
		must(t, err)
	}
	harmless := func(t *testing.T, dir string) { // credentials and output formats only
		t.Helper()
		must(t, os.MkdirAll(dir, 0o700))
		must(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"ghcr.io":{"auth":"eDp5"}},"psFormat":"table {{.ID}}"}`), 0o600))
	}
	builder := func(t *testing.T, dir string) { // buildx state: a builder docker build would use
		t.Helper()
		must(t, os.MkdirAll(filepath.Join(dir, "buildx", "instances"), 0o700))
		must(t, os.WriteFile(filepath.Join(dir, "buildx", "current"), []byte(`{"Key":"x","Name":"remote"}`), 0o600))
	}
	none := func(*testing.T, string) {}
	type mode struct {
		name   string
		github bool
		env    func(ws string) map[string]string
	}
	act := mode{"act", true, func(ws string) map[string]string {
		return map[string]string{"GITHUB_ACTIONS": "true", "ACT": "true", "GITHUB_WORKSPACE": ws, "INPUT_AWS-REGION": "eu-west-1", "INPUT_VERIFY": "false"}
	}}
	drone := mode{"plugin", false, func(string) map[string]string {
		return map[string]string{"DRONE": "true", "PLUGIN_REGION": "eu-west-1", "PLUGIN_VERIFY": "false"}
	}}
	cli := mode{"CLI", false, func(string) map[string]string {
		return map[string]string{"HOME": "/nonexistent", "AWS_REGION": "eu-west-1"}
	}}
	tests := []struct {
		name    string
		mode    mode
		dir     string            // relative to the workspace
		set     map[string]string // more environment; "flag:<name>" is a CLI flag
		plant   func(*testing.T, string)
		wantErr string // else a login
		warn    string // a warning that must be logged ("" for none)
	}{
		{"act default holding cli-plugins/docker-buildx", act, runner.ActDockerConfigDir, nil, plugin, "cli-plugins/docker-buildx", ""},
		{"act default holding a credsStore", act, runner.ActDockerConfigDir, nil, credsStore, `credsStore "evil"`, ""},
		{"act default as a link", act, runner.ActDockerConfigDir, nil, link, "symbolic link", ""},
		{"act default left by a login of ours", act, runner.ActDockerConfigDir, nil, ours, "", ""},
		{"act default missing", act, runner.ActDockerConfigDir, nil, none, "", ""},
		{"act docker-config named", act, "ci/docker", map[string]string{"INPUT_DOCKER-CONFIG": "ci/docker"}, plugin, "", "cli-plugins/docker-buildx"},
		{"act DOCKER_CONFIG named", act, "ci/docker", map[string]string{"DOCKER_CONFIG": "ci/docker"}, proxies, "", "proxies"},
		{"plugin default holding cli-plugins/docker-buildx", drone, ".docker", nil, plugin, "cli-plugins/docker-buildx", ""},
		{"plugin default holding a credsStore", drone, ".docker", nil, credsStore, `credsStore "evil"`, ""},
		{"plugin default left by a login of ours", drone, ".docker", nil, ours, "", ""},
		{"plugin default missing", drone, ".docker", nil, none, "", ""},
		{"plugin default with credentials and formats only", drone, ".docker", nil, harmless, "", ""},
		{"plugin default holding buildx state", drone, ".docker", nil, builder, "entries a login of ours does not write: buildx", ""},
		{"plugin docker_config named", drone, ".docker", map[string]string{"PLUGIN_DOCKER_CONFIG": ".docker"}, plugin, "", "cli-plugins/docker-buildx"},
		{"CLI --docker-config named", cli, "d", map[string]string{"flag:docker-config": "d"}, proxies, "", `currentContext "evil"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			fakeMounts(t, true, ws)
			env := tt.mode.env(ws)
			flags := inputs.Flags{}
			for k, v := range tt.set {
				if name, ok := strings.CutPrefix(k, "flag:"); ok {
					for _, s := range inputs.Table {
						if slices.Contains(s.Flag, name) {
							flags.Set(s, name, filepath.Join(ws, v))
						}
					}
					continue
				}
				if k == "DOCKER_CONFIG" {
					v = filepath.Join(ws, v)
				}
				env[k] = v
			}
			dir := filepath.Join(ws, tt.dir)
			tt.plant(t, dir)
			getenv := func(k string) string { return env[k] }
			src := inputs.Source{Mode: inputs.CLI, Getenv: getenv, Flags: flags}
			switch tt.mode.name {
			case "act":
				src.Mode = inputs.GitHub
			case "plugin":
				src.Mode = inputs.Plugin
			}
			cfg, _, err := inputs.Load(src)
			must(t, err)
			cfg.DockerLogin, cfg.Verify = true, false
			var out bytes.Buffer
			style := output.StylePlain
			if tt.mode.github {
				style = output.StyleGitHub
			}
			con := output.NewConsole(style, &out, &out, false)
			where, err := detectRunner(Env{Getenv: getenv}, cfg, ws, con)
			r := &run{ctx: context.Background(), cfg: cfg, e: Env{Getenv: getenv}, where: where, con: con,
				res: &flow.Result{Logins: []flow.Login{{Login: ecr.Login{Registry: registry.Own("", false).WithHost(host), Username: "AWS", Password: "new-password-1234",
					ExpiresAt: time.Now().Add(time.Hour)}}}},
				fc: output.NewFileCommands(getenv), workspace: ws}
			sink := newLoginSinks(tt.mode.github).docker
			if err == nil { // the directory is decided and checked before the flow
				err = sink.stage(r)
				defer sink.undo(r)
			}
			config, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			if testing.Verbose() {
				t.Logf("error: %v\nlog:\n%s", err, out.String())
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "Remove "+dir) {
					t.Fatalf("error %v, want one naming %q and saying to remove %s\n%s", err, tt.wantErr, dir, out.String())
				}
				if strings.Contains(string(config), host) {
					t.Errorf("the login was written to %s anyway:\n%s", dir, config)
				}
				return
			}
			if err != nil {
				t.Fatalf("login failed: %v\n%s", err, out.String())
			}
			if !strings.Contains(string(config), host) {
				t.Errorf("no login in %s/config.json:\n%s", dir, config)
			}
			warned := strings.Contains(out.String(), "WARNING") || strings.Contains(out.String(), "::warning")
			if tt.warn == "" && warned {
				t.Errorf("unexpected warning:\n%s", out.String())
			}
			if tt.warn != "" && (!warned || !strings.Contains(out.String(), tt.warn)) {
				t.Errorf("no warning naming %q:\n%s", tt.warn, out.String())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
