package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// stateAuthFileReceipt is the step state key of the auth.json login's seal.
const stateAuthFileReceipt = "receipt_auth_file"

// loginSink: a login written to a file of its target, verified by the flow
// (verify). With docker-login the target is docker's config.json
// (dockerconfig.DockerConfig); with registry-auth-file a containers
// auth.json (dockerconfig.AuthFile: podman, buildah, skopeo), written by
// the same byte-preserving edit and undone the same way. Staging writes the
// login (dockerconfig.Login is itself all or nothing and comes with a
// handle to undo it); committing keeps it. In the GitHub container action
// (github) the file must be one later steps see, the target's variable
// (DOCKER_CONFIG with export-docker-config; REGISTRY_AUTH_FILE) is
// exported, and the receipt is left for the post step unless skip-logout;
// elsewhere, and with skip-logout, the backup of what the login replaced is
// dropped. A plugin step names REGISTRY_AUTH_FILE in ecr.env (dotenvFile).
//
// A sink is made for one run (newLoginSinks) and keeps what it did for the
// run's log lines.
type loginSink struct {
	target dockerconfig.Target
	github bool

	login       *dockerconfig.Handle // the login, once written
	exportNote  string               // how DOCKER_CONFIG was exported
	refreshPath string               // the refresh helper directory added to GITHUB_PATH
}

// loginSinks are a run's two logins: the registry auth file's, then the
// docker login, the last sinks of every mode (each is kept for good only
// once everything else is written).
type loginSinks struct{ authFile, docker *loginSink }

func newLoginSinks(github bool) loginSinks {
	return loginSinks{authFile: &loginSink{target: dockerconfig.AuthFile, github: github},
		docker: &loginSink{target: dockerconfig.DockerConfig, github: github}}
}

// docker tells the docker login from the registry auth file's.
func (s *loginSink) docker() bool { return s.target == dockerconfig.DockerConfig }

// on tells whether the settings ask for this login.
func (s *loginSink) on(cfg *inputs.Config) bool {
	if s.docker() {
		return cfg.DockerLogin
	}
	return cfg.RegistryAuthFile != ""
}

// stateKey is the step state key of the login's seal for the post step.
func (s *loginSink) stateKey() string {
	if s.docker() {
		return stateReceipt
	}
	return stateAuthFileReceipt
}

func (s *loginSink) stage(t *run) error {
	cfg := t.cfg
	if !s.on(cfg) {
		return nil
	}
	c, dir, file, err := s.place(t)
	if err != nil {
		return err
	}
	if s.target.Refresh && cfg.Refresh {
		s.login, err = refreshLogin(t.ctx, c, t.e, t.res)
	} else {
		s.login, err = writeLogin(t.ctx, dockerconfig.Options{Dir: dir, File: file}, t.res.ECRLogins())
	}
	if err != nil {
		return s.loginFailed(err, c, dir)
	}
	if !s.github {
		return nil
	}
	if err := s.export(t); err != nil {
		return err
	}
	if !cfg.SkipLogout {
		return saveLogoutReceipt(s.stateKey(), s.login, t.fc)
	}
	return nil
}

// precheck checks, before the flow, that the registry auth file may go
// where the settings put it, so that a path later steps would not see
// fails before any network call (the docker config directory is decided
// and checked before the flow too: runner.Detect).
func (s *loginSink) precheck(t *run) error {
	if s.docker() || !s.on(t.cfg) {
		return nil
	}
	_, err := s.authFilePath(t)
	return err
}

// authFilePath is the registry auth file's absolute path, checked.
func (s *loginSink) authFilePath(t *run) (string, error) {
	cfg := t.cfg
	path, err := filepath.Abs(t.inWorkspace(cfg.RegistryAuthFile))
	if err != nil {
		return "", &problem.Problem{Code: problem.InvalidSetting, Subject: cfg.Describe(inputs.RegistryAuthFile), Err: err,
			What: "the registry auth file's path cannot be made absolute",
			Fix:  "Give it as an absolute path, or run the step in a working directory that exists."}
	}
	if s.github && !cfg.SkipLogout && filepath.Base(path) != dockerconfig.AuthFileName {
		return "", &problem.Problem{Code: problem.InvalidSetting, Subject: cfg.Describe(inputs.RegistryAuthFile),
			What: "the registry auth file " + path + " is not named " + dockerconfig.AuthFileName + ", so the post step could not trust its receipt to undo the login",
			Fix:  "Name the file auth.json (e.g. <dir>/containers/auth.json), or set skip-logout: true."}
	}
	if s.github {
		if err := t.where.CheckAuthFile(path, cfg.Describe(inputs.RegistryAuthFile)); err != nil {
			return "", err
		}
	}
	return path, nil
}

// place checks where the login goes (after precheck), before anything is
// written, and returns the settings with the workspace applied, the
// directory and the file's name in it.
func (s *loginSink) place(t *run) (*inputs.Config, string, string, error) {
	cfg := t.cfg
	if !s.docker() {
		path, err := s.authFilePath(t)
		if err != nil {
			return nil, "", "", err
		}
		return cfg, filepath.Dir(path), filepath.Base(path), nil
	}
	// The docker config directory was decided and checked before the flow
	// (runner.Detect).
	c := *cfg
	c.DockerConfig = t.where.DockerConfig.Dir
	return &c, c.DockerConfig, s.target.File, nil
}

