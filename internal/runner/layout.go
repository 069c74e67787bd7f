package runner

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Layout is where a GitHub-mode run finds itself. The GitHub runner
// starts a container action with its own mount layout (/github/home,
// /github/workspace: see github.go). nektos/act, and the Gitea and
// Forgejo runners built on it, start it differently: GITHUB_WORKSPACE is
// the job's own path, shared with the job container at that same path,
// there is no /github/home and HOME is not set (so "/"). A login written
// under HOME there vanishes with the container.
type Layout int

const (
	Host   Layout = iota // not a container action (a run: step, a self-hosted host, a plugin, the CLI)
	GitHub               // the GitHub runner's container action mounts
	Shared               // a container sharing GITHUB_WORKSPACE at the same path (act)
	Alone                // a container sharing nothing we can find
)

// Signs of a container; tests point them at files of their own.
var (
	DockerEnvFile = "/.dockerenv"
	MountInfoFile = "/proc/self/mountinfo"
	// hostOS is the system this runs on: container actions run on Linux
	// only (actions/runner's ContainerActionHandler refuses others).
	hostOS = runtime.GOOS
)

// ActDockerConfigDir is the docker config directory, inside the shared
// workspace, that a login under act goes to.
const ActDockerConfigDir = ".ecr-credentials-docker"

// detectLayout reads the signs: the native launcher's
// ECR_CREDENTIALS_NATIVE_ACTION (the host, always: a node action runs where
// the job's later steps run, on the runner's host or, under act, in the job
// container whose HOME every later step shares); the GitHub runner's mount
// points; ACT=true; HOME unset or "/" (no runner gives a step that home);
// /.dockerenv together with GITHUB_WORKSPACE being a mount point.
// /.dockerenv alone says nothing: a self-hosted runner may itself run in a
// container and still run steps on its own file system.
//
// On Windows and macOS every step runs on the host (HOME is not even set
// on a Windows runner: docker's home there is %USERPROFILE%).
func detectLayout(getenv func(string) string) Layout {
	if hostOS != "linux" || inputs.EnvNativeAction.Get(getenv) == "true" {
		return Host
	}
	if inGitHubContainer(getenv) {
		return GitHub
	}
	ws := getenv("GITHUB_WORKSPACE")
	home := strings.TrimSpace(getenv("HOME"))
	mounted := ws != "" && filepath.IsAbs(ws) && isMountPoint(filepath.Clean(ws))
	container := getenv("ACT") == "true" || home == "" || home == "/"
	if !container {
		if _, err := os.Stat(DockerEnvFile); err == nil && mounted {
			container = true
		}
	}
	switch {
	case !container:
		return Host
	case mounted:
		return Shared
	}
	return Alone
}

// isMountPoint reports whether dir is the mount point of a file system in
// this process's mount namespace (the workspace volume or bind mount).
func isMountPoint(dir string) bool {
	f, err := os.Open(MountInfoFile)
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

// containerDockerConfig decides, before anything is written, where the
// docker login of a GitHub-mode run goes, so that later steps can use it:
// under the GitHub runner a directory it mounts (checkContainerDockerConfig);
// under act the shared workspace (ActDockerConfigDir there unless the user
// chose a directory inside it); in a container that shares nothing, an
// error. It returns the directory ("": docker's default, or the setting as
// given).
func (r *Runner) containerDockerConfig(cfg *inputs.Config) (string, error) {
	switch r.Layout {
	case GitHub:
		return cfg.DockerConfig, r.checkContainerDockerConfig(cfg.DockerConfig)
	case Host:
		return cfg.DockerConfig, nil
	case Alone:
		return "", &problem.Problem{Code: problem.DockerConfig, Subject: inputs.DockerLogin.Spell(inputs.GitHub),
			What: "this container action shares no directory with later steps (no /github/home, and GITHUB_WORKSPACE is not a mount), so a docker login would vanish with the container",
			Fix:  "Set docker-login: false and log in from the outputs in a later step (`echo \"$PASSWORD\" | docker login --username AWS --password-stdin $REGISTRY`), or run the ecr-credentials CLI in a run: step."}
	}
	ws := filepath.Clean(r.workspace)
	dir, subject := cfg.DockerConfig, inputs.DockerConfig.Spell(inputs.GitHub)
	if dir == "" {
		if d := r.dockerConfig; d != "" {
			dir, subject = d, "environment variable DOCKER_CONFIG"
		}
	}
	if dir == "" {
		return filepath.Join(ws, ActDockerConfigDir), nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(ws, dir)
	}
	dir = filepath.Clean(dir)
	if below(ws, dir) {
		return dir, nil
	}
	return "", &problem.Problem{Code: problem.DockerConfig, Subject: subject,
		What: dir + " is not inside the workspace " + ws + ", the only directory this container action (act, Gitea or Forgejo runner) shares with later steps, so a login there would vanish with the container",
		Fix:  "Leave DOCKER_CONFIG unset for this step (`env: DOCKER_CONFIG: ''`) to use " + filepath.Join(ws, ActDockerConfigDir) + ", which is exported to later steps, or set docker-config to a directory inside the workspace."}
}

// CheckAuthFile refuses, before anything is written, a registry auth file
// (an absolute path; subject names the setting) that would vanish with the
// container action: under act one outside the shared workspace, as
// containerDockerConfig refuses such a docker config; in a container that
// shares nothing, any. The GitHub runner's mounts are checked once the
// file is written (HostPath).
func (r *Runner) CheckAuthFile(path, subject string) error {
	switch r.Layout {
	case Shared:
		ws := filepath.Clean(r.workspace)
		if below(ws, path) {
			return nil
		}
		return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
			What: path + " is not inside the workspace " + ws + ", the only directory this container action (act, Gitea or Forgejo runner) shares with later steps, so a login there would vanish with the container",
			Fix:  "Set registry-auth-file to a path inside the workspace, e.g. " + filepath.Join(ws, ".containers", "auth.json") + "."}
	case Alone:
		return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
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
