package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// TestPostStageDistrustsForgedState (issue 12, class 7): a STATE_receipt
// the main stage did not write (a workflow `env:`, an earlier step's
// GITHUB_ENV) must not make the post stage run a program or delete a
// file. On the code before receipts were sealed, the forged receipt below
// ran the "helper" (the marker appeared) and deleted the victim file.
func TestPostStageDistrustsForgedState(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "helper-ran")
	evil := filepath.Join(dir, "evil")
	script := "#!/bin/sh\ntouch " + marker + "\necho 'credentials not found in native keychain'\nexit 1\n"
	if err := os.WriteFile(evil, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim.json")
	if err := os.WriteFile(victim, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A real seal and receipt file of our own, to forge a seal against.
	cfgDir := filepath.Join(dir, "docker")
	login, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: cfgDir},
		[]dockerconfig.Credential{{Host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Username: "AWS", Password: "own-password-1234"}})
	if err != nil {
		t.Fatal(err)
	}
	own, err := login.Save()
	if err != nil {
		t.Fatal(err)
	}
	forgedReceipt, _ := json.Marshal(dockerconfig.Receipt{
		ConfigFile: filepath.Join(dir, "config.json"), LockFile: filepath.Join(dir, "lock"), BackupFile: victim,
		Entries: []dockerconfig.ReceiptEntry{{Host: "x.example", Key: "x.example", Helper: "evil", HelperPath: evil}},
	})
	wrongNonce, _ := json.Marshal(dockerconfig.Seal{Dir: own.Dir, ID: own.ID, Nonce: strings.Repeat("0", 32)})
	tests := []struct {
		name, state string
	}{
		{"a receipt, not a seal", string(forgedReceipt)},
		{"a seal with the wrong nonce", string(wrongNonce)},
		{"garbage", "{not json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(marker)
			if err := os.WriteFile(victim, []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			env := map[string]string{"GITHUB_ACTIONS": "true", "HOME": dir, "STATE_receipt": tt.state}
			code := githubPost(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != ExitError || !strings.Contains(out.String(), "::error") || !strings.Contains(out.String(), "STATE_receipt") {
				t.Errorf("exit %d, want a failure naming STATE_receipt:\n%s", code, out.String())
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the post stage ran the helper path a forged receipt named")
			}
			if _, err := os.Stat(victim); err != nil {
				t.Errorf("the post stage deleted the backup file a forged receipt named: %v", err)
			}
		})
	}
}

// TestPostStageWithoutState: act passes no STATE_* to a container action's
// post step. There (the workspace shared, ACT=true) the post stage finds
// the receipt in the exported DOCKER_CONFIG, says so, and removes the
// login and the directory it made; under the GitHub runner's layout, which
// always passes the state, a missing state means there is nothing of ours
// to undo, and a receipt lying in DOCKER_CONFIG is left alone.
func TestPostStageWithoutState(t *testing.T) {
	for _, tt := range []struct {
		name       string
		env        func(ws, dir string) map[string]string
		wantLog    string
		wantRemove bool
	}{
		{"act", func(ws, dir string) map[string]string {
			return map[string]string{"ACT": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "DOCKER_CONFIG": dir}
		}, "No saved step state", true},
		{"github runner", func(ws, dir string) map[string]string {
			return map[string]string{"GITHUB_ACTIONS": "true", "HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace", "DOCKER_CONFIG": dir}
		}, "No docker login to remove.", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			fakeMounts(t, true, ws)
			dir := filepath.Join(ws, runner.ActDockerConfigDir)
			r, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: dir},
				[]dockerconfig.Credential{{Host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Username: "AWS", Password: "secret-password-1234"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Save(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			env := tt.env(ws, dir)
			code := githubPost(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != ExitOK || !strings.Contains(out.String(), tt.wantLog) {
				t.Fatalf("exit %d, want 0 and %q:\n%s", code, tt.wantLog, out.String())
			}
			_, err = os.Stat(dir)
			if removed := os.IsNotExist(err); removed != tt.wantRemove {
				t.Errorf("login directory removed = %v, want %v (%v)\n%s", removed, tt.wantRemove, err, out.String())
			}
		})
	}
}

// TestPostStageWithoutStateAuthFile (issue 17 follow-up): under act (no
// STATE_*) the post stage finds the registry auth file's receipt beside the
// exported REGISTRY_AUTH_FILE, says so and undoes that login as well as the
// docker one (once, when both are in one directory); under the GitHub
// runner's layout a missing state undoes nothing. On the previous main the
// act cases left auth.json's login in place.
func TestPostStageWithoutStateAuthFile(t *testing.T) {
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	cred := []dockerconfig.Credential{{Host: host, Username: "AWS", Password: "secret-password-1234"}}
	for _, tt := range []struct {
		name        string
		dockerLogin bool
		authDir     string // relative to the workspace
		github      bool
		wantLog     string
		wantRemoved bool
	}{
		{name: "act, auth file only", authDir: ".containers", wantLog: "found beside REGISTRY_AUTH_FILE=", wantRemoved: true},
		{name: "act, docker login and auth file", dockerLogin: true, authDir: ".containers", wantLog: "found beside REGISTRY_AUTH_FILE=", wantRemoved: true},
		{name: "act, auth file beside config.json", dockerLogin: true, authDir: runner.ActDockerConfigDir, wantLog: "found in DOCKER_CONFIG=", wantRemoved: true},
		{name: "github runner", authDir: ".containers", github: true, wantLog: "No docker login to remove.", wantRemoved: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			fakeMounts(t, true, ws)
			dockerDir := filepath.Join(ws, runner.ActDockerConfigDir)
			authFile := filepath.Join(ws, tt.authDir, dockerconfig.AuthFileName)
			env := map[string]string{"ACT": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "REGISTRY_AUTH_FILE": authFile}
			if tt.github {
				env = map[string]string{"GITHUB_ACTIONS": "true", "HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace", "REGISTRY_AUTH_FILE": authFile}
			}
			if tt.dockerLogin {
				r, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: dockerDir}, cred)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.Save(); err != nil {
					t.Fatal(err)
				}
				env["DOCKER_CONFIG"] = dockerDir
			}
			r, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: filepath.Dir(authFile), File: dockerconfig.AuthFileName}, cred)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Save(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := githubPost(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != ExitOK || !strings.Contains(out.String(), tt.wantLog) {
				t.Fatalf("exit %d, want 0 and %q:\n%s", code, tt.wantLog, out.String())
			}
			if n := strings.Count(out.String(), "Removed the docker login"); tt.wantRemoved && n != 1+btoi(tt.dockerLogin) {
				t.Errorf("%d logins removed, want one for each file:\n%s", n, out.String())
			}
			b, err := os.ReadFile(authFile)
			removed := os.IsNotExist(err) || (err == nil && !strings.Contains(string(b), host))
			if removed != tt.wantRemoved {
				t.Errorf("auth.json login removed = %v, want %v (%v)\n%s", removed, tt.wantRemoved, err, out.String())
			}
			if tt.dockerLogin {
				if b, err := os.ReadFile(filepath.Join(dockerDir, dockerconfig.ConfigFileName)); err == nil && strings.Contains(string(b), host) {
					t.Errorf("config.json login left:\n%s\n%s", b, out.String())
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
