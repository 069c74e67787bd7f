package runner

import (
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// GitHubRoot is where the GitHub runner mounts its directories in a
// container action; tests point it at a directory of their own.
var GitHubRoot = "/github"

// githubMounts are the directories the GitHub runner mounts in a container
// action (actions/runner, ContainerActionHandler): the container path below
// GitHubRoot -> the host path relative to which the runner mounted it.
var githubMounts = []struct {
	container string
	host      func(temp, workspace string) string
}{
	{"home", func(temp, _ string) string { return join(temp, "_github_home") }},
	{"workflow", func(temp, _ string) string { return join(temp, "_github_workflow") }},
	{"file_commands", func(temp, _ string) string { return join(temp, "_runner_file_commands") }},
	{"runner_temp", func(temp, _ string) string { return temp }},
	{"workspace", func(_, ws string) string { return ws }},
}

func join(base, name string) string {
	if base == "" {
		return ""
	}
	return filepath.Join(base, name)
}

// inGitHubContainer reports whether this is a container action: the runner
// sets HOME and GITHUB_WORKSPACE to its mount points.
func inGitHubContainer(getenv func(string) string) bool {
	return getenv("GITHUB_WORKSPACE") == GitHubRoot+"/workspace" || getenv("HOME") == GitHubRoot+"/home"
}

// HostPath returns the DOCKER_CONFIG value that makes later steps use the
// config directory dir (or the REGISTRY_AUTH_FILE directory, the refresh
// helper's), and a sentence for the log. Later steps
// get GITHUB_ENV values verbatim on the host, and translated from host to
// container paths in container steps, so the value must be the host path.
// It returns "" when no export is needed or none is possible (the note
// says which).
func (r *Runner) HostPath(dir string) (string, string) {
	if r.Layout == Shared {
		return dir, sharedWorkspaceNote(dir)
	}
	if r.Layout != GitHub {
		// Later steps read docker's default directory already: ~/.docker,
		// on Windows %USERPROFILE%\.docker (dockerconfig.Dir).
		if r.dockerConfig == "" && r.defaultDocker != "" && filepath.Clean(dir) == r.defaultDocker {
			return "", ""
		}
		return dir, "Later steps use this login: exported DOCKER_CONFIG=" + dir + "."
	}
	temp := r.hostTemp
	how := "the runner's runner.temp"
	if temp == "" {
		// Runners before v2.331 pass RUNNER_TEMP untranslated (a host path).
		if rt := r.runnerTemp; rt != "" && !strings.HasPrefix(rt, GitHubRoot+"/") {
			temp, how = rt, "RUNNER_TEMP"
		}
	}
	for _, m := range githubMounts {
		container := GitHubRoot + "/" + m.container
		rest, ok := strings.CutPrefix(filepath.Clean(dir), container)
		if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
			continue
		}
		base := m.host(temp, r.hostWorkspace)
		if base == "" {
			return "", "The login is in " + dir + ", which later host steps cannot see: the host path of " + container +
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
func (r *Runner) checkContainerDockerConfig(setting string) error {
	if r.Layout != GitHub {
		return nil
	}
	dir, subject := setting, inputs.DockerConfig.Spell(inputs.GitHub)
	if dir == "" {
		if d := r.dockerConfig; d != "" {
			dir, subject = d, "environment variable DOCKER_CONFIG"
		} else {
			return nil // HOME/.docker: /github/home/.docker
		}
	}
	dir = filepath.Clean(dir)
	for _, m := range githubMounts {
		container := GitHubRoot + "/" + m.container
		if dir == container || strings.HasPrefix(dir, container+"/") {
			return nil
		}
	}
	return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
		What: dir + " is not a directory this container action shares with the runner, so a login there would vanish with the container",
		Fix:  "Leave DOCKER_CONFIG unset for this step (`env: DOCKER_CONFIG: ''`) to use /github/home/.docker, which is exported to later steps, or set docker-config to a directory under /github/home or /github/workspace."}
}
