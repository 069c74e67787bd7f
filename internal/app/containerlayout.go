package app

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Where a GitHub-mode run finds itself. The GitHub runner starts a
// container action with its own mount layout (/github/home,
// /github/workspace: see githubpaths.go). nektos/act, and the Gitea and
// Forgejo runners built on it, start it differently: GITHUB_WORKSPACE is
// the job's own path, shared with the job container at that same path,
// there is no /github/home and HOME is not set (so "/"). A login written
// under HOME there vanishes with the container.
type runLayout int

const (
	layoutHost   runLayout = iota // not a container action (a run: step, a self-hosted host)
	layoutGitHub                  // the GitHub runner's container action mounts
	layoutShared                  // a container sharing GITHUB_WORKSPACE at the same path (act)
	layoutAlone                   // a container sharing nothing we can find
)

// Signs of a container, overridable by tests.
var (
	dockerEnvFile = "/.dockerenv"
	mountInfoFile = "/proc/self/mountinfo"
)

// actDockerConfigDir is the docker config directory, inside the shared
// workspace, that a login under act goes to.
const actDockerConfigDir = ".ecr-credentials-docker"

// detectLayout reads the signs: the GitHub runner's mount points; ACT=true;
// HOME unset or "/" (no runner gives a step that home); /.dockerenv
// together with GITHUB_WORKSPACE being a mount point. /.dockerenv alone
// says nothing: a self-hosted runner may itself run in a container and
// still run steps on its own file system.
func detectLayout(e Env) runLayout {
	if inGitHubContainer(e) {
		return layoutGitHub
	}
	ws := e.Getenv("GITHUB_WORKSPACE")
	home := strings.TrimSpace(e.Getenv("HOME"))
	mounted := ws != "" && filepath.IsAbs(ws) && isMountPoint(filepath.Clean(ws))
	container := e.Getenv("ACT") == "true" || home == "" || home == "/"
	if !container {
		if _, err := os.Stat(dockerEnvFile); err == nil && mounted {
			container = true
		}
	}
	switch {
	case !container:
		return layoutHost
	case mounted:
		return layoutShared
	}
	return layoutAlone
}

// isMountPoint reports whether dir is the mount point of a file system in
// this process's mount namespace (the workspace volume or bind mount).
func isMountPoint(dir string) bool {
	f, err := os.Open(mountInfoFile)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountPath(fields[4]) == dir {
			return true
		}
	}
	return false
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// prepareContainerDockerConfig decides, before anything is written, where
// the docker login of a container action goes, so that later steps can use
// it: under the GitHub runner a directory it mounts (checkContainerDockerConfig);
// under act the shared workspace (cfg.DockerConfig is set to
// actDockerConfigDir there unless the user chose a directory inside it);
// in a container that shares nothing, an error.
func prepareContainerDockerConfig(cfg *inputs.Config, e Env) error {
	switch detectLayout(e) {
	case layoutGitHub:
		return checkContainerDockerConfig(cfg, e)
	case layoutHost:
		return nil
	case layoutAlone:
		return &problem.Problem{Code: problem.DockerConfig, Subject: inputs.DockerLogin.Spell(inputs.GitHub),
			What: "this container action shares no directory with later steps (no /github/home, and GITHUB_WORKSPACE is not a mount), so a docker login would vanish with the container",
			Fix:  "Set docker-login: false and log in from the outputs in a later step (`echo \"$PASSWORD\" | docker login --username AWS --password-stdin $REGISTRY`), or run the ecr-credentials CLI in a run: step."}
	}
	ws := filepath.Clean(e.Getenv("GITHUB_WORKSPACE"))
	dir, subject := cfg.DockerConfig, inputs.DockerConfig.Spell(inputs.GitHub)
	if dir == "" {
		if d := e.Getenv("DOCKER_CONFIG"); d != "" {
			dir, subject = d, "environment variable DOCKER_CONFIG"
		}
	}
	if dir == "" {
		cfg.DockerConfig = filepath.Join(ws, actDockerConfigDir)
		return nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(ws, dir)
	}
	dir = filepath.Clean(dir)
	if below(ws, dir) {
		cfg.DockerConfig = dir
		return nil
	}
	return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
		What: dir + " is not inside the workspace " + ws + ", the only directory this container action (act, Gitea or Forgejo runner) shares with later steps, so a login there would vanish with the container",
		Fix:  "Leave DOCKER_CONFIG unset for this step (`env: DOCKER_CONFIG: ''`) to use " + filepath.Join(ws, actDockerConfigDir) + ", which is exported to later steps, or set docker-config to a directory inside the workspace."}
}

// checkContainerAuthFile refuses, before anything is written, a registry
// auth file (an absolute path) that would vanish with the container action:
// under act one outside the shared workspace, as prepareContainerDockerConfig
// refuses such a docker config; in a container that shares nothing, any.
// The GitHub runner's mounts are checked once the file is written
// (hostDockerConfig).
func checkContainerAuthFile(path string, cfg *inputs.Config, e Env) error {
	switch detectLayout(e) {
	case layoutShared:
		ws := filepath.Clean(e.Getenv("GITHUB_WORKSPACE"))
		if below(ws, path) {
			return nil
		}
		return &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.RegistryAuthFile),
			What: path + " is not inside the workspace " + ws + ", the only directory this container action (act, Gitea or Forgejo runner) shares with later steps, so a login there would vanish with the container",
			Fix:  "Set registry-auth-file to a path inside the workspace, e.g. " + filepath.Join(ws, ".containers", "auth.json") + "."}
	case layoutAlone:
		return &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.RegistryAuthFile),
			What: "this container action shares no directory with later steps (no /github/home, and GITHUB_WORKSPACE is not a mount), so the registry auth file would vanish with the container",
			Fix:  "Leave registry-auth-file unset here and log in from the outputs in a later step, or run the ecr-credentials CLI in a run: step."}
	}
	return nil
}

// below reports whether the clean path p is inside the directory dir (and
// not dir itself).
func below(dir, p string) bool {
	return p != dir && strings.HasPrefix(p, dir+"/")
}

// sharedWorkspaceNote is the log sentence for an export under act.
func sharedWorkspaceNote(dir string) string {
	return "Later steps use this login: exported DOCKER_CONFIG=" + dir + " (in the workspace, which this runner shares with later steps at the same path; keep it out of docker build contexts)."
}