// export tells later GitHub steps where the login is: the refresh helper on
// PATH, and the target's variable.
func (s *loginSink) export(t *run) error {
	cfg, file := t.cfg, s.login.File()
	if s.target.Refresh && cfg.Refresh {
		// Later steps find the helper on PATH, by its host path.
		bin, err := hostRefreshBin(s.login.Receipt(), cfg, t.where)
		if err == nil {
			err = t.fc.Path(bin)
		}
		if err != nil {
			return err
		}
		s.refreshPath = bin
	}
	value := s.target.EnvValue(file)
	if s.docker() {
		if !cfg.ExportDockerConfig {
			return nil
		}
		value, s.exportNote = t.where.HostPath(value)
		if value == "" {
			return nil
		}
	} else if t.where.InGitHubContainer() {
		hostDir, _ := t.where.HostPath(filepath.Dir(file))
		if hostDir == "" {
			return &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.RegistryAuthFile),
				What: "the registry auth file " + file + " is in no directory later steps see",
				Fix:  "Put it under the runner's temp directory or the workspace, e.g. /github/runner_temp/containers/auth.json or the workspace's .containers/auth.json."}
		}
		value = filepath.Join(hostDir, filepath.Base(file))
	}
	if err := t.fc.Env(s.target.Env, value); err != nil {
		return problem.Wrap(problem.Internal, err, "exporting "+s.target.Env+" failed", "")
	}
	if s.docker() {
		// The container form must export DOCKER_CONFIG to a new directory:
		// say what that hides from later steps.
		if hides := t.where.Hidden(filepath.Dir(file)); len(hides) > 0 {
			t.con.Warnf("%s", t.where.HiddenWarning(value, hides))
		}
	}
	return nil
}

func (s *loginSink) commit(t *run) error {
	if s.login == nil {
		return nil
	}
	if !s.github || t.cfg.SkipLogout {
		// No post step will log out: drop the backup of what the login replaced.
		if err := s.login.Keep(); err != nil {
			t.con.Warnf("%v", err)
		}
	}
	if !s.docker() {
		t.con.Infof("Registry auth file (podman, buildah, skopeo) written to %s; REGISTRY_AUTH_FILE names it for later steps.", s.login.File())
	}
	return nil
}

// undo takes back the login (if any) and its saved receipt, and forgets it.
func (s *loginSink) undo(t *run) {
	if s.login == nil {
		return
	}
	ctx, cancel := t.undoContext()
	defer cancel()
	_ = s.login.Undo(ctx)
	_ = s.login.Forget()
	s.login = nil
}

// logWritten logs where the docker login went, if one was written.
func (s *loginSink) logWritten(t *run) {
	if s.login == nil {
		return
	}
	n := len(t.res.Logins)
	t.con.Infof("Docker login written to %s for %d registr%s%s.", s.login.File(), n, plural(n, "y", "ies"), verifiedNote(t.cfg))
	if s.login.Receipt().RefreshDir != "" {
		t.con.Infof("%s", refreshNote(s.login.Receipt()))
	}
	if s.refreshPath != "" {
		t.con.Infof("Later steps find it on PATH: added %s to GITHUB_PATH.", s.refreshPath)
	}
}

// loginFailed tells why writing the login to dir failed.
func (s *loginSink) loginFailed(err error, cfg *inputs.Config, dir string) error {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	if !s.docker() {
		return problem.Wrap(problem.DockerConfig, err, "writing the login to the registry auth file failed", "Check registry-auth-file: its directory must be writable and the file, if any, a JSON object.")
	}
	var rd *dockerconfig.RefreshDirError
	if errors.As(err, &rd) {
		return &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.Refresh),
			What: fmt.Sprintf("the credential helper's directory is not one this step can trust: %s %s (later steps would run what it holds); nothing was written", rd.Path, rd.Why),
			Fix: fmt.Sprintf("Remove %s (a refresh login creates it itself), or set %s to a directory of this job's own.",
				filepath.Join(dir, dockerconfig.RefreshDirName), cfg.Describe(inputs.DockerConfig))}
	}
	if errors.Is(err, dockerconfig.ErrCredentialHelper) {
		return problem.Wrap(problem.CredentialHelper, err, "writing the docker login through a credential helper failed", "")
	}
	return problem.Wrap(problem.DockerConfig, err, "writing the docker login failed", "")
}

// dockerConfigDir is the docker config directory the login goes to.
func dockerConfigDir(cfg *inputs.Config, e Env) (string, error) {
	if cfg.DockerConfig != "" {
		return cfg.DockerConfig, nil
	}
	d, err := dockerconfig.Dir(e.Getenv)
	if err != nil {
		return "", problem.Wrap(problem.DockerConfig, err, "cannot find the docker configuration directory", "Set docker-config or DOCKER_CONFIG.")
	}
	return d, nil
}

// writeLogin writes logins with dockerconfig.Login: the docker login and the
// registry auth file alike.
func writeLogin(ctx context.Context, opts dockerconfig.Options, logins []ecr.Login) (*dockerconfig.Handle, error) {
	creds := make([]dockerconfig.Credential, len(logins))
	for i, l := range logins {
		creds[i] = dockerconfig.Credential{Host: l.Registry.Host, Username: l.Username, Password: l.Password}
	}
	return dockerconfig.Login(ctx, opts, creds)
}
