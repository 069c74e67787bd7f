package app

import (
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// The GitHub runner starts a container action with these host directories
// mounted (actions/runner, ContainerActionHandler): container path -> the
// host path relative to which the runner mounted it.
var githubMounts = []struct {
	container string
	host      func(temp, workspace string) string
}{
	{"/github/home", func(temp, _ string) string { return join(temp, "_github_home") }},
	{"/github/workflow", func(temp, _ string) string { return join(temp, "_github_workflow") }},
	{"/github/file_commands", func(temp, _ string) string { return join(temp, "_runner_file_commands") }},
	{"/github/runner_temp", func(temp, _ string) string { return temp }},
	{"/github/workspace", func(_, ws string) string { return ws }},
}

func join(base, name string) string {
	if base == "" {
		return ""
	}
	return filepath.Join(base, name)
}

// inGitHubContainer reports whether this is a container action: the runner
// sets HOME and GITHUB_WORKSPACE to its mount points.
func inGitHubContainer(e Env) bool {
	return e.Getenv("GITHUB_WORKSPACE") == "/github/workspace" || e.Getenv("HOME") == "/github/home"
}

// hostDockerConfig returns the DOCKER_CONFIG value that makes later steps
// use the config directory dir, and a sentence for the log. Later steps
// get GITHUB_ENV values verbatim on the host, and translated from host to
// container paths in container steps, so the value must be the host path.
// It returns "" when no export is needed or none is possible (the note
// says which).
func hostDockerConfig(dir string, cfg *inputs.Config, e Env) (string, string) {
	if detectLayout(e) == layoutShared {
		return dir, sharedWorkspaceNote(dir)
	}
	if !inGitHubContainer(e) {
		if home := e.Getenv("HOME"); home != "" && filepath.Clean(dir) == filepath.Join(home, ".docker") && e.Getenv("DOCKER_CONFIG") == "" {
			return "", "" // later steps read ~/.docker already
		}
		return dir, "Later steps use this login: exported DOCKER_CONFIG=" + dir + "."
	}
	temp := cfg.HostRunnerTemp
	how := "the runner's runner.temp"
	if temp == "" {
		// Runners before v2.331 pass RUNNER_TEMP untranslated (a host path).
		if rt := e.Getenv("RUNNER_TEMP"); rt != "" && !strings.HasPrefix(rt, "/github/") {
			temp, how = rt, "RUNNER_TEMP"
		}
	}
	for _, m := range githubMounts {
		rest, ok := strings.CutPrefix(filepath.Clean(dir), m.container)
		if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
			continue
		}
		base := m.host(temp, cfg.HostWorkspace)
		if base == "" {
			return "", "The login is in " + dir + ", which later host steps cannot see: the host path of " + m.container +
				" is unknown (use the action as owner/repo@ref so that action.yml passes it, or set docker-config to a directory later steps share)."
		}
		host := base + rest
		return host, "Later steps use this login: exported DOCKER_CONFIG=" + host + " (the host path of " + dir + ", from " + how + ")."
	}
	return "", "The login is in " + dir + ", which exists only inside this container: later steps will not see it. Set docker-config under /github/home or /github/workspace."
}

// checkContainerDockerConfig refuses, before anything is written, a docker
// config directory that exists only inside this container action: a login
// there would vanish with the container (and the post step could not find
// it). It happens when the job sets DOCKER_CONFIG to a host path the
// runner does not mount.
func checkContainerDockerConfig(cfg *inputs.Config, e Env) error {
	if !inGitHubContainer(e) {
		return nil
	}
	dir, subject := cfg.DockerConfig, inputs.DockerConfig.Spell(inputs.GitHub)
	if dir == "" {
		if d := e.Getenv("DOCKER_CONFIG"); d != "" {
			dir, subject = d, "environment variable DOCKER_CONFIG"
		} else {
			return nil // HOME/.docker: /github/home/.docker
		}
	}
	dir = filepath.Clean(dir)
	for _, m := range githubMounts {
		if dir == m.container || strings.HasPrefix(dir, m.container+"/") {
			return nil
		}
	}
	return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
		What: dir + " is not a directory this container action shares with the runner, so a login there would vanish with the container",
		Fix:  "Leave DOCKER_CONFIG unset for this step (`env: DOCKER_CONFIG: ''`) to use /github/home/.docker, which is exported to later steps, or set docker-config to a directory under /github/home or /github/workspace."}
}
