// Package runner works out, once per run, where the job runs: the GitHub
// runner's container action, a container of act and the Gitea and Forgejo
// runners built on it, one that shares nothing, or a host (a run: step, a
// plugin's or the CLI's own process); the host paths later steps know the
// container's directories by; and the docker config directory a docker
// login goes to. The sinks read the answer; none asks the environment
// again.
package runner

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Input is what Detect reads.
type Input struct {
	Getenv func(string) string
	// Config is the run's settings; nil for the post stage, which has
	// none (no docker config directory is then decided).
	Config *inputs.Config
	// Workspace is the plugin's workspace, against which a relative
	// docker-config is resolved ("" elsewhere).
	Workspace string
	// Warn logs a warning (about what a named docker config directory
	// holds); nil drops it.
	Warn func(string)
}

// Runner is where the job runs.
type Runner struct {
	Layout Layout

	// From the step's environment.
	workspace     string // GITHUB_WORKSPACE
	home          string // HOME
	defaultDocker string // docker's own config directory (dockerconfig.Dir), if known
	runnerTemp    string // RUNNER_TEMP
	dockerConfig  string // DOCKER_CONFIG
	authFile      string // REGISTRY_AUTH_FILE
	buildxBuilder string // BUILDX_BUILDER
	buildxConfig  string // BUILDX_CONFIG
	actionRepo    string // GITHUB_ACTION_REPOSITORY
	// DockerAuthConfig: DOCKER_AUTH_CONFIG is set (docker 28.3 and later
	// prefer it to config.json).
	DockerAuthConfig bool
	// DroneOutput is DRONE_OUTPUT, the file Drone reads a step's
	// variables from ("" elsewhere).
	DroneOutput string

	// Host paths of the GitHub runner's mounts (settings passed through
	// runs.args), if known.
	hostTemp, hostWorkspace string

	// DockerConfig is where the docker login goes, decided before anything
	// is written (zero without docker-login).
	DockerConfig DockerConfig
}

// DockerConfig is the docker config directory of the run's docker login.
type DockerConfig struct {
	Dir string
	// Origin is who picked it, and Subject how to name it in a message.
	Origin  Origin
	Subject string
}

// Detect reads where the job runs from the environment and the settings.
// With docker-login it decides the docker config directory, and fails,
// before anything is written, when a login there would vanish with the
// container or when it is one this program picked that it did not make.
func Detect(in Input) (*Runner, error) {
	getenv := in.Getenv
	r := &Runner{
		Layout:           detectLayout(getenv),
		workspace:        getenv("GITHUB_WORKSPACE"),
		home:             getenv("HOME"),
		defaultDocker:    defaultDockerDir(getenv),
		runnerTemp:       getenv("RUNNER_TEMP"),
		dockerConfig:     getenv("DOCKER_CONFIG"),
		authFile:         getenv("REGISTRY_AUTH_FILE"),
		buildxBuilder:    getenv("BUILDX_BUILDER"),
		buildxConfig:     getenv("BUILDX_CONFIG"),
		actionRepo:       getenv("GITHUB_ACTION_REPOSITORY"),
		DockerAuthConfig: getenv("DOCKER_AUTH_CONFIG") != "",
		DroneOutput:      getenv("DRONE_OUTPUT"),
	}
	cfg := in.Config
	if cfg == nil {
		return r, nil
	}
	r.hostTemp, r.hostWorkspace = cfg.HostRunnerTemp, cfg.HostWorkspace
	if !cfg.DockerLogin {
		return r, nil
	}
	github := cfg.Mode == inputs.GitHub
	dir := cfg.DockerConfig
	if github {
		d, err := r.containerDockerConfig(cfg)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if in.Workspace != "" && dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(in.Workspace, dir)
	}
	origin, subject := r.dockerConfigOrigin(cfg, github)
	if dir == "" {
		d, err := dockerconfig.Dir(getenv)
		if err != nil {
			return nil, problem.Wrap(problem.DockerConfig, err, "cannot find the docker configuration directory", "Set docker-config or DOCKER_CONFIG.")
		}
		dir = d
	}
	warn := in.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if err := checkDockerConfigDir(dir, origin, subject, warn); err != nil {
		return nil, err
	}
	r.DockerConfig = DockerConfig{Dir: dir, Origin: origin, Subject: subject}
	return r, nil
}

// InGitHubContainer reports whether this is the GitHub runner's container
// action.
func (r *Runner) InGitHubContainer() bool { return r.Layout == GitHub }

