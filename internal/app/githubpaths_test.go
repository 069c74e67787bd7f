package app

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
)

func TestHostDockerConfig(t *testing.T) {
	container := map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace"}
	tests := []struct {
		name     string
		dir      string
		env      map[string]string
		temp, ws string
		want     string
		noteHas  string
	}{
		{"default home, from args", "/github/home/.docker", container, "/home/runner/work/_temp", "/home/runner/work/r/r",
			"/home/runner/work/_temp/_github_home/.docker", "runner.temp"},
		{"workspace dir", "/github/workspace/.docker", container, "/home/runner/work/_temp", "/home/runner/work/r/r",
			"/home/runner/work/r/r/.docker", "host path"},
		{"runner temp dir", "/github/runner_temp/docker", container, "/tmp/rt", "", "/tmp/rt/docker", ""},
		{"old runner: RUNNER_TEMP is a host path", "/github/home/.docker",
			map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace", "RUNNER_TEMP": "/home/runner/work/_temp"}, "", "",
			"/home/runner/work/_temp/_github_home/.docker", "RUNNER_TEMP"},
		{"new runner without args: unknown", "/github/home/.docker",
			map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace", "RUNNER_TEMP": "/github/runner_temp"}, "", "",
			"", "cannot see"},
		{"prefix lookalike is not the mount", "/github/homework/.docker", container, "/t", "/w", "", "only inside this container"},
		{"container-only path", "/root/.docker", container, "/t", "/w", "", "only inside this container"},
		{"on the host, default dir: nothing to export", "/home/me/.docker", map[string]string{"HOME": "/home/me"}, "", "", "", ""},
		{"on the host, other dir", "/srv/docker", map[string]string{"HOME": "/home/me"}, "", "", "/srv/docker", "DOCKER_CONFIG=/srv/docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Getenv: func(k string) string { return tt.env[k] }}
			got, note := hostDockerConfig(tt.dir, &inputs.Config{HostRunnerTemp: tt.temp, HostWorkspace: tt.ws}, e)
			if got != tt.want {
				t.Errorf("host dir = %q, want %q (note %q)", got, tt.want, note)
			}
			if !strings.Contains(note, tt.noteHas) {
				t.Errorf("note %q lacks %q", note, tt.noteHas)
			}
		})
	}
}

func TestGitHubArgs(t *testing.T) {
	flags, err := githubArgs([]string{"--host-runner-temp=/home/runner/work/_temp", "--host-workspace=${{ inputs.host-workspace }}"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := flags.Value(inputs.HostRunnerTemp); v != "/home/runner/work/_temp" {
		t.Errorf("flags = %v", flags)
	}
	for _, bad := range [][]string{{"--role-to-assume=x"}, {"extra"}, {"--nope=1"}, {"--host-runner-temp"}} {
		if _, err := githubArgs(bad); err == nil {
			t.Errorf("githubArgs(%q) accepted", bad)
		}
	}
}

func TestCheckContainerDockerConfig(t *testing.T) {
	container := map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace"}
	tests := []struct {
		name    string
		env     map[string]string
		setting string
		ok      bool
	}{
		{"default", container, "", true},
		{"workspace setting", container, "/github/workspace/.docker", true},
		{"home DOCKER_CONFIG", merge(container, map[string]string{"DOCKER_CONFIG": "/github/home/custom"}), "", true},
		{"host-only DOCKER_CONFIG", merge(container, map[string]string{"DOCKER_CONFIG": "/home/runner/.docker-custom"}), "", false},
		{"container-only setting", container, "/root/.docker", false},
		{"lookalike prefix", container, "/github/homework", false},
		{"not in a container", map[string]string{"HOME": "/home/me", "DOCKER_CONFIG": "/srv/docker"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Getenv: func(k string) string { return tt.env[k] }}
			err := checkContainerDockerConfig(&inputs.Config{DockerConfig: tt.setting}, e)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
