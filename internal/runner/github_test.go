package runner

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
			r, err := Detect(Input{Getenv: func(k string) string { return tt.env[k] }, Config: &inputs.Config{HostRunnerTemp: tt.temp, HostWorkspace: tt.ws}})
			if err != nil {
				t.Fatal(err)
			}
			got, note := r.HostPath(tt.dir)
			if got != tt.want {
				t.Errorf("host dir = %q, want %q (note %q)", got, tt.want, note)
			}
			if !strings.Contains(note, tt.noteHas) {
				t.Errorf("note %q lacks %q", note, tt.noteHas)
			}
		})
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
			r, err := Detect(Input{Getenv: func(k string) string { return tt.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			err = r.checkContainerDockerConfig(tt.setting)
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

// TestHiddenWarningNamesTheNativeForm: the native form is named after the
// action's own repository, and a GITHUB_ACTION_REPOSITORY that is no
// owner/name (one that could start a line or a workflow command) is not
// printed.
func TestHiddenWarningNamesTheNativeForm(t *testing.T) {
	for _, tt := range []struct{ repo, want string }{
		{"octo-org/ecr-fork", "uses: octo-org/ecr-fork/native@v1"},
		{"", "uses: ecr-credentials/ecr-credentials/native@v1"},
		{"x/y\n::error::boom", "uses: ecr-credentials/ecr-credentials/native@v1"},
		{"../y", "uses: ecr-credentials/ecr-credentials/native@v1"},
	} {
		r := &Runner{Layout: GitHub, actionRepo: tt.repo}
		got := r.HiddenWarning("/home/runner/work/_temp/_github_home/.docker", []string{"something"})
		if !strings.Contains(got, tt.want) || strings.Contains(got, "\n") {
			t.Errorf("repository %q: %q, want it to name %q on one line", tt.repo, got, tt.want)
		}
	}
}