// PassesNoState reports whether this is a container of a runner that gives
// a container action's post step no step state (act and the runners built
// on it), so that the post stage looks for the main stage's receipts in
// the exported DOCKER_CONFIG and REGISTRY_AUTH_FILE.
func (r *Runner) PassesNoState() bool { return r.Layout == Shared || r.Layout == Alone }

// ExportedDockerConfig is DOCKER_CONFIG as the step got it.
func (r *Runner) ExportedDockerConfig() string { return r.dockerConfig }

// ExportedAuthFile is REGISTRY_AUTH_FILE as the step got it.
func (r *Runner) ExportedAuthFile() string { return r.authFile }

// ModeOf decides the mode for a run without a subcommand:
// ECR_CREDENTIALS_MODE, else GitHub Actions, else a Drone or Woodpecker
// plugin, else the CLI.
func ModeOf(getenv func(string) string, environ []string) inputs.Mode {
	switch strings.ToLower(inputs.EnvMode.Get(getenv)) {
	case "github":
		return inputs.GitHub
	case "plugin":
		return inputs.Plugin
	case "cli":
		return inputs.CLI
	}
	if InGitHubJob(getenv) {
		return inputs.GitHub
	}
	if getenv("DRONE") == "true" || getenv("CI") == "woodpecker" {
		return inputs.Plugin
	}
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PLUGIN_") {
			return inputs.Plugin
		}
	}
	return inputs.CLI
}

// InGitHubJob reports whether this process is a step of a GitHub Actions
// job (an action or a run: step).
func InGitHubJob(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// GitHubDebug reports whether the job runs with step debug logging.
func GitHubDebug(getenv func(string) string) bool {
	return getenv("RUNNER_DEBUG") == "1" || strings.EqualFold(getenv("ACTIONS_STEP_DEBUG"), "true")
}

// Hidden says what the container form is about to hide from later steps
// by exporting DOCKER_CONFIG for its login in dir (as this container sees
// it), from what the container can see: a container action reaches the
// runner's disk only through the runner's mounts, so it must export
// DOCKER_CONFIG to a new directory, and every later docker then stops
// reading the one it read before. Nothing when this is not a container
// action or the directory is the one DOCKER_CONFIG already names.
func (r *Runner) Hidden(dir string) []string {
	if r.Layout != GitHub && r.Layout != Shared {
		return nil
	}
	old := r.dockerConfig
	if old != "" && filepath.Clean(old) == filepath.Clean(dir) {
		return nil
	}
	var hides []string
	if old != "" {
		hides = append(hides, "the DOCKER_CONFIG an earlier step exported ("+old+"), whose logins and settings later steps stop seeing")
	}
	if r.buildxConfig == "" {
		// buildx keeps its builders in BUILDX_CONFIG, else DOCKER_CONFIG/buildx.
		if r.buildxBuilder != "" {
			hides = append(hides, "the buildx builder BUILDX_BUILDER="+r.buildxBuilder+" names, which buildx in later steps looks for under the new DOCKER_CONFIG (BUILDX_CONFIG is unset) and fails with `ERROR: no builder ... found`")
		}
		if old != "" {
			if st, err := os.Lstat(filepath.Join(old, "buildx")); err == nil && st.IsDir() {
				hides = append(hides, "the buildx builders in "+filepath.Join(old, "buildx")+" (docker/setup-buildx-action makes them there), which buildx in later steps looks for under the new DOCKER_CONFIG (BUILDX_CONFIG is unset)")
			}
		}
	}
	return hides
}

// actionRepoName is an owner/name as GitHub spells repositories.
var actionRepoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$`)

// HiddenWarning is the warning for what Hidden found, when DOCKER_CONFIG
// was exported as exported: what it hides and how not to.
func (r *Runner) HiddenWarning(exported string, hides []string) string {
	repo := "ecr-credentials/ecr-credentials"
	if actionRepoName.MatchString(r.actionRepo) {
		repo = r.actionRepo
	}
	return "This container action exported DOCKER_CONFIG=" + exported + " so that later steps use its login, and so hides from them what earlier steps set up: " +
		strings.Join(hides, "; ") + ". Run this step before docker/setup-buildx-action and other logins (docker/login-action), " +
		"or use the native form (`uses: " + repo + "/native@v1`), which logs in to the runner's own docker config in place."
}

// defaultDockerDir is the directory docker reads without DOCKER_CONFIG
// (~/.docker; %USERPROFILE%\.docker on Windows), or "" if unknown.
func defaultDockerDir(getenv func(string) string) string {
	dir, err := dockerconfig.Dir(func(k string) string {
		if k == "DOCKER_CONFIG" {
			return ""
		}
		return getenv(k)
	})
	if err != nil {
		return ""
	}
	return dir
}
